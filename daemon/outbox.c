/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fmt.h"
#include "notify.h"
#include "outbox.h"
#include "remind.h"
#include "rota.h"
#include "tag.h"
#include "util.h"

static const struct query q_queue = {
	"INSERT INTO outbox (kind, channel, ticket_id, payload, created_at, "
	"next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)", NULL
};

/* The message the alert is about: the newest unanswered one, else the
 * newest (a reclassified, answered ticket). */
static const struct query q_payload = {
	"SELECT t.type, t.urgency, t.minor, t.danger, t.needs_interpreter, "
	"t.received_at, t.response_due, t.breach_at, m.id, m.received_at, "
	"(SELECT count(*) FROM messages c WHERE c.ticket_id = t.id) "
	"FROM tickets t LEFT JOIN messages m ON m.id = (SELECT x.id FROM "
	"messages x WHERE x.ticket_id = t.id ORDER BY x.responded_at IS NULL "
	"DESC, x.id DESC LIMIT 1) WHERE t.id = ?1", NULL
};

static const struct query q_excerpt = {
	"SELECT text FROM messages WHERE id = ?1", NULL
};

int
outbox_queue(struct store *st, const char *kind, const char *channel,
    long long ticket, const char *payload_json, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_queue, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, kind, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, channel, (size_t)-1)) == STORE_OK &&
	    (rc = ticket > 0 ? store_bind_int64(s, 3, ticket) :
	    store_bind_null(s, 3)) == STORE_OK &&
	    (rc = store_bind_text(s, 4, payload_json, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 5, (long long)now)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

/* Queue payload on every configured channel; returns rows or STORE_*. */
static int
queue_channels(struct store *st, const struct config *cfg, const char *kind,
    long long ticket, json_t *payload, time_t now)
{
	char *text;
	int n = 0, rc = STORE_OK;

	/* The webhook posts this text as it is: no raw C1 or bidi override
	 * from an excerpt (fmt_json_dumps). */
	text = fmt_json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL)
		return STORE_ERR;
	if (cfg->alerts_webhook) {
		rc = outbox_queue(st, kind, "webhook", ticket, text, now);
		n += rc == STORE_OK;
	}
	if (rc == STORE_OK && cfg->alerts_nto > 0) {
		rc = outbox_queue(st, kind, "email", ticket, text, now);
		n += rc == STORE_OK;
	}
	free(text);
	return rc == STORE_OK ? n : rc;
}

static json_t *
iso_or_null(struct stmt *s, int col)
{
	char iso[40];

	if (store_col_null(s, col))
		return json_null();
	iso8601_local((time_t)store_col_int64(s, col), iso, sizeof(iso));
	return json_string(iso);
}

/* The text of a message, shortened; only with include_excerpt. */
static json_t *
excerpt(struct store *st, long long message)
{
	struct stmt *s;
	const char *text;
	json_t *out = NULL;
	char *cut;
	int rc;

	if ((s = store_prepare(st, &q_excerpt, &rc)) == NULL)
		return json_null();
	if (store_bind_int64(s, 1, message) == STORE_OK &&
	    store_step(s) == STORE_ROW &&
	    (text = store_col_text(s, 0, NULL)) != NULL) {
		cut = utf8_truncate(text, 280);
		out = json_string(cut);
		free(cut);
	}
	store_done(s);
	return out ? out : json_null();
}

/* The columns of q_payload into p; the message's id returned. */
static long long
payload_columns(struct stmt *s, json_t *p)
{
	long long msg;

	json_object_set_new(p, "type", json_string(store_col_text(s, 0, NULL)));
	json_object_set_new(p, "urgency", json_string(store_col_text(s, 1,
	    NULL)));
	json_object_set_new(p, "minor", json_boolean(store_col_int64(s, 2)));
	json_object_set_new(p, "danger", json_boolean(store_col_int64(s, 3)));
	json_object_set_new(p, "needs_interpreter",
	    json_boolean(store_col_int64(s, 4)));
	json_object_set_new(p, "received", iso_or_null(s, 5));
	json_object_set_new(p, "response_due", iso_or_null(s, 6));
	json_object_set_new(p, "breach_at", iso_or_null(s, 7));
	msg = store_col_int64(s, 8);
	json_object_set_new(p, "message", msg ? json_integer(msg) : json_null());
	json_object_set_new(p, "message_received", iso_or_null(s, 9));
	json_object_set_new(p, "messages", json_integer((int)store_col_int64(s,
	    10)));
	return msg;
}

