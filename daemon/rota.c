/* SPDX-License-Identifier: MIT */
/*
 * rota.c: the on-call rota (rota.h) with libical.  libical parses the file
 * and iterates the RRULEs; everything it does not judge (a shift without a
 * person, a zone it does not know, an end before the start) is checked
 * here, and its own X-LIC-ERROR properties are turned into FILE:LINE
 * messages.  The parsed calendar is kept for the rota's life: the times
 * point into its VTIMEZONEs.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "rota.h"
#include "rota_p.h"
#include "util.h"

#define ROTA_MAX_EVENTS		10000
#define ROTA_MAX_ITER		500000	/* instances walked per rule, query */

/*
 * Queries are made from two threads: intaked's main loop (escalation, gap
 * alerts) and the HTTP listener's (the first alert of a pushed message
 * pages the people on call).  libical expands a zone's transitions lazily
 * into the zone itself (the built-in zones are shared), so the expansion
 * of instances is one thread at a time.
 */
static pthread_mutex_t query_lock = PTHREAD_MUTEX_INITIALIZER;

struct rota_person {
	char		*name;
	char		*email;
	char		*webhook;
};

struct rota_date {		/* an EXDATE or a RECURRENCE-ID */
	time_t		 t;
	int		 ymd;		/* a DATE: yyyymmdd, else 0 */
};

struct rota_event {
	int		 line;
	struct icaltimetype dtstart;	/* wall clock, with its zone */
	const icaltimezone *zone;	/* of dtstart (office zone if floating) */
	long		 wall_len;	/* seconds of wall clock */
	long		 exact_len;	/* seconds added after (DURATION hours) */
	struct icalrecurrencetype *rules;
	size_t		 nrules;
	struct rota_date *ex;
	size_t		 nex;
	time_t		*rstart;	/* RDATEs; rend 0: the event's length */
	time_t		*rend;
	size_t		 nrdate;
	struct rota_person *who;
	size_t		 nwho;
};

struct rota {
	icalcomponent	*cal;
	struct rota_event *ev;
	size_t		 nev;
};

struct parse {
	const char	*file;
	const char	*text;		/* NUL-terminated copy */
	int		*vevent_line;	/* line of the n-th BEGIN:VEVENT */
	size_t		 nvevent;
	int		 vcal_line;
	struct buf	 err;
	int		 nerr;
	icalcomponent	*cal;
	icaltimezone	*office;
	const struct oncall_person *people;
	size_t		 npeople;
};

static void perr(struct parse *, int, const char *, ...) ATTR_PRINTF(3, 4);

static void
perr(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *esc;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	esc = str_escape(msg, 300);
	buf_addf(&p->err, "%s%s:%d: %s", p->nerr ? "\n" : "", p->file, line,
	    esc);
	free(esc);
	free(msg);
	p->nerr++;
}

/* Where each BEGIN:VEVENT starts (physical lines, folding kept), so a
 * component libical returns can be named by its line. */
static void
scan_lines(struct parse *p)
{
	const char *s = p->text, *e;
	size_t cap = 0;
	int line = 1;

	for (; *s; line++) {
		e = strchr(s, '\n');
		if (strncasecmp(s, "BEGIN:VEVENT", 12) == 0 &&
		    (s[12] == '\r' || s[12] == '\n' || s[12] == '\0' ||
		    s[12] == ' ')) {
			if (p->nvevent == cap) {
				cap = cap ? cap * 2 : 16;
				p->vevent_line = xreallocarray(p->vevent_line,
				    cap, sizeof(int));
			}
			p->vevent_line[p->nvevent++] = line;
		} else if (p->vcal_line == 0 &&
		    strncasecmp(s, "BEGIN:VCALENDAR", 15) == 0)
			p->vcal_line = line;
		if (e == NULL)
			break;
		s = e + 1;
	}
	if (p->vcal_line == 0)
		p->vcal_line = 1;
}

/* The line holding needle at or after line `from` (0 when none), to place
 * one of libical's errors more exactly than its component. */
