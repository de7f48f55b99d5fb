/* SPDX-License-Identifier: MIT */
/*
 * reply.c: a staff reply read from an outbound source (reply.h).  It is a
 * person's response, so it does what `intake ack` does, but at the time
 * the reply was written (its received time in the Sent folder), and only
 * for the contact messages received before it: one the contact sent after
 * the reply stays unanswered.
 */
#include <stdio.h>
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
	/* sc NULL: a kept reply whose source is no longer configured */
	const char *who = sc && sc->staff && *sc->staff ? sc->staff :
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

/* A stored staff reply of the ticket: its message id, time, actor. */
struct stored_reply {
	long long	 id;
	time_t		 at;
	char		*actor;
};

int
reply_late_message(struct ingest_ctx *ctx, long long ticket, time_t received,
    time_t now)
{
	sqlite3_stmt *s;
	struct stored_reply *v = NULL;
	size_t n = 0, i;
	int rc, step;

	/* Every reply written since, oldest first: each answers what came
	 * before it and is still unanswered, so every contact message gets
	 * the earliest reply after it, whichever was stored first.  Copied
	 * out: respond() runs statements of its own. */
	s = store_stmt(ctx->store, "SELECT m.id, m.received_at, (SELECT e.actor "
	    "FROM events e WHERE e.ticket_id = m.ticket_id AND e.kind = 'reply' "
	    "AND json_valid(e.detail) AND json_extract(e.detail, '$.message') = "
	    "m.id) FROM messages m WHERE m.ticket_id = ? AND m.direction = 'out' "
	    "AND m.received_at >= ? ORDER BY m.received_at, m.id", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, ticket);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)received);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].id = sqlite3_column_int64(s, 0);
		v[n].at = (time_t)sqlite3_column_int64(s, 1);
		v[n].actor = xstrdup(sqlite3_column_text(s, 2) ?
		    (const char *)sqlite3_column_text(s, 2) : "staff");
		n++;
	}
	store_stmt_done(s);
	rc = step == SQLITE_DONE ? STORE_OK : store_classify(step);
	for (i = 0; i < n; i++) {
		if (rc == STORE_OK)
			rc = respond(ctx, ticket, v[i].id, v[i].actor, v[i].at, now);
		free(v[i].actor);
	}
	free(v);
	return rc;
}

