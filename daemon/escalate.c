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
#include <strings.h>

#include <jansson.h>

#include "escalate.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "rota.h"
#include "tag.h"
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

static void
add_addr(json_t *a, const char *addr)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (strcasecmp(json_string_value(json_array_get(a, i)), addr) == 0)
			return;
	json_array_append_new(a, json_string(addr));
}

static void
add_fallback(json_t *a, const struct config *cfg)
{
	size_t k;

	for (k = 0; k < cfg->alerts_nto; k++)
		add_addr(a, cfg->alerts_to[k]);
}

/*
 * The addresses a step pages: its own list; "oncall": everyone the rota
 * has on shift at now (rota.h), else (no rota, a gap) alerts.to; the
 * "escalation" targets (every list the steps give, else alerts.to).  The
 * people on call go to *oncall ({name, email, webhook}), and *fallback
 * is set when "oncall" found nobody in the rota.
 */
static json_t *
step_recipients(const struct config *cfg, const struct rota *rota,
    const struct escalation_step *st, time_t now, json_t *oncall,
    int *fallback)
{
	json_t *a = json_array();
	struct rota_shift *v;
	size_t i, k, n = 0, non;

	*fallback = 0;
	for (k = 0; k < st->nto; k++)
		add_addr(a, st->to[k]);
	if (st->notify & ESC_NOTIFY_ESCALATION) {
		for (i = 0; i < cfg->nescalation; i++)
			for (k = 0; k < cfg->escalation[i].nto; k++, n++)
				add_addr(a, cfg->escalation[i].to[k]);
		if (n == 0)
			add_fallback(a, cfg);
	}
	if (st->notify & ESC_NOTIFY_ONCALL) {
		non = rota ? rota_on_call(rota, now, &v) : 0;
		for (i = 0; i < non; i++) {
			if (v[i].email)
				add_addr(a, v[i].email);
			json_array_append_new(oncall, json_pack("{s:s,s:s?,s:s?}",
			    "name", v[i].name, "email", v[i].email, "webhook",
			    v[i].webhook));
		}
		if (non == 0) {
			*fallback = rota != NULL;
			add_fallback(a, cfg);
		}
		if (non)
			free(v);
	}
	return a;
}

/* The on-call people's own webhooks: one row each, the payload with
 * "url" (notify.c posts there instead of alerts.webhook). */
static int
queue_person_hooks(struct store *st, json_t *pl, json_t *oncall,
    long long ticket, time_t now)
{
	const char *url;
	json_t *p;
	char *text;
	size_t i;
	int rc = STORE_OK;

	for (i = 0; i < json_array_size(oncall) && rc == STORE_OK; i++) {
		url = json_string_value(json_object_get(json_array_get(oncall,
		    i), "webhook"));
		if (url == NULL)
			continue;
		p = json_deep_copy(pl);
		json_object_set_new(p, "url", json_string(url));
		json_object_set_new(p, "person", json_string(json_string_value(
		    json_object_get(json_array_get(oncall, i), "name"))));
		/* its own idempotency key: one page per person */
		json_object_set_new(p, "key", json_sprintf("%s-%s",
		    json_string_value(json_object_get(pl, "key")),
		    json_string_value(json_object_get(p, "person"))));
		text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
		rc = text ? outbox_queue(st, "alert", "webhook", ticket, text,
		    now) : STORE_ERR;
		free(text);
		json_decref(p);
	}
	return rc;
}

static const struct query q_taken = {
	"SELECT 1 FROM escalations WHERE ticket_id = ?1 AND message_id = ?2 "
	"AND step = ?3 AND seq = ?4", NULL
};

/* A second node taking the same step at the same time waits for the
 * first one's commit on the key, then inserts nothing (take_step). */
static const struct query q_record = {
	"INSERT INTO escalations (ticket_id, message_id, step, seq, at) "
	"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING", NULL
};

/* The partial index (sql/004_loop.sql): SQLite is told to use it;
 * PostgreSQL's planner matches its predicate by itself. */
static const struct query q_scan = {
	"SELECT id, awaiting_message, response_due, breach_at FROM tickets "
	"INDEXED BY tickets_escalate WHERE status = 'open' AND "
	"urgency = 'urgent' AND automated = 0 AND awaiting_since IS NOT NULL "
	"AND response_due <= ?1 ORDER BY response_due",
	"SELECT id, awaiting_message, response_due, breach_at FROM tickets "
	"WHERE status = 'open' AND urgency = 'urgent' AND automated = 0 AND "
	"awaiting_since IS NOT NULL AND response_due <= $1 ORDER BY response_due"
};

/* Bind (ticket, message, step, seq) to parameters 1 to 4. */
static int
bind_step(struct stmt *s, const struct pending *p, size_t step, long seq)
{
	int rc;

	if ((rc = store_bind_int64(s, 1, p->ticket)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, p->message)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, (long long)step)) == STORE_OK)
		rc = store_bind_int64(s, 4, seq);
	return rc;
}