static int
find_line(const struct parse *p, int from, int upto, const char *needle)
{
	const char *s = p->text, *e;
	size_t n = strlen(needle);
	int line = 1;

	if (n < 3)
		return 0;
	for (; *s; line++) {
		e = strchr(s, '\n');
		if (line >= from && (upto == 0 || line < upto)) {
			size_t len = e ? (size_t)(e - s) : strlen(s);
			const char *h = memmem(s, len, needle, n);

			if (h != NULL)
				return line;
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
	return 0;
}

/* libical's complaints in comp (X-LIC-ERROR), each at the best line. */
static void
lic_errors(struct parse *p, icalcomponent *comp, int line, int next_line)
{
	icalproperty *pr;
	const char *msg, *tail;
	int at;

	for (pr = icalcomponent_get_first_property(comp, ICAL_XLICERROR_PROPERTY);
	    pr; pr = icalcomponent_get_next_property(comp,
	    ICAL_XLICERROR_PROPERTY)) {
		msg = icalproperty_get_xlicerror(pr);
		if (msg == NULL)
			msg = "malformed";
		/* "...: <the offending text>": find that text. */
		tail = strrchr(msg, ':');
		at = 0;
		if (tail && tail[1] == ' ')
			at = find_line(p, line, next_line, tail + 2);
		perr(p, at ? at : line, "%s", msg);
	}
}

static const icaltimezone *
zone_of(struct parse *p, icalproperty *pr, int line, const char *what)
{
	icalparameter *pa = icalproperty_get_first_parameter(pr,
	    ICAL_TZID_PARAMETER);
	const char *tzid;
	icaltimezone *z;

	if (pa == NULL)
		return NULL;
	tzid = icalparameter_get_tzid(pa);
	if (tzid == NULL)
		tzid = "";
	z = icalcomponent_get_timezone(p->cal, tzid);
	if (z == NULL)
		z = icaltimezone_get_builtin_timezone_from_tzid(tzid);
	if (z == NULL)
		z = icaltimezone_get_builtin_timezone(tzid);
	if (z == NULL)
		perr(p, line, "%s: unknown time zone TZID=%s", what, tzid);
	return z;
}

/* A DATE or DATE-TIME value's zone: its TZID, UTC, or the office's. */
static const icaltimezone *
value_zone(struct parse *p, icalproperty *pr, struct icaltimetype tt,
    int line, const char *what, int *bad)
{
	const icaltimezone *z;

	*bad = 0;
	if (icaltime_is_utc(tt))
		return icaltimezone_get_utc_timezone();
	if (icalproperty_get_first_parameter(pr, ICAL_TZID_PARAMETER)) {
		if ((z = zone_of(p, pr, line, what)) == NULL)
			*bad = 1;
		return z;
	}
	return p->office;
}

static time_t
wall_to_time(struct icaltimetype tt, const icaltimezone *z)
{
	tt.is_date = 0;
	return icaltime_as_timet_with_zone(tt, z);
}

/* Wall-clock seconds since the epoch, zone ignored: for lengths. */
static time_t
wall_secs(struct icaltimetype tt)
{
	tt.is_date = 0;
	tt.zone = NULL;
	return icaltime_as_timet(tt);
}

static const struct oncall_person *
person_by(const struct parse *p, const char *name, const char *email)
{
	size_t i;

	for (i = 0; i < p->npeople; i++) {
		if (name && p->people[i].name &&
		    strcasecmp(name, p->people[i].name) == 0)
			return &p->people[i];
		if (email && p->people[i].email) {
			char *a = xstrdup(p->people[i].email), *lt, *gt;

			/* "Maria <maria@x>" or "maria@x" */
			lt = strchr(a, '<');
			gt = lt ? strchr(lt, '>') : NULL;
			if (lt && gt)
				*gt = '\0';
			if (strcasecmp(lt && gt ? lt + 1 : a, email) == 0) {
				free(a);
				return &p->people[i];
			}
			free(a);
		}
	}
	return NULL;
}

static void
add_who(struct rota_event *ev, const char *name, const char *email,
    const char *webhook)
{
	size_t i;

	for (i = 0; i < ev->nwho; i++)
		if (strcasecmp(ev->who[i].name, name) == 0)
			return;
	ev->who = xreallocarray(ev->who, ev->nwho + 1, sizeof(*ev->who));
	ev->who[ev->nwho].name = xstrdup(name);
	ev->who[ev->nwho].email = email ? xstrdup(email) : NULL;
	ev->who[ev->nwho].webhook = webhook ? xstrdup(webhook) : NULL;
	ev->nwho++;
}

static char *
trimmed(const char *s)
{
	const char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

/* ATTENDEE (CN or mailto:) else SUMMARY: who works this shift. */
static void
event_people(struct parse *p, icalcomponent *c, struct rota_event *ev)
{
	const struct oncall_person *pe;
	icalproperty *pr;
	icalparameter *pa;
	const char *v, *cn, *addr;
	char *name;

	for (pr = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	    pr; pr = icalcomponent_get_next_property(c,
	    ICAL_ATTENDEE_PROPERTY)) {
		v = icalproperty_get_attendee(pr);
		pa = icalproperty_get_first_parameter(pr, ICAL_CN_PARAMETER);
		cn = pa ? icalparameter_get_cn(pa) : NULL;
		addr = v && strncasecmp(v, "mailto:", 7) == 0 ? v + 7 : NULL;
		if (addr && (*addr == '\0' || strchr(addr, '@') == NULL ||
		    strpbrk(addr, "\r\n<>,; ") != NULL))
			addr = NULL;
		if ((pe = person_by(p, cn, addr)) != NULL)
			add_who(ev, pe->name, pe->email, pe->webhook);
		else if (addr)
			add_who(ev, cn && *cn ? cn : addr, addr, NULL);
		else
			perr(p, ev->line, "ATTENDEE %s is not in oncall.people "
			    "and has no mailto: address", cn ? cn : v ? v : "?");
	}
	if (ev->nwho || icalcomponent_get_first_property(c,
	    ICAL_ATTENDEE_PROPERTY))
		return;
	v = icalcomponent_get_summary(c);
	if (v == NULL || *v == '\0') {
		perr(p, ev->line, "shift names nobody (no ATTENDEE, no SUMMARY)");
		return;
	}
	name = trimmed(v);
	if ((pe = person_by(p, name, name)) != NULL)
		add_who(ev, pe->name, pe->email, pe->webhook);
	else
		perr(p, ev->line, "SUMMARY '%s' names nobody in oncall.people",
		    name);
	free(name);
}

static void
event_length(struct parse *p, icalcomponent *c, struct rota_event *ev)
{
	icalproperty *pr;
	struct icaltimetype end;
	struct icaldurationtype d;
	int bad;

	if ((pr = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY))) {
		end = icalproperty_get_dtend(pr);
		if (icaltime_is_null_time(end)) {
			perr(p, ev->line, "DTEND is not a date or time");
			return;
		}
		/* The end's wall clock in the start's zone. */
		if (!end.is_date) {
			const icaltimezone *z = value_zone(p, pr, end, ev->line,
			    "DTEND", &bad);
			if (bad)
				return;
			end = icaltime_convert_to_zone(icaltime_set_timezone(
			    &end, z), (icaltimezone *)ev->zone);
		}
		ev->wall_len = (long)(wall_secs(end) - wall_secs(ev->dtstart));
	} else if ((pr = icalcomponent_get_first_property(c,
	    ICAL_DURATION_PROPERTY))) {
		d = icalproperty_get_duration(pr);
		if (icaldurationtype_is_bad_duration(d) || d.is_neg) {
			perr(p, ev->line, "DURATION is not a positive duration");
			return;
		}
		ev->wall_len = ((long)d.weeks * 7 + d.days) * 86400L;
		ev->exact_len = (long)d.hours * 3600 + d.minutes * 60 +
		    d.seconds;
	} else if (ev->dtstart.is_date)
		ev->wall_len = 86400;	/* RFC 5545: an all-day event */
	else {
		perr(p, ev->line, "shift has no DTEND or DURATION");
		return;
	}
	if (ev->wall_len + ev->exact_len <= 0)
		perr(p, ev->line, "shift ends before it starts");
}

static void
event_rules(struct parse *p, icalcomponent *c, struct rota_event *ev)
{
	struct icalrecurrencetype r;
	icalproperty *pr;

	for (pr = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
	    pr; pr = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
		r = icalproperty_get_rrule(pr);
		if (r.freq == ICAL_NO_RECURRENCE) {
			perr(p, ev->line, "RRULE is malformed");
			continue;
		}
		if (r.freq == ICAL_SECONDLY_RECURRENCE ||
		    r.freq == ICAL_MINUTELY_RECURRENCE) {
			perr(p, ev->line, "RRULE: a shift recurs at most hourly");
			continue;
		}
		ev->rules = xreallocarray(ev->rules, ev->nrules + 1,
		    sizeof(*ev->rules));
		ev->rules[ev->nrules++] = r;
	}
}

static int
ymd(struct icaltimetype t)
{
	return t.year * 10000 + t.month * 100 + t.day;
}

static void
add_date(struct rota_date **v, size_t *n, struct icaltimetype t,
    const icaltimezone *z)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].ymd = t.is_date ? ymd(t) : 0;
	(*v)[*n].t = t.is_date ? 0 : wall_to_time(t, z);
	(*n)++;
}

