/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "ics.h"
#include "util.h"

#include "testlib.h"

static char *
fixture(const char *name)
{
	return xasprintf("%s/tests/fixtures/%s", test_top(), name);
}

static struct calendar *
cal_defaults(struct config *cfg)
{
	config_defaults(cfg);
	return test_calendar_new(cfg);
}

static const char *
fmt(time_t t, char buf[40])
{
	iso8601_local(t, buf, 40);
	return buf;
}

START_TEST(test_zone_refused)
{
	char err[256];

	ck_assert_int_eq(calendar_set_zone("Nowhere/Atlantis", err, sizeof(err)), -1);
	ck_assert(strstr(err, "unknown zone") != NULL);
	ck_assert_int_eq(calendar_set_zone("../../etc/passwd", err, sizeof(err)), -1);
	ck_assert_int_eq(calendar_set_zone("", err, sizeof(err)), -1);
	ck_assert_int_eq(calendar_set_zone("EST5EDT,M3.2.0,M11.1.0", err, sizeof(err)), -1);
	ck_assert_int_eq(calendar_set_zone("America", err, sizeof(err)), -1);
	ck_assert_int_eq(calendar_set_zone("Asia/Kolkata", err, sizeof(err)), 0);
	ck_assert_int_eq(calendar_set_zone("UTC", err, sizeof(err)), 0);
}
END_TEST

