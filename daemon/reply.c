/* SPDX-License-Identifier: MIT */
/*
 * reply.c: a staff reply read from an outbound source (reply.h).  It is a
 * person's response, so it does what `intake ack` does, but at the time
 * the reply was written (its received time in the Sent folder), and only
 * for the contact messages received before it: one the contact sent after
 * the reply stays unanswered.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "ingest_p.h"
#include "log.h"
#include "reply.h"
#include "sla.h"
#include "util.h"

#define REPLY_ACTOR_MAX	100

const struct source_config *
reply_source(const struct config *cfg, const char *source)
{
	const struct source_config *sc = config_source(cfg, source);

	return sc && sc->outbound ? sc : NULL;
}

/* Run sql with integer parameters a, b, c (those after n unused). */
static int
exec_ints(struct ingest_ctx *ctx, const char *sql, int n, long long a,
    long long b, long long c)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = store_stmt(ctx->store, sql, &rc)) == NULL)
		return store_classify(rc);
	if (n > 0)
		sqlite3_bind_int64(s, 1, a);
	if (n > 1)
		sqlite3_bind_int64(s, 2, b);
	if (n > 2)
		sqlite3_bind_int64(s, 3, c);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

/* Who answered: the source's staff name, else the reply's From address. */
static char *
reply_actor(const struct source_config *sc, const struct message *msg)
{
	const char *who = sc->staff && *sc->staff ? sc->staff :
	    msg->from_addr && *msg->from_addr ? msg->from_addr : "staff";

	return utf8_truncate(who, REPLY_ACTOR_MAX);
}

/*
 * After a reply answered messages: the ticket waits for its earliest
 * contact message still unanswered (its deadlines recomputed from that
 * message's received time, at the ticket's urgency), or for nobody.
 */
static int
rewait(struct ingest_ctx *ctx, long long ticket, time_t now)
{
	struct deadlines dl;
	sqlite3_stmt *s;
	enum call_type type = CT_UNCLASSIFIED;
	enum urgency u = URG_NONE;
	long long msg = 0;
	time_t since = 0;
	int rc, step;

	s = store_stmt(ctx->store, "SELECT m.id, m.received_at, t.type, "
	    "t.urgency FROM tickets t JOIN messages m ON m.ticket_id = t.id "
	    "WHERE t.id = ? AND t.automated = 0 AND m.direction = 'in' AND "
	    "m.responded_at IS NULL ORDER BY m.received_at, m.id LIMIT 1", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, ticket);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		msg = sqlite3_column_int64(s, 0);
		since = (time_t)sqlite3_column_int64(s, 1);
		if (call_type_parse((const char *)sqlite3_column_text(s, 2),
		    &type) == -1)
			type = CT_UNCLASSIFIED;
		if (urgency_parse((const char *)sqlite3_column_text(s, 3),
		    &u) == -1)
			u = URG_NONE;
	}
	store_stmt_done(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_classify(step);
	if (msg == 0)
		return exec_ints(ctx, "UPDATE tickets SET awaiting_since = NULL, "
		    "awaiting_message = NULL, updated_at = ? WHERE id = ?", 2,
		    (long long)now, ticket, 0);
	if (sla_compute(ctx->cal, ctx->cfg, type, u, since, &dl) == -1 ||
	    dl.response_due == 0)
		return exec_ints(ctx, "UPDATE tickets SET awaiting_since = ?, "
		    "awaiting_message = ? WHERE id = ?", 3, (long long)since, msg,
		    ticket);
	s = store_stmt(ctx->store, "UPDATE tickets SET awaiting_since = ?, "
	    "awaiting_message = ?, response_due = ?, breach_at = ?, "
	    "updated_at = ? WHERE id = ?", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(s, 2, msg);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)dl.response_due);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)dl.breach_at);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 6, ticket);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

/*
 * The reply (received at `at`) is the response to the contact messages
 * received up to then.  The first response on the ticket is its
 * acknowledgement (sla_met: at <= breach_at, doc/sla.md); a ticket
 * acknowledged before keeps its first one.  An "ack" event records it, as
 * `intake ack` does, with the reply's message id.
 */