static void
event_dates(struct parse *p, icalcomponent *c, struct rota_event *ev)
{
	struct icaldatetimeperiodtype rd;
	struct icaltimetype t;
	const icaltimezone *z;
	icalproperty *pr;
	int bad;

	for (pr = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
	    pr; pr = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		t = icalproperty_get_exdate(pr);
		z = value_zone(p, pr, t, ev->line, "EXDATE", &bad);
		if (icaltime_is_null_time(t))
			perr(p, ev->line, "EXDATE is not a date or time");
		else if (!bad)
			add_date(&ev->ex, &ev->nex, t, z);
	}
	for (pr = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
	    pr; pr = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
		rd = icalproperty_get_rdate(pr);
		t = icaltime_is_null_time(rd.time) ? rd.period.start : rd.time;
		if (icaltime_is_null_time(t)) {
			perr(p, ev->line, "RDATE is not a date, time or period");
			continue;
		}
		z = value_zone(p, pr, t, ev->line, "RDATE", &bad);
		if (bad)
			continue;
		ev->rstart = xreallocarray(ev->rstart, ev->nrdate + 1,
		    sizeof(time_t));
		ev->rend = xreallocarray(ev->rend, ev->nrdate + 1,
		    sizeof(time_t));
		ev->rstart[ev->nrdate] = wall_to_time(t, z);
		ev->rend[ev->nrdate] = 0;
		if (!icaltime_is_null_time(rd.period.end))
			ev->rend[ev->nrdate] = wall_to_time(rd.period.end, z);
		else if (!icaldurationtype_is_null_duration(rd.period.duration))
			ev->rend[ev->nrdate] = ev->rstart[ev->nrdate] +
			    icaldurationtype_as_int(rd.period.duration);
		if (ev->rend[ev->nrdate] && ev->rend[ev->nrdate] <=
		    ev->rstart[ev->nrdate])
			perr(p, ev->line, "RDATE period ends before it starts");
		ev->nrdate++;
	}
}

