/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the unit-test programs (each includes this once; the
 * functions are static so every test program stays one translation unit).
 * Needs <check.h>, <stdlib.h>, <time.h>, "calendar.h", "config.h" and
 * "util.h" included first.
 */
#ifndef INTAKE_TESTLIB_H
#define INTAKE_TESTLIB_H

/* The source tree's top (tests/run.sh sets INTAKE_TOP). */
static inline const char *
test_top(void)
{
	const char *t = getenv("INTAKE_TOP");

	return t != NULL && *t != '\0' ? t : ".";
}

/* An ISO 8601 instant the test itself wrote: a bad one fails the test. */
static inline time_t
test_at(const char *iso)
{
	time_t t;

	ck_assert_msg(iso8601_parse(iso, &t) == 0, "bad instant %s", iso);
	return t;
}

/* The office zone, set after a machine zone that must not matter. */
static inline void
test_office_zone(const char *machine)
{
	char err[256];

	setenv("TZ", machine, 1);
	tzset();
	ck_assert_int_eq(calendar_set_zone("America/New_York", err,
	    sizeof(err)), 0);
}

/* A calendar for cfg; failing to build one fails the test.  Caller frees. */
static inline struct calendar *
test_calendar_new(const struct config *cfg)
{
	struct calendar *cal;
	char err[512];

	cal = calendar_new(cfg, err, sizeof(err));
	ck_assert_msg(cal != NULL, "%s", err);
	return cal;
}

#endif