int
reply_kept(struct ingest_ctx *ctx, const struct raw_input *raw, int *kept)
{
	sqlite3_stmt *s;
	int rc, step;

	*kept = 0;
	if (raw->source_key == NULL)
		return STORE_OK;
	s = store_stmt(ctx->store, "SELECT 1 FROM unmatched_replies WHERE "
	    "source = ? AND source_key = ? AND attached_message IS NULL", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, raw->source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, raw->source_key, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(s);
	*kept = step == SQLITE_ROW;
	store_stmt_done(s);
	return step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK :
	    store_classify(step);
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

/*
 * Store a reply that threads to ticket as a staff reply (direction 'out',
 * answering nobody yet) with its "reply" event; unmatched: the
 * unmatched_replies row it was kept as, or 0.  *actor: who answered
 * (caller frees).
 */
static int
store_reply(struct ingest_ctx *ctx, const struct source_config *sc,
    const struct raw_input *raw, const struct message *msg, const char *sha,
    const struct dedup_info *di, long long ticket, time_t now,
    time_t claimed, long long unmatched, long long *message, char **actor)
{
	json_t *detail;
	int rc;

	*actor = NULL;
	if ((rc = ingest_store_message(ctx, raw, msg, sha, di, ticket, now,
	    claimed, message)) != STORE_OK)
		return rc;
	/* Out of the unanswered index: a staff reply waits for nobody. */
	if ((rc = exec_ints(ctx, "UPDATE messages SET direction = 'out', "
	    "responded_at = ? WHERE id = ?", 2, (long long)raw->received_at,
	    *message, 0)) != STORE_OK)
		return rc;
	*actor = reply_actor(sc, msg);
	detail = json_pack("{s:I,s:s}", "message", (json_int_t)*message,
	    "source", raw->source);
	if (unmatched)
		json_object_set_new(detail, "unmatched", json_integer(unmatched));
	return ingest_event(ctx, ticket, now, *actor, "reply", detail);
}

/*
 * A kept reply now stored as the message `message`: marked attached (the
 * daemon deletes nothing, sql/014_reply_attach.sql) and its content
 * cleared, so what `intake purge` removes with the ticket is nowhere else.
 * By its row id, or (id 0) by its source key.
 */
#define ATTACH_SET "UPDATE unmatched_replies SET attached_message = ?1, " \
	"attached_at = ?2, raw = X'', subject = NULL, to_addr = NULL, " \
	"in_reply_to = NULL, refs = NULL WHERE attached_message IS NULL AND "

static int
mark_attached(struct ingest_ctx *ctx, long long id, const char *source,
    const char *key, long long message, time_t now)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(ctx->store, id ? ATTACH_SET "id = ?3" :
	    ATTACH_SET "source = ?3 AND source_key = ?4", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, message);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	if (id)
		sqlite3_bind_int64(s, 3, id);
	else {
		sqlite3_bind_text(s, 3, source, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, key, -1, SQLITE_TRANSIENT);
	}
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
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
	rc = store_reply(ctx, sc, raw, msg, sha, di, ticket, now, claimed, 0,
	    &message, &actor);
	if (rc == STORE_OK)
		rc = respond(ctx, ticket, message, actor, raw->received_at, now);
	/* A Maildir offers a kept reply again each poll (it is not in
	 * messages): once it threads, it is unmatched no more. */
	if (rc == STORE_OK && raw->source_key)
		rc = mark_attached(ctx, 0, raw->source, raw->source_key, message,
		    now);
	free(actor);
	if (rc != STORE_OK)
		return rc;
	res->ticket = ticket;
	res->message = message;
	res->appended = 1;
	return STORE_OK;
}

/* ---- replies kept as unmatched, attached later ---------------------- */

/* An unmatched_replies row, copied out. */
struct kept_reply {
	long long	 id;
	char		*source;
	char		*source_key;
	char		*raw;
	size_t		 len;
	long long	 size;
	time_t		 received;
	char		*sha;
};

static char *
col_strdup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static void
kept_free(struct kept_reply *k)
{
	free(k->source);
	free(k->source_key);
	free(k->raw);
	free(k->sha);
}

/* Whether the Message-ID list ids (In-Reply-To, References) names id. */
static int
ids_name(const char *ids, const char *id)
{
	char *copy, *tok, *save = NULL;
	int found = 0;

	if (ids == NULL || id == NULL || *id == '\0')
		return 0;
	copy = xstrdup(ids);
	for (tok = strtok_r(copy, " \t,<>", &save); tok && !found;
	    tok = strtok_r(NULL, " \t,<>", &save))
		found = strcmp(tok, id) == 0;
	free(copy);
	return found;
}

/* The kept reply row id, copied out (its content: load_one()). */
static int
load_one(struct ingest_ctx *ctx, long long id, struct kept_reply *k)
{
	sqlite3_stmt *s;
	const void *blob;
	int rc, step;

	memset(k, 0, sizeof(*k));
	s = store_stmt(ctx->store, "SELECT source, source_key, raw, size, "
	    "received_at, sha256 FROM unmatched_replies WHERE id = ?", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, id);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		k->id = id;
		k->source = col_strdup(s, 0);
		k->source_key = col_strdup(s, 1);
		k->len = (size_t)sqlite3_column_bytes(s, 2);
		blob = sqlite3_column_blob(s, 2);
		k->raw = xmalloc(k->len + 1);
		if (k->len)
			memcpy(k->raw, blob, k->len);
		k->raw[k->len] = '\0';
		k->size = sqlite3_column_int64(s, 3);
		k->received = (time_t)sqlite3_column_int64(s, 4);
		k->sha = col_strdup(s, 5);
	}
	store_stmt_done(s);
	return step == SQLITE_ROW || step == SQLITE_DONE ? STORE_OK :
	    store_classify(step);
}