static void
event_free(struct rota_event *ev)
{
	size_t i;

	for (i = 0; i < ev->nwho; i++) {
		free(ev->who[i].name);
		free(ev->who[i].email);
		free(ev->who[i].webhook);
	}
	free(ev->who);
	free(ev->rules);
	free(ev->ex);
	free(ev->rstart);
	free(ev->rend);
}

/* One VEVENT; 0 when it is a shift to keep, -1 when skipped. */
static int
load_event(struct parse *p, icalcomponent *c, int line, int next_line,
    struct rota_event *ev)
{
	icalproperty *pr;
	int nerr = p->nerr, bad;

	memset(ev, 0, sizeof(*ev));
	ev->line = line;
	lic_errors(p, c, line, next_line);
	if (icalcomponent_get_status(c) == ICAL_STATUS_CANCELLED)
		return -1;
	pr = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	if (pr == NULL) {
		perr(p, line, "shift has no DTSTART");
		return -1;
	}
	ev->dtstart = icalproperty_get_dtstart(pr);
	if (icaltime_is_null_time(ev->dtstart) ||
	    !icaltime_is_valid_time(ev->dtstart)) {
		perr(p, line, "DTSTART is not a date or time");
		return -1;
	}
	ev->zone = value_zone(p, pr, ev->dtstart, line, "DTSTART", &bad);
	if (bad)
		return -1;
	if (ev->dtstart.is_date) {
		/* an all-day shift: midnight to midnight, office zone */
		ev->dtstart.is_date = 0;
		ev->dtstart.hour = ev->dtstart.minute = ev->dtstart.second = 0;
		ev->dtstart.is_date = 1;
	}
	icaltime_set_timezone(&ev->dtstart, ev->zone);
	event_length(p, c, ev);
	event_rules(p, c, ev);
	event_dates(p, c, ev);
	event_people(p, c, ev);
	return p->nerr == nerr ? 0 : -1;
}

