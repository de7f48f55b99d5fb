/* SPDX-License-Identifier: MIT */
/*
 * calendar.c: the office calendar of doc/sla.md.
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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "util.h"

#define DAY_SECS		86400L
#define MAX_WALK_DAYS		(366L * 10)	/* give up after ten years */
#define ICS_MAX_BYTES		(4u << 20)
#define ICS_MAX_LINE		8192
#define ICS_MAX_EVENTS		10000
#define ICS_MAX_DEPTH		16
#define ICS_MAX_EVENT_DAYS	366
#define ICS_MAX_SUMMARY		200
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

/* H. Hinnant's days_from_civil: valid for the whole proleptic calendar. */
static long
days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 = Sunday, as struct tm; 1970-01-01 was a Thursday. */
static int
weekday(long dn)
{
	long w = (dn + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static int
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
valid_date(int y, int m, int d)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12 || d < 1)
		return 0;
	if (m == 2 && leap_year(y))
		return d <= 29;
	return d <= dm[m - 1];
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
		if (!valid_date(yy, r->month, r->day))
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
	return y >= 1 && y <= YEAR_MAX && valid_date(y, m, d);
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
			if (!valid_date(y, r->month, r->day))
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
	if (y < YEAR_MIN || !valid_date(y, m, d))
		return -1;
	*dn = days_from_civil(y, m, d);
	return 0;
}

/* ---- iCalendar (RFC 5545), the all-day subset ------------------------- */

struct ics_event {
	int		 line;		/* of BEGIN:VEVENT */
	int		 has_start, timed, has_end, cancelled, yearly;
	long		 start, end;	/* day numbers, end exclusive */
	long		 duration;	/* days, from DURATION; -1 none */
	int		 interval, count;
	int		 bymonth, bymonthday;
	long		 until;
	char		*summary;
};

struct ics_parser {
	struct calendar	*cal;
	size_t		*cap;
	const char	*file;
	int		 line;		/* line where the logical line starts */
	int		 seq;
	int		 nevents;
	char		*err;
	size_t		 errlen;
	char		 stack[ICS_MAX_DEPTH][32];
	int		 depth;
	int		 seen_calendar;
	struct ics_event ev;
};

static int
ics_fail(struct ics_parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, what);
	return -1;
}

/* YYYYMMDD (a DATE, or the date part of a DATE-TIME when timed != NULL). */
static int
ics_date(const char *v, long *dn, int *timed)
{
	int y, m, d, i;

	for (i = 0; i < 8; i++)
		if (v[i] < '0' || v[i] > '9')
			return -1;
	y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
	m = (v[4] - '0') * 10 + (v[5] - '0');
	d = (v[6] - '0') * 10 + (v[7] - '0');
	if (y < YEAR_MIN || !valid_date(y, m, d))
		return -1;
	*dn = days_from_civil(y, m, d);
	if (v[8] == '\0') {
		if (timed != NULL)
			*timed = 0;
		return 0;
	}
	if (v[8] != 'T' || timed == NULL)
		return -1;
	*timed = 1;
	return 0;
}

/* Unescape a TEXT value into a name fit for one TSV line. */
static char *
ics_text(const char *v)
{
	struct buf b;
	char *clean, *s;

	buf_init(&b, 0);
	for (; *v != '\0' && b.len < ICS_MAX_SUMMARY * 2; v++) {
		if (*v == '\\' && v[1] != '\0') {
			v++;
			buf_addc(&b, (*v == 'n' || *v == 'N') ? ' ' : *v);
		} else if ((unsigned char)*v < 0x20 || *v == 0x7f)
			buf_addc(&b, ' ');
		else
			buf_addc(&b, *v);
	}
	s = buf_steal(&b);
	clean = utf8_sanitize(s, strlen(s));
	free(s);
	s = utf8_truncate(clean, ICS_MAX_SUMMARY);
	free(clean);
	return s;
}

