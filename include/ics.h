/* SPDX-License-Identifier: MIT */
/*
 * ics.h: the iCalendar (RFC 5545) reader of the holiday calendar, the
 * all-day subset: VEVENTs with DATE values, DTEND or DURATION (PnD, PnW),
 * STATUS:CANCELLED skipped, timed events ignored, and RRULE:FREQ=YEARLY on
 * a fixed month and day (INTERVAL, COUNT, UNTIL).  It reads a buffer, so
 * calendar.c reads the file (holidays.ics) and the fuzzer needs none.
 *
 *	struct ics_closures c;
 *
 *	if (ics_parse(data, len, "holidays.ics", &c, err, sizeof(err)) == -1)
 *		... err is "FILE:LINE: what" ...
 *	... c.v[0 .. c.n - 1], in file order ...
 *	ics_closures_free(&c);
 *
 * Day numbers are days since 1970-01-01 (days_from_civil(), util.h).
 */
#ifndef INTAKE_ICS_H
#define INTAKE_ICS_H

#include <stddef.h>

/* The largest file calendar.c reads (the reader itself takes any length). */
#define ICS_MAX_BYTES	(4u << 20)

/* One all-day closure: days [start, start + ndays), or, when yearly, that
 * month and day every interval years from start's year. */
struct ics_closure {
	long		 start;		/* day number of DTSTART */
	int		 ndays;		/* 1-366 */
	int		 yearly;	/* RRULE:FREQ=YEARLY */
	int		 interval;	/* yearly: every interval years */
	int		 last_year;	/* yearly: from COUNT; 0 when none */
	long		 until;		/* yearly: day number; LONG_MAX: none */
	char		*name;		/* SUMMARY (sanitised, at most 200
					   bytes) or "Closure"; owned */
};

struct ics_closures {
	struct ics_closure *v;
	size_t		 n;
};

/*
 * Read the iCalendar text data[0 .. len - 1] (any bytes).  0 with *out
 * filled (caller frees with ics_closures_free), or -1 with *out empty and
 * err set to "FILE:LINE: what" (file names the input in the message).
 */
int	 ics_parse(const char *data, size_t len, const char *file,
	    struct ics_closures *out, char *err, size_t errlen);
void	 ics_closures_free(struct ics_closures *);

#endif