/* A RECURRENCE-ID event replaces that instance of its UID's master. */
static void
apply_overrides(struct parse *p, struct rota *r, icalcomponent **comps)
{
	icalproperty *pr;
	struct icaltimetype t;
	const icaltimezone *z;
	const char *uid, *muid;
	size_t i, k;
	int bad;

	for (i = 0; i < r->nev; i++) {
		pr = icalcomponent_get_first_property(comps[i],
		    ICAL_RECURRENCEID_PROPERTY);
		uid = icalcomponent_get_uid(comps[i]);
		if (pr == NULL || uid == NULL)
			continue;
		t = icalproperty_get_recurrenceid(pr);
		z = value_zone(p, pr, t, r->ev[i].line, "RECURRENCE-ID", &bad);
		if (bad || icaltime_is_null_time(t))
			continue;
		for (k = 0; k < r->nev; k++) {
			muid = icalcomponent_get_uid(comps[k]);
			if (k == i || muid == NULL || strcmp(uid, muid) != 0 ||
			    icalcomponent_get_first_property(comps[k],
			    ICAL_RECURRENCEID_PROPERTY))
				continue;
			add_date(&r->ev[k].ex, &r->ev[k].nex, t, z);
		}
	}
}

static void	free_rota(struct rota *);

static struct rota *
parse_rota(const char *buf, size_t len, const char *file, const char *zone,
    const struct oncall_person *people, size_t npeople, char **err)
{
	struct parse p;
	struct rota *r;
	icalcomponent *c, **comps = NULL;
	size_t k = 0;
	int next;

	*err = NULL;
	memset(&p, 0, sizeof(p));
	buf_init(&p.err, 0);
	p.file = file ? file : "rota";
	p.people = people;
	p.npeople = npeople;
	r = xcalloc(1, sizeof(*r));
	if (len > ROTA_MAX_BYTES) {
		perr(&p, 1, "larger than %d bytes", ROTA_MAX_BYTES);
		goto fail;
	}
	if (memchr(buf, '\0', len) != NULL) {
		perr(&p, 1, "holds a NUL byte: not an iCalendar text file");
		goto fail;
	}
	p.text = xstrndup(buf, len);
	scan_lines(&p);
	p.office = icaltimezone_get_builtin_timezone(zone ? zone :
	    "America/New_York");
	if (p.office == NULL) {
		perr(&p, 1, "office time zone %s unknown to libical",
		    zone ? zone : "?");
		goto fail;
	}
	icalerror_set_errors_are_fatal(0);
	icalerror_clear_errno();
	p.cal = icalparser_parse_string(p.text);
	if (p.cal == NULL ||
	    icalcomponent_isa(p.cal) != ICAL_VCALENDAR_COMPONENT) {
		perr(&p, p.vcal_line, "not an iCalendar file (no "
		    "BEGIN:VCALENDAR ... END:VCALENDAR)");
		goto fail;
	}
	r->cal = p.cal;
	lic_errors(&p, p.cal, p.vcal_line, p.nvevent ? p.vevent_line[0] : 0);
	for (c = icalcomponent_get_first_component(p.cal, ICAL_VEVENT_COMPONENT);
	    c; c = icalcomponent_get_next_component(p.cal,
	    ICAL_VEVENT_COMPONENT), k++) {
		int line = k < p.nvevent ? p.vevent_line[k] : p.vcal_line;

		if (r->nev == ROTA_MAX_EVENTS) {
			perr(&p, line, "more than %d shifts", ROTA_MAX_EVENTS);
			break;
		}
		next = k + 1 < p.nvevent ? p.vevent_line[k + 1] : 0;
		r->ev = xreallocarray(r->ev, r->nev + 1, sizeof(*r->ev));
		comps = xreallocarray(comps, r->nev + 1, sizeof(*comps));
		if (load_event(&p, c, line, next, &r->ev[r->nev]) == 0)
			comps[r->nev++] = c;
		else
			event_free(&r->ev[r->nev]);
	}
	if (p.nerr == 0)
		apply_overrides(&p, r, comps);
	free(comps);
	if (p.nerr)
		goto fail;
	free(p.vevent_line);
	free((char *)p.text);
	buf_free(&p.err);
	return r;
fail:
	*err = buf_steal(&p.err);
	free(p.vevent_line);
	free((char *)p.text);
	if (r->cal == NULL && p.cal)
		icalcomponent_free(p.cal);
	free_rota(r);
	return NULL;
}

