/* SPDX-License-Identifier: MIT */
/*
 * remind.c: the reminder report: when to send (office slots, business days),
 * what to send (due tickets not yet reminded today), how it looks (text,
 * HTML, JSON) and what is remembered afterwards (reminders, remind_runs).
 *
 * The tickets are the follow-up list's (report.h: same query, order,
 * groups and rendering, ids shown as "[intake #N]"), less what was already
 * reminded today.  report.c escapes every message-derived string (HTML
 * escaping in the HTML part, no control characters in the text part).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "fmt.h"
#include "log.h"
#include "notify.h"
#include "remind.h"
#include "util.h"


time_t
remind_now(void)
{
	const char *s = getenv("INTAKE_NOW");
	time_t t;

	if (s && *s && iso8601_parse(s, &t) == 0)
		return t;
	return time(NULL);
}

void
remind_report_free(struct remind_report *r)
{
	report_rows_free(&r->rows);
	free(r->due);
	r->due = NULL;
}

/* The latest slot of today at or before now; -1 when none (or not a
 * business day). */
static int
current_slot(const struct calendar *cal, const struct config *cfg, time_t now,
    struct remind_report *r, const char **why)
{
	struct tm tm;
	int minute, best = -1;
	size_t i;

	localtime_r(&now, &tm);
	strftime(r->day, sizeof(r->day), "%Y-%m-%d", &tm);
	if (!calendar_is_business_day(cal, tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday)) {
		*why = "not a business day";
		return -1;
	}
	minute = tm.tm_hour * 60 + tm.tm_min;
	for (i = 0; i < cfg->remind_nat; i++)
		if (cfg->remind_at[i] <= minute && cfg->remind_at[i] > best)
			best = cfg->remind_at[i];
	if (best < 0) {
		*why = "before the first time of remind.at";
		return -1;
	}
	snprintf(r->slot, sizeof(r->slot), "%s %02d:%02d", r->day, best / 60,
	    best % 60);
	return 0;
}

static const struct query q_slot_done = {
	"SELECT 1 FROM remind_runs WHERE slot = ?1", NULL
};

static const struct query q_reminded = {
	"SELECT 1 FROM reminders WHERE ticket_id = ?1 AND kind = ?2 AND "
	"deadline = ?3 AND day = ?4", NULL
};

static const struct query q_reminder = {
	"INSERT INTO reminders (ticket_id, kind, deadline, day, sent_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING", NULL
};

static const struct query q_run = {
	"INSERT INTO remind_runs (slot, sent_at, tickets) VALUES (?1, ?2, ?3) "
	"ON CONFLICT(slot) DO UPDATE SET sent_at = excluded.sent_at, "
	"tickets = excluded.tickets", NULL
};

static int
slot_done(struct store *st, const char *slot, int *done)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_slot_done, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, slot, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	*done = rc == STORE_ROW;
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* Binds the reminder key (ticket, kind, deadline, day) to parameters 1
 * to 4 of s. */
static int
bind_key(struct stmt *s, long long ticket, const char *kind,
    time_t deadline, const char *day)
{
	int rc;

	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, kind, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, (long long)deadline)) == STORE_OK)
		rc = store_bind_text(s, 4, day, (size_t)-1);
	return rc;
}