json_t *
outbox_alert_payload(struct store *st, const struct config *cfg,
    long long ticket, const char *reason, int *rcp)
{
	struct stmt *s;
	json_t *p;
	char cmd[80], tag[TAG_MAX];
	long long msg;
	int rc;

	*rcp = STORE_OK;
	if ((s = store_prepare(st, &q_payload, &rc)) == NULL) {
		*rcp = rc;
		return NULL;
	}
	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK)
		rc = store_step(s);
	if (rc != STORE_ROW) {
		store_done(s);
		*rcp = rc == STORE_DONE ? STORE_ERR : rc;
		return NULL;
	}
	p = json_object();
	json_object_set_new(p, "kind", json_string("alert"));
	json_object_set_new(p, "reason", json_string(reason));
	json_object_set_new(p, "ticket", json_integer(ticket));
	msg = payload_columns(s, p);
	store_done(s);
	json_object_set_new(p, "step", json_string("alert"));
	tag_format(cfg, ticket, tag, sizeof(tag));
	json_object_set_new(p, "tag", json_string(tag));
	snprintf(cmd, sizeof(cmd), "intake ack %lld --by NAME", ticket);
	json_object_set_new(p, "ack_command", json_string(cmd));
	if (cfg->alerts_include_excerpt)
		json_object_set_new(p, "excerpt", msg ? excerpt(st, msg) :
		    json_null());
	return p;
}

int
outbox_queue_ack_mails(struct store *st, const struct config *cfg,
    json_t *payload, json_t *to, long long ticket, long long message,
    long step, long seq, time_t now)
{
	char token[TAG_ACK_MAX], *addr, *text;
	const char *rcpt;
	json_t *one;
	size_t i;
	int rc = STORE_OK, n = 0;

	for (i = 0; i < json_array_size(to) && rc == STORE_OK; i++) {
		rcpt = json_string_value(json_array_get(to, i));
		if (rcpt == NULL)
			continue;
		one = json_deep_copy(payload);
		json_object_set_new(one, "notify", json_pack("[s]", rcpt));
		/* No key (a staff tool that cannot read tag.key), or an
		 * address that is none: the mail goes without a token. */
		addr = notify_addr_spec(rcpt);
		if (addr && tag_ack_token(cfg, ticket, message, step, seq, addr,
		    token, sizeof(token)) == 0) {
			json_object_set_new(one, "ack_token", json_string(token));
			json_object_set_new(one, "reply_to",
			    json_string(cfg->oncall_reply_to));
		}
		free(addr);
		text = fmt_json_dumps(one, JSON_COMPACT | JSON_PRESERVE_ORDER);
		rc = text ? outbox_queue(st, "alert", "email", ticket, text,
		    now) : STORE_ERR;
		n += rc == STORE_OK;
		free(text);
		json_decref(one);
	}
	return rc == STORE_OK ? n : rc;
}

/* Whether the JSON array of addresses holds addr (by addr-spec, case
 * folded: "Maria <maria@x>" and "MARIA@x" are one mailbox). */
static int
has_addr(json_t *to, const char *addr)
{
	char *a = notify_addr_spec(addr), *b;
	size_t i;
	int same = 0;

	for (i = 0; i < json_array_size(to) && !same; i++) {
		b = notify_addr_spec(json_string_value(json_array_get(to, i)));
		same = a && b ? strcasecmp(a, b) == 0 :
		    strcasecmp(addr, json_string_value(json_array_get(to, i))) == 0;
		free(b);
	}
	free(a);
	return same;
}

/* Whether the person is listed already (two shifts of hers overlap). */
static int
has_person(json_t *oncall, const char *name)
{
	size_t i;

	for (i = 0; i < json_array_size(oncall); i++)
		if (strcasecmp(json_string_value(json_object_get(json_array_get(
		    oncall, i), "name")), name) == 0)
			return 1;
	return 0;
}