struct rota *
rota_parse(const char *buf, size_t len, const char *file, const char *zone,
    const struct oncall_person *people, size_t npeople, char **err)
{
	struct rota *r;

	pthread_mutex_lock(&query_lock);
	r = parse_rota(buf, len, file, zone, people, npeople, err);
	pthread_mutex_unlock(&query_lock);
	return r;
}

struct rota *
rota_load(const struct config *cfg, char **err)
{
	struct rota *r;
	char *data;
	size_t len;

	*err = NULL;
	if (cfg->oncall_rota == NULL) {
		*err = xstrdup("no oncall.rota configured");
		return NULL;
	}
	if (read_file(cfg->oncall_rota, ROTA_MAX_BYTES, &data, &len) == -1) {
		*err = xasprintf("%s: cannot read: %s", cfg->oncall_rota,
		    strerror(errno));
		return NULL;
	}
	r = rota_parse(data, len, cfg->oncall_rota, cfg->timezone,
	    cfg->oncall_people, cfg->oncall_npeople, err);
	free(data);
	return r;
}

static void
free_rota(struct rota *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nev; i++)
		event_free(&r->ev[i]);
	free(r->ev);
	if (r->cal)
		icalcomponent_free(r->cal);
	free(r);
}

void
rota_free(struct rota *r)
{
	pthread_mutex_lock(&query_lock);
	free_rota(r);
	pthread_mutex_unlock(&query_lock);
}

size_t
rota_nevents(const struct rota *r)
{
	return r ? r->nev : 0;
}

/* ---- instances ------------------------------------------------------ */

struct collect {
	time_t		 from, to;
	size_t		 max;
	struct rota_shift *v;
	size_t		 n;
};

static int
excluded(const struct rota_event *ev, struct icaltimetype wall, time_t t)
{
	size_t i;

	for (i = 0; i < ev->nex; i++)
		if (ev->ex[i].ymd ? ev->ex[i].ymd == ymd(wall) : ev->ex[i].t == t)
			return 1;
	return 0;
}

static void
emit(struct collect *c, const struct rota_event *ev, time_t s, time_t e)
{
	size_t i;

	if (e <= c->from || s >= c->to)
		return;
	for (i = 0; i < ev->nwho && c->n < c->max; i++) {
		c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
		c->v[c->n].start = s;
		c->v[c->n].end = e;
		c->v[c->n].name = ev->who[i].name;
		c->v[c->n].email = ev->who[i].email;
		c->v[c->n].webhook = ev->who[i].webhook;
		c->v[c->n].line = ev->line;
		c->n++;
	}
}

/* The instance starting at wall clock `wall` in the event's zone. */
static void
emit_wall(struct collect *c, const struct rota_event *ev,
    struct icaltimetype wall)
{
	struct icaltimetype end;
	time_t s, e;

