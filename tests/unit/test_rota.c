/* SPDX-License-Identifier: MIT */
/*
 * test_rota: the on-call rota (rota.h): weekly RRULE shifts, EXDATE,
 * RDATE, RECURRENCE-ID, overlapping shifts, a gap, a night shift across
 * both DST changes in America/New_York, floating times in the office
 * zone, people by ATTENDEE or SUMMARY, and malformed input named by
 * FILE:LINE.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "config.h"
#include "rota.h"
#include "util.h"
#include "testlib.h"
#include "../../daemon/rota_p.h"

static const struct oncall_person people[] = {
	{ "maria", "Maria Lopez <maria@example.org>", NULL, "mgarcia" },
	{ "bob", "bob@example.org", "https://hooks.example.org/bob", NULL },
};

static struct rota *
parse(const char *text, char **err)
{
	return rota_parse(text, strlen(text), "oncall.ics", "America/New_York",
	    people, NELEM(people), err);
}

static struct rota *
parse_ok(const char *text)
{
	char *err = NULL;
	struct rota *r = parse(text, &err);

	ck_assert_msg(r != NULL, "refused: %s", err ? err : "?");
	return r;
}

/* The names on call at iso, sorted, comma separated. */
static char *
who_at(const struct rota *r, const char *iso)
{
	struct rota_shift *v;
	struct buf b;
	size_t n, i;

	n = rota_on_call(r, test_at(iso), &v);
	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? "," : "", v[i].name);
	free(v);
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

#define ck_who(r, iso, want) do {					\
	char *w_ = who_at(r, iso);					\
	ck_assert_msg(strcmp(w_, want) == 0, "%s: on call '%s', want '%s'", \
	    iso, w_, want);						\
	free(w_);							\
} while (0)

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//intake test//EN\r\n"
#define TAIL "END:VCALENDAR\r\n"

/* maria days Mon/Wed/Fri 09-17, bob Tue/Thu 09-17 (ATTENDEE), not on
 * Friday 2026-12-11; an extra Saturday for bob by RDATE; an overlap. */
static const char weekly[] =
    HEAD
    "BEGIN:VEVENT\r\nUID:days-maria\r\nSUMMARY:maria\r\n"
    "DTSTART;TZID=America/New_York:20261207T090000\r\n"
    "DTEND;TZID=America/New_York:20261207T170000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\n"
    "EXDATE;TZID=America/New_York:20261211T090000\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:days-bob\r\nSUMMARY:Tue/Thu day shift\r\n"
    "ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT:mailto:bob@example.org\r\n"
    "DTSTART;TZID=America/New_York:20261208T090000\r\n"
    "DTEND;TZID=America/New_York:20261208T170000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=TU,TH\r\n"
    "RDATE;TZID=America/New_York:20261212T090000\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:overlap\r\nSUMMARY:bob\r\n"
    "DTSTART;TZID=America/New_York:20261209T150000\r\n"
    "DTEND;TZID=America/New_York:20261209T190000\r\n"
    "END:VEVENT\r\n"
    TAIL;

START_TEST(test_weekly_rrule)
{
	struct rota *r = parse_ok(weekly);

	ck_assert_uint_eq(rota_nevents(r), 3);
	ck_who(r, "2026-12-07T09:00:00-05:00", "maria");
	ck_who(r, "2026-12-07T16:59:59-05:00", "maria");
	ck_who(r, "2026-12-07T17:00:00-05:00", "");
	ck_who(r, "2026-12-08T12:00:00-05:00", "bob");
	ck_who(r, "2026-12-10T12:00:00-05:00", "bob");
	ck_who(r, "2026-12-14T10:00:00-05:00", "maria");	/* next week */
	ck_who(r, "2027-06-14T10:00:00-04:00", "maria");	/* summer: 09-17 EDT */
	ck_who(r, "2027-06-14T08:30:00-04:00", "");
	ck_who(r, "2026-12-13T10:00:00-05:00", "");	/* Sunday */
	rota_free(r);
}
END_TEST

