/* SPDX-License-Identifier: MIT */
/*
 * calendar.c: the office calendar of doc/sla.md.
 *
 * The holidays.ics file is read here and parsed by ics.c.
 *
 * Dates are handled as day numbers (days since 1970-01-01, proleptic
 * Gregorian), so walking and weekday arithmetic never touch the time-zone
 * code.  Only the steps "local wall time of a date -> instant" and
 * "instant -> local date" need the office zone's UTC offset: from the
 * table calendar_new() reads once from the process zone (see zone_build()),
 * else localtime_r().
 *
 * Wall time to instant (local_to_instant): the offsets one day before and
 * one day after are read; when they agree (almost always) the answer is
 * direct.  Otherwise both candidates are checked: at an overlap (fall back)
 * the earlier instant wins (first pass); in a gap (spring forward) the wall
 * time does not exist and moves forward to the instant the gap ends.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "ics.h"
#include "util.h"

#define DAY_SECS		86400L
#define MAX_WALK_DAYS		(366L * 10)	/* give up after ten years */
#define YEAR_MIN		1000
#define YEAR_MAX		9999

/* A closed date from holidays.extra or a one-off iCalendar event. */
struct closed_date {
	long		 dn;
	int		 seq;		/* order of the source: first name wins */
	const char	*name;		/* static or in cal->names */
};

/* A yearly iCalendar event: RRULE:FREQ=YEARLY on a fixed month/day. */
struct yearly_rule {
	int		 month, day;
	int		 first_year;
	int		 ndays;
	int		 interval;
	int		 last_year;	/* from COUNT; YEAR_MAX when none */
	long		 until;		/* day number; LONG_MAX: none */
	int		 seq;
	const char	*name;
};

struct calendar {
	struct day_hours	 week[7];
	int			 federal;
	struct closed_date	*dates;		/* sorted by (dn, seq) */
	size_t			 ndates;
	struct yearly_rule	*rules;
	size_t			 nrules;
	char			**names;	/* owned strings */
	size_t			 nnames;
	struct zone_span {
		time_t		 from;
		long		 off;
	}			*zone;		/* see zone_build() */
	size_t			 nzone;
};

/* ---- day numbers ------------------------------------------------------ */

/* 0 = Sunday, as struct tm; 1970-01-01 was a Thursday. */
static int
weekday(long dn)
{
	long w = (dn + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static long
floor_div(long long a, long b)
{
	long long q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return (long)q;
}

/* ---- the office zone -------------------------------------------------- */

int
calendar_set_zone(const char *zone, char *err, size_t errlen)
{
	const char *dir, *p;
	char path[4096], magic[4];
	FILE *f;
	size_t n;

	/* A zone name, not a POSIX TZ rule nor a path: glibc would quietly
	 * use UTC for a name it cannot find, so look it up ourselves. */
	if (zone == NULL || *zone == '\0' || *zone == '/' || *zone == ':' ||
	    strlen(zone) > 255 || strstr(zone, "..") != NULL) {
		snprintf(err, errlen, "timezone: bad zone name");
		return -1;
	}
	for (p = zone; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_+-", *p) != NULL)) {
			snprintf(err, errlen, "timezone: bad zone name");
			return -1;
		}
	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s/%s", dir, zone);
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "timezone: unknown zone '%s' (%s)", zone,
		    strerror(errno));
		return -1;
	}
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	if (n != sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		snprintf(err, errlen, "timezone: '%s' is not a tzdata zone", zone);
		return -1;
	}
	if (setenv("TZ", zone, 1) == -1) {
		snprintf(err, errlen, "timezone: setenv: %s", strerror(errno));
		return -1;
	}
	tzset();
	return 0;
}

