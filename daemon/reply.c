/* SPDX-License-Identifier: MIT */
/*
 * reply.c: a staff reply read from an outbound source (reply.h).  It is a
 * person's response, so it does what `intake ack` does, but at the time
 * the reply was written (its received time in the Sent folder), and only
 * for the contact messages received before it: one the contact sent after
 * the reply stays unanswered.  On the store's statement API (both
 * drivers), inside the ingest's transaction.
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
static const struct query q_first_unanswered = {
	"SELECT m.id, m.received_at, t.type, t.urgency FROM tickets t JOIN "
	"messages m ON m.ticket_id = t.id WHERE t.id = ? AND t.automated = 0 "
	"AND m.direction = 'in' AND m.responded_at IS NULL "
	"ORDER BY m.received_at, m.id LIMIT 1", NULL };
static const struct query q_waits_none = {
	"UPDATE tickets SET awaiting_since = NULL, awaiting_message = NULL, "
	"updated_at = ? WHERE id = ?", NULL };
static const struct query q_waits = {
	"UPDATE tickets SET awaiting_since = ?, awaiting_message = ? "
	"WHERE id = ?", NULL };
static const struct query q_waits_due = {
	"UPDATE tickets SET awaiting_since = ?, awaiting_message = ?, "
	"response_due = ?, breach_at = ?, updated_at = ? WHERE id = ?", NULL };

static int
rewait(struct ingest_ctx *ctx, long long ticket, time_t now)
{
	struct deadlines dl;
	struct stmt *s;
	enum call_type type = CT_UNCLASSIFIED;
	enum urgency u = URG_NONE;
	long long msg = 0;
	time_t since = 0;
	int rc;

	if ((s = store_prepare(ctx->store, &q_first_unanswered, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		msg = store_col_int64(s, 0);
		since = (time_t)store_col_int64(s, 1);
		if (call_type_parse(store_col_text(s, 2, NULL), &type) == -1)
			type = CT_UNCLASSIFIED;
		if (urgency_parse(store_col_text(s, 3, NULL), &u) == -1)
			u = URG_NONE;
	}
	store_done(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return rc;
	if (msg == 0)
		return store_rc_of(store_exec(ctx->store, &q_waits_none, "ii",
		    (long long)now, ticket));
	if (sla_compute(ctx->cal, ctx->cfg, type, u, since, &dl) == -1 ||
	    dl.response_due == 0)
		return store_rc_of(store_exec(ctx->store, &q_waits, "iii",
		    (long long)since, msg, ticket));
	if ((s = store_prepare(ctx->store, &q_waits_due, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)since)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, msg)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, (long long)dl.response_due)) ==
	    STORE_OK &&
	    (rc = store_bind_int64(s, 4, (long long)dl.breach_at)) == STORE_OK &&
	    (rc = store_bind_int64(s, 5, (long long)now)) == STORE_OK &&
	    (rc = store_bind_int64(s, 6, ticket)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

/*
 * The reply (received at `at`) is the response to the contact messages
 * received up to then.  The first response on the ticket is its
 * acknowledgement (sla_met: at <= breach_at, doc/sla.md); a ticket
 * acknowledged before keeps its first one.  An "ack" event records it, as
 * `intake ack` does, with the reply's message id.
 */
static const struct query q_answer_until = {
	"UPDATE messages SET responded_at = ?1 WHERE ticket_id = ?2 AND "
	"direction = 'in' AND responded_at IS NULL AND received_at <= ?1", NULL };
static const struct query q_ack_state = {
	"SELECT acknowledged_at IS NULL, response_due, breach_at FROM tickets "
	"WHERE id = ?",
	/* SQLite's BEGIN IMMEDIATE already holds the write lock */
	"SELECT acknowledged_at IS NULL, response_due, breach_at FROM tickets "
	"WHERE id = $1 FOR UPDATE" };
static const struct query q_ack_first = {
	"UPDATE tickets SET acknowledged_at = ?, acknowledged_by = ?, "
	"sla_met = ?, updated_at = ? WHERE id = ?", NULL };