static int
respond(struct ingest_ctx *ctx, long long ticket, long long message,
    const char *actor, time_t at, time_t now)
{
	sqlite3_stmt *s;
	time_t due = 0, breach = 0;
	int rc, step, answered, first = 0, met = -1;

	rc = exec_ints(ctx, "UPDATE messages SET responded_at = ?1 WHERE "
	    "ticket_id = ?2 AND direction = 'in' AND responded_at IS NULL AND "
	    "received_at <= ?1", 2, (long long)at, ticket, 0);
	if (rc != STORE_OK)
		return rc;
	answered = sqlite3_changes(store_db(ctx->store));
	if (answered == 0)
		return STORE_OK;
	s = store_stmt(ctx->store, "SELECT acknowledged_at IS NULL, "
	    "response_due, breach_at FROM tickets WHERE id = ?", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, ticket);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		first = sqlite3_column_int(s, 0);
		due = (time_t)sqlite3_column_int64(s, 1);
		breach = (time_t)sqlite3_column_int64(s, 2);
	}
	store_stmt_done(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_classify(step);
	if (breach)
		met = at <= breach;
	if (first) {
		s = store_stmt(ctx->store, "UPDATE tickets SET acknowledged_at = ?, "
		    "acknowledged_by = ?, sla_met = ?, updated_at = ? WHERE id = ?",
		    &rc);
		if (s == NULL)
			return store_classify(rc);
		sqlite3_bind_int64(s, 1, (sqlite3_int64)at);
		sqlite3_bind_text(s, 2, actor, -1, SQLITE_TRANSIENT);
		if (met < 0)
			sqlite3_bind_null(s, 3);
		else
			sqlite3_bind_int(s, 3, met);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
		sqlite3_bind_int64(s, 5, ticket);
		rc = sqlite3_step(s);
		store_stmt_done(s);
		if (rc != SQLITE_DONE)
			return store_classify(rc);
	}
	if ((rc = rewait(ctx, ticket, now)) != STORE_OK)
		return rc;
	return ingest_event(ctx, ticket, now, actor, "ack", json_pack(
	    "{s:o,s:o,s:o,s:b,s:i,s:s,s:I}",
	    "response_due", fmt_json_time(due),
	    "breach_at", fmt_json_time(breach),
	    "sla_met", met < 0 ? json_null() : json_boolean(met),
	    "first", first, "answered", answered, "via", "reply",
	    "message", (json_int_t)message));
}

int
reply_late_message(struct ingest_ctx *ctx, long long ticket, time_t received,
    time_t now)
{
	sqlite3_stmt *s;
	long long reply = 0;
	time_t at = 0;
	char *actor = NULL;
	int rc, step;

	s = store_stmt(ctx->store, "SELECT m.id, m.received_at, (SELECT e.actor "
	    "FROM events e WHERE e.ticket_id = m.ticket_id AND e.kind = 'reply' "
	    "AND json_valid(e.detail) AND json_extract(e.detail, '$.message') = "
	    "m.id) FROM messages m WHERE m.ticket_id = ? AND m.direction = 'out' "
	    "AND m.received_at >= ? ORDER BY m.received_at, m.id LIMIT 1", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, ticket);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)received);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		reply = sqlite3_column_int64(s, 0);
		at = (time_t)sqlite3_column_int64(s, 1);
		actor = xstrdup(sqlite3_column_text(s, 2) ?
		    (const char *)sqlite3_column_text(s, 2) : "staff");
	}
	store_stmt_done(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_classify(step);
	if (reply == 0)
		return STORE_OK;
	rc = respond(ctx, ticket, reply, actor, at, now);
	free(actor);
	return rc;
}

/* A reply already kept as unmatched (the same source key, or the same
 * Message-ID and normalised message)? */
