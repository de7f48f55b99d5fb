/* SPDX-License-Identifier: MIT */
/*
 * calendar.h: the office calendar: business days, opening intervals,
 * holidays (US federal on observed dates, configured extras, iCalendar
 * all-day events) and business-time arithmetic.  Pure functions over a
 * calendar value; no database, no globals.
 *
 * Time zone: the office zone is made the process's local zone once at
 * start-up (calendar_set_zone(), before any thread exists); conversions use
 * localtime_r()/mktime() after that.  See doc/interfaces.md, "Time zones".
 */
#ifndef INTAKE_CALENDAR_H
#define INTAKE_CALENDAR_H

#include <stddef.h>
#include <time.h>

#include "config.h"

struct calendar;

/* A closed date: y/m/d and its name (static or owned by the calendar). */
struct holiday {
	int		 year, month, day;
	const char	*name;
};

/* setenv("TZ") + tzset(); -1 with err when the zone is unknown to tzdata. */
int	 calendar_set_zone(const char *zone, char *err, size_t errlen);

/*
 * Build the calendar from the configuration (hours, federal flag, extra
 * dates, iCalendar file).  NULL with err ("FILE:LINE: ...") on failure.
 * Call calendar_set_zone() first: the calendar reads the zone's offsets
 * once, here.
 */
struct calendar *calendar_new(const struct config *, char *err, size_t errlen);
void	 calendar_free(struct calendar *);
/* Like iso8601_local(): t in the office zone with its offset, seconds
 * precision (2026-11-30T19:00:00-05:00), but from the calendar's own
 * offset table (calendar_new() snapshots the zone set before it). */
void	 calendar_format(const struct calendar *, time_t, char *out, size_t len);

/* US federal holidays of year, observed dates, in date order.  Returns count. */
size_t	 calendar_federal_holidays(int year, struct holiday *out, size_t max);
/* Every closed date (federal if enabled, extra, ics) within [from_year,
 * to_year], sorted, each date once with the first name that applies.
 * Caller frees *out (names stay owned by the calendar). */
size_t	 calendar_holidays(const struct calendar *, int from_year, int to_year,
	    struct holiday **out);

int	 calendar_is_holiday(const struct calendar *, int year, int month, int day);
int	 calendar_is_business_day(const struct calendar *, int year, int month, int day);
int	 calendar_in_business_hours(const struct calendar *, time_t);
/* Opening and closing instants of the business day that contains t's local
 * date: 0 and the instants, or -1 when that date is closed. */
int	 calendar_day_interval(const struct calendar *, time_t t, time_t *open,
	    time_t *close);
/* t + secs of business time, walking only open intervals; a result that
 * lands exactly on a closing time stays there. */
time_t	 calendar_add_business_seconds(const struct calendar *, time_t t, long secs);
/* The closing instant of business day n (1-based), where day 1 is the first
 * business day whose opening is strictly after t. */
time_t	 calendar_close_of_business_day(const struct calendar *, time_t t, int n);
/* The end of the next business day after t's local date (for follow-up
 * lists: "due before the end of the next business day"). */
time_t	 calendar_end_of_next_business_day(const struct calendar *, time_t t);
/* Next business day at local minute-of-day `minute` on weekday `wday`
 * strictly after t (tip meetings); the instant, or (time_t)-1 if none within
 * two years. */
time_t	 calendar_next_meeting(const struct calendar *, const struct tip_meeting *,
	    size_t nmeetings, time_t t);

#endif