static long
libc_gmtoff(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The office zone's UTC offsets, read once by calendar_new() from the
 * process zone: glibc re-parses the zone's POSIX rule (with sscanf) on every
 * localtime_r() past the last transition stored in the tzdata file (2037),
 * which made that one call most of the cost of a deadline.  The table holds
 * one span per offset change between ZONE_FROM and ZONE_TO, found by
 * probing every ZONE_STEP seconds and bisecting each change to the second;
 * outside it, or for changes less than ZONE_STEP apart (none in tzdata for
 * the US zones), localtime_r() is asked directly.
 */
#define ZONE_FROM	((time_t)0)		/* 1970-01-01 */
#define ZONE_TO		((time_t)4102444800LL)	/* 2100-01-01 */
#define ZONE_STEP	(7L * DAY_SECS)

static void
zone_add(struct calendar *cal, size_t *cap, time_t from, long off)
{
	if (cal->nzone == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		cal->zone = xreallocarray(cal->zone, *cap, sizeof(*cal->zone));
	}
	cal->zone[cal->nzone].from = from;
	cal->zone[cal->nzone].off = off;
	cal->nzone++;
}

static void
zone_build(struct calendar *cal)
{
	size_t cap = 0;
	time_t t, lo, hi, mid;
	long off, o;

	off = libc_gmtoff(ZONE_FROM);
	zone_add(cal, &cap, ZONE_FROM, off);
	for (t = ZONE_FROM + ZONE_STEP; t < ZONE_TO; t += ZONE_STEP) {
		if ((o = libc_gmtoff(t)) == off)
			continue;
		/* the first second of the new offset, in (t - step, t] */
		lo = t - ZONE_STEP + 1;
		hi = t;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (libc_gmtoff(mid) == off)
				lo = mid + 1;
			else
				hi = mid;
		}
		zone_add(cal, &cap, lo, o);
		off = o;
	}
}

static long
gmtoff_at(const struct calendar *cal, time_t t)
{
	size_t lo, hi, mid;

	if (t < ZONE_FROM || t >= ZONE_TO || cal->nzone == 0)
		return libc_gmtoff(t);
	/* the last span starting at or before t */
	lo = 0;
	hi = cal->nzone;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (cal->zone[mid].from <= t)
			lo = mid;
		else
			hi = mid;
	}
	return cal->zone[lo].off;
}

/* The local day number of instant t. */
static long
local_day(const struct calendar *cal, time_t t)
{
	return floor_div((long long)t + gmtoff_at(cal, t), DAY_SECS);
}

static char *
put_digits(char *p, long v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* Hand-made rather than snprintf: this runs three times per deadline line
 * and printf was a fifth of `intake sla --batch`. */
void
calendar_format(const struct calendar *cal, time_t t, char *out, size_t len)
{
	long off = gmtoff_at(cal, t), secs;
	long long local = (long long)t + off;
	long dn = floor_div(local, DAY_SECS);
	int y, m, d;
	char sign = off < 0 ? '-' : '+', *p = out;

	civil_from_days(dn, &y, &m, &d);
	secs = (long)(local - (long long)dn * DAY_SECS);
	if (off < 0)
		off = -off;
	if (y < 0 || y > 9999 || len < sizeof("2026-11-30T19:00:00-05:00")) {
		snprintf(out, len, "%04d-%02d-%02dT%02ld:%02ld:%02ld%c%02ld:%02ld",
		    y, m, d, secs / 3600, secs / 60 % 60, secs % 60, sign,
		    off / 3600, off / 60 % 60);
		return;
	}
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, secs / 3600, 2);
	*p++ = ':';
	p = put_digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, secs % 60, 2);
	*p++ = sign;
	p = put_digits(p, off / 3600, 2);
	*p++ = ':';
	p = put_digits(p, off / 60 % 60, 2);
	*p = '\0';
}

/*
 * The instant of local wall time `minute` (0..1440) on day dn; see the
 * comment at the top of the file for gaps and overlaps.
 */
