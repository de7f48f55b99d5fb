/* SPDX-License-Identifier: MIT */
/*
 * rota.h: who is on call, from an iCalendar file (RFC 5545, read with
 * libical): oncall.rota in intake.conf.  Each VEVENT is a shift, repeated
 * by RRULE and RDATE, with EXDATE (and RECURRENCE-ID overrides) taking
 * instances out.  The person is named by an ATTENDEE (its CN, or its
 * mailto: address) or else by the SUMMARY, and found in oncall.people by
 * name (case-insensitive) or email; an ATTENDEE with a mailto: address not
 * listed there is paged at that address.  Several ATTENDEEs, or shifts that
 * overlap, put several people on call at once: all of them are paged.
 *
 * Times are DST-correct: a DTSTART with a TZID (a VTIMEZONE of the file,
 * else the tz database) recurs at the same wall-clock time in that zone,
 * and a floating time is read in the office zone (timezone).  A shift's
 * length is the wall-clock distance from DTSTART to DTEND, so the night
 * shift 22:00-06:00 ends at 06:00 on the nights the clocks change, too
 * (7 or 9 hours).  A DURATION's days and weeks are wall-clock days, its
 * hours exact.
 *
 * A rota that does not parse, or whose shift has no start, no end, an end
 * before its start, a rule more frequent than hourly, an unknown time zone
 * or nobody who can be paged, is refused whole: the error names
 * FILE:LINE (the line of the BEGIN:VEVENT of the shift at fault; libical
 * tells no finer position) and what is wrong.
 */
#ifndef INTAKE_ROTA_H
#define INTAKE_ROTA_H

#include <stddef.h>
#include <time.h>

#include "config.h"

#define ROTA_MAX_BYTES	(4 * 1024 * 1024)

struct rota;

/* One instance of a shift, for one person. */
struct rota_shift {
	time_t		 start;
	time_t		 end;		/* exclusive */
	const char	*name;		/* the person (oncall.people) or the
					   ATTENDEE's address */
	const char	*email;		/* NULL: webhook only */
	const char	*webhook;	/* NULL: mail only */
	int		 line;		/* its VEVENT's line in the file */
};

/*
 * Parse a rota held in buf (len bytes, need not be NUL-terminated); file
 * names it in messages.  zone is the office zone for floating times.
 * people resolves the names.  NULL with *err "FILE:LINE: what" (caller
 * frees) when it is refused.
 */
struct rota	*rota_parse(const char *buf, size_t len, const char *file,
		    const char *zone, const struct oncall_person *people,
		    size_t npeople, char **err);
/* rota_parse() of cfg->oncall_rota with cfg's zone and people. */
struct rota	*rota_load(const struct config *, char **err);
void		 rota_free(struct rota *);

/*
 * The shift instances that overlap [from, to), by start then name, at most
 * max; *out is NULL or an array the caller frees (the strings belong to
 * the rota).  Returns the number.
 */
size_t		 rota_shifts(const struct rota *, time_t from, time_t to,
		    size_t max, struct rota_shift **out);
/* The instances on at t (start <= t < end): rota_shifts(t, t + 1). */
size_t		 rota_on_call(const struct rota *, time_t t,
		    struct rota_shift **out);
/*
 * The first stretch of [from, to) nobody is on call, in *gap_start and
 * *gap_end (clipped to the window).  1 when there is one, 0 when the
 * window is covered.
 */
int		 rota_gap(const struct rota *, time_t from, time_t to,
		    time_t *gap_start, time_t *gap_end);
/*
 * The person of oncall.people a staff login (or a name) stands for: the
 * one whose login is who, else the one named who (case-insensitive), so
 * `--assignee me`, `intake assign N me` and an "ack NAME" by mail name the
 * person as the rota does.  NULL: nobody.
 */
const struct oncall_person *rota_person(const struct config *,
		    const char *who);

#endif