static int
unmatched_known(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const struct dedup_info *di, int *known)
{
	sqlite3_stmt *s;
	int rc, step;

	*known = 0;
	s = store_stmt(ctx->store, "SELECT 1 FROM unmatched_replies WHERE "
	    "source = ?1 AND source_key = ?2 UNION ALL SELECT 1 FROM "
	    "unmatched_replies WHERE message_id = ?3 AND norm_sha256 = ?4 "
	    "LIMIT 1", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, raw->source, -1, SQLITE_TRANSIENT);
	bind_text_or_null(s, 2, raw->source_key);
	bind_text_or_null(s, 3, msg->message_id);
	sqlite3_bind_text(s, 4, di->norm_sha256, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(s);
	*known = step == SQLITE_ROW;
	store_stmt_done(s);
	return step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK :
	    store_classify(step);
}

static int
store_unmatched(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const char *sha, const struct dedup_info *di,
    time_t now, struct ingest_result *res)
{
	sqlite3_stmt *s;
	int rc, known;

	if ((rc = unmatched_known(ctx, raw, msg, di, &known)) != STORE_OK)
		return rc;
	if (known) {
		res->duplicate = 1;
		return STORE_OK;
	}
	s = store_stmt(ctx->store, "INSERT INTO unmatched_replies (source, "
	    "source_key, message_id, sha256, norm_sha256, raw, size, "
	    "received_at, from_addr, to_addr, subject, in_reply_to, refs, "
	    "created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, raw->source, -1, SQLITE_TRANSIENT);
	bind_text_or_null(s, 2, raw->source_key);
	bind_text_or_null(s, 3, msg->message_id);
	sqlite3_bind_text(s, 4, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, di->norm_sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(s, 6, raw->len ? raw->data : "", raw->len,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)(raw->oversize ? raw->real_size :
	    raw->len));
	sqlite3_bind_int64(s, 8, (sqlite3_int64)raw->received_at);
	bind_text_or_null(s, 9, msg->from_addr);
	bind_text_or_null(s, 10, msg->to);
	bind_text_or_null(s, 11, msg->subject);
	bind_text_or_null(s, 12, msg->in_reply_to);
	bind_text_or_null(s, 13, msg->references);
	sqlite3_bind_int64(s, 14, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	if (rc != SQLITE_DONE)
		return store_classify(rc);
	/* The source and key only: never what the reply says. */
	log_notice("source %s: a staff reply that threads to no ticket (%s): "
	    "kept as unmatched", raw->source, raw->source_key ?
	    raw->source_key : "no key");
	res->message = 0;
	res->ticket = 0;
	return STORE_OK;
}

int
reply_store(struct ingest_ctx *ctx, const struct source_config *sc,
    const struct raw_input *raw, const struct message *msg, const char *sha,
    const struct dedup_info *di, long long ticket, time_t now,
    time_t claimed, struct ingest_result *res)
{
	long long message;
	char *actor;
	int rc;

	res->parse_status = msg->status;
	if (ticket == 0)
		return store_unmatched(ctx, raw, msg, sha, di, now, res);
	if ((rc = ingest_store_message(ctx, raw, msg, sha, di, ticket, now,
	    claimed, &message)) != STORE_OK)
		return rc;
	/* Out of the unanswered index: a staff reply waits for nobody. */
	if ((rc = exec_ints(ctx, "UPDATE messages SET direction = 'out', "
	    "responded_at = ? WHERE id = ?", 2, (long long)raw->received_at,
	    message, 0)) != STORE_OK)
		return rc;
	actor = reply_actor(sc, msg);
	rc = ingest_event(ctx, ticket, now, actor, "reply", json_pack("{s:I,s:s}",
	    "message", (json_int_t)message, "source", raw->source));
	if (rc == STORE_OK)
		rc = respond(ctx, ticket, message, actor, raw->received_at, now);
	free(actor);
	if (rc != STORE_OK)
		return rc;
	res->ticket = ticket;
	res->message = message;
	res->appended = 1;
	return STORE_OK;
}
