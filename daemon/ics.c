/* SPDX-License-Identifier: MIT */
/*
 * ics.c: the iCalendar holiday reader (ics.h): content lines unfolded,
 * components nested at most ICS_MAX_DEPTH deep, every value checked, every
 * error "FILE:LINE: what".  It keeps only what a closed-date calendar
 * needs; calendar.c turns the closures into its dates and yearly rules.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ics.h"
#include "util.h"

#define ICS_MAX_LINE		8192
#define ICS_MAX_EVENTS		10000
#define ICS_MAX_DEPTH		16
#define ICS_MAX_EVENT_DAYS	366
#define ICS_MAX_SUMMARY		200
#define YEAR_MIN		1000
#define YEAR_MAX		9999

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
	struct ics_closures *out;
	size_t		 cap;
	const char	*file;
	int		 line;		/* line where the logical line starts */
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
	if (y < YEAR_MIN || !civil_valid(y, m, d))
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
	struct ics_closure c;
	long ndays;
	int y, m, d;

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
	memset(&c, 0, sizeof(c));
	c.start = e->start;
	c.ndays = (int)ndays;
	c.until = LONG_MAX;
	if (e->yearly) {
		int k, n;

		civil_from_days(e->start, &y, &m, &d);
		/* COUNT as a last year, once: instances on invalid dates (Feb 29
		 * in other years) are not counted (RFC 5545 3.3.10). */
		for (k = y, n = 0; e->count > 0 && k <= YEAR_MAX; k += e->interval)
			if (civil_valid(k, m, d) && ++n == e->count) {
				c.last_year = k;
				break;
			}
		if ((e->bymonth && e->bymonth != m) ||
		    (e->bymonthday && e->bymonthday != d))
			return ics_fail(p, "RRULE: BYMONTH/BYMONTHDAY must match "
			    "DTSTART");
		c.yearly = 1;
		c.interval = e->interval;
		c.until = e->until;
	}
	c.name = e->summary != NULL ? e->summary : xstrdup("Closure");
	e->summary = NULL;
	if (p->out->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->out->v = xreallocarray(p->out->v, p->cap, sizeof(*p->out->v));
	}
	p->out->v[p->out->n++] = c;
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

int
ics_parse(const char *data, size_t len, const char *file,
    struct ics_closures *out, char *err, size_t errlen)
{
	struct ics_parser p;
	struct buf logical;
	const char *s, *eol;
	size_t plen;
	int lineno = 0, rc = 0;

	if (data == NULL)
		data = "", len = 0;
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.out = out;
	p.file = file;
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
	if (rc != 0)
		ics_closures_free(out);
	return rc;
}

void
ics_closures_free(struct ics_closures *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

