/* SPDX-License-Identifier: MIT */
/*
 * escalate.c: the escalation scan and its steps (escalate.h).  The scan
 * reads the partial index tickets_escalate (sql/004_loop.sql): open urgent
 * tickets with an unanswered message, by response_due, so its cost follows
 * the tickets that may page, not the history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "escalate.h"
#include "log.h"
#include "outbox.h"
#include "util.h"

struct pending {
	long long	 ticket;
	long long	 message;
	time_t		 response_due;
	time_t		 breach_at;
};

/* The instant step i falls due for p (repeat steps: their first repeat),
 * or 0 when it never does. */
static time_t
step_base(const struct config *cfg, size_t i, const struct pending *p)
{
	const struct escalation_step *st = &cfg->escalation[i];

	switch (st->after) {
	case ESC_AFTER_RESPONSE_DUE:
		return p->response_due;
	case ESC_AFTER_BREACH:
		return p->breach_at ? p->breach_at : p->response_due;
	case ESC_REPEAT:
		return i > 0 ? step_base(cfg, i - 1, p) : 0;
	}
	return 0;
}

static const char *
step_name(const struct escalation_step *st)
{
	switch (st->after) {
	case ESC_AFTER_RESPONSE_DUE:
		return "response_due";
	case ESC_AFTER_BREACH:
		return "breach";
	default:
		return "repeat";
	}
}

/* The addresses a step pages: its own list, "oncall" (alerts.to), the
 * "escalation" targets (every list the steps give, else alerts.to). */
static json_t *
step_recipients(const struct config *cfg, const struct escalation_step *st)
{
	json_t *a = json_array();
	size_t i, k, n = 0;

	for (k = 0; k < st->nto; k++)
		json_array_append_new(a, json_string(st->to[k]));
	if (st->notify & ESC_NOTIFY_ESCALATION) {
		for (i = 0; i < cfg->nescalation; i++)
			for (k = 0; k < cfg->escalation[i].nto; k++, n++)
				json_array_append_new(a, json_string(
				    cfg->escalation[i].to[k]));
	}
	if ((st->notify & ESC_NOTIFY_ONCALL) ||
	    ((st->notify & ESC_NOTIFY_ESCALATION) && n == 0))
		for (k = 0; k < cfg->alerts_nto; k++)
			json_array_append_new(a, json_string(cfg->alerts_to[k]));
	/* One page per person, whatever the lists say. */
	for (i = 0; i < json_array_size(a); i++)
		for (k = i + 1; k < json_array_size(a); )
			if (strcasecmp(json_string_value(json_array_get(a, i)),
			    json_string_value(json_array_get(a, k))) == 0)
				json_array_remove(a, k);
			else
				k++;
	return a;
}

/* 1 when (ticket, message, step, seq) is recorded; <0 on error. */
static int
step_taken(struct store *st, const struct pending *p, size_t step, long seq)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "SELECT 1 FROM escalations WHERE ticket_id = ? AND "
	    "message_id = ? AND step = ? AND seq = ?", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, p->ticket);
	sqlite3_bind_int64(s, 2, p->message);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)step);
	sqlite3_bind_int64(s, 4, seq);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_classify(rc);
}

static int
record_step(struct store *st, const struct pending *p, size_t step, long seq,
    time_t now)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "INSERT INTO escalations (ticket_id, message_id, "
	    "step, seq, at) VALUES (?, ?, ?, ?, ?)", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, p->ticket);
	sqlite3_bind_int64(s, 2, p->message);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)step);
	sqlite3_bind_int64(s, 4, seq);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

