/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "calltype.h"
#include "config.h"
#include "sla.h"
#include "util.h"

#include "testlib.h"

/* Machine zones the results must not depend on. */
static const char *const machine_zones[] = {
	"Asia/Kolkata", "UTC", "America/Los_Angeles", "Australia/Lord_Howe"
};

/* Deadlines of one contact as "DUE BREACH" in the office zone. */
static const char *
deadlines(const struct calendar *cal, const struct config *cfg,
    const char *type, const char *urg, const char *received, char out[96])
{
	struct deadlines d;
	enum call_type t;
	enum urgency u;
	char a[40], b[40];

	ck_assert_int_eq(call_type_parse(type, &t), 0);
	ck_assert_int_eq(urgency_parse(urg, &u), 0);
	ck_assert_int_eq(sla_compute(cal, cfg, t, u, test_at(received), &d), 0);
	iso8601_local(d.response_due, a, sizeof(a));
	iso8601_local(d.breach_at, b, sizeof(b));
	snprintf(out, 96, "%s %s", a, b);
	return out;
}

/* Every line of sla-examples.txt, under several machine zones. */
START_TEST(test_examples)
{
	struct config cfg;
	struct calendar *cal;
	char *path, *data, *line, *nl, type[16], urg[16], rec[40], due[40],
	    breach[40], want[96], got[96];
	size_t len, z;
	int n;

	path = xasprintf("%s/tests/fixtures/sla-examples.txt", test_top());
	ck_assert_int_eq(read_file(path, 1 << 20, &data, &len), 0);
	config_defaults(&cfg);
	for (z = 0; z < NELEM(machine_zones); z++) {
		test_office_zone(machine_zones[z]);
		cal = test_calendar_new(&cfg);
		n = 0;
		for (line = data; *line != '\0'; line = nl + 1) {
			if ((nl = strchr(line, '\n')) == NULL)
				break;
			if (line[0] == '#' || line == nl)
				continue;
			ck_assert_int_eq(sscanf(line, "%15s %15s %39s -> %39s %39s",
			    type, urg, rec, due, breach), 5);
			snprintf(want, sizeof(want), "%s %s", due, breach);
			ck_assert_msg(strcmp(deadlines(cal, &cfg, type, urg, rec, got),
			    want) == 0, "%s %s %s under TZ=%s: got %s, want %s", type,
			    urg, rec, machine_zones[z], got, want);
			n++;
		}
		ck_assert_int_ge(n, 20);
		calendar_free(cal);
	}
	/* the copy in the tree is the shared one (when it is there) */
	free(data);
	free(path);
	config_free(&cfg);
}
END_TEST

START_TEST(test_issue_example_and_none)
{
	struct config cfg;
	struct calendar *cal;
	struct deadlines d;
	char got[96];

	test_office_zone("UTC");
	config_defaults(&cfg);
	cal = test_calendar_new(&cfg);
	ck_assert_str_eq(deadlines(cal, &cfg, "tip", "routine",
	    "2026-11-27T20:00:00-05:00", got),
	    "2026-11-30T10:00:00-05:00 2026-12-02T10:00:00-05:00");
	ck_assert_int_eq(sla_compute(cal, &cfg, CT_AUTOMATED, URG_URGENT,
	    test_at("2026-11-30T12:00:00Z"), &d), 0);
	ck_assert_int_eq(d.urgency, URG_NONE);
	ck_assert(d.response_due == 0 && d.breach_at == 0);
	ck_assert_int_eq(sla_compute(cal, &cfg, CT_UNCLASSIFIED, URG_ROUTINE,
	    test_at("2026-11-30T12:00:00Z"), &d), 0);
	ck_assert(d.response_due == 0 && d.breach_at == 0);
	ck_assert_int_eq(sla_compute(cal, &cfg, CT_CRISIS, URG_ROUTINE,
	    test_at("2026-11-30T12:00:00Z"), &d), 0);
	ck_assert_int_eq(d.urgency, URG_URGENT);
	ck_assert_int_eq(sla_compute(cal, &cfg, CT_RELATED, URG_URGENT,
	    test_at("2026-11-30T12:00:00Z"), &d), 0);
	ck_assert_int_eq(d.urgency, URG_ROUTINE);
	/* fractional seconds are truncated */
	ck_assert_str_eq(deadlines(cal, &cfg, "tta", "routine",
	    "2025-06-10T18:59:59.999-04:00", got),
	    "2025-06-11T18:59:59-04:00 2025-06-12T18:59:59-04:00");
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

/* A deterministic generator (no libc rand state in the test). */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int
local_wday_min(time_t t, int *min, int *sec)
{
	struct tm tm;

	localtime_r(&t, &tm);
	*min = tm.tm_hour * 60 + tm.tm_min;
	*sec = tm.tm_sec;
	return tm.tm_wday;
}

/* Brute force: business seconds in [from, to) counted minute by minute
 * (from is minute-aligned; hours open and close on whole minutes). */
static long
business_seconds_between(const struct calendar *cal, time_t from, time_t to)
{
	long n = 0;
	time_t t;

	for (t = from; t < to; t += 60)
		if (calendar_in_business_hours(cal, t))
			n += 60;
	return n;
}

/*
 * Check records every passing ck_assert (a write per call); the property
 * loops run millions of checks, so they only call Check on a failure.
 */
#define PROP(c) do {							\
	if (!(c))							\
		ck_abort_msg("property failed: %s (received %lld)", #c,	\
		    (long long)r);					\
} while (0)
#define PROP_EQ(a, b) PROP((a) == (b))