/* The first acknowledgement, at `at` by actor (met -1: no deadline). */
static int
ack_first(struct ingest_ctx *ctx, long long ticket, const char *actor,
    time_t at, int met, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(ctx->store, &q_ack_first, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)at)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, actor, (size_t)-1)) == STORE_OK &&
	    (rc = met < 0 ? store_bind_null(s, 3) :
	    store_bind_int64(s, 3, met)) == STORE_OK &&
	    (rc = store_bind_int64(s, 4, (long long)now)) == STORE_OK &&
	    (rc = store_bind_int64(s, 5, ticket)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

static int
respond(struct ingest_ctx *ctx, long long ticket, long long message,
    const char *actor, time_t at, time_t now)
{
	struct stmt *s;
	time_t due = 0, breach = 0;
	long long answered;
	int rc, first = 0, met = -1;

	answered = store_exec(ctx->store, &q_answer_until, "ii",
	    (long long)at, ticket);
	if (answered <= 0)
		return store_rc_of(answered);
	if ((s = store_prepare(ctx->store, &q_ack_state, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK &&
	    (rc = store_step(s)) == STORE_ROW) {
		first = store_col_int64(s, 0) != 0;
		due = (time_t)store_col_int64(s, 1);
		breach = (time_t)store_col_int64(s, 2);
	}
	store_done(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return rc;
	if (breach)
		met = at <= breach;
	if (first && (rc = ack_first(ctx, ticket, actor, at, met, now)) !=
	    STORE_OK)
		return rc;
	if ((rc = rewait(ctx, ticket, now)) != STORE_OK)
		return rc;
	return ingest_event(ctx, ticket, now, actor, "ack", json_pack(
	    "{s:o,s:o,s:o,s:b,s:i,s:s,s:I}",
	    "response_due", fmt_json_time(due),
	    "breach_at", fmt_json_time(breach),
	    "sla_met", met < 0 ? json_null() : json_boolean(met),
	    "first", first, "answered", (int)answered, "via", "reply",
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
	/* PostgreSQL: the detail of a "reply" event is always the JSON
	 * store_reply() wrote (its scalar subquery must give one row) */
	static const struct query q_replies_since = {
		"SELECT m.id, m.received_at, (SELECT e.actor FROM events e WHERE "
		"e.ticket_id = m.ticket_id AND e.kind = 'reply' AND "
		"json_valid(e.detail) AND json_extract(e.detail, '$.message') = "
		"m.id) FROM messages m WHERE m.ticket_id = ? AND m.direction = "
		"'out' AND m.received_at >= ? ORDER BY m.received_at, m.id",
		"SELECT m.id, m.received_at, (SELECT e.actor FROM events e WHERE "
		"e.ticket_id = m.ticket_id AND e.kind = 'reply' AND "
		"(CASE WHEN e.kind = 'reply' THEN e.detail::jsonb -> 'message' "
		"END) = to_jsonb(m.id) ORDER BY e.id LIMIT 1) FROM messages m "
		"WHERE m.ticket_id = $1 AND m.direction = 'out' AND "
		"m.received_at >= $2 ORDER BY m.received_at, m.id" };
	struct stmt *s;
	struct stored_reply *v = NULL;
	const char *who;
	size_t n = 0, i;
	int rc;

	/* Every reply written since, oldest first: each answers what came
	 * before it and is still unanswered, so every contact message gets
	 * the earliest reply after it, whichever was stored first.  Copied
	 * out: respond() runs statements of its own. */
	if ((s = store_prepare(ctx->store, &q_replies_since, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)received)) == STORE_OK)
		while ((rc = store_step(s)) == STORE_ROW) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n].id = store_col_int64(s, 0);
			v[n].at = (time_t)store_col_int64(s, 1);
			who = store_col_text(s, 2, NULL);
			v[n].actor = xstrdup(who ? who : "staff");
			n++;
		}
	store_done(s);
	rc = rc == STORE_DONE ? STORE_OK : rc;
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
	static const struct query q_kept = {
		"SELECT 1 FROM unmatched_replies WHERE source = ? AND "
		"source_key = ? AND attached_message IS NULL", NULL };
	struct stmt *s;
	int rc;

	*kept = 0;
	if (raw->source_key == NULL)
		return STORE_OK;
	if ((s = store_prepare(ctx->store, &q_kept, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, raw->source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, raw->source_key, (size_t)-1)) ==
	    STORE_OK)
		rc = store_step(s);
	*kept = rc == STORE_ROW;
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* A reply already kept as unmatched (the same source key, or the same
 * Message-ID and normalised message)? */
static int
unmatched_known(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const struct dedup_info *di, int *known)
{
	static const struct query q_known = {
		"SELECT 1 FROM unmatched_replies WHERE source = ?1 AND "
		"source_key = ?2 UNION ALL SELECT 1 FROM unmatched_replies WHERE "
		"message_id = ?3 AND norm_sha256 = ?4 LIMIT 1", NULL };
	struct stmt *s;
	int rc;

	*known = 0;
	if ((s = store_prepare(ctx->store, &q_known, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, raw->source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, raw->source_key, (size_t)-1)) ==
	    STORE_OK &&
	    (rc = store_bind_text(s, 3, msg->message_id, (size_t)-1)) ==
	    STORE_OK &&
	    (rc = store_bind_text(s, 4, di->norm_sha256, (size_t)-1)) ==
	    STORE_OK)
		rc = store_step(s);
	*known = rc == STORE_ROW;
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

static int
store_unmatched(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const char *sha, const struct dedup_info *di,
    time_t now, struct ingest_result *res)
{
	static const struct query q_keep = {
		"INSERT INTO unmatched_replies (source, source_key, message_id, "
		"sha256, norm_sha256, raw, size, received_at, from_addr, to_addr, "
		"subject, in_reply_to, refs, created_at) "
		"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", NULL };
	const char *text[] = { raw->source, raw->source_key, msg->message_id,
	    sha, di->norm_sha256 };
	const char *hdr[] = { msg->from_addr, msg->to, msg->subject,
	    msg->in_reply_to, msg->references };
	struct stmt *s;
	size_t i;
	int rc, known;

	if ((rc = unmatched_known(ctx, raw, msg, di, &known)) != STORE_OK)
		return rc;
	if (known) {
		res->duplicate = 1;
		return STORE_OK;
	}
	if ((s = store_prepare(ctx->store, &q_keep, &rc)) == NULL)
		return rc;
	rc = STORE_OK;
	for (i = 0; i < NELEM(text) && rc == STORE_OK; i++)
		rc = store_bind_text(s, (int)i + 1, text[i], (size_t)-1);
	if (rc == STORE_OK)
		rc = store_bind_blob(s, 6, raw->len ? raw->data : "", raw->len);
	if (rc == STORE_OK)
		rc = store_bind_int64(s, 7, (long long)(raw->oversize ?
		    raw->real_size : raw->len));
	if (rc == STORE_OK)
		rc = store_bind_int64(s, 8, (long long)raw->received_at);
	for (i = 0; i < NELEM(hdr) && rc == STORE_OK; i++)
		rc = store_bind_text(s, (int)i + 9, hdr[i], (size_t)-1);
	if (rc == STORE_OK)
		rc = store_bind_int64(s, 14, (long long)now);
	if (rc == STORE_OK)
		rc = store_step(s);
	store_done(s);
	if (rc != STORE_DONE)
		return rc;
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
static const struct query q_outbound = {
	"UPDATE messages SET direction = 'out', responded_at = ? WHERE id = ?",
	NULL };

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
	if ((rc = store_rc_of(store_exec(ctx->store, &q_outbound, "ii",
	    (long long)raw->received_at, *message))) != STORE_OK)
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
#define ATTACH_SET(raw) "UPDATE unmatched_replies SET attached_message " \
	"= ?1, attached_at = ?2, raw = " raw ", subject = NULL, to_addr = " \
	"NULL, in_reply_to = NULL, refs = NULL WHERE attached_message IS NULL AND "

static const struct query q_attach_id = {
	ATTACH_SET("X''") "id = ?3", ATTACH_SET("''::bytea") "id = $3" };
static const struct query q_attach_key = {
	ATTACH_SET("X''") "source = ?3 AND source_key = ?4",
	ATTACH_SET("''::bytea") "source = $3 AND source_key = $4" };

static int
mark_attached(struct ingest_ctx *ctx, long long id, const char *source,
    const char *key, long long message, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(ctx->store, id ? &q_attach_id : &q_attach_key,
	    &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, message)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)now)) == STORE_OK) {
		if (id)
			rc = store_bind_int64(s, 3, id);
		else if ((rc = store_bind_text(s, 3, source, (size_t)-1)) ==
		    STORE_OK)
			rc = store_bind_text(s, 4, key, (size_t)-1);
	}
	if (rc == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
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
col_strdup(struct stmt *s, int i)
{
	const char *t = store_col_text(s, i, NULL);

	return t ? xstrdup(t) : NULL;
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
	static const struct query q_one = {
		"SELECT source, source_key, raw, size, received_at, sha256 FROM "
		"unmatched_replies WHERE id = ?", NULL };
	struct stmt *s;
	const void *blob;
	int rc;

	memset(k, 0, sizeof(*k));
	if ((s = store_prepare(ctx->store, &q_one, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, id)) == STORE_OK &&
	    (rc = store_step(s)) == STORE_ROW) {
		k->id = id;
		k->source = col_strdup(s, 0);
		k->source_key = col_strdup(s, 1);
		blob = store_col_blob(s, 2, &k->len);
		k->raw = xmalloc(k->len + 1);
		if (k->len)
			memcpy(k->raw, blob, k->len);
		k->raw[k->len] = '\0';
		k->size = store_col_int64(s, 3);
		k->received = (time_t)store_col_int64(s, 4);
		k->sha = col_strdup(s, 5);
	}
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
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
	/* PostgreSQL: strpos(); its planner picks the partial index */
	static const struct query q_waiting = {
		"SELECT id, in_reply_to, refs FROM unmatched_replies INDEXED BY "
		"unmatched_replies_waiting WHERE attached_message IS NULL AND "
		"(instr(in_reply_to, ?1) > 0 OR instr(refs, ?1) > 0)",
		"SELECT id, in_reply_to, refs FROM unmatched_replies WHERE "
		"attached_message IS NULL AND (strpos(in_reply_to, $1) > 0 OR "
		"strpos(refs, $1) > 0)" };
	struct stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (msgid == NULL || *msgid == '\0')
		return STORE_OK;
	if ((s = store_prepare(ctx->store, &q_waiting, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, msgid, (size_t)-1)) == STORE_OK)
		while ((rc = store_step(s)) == STORE_ROW && *n < ATTACH_MAX) {
			if (!ids_name(store_col_text(s, 1, NULL), msgid) &&
			    !ids_name(store_col_text(s, 2, NULL), msgid))
				continue;
			*out = xreallocarray(*out, *n + 1, sizeof(**out));
			(*out)[(*n)++] = store_col_int64(s, 0);
		}
	store_done(s);
	return rc == STORE_DONE || rc == STORE_ROW ? STORE_OK : rc;
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