/* One step: escalations row, outbox rows, event; one transaction. */
static int
take_step(struct store *st, const struct config *cfg, const struct pending *p,
    size_t step, long seq, time_t now)
{
	const struct escalation_step *es = &cfg->escalation[step];
	json_t *pl, *to, *ev;
	char name[96], key[128], *text, *evtext;
	int rc, taken;

	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	/* Checked again inside the transaction: another process (a second
	 * daemon by mistake) may have taken it. */
	if ((taken = step_taken(st, p, step, seq)) != 0) {
		store_rollback(st);
		return taken < 0 ? taken : 0;
	}
	if (es->after == ESC_REPEAT)
		snprintf(name, sizeof(name), "escalation %zu of %zu: repeat %ld",
		    step + 1, cfg->nescalation, seq);
	else
		snprintf(name, sizeof(name), "escalation %zu of %zu: %s",
		    step + 1, cfg->nescalation, step_name(es));
	snprintf(key, sizeof(key), "intake-escalate-%lld-%lld-%zu-%ld",
	    p->ticket, p->message, step, seq);
	rc = record_step(st, p, step, seq, now);
	pl = rc == STORE_OK ? outbox_alert_payload(st, cfg, p->ticket,
	    "escalation", &rc) : NULL;
	if (pl == NULL) {
		store_rollback(st);
		return rc != STORE_OK ? rc : STORE_ERR;
	}
	to = step_recipients(cfg, es);
	json_object_set_new(pl, "step", json_string(name));
	json_object_set_new(pl, "notify", json_incref(to));
	json_object_set_new(pl, "key", json_string(key));
	text = json_dumps(pl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rc = text ? STORE_OK : STORE_ERR;
	if (rc == STORE_OK && cfg->alerts_webhook)
		rc = outbox_queue(st, "alert", "webhook", p->ticket, text, now);
	if (rc == STORE_OK && json_array_size(to) > 0)
		rc = outbox_queue(st, "alert", "email", p->ticket, text, now);
	ev = json_pack("{s:s,s:i,s:i,s:I,s:O}", "step", step_name(es),
	    "index", (int)step, "repeat", (int)seq, "message",
	    (json_int_t)p->message, "notify", to);
	evtext = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (rc == STORE_OK)
		rc = store_event(st, p->ticket, (long long)now, "intaked",
		    "escalate", evtext ? evtext : "{}");
	free(evtext);
	json_decref(ev);
	free(text);
	json_decref(to);
	json_decref(pl);
	if (rc != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	if ((rc = store_commit(st)) != STORE_OK)
		return rc;
	log_notice("ticket %lld: %s", p->ticket, name);
	return 1;
}

/* The due steps of one ticket, in order. */
static int
escalate_ticket(struct store *st, const struct config *cfg,
    const struct pending *p, time_t now)
{
	const struct escalation_step *es;
	time_t base;
	long seq;
	size_t i;
	int rc, n = 0;

	for (i = 0; i < cfg->nescalation; i++) {
		es = &cfg->escalation[i];
		base = step_base(cfg, i, p);
		if (base == 0 || base > now)
			continue;
		seq = 0;
		if (es->after == ESC_REPEAT) {
			seq = (long)((now - base) / (es->repeat_minutes * 60L));
			if (seq < 1)
				continue;
		}
		if ((rc = step_taken(st, p, i, seq)) < 0)
			return rc;
		if (rc == 1)
			continue;
		if ((rc = take_step(st, cfg, p, i, seq, now)) < 0)
			return rc;
		n += rc;
	}
	return n;
}

/* Whether any step can reach anybody (else nothing is recorded, and the
 * steps are taken once a channel is configured). */
static int
anyone_to_page(const struct config *cfg)
{
	size_t i;

	if (cfg->nescalation == 0)
		return 0;
	if (cfg->alerts_webhook || cfg->alerts_nto)
		return 1;
	for (i = 0; i < cfg->nescalation; i++)
		if (cfg->escalation[i].nto)
			return 1;
	return 0;
}

int
escalate_run(struct store *st, const struct config *cfg, time_t now)
{
	sqlite3_stmt *s;
	struct pending *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc, taken = 0;

	if (!anyone_to_page(cfg))
		return 0;
	/* Copied out first: no statement stays open across the steps'
	 * transactions. */
	s = store_stmt(st, "SELECT id, awaiting_message, response_due, "
	    "breach_at FROM tickets INDEXED BY tickets_escalate WHERE "
	    "status = 'open' AND urgency = 'urgent' AND automated = 0 AND "
	    "awaiting_since IS NOT NULL AND response_due <= ? "
	    "ORDER BY response_due", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].ticket = sqlite3_column_int64(s, 0);
		v[n].message = sqlite3_column_int64(s, 1);
		v[n].response_due = (time_t)sqlite3_column_int64(s, 2);
		v[n].breach_at = (time_t)sqlite3_column_int64(s, 3);
		n++;
	}
	store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_classify(rc);
	}
	for (i = 0; i < n; i++) {
		if ((rc = escalate_ticket(st, cfg, &v[i], now)) < 0) {
			log_err("escalation: ticket %lld: %s", v[i].ticket,
			    store_errmsg(st));
			free(v);
			return rc;
		}
		taken += rc;
	}
	free(v);
	return taken;
}