START_TEST(test_exdate_rdate)
{
	struct rota *r = parse_ok(weekly);

	ck_who(r, "2026-12-11T10:00:00-05:00", "");	/* EXDATE */
	ck_who(r, "2026-12-18T10:00:00-05:00", "maria");
	ck_who(r, "2026-12-12T10:00:00-05:00", "bob");	/* RDATE, 8 h */
	ck_who(r, "2026-12-12T17:00:00-05:00", "");
	rota_free(r);
}
END_TEST

START_TEST(test_overlap_pages_everyone)
{
	struct rota *r = parse_ok(weekly);
	struct rota_shift *v;
	size_t n;

	ck_who(r, "2026-12-09T16:00:00-05:00", "maria,bob");
	ck_who(r, "2026-12-09T18:00:00-05:00", "bob");
	n = rota_on_call(r, test_at("2026-12-09T16:00:00-05:00"), &v);
	ck_assert_uint_eq(n, 2);
	/* people's addresses and webhooks come from oncall.people */
	/* by start: maria since 09:00, bob since 15:00 */
	ck_assert_str_eq(v[1].name, "bob");
	ck_assert_str_eq(v[1].email, "bob@example.org");
	ck_assert_str_eq(v[1].webhook, "https://hooks.example.org/bob");
	ck_assert_str_eq(v[0].email, "Maria Lopez <maria@example.org>");
	ck_assert_ptr_null(v[0].webhook);
	free(v);
	rota_free(r);
}
END_TEST

START_TEST(test_gap)
{
	struct rota *r = parse_ok(weekly);
	time_t gs, ge;

	/* Monday: 09-17 covered; nobody from 17:00 to Tuesday 09:00. */
	ck_assert_int_eq(rota_gap(r, test_at("2026-12-07T09:00:00-05:00"),
	    test_at("2026-12-08T12:00:00-05:00"), &gs, &ge), 1);
	ck_assert_int_eq(gs, test_at("2026-12-07T17:00:00-05:00"));
	ck_assert_int_eq(ge, test_at("2026-12-08T09:00:00-05:00"));
	/* Wednesday 09-19: maria then bob overlapping: no gap. */
	ck_assert_int_eq(rota_gap(r, test_at("2026-12-09T09:00:00-05:00"),
	    test_at("2026-12-09T19:00:00-05:00"), &gs, &ge), 0);
	/* a window ending uncovered: the gap runs to the window's end */
	ck_assert_int_eq(rota_gap(r, test_at("2026-12-09T18:00:00-05:00"),
	    test_at("2026-12-09T21:00:00-05:00"), &gs, &ge), 1);
	ck_assert_int_eq(gs, test_at("2026-12-09T19:00:00-05:00"));
	ck_assert_int_eq(ge, test_at("2026-12-09T21:00:00-05:00"));
	rota_free(r);
}
END_TEST

/* Nights 22:00-06:00 in New York across both changes of 2026: the wall
 * clock, not a fixed length, ends the shift. */
static const char nights[] =
    HEAD
    "BEGIN:VEVENT\r\nUID:nights\r\nSUMMARY:maria\r\n"
    "DTSTART;TZID=America/New_York:20260306T220000\r\n"
    "DTEND;TZID=America/New_York:20260307T060000\r\n"
    "RRULE:FREQ=DAILY;UNTIL=20261231T000000Z\r\n"
    "END:VEVENT\r\n"
    TAIL;

START_TEST(test_dst_night_shift)
{
	struct rota *r = parse_ok(nights);
	struct rota_shift *v;
	size_t n;

	/* Sat 7 Mar 22:00 EST to Sun 8 Mar 06:00 EDT: 7 hours. */
	n = rota_shifts(r, test_at("2026-03-07T12:00:00-05:00"),
	    test_at("2026-03-08T12:00:00-04:00"), 10, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].start, test_at("2026-03-07T22:00:00-05:00"));
	ck_assert_int_eq(v[0].end, test_at("2026-03-08T06:00:00-04:00"));
	ck_assert_int_eq(v[0].end - v[0].start, 7 * 3600);
	free(v);
	/* Sat 31 Oct 22:00 EDT to Sun 1 Nov 06:00 EST: 9 hours. */
	n = rota_shifts(r, test_at("2026-10-31T12:00:00-04:00"),
	    test_at("2026-11-01T12:00:00-05:00"), 10, &v);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].start, test_at("2026-10-31T22:00:00-04:00"));
	ck_assert_int_eq(v[0].end, test_at("2026-11-01T06:00:00-05:00"));
	ck_assert_int_eq(v[0].end - v[0].start, 9 * 3600);
	free(v);
	/* 05:30 EST on 1 Nov is still the night shift; 06:00 is not. */
	ck_who(r, "2026-11-01T05:30:00-05:00", "maria");
	ck_who(r, "2026-11-01T06:00:00-05:00", "");
	/* the next night again 22:00 local, 8 hours */
	ck_who(r, "2026-11-01T22:00:00-05:00", "maria");
	ck_who(r, "2026-11-01T21:59:00-05:00", "");
	rota_free(r);
}
END_TEST