static time_t
local_to_instant(const struct calendar *cal, long dn, int minute)
{
	long long L = (long long)dn * DAY_SECS + (long long)minute * 60;
	long ob, oa;
	time_t t1, t2, lo, hi, mid;
	int v1, v2;

	ob = gmtoff_at(cal, (time_t)(L - DAY_SECS));
	oa = gmtoff_at(cal, (time_t)(L + DAY_SECS));
	t1 = (time_t)(L - ob);
	if (ob == oa)
		return t1;
	t2 = (time_t)(L - oa);
	v1 = gmtoff_at(cal, t1) == ob;
	v2 = gmtoff_at(cal, t2) == oa;
	if (v1 && v2)
		return t1 < t2 ? t1 : t2;
	if (v1)
		return t1;
	if (v2)
		return t2;
	/* A gap: the first instant whose wall time is past L. */
	lo = t1 < t2 ? t1 : t2;
	hi = t1 < t2 ? t2 : t1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((long long)mid + gmtoff_at(cal, mid) >= L)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* ---- federal holidays ------------------------------------------------- */

static const char *const FED_NEWYEAR = "New Year's Day";

/* Day number of the n-th (1-based) weekday wd of month m. */
static long
nth_weekday(int y, int m, int wd, int n)
{
	long first = days_from_civil(y, m, 1);

	return first + (wd - weekday(first) + 7) % 7 + 7L * (n - 1);
}

static long
last_weekday(int y, int m, int last_mday, int wd)
{
	long last = days_from_civil(y, m, last_mday);

	return last - (weekday(last) - wd + 7) % 7;
}

/* Saturday -> the Friday before, Sunday -> the Monday after. */
static long
observed(int y, int m, int d)
{
	long dn = days_from_civil(y, m, d);

	switch (weekday(dn)) {
	case 6:
		return dn - 1;
	case 0:
		return dn + 1;
	default:
		return dn;
	}
}

struct fed {
	long		 dn;
	const char	*name;
};

/* The observed federal holidays whose date falls in year y, in order. */
static size_t
federal_year(int y, struct fed out[12])
{
	size_t n = 0;
	long dn;

	dn = observed(y, 1, 1);
	if (dn >= days_from_civil(y, 1, 1))
		out[n++] = (struct fed){ dn, FED_NEWYEAR };
	if (y >= 1986)
		out[n++] = (struct fed){ nth_weekday(y, 1, 1, 3),
		    "Birthday of Martin Luther King Jr." };
	out[n++] = (struct fed){ nth_weekday(y, 2, 1, 3), "Washington's Birthday" };
	out[n++] = (struct fed){ last_weekday(y, 5, 31, 1), "Memorial Day" };
	if (y >= 2021)
		out[n++] = (struct fed){ observed(y, 6, 19),
		    "Juneteenth National Independence Day" };
	out[n++] = (struct fed){ observed(y, 7, 4), "Independence Day" };
	out[n++] = (struct fed){ nth_weekday(y, 9, 1, 1), "Labor Day" };
	out[n++] = (struct fed){ nth_weekday(y, 10, 1, 2), "Columbus Day" };
	out[n++] = (struct fed){ observed(y, 11, 11), "Veterans Day" };
	out[n++] = (struct fed){ nth_weekday(y, 11, 4, 4), "Thanksgiving Day" };
	out[n++] = (struct fed){ observed(y, 12, 25), "Christmas Day" };
	dn = observed(y + 1, 1, 1);
	if (dn < days_from_civil(y + 1, 1, 1))
		out[n++] = (struct fed){ dn, FED_NEWYEAR };
	return n;
}

size_t
calendar_federal_holidays(int year, struct holiday *out, size_t max)
{
	struct fed f[12];
	size_t i, n;

	n = federal_year(year, f);
	for (i = 0; i < n && i < max; i++) {
		civil_from_days(f[i].dn, &out[i].year, &out[i].month, &out[i].day);
		out[i].name = f[i].name;
	}
	return i;
}

/* The federal holiday observed on day dn (of year y), or NULL. */
static const char *
federal_name(long dn, int y, int m)
{
	struct fed f[12];
	size_t i, n;

	/* Only months that hold one: skip the table for the others. */
	if (m == 3 || m == 4 || m == 8)
		return NULL;
	n = federal_year(y, f);
	for (i = 0; i < n; i++)
		if (f[i].dn == dn)
			return f[i].name;
	return NULL;
}

/* ---- closed dates ----------------------------------------------------- */

/* Does yearly rule r cover day dn (of year y)?  Occurrences start in year
 * y or y-1 (events last at most 366 days). */
static int
rule_covers(const struct yearly_rule *r, long dn, int y)
{
	long start;
	int yy;

	for (yy = y - 1; yy <= y; yy++) {
		if (yy < r->first_year || yy > r->last_year ||
		    (yy - r->first_year) % r->interval != 0)
			continue;
		if (!civil_valid(yy, r->month, r->day))
			continue;	/* RFC 5545: invalid instances are skipped */
		start = days_from_civil(yy, r->month, r->day);
		if (dn < start || dn >= start + r->ndays || start > r->until)
			continue;
		return 1;
	}
	return 0;
}

/* The name of the closure on day dn, or NULL; federal first, then the
 * lowest source sequence. */
static const char *
closed_name(const struct calendar *cal, long dn)
{
	const struct closed_date *best = NULL;
	const char *name;
	size_t lo, hi, mid, i;
	int y, m, d, seq = INT_MAX;

	civil_from_days(dn, &y, &m, &d);
	if (cal->federal && (name = federal_name(dn, y, m)) != NULL)
		return name;
	lo = 0;
	hi = cal->ndates;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cal->dates[mid].dn < dn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cal->ndates && cal->dates[lo].dn == dn) {
		best = &cal->dates[lo];
		seq = best->seq;
	}
	name = best != NULL ? best->name : NULL;
	for (i = 0; i < cal->nrules; i++)
		if (cal->rules[i].seq < seq && rule_covers(&cal->rules[i], dn, y)) {
			seq = cal->rules[i].seq;
			name = cal->rules[i].name;
		}
	return name;
}

