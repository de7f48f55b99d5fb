/* SPDX-License-Identifier: MIT */
/*
 * remind.c: the reminder report: when to send (office slots, business days),
 * what to send (due tickets not yet reminded today), how it looks (text,
 * HTML, JSON) and what is remembered afterwards (reminders, remind_runs).
 *
 * The rendering is the report's own: the follow-up list module (report.h)
 * was not on main when this was written.  Every string that comes from a
 * message (sender, subject, rationale quotes) is escaped: HTML-escaped in
 * the HTML part, control characters replaced in the text part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "log.h"
#include "notify.h"
#include "remind.h"
#include "util.h"

#define FIELD_MAX	120	/* bytes of a sender, subject, reason shown */

time_t
remind_now(void)
{
	const char *s = getenv("INTAKE_NOW");
	time_t t;

	if (s && *s && iso8601_parse(s, &t) == 0)
		return t;
	return time(NULL);
}

static void
item_free(struct remind_item *it)
{
	free(it->type);
	free(it->urgency);
	free(it->sender);
	free(it->subject);
	free(it->why);
}

void
remind_report_free(struct remind_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		item_free(&r->items[i]);
	free(r->items);
	r->items = NULL;
	r->n = 0;
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

static int
slot_done(struct store *st, const char *slot, int *done)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(store_db(st), "SELECT 1 FROM remind_runs WHERE "
	    "slot = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, slot, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	*done = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK :
	    store_classify(rc);
}

/* Whether (ticket, kind, deadline) was reminded on day. */
static int
reminded(sqlite3_stmt *q, long long ticket, const char *kind, time_t deadline,
    const char *day, int *yes)
{
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, ticket);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)deadline);
	sqlite3_bind_text(q, 4, day, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	*yes = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK :
	    store_classify(rc);
}

static char *
col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* The first entry of a rationale JSON array, or NULL. */
static char *
first_reason(const char *json)
{
	json_t *a;
	const char *s;
	char *out = NULL;

	if (json == NULL || (a = json_loads(json, 0, NULL)) == NULL)
		return NULL;
	if ((s = json_string_value(json_array_get(a, 0))) != NULL)
		out = xstrdup(s);
	json_decref(a);
	return out;
}

static void
add_item(struct remind_report *r, size_t *cap, sqlite3_stmt *s, int due)
{
	struct remind_item *it;
	char *rat;

	if (r->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		r->items = xreallocarray(r->items, *cap, sizeof(*r->items));
	}
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->ticket = sqlite3_column_int64(s, 0);
	it->type = col_str(s, 1);
	it->urgency = col_str(s, 2);
	it->minor = sqlite3_column_int(s, 3);
	it->danger = sqlite3_column_int(s, 4);
	it->received_at = (time_t)sqlite3_column_int64(s, 5);
	it->response_due = (time_t)sqlite3_column_int64(s, 6);
	it->breach_at = (time_t)sqlite3_column_int64(s, 7);
	it->sender = col_str(s, 8);
	it->subject = col_str(s, 9);
	rat = col_str(s, 10);
	it->why = first_reason(rat);
	free(rat);
	it->due = due;
}

/* Open, human, unacknowledged tickets with a deadline within the lead. */
static int
collect_items(struct store *st, const struct config *cfg,
    struct remind_report *r)
{
	sqlite3_stmt *s, *q;
	time_t lim = r->now + (time_t)cfg->remind_lead_minutes * 60;
	size_t cap = 0;
	int rc, due, yes, pending;

	rc = sqlite3_prepare_v2(store_db(st), "SELECT id, type, urgency, minor, "
	    "danger, received_at, response_due, breach_at, sender, subject, "
	    "rationale FROM tickets WHERE status = 'open' AND automated = 0 AND "
	    "acknowledged_at IS NULL AND (response_due <= ?1 OR breach_at <= ?1) "
	    "ORDER BY breach_at <= ?2 DESC, breach_at, response_due, id", -1,
	    &s, NULL);
	if (rc != SQLITE_OK)
		return store_classify(rc);
	rc = sqlite3_prepare_v2(store_db(st), "SELECT 1 FROM reminders WHERE "
	    "ticket_id = ? AND kind = ? AND deadline = ? AND day = ?", -1, &q,
	    NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return store_classify(rc);
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)lim);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		due = pending = 0;
		if (sqlite3_column_type(s, 6) != SQLITE_NULL &&
		    sqlite3_column_int64(s, 6) <= lim) {
			due |= REMIND_RESPONSE;
			if ((rc = reminded(q, sqlite3_column_int64(s, 0),
			    "response_due", (time_t)sqlite3_column_int64(s, 6),
			    r->day, &yes)) != STORE_OK)
				break;
			pending |= !yes;
		}
		if (sqlite3_column_type(s, 7) != SQLITE_NULL &&
		    sqlite3_column_int64(s, 7) <= lim) {
			due |= REMIND_BREACH;
			if ((rc = reminded(q, sqlite3_column_int64(s, 0),
			    "breach_at", (time_t)sqlite3_column_int64(s, 7),
			    r->day, &yes)) != STORE_OK)
				break;
			pending |= !yes;
		}
		if (pending)
			add_item(r, &cap, s, due);
	}
	sqlite3_finalize(q);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	return rc < 0 ? rc : store_classify(rc);
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
	if ((rc = collect_items(st, cfg, r)) != STORE_OK) {
		remind_report_free(r);
		return rc;
	}
	if (r->n == 0) {
		*why = "no ticket needs a reminder";
		return REMIND_NOTHING;
	}
	return REMIND_DUE;
}