/* Floating times are the office's; a RECURRENCE-ID moves one instance;
 * an ATTENDEE not in people is paged at its address; UTC works. */
START_TEST(test_floating_override_attendee)
{
	static const char text[] =
	    HEAD
	    "BEGIN:VEVENT\r\nUID:w\r\nSUMMARY:MARIA\r\n"
	    "DTSTART:20261207T080000\r\nDURATION:PT4H\r\n"
	    "RRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:w\r\nSUMMARY:maria\r\n"
	    "RECURRENCE-ID:20261209T080000\r\n"
	    "DTSTART:20261209T130000\r\nDTEND:20261209T170000\r\n"
	    "END:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:x\r\n"
	    "ATTENDEE;CN=Zed Temp:mailto:zed@example.net\r\n"
	    "ATTENDEE;CN=maria:mailto:someone-else@example.org\r\n"
	    "DTSTART:20261220T150000Z\r\nDTEND:20261220T170000Z\r\n"
	    "END:VEVENT\r\n"
	    TAIL;
	struct rota *r = parse_ok(text);
	struct rota_shift *v;
	size_t n;

	ck_who(r, "2026-12-07T08:00:00-05:00", "maria");
	ck_who(r, "2026-12-09T09:00:00-05:00", "");	/* moved */
	ck_who(r, "2026-12-09T14:00:00-05:00", "maria");
	ck_who(r, "2026-12-20T10:30:00-05:00", "maria,Zed Temp");
	n = rota_on_call(r, test_at("2026-12-20T16:00:00Z"), &v);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1].email, "zed@example.net");
	free(v);
	rota_free(r);
}
END_TEST

static void
ck_refused(const char *text, const char *want)
{
	char *err = NULL;
	struct rota *r = parse(text, &err);

	ck_assert_msg(r == NULL, "accepted, want '%s'", want);
	ck_assert_msg(err && strstr(err, want), "error '%s', want '%s'",
	    err ? err : "(none)", want);
	free(err);
}

START_TEST(test_malformed)
{
	/* lines: 1-3 head, 4 BEGIN:VEVENT ... */
	ck_refused("not a calendar\r\n", "oncall.ics:1: not an iCalendar");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTEND:20261207T170000\r\nEND:VEVENT\r\n" TAIL,
	    "oncall.ics:4: shift has no DTSTART");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART:20261207T090000\r\nDTEND:20261207T170000\r\n"
	    "RRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\n" TAIL,
	    "oncall.ics:8: ");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART:20261207T090000\r\nDTEND:20261207T170000\r\n"
	    "RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n" TAIL,
	    "oncall.ics:4: RRULE: a shift recurs at most hourly");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:carol\r\n"
	    "DTSTART:20261207T090000\r\nDTEND:20261207T170000\r\n"
	    "END:VEVENT\r\n" TAIL,
	    "oncall.ics:4: SUMMARY 'carol' names nobody in oncall.people");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART;TZID=Mars/Olympus:20261207T090000\r\n"
	    "DTEND:20261207T170000\r\nEND:VEVENT\r\n" TAIL,
	    "oncall.ics:4: DTSTART: unknown time zone TZID=Mars/Olympus");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART:20261207T090000\r\nDTEND:20261207T080000\r\n"
	    "END:VEVENT\r\n" TAIL, "oncall.ics:4: shift ends before it starts");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART:20261207T090000\r\nEND:VEVENT\r\n" TAIL,
	    "oncall.ics:4: shift has no DTEND or DURATION");
	ck_refused(HEAD "BEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART:20261207T090000\r\nDTEND:20261207T100000\r\n"
	    "END:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:maria\r\n"
	    "DTSTART:2026120\r\nDTEND:20261207T100000\r\nEND:VEVENT\r\n" TAIL,
	    "oncall.ics:11: ");
	ck_refused(HEAD "BEGIN:VEVENT\r\nATTENDEE;CN=nobody:urn:x\r\n"
	    "DTSTART:20261207T090000\r\nDTEND:20261207T100000\r\n"
	    "END:VEVENT\r\n" TAIL, "oncall.ics:4: ATTENDEE nobody");
	{
		static const char nul[] = HEAD "BEGIN:VEVENT\r\nSUMMARY:ma\0ria"
		    "\r\nEND:VEVENT\r\n" TAIL;
		char *err = NULL;

		ck_assert_ptr_null(rota_parse(nul, sizeof(nul) - 1,
		    "oncall.ics", "America/New_York", people, NELEM(people),
		    &err));
		ck_assert_msg(strstr(err, "oncall.ics:1: holds a NUL byte"),
		    "%s", err);
		free(err);
	}
}
END_TEST