static int
open_weekday(const struct calendar *cal, long dn)
{
	const struct day_hours *h = &cal->week[weekday(dn)];

	return h->open < h->close;
}

static int
business_day(const struct calendar *cal, long dn)
{
	return open_weekday(cal, dn) && closed_name(cal, dn) == NULL;
}

/* Opening and closing instants of day dn (a business day). */
static void
day_bounds(const struct calendar *cal, long dn, time_t *open, time_t *close)
{
	const struct day_hours *h = &cal->week[weekday(dn)];
	long long base = (long long)dn * DAY_SECS;
	long ob, oa;

	/* Same offset from the day before to the day after: no transition
	 * near this day, both instants are direct (two lookups, not eight). */
	ob = gmtoff_at(cal, (time_t)(base - DAY_SECS));
	oa = gmtoff_at(cal, (time_t)(base + 2 * DAY_SECS));
	if (ob == oa) {
		*open = (time_t)(base + h->open * 60LL - ob);
		*close = (time_t)(base + h->close * 60LL - ob);
		return;
	}
	*open = local_to_instant(cal, dn, h->open);
	*close = local_to_instant(cal, dn, h->close);
	if (*close < *open)
		*close = *open;
}

/* ---- public queries --------------------------------------------------- */

static int
in_range_date(int y, int m, int d)
{
	return y >= 1 && y <= YEAR_MAX && civil_valid(y, m, d);
}

int
calendar_is_holiday(const struct calendar *cal, int y, int m, int d)
{
	if (!in_range_date(y, m, d))
		return 0;
	return closed_name(cal, days_from_civil(y, m, d)) != NULL;
}

int
calendar_is_business_day(const struct calendar *cal, int y, int m, int d)
{
	if (!in_range_date(y, m, d))
		return 0;
	return business_day(cal, days_from_civil(y, m, d));
}

int
calendar_day_interval(const struct calendar *cal, time_t t, time_t *open,
    time_t *close)
{
	long dn = local_day(cal, t);

	if (!business_day(cal, dn))
		return -1;
	day_bounds(cal, dn, open, close);
	return 0;
}

int
calendar_in_business_hours(const struct calendar *cal, time_t t)
{
	time_t o, c;

	if (calendar_day_interval(cal, t, &o, &c) == -1)
		return 0;
	return o <= t && t < c;
}

time_t
calendar_add_business_seconds(const struct calendar *cal, time_t t, long secs)
{
	long dn, walked;
	time_t o, c, start;

	if (secs <= 0)
		return t;
	dn = local_day(cal, t);
	for (walked = 0; walked < MAX_WALK_DAYS; walked++, dn++) {
		/* Closed days cost a weekday test and a holiday lookup only. */
		if (!business_day(cal, dn))
			continue;
		day_bounds(cal, dn, &o, &c);
		start = t > o ? t : o;
		if (start >= c)
			continue;
		if (secs <= c - start)
			return start + secs;
		secs -= (long)(c - start);
	}
	return (time_t)-1;
}

time_t
calendar_close_of_business_day(const struct calendar *cal, time_t t, int n)
{
	long dn, walked;
	time_t o, c;
	int seen = 0;

	if (n < 1)
		return (time_t)-1;
	dn = local_day(cal, t);
	for (walked = 0; walked < MAX_WALK_DAYS; walked++, dn++) {
		if (!business_day(cal, dn))
			continue;
		day_bounds(cal, dn, &o, &c);
		if (o <= t)
			continue;
		if (++seen == n)
			return c;
	}
	return (time_t)-1;
}