/* 1 when (ticket, message, step, seq) is recorded; <0 on error. */
static int
step_taken(struct store *st, const struct pending *p, size_t step, long seq)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_taken, &rc)) == NULL)
		return rc;
	if ((rc = bind_step(s, p, step, seq)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	if (rc == STORE_ROW)
		return 1;
	return rc == STORE_DONE ? 0 : rc;
}

/* STORE_OK, or 1 when another process recorded it first. */
static int
record_step(struct store *st, const struct pending *p, size_t step, long seq,
    time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_record, &rc)) == NULL)
		return rc;
	if ((rc = bind_step(s, p, step, seq)) == STORE_OK &&
	    (rc = store_bind_int64(s, 5, (long long)now)) == STORE_OK &&
	    (rc = store_step(s)) == STORE_DONE)
		rc = store_changes(s) == 0 ? 1 : STORE_OK;
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

/* One step: escalations row, outbox rows, event; one transaction. */
static int
take_step(struct store *st, const struct config *cfg, const struct rota *rota,
    const struct pending *p, size_t step, long seq, time_t now)
{
	const struct escalation_step *es = &cfg->escalation[step];
	json_t *pl, *to, *ev, *oncall, *names;
	char name[96], key[128], *text, *evtext;
	int rc, taken, fallback;
	size_t i;

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
	if ((rc = record_step(st, p, step, seq, now)) == 1) {
		/* another node took it since the check */
		store_rollback(st);
		return 0;
	}
	pl = rc == STORE_OK ? outbox_alert_payload(st, cfg, p->ticket,
	    "escalation", &rc) : NULL;
	if (pl == NULL) {
		store_rollback(st);
		return rc != STORE_OK ? rc : STORE_ERR;
	}
	oncall = json_array();
	to = step_recipients(cfg, rota, es, now, oncall, &fallback);
	names = json_array();
	for (i = 0; i < json_array_size(oncall); i++)
		json_array_append(names, json_object_get(json_array_get(oncall,
		    i), "name"));
	json_object_set_new(pl, "step", json_string(name));
	json_object_set_new(pl, "notify", json_incref(to));
	json_object_set_new(pl, "key", json_string(key));
	if (es->notify & ESC_NOTIFY_ONCALL) {
		json_object_set(pl, "oncall", names);
		if (fallback)
			json_object_set_new(pl, "oncall_gap", json_true());
	}
	text = json_dumps(pl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rc = text ? STORE_OK : STORE_ERR;
	if (rc == STORE_OK && cfg->alerts_webhook)
		rc = outbox_queue(st, "alert", "webhook", p->ticket, text, now);
	if (rc == STORE_OK)
		rc = queue_person_hooks(st, pl, oncall, p->ticket, now);
	if (rc == STORE_OK && json_array_size(to) > 0)
		rc = cfg->oncall_reply_to ? outbox_queue_ack_mails(st, cfg,
		    pl, to, p->ticket, p->message, (long)step, seq, now) :
		    outbox_queue(st, "alert", "email", p->ticket, text, now);
	if (rc > 0)
		rc = STORE_OK;
	ev = json_pack("{s:s,s:i,s:i,s:I,s:O,s:O,s:b}", "step", step_name(es),
	    "index", (int)step, "repeat", (int)seq, "message",
	    (json_int_t)p->message, "notify", to, "oncall", names,
	    "oncall_gap", fallback);
	evtext = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (rc == STORE_OK)
		rc = store_event(st, p->ticket, (long long)now, "intaked",
		    "escalate", evtext ? evtext : "{}");
	free(evtext);
	json_decref(ev);
	free(text);
	json_decref(to);
	json_decref(names);
	json_decref(oncall);
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
    const struct rota *rota, const struct pending *p, time_t now)
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
		if ((rc = take_step(st, cfg, rota, p, i, seq, now)) < 0)
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
	if (cfg->alerts_webhook || cfg->alerts_nto || cfg->oncall_npeople)
		return 1;
	for (i = 0; i < cfg->nescalation; i++)
		if (cfg->escalation[i].nto)
			return 1;
	return 0;
}

int
escalate_run(struct store *st, const struct config *cfg,
    const struct rota *rota, time_t now)
{
	struct stmt *s;
	struct pending *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc, taken = 0;

	if (!anyone_to_page(cfg))
		return 0;
	/* Copied out first: no statement stays open across the steps'
	 * transactions. */
	if ((s = store_prepare(st, &q_scan, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)now)) == STORE_OK)
		while ((rc = store_step(s)) == STORE_ROW) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n].ticket = store_col_int64(s, 0);
			v[n].message = store_col_int64(s, 1);
			v[n].response_due = (time_t)store_col_int64(s, 2);
			v[n].breach_at = (time_t)store_col_int64(s, 3);
			n++;
		}
	store_done(s);
	if (rc != STORE_DONE) {
		free(v);
		return rc;
	}
	for (i = 0; i < n; i++) {
		if ((rc = escalate_ticket(st, cfg, rota, &v[i], now)) < 0) {
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