static uint64_t
run_properties(const char *machine, int brute)
{
	static const enum call_type types[] = { CT_CRISIS, CT_TIP, CT_TTA,
	    CT_REFERRAL, CT_INFO, CT_RELATED };
	struct config cfg;
	struct calendar *cal;
	struct deadlines d;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, digest = 1469598103934665603ULL;
	time_t lo = test_at("2000-01-01T00:00:00Z"), hi = test_at("2060-12-31T00:00:00Z");
	time_t r, o, c;
	size_t i, k;
	int u, wd, min, sec, nbrute = 0;

	test_office_zone(machine);
	config_defaults(&cfg);
	cal = test_calendar_new(&cfg);
	for (i = 0; i < 20000; i++) {
		r = lo + (time_t)(next_rand(&seed) % (uint64_t)(hi - lo));
		if (i % 4 == 0)
			r -= r % 60;	/* many on whole minutes, some on closes */
		for (k = 0; k < NELEM(types); k++)
			for (u = URG_ROUTINE; u <= URG_URGENT; u++) {
				PROP_EQ(sla_compute(cal, &cfg, types[k], u,
				    r, &d), 0);
				digest = (digest ^ (uint64_t)d.response_due) *
				    1099511628211ULL;
				digest = (digest ^ (uint64_t)d.breach_at) *
				    1099511628211ULL;
				PROP(d.response_due <= d.breach_at);
				PROP(d.response_due > r);
				PROP_EQ(d.in_business_hours,
				    calendar_in_business_hours(cal, r));
				if (d.urgency == URG_URGENT) {
					PROP(d.response_due == r + 15 * 60);
					PROP(d.breach_at == r + 60 * 60);
					continue;
				}
				if (types[k] == CT_TIP) {
					/* a held meeting: Mon/Wed/Fri 10:00 */
					wd = local_wday_min(d.response_due, &min, &sec);
					PROP(wd == 1 || wd == 3 || wd == 5);
					PROP(min == 600 && sec == 0);
					PROP_EQ(calendar_day_interval(cal,
					    d.response_due, &o, &c), 0);
					wd = local_wday_min(d.breach_at, &min, &sec);
					PROP(wd == 1 || wd == 3 || wd == 5);
					PROP(d.breach_at - d.response_due <= 12 * 86400);
					continue;
				}
				/* inside business hours or exactly at a close */
				PROP_EQ(calendar_day_interval(cal,
				    d.breach_at, &o, &c), 0);
				PROP(o < d.breach_at && d.breach_at <= c);
				PROP_EQ(calendar_day_interval(cal,
				    d.response_due, &o, &c), 0);
				PROP(o < d.response_due && d.response_due <= c);
				if (!d.in_business_hours) {
					/* rule 3b: exactly a close, 19:00 local */
					PROP(d.response_due == c);
					local_wday_min(d.response_due, &min, &sec);
					PROP(min == 19 * 60 && sec == 0);
				} else if (brute && r % 60 == 0 && nbrute < 150 &&
				    k == 2) {
					nbrute++;
					PROP_EQ(business_seconds_between(cal,
					    r, d.response_due), 600 * 60);
					PROP_EQ(business_seconds_between(cal,
					    r, d.breach_at), 1200 * 60);
				}
			}
	}
	if (brute)
		ck_assert_int_ge(nbrute, 100);
	calendar_free(cal);
	config_free(&cfg);
	return digest;
}