time_t
calendar_end_of_next_business_day(const struct calendar *cal, time_t t)
{
	long dn, walked;
	time_t o, c;

	dn = local_day(cal, t) + 1;
	for (walked = 0; walked < MAX_WALK_DAYS; walked++, dn++) {
		if (!business_day(cal, dn))
			continue;
		day_bounds(cal, dn, &o, &c);
		return c;
	}
	return (time_t)-1;
}

time_t
calendar_next_meeting(const struct calendar *cal, const struct tip_meeting *m,
    size_t nm, time_t t)
{
	long dn, last;
	time_t best, at;
	size_t i;
	int wd;

	if (nm == 0)
		return (time_t)-1;
	/* From the day before: a 24:00 meeting falls on the next date. */
	dn = local_day(cal, t) - 1;
	for (last = dn + 2 * 366; dn <= last; dn++) {
		wd = weekday(dn);
		best = (time_t)-1;
		for (i = 0; i < nm; i++) {
			if (m[i].wday != wd)
				continue;
			if (!business_day(cal, dn))
				break;
			at = local_to_instant(cal, dn, m[i].minute);
			if (at > t && (best == (time_t)-1 || at < best))
				best = at;
		}
		if (best != (time_t)-1)
			return best;
	}
	return (time_t)-1;
}

/* ---- the list of closed dates ----------------------------------------- */

struct listed {
	long		 dn;
	int		 seq;
	const char	*name;
};

static int
listed_cmp(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	if (x->dn != y->dn)
		return x->dn < y->dn ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void
listed_add(struct listed **v, size_t *n, size_t *cap, long dn, int seq,
    const char *name)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = (struct listed){ dn, seq, name };
}

size_t
calendar_holidays(const struct calendar *cal, int from, int to,
    struct holiday **out)
{
	struct listed *v = NULL;
	struct fed f[12];
	size_t n = 0, cap = 0, i, k, nout;
	long lo, hi, start, dn;
	int y, j;

	*out = NULL;
	if (from < 1 || to > YEAR_MAX || from > to)
		return 0;
	lo = days_from_civil(from, 1, 1);
	hi = days_from_civil(to, 12, 31);
	for (y = from; cal->federal && y <= to; y++) {
		k = federal_year(y, f);
		for (i = 0; i < k; i++)
			listed_add(&v, &n, &cap, f[i].dn, -1, f[i].name);
	}
	for (i = 0; i < cal->ndates; i++)
		if (cal->dates[i].dn >= lo && cal->dates[i].dn <= hi)
			listed_add(&v, &n, &cap, cal->dates[i].dn,
			    cal->dates[i].seq, cal->dates[i].name);
	for (i = 0; i < cal->nrules; i++) {
		const struct yearly_rule *r = &cal->rules[i];

		for (y = from - 1 > r->first_year ? from - 1 : r->first_year;
		    y <= to; y++) {
			if (!civil_valid(y, r->month, r->day))
				continue;
			start = days_from_civil(y, r->month, r->day);
			for (j = 0; j < r->ndays; j++) {
				dn = start + j;
				if (dn >= lo && dn <= hi && rule_covers(r, dn, y) +
				    rule_covers(r, dn, y + 1) > 0)
					listed_add(&v, &n, &cap, dn, r->seq, r->name);
			}
		}
	}
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), listed_cmp);
	*out = xreallocarray(NULL, n, sizeof(**out));
	for (i = 0, nout = 0; i < n; i++) {
		if (nout > 0 && i > 0 && v[i].dn == v[i - 1].dn)
			continue;
		civil_from_days(v[i].dn, &(*out)[nout].year, &(*out)[nout].month,
		    &(*out)[nout].day);
		(*out)[nout].name = v[i].name;
		nout++;
	}
	free(v);
	return nout;
}

/* ---- building the calendar -------------------------------------------- */

static const char *
calendar_keep_name(struct calendar *cal, char *s)
{
	cal->names = xreallocarray(cal->names, cal->nnames + 1,
	    sizeof(*cal->names));
	cal->names[cal->nnames++] = s;
	return s;
}

static void
calendar_add_date(struct calendar *cal, size_t *cap, long dn, int seq,
    const char *name)
{
	if (cal->ndates == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		cal->dates = xreallocarray(cal->dates, *cap, sizeof(*cal->dates));
	}
	cal->dates[cal->ndates++] = (struct closed_date){ dn, seq, name };
}