/* Whether (ticket, kind, deadline) was reminded on day. */
static int
reminded(struct store *st, long long ticket, const char *kind,
    time_t deadline, const char *day, int *yes)
{
	struct stmt *s;
	int rc;

	*yes = 0;
	if ((s = store_prepare(st, &q_reminded, &rc)) == NULL)
		return rc;
	if ((rc = bind_key(s, ticket, kind, deadline, day)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	*yes = rc == STORE_ROW;
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* Keep the rows that are overdue, or due soon and not yet reminded today;
 * set their bits. */
static int
keep_pending(struct store *st, struct remind_report *r, time_t lim)
{
	size_t i, kept = 0;
	int rc = STORE_OK, due, pending, yes;

	r->due = xcalloc(r->rows.n ? r->rows.n : 1, sizeof(*r->due));
	for (i = 0; i < r->rows.n; i++) {
		struct report_row *row = &r->rows.v[i];

		due = pending = 0;
		if (rc == STORE_OK && row->response_due &&
		    row->response_due <= lim) {
			due |= REMIND_RESPONSE;
			rc = reminded(st, row->id, "response_due",
			    row->response_due, r->day, &yes);
			pending |= !yes;
		}
		if (rc == STORE_OK && row->breach_at && row->breach_at <= lim) {
			due |= REMIND_BREACH;
			rc = reminded(st, row->id, "breach_at", row->breach_at,
			    r->day, &yes);
			pending |= !yes;
		}
		/* Overdue or breached: in every slot until answered (nothing
		 * overdue may be missing from a report); only "due soon" is
		 * sent once per deadline per day. */
		if ((row->response_due && row->response_due <= r->now) ||
		    (row->breach_at && row->breach_at <= r->now))
			pending = 1;
		if (rc == STORE_OK && pending) {
			r->rows.v[kept] = *row;
			r->due[kept++] = due;
		} else
			report_row_free(row);
	}
	r->rows.n = kept;
	return rc;
}

/* Open, human, unacknowledged tickets with a deadline within the lead
 * (the follow-up list's query), less those reminded today. */
static int
collect_items(struct store *st, const struct calendar *cal,
    const struct config *cfg, struct remind_report *r)
{
	struct report_filter f;
	time_t lim = r->now + (time_t)cfg->remind_lead_minutes * 60;
	int rc;

	report_filter_init(&f, r->now);
	f.scope = REPORT_DUE_BEFORE;
	f.due_before = lim + 1;		/* the query's bound is strict */
	if ((rc = report_query(st, cal, &f, &r->rows)) != STORE_OK)
		return rc;
	return keep_pending(st, r, lim);
}

int
remind_collect(struct store *st, const struct calendar *cal,
    const struct config *cfg, time_t now, struct remind_report *r,
    const char **why)
{
	int rc, done = 0;

	memset(r, 0, sizeof(*r));
	r->now = now;
	*why = NULL;
	if (current_slot(cal, cfg, now, r, why) == -1)
		return REMIND_NOTHING;
	if ((rc = slot_done(st, r->slot, &done)) != STORE_OK)
		return rc;
	if (done) {
		r->slot[0] = '\0';
		*why = "this slot's report was already sent";
		return REMIND_NOTHING;
	}
	if ((rc = collect_items(st, cal, cfg, r)) != STORE_OK) {
		remind_report_free(r);
		return rc;
	}
	if (r->rows.n == 0) {
		remind_report_free(r);
		*why = "no ticket needs a reminder";
		return REMIND_NOTHING;
	}
	return REMIND_DUE;
}

/* ---- rendering -------------------------------------------------------- */

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* The reminder rendered by render_fn (report_render_text or _html) under
 * the reminder's title, then `footer` (may be NULL).  Caller frees. */
static char *
render(const struct remind_report *r,
    int (*render_fn)(const struct report_rows *, struct buf *,
    const struct report_opts *), const char *footer)
{
	struct report_opts o;
	struct buf b;
	char title[64];

	snprintf(title, sizeof(title), "Intake reminder (%s)", r->slot);
	report_opts_init(&o);
	o.title = title;
	o.intake_tags = 1;
	buf_init(&b, 0);
	(void)render_fn(&r->rows, &b, &o);
	if (footer)
		buf_addstr(&b, footer);
	return buf_steal(&b);
}

char *
remind_text(const struct remind_report *r)
{
	return render(r, report_render_text,
	    "\nAcknowledge with: intake ack N --by NAME\n");
}

char *
remind_html(const struct remind_report *r)
{
	return render(r, report_render_html, NULL);
}

char *
remind_json(const struct remind_report *r)
{
	json_t *o = json_object(), *a = json_array(), *t;
	char *out;
	size_t i;

	json_object_set_new(o, "kind", json_string("report"));
	json_object_set_new(o, "slot", json_string(r->slot));
	json_object_set_new(o, "generated", fmt_json_time(r->now));
	for (i = 0; i < r->rows.n; i++) {
		const struct report_row *it = &r->rows.v[i];

		t = json_object();
		json_object_set_new(t, "ticket", json_integer(it->id));
		json_object_set_new(t, "state", json_string(it->breached ?
		    "breached" : it->overdue ? "overdue" : "due_soon"));
		json_object_set_new(t, "type", json_string(it->type ? it->type :
		    ""));
		json_object_set_new(t, "urgency", json_string(it->urgency ?
		    it->urgency : ""));
		json_object_set_new(t, "minor", json_boolean(it->minor));
		json_object_set_new(t, "danger", json_boolean(it->danger));
		json_object_set_new(t, "received",
		    fmt_json_time(it->received_at));
		json_object_set_new(t, "response_due",
		    fmt_json_time(it->response_due));
		json_object_set_new(t, "breach_at",
		    fmt_json_time(it->breach_at));
		json_array_append_new(a, t);
	}
	json_object_set_new(o, "tickets", a);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

/* The whole multipart/alternative mail to remind.to.  -1 with *err. */
static int
remind_mail(const struct config *cfg, const struct remind_report *r,
    struct buf *m, char **err)
{
	char boundary[64], *subject, *text, *html, *lf;
	int rc;

	subject = xasprintf("[intake] Reminder \xe2\x80\x94 %zu ticket%s need%s "
	    "a response", r->rows.n, plural(r->rows.n), r->rows.n == 1 ? "s" :
	    "");
	rc = notify_mail_head(m, cfg->smtp_from, cfg->remind_to, cfg->remind_nto,
	    subject, "auto-generated", NULL, time(NULL), err);
	free(subject);
	if (rc == -1)
		return -1;
	/* Base64 parts never contain "=_", so the boundary cannot clash. */
	snprintf(boundary, sizeof(boundary), "=_intake_%08x%08x", arc4random(),
	    arc4random());
	lf = remind_text(r);
	text = notify_crlf(lf);
	free(lf);
	lf = remind_html(r);
	html = notify_crlf(lf);
	free(lf);
	buf_addf(m, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
	    "\r\nThis is a message in MIME format.\r\n--%s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", boundary, boundary);
	notify_base64_lines(m, text, strlen(text));
	buf_addf(m, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	notify_base64_lines(m, html, strlen(html));
	buf_addf(m, "--%s--\r\n", boundary);
	free(text);
	free(html);
	return 0;
}

static int
insert_reminder(struct store *st, long long ticket, const char *kind,
    time_t deadline, const char *day, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_reminder, &rc)) == NULL)
		return rc;
	if ((rc = bind_key(s, ticket, kind, deadline, day)) == STORE_OK &&
	    (rc = store_bind_int64(s, 5, (long long)now)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

static int
record_run(struct store *st, const struct remind_report *r)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_run, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, r->slot, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)r->now)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, (long long)r->rows.n)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

int
remind_record(struct store *st, const struct remind_report *r)
{
	size_t i;
	int rc;

	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	for (i = 0; i < r->rows.n && rc == STORE_OK; i++) {
		const struct report_row *it = &r->rows.v[i];

		if (r->due[i] & REMIND_RESPONSE)
			rc = insert_reminder(st, it->id, "response_due",
			    it->response_due, r->day, r->now);
		if (rc == STORE_OK && (r->due[i] & REMIND_BREACH))
			rc = insert_reminder(st, it->id, "breach_at",
			    it->breach_at, r->day, r->now);
	}
	if (rc == STORE_OK)
		rc = record_run(st, r);
	if (rc != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st);
}

/* Send by every configured channel; NOTIFY_OK or the first failure. */
static int
send_report(const struct config *cfg, const struct remind_report *r,
    char **err)
{
	struct buf m;
	char *json, key[64];
	int rc = NOTIFY_OK;

	*err = NULL;
	if (cfg->remind_nto > 0) {
		buf_init(&m, 0);
		if (remind_mail(cfg, r, &m, err) == -1)
			rc = NOTIFY_CONFIG;
		else
			rc = notify_send_mail(cfg, cfg->remind_to,
			    cfg->remind_nto, m.data, m.len, err);
		buf_free(&m);
		if (rc != NOTIFY_OK)
			return rc;
	}
	if (cfg->remind_webhook) {
		json = remind_json(r);
		snprintf(key, sizeof(key), "intake-remind-%s", r->slot);
		key[strcspn(key, " ")] = 'T';
		rc = notify_post_json(cfg, cfg->remind_webhook, json, key, err);
		free(json);
	}
	return rc;
}

int
remind_run(struct store *st, const struct calendar *cal,
    const struct config *cfg, time_t now, int dry_run)
{
	struct remind_report r;
	const char *why;
	char *text, *err = NULL;
	int rc;

	if (!dry_run && cfg->remind_nto == 0 && cfg->remind_webhook == NULL) {
		fprintf(stderr, "intake remind: neither remind.to nor "
		    "remind.webhook is configured\n");
		return EX_CONFIG;
	}
	rc = remind_collect(st, cal, cfg, now, &r, &why);
	if (rc < 0) {
		fprintf(stderr, "intake remind: database: %s\n",
		    store_errmsg(st));
		return EX_TEMPFAIL;
	}
	if (rc == REMIND_NOTHING) {
		if (dry_run)
			printf("nothing to send: %s\n", why);
		/* An open slot with nothing due is closed, so that a later
		 * run of the same slot stays quiet too. */
		else if (r.slot[0] && remind_record(st, &r) != STORE_OK)
			log_warning("remind: cannot record slot %s: %s", r.slot,
			    store_errmsg(st));
		remind_report_free(&r);
		return 0;
	}
	if (dry_run) {
		text = remind_text(&r);
		fputs(text, stdout);
		free(text);
		remind_report_free(&r);
		return 0;
	}
	rc = send_report(cfg, &r, &err);
	if (rc != NOTIFY_OK) {
		fprintf(stderr, "intake remind: not sent (nothing recorded, "
		    "retry later): %s\n", err ? err : "?");
		free(err);
		remind_report_free(&r);
		return EX_TEMPFAIL;
	}
	if (remind_record(st, &r) != STORE_OK) {
		fprintf(stderr, "intake remind: sent, but cannot record it: %s\n",
		    store_errmsg(st));
		remind_report_free(&r);
		return EX_TEMPFAIL;
	}
	log_info("remind: slot %s: %zu ticket%s reminded", r.slot, r.rows.n,
	    plural(r.rows.n));
	remind_report_free(&r);
	return 0;
}
