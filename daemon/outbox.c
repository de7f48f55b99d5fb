/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "notify.h"
#include "outbox.h"
#include "tag.h"
#include "util.h"

int
outbox_queue(struct store *st, const char *kind, const char *channel,
    long long ticket, const char *payload_json, time_t now)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "INSERT INTO outbox (kind, "
	    "channel, ticket_id, payload, created_at, next_attempt_at) "
	    "VALUES (?, ?, ?, ?, ?, ?)", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	if (ticket > 0)
		sqlite3_bind_int64(s, 3, ticket);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_text(s, 4, payload_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
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
iso_or_null(sqlite3_stmt *s, int col)
{
	char iso[40];

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return json_null();
	iso8601_local((time_t)sqlite3_column_int64(s, col), iso, sizeof(iso));
	return json_string(iso);
}

/* The text of a message, shortened; only with include_excerpt. */
static json_t *
excerpt(struct store *st, long long message)
{
	sqlite3_stmt *s;
	json_t *out = json_null();
	char *cut;
	int rc;

	s = store_stmt(st, "SELECT text FROM messages WHERE id = ?", &rc);
	if (s == NULL)
		return out;
	sqlite3_bind_int64(s, 1, message);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		cut = utf8_truncate((const char *)sqlite3_column_text(s, 0), 280);
		json_decref(out);
		out = json_string(cut);
		free(cut);
	}
	store_stmt_done(s);
	return out ? out : json_null();
}

json_t *
outbox_alert_payload(struct store *st, const struct config *cfg,
    long long ticket, const char *reason, int *rcp)
{
	sqlite3_stmt *s;
	json_t *p;
	char cmd[80], tag[TAG_MAX];
	long long msg;
	int rc;

	*rcp = STORE_OK;
	/* The message the alert is about: the newest unanswered one, else
	 * the newest (a reclassified, answered ticket). */
	s = store_stmt(st, "SELECT t.type, t.urgency, t.minor, t.danger, "
	    "t.needs_interpreter, t.received_at, t.response_due, t.breach_at, "
	    "m.id, m.received_at, (SELECT count(*) FROM messages c WHERE "
	    "c.ticket_id = t.id) FROM tickets t LEFT JOIN messages m ON m.id = "
	    "(SELECT x.id FROM messages x WHERE x.ticket_id = t.id ORDER BY "
	    "x.responded_at IS NULL DESC, x.id DESC LIMIT 1) WHERE t.id = ?",
	    &rc);
	if (s == NULL) {
		*rcp = store_classify(rc);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, ticket);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		store_stmt_done(s);
		*rcp = rc == SQLITE_DONE ? STORE_ERR : store_classify(rc);
		return NULL;
	}
	p = json_object();
	json_object_set_new(p, "kind", json_string("alert"));
	json_object_set_new(p, "reason", json_string(reason));
	json_object_set_new(p, "ticket", json_integer(ticket));
	json_object_set_new(p, "type", json_string((const char *)
	    sqlite3_column_text(s, 0)));
	json_object_set_new(p, "urgency", json_string((const char *)
	    sqlite3_column_text(s, 1)));
	json_object_set_new(p, "minor", json_boolean(sqlite3_column_int(s, 2)));
	json_object_set_new(p, "danger", json_boolean(sqlite3_column_int(s, 3)));
	json_object_set_new(p, "needs_interpreter",
	    json_boolean(sqlite3_column_int(s, 4)));
	json_object_set_new(p, "received", iso_or_null(s, 5));
	json_object_set_new(p, "response_due", iso_or_null(s, 6));
	json_object_set_new(p, "breach_at", iso_or_null(s, 7));
	msg = sqlite3_column_int64(s, 8);
	json_object_set_new(p, "message", msg ? json_integer(msg) : json_null());
	json_object_set_new(p, "message_received", iso_or_null(s, 9));
	json_object_set_new(p, "messages", json_integer(sqlite3_column_int(s,
	    10)));
	store_stmt_done(s);
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

/* With oncall.reply_to, the first alert is answered from a phone like an
 * escalation (the person it reaches first may be the only one awake): one
 * mail per alerts.to address, each with its own token (step "a"). */
static int
queue_alert_ack_mails(struct store *st, const struct config *cfg,
    long long ticket, json_t *p, time_t now)
{
	json_t *to = json_array(), *hook;
	char *text;
	size_t k;
	int n = 0, rc = STORE_OK;

	if (cfg->alerts_webhook) {
		hook = json_deep_copy(p);
		text = fmt_json_dumps(hook, JSON_COMPACT | JSON_PRESERVE_ORDER);
		rc = text ? outbox_queue(st, "alert", "webhook", ticket, text,
		    now) : STORE_ERR;
		n += rc == STORE_OK;
		free(text);
		json_decref(hook);
	}
	for (k = 0; k < cfg->alerts_nto; k++)
		json_array_append_new(to, json_string(cfg->alerts_to[k]));
	if (rc == STORE_OK && (rc = outbox_queue_ack_mails(st, cfg, p, to,
	    ticket, (long long)json_integer_value(json_object_get(p,
	    "message")), -1, 0, now)) >= 0) {
		n += rc;
		rc = STORE_OK;
	}
	json_decref(to);
	return rc == STORE_OK ? n : rc;
}

int
outbox_queue_alert(struct store *st, const struct config *cfg,
    long long ticket, const char *reason, time_t now)
{
	json_t *p;
	int rc;

	if (cfg->alerts_webhook == NULL && cfg->alerts_nto == 0)
		return 0;
	if ((p = outbox_alert_payload(st, cfg, ticket, reason, &rc)) == NULL)
		return rc;
	if (cfg->oncall_reply_to && cfg->alerts_nto > 0)
		rc = queue_alert_ack_mails(st, cfg, ticket, p, now);
	else
		rc = queue_channels(st, cfg, "alert", ticket, p, now);
	json_decref(p);
	return rc;
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