/*
 * Whom the first alert pages: alerts.to, plus everyone the rota has on
 * call at `at` (their email, unless alerts.to has it already: one address,
 * one mail).  *oncall gets {name, webhook} of each person on call (empty:
 * no rota, or a gap); *added is set when the rota added an address.
 */
static json_t *
alert_recipients(const struct config *cfg, const struct rota *rota,
    time_t at, json_t *oncall, int *added)
{
	json_t *to = json_array();
	struct rota_shift *v = NULL;
	size_t k, n;

	for (k = 0; k < cfg->alerts_nto; k++)
		if (!has_addr(to, cfg->alerts_to[k]))
			json_array_append_new(to, json_string(cfg->alerts_to[k]));
	*added = 0;
	n = rota ? rota_on_call(rota, at, &v) : 0;
	for (k = 0; k < n; k++) {
		if (v[k].email && !has_addr(to, v[k].email)) {
			json_array_append_new(to, json_string(v[k].email));
			*added = 1;
		}
		if (!has_person(oncall, v[k].name))
			json_array_append_new(oncall, json_pack("{s:s,s:s?}",
			    "name", v[k].name, "webhook", v[k].webhook));
	}
	free(v);
	return to;
}

/* One webhook row: payload p as it is (alerts.webhook), or with "url",
 * "person" and its own "key" (a person's webhook). */