/*
 * The kept replies, still waiting, whose In-Reply-To or References name
 * msgid: the partial index unmatched_replies_waiting (threading headers of
 * the waiting rows only) is scanned for a substring, each hit checked
 * exactly.  A subject tag is not looked at: a reply carrying the keyed tag
 * of a ticket that exists threads when it is read, so one kept with a tag
 * names a ticket number that did not exist then (a database restored from
 * a backup), and the ticket that gets the number now is someone else's.
 * At most ATTACH_MAX, in no order (they answer in time order afterwards,
 * reply_late_message()).
 */
#define ATTACH_MAX	100

static int
find_kept(struct ingest_ctx *ctx, const char *msgid, long long **out,
    size_t *n)
{
	sqlite3_stmt *s;
	int rc, step;

	*out = NULL;
	*n = 0;
	if (msgid == NULL || *msgid == '\0')
		return STORE_OK;
	s = store_stmt(ctx->store, "SELECT id, in_reply_to, refs FROM "
	    "unmatched_replies INDEXED BY unmatched_replies_waiting WHERE "
	    "attached_message IS NULL AND (instr(in_reply_to, ?1) > 0 OR "
	    "instr(refs, ?1) > 0)", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, msgid, -1, SQLITE_TRANSIENT);
	while ((step = sqlite3_step(s)) == SQLITE_ROW && *n < ATTACH_MAX) {
		if (!ids_name((const char *)sqlite3_column_text(s, 1), msgid) &&
		    !ids_name((const char *)sqlite3_column_text(s, 2), msgid))
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	store_stmt_done(s);
	return step == SQLITE_DONE || step == SQLITE_ROW ? STORE_OK :
	    store_classify(step);
}

/* Store one kept reply on ticket as the staff reply it is, and take it
 * off the unmatched list. */
static int
attach_kept(struct ingest_ctx *ctx, const struct kept_reply *k,
    long long ticket, time_t now)
{
	struct raw_input raw;
	struct dedup_info di;
	struct message msg;
	long long message;
	char *actor = NULL;
	int rc;

	memset(&raw, 0, sizeof(raw));
	raw.data = k->raw;
	raw.len = k->len;
	raw.source = k->source ? k->source : "unknown";
	raw.source_key = k->source_key;
	raw.received_at = k->received;
	/* kept as headers only when it was too large */
	raw.oversize = k->size > (long long)k->len;
	raw.real_size = (size_t)k->size;
	if (ctx->parse)
		ctx->parse(ctx->parse_arg, k->raw, k->len, &ctx->limits, &msg);
	else
		message_parse(k->raw, k->len, &ctx->limits, &msg);
	dedup_info(k->raw, k->len, &di);
	rc = store_reply(ctx, reply_source(ctx->cfg, raw.source), &raw, &msg,
	    k->sha ? k->sha : "", &di, ticket, now, 0, k->id, &message, &actor);
	free(actor);
	message_free(&msg);
	if (rc == STORE_OK)
		rc = mark_attached(ctx, k->id, NULL, NULL, message, now);
	if (rc == STORE_OK)
		log_notice("ticket %lld: a staff reply kept as unmatched (source "
		    "%s, %s) threads to it now: attached", ticket, raw.source,
		    k->source_key ? k->source_key : "no key");
	return rc;
}

int
reply_attach_unmatched(struct ingest_ctx *ctx, long long ticket,
    const char *msgid, time_t now, time_t *since, int *attached)
{
	struct kept_reply k;
	long long *ids;
	size_t n, i;
	int rc;

	*attached = 0;
	if ((rc = find_kept(ctx, msgid, &ids, &n)) != STORE_OK)
		return rc;
	for (i = 0; i < n && rc == STORE_OK; i++) {
		if ((rc = load_one(ctx, ids[i], &k)) == STORE_OK && k.id) {
			rc = attach_kept(ctx, &k, ticket, now);
			if (rc == STORE_OK) {
				(*attached)++;
				if (k.received < *since)
					*since = k.received;
			}
		}
		kept_free(&k);
	}
	free(ids);
	return rc;
}