/* ---- rendering -------------------------------------------------------- */

static void
fmt_local(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0) {
		snprintf(out, len, "-");
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

static void
fmt_span(long secs, char *out, size_t len)
{
	long d, h, m;

	if (secs < 0)
		secs = -secs;
	d = secs / 86400;
	h = secs % 86400 / 3600;
	m = secs % 3600 / 60;
	if (d)
		snprintf(out, len, "%ldd %ldh %02ldm", d, h, m);
	else
		snprintf(out, len, "%ldh %02ldm", h, m);
}

/* "BREACHED", "OVERDUE" or "DUE SOON" and the time to or past it. */
static const char *
item_state(const struct remind_item *it, time_t now, char *span, size_t len)
{
	if (it->breach_at && it->breach_at <= now) {
		fmt_span((long)(now - it->breach_at), span, len);
		return "BREACHED";
	}
	if (it->response_due && it->response_due <= now) {
		fmt_span((long)(now - it->response_due), span, len);
		return "OVERDUE";
	}
	fmt_span((long)((it->response_due ? it->response_due : it->breach_at) -
	    now), span, len);
	return "DUE SOON";
}

/* A message-derived string for the text part: shortened, no controls. */
static char *
text_clean(const char *s)
{
	char *t;
	size_t i;

	t = utf8_truncate(s ? s : "", FIELD_MAX);
	for (i = 0; t[i]; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			t[i] = ' ';
	return t;
}

static void
html_add(struct buf *b, const char *s)
{
	char *t = text_clean(s);
	const char *p;

	for (p = t; *p; p++) {
		switch (*p) {
		case '&':
			buf_addstr(b, "&amp;");
			break;
		case '<':
			buf_addstr(b, "&lt;");
			break;
		case '>':
			buf_addstr(b, "&gt;");
			break;
		case '"':
			buf_addstr(b, "&quot;");
			break;
		case '\'':
			buf_addstr(b, "&#39;");
			break;
		default:
			buf_addc(b, *p);
		}
	}
	free(t);
}

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

char *
remind_text(const struct remind_report *r)
{
	char recv[32], due[32], breach[32], span[32], *snd, *sub, *why;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_addf(&b, "Intake reminder, %s: %zu ticket%s need%s a response.\n\n",
	    r->slot, r->n, plural(r->n), r->n == 1 ? "s" : "");
	for (i = 0; i < r->n; i++) {
		const struct remind_item *it = &r->items[i];
		const char *st = item_state(it, r->now, span, sizeof(span));

		fmt_local(it->received_at, recv, sizeof(recv));
		fmt_local(it->response_due, due, sizeof(due));
		fmt_local(it->breach_at, breach, sizeof(breach));
		snd = text_clean(it->sender);
		sub = text_clean(it->subject);
		why = text_clean(it->why);
		buf_addf(&b, "[intake #%lld] %s %s %s  %s/%s%s%s\n"
		    "    received %s  response due %s  breach at %s\n"
		    "    from: %s\n    subject: %s\n    why: %s\n\n", it->ticket,
		    st, strcmp(st, "DUE SOON") == 0 ? "in" : "by", span,
		    it->type, it->urgency, it->minor ? " MINOR" : "",
		    it->danger ? " DANGER" : "", recv, due, breach, snd, sub, why);
		free(snd);
		free(sub);
		free(why);
	}
	buf_addstr(&b, "Acknowledge with: intake ack N --by NAME\n");
	return buf_steal(&b);
}

char *
remind_html(const struct remind_report *r)
{
	char recv[32], due[32], breach[32], span[32];
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_addf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>Intake reminder</title></head>\n<body style=\"font-family:"
	    "sans-serif;font-size:14px\">\n<h2 style=\"font-size:16px\">Intake "
	    "reminder, %s: %zu ticket%s</h2>\n<table style=\"border-collapse:"
	    "collapse\" cellpadding=\"4\" border=\"1\">\n<tr><th>Ticket</th>"
	    "<th>State</th><th>Type</th><th>Flags</th><th>Received</th>"
	    "<th>Response due</th><th>Breach at</th><th>Sender</th>"
	    "<th>Subject</th><th>Why</th></tr>\n", r->slot, r->n, plural(r->n));
	for (i = 0; i < r->n; i++) {
		const struct remind_item *it = &r->items[i];
		const char *st = item_state(it, r->now, span, sizeof(span));

		fmt_local(it->received_at, recv, sizeof(recv));
		fmt_local(it->response_due, due, sizeof(due));
		fmt_local(it->breach_at, breach, sizeof(breach));
		buf_addf(&b, "<tr><td>[intake #%lld]</td><td style=\"color:%s\">"
		    "%s %s %s</td><td>", it->ticket, strcmp(st, "DUE SOON") ?
		    "#b00" : "#850", st, strcmp(st, "DUE SOON") == 0 ? "in" : "by",
		    span);
		html_add(&b, it->type);
		buf_addstr(&b, "/");
		html_add(&b, it->urgency);
		buf_addf(&b, "</td><td>%s%s</td><td>%s</td><td>%s</td><td>%s</td>"
		    "<td>", it->minor ? "MINOR " : "", it->danger ? "DANGER" : "",
		    recv, due, breach);
		html_add(&b, it->sender);
		buf_addstr(&b, "</td><td>");
		html_add(&b, it->subject);
		buf_addstr(&b, "</td><td>");
		html_add(&b, it->why);
		buf_addstr(&b, "</td></tr>\n");
	}
	buf_addstr(&b, "</table>\n<p>Acknowledge with: <code>intake ack N --by "
	    "NAME</code></p>\n</body></html>\n");
	return buf_steal(&b);
}

static json_t *
iso_or_null(time_t t)
{
	char iso[40];

	if (t == 0)
		return json_null();
	iso8601_local(t, iso, sizeof(iso));
	return json_string(iso);
}

char *
remind_json(const struct remind_report *r)
{
	json_t *o = json_object(), *a = json_array(), *t;
	char span[32], *out;
	size_t i;

	json_object_set_new(o, "kind", json_string("report"));
	json_object_set_new(o, "slot", json_string(r->slot));
	json_object_set_new(o, "generated", iso_or_null(r->now));
	for (i = 0; i < r->n; i++) {
		const struct remind_item *it = &r->items[i];
		const char *st = item_state(it, r->now, span, sizeof(span));

		t = json_object();
		json_object_set_new(t, "ticket", json_integer(it->ticket));
		json_object_set_new(t, "state", json_string(
		    strcmp(st, "BREACHED") == 0 ? "breached" :
		    strcmp(st, "OVERDUE") == 0 ? "overdue" : "due_soon"));
		json_object_set_new(t, "type", json_string(it->type));
		json_object_set_new(t, "urgency", json_string(it->urgency));
		json_object_set_new(t, "minor", json_boolean(it->minor));
		json_object_set_new(t, "danger", json_boolean(it->danger));
		json_object_set_new(t, "received", iso_or_null(it->received_at));
		json_object_set_new(t, "response_due",
		    iso_or_null(it->response_due));
		json_object_set_new(t, "breach_at", iso_or_null(it->breach_at));
		json_array_append_new(a, t);
	}
	json_object_set_new(o, "tickets", a);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

int
remind_mail(const struct config *cfg, const struct remind_report *r,
    struct buf *m, char **err)
{
	char boundary[64], *subject, *text, *html, *lf;
	int rc;

	subject = xasprintf("[intake] Reminder \xe2\x80\x94 %zu ticket%s need%s "
	    "a response", r->n, plural(r->n), r->n == 1 ? "s" : "");
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
insert_reminder(sqlite3_stmt *s, long long ticket, const char *kind,
    time_t deadline, const char *day, time_t now)
{
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, ticket);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)deadline);
	sqlite3_bind_text(s, 4, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

int
remind_record(struct store *st, const struct remind_report *r)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc;

	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	rc = sqlite3_prepare_v2(store_db(st), "INSERT OR IGNORE INTO reminders "
	    "(ticket_id, kind, deadline, day, sent_at) VALUES (?, ?, ?, ?, ?)",
	    -1, &s, NULL);
	rc = rc == SQLITE_OK ? STORE_OK : store_classify(rc);
	for (i = 0; i < r->n && rc == STORE_OK; i++) {
		const struct remind_item *it = &r->items[i];

		if (it->due & REMIND_RESPONSE)
			rc = insert_reminder(s, it->ticket, "response_due",
			    it->response_due, r->day, r->now);
		if (rc == STORE_OK && (it->due & REMIND_BREACH))
			rc = insert_reminder(s, it->ticket, "breach_at",
			    it->breach_at, r->day, r->now);
	}
	sqlite3_finalize(s);
	if (rc == STORE_OK) {
		rc = sqlite3_prepare_v2(store_db(st), "INSERT OR REPLACE INTO "
		    "remind_runs (slot, sent_at, tickets) VALUES (?, ?, ?)", -1,
		    &s, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(s, 1, r->slot, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(s, 2, (sqlite3_int64)r->now);
			sqlite3_bind_int64(s, 3, (sqlite3_int64)r->n);
			rc = sqlite3_step(s);
			sqlite3_finalize(s);
			rc = rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
		} else
			rc = store_classify(rc);
	}
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
	log_info("remind: slot %s: %zu ticket%s reminded", r.slot, r.n,
	    plural(r.n));
	remind_report_free(&r);
	return 0;
}