/* The whole 1990-2100 range equals the table generated from date-holidays. */
START_TEST(test_federal_table)
{
	struct config cfg;
	struct calendar *cal;
	struct holiday *h;
	char *path = fixture("federal-holidays-1990-2100.tsv"), *data, *line, *nl;
	char want[256];
	size_t len, n, i = 0;

	test_office_zone("UTC");
	cal = cal_defaults(&cfg);
	ck_assert_int_eq(read_file(path, 1 << 20, &data, &len), 0);
	n = calendar_holidays(cal, 1990, 2100, &h);
	for (line = data; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		ck_assert_msg(i < n, "table has more lines than the calendar (%s)", line);
		snprintf(want, sizeof(want), "%04d-%02d-%02d\t%s", h[i].year,
		    h[i].month, h[i].day, h[i].name);
		ck_assert_str_eq(want, line);
		i++;
	}
	ck_assert_uint_eq(i, n);
	ck_assert_uint_gt(n, 1100);
	free(h);
	free(data);
	free(path);
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

START_TEST(test_federal_rules)
{
	struct holiday h[16];
	size_t n, i;
	int found = 0;

	/* New Year's Day 2022 (Saturday) belongs to 2021, as Dec 31. */
	n = calendar_federal_holidays(2021, h, NELEM(h));
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(h[n - 1].year, 2021);
	ck_assert_int_eq(h[n - 1].month, 12);
	ck_assert_int_eq(h[n - 1].day, 31);
	ck_assert_str_eq(h[n - 1].name, "New Year's Day");
	n = calendar_federal_holidays(2022, h, NELEM(h));
	ck_assert_uint_eq(n, 10);
	ck_assert_str_eq(h[0].name, "Birthday of Martin Luther King Jr.");
	/* No Juneteenth before 2021, no MLK Day before 1986. */
	n = calendar_federal_holidays(2020, h, NELEM(h));
	for (i = 0; i < n; i++)
		found |= strncmp(h[i].name, "Juneteenth", 10) == 0;
	ck_assert_int_eq(found, 0);
	n = calendar_federal_holidays(1985, h, NELEM(h));
	for (i = 0; i < n; i++)
		ck_assert(strncmp(h[i].name, "Birthday of Martin", 18) != 0);
	/* Thanksgiving 2026: Thursday Nov 26; Christmas 2022 (Sun) on Mon 26. */
	n = calendar_federal_holidays(2026, h, NELEM(h));
	ck_assert_str_eq(h[9].name, "Thanksgiving Day");
	ck_assert_int_eq(h[9].day, 26);
	n = calendar_federal_holidays(2022, h, NELEM(h));
	ck_assert_str_eq(h[n - 1].name, "Christmas Day");
	ck_assert_int_eq(h[n - 1].day, 26);
	/* max is respected */
	ck_assert_uint_eq(calendar_federal_holidays(2026, h, 3), 3);
}
END_TEST

START_TEST(test_business_days)
{
	struct config cfg;
	struct calendar *cal;

	test_office_zone("Asia/Kolkata");
	cal = cal_defaults(&cfg);
	ck_assert(!calendar_is_business_day(cal, 2021, 12, 31));	/* NY 2022 */
	ck_assert(!calendar_is_business_day(cal, 2027, 12, 31));	/* NY 2028 */
	ck_assert(calendar_is_business_day(cal, 2022, 1, 3));
	ck_assert(!calendar_is_business_day(cal, 2022, 12, 26));
	ck_assert(!calendar_is_business_day(cal, 2026, 11, 26));	/* Thanksgiving */
	ck_assert(calendar_is_business_day(cal, 2026, 11, 27));
	ck_assert(!calendar_is_business_day(cal, 2026, 11, 28));	/* Saturday */
	ck_assert(!calendar_is_business_day(cal, 2025, 6, 19));
	ck_assert(calendar_is_holiday(cal, 2025, 6, 19));
	ck_assert(!calendar_is_holiday(cal, 2025, 6, 21));
	ck_assert(!calendar_is_business_day(cal, 2025, 2, 30));	/* no such date */
	/* Saturday hours make Saturday a business day. */
	calendar_free(cal);
	cfg.week[6].open = 600;
	cfg.week[6].close = 840;
	cfg.holidays_federal = 0;
	{
		char err[256];

		cal = calendar_new(&cfg, err, sizeof(err));
		ck_assert_ptr_nonnull(cal);
	}
	ck_assert(calendar_is_business_day(cal, 2026, 11, 28));
	ck_assert(calendar_is_business_day(cal, 2026, 11, 26));	/* federal off */
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

START_TEST(test_hours_and_walk)
{
	struct config cfg;
	struct calendar *cal;
	char b[40];
	time_t o, c;

	test_office_zone("UTC");
	cal = cal_defaults(&cfg);
	ck_assert(calendar_in_business_hours(cal, test_at("2025-06-10T09:00:00-04:00")));
	ck_assert(!calendar_in_business_hours(cal, test_at("2025-06-10T08:59:59-04:00")));
	ck_assert(!calendar_in_business_hours(cal, test_at("2025-06-10T19:00:00-04:00")));
	ck_assert(calendar_in_business_hours(cal, test_at("2025-06-10T22:59:59Z")));
	ck_assert(!calendar_in_business_hours(cal, test_at("2025-06-19T12:00:00-04:00")));
	ck_assert_int_eq(calendar_day_interval(cal, test_at("2025-06-10T02:00:00Z"), &o, &c), 0);
	/* 02:00Z is still Monday 22:00 in New York */
	ck_assert_str_eq(fmt(o, b), "2025-06-09T09:00:00-04:00");
	ck_assert_str_eq(fmt(c, b), "2025-06-09T19:00:00-04:00");
	ck_assert_int_eq(calendar_day_interval(cal, test_at("2025-06-14T12:00:00Z"), &o, &c), -1);
	/* from outside hours, business time starts at the next opening */
	ck_assert_str_eq(fmt(calendar_add_business_seconds(cal,
	    test_at("2025-06-13T20:00:00-04:00"), 60), b), "2025-06-16T09:01:00-04:00");
	ck_assert_str_eq(fmt(calendar_add_business_seconds(cal,
	    test_at("2025-06-13T20:00:00-04:00"), 600 * 60), b), "2025-06-16T19:00:00-04:00");
	ck_assert_str_eq(fmt(calendar_close_of_business_day(cal,
	    test_at("2025-06-13T20:00:00-04:00"), 1), b), "2025-06-16T19:00:00-04:00");
	ck_assert_str_eq(fmt(calendar_end_of_next_business_day(cal,
	    test_at("2025-06-18T10:00:00-04:00")), b), "2025-06-20T19:00:00-04:00");
	ck_assert_str_eq(fmt(calendar_end_of_next_business_day(cal,
	    test_at("2025-06-13T08:00:00-04:00")), b), "2025-06-16T19:00:00-04:00");
	/* a year of business time: 250 business days of 600 minutes in 2025
	 * from Jan 2 (Jan 1 closed) ends on the last business day's close */
	ck_assert_str_eq(fmt(calendar_add_business_seconds(cal,
	    test_at("2025-01-01T00:00:00-05:00"), 250L * 600 * 60), b),
	    "2025-12-31T19:00:00-05:00");
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

/* Opening and closing times inside DST gaps and overlaps. */
START_TEST(test_dst_edges)
{
	struct config cfg;
	struct calendar *cal;
	struct tip_meeting m = { 0, 150 };	/* Sunday 02:30 */
	char b[40], err[256];
	time_t o, c;

	test_office_zone("Asia/Kolkata");
	config_defaults(&cfg);
	cfg.week[0].open = 150;		/* Sunday 02:30-03:30 */
	cfg.week[0].close = 210;
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(cal);
	/* 2026-03-08: 02:30 does not exist, it moves forward to 03:00 EDT */
	ck_assert_int_eq(calendar_day_interval(cal, test_at("2026-03-08T12:00:00Z"), &o, &c), 0);
	ck_assert_str_eq(fmt(o, b), "2026-03-08T03:00:00-04:00");
	ck_assert_str_eq(fmt(c, b), "2026-03-08T03:30:00-04:00");
	ck_assert_str_eq(fmt(calendar_next_meeting(cal, &m, 1,
	    test_at("2026-03-07T12:00:00Z")), b), "2026-03-08T03:00:00-04:00");
	ck_assert_str_eq(fmt(calendar_add_business_seconds(cal,
	    test_at("2026-03-08T00:00:00-05:00"), 1800), b), "2026-03-08T03:30:00-04:00");
	calendar_free(cal);
	/* 2026-11-01: 01:30 happens twice; the first pass (EDT) is used. */
	cfg.week[0].open = 90;
	cfg.week[0].close = 150;	/* 01:30 EDT to 02:30 EST: two hours */
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_int_eq(calendar_day_interval(cal, test_at("2026-11-01T12:00:00Z"), &o, &c), 0);
	ck_assert_str_eq(fmt(o, b), "2026-11-01T01:30:00-04:00");
	ck_assert_str_eq(fmt(c, b), "2026-11-01T02:30:00-05:00");
	ck_assert_int_eq((int)(c - o), 7200);
	ck_assert(calendar_in_business_hours(cal, test_at("2026-11-01T01:10:00-05:00")));
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

START_TEST(test_extra_and_ics)
{
	struct config cfg;
	struct calendar *cal;
	struct holiday *h;
	char *extra[] = { "2026-12-24" }, err[512];
	size_t n, i;
	static const char *const want2026[] = {
		"2026-12-24\tExtra closure",
		"2026-12-25\tChristmas Day",
		"2026-12-28\tWinter closure, office wide",
		"2026-12-29\tWinter closure, office wide",
		"2026-12-30\tWinter closure, office wide",
		"2026-12-31\tWinter closure, office wide",
	};
	char line[256];

	test_office_zone("UTC");
	config_defaults(&cfg);
	cfg.holidays_extra = extra;
	cfg.holidays_nextra = 1;
	cfg.holidays_ics = fixture("holidays.ics");
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_msg(cal != NULL, "%s", err);
	n = calendar_holidays(cal, 2026, 2026, &h);
	ck_assert_uint_ge(n, 6);
	for (i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "%04d-%02d-%02d\t%s", h[n - 6 + i].year,
		    h[n - 6 + i].month, h[n - 6 + i].day, h[n - 6 + i].name);
		ck_assert_str_eq(line, want2026[i]);
	}
	ck_assert_int_eq(h[3].month, 3);	/* Founders' Day, yearly */
	ck_assert_str_eq(h[3].name, "Founders' Day");
	free(h);
	ck_assert(calendar_is_holiday(cal, 2099, 3, 15));
	ck_assert(!calendar_is_holiday(cal, 2019, 3, 15));	/* before DTSTART */
	ck_assert(calendar_is_holiday(cal, 2027, 6, 10));	/* DURATION:P2D */
	ck_assert(calendar_is_holiday(cal, 2027, 6, 11));
	ck_assert(!calendar_is_holiday(cal, 2027, 6, 12));
	ck_assert(!calendar_is_holiday(cal, 2027, 6, 15));	/* timed event */
	ck_assert(!calendar_is_holiday(cal, 2027, 6, 16));	/* cancelled */
	ck_assert(calendar_is_holiday(cal, 2024, 2, 29));	/* leap day, COUNT=2 */
	ck_assert(calendar_is_holiday(cal, 2028, 2, 29));
	ck_assert(!calendar_is_holiday(cal, 2032, 2, 29));
	ck_assert(!calendar_is_holiday(cal, 2025, 3, 1));
	/* extras are not shifted off a weekend */
	ck_assert(!calendar_is_holiday(cal, 2026, 12, 23));
	n = calendar_holidays(cal, 2028, 2028, &h);
	for (i = 0; i < n; i++)
		if (h[i].month == 2 && h[i].day == 29)
			break;
	ck_assert_uint_lt(i, n);
	ck_assert_str_eq(h[i].name, "Leap day");
	free(h);
	calendar_free(cal);
	free(cfg.holidays_ics);
	cfg.holidays_ics = NULL;
	cfg.holidays_extra = NULL;
	cfg.holidays_nextra = 0;
	config_free(&cfg);
}
END_TEST

/* Writes text to a temporary .ics and returns calendar_new's error. */
static int
ics_error(const char *text, char *err, size_t errlen, char **path)
{
	struct config cfg;
	struct calendar *cal;
	char tmpl[] = "/tmp/intake-ics-XXXXXX";
	int fd;

	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_defaults(&cfg);
	cfg.holidays_ics = xstrdup(tmpl);
	cal = calendar_new(&cfg, err, errlen);
	config_free(&cfg);
	unlink(tmpl);
	*path = xstrdup(tmpl);
	if (cal != NULL) {
		calendar_free(cal);
		return 0;
	}
	return -1;
}

/* The reader on a buffer (no file): NULs and a missing final newline are
 * its input, and the closures come in file order. */
START_TEST(test_ics_buffer)
{
	static const char text[] = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"
	    "DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261226\r\n"
	    "SUMMARY:Winter\\, break\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n"
	    "DTSTART:20250704\r\nRRULE:FREQ=YEARLY;INTERVAL=2;COUNT=3\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR";
	struct ics_closures c;
	char err[256] = "";

	ck_assert_int_eq(ics_parse(text, sizeof(text) - 1, "x.ics", &c, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_int_eq(c.v[0].start, days_from_civil(2026, 12, 24));
	ck_assert_int_eq(c.v[0].ndays, 2);
	ck_assert_int_eq(c.v[0].yearly, 0);
	ck_assert_str_eq(c.v[0].name, "Winter, break");
	ck_assert_int_eq(c.v[1].yearly, 1);
	ck_assert_int_eq(c.v[1].interval, 2);
	ck_assert_int_eq(c.v[1].last_year, 2029);
	ck_assert_str_eq(c.v[1].name, "Closure");
	ics_closures_free(&c);
	/* the same text cut before its END:VCALENDAR, and with a NUL */
	ck_assert_int_eq(ics_parse(text, sizeof(text) - 14, "x.ics", &c, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "x.ics:10: missing END:VCALENDAR");
	ck_assert_ptr_null(c.v);
	ck_assert_int_eq(ics_parse("BEGIN:VCALENDAR\n\0", 17, "y", &c, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "y:2: NUL byte");
}
END_TEST

START_TEST(test_ics_errors)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*what;
	} cases[] = {
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261301\n"
		    "END:VEVENT\nEND:VCALENDAR\n", 3, "DTSTART: bad date" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\n"
		    "RRULE:FREQ=MONTHLY\nEND:VEVENT\nEND:VCALENDAR\n", 4,
		    "only FREQ=YEARLY" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261126\n"
		    "RRULE:FREQ=YEARLY;BYDAY=4TH\nEND:VEVENT\nEND:VCALENDAR\n", 4,
		    "RRULE" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n"
		    "END:VCALENDAR\n", 4, "without DTSTART" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
		    "DTEND;VALUE=DATE:20260105\nEND:VEVENT\nEND:VCALENDAR\n", 5,
		    "DTEND must be after" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
		    "DTEND;VALUE=DATE:20280105\nEND:VEVENT\nEND:VCALENDAR\n", 5,
		    "longer than 366" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
		    "END:VCALENDAR\n", 4, "END does not match" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260105\n"
		    "END:VEVENT\n", 4, "missing END:VCALENDAR" },
		{ "hello\n", 1, "no ':'" },
		{ "", 0, "not an iCalendar file" },
		{ "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026\n 0105\n"
		    "DURATION:PT1H\nEND:VEVENT\nEND:VCALENDAR\n", 5, "DURATION" },
	};
	char err[512], want[64], *path;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		ck_assert_int_eq(ics_error(cases[i].text, err, sizeof(err), &path), -1);
		snprintf(want, sizeof(want), "%s:%d: ", path, cases[i].line);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		    "case %zu: got '%s', want prefix '%s'", i, err, want);
		ck_assert_msg(strstr(err, cases[i].what) != NULL,
		    "case %zu: got '%s'", i, err);
		free(path);
	}
	/* an over-long logical line (folding cannot grow it without end) */
	{
		struct buf b;

		buf_init(&b, 0);
		buf_addstr(&b, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:");
		for (i = 0; i < 2000; i++)
			buf_addstr(&b, "\n abcdefgh");
		buf_addstr(&b, "\nEND:VEVENT\nEND:VCALENDAR\n");
		ck_assert_int_eq(ics_error(b.data, err, sizeof(err), &path), -1);
		ck_assert(strstr(err, "line too long") != NULL);
		free(path);
		buf_free(&b);
	}
	/* accepted: a byte order mark, LF line ends, a folded DTSTART */
	ck_assert_int_eq(ics_error("\xef\xbb\xbf" "BEGIN:VCALENDAR\nBEGIN:VEVENT\n"
	    "DTSTART;VALUE=DATE:2026\n 0105\nEND:VEVENT\nEND:VCALENDAR\n", err,
	    sizeof(err), &path), 0);
	free(path);
	/* a missing file */
	{
		struct config cfg;

		config_defaults(&cfg);
		cfg.holidays_ics = xstrdup("/nonexistent/holidays.ics");
		ck_assert_ptr_null(calendar_new(&cfg, err, sizeof(err)));
		ck_assert(strstr(err, "/nonexistent/holidays.ics:0: cannot read") == err);
		config_free(&cfg);
	}
}
END_TEST

START_TEST(test_bad_config)
{
	struct config cfg;
	char err[256], *bad[] = { "2026-02-30" };
	int d;

	config_defaults(&cfg);
	for (d = 0; d < 7; d++)
		cfg.week[d].open = cfg.week[d].close = 0;
	ck_assert_ptr_null(calendar_new(&cfg, err, sizeof(err)));
	ck_assert(strstr(err, "no weekday has business hours") != NULL);
	config_free(&cfg);
	config_defaults(&cfg);
	cfg.holidays_extra = bad;
	cfg.holidays_nextra = 1;
	ck_assert_ptr_null(calendar_new(&cfg, err, sizeof(err)));
	ck_assert(strstr(err, "holidays.extra") != NULL);
	cfg.holidays_extra = NULL;
	cfg.holidays_nextra = 0;
	config_free(&cfg);
}
END_TEST

/* Walking skips closed days cheaply: a calendar open one hour a week. */
START_TEST(test_walk_cost)
{
	struct config cfg;
	struct calendar *cal;
	char err[256], b[40];
	uint64_t t0;
	int d, i;

	test_office_zone("UTC");
	config_defaults(&cfg);
	for (d = 0; d < 7; d++)
		cfg.week[d].open = cfg.week[d].close = 0;
	cfg.week[3].open = 540;
	cfg.week[3].close = 600;
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(cal);
	t0 = now_ms_monotonic();
	for (i = 0; i < 2000; i++)
		ck_assert(calendar_add_business_seconds(cal,
		    test_at("2026-01-01T00:00:00Z"), 52L * 3600) != (time_t)-1);
	/* 2000 walks of a year each, well under a second */
	ck_assert_uint_lt(now_ms_monotonic() - t0, 3000);
	ck_assert_str_eq(fmt(calendar_add_business_seconds(cal,
	    test_at("2026-01-01T00:00:00Z"), 2 * 3600), b), "2026-01-14T10:00:00-05:00");
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

/* The calendar's offset table agrees with localtime_r() everywhere. */
START_TEST(test_zone_table)
{
	static const char *const zones[] = { "America/New_York",
	    "Australia/Lord_Howe", "Europe/London", "Asia/Kolkata",
	    "America/Los_Angeles", "Pacific/Apia" };
	struct config cfg;
	struct calendar *cal;
	char err[256], a[40], b[40];
	uint64_t s = 88172645463325252ULL;
	time_t t, lo = -2208988800LL, span = 10000000000LL;
	size_t z, i;

	config_defaults(&cfg);
	for (z = 0; z < NELEM(zones); z++) {
		ck_assert_int_eq(calendar_set_zone(zones[z], err, sizeof(err)), 0);
		cal = calendar_new(&cfg, err, sizeof(err));
		ck_assert_ptr_nonnull(cal);
		for (i = 0; i < 200000; i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			t = lo + (time_t)(s % (uint64_t)span);
			calendar_format(cal, t, a, sizeof(a));
			iso8601_local(t, b, sizeof(b));
			/* (ck_assert would record each of the 1.2 million) */
			if (strcmp(a, b) != 0)
				ck_abort_msg("%s: %s vs %s", zones[z], a, b);
		}
		/* around New York's 2026 spring change, to the second */
		for (t = 1772953200 - 2; t <= 1772953200 + 1; t++) {
			calendar_format(cal, t, a, sizeof(a));
			iso8601_local(t, b, sizeof(b));
			ck_assert_str_eq(a, b);
		}
		calendar_free(cal);
	}
	config_free(&cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_zone_refused);
	tcase_add_test(tc, test_federal_table);
	tcase_add_test(tc, test_federal_rules);
	tcase_add_test(tc, test_business_days);
	tcase_add_test(tc, test_hours_and_walk);
	tcase_add_test(tc, test_dst_edges);
	tcase_add_test(tc, test_extra_and_ics);
	tcase_add_test(tc, test_ics_errors);
	tcase_add_test(tc, test_ics_buffer);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_walk_cost);
	tcase_add_test(tc, test_zone_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