static int
ics_number(const char *v, size_t len, int max, int *out)
{
	int n = 0;
	size_t i;

	if (len == 0 || len > 6)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	if (n < 1 || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
ics_rrule(struct ics_parser *p, const char *v)
{
	const char *part, *eq, *end;
	char date[9];
	size_t klen, vlen;
	int n, freq = 0, bymonth = 0, bymonthday = 0, timed;
	long dn;

	p->ev.interval = 1;
	p->ev.count = 0;
	p->ev.until = LONG_MAX;
	for (part = v; *part != '\0'; part = *end ? end + 1 : end) {
		end = strchr(part, ';');
		if (end == NULL)
			end = part + strlen(part);
		eq = memchr(part, '=', (size_t)(end - part));
		if (eq == NULL)
			return ics_fail(p, "RRULE: malformed");
		klen = (size_t)(eq - part);
		vlen = (size_t)(end - eq - 1);
		eq++;
#define KEY(k) (klen == sizeof(k) - 1 && strncasecmp(part, k, klen) == 0)
		if (KEY("FREQ")) {
			if (vlen != 6 || strncasecmp(eq, "YEARLY", 6) != 0)
				return ics_fail(p, "RRULE: only FREQ=YEARLY is supported");
			freq = 1;
		} else if (KEY("INTERVAL")) {
			if (ics_number(eq, vlen, 100, &p->ev.interval) == -1)
				return ics_fail(p, "RRULE: bad INTERVAL");
		} else if (KEY("COUNT")) {
			if (ics_number(eq, vlen, 10000, &p->ev.count) == -1)
				return ics_fail(p, "RRULE: bad COUNT");
		} else if (KEY("UNTIL")) {
			if (vlen < 8 || vlen > 16)
				return ics_fail(p, "RRULE: bad UNTIL");
			memcpy(date, eq, 8);
			date[8] = '\0';
			if (ics_date(date, &dn, &timed) == -1 ||
			    (vlen > 8 && eq[8] != 'T'))
				return ics_fail(p, "RRULE: bad UNTIL");
			p->ev.until = dn;
		} else if (KEY("BYMONTH")) {
			if (ics_number(eq, vlen, 12, &n) == -1)
				return ics_fail(p, "RRULE: bad BYMONTH");
			bymonth = n;
		} else if (KEY("BYMONTHDAY")) {
			if (ics_number(eq, vlen, 31, &n) == -1)
				return ics_fail(p, "RRULE: bad BYMONTHDAY");
			bymonthday = n;
		} else if (KEY("WKST")) {
			/* no effect on a yearly fixed date */
		} else
			return ics_fail(p, "RRULE: only FREQ=YEARLY on a fixed date "
			    "is supported (no BYDAY, BYWEEKNO, ...)");
#undef KEY
	}
	if (!freq)
		return ics_fail(p, "RRULE: FREQ missing");
	p->ev.yearly = 1;
	/* Checked against DTSTART when the event ends (order is free). */
	p->ev.bymonth = bymonth;
	p->ev.bymonthday = bymonthday;
	return 0;
}

/* PnD or PnW. */
static int
ics_duration(struct ics_parser *p, const char *v)
{
	size_t len = strlen(v);
	int n;

	if (len < 3 || v[0] != 'P' || (v[len - 1] != 'D' && v[len - 1] != 'W') ||
	    ics_number(v + 1, len - 2, ICS_MAX_EVENT_DAYS, &n) == -1)
		return ics_fail(p, "DURATION: only PnD or PnW is supported");
	p->ev.duration = v[len - 1] == 'W' ? 7L * n : n;
	return 0;
}

static int
ics_event_end(struct ics_parser *p)
{
	struct ics_event *e = &p->ev;
	struct calendar *cal = p->cal;
	const char *name;
	long ndays, dn;
	int y, m, d, seq;

	if (!e->has_start)
		return ics_fail(p, "VEVENT without DTSTART");
	if (e->timed || e->cancelled) {
		free(e->summary);
		e->summary = NULL;
		return 0;	/* not an all-day closure */
	}
	if (e->has_end)
		ndays = e->end - e->start;
	else if (e->duration > 0)
		ndays = e->duration;
	else
		ndays = 1;
	if (ndays < 1)
		return ics_fail(p, "DTEND must be after DTSTART");
	if (ndays > ICS_MAX_EVENT_DAYS)
		return ics_fail(p, "event longer than 366 days");
	if (++p->nevents > ICS_MAX_EVENTS)
		return ics_fail(p, "too many events");
	name = calendar_keep_name(cal, e->summary != NULL ? e->summary :
	    xstrdup("Closure"));
	e->summary = NULL;
	seq = p->seq++;
	if (e->yearly) {
		int last, k, n;

		civil_from_days(e->start, &y, &m, &d);
		/* COUNT as a last year, once: instances on invalid dates (Feb 29
		 * in other years) are not counted (RFC 5545 3.3.10). */
		last = YEAR_MAX;
		for (k = y, n = 0; e->count > 0 && k <= YEAR_MAX; k += e->interval)
			if (valid_date(k, m, d) && ++n == e->count) {
				last = k;
				break;
			}
		if ((e->bymonth && e->bymonth != m) ||
		    (e->bymonthday && e->bymonthday != d))
			return ics_fail(p, "RRULE: BYMONTH/BYMONTHDAY must match "
			    "DTSTART");
		cal->rules = xreallocarray(cal->rules, cal->nrules + 1,
		    sizeof(*cal->rules));
		cal->rules[cal->nrules++] = (struct yearly_rule){
			.month = m, .day = d, .first_year = y, .ndays = (int)ndays,
			.interval = e->interval, .last_year = last,
			.until = e->until, .seq = seq, .name = name };
		return 0;
	}
	for (dn = e->start; dn < e->start + ndays; dn++)
		calendar_add_date(cal, p->cap, dn, seq, name);
	return 0;
}

/* Split "NAME;PARAMS:VALUE"; quoted parameter values may hold ':'. */
static int
ics_split(char *line, char **name, char **params, char **value)
{
	char *s;
	int quoted = 0;

	*name = line;
	*params = NULL;
	for (s = line; *s != '\0'; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == ';' && *params == NULL) {
			*s = '\0';
			*params = s + 1;
		} else if (!quoted && *s == ':') {
			*s = '\0';
			*value = s + 1;
			return 0;
		}
	}
	return -1;
}

static int
ics_property(struct ics_parser *p, char *line)
{
	char *name, *params, *value;
	int timed;
	long dn;

	if (ics_split(line, &name, &params, &value) == -1)
		return ics_fail(p, "malformed content line (no ':')");
	if (strcasecmp(name, "BEGIN") == 0) {
		if (p->depth >= ICS_MAX_DEPTH || strlen(value) >= 32)
			return ics_fail(p, "components nested too deep");
		if (p->depth == 0 && strcasecmp(value, "VCALENDAR") != 0)
			return ics_fail(p, "expected BEGIN:VCALENDAR");
		snprintf(p->stack[p->depth++], 32, "%s", value);
		if (strcasecmp(value, "VCALENDAR") == 0)
			p->seen_calendar = 1;
		if (strcasecmp(value, "VEVENT") == 0) {
			free(p->ev.summary);
			memset(&p->ev, 0, sizeof(p->ev));
			p->ev.line = p->line;
			p->ev.duration = -1;
			p->ev.interval = 1;
			p->ev.until = LONG_MAX;
		}
		return 0;
	}
	if (strcasecmp(name, "END") == 0) {
		if (p->depth == 0 || strcasecmp(p->stack[p->depth - 1], value) != 0)
			return ics_fail(p, "END does not match BEGIN");
		p->depth--;
		if (strcasecmp(value, "VEVENT") == 0)
			return ics_event_end(p);
		return 0;
	}
	if (p->depth == 0)
		return ics_fail(p, "content outside BEGIN:VCALENDAR");
	if (strcasecmp(p->stack[p->depth - 1], "VEVENT") != 0)
		return 0;	/* VTIMEZONE, VALARM, calendar properties */
	if (strcasecmp(name, "DTSTART") == 0) {
		if (ics_date(value, &dn, &timed) == -1)
			return ics_fail(p, "DTSTART: bad date");
		p->ev.has_start = 1;
		p->ev.timed = timed;
		p->ev.start = dn;
	} else if (strcasecmp(name, "DTEND") == 0) {
		if (ics_date(value, &dn, &timed) == -1)
			return ics_fail(p, "DTEND: bad date");
		p->ev.has_end = 1;
		p->ev.end = dn;
		if (timed && p->ev.has_start && !p->ev.timed)
			return ics_fail(p, "DTEND must be a DATE when DTSTART is");
	} else if (strcasecmp(name, "DURATION") == 0) {
		if (!p->ev.timed)
			return ics_duration(p, value);
	} else if (strcasecmp(name, "SUMMARY") == 0) {
		free(p->ev.summary);
		p->ev.summary = ics_text(value);
	} else if (strcasecmp(name, "STATUS") == 0) {
		p->ev.cancelled = strcasecmp(value, "CANCELLED") == 0;
	} else if (strcasecmp(name, "RRULE") == 0) {
		return ics_rrule(p, value);
	}
	(void)params;
	return 0;
}

static int
calendar_load_ics(struct calendar *cal, size_t *cap, const char *file,
    int first_seq, char *err, size_t errlen)
{
	struct ics_parser p;
	struct buf logical;
	char *data, *s, *eol;
	size_t len, plen;
	int lineno = 0, rc = 0;

	if (read_file(file, ICS_MAX_BYTES, &data, &len) == -1) {
		snprintf(err, errlen, "%s:0: cannot read: %s", file,
		    errno == EFBIG ? "larger than 4 MiB" : strerror(errno));
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.cal = cal;
	p.cap = cap;
	p.file = file;
	p.seq = first_seq;
	p.err = err;
	p.errlen = errlen;
	buf_init(&logical, ICS_MAX_LINE);
	buf_addstr(&logical, "");
	s = data;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;		/* a UTF-8 byte order mark, as some exporters write */
	for (; rc == 0 && s < data + len; s = eol + 1) {
		eol = memchr(s, '\n', (size_t)(data + len - s));
		if (eol == NULL)
			eol = data + len;
		plen = (size_t)(eol - s);
		if (plen > 0 && s[plen - 1] == '\r')
			plen--;
		lineno++;
		if (memchr(s, '\0', plen) != NULL) {
			p.line = lineno;
			rc = ics_fail(&p, "NUL byte");
			break;
		}
		/* Unfolding: a line starting with a space or tab continues. */
		if (plen > 0 && (s[0] == ' ' || s[0] == '\t') && logical.len > 0) {
			if (buf_add(&logical, s + 1, plen - 1) == -1) {
				rc = ics_fail(&p, "line too long");
				break;
			}
			continue;
		}
		if (logical.len > 0)
			rc = ics_property(&p, logical.data);
		buf_reset(&logical);
		buf_addstr(&logical, "");
		p.line = lineno;
		if (rc == 0 && buf_add(&logical, s, plen) == -1)
			rc = ics_fail(&p, "line too long");
	}
	if (rc == 0 && logical.len > 0)
		rc = ics_property(&p, logical.data);
	if (rc == 0 && !p.seen_calendar) {
		p.line = lineno;
		rc = ics_fail(&p, "not an iCalendar file (no BEGIN:VCALENDAR)");
	}
	if (rc == 0 && p.depth != 0) {
		p.line = lineno;
		rc = ics_fail(&p, "missing END:VCALENDAR");
	}
	free(p.ev.summary);
	buf_free(&logical);
	free(data);
	return rc;
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