	wall.is_date = 0;
	icaltime_set_timezone(&wall, ev->zone);
	s = wall_to_time(wall, ev->zone);
	if (excluded(ev, wall, s))
		return;
	end = icaltime_add(wall, icaldurationtype_from_int((int)ev->wall_len));
	e = wall_to_time(end, ev->zone) + ev->exact_len;
	emit(c, ev, s, e);
}

static int
seen_start(const struct collect *c, const struct rota_event *ev, time_t s)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].start == s && c->v[i].line == ev->line)
			return 1;
	return 0;
}

static void
expand(struct collect *c, const struct rota_event *ev)
{
	icalrecur_iterator *it;
	struct icaltimetype t;
	long span = ev->wall_len + ev->exact_len + 2 * 86400;
	size_t i, k;

	if (ev->nrules == 0)
		emit_wall(c, ev, ev->dtstart);
	for (i = 0; i < ev->nrules; i++) {
		if ((it = icalrecur_iterator_new(ev->rules[i], ev->dtstart)) ==
		    NULL)
			continue;
		for (k = 0; k < ROTA_MAX_ITER; k++) {
			t = icalrecur_iterator_next(it);
			if (icaltime_is_null_time(t))
				break;
			/* A day either side covers any zone offset. */
			if (wall_secs(t) - 86400 >= c->to)
				break;
			if (wall_secs(t) + span < c->from)
				continue;
			if (i > 0 && seen_start(c, ev, wall_to_time(t, ev->zone)))
				continue;
			emit_wall(c, ev, t);
		}
		icalrecur_iterator_free(it);
	}
	for (i = 0; i < ev->nrdate; i++) {
		time_t s = ev->rstart[i], e = ev->rend[i];

		if (e == 0) {
			/* the event's length from that wall-clock start */
			t = icaltime_from_timet_with_zone(s, 0, ev->zone);
			emit_wall(c, ev, t);
		} else if (!seen_start(c, ev, s))
			emit(c, ev, s, e);
	}
}

static int
shift_cmp(const void *a, const void *b)
{
	const struct rota_shift *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcasecmp(x->name, y->name);
}

size_t
rota_shifts(const struct rota *r, time_t from, time_t to, size_t max,
    struct rota_shift **out)
{
	struct collect c;
	size_t i;

	*out = NULL;
	if (r == NULL || to <= from || max == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.from = from;
	c.to = to;
	c.max = (size_t)-1;
	pthread_mutex_lock(&query_lock);
	for (i = 0; i < r->nev; i++)
		expand(&c, &r->ev[i]);
	pthread_mutex_unlock(&query_lock);
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), shift_cmp);
	if (c.n > max)
		c.n = max;
	*out = c.v;
	return c.n;
}

size_t
rota_on_call(const struct rota *r, time_t t, struct rota_shift **out)
{
	return rota_shifts(r, t, t + 1, 1000, out);
}

int
rota_gap(const struct rota *r, time_t from, time_t to, time_t *gs, time_t *ge)
{
	struct rota_shift *v;
	time_t covered = from;
	size_t n, i;

	n = rota_shifts(r, from, to, (size_t)-1, &v);
	for (i = 0; i < n && covered < to; i++) {
		if (v[i].start > covered) {
			*gs = covered;
			*ge = v[i].start < to ? v[i].start : to;
			free(v);
			return 1;
		}
		if (v[i].end > covered)
			covered = v[i].end;
	}
	free(v);
	if (covered < to) {
		*gs = covered;
		*ge = to;
		return 1;
	}
	return 0;
}

const struct oncall_person *
rota_person(const struct config *cfg, const char *who)
{
	size_t i;

	if (who == NULL || *who == '\0')
		return NULL;
	for (i = 0; i < cfg->oncall_npeople; i++)
		if (cfg->oncall_people[i].login &&
		    strcmp(cfg->oncall_people[i].login, who) == 0)
			return &cfg->oncall_people[i];
	for (i = 0; i < cfg->oncall_npeople; i++)
		if (cfg->oncall_people[i].name &&
		    strcasecmp(cfg->oncall_people[i].name, who) == 0)
			return &cfg->oncall_people[i];
	return NULL;
}