static int
closed_date_cmp(const void *a, const void *b)
{
	const struct closed_date *x = a, *y = b;

	if (x->dn != y->dn)
		return x->dn < y->dn ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* "YYYY-MM-DD" into a day number: 0 or -1. */
static int
parse_ymd_dash(const char *s, long *dn)
{
	int y, m, d, i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < YEAR_MIN || !civil_valid(y, m, d))
		return -1;
	*dn = days_from_civil(y, m, d);
	return 0;
}

/* ---- holidays.ics ----------------------------------------------------- */

/* Read the file, then its closures (ics.c) into dates and yearly rules, in
 * file order after holidays.extra (first_seq). */
static int
calendar_load_ics(struct calendar *cal, size_t *cap, const char *file,
    int first_seq, char *err, size_t errlen)
{
	struct ics_closures c;
	const struct ics_closure *e;
	const char *name;
	char *data;
	size_t len, i;
	long dn;
	int y, m, d, seq;

	if (read_file(file, ICS_MAX_BYTES, &data, &len) == -1) {
		snprintf(err, errlen, "%s:0: cannot read: %s", file,
		    errno == EFBIG ? "larger than 4 MiB" : strerror(errno));
		return -1;
	}
	if (ics_parse(data, len, file, &c, err, errlen) == -1) {
		free(data);
		return -1;
	}
	free(data);
	for (i = 0; i < c.n; i++) {
		e = &c.v[i];
		name = calendar_keep_name(cal, e->name);
		c.v[i].name = NULL;
		seq = first_seq + (int)i;
		if (!e->yearly) {
			for (dn = e->start; dn < e->start + e->ndays; dn++)
				calendar_add_date(cal, cap, dn, seq, name);
			continue;
		}
		civil_from_days(e->start, &y, &m, &d);
		cal->rules = xreallocarray(cal->rules, cal->nrules + 1,
		    sizeof(*cal->rules));
		cal->rules[cal->nrules++] = (struct yearly_rule){
			.month = m, .day = d, .first_year = y, .ndays = e->ndays,
			.interval = e->interval, .last_year = e->last_year ?
			e->last_year : YEAR_MAX, .until = e->until, .seq = seq,
			.name = name };
	}
	ics_closures_free(&c);
	return 0;
}

struct calendar *
calendar_new(const struct config *cfg, char *err, size_t errlen)
{
	struct calendar *cal;
	size_t i, cap = 0;
	int any = 0;
	long dn;

	cal = xcalloc(1, sizeof(*cal));
	for (i = 0; i < 7; i++) {
		if (cfg->week[i].open < 0 || cfg->week[i].close > 1440) {
			snprintf(err, errlen, "%s: hours: bad minutes for weekday %zu",
			    cfg->path ? cfg->path : "defaults", i);
			goto fail;
		}
		cal->week[i] = cfg->week[i];
		any |= cfg->week[i].open < cfg->week[i].close;
	}
	if (!any) {
		snprintf(err, errlen, "%s: hours: no weekday has business hours",
		    cfg->path ? cfg->path : "defaults");
		goto fail;
	}
	cal->federal = cfg->holidays_federal;
	zone_build(cal);
	for (i = 0; i < cfg->holidays_nextra; i++) {
		if (parse_ymd_dash(cfg->holidays_extra[i], &dn) == -1) {
			snprintf(err, errlen, "%s: holidays.extra: bad date "
			    "(want YYYY-MM-DD)", cfg->path ? cfg->path : "defaults");
			goto fail;
		}
		calendar_add_date(cal, &cap, dn, (int)i, "Extra closure");
	}
	if (cfg->holidays_ics != NULL &&
	    calendar_load_ics(cal, &cap, cfg->holidays_ics,
	    (int)cfg->holidays_nextra, err, errlen) == -1)
		goto fail;
	if (cal->ndates > 0)
		qsort(cal->dates, cal->ndates, sizeof(*cal->dates), closed_date_cmp);
	return cal;
fail:
	calendar_free(cal);
	return NULL;
}

void
calendar_free(struct calendar *cal)
{
	size_t i;

	if (cal == NULL)
		return;
	for (i = 0; i < cal->nnames; i++)
		free(cal->names[i]);
	free(cal->names);
	free(cal->dates);
	free(cal->rules);
	free(cal->zone);
	free(cal);
}