static int
queue_hook(struct store *st, long long ticket, json_t *p, const char *url,
    const char *person, const char *key, time_t now)
{
	json_t *one = json_deep_copy(p);
	char *text;
	int rc;

	if (url) {
		json_object_set_new(one, "url", json_string(url));
		json_object_set_new(one, "person", json_string(person));
		json_object_set_new(one, "key", json_sprintf("%s-%s", key,
		    person));
	}
	text = fmt_json_dumps(one, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rc = text ? outbox_queue(st, "alert", "webhook", ticket, text, now) :
	    STORE_ERR;
	free(text);
	json_decref(one);
	return rc;
}

/* Whether url was queued already: alerts.webhook, or the webhook of a
 * person before index i (two people sharing one: one post). */
static int
hook_seen(const struct config *cfg, json_t *oncall, size_t i, const char *url)
{
	const char *u;
	size_t k;

	if (cfg->alerts_webhook && strcmp(cfg->alerts_webhook, url) == 0)
		return 1;
	for (k = 0; k < i; k++) {
		u = json_string_value(json_object_get(json_array_get(oncall, k),
		    "webhook"));
		if (u && strcmp(u, url) == 0)
			return 1;
	}
	return 0;
}

/* The webhook rows: alerts.webhook, then each person's own. */
static int
queue_alert_hooks(struct store *st, const struct config *cfg,
    long long ticket, json_t *p, json_t *oncall, const char *key, time_t now)
{
	const char *url, *name;
	size_t i;
	int rc = STORE_OK, n = 0;

	if (cfg->alerts_webhook) {
		rc = queue_hook(st, ticket, p, NULL, NULL, NULL, now);
		n += rc == STORE_OK;
	}
	for (i = 0; i < json_array_size(oncall) && rc == STORE_OK; i++) {
		url = json_string_value(json_object_get(json_array_get(oncall,
		    i), "webhook"));
		name = json_string_value(json_object_get(json_array_get(oncall,
		    i), "name"));
		if (url == NULL || hook_seen(cfg, oncall, i, url))
			continue;
		rc = queue_hook(st, ticket, p, url, name, key, now);
		n += rc == STORE_OK;
	}
	return rc == STORE_OK ? n : rc;
}

/*
 * The mail rows.  With oncall.reply_to the first alert is answered from a
 * phone like an escalation (the person it reaches first may be the only
 * one awake): one mail per address, each with its own token (step "a").
 * Without it: one mail, to alerts.to as configured at delivery, or to the
 * list in "notify" when the rota added somebody.
 */
static int
queue_alert_mails(struct store *st, const struct config *cfg,
    long long ticket, json_t *p, json_t *to, int oncall_added, time_t now)
{
	json_t *one;
	char *text;
	int rc;

	if (json_array_size(to) == 0)
		return 0;
	if (cfg->oncall_reply_to)
		return outbox_queue_ack_mails(st, cfg, p, to, ticket,
		    (long long)json_integer_value(json_object_get(p, "message")),
		    -1, 0, now);
	one = json_deep_copy(p);
	if (oncall_added)
		json_object_set(one, "notify", to);
	text = fmt_json_dumps(one, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rc = text ? outbox_queue(st, "alert", "email", ticket, text, now) :
	    STORE_ERR;
	free(text);
	json_decref(one);
	return rc == STORE_OK ? 1 : rc;
}

/* With a rota, the page is in the ticket's history: whom it reached
 * ("oncall" names, "notify" addresses), or that nobody was on call. */
static int
page_event(struct store *st, long long ticket, json_t *p, json_t *to,
    json_t *oncall, const char *key, time_t now)
{
	json_t *names = json_array(), *ev;
	char *text;
	size_t i;
	int rc;

	for (i = 0; i < json_array_size(oncall); i++)
		json_array_append(names, json_object_get(json_array_get(oncall,
		    i), "name"));
	ev = json_pack("{s:O?,s:O?,s:o,s:O,s:b,s:s}", "reason", json_object_get(p,
	    "reason"), "message", json_object_get(p, "message"), "oncall",
	    names, "notify", to, "oncall_gap", json_array_size(oncall) == 0,
	    "key", key);
	text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	rc = text ? store_event(st, ticket, (long long)now, "intake", "page",
	    text) : STORE_ERR;
	free(text);
	json_decref(ev);
	return rc;
}

int
outbox_queue_alert(struct store *st, const struct config *cfg,
    const struct rota *rota, long long ticket, const char *reason, time_t now)
{
	json_t *p, *to, *oncall, *names;
	char key[160];
	size_t i;
	int rc, n = 0, added;

	if (cfg->alerts_webhook == NULL && cfg->alerts_nto == 0 && rota == NULL)
		return 0;
	if ((p = outbox_alert_payload(st, cfg, ticket, reason, &rc)) == NULL)
		return rc;
	oncall = json_array();
	/* On call at this moment (INTAKE_NOW in tests) */
	to = alert_recipients(cfg, rota, remind_now(), oncall, &added);
	snprintf(key, sizeof(key), "intake-alert-%lld-%lld-%s-%lld", ticket,
	    (long long)json_integer_value(json_object_get(p, "message")),
	    reason, (long long)now);
	if (rota) {
		names = json_array();
		for (i = 0; i < json_array_size(oncall); i++)
			json_array_append(names, json_object_get(
			    json_array_get(oncall, i), "name"));
		json_object_set_new(p, "oncall", names);
		if (json_array_size(oncall) == 0)
			json_object_set_new(p, "oncall_gap", json_true());
	}
	rc = queue_alert_hooks(st, cfg, ticket, p, oncall, key, now);
	if (rc >= 0) {
		n = rc;
		rc = queue_alert_mails(st, cfg, ticket, p, to, added, now);
	}
	if (rc >= 0) {
		n += rc;
		rc = rota && n > 0 ? page_event(st, ticket, p, to, oncall, key,
		    now) : STORE_OK;
	}
	json_decref(to);
	json_decref(oncall);
	json_decref(p);
	return rc == STORE_OK ? n : rc;
}

int
outbox_queue_health(struct store *st, const struct config *cfg,
    const char *source, const char *problem, const char *detail, time_t now)
{
	json_t *p;
	char iso[40];
	int rc;

	if (cfg->alerts_webhook == NULL && cfg->alerts_nto == 0)
		return 0;
	iso8601_local(now, iso, sizeof(iso));
	p = json_object();
	json_object_set_new(p, "kind", json_string("health"));
	json_object_set_new(p, "source", json_string(source));
	json_object_set_new(p, "problem", json_string(problem));
	json_object_set_new(p, "detail", detail ? json_string(detail) :
	    json_null());
	json_object_set_new(p, "at", json_string(iso));
	rc = queue_channels(st, cfg, "health", 0, p, now);
	json_decref(p);
	return rc;
}