/* Garbage never crashes: every prefix of a rota, and bytes flipped. */
START_TEST(test_truncated_and_flipped)
{
	char *err, *copy;
	struct rota *r;
	size_t len = strlen(weekly), i;

	for (i = 0; i < len; i += 7) {
		err = NULL;
		r = rota_parse(weekly, i, "x.ics", "America/New_York", people,
		    NELEM(people), &err);
		ck_assert_msg(r != NULL || (err && *err), "prefix %zu", i);
		rota_free(r);
		free(err);
	}
	copy = xstrdup(weekly);
	for (i = 0; i < len; i += 11) {
		char saved = copy[i];

		copy[i] = (char)(saved ^ 0x5a);
		err = NULL;
		r = rota_parse(copy, len, "x.ics", "America/New_York", people,
		    NELEM(people), &err);
		if (r) {
			struct rota_shift *v;

			rota_shifts(r, test_at("2026-12-01T00:00:00Z"),
			    test_at("2027-01-01T00:00:00Z"), 1000, &v);
			free(v);
		}
		rota_free(r);
		free(err);
		copy[i] = saved;
	}
	free(copy);
}
END_TEST

START_TEST(test_shifts_listing)
{
	struct rota *r = parse_ok(weekly);
	struct rota_shift *v;
	size_t n;

	n = rota_shifts(r, test_at("2026-12-07T12:00:00-05:00"),
	    test_at("2026-12-10T00:00:00-05:00"), 3, &v);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(v[0].start, test_at("2026-12-07T09:00:00-05:00"));
	ck_assert_int_eq(v[1].start, test_at("2026-12-08T09:00:00-05:00"));
	ck_assert_int_eq(v[2].start, test_at("2026-12-09T09:00:00-05:00"));
	ck_assert_str_eq(v[2].name, "maria");
	free(v);
	rota_free(r);
}
END_TEST

/* A staff login names the person of oncall.people (login, else name). */
START_TEST(test_person_of_login)
{
	struct config cfg;
	const struct oncall_person *p;

	memset(&cfg, 0, sizeof(cfg));
	cfg.oncall_people = (struct oncall_person *)people;
	cfg.oncall_npeople = NELEM(people);
	p = rota_person(&cfg, "mgarcia");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->name, "maria");
	p = rota_person(&cfg, "Bob");	/* no login: the name */
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->name, "bob");
	ck_assert_ptr_null(rota_person(&cfg, "MGARCIA"));	/* logins exact */
	ck_assert_ptr_null(rota_person(&cfg, "eve"));
	ck_assert_ptr_null(rota_person(&cfg, NULL));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("rota");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_weekly_rrule);
	tcase_add_test(tc, test_exdate_rdate);
	tcase_add_test(tc, test_overlap_pages_everyone);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_dst_night_shift);
	tcase_add_test(tc, test_floating_override_attendee);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_truncated_and_flipped);
	tcase_add_test(tc, test_shifts_listing);
	tcase_add_test(tc, test_person_of_login);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int nf;

	/* the rota must not depend on the machine's zone */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	sr = srunner_create(suite());

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