START_TEST(test_properties)
{
	uint64_t a, b, c;

	a = run_properties("Asia/Kolkata", 1);
	b = run_properties("UTC", 0);
	c = run_properties("America/Los_Angeles", 0);
	ck_assert(a == b && b == c);
}
END_TEST

/* 2nd Sunday of March and 1st Sunday of November of year y (day of month). */
static int
sunday(int y, int mon, int nth)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = 1;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	return 1 + (7 - tm.tm_wday) % 7 + 7 * (nth - 1);
}

START_TEST(test_dst_weeks)
{
	struct config cfg;
	struct calendar *cal;
	char rec[64], want[96], got[96];
	int y, sp, fb;

	test_office_zone("Asia/Kolkata");
	config_defaults(&cfg);
	cal = test_calendar_new(&cfg);
	for (y = 2026; y <= 2030; y++) {
		sp = sunday(y, 3, 2);
		fb = sunday(y, 11, 1);
		/* urgent: elapsed minutes over the jump */
		snprintf(rec, sizeof(rec), "%d-03-%02dT01:50:00-05:00", y, sp);
		snprintf(want, sizeof(want), "%d-03-%02dT03:05:00-04:00 "
		    "%d-03-%02dT03:50:00-04:00", y, sp, y, sp);
		ck_assert_str_eq(deadlines(cal, &cfg, "crisis", "urgent", rec, got), want);
		snprintf(rec, sizeof(rec), "%d-11-%02dT01:50:00-04:00", y, fb);
		snprintf(want, sizeof(want), "%d-11-%02dT01:05:00-05:00 "
		    "%d-11-%02dT01:50:00-05:00", y, fb, y, fb);
		ck_assert_str_eq(deadlines(cal, &cfg, "tip", "urgent", rec, got), want);
		/* in hours on Friday: 120 min Friday + 480 Monday, at 17:00 local */
		snprintf(rec, sizeof(rec), "%d-03-%02dT17:00:00-05:00", y, sp - 2);
		snprintf(want, sizeof(want), "%d-03-%02dT17:00:00-04:00 "
		    "%d-03-%02dT17:00:00-04:00", y, sp + 1, y, sp + 2);
		ck_assert_str_eq(deadlines(cal, &cfg, "tta", "routine", rec, got), want);
		if (fb - 2 >= 1) {
			snprintf(rec, sizeof(rec), "%d-11-%02dT17:00:00-04:00", y, fb - 2);
			snprintf(want, sizeof(want), "%d-11-%02dT17:00:00-05:00 "
			    "%d-11-%02dT17:00:00-05:00", y, fb + 1, y, fb + 2);
			ck_assert_str_eq(deadlines(cal, &cfg, "referral", "routine",
			    rec, got), want);
		}
		/* tip on Saturday: Monday's and Wednesday's meetings at 10:00 local */
		snprintf(rec, sizeof(rec), "%d-03-%02dT12:00:00-05:00", y, sp - 1);
		snprintf(want, sizeof(want), "%d-03-%02dT10:00:00-04:00 "
		    "%d-03-%02dT10:00:00-04:00", y, sp + 1, y, sp + 3);
		ck_assert_str_eq(deadlines(cal, &cfg, "tip", "routine", rec, got), want);
		/* outside hours on the change day itself: day 1 Monday */
		snprintf(rec, sizeof(rec), "%d-11-%02dT12:00:00-05:00", y, fb);
		snprintf(want, sizeof(want), "%d-11-%02dT19:00:00-05:00 "
		    "%d-11-%02dT19:00:00-05:00", y, fb + 2, y, fb + 3);
		ck_assert_str_eq(deadlines(cal, &cfg, "info", "routine", rec, got), want);
		snprintf(rec, sizeof(rec), "%d-03-%02dT02:59:59-05:00", y, sp);
		snprintf(want, sizeof(want), "%d-03-%02dT19:00:00-04:00 "
		    "%d-03-%02dT19:00:00-04:00", y, sp + 2, y, sp + 3);
		ck_assert_str_eq(deadlines(cal, &cfg, "related", "routine", rec, got), want);
	}
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

START_TEST(test_holiday_weeks)
{
	struct config cfg;
	struct calendar *cal;
	char got[96];

	test_office_zone("UTC");
	config_defaults(&cfg);
	cal = test_calendar_new(&cfg);
	/* New Year's Day 2028 is a Saturday: closed Friday 2027-12-31 */
	ck_assert_str_eq(deadlines(cal, &cfg, "referral", "routine",
	    "2027-12-30T20:00:00-05:00", got),
	    "2028-01-04T19:00:00-05:00 2028-01-05T19:00:00-05:00");
	ck_assert_str_eq(deadlines(cal, &cfg, "tip", "routine",
	    "2027-12-29T10:30:00-05:00", got),
	    "2028-01-03T10:00:00-05:00 2028-01-05T10:00:00-05:00");
	/* Thanksgiving week 2026 */
	ck_assert_str_eq(deadlines(cal, &cfg, "tta", "routine",
	    "2026-11-25T12:00:00-05:00", got),
	    "2026-11-27T12:00:00-05:00 2026-11-30T12:00:00-05:00");
	ck_assert_str_eq(deadlines(cal, &cfg, "tip", "routine",
	    "2026-11-25T10:00:00-05:00", got),
	    "2026-11-27T10:00:00-05:00 2026-11-30T10:00:00-05:00");
	ck_assert_str_eq(deadlines(cal, &cfg, "referral", "routine",
	    "2026-11-25T19:00:00-05:00", got),
	    "2026-11-30T19:00:00-05:00 2026-12-01T19:00:00-05:00");
	/* Christmas 2022 on a Sunday: closed Monday the 26th */
	ck_assert_str_eq(deadlines(cal, &cfg, "referral", "routine",
	    "2022-12-23T12:00:00-05:00", got),
	    "2022-12-27T12:00:00-05:00 2022-12-28T12:00:00-05:00");
	/* Christmas 2027 on a Saturday: no meeting Friday the 24th */
	ck_assert_str_eq(deadlines(cal, &cfg, "tip", "routine",
	    "2027-12-22T11:00:00-05:00", got),
	    "2027-12-27T10:00:00-05:00 2027-12-29T10:00:00-05:00");
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

/* holidays.extra 2026-12-24 + the ics winter closure Dec 28-31 + federal. */
START_TEST(test_extra_ics_stretch)
{
	struct config cfg;
	struct calendar *cal;
	char *extra[] = { "2026-12-24" }, got[96];

	test_office_zone("Asia/Kolkata");
	config_defaults(&cfg);
	cfg.holidays_extra = extra;
	cfg.holidays_nextra = 1;
	cfg.holidays_ics = xasprintf("%s/tests/fixtures/holidays.ics", test_top());
	cal = test_calendar_new(&cfg);
	ck_assert_str_eq(deadlines(cal, &cfg, "referral", "routine",
	    "2026-12-23T20:00:00-05:00", got),
	    "2027-01-05T19:00:00-05:00 2027-01-06T19:00:00-05:00");
	ck_assert_str_eq(deadlines(cal, &cfg, "tta", "routine",
	    "2026-12-23T12:00:00-05:00", got),
	    "2027-01-04T12:00:00-05:00 2027-01-05T12:00:00-05:00");
	ck_assert_str_eq(deadlines(cal, &cfg, "tip", "routine",
	    "2026-12-22T11:00:00-05:00", got),
	    "2026-12-23T10:00:00-05:00 2027-01-04T10:00:00-05:00");
	ck_assert_str_eq(deadlines(cal, &cfg, "crisis", "routine",
	    "2026-12-29T03:00:00Z", got),
	    "2026-12-28T22:15:00-05:00 2026-12-28T23:00:00-05:00");
	calendar_free(cal);
	free(cfg.holidays_ics);
	cfg.holidays_ics = NULL;
	cfg.holidays_extra = NULL;
	cfg.holidays_nextra = 0;
	config_free(&cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sla");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_examples);
	tcase_add_test(tc, test_issue_example_and_none);
	tcase_add_test(tc, test_properties);
	tcase_add_test(tc, test_dst_weeks);
	tcase_add_test(tc, test_holiday_weeks);
	tcase_add_test(tc, test_extra_ics_stretch);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
