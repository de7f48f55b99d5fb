/* SPDX-License-Identifier: MIT */
/*
 * ingest.c: one message's way into the database.  The stages are separate
 * (parse, dedupe, triage, thread, schedule, store) and each talks to the
 * next through a small struct, so a stage can change without the others.
 * Everything here runs inside the caller's transaction.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "ack.h"
#include "dedup.h"
#include "ingest.h"
#include "ingest_p.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "remind.h"
#include "reply.h"
#include "rota.h"
#include "sla.h"
#include "tag.h"
#include "util.h"
#include "workflow.h"

#define SUBJECT_MAX	300
#define SENDER_MAX	300

/* What the stages decide about a message before it is written. */
struct decision {
	struct triage_result	 tri;
	struct deadlines	 dl;
	int			 needs_human;
	long long		 thread;	/* existing ticket, or 0 */
};

struct ticket_row {
	long long	 id;
	enum call_type	 type;
	enum urgency	 urgency;
	int		 open;
	time_t		 response_due;
	time_t		 breach_at;
	time_t		 received_at;
	time_t		 acknowledged_at;
	time_t		 awaiting_since;	/* earliest unanswered, or 0 */
};

/* ---- stage times (ingest.h) --------------------------------------------- */

static const char *const stage_names[STAGE_NSTAGES] = {
	"list", "fetch", "hash", "parse", "triage", "store", "commit", "mark",
	"alert",
};

const char *
ingest_stage_name(enum ingest_stage s)
{
	return s < STAGE_NSTAGES ? stage_names[s] : "?";
}

long long
ingest_times_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
ingest_times_add(struct ingest_times *t, enum ingest_stage s, long long start)
{
	if (t == NULL || s >= STAGE_NSTAGES)
		return;
	t->ns[s] += ingest_times_now() - start;
	t->n[s]++;
}

/* A stage's start: no clock read when nothing is timed. */
static long long
tstart(const struct ingest_ctx *ctx)
{
	return ctx->times ? ingest_times_now() : 0;
}

/* The stages timed inside one ingest, so STORE is what remains. */
static long long
inner_ns(const struct ingest_ctx *ctx)
{
	const struct ingest_times *t = ctx->times;

	return t ? t->ns[STAGE_HASH] + t->ns[STAGE_PARSE] +
	    t->ns[STAGE_TRIAGE] : 0;
}

/* STORE: the time of one ingest since start, less its inner stages. */
static void
store_time(struct ingest_ctx *ctx, long long start, long long inner)
{
	struct ingest_times *t = ctx->times;

	if (t == NULL)
		return;
	t->ns[STAGE_STORE] += ingest_times_now() - start -
	    (inner_ns(ctx) - inner);
	t->n[STAGE_STORE]++;
}

void
ingest_ctx_init(struct ingest_ctx *ctx, const struct config *cfg,
    const struct calendar *cal, const struct lexicon *lex, struct store *st)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->cal = cal;
	ctx->lex = lex;
	ctx->store = st;
	ctx->actor = "intake";
	parse_limits_default(&ctx->limits);
	ctx->limits.max_message_bytes = cfg->max_message_bytes;
	ctx->limits.max_depth = cfg->max_mime_depth;
	ctx->limits.max_parts = cfg->max_mime_parts;
	ctx->limits.max_headers = cfg->max_headers;
	ctx->limits.max_header_bytes = cfg->max_header_bytes;
	ctx->limits.max_text_bytes = cfg->max_text_bytes;
	ctx->limits.max_decode_ratio = cfg->max_decode_ratio;
	ctx->limits.timeout_ms = cfg->parse_timeout * 1000;
	/* Create the subject-tag key now (tag.h), not on the first reply:
	 * a failure is logged once, and tags are then ignored. */
	{
		char *err = NULL;

		if (tag_key_init(cfg, &err) == -1) {
			log_err("subject tags: %s", err);
			free(err);
		}
	}
}

/* The store's prepared-once statement of q (never finalized: the store
 * owns it), logged when it cannot be prepared. */
static struct stmt *
prepare(struct ingest_ctx *ctx, const struct query *q, int *rc)
{
	struct stmt *s;

	if ((s = store_prepare(ctx->store, q, rc)) == NULL)
		log_err("ingest: prepare: %s", store_errmsg(ctx->store));
	return s;
}

static int
text(struct stmt *s, int i, const char *v)
{
	return store_bind_text(s, i, v, (size_t)-1);
}

/* A statement without rows, run once: bound is 0 when every parameter
 * was bound (the binds' results or-ed). */
static int
run(struct stmt *s, int bound)
{
	int rc = bound == 0 ? store_step(s) : STORE_ERR;

	store_done(s);
	if (rc == STORE_DONE)
		return STORE_OK;
	return rc < 0 ? rc : STORE_ERR;
}

/* An INSERT ... RETURNING id, run once: *id the new row's, the statement
 * stepped to its end (a reset of SQLite's before it ended the caller's
 * transaction: store_sqlite.c, sqlite_done). */
static int
run_returning(struct stmt *s, int bound, long long *id)
{
	int rc = bound == 0 ? store_step(s) : STORE_ERR;

	if (rc == STORE_ROW) {
		*id = store_col_int64(s, 0);
		rc = store_step(s);
	} else if (rc == STORE_DONE)
		rc = STORE_ERR;		/* no id: cannot happen */
	store_done(s);
	if (rc == STORE_DONE)
		return STORE_OK;
	return rc < 0 ? rc : STORE_ERR;
}

/*
 * The (ticket, message) of the first row of q, which selects those two
 * columns and takes text parameters a and b (b NULL: one parameter); both
 * stay 0 when there is no row.
 */
static int
find_pair(struct ingest_ctx *ctx, const struct query *q, const char *a,
    const char *b, long long *ticket, long long *message)
{
	struct stmt *s;
	int rc, bound;

	*ticket = *message = 0;
	if ((s = prepare(ctx, q, &rc)) == NULL)
		return rc;
	bound = text(s, 1, a);
	if (b)
		bound |= text(s, 2, b);
	rc = bound == 0 ? store_step(s) : STORE_ERR;
	if (rc == STORE_ROW) {
		*ticket = store_col_int64(s, 0);
		*message = store_col_int64(s, 1);
	}
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* A further copy of a stored message (message_copies) by its source key. */
static const struct query q_copy_by_key = {
	"SELECT m.ticket_id, m.id FROM message_copies c "
	"JOIN messages m ON m.id = c.message WHERE c.source = ?1 AND "
	"c.source_key = ?2", NULL
};

static int
find_copy_by_key(struct ingest_ctx *ctx, const char *source, const char *key,
    long long *ticket, long long *message)
{
	return find_pair(ctx, &q_copy_by_key, source, key, ticket, message);
}

/*
 * Another raw copy of stored message `message` (same Message-ID and
 * normalised hash, other bytes): its own sha256, source key and recipient
 * are recorded (message_copies), once per sha256; its bytes are not kept.
 */
static const struct query q_record_copy = {
	"INSERT INTO message_copies (message, source, "
	"source_key, sha256, recipient, received_at, created_at) "
	"SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM "
	"messages WHERE id = ?1 AND sha256 = ?4) ON CONFLICT DO NOTHING",
	/* a SELECT list gives PostgreSQL no column to infer from: cast */
	"INSERT INTO message_copies (message, source, "
	"source_key, sha256, recipient, received_at, created_at) "
	"SELECT $1::bigint, $2::text, $3::text, $4::text, $5::text, "
	"$6::bigint, $7::bigint WHERE NOT EXISTS (SELECT 1 FROM "
	"messages WHERE id = $1::bigint AND sha256 = $4::text) "
	"ON CONFLICT DO NOTHING"
};

static int
record_copy(struct ingest_ctx *ctx, const struct raw_input *raw,
    const char *sha, const struct dedup_info *di, long long message,
    time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = prepare(ctx, &q_record_copy, &rc)) == NULL)
		return rc;
	return run(s, store_bind_int64(s, 1, message) |
	    text(s, 2, raw->source) |
	    text(s, 3, raw->source_key) |
	    text(s, 4, sha) |
	    text(s, 5, di->recipient[0] ? di->recipient : NULL) |
	    store_bind_int64(s, 6, (long long)raw->received_at) |
	    store_bind_int64(s, 7, (long long)now));
}

/*
 * Was this message purged (`intake purge` keeps hashes in `purged`)?  The
 * same raw sha256, or the same Message-ID and normalised message.
 */
static const struct query q_purged = {
	"SELECT 1 FROM purged WHERE sha256 = ?1 UNION ALL "
	"SELECT 1 FROM purged WHERE ?2 IS NOT NULL AND msgid_sha256 = ?2 "
	"AND norm_sha256 = ?3 LIMIT 1",
	/* "$2 IS NOT NULL" alone infers no type: cast */
	"SELECT 1 FROM purged WHERE sha256 = $1 UNION ALL "
	"SELECT 1 FROM purged WHERE $2::text IS NOT NULL AND "
	"msgid_sha256 = $2::text AND norm_sha256 = $3 LIMIT 1"
};

static int
find_purged(struct ingest_ctx *ctx, const char *msgid, const char *sha,
    const char *norm, int *purged)
{
	struct stmt *s;
	char idsha[65];
	int rc, bound;

	*purged = 0;
	if ((s = prepare(ctx, &q_purged, &rc)) == NULL)
		return rc;
	if (msgid)
		sha256_hex(msgid, strlen(msgid), idsha);
	bound = text(s, 1, sha) | text(s, 2, msgid ? idsha : NULL) |
	    text(s, 3, norm);
	rc = bound == 0 ? store_step(s) : STORE_ERR;
	*purged = rc == STORE_ROW;
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/*
 * Look for a stored copy: same (source, source_key), of the message or of
 * a recorded copy; else same Message-ID and normalised sha256 (dedup.h);
 * without a Message-ID, the same sha256 among messages that have none.  sha NULL: by source_key only.  STORE_OK with *ticket set or
 * not, or an error code.
 */
static const struct query q_dup_key = {
	"SELECT ticket_id, id FROM messages WHERE source = ?1 AND "
	"source_key = ?2", NULL
};

static const struct query q_dup_msgid = {
	"SELECT ticket_id, id FROM messages WHERE message_id = ?1 AND "
	"norm_sha256 = ?2 ORDER BY id LIMIT 1", NULL
};

static const struct query q_dup_sha = {
	"SELECT ticket_id, id FROM messages WHERE sha256 = ?1 AND "
	"message_id IS NULL ORDER BY id LIMIT 1", NULL
};

static int
find_duplicate(struct ingest_ctx *ctx, const char *source, const char *key,
    const char *msgid, const char *sha, const char *norm, long long *ticket,
    long long *message)
{
	int rc;

	*ticket = *message = 0;
	if (key) {
		rc = find_pair(ctx, &q_dup_key, source, key, ticket, message);
		if (rc != STORE_OK || *ticket)
			return rc;
		if ((rc = find_copy_by_key(ctx, source, key, ticket, message)) !=
		    STORE_OK || *ticket)
			return rc;
	}
	if (sha == NULL)
		return STORE_OK;
	/* With a Message-ID: the same normalised message (dedup.h), so a
	 * copy delivered another way or to another address is found. */
	if (msgid)
		return find_pair(ctx, &q_dup_msgid, msgid, norm, ticket,
		    message);
	return find_pair(ctx, &q_dup_sha, sha, NULL, ticket, message);
}

static const struct query q_load_ticket = {
	"SELECT type, urgency, status, response_due, breach_at, "
	"received_at, acknowledged_at, awaiting_since FROM tickets "
	"WHERE id = ?1", NULL
};

static int
load_ticket(struct ingest_ctx *ctx, long long id, struct ticket_row *t)
{
	struct stmt *s;
	const char *status;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((s = prepare(ctx, &q_load_ticket, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, id)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		t->id = id;
		if (call_type_parse(store_col_text(s, 0, NULL), &t->type) == -1)
			t->type = CT_UNCLASSIFIED;
		if (urgency_parse(store_col_text(s, 1, NULL), &t->urgency) == -1)
			t->urgency = URG_NONE;
		status = store_col_text(s, 2, NULL);
		t->open = status != NULL && strcmp(status, "open") == 0;
		t->response_due = (time_t)store_col_int64(s, 3);
		t->breach_at = (time_t)store_col_int64(s, 4);
		t->received_at = (time_t)store_col_int64(s, 5);
		t->acknowledged_at = (time_t)store_col_int64(s, 6);
		t->awaiting_since = (time_t)store_col_int64(s, 7);
	}
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* The ticket of a stored message named by In-Reply-To or References. */
static const struct query q_thread_by_id = {
	"SELECT ticket_id FROM messages WHERE message_id = ?1 "
	"ORDER BY id DESC LIMIT 1", NULL
};

static int
find_thread_by_ids(struct ingest_ctx *ctx, const char *ids, long long *ticket)
{
	struct stmt *s;
	char *copy, *tok, *save = NULL;
	int rc = STORE_DONE;

	*ticket = 0;
	if (ids == NULL)
		return STORE_OK;
	if ((s = prepare(ctx, &q_thread_by_id, &rc)) == NULL)
		return rc;
	rc = STORE_DONE;
	copy = xstrdup(ids);
	for (tok = strtok_r(copy, " \t,<>", &save); tok && *ticket == 0;
	    tok = strtok_r(NULL, " \t,<>", &save)) {
		if ((rc = text(s, 1, tok)) == STORE_OK)
			rc = store_step(s);
		if (rc == STORE_ROW)
			*ticket = store_col_int64(s, 0);
		store_done(s);
		if (rc != STORE_ROW && rc != STORE_DONE)
			break;
	}
	free(copy);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* Threading by Message-IDs: In-Reply-To, then References. */
static int
find_thread_ids(struct ingest_ctx *ctx, const struct message *msg,
    long long *ticket)
{
	int rc;

	if ((rc = find_thread_by_ids(ctx, msg->in_reply_to, ticket)) != STORE_OK)
		return rc;
	if (*ticket == 0)
		rc = find_thread_by_ids(ctx, msg->references, ticket);
	return rc;
}

/* Threading: the keyed subject tag wins, then In-Reply-To, then
 * References. */
static int
find_thread(struct ingest_ctx *ctx, const struct message *msg,
    long long *ticket)
{
	struct ticket_row t;
	long long tag;
	int rc;

	*ticket = 0;
	/* Only a tag whose MAC verifies (tag.h): a plain or forged
	 * "[intake #N]" threads nothing. */
	tag = tag_find(ctx->cfg, msg->subject);
	if (tag) {
		if ((rc = load_ticket(ctx, tag, &t)) != STORE_OK)
			return rc;
		if (t.id) {
			*ticket = t.id;
			return STORE_OK;
		}
	}
	return find_thread_ids(ctx, msg, ticket);
}

/*
 * Conversations: texts are short and come in bursts, so a push channel's
 * message joins its sender's last ticket on that channel while that
 * ticket is open or was closed less than conversation_hours ago.  Mail
 * threads by its headers instead; an anonymous contact never joins.
 */
static const struct query q_conversation = {
	"SELECT t.id, t.status = 'open' OR t.closed_at >= ?3 "
	"FROM messages m JOIN tickets t ON t.id = m.ticket_id "
	"WHERE m.source = ?1 AND m.from_addr = ?2 AND t.automated = 0 "
	"ORDER BY m.id DESC LIMIT 1", NULL
};

static int
find_conversation(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, long long *ticket)
{
	const struct source_config *sc;
	struct stmt *s;
	time_t since;
	int rc, bound;

	*ticket = 0;
	sc = config_source(ctx->cfg, raw->source);
	if (sc == NULL || !SOURCE_IS_PUSH(sc->type) || msg->from_addr == NULL ||
	    ctx->cfg->conversation_hours <= 0)
		return STORE_OK;
	since = raw->received_at - (time_t)ctx->cfg->conversation_hours * 3600;
	if ((s = prepare(ctx, &q_conversation, &rc)) == NULL)
		return rc;
	/* the second column: a boolean on PostgreSQL, 0/1/NULL on SQLite */
	bound = text(s, 1, raw->source) | text(s, 2, msg->from_addr) |
	    store_bind_int64(s, 3, (long long)since);
	rc = bound == 0 ? store_step(s) : STORE_ERR;
	if (rc == STORE_ROW && store_col_int64(s, 1))
		*ticket = store_col_int64(s, 0);
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

static char *
rationale_json(const struct triage_result *tri, const struct message *msg)
{
	json_t *a = json_array();
	char *out;
	size_t i;

	for (i = 0; i < tri->nrationale; i++)
		json_array_append_new(a, json_string(tri->rationale[i]));
	if (msg->status == MSG_PARSE_ERROR)
		json_array_append_new(a, json_string("parse error: a human must "
		    "read the raw message"));
	else if (msg->status == MSG_PARSE_LIMIT)
		json_array_append_new(a, json_string("limit reached while "
		    "parsing: a human must read the raw message"));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

static char *
attachments_json(const struct message *msg)
{
	json_t *a = json_array(), *o;
	char *out;
	size_t i;

	for (i = 0; i < msg->nattachments; i++) {
		const struct attachment *at = &msg->attachments[i];

		o = json_object();
		json_object_set_new(o, "filename", at->filename ?
		    json_string(at->filename) : json_null());
		json_object_set_new(o, "content_type", json_string(
		    at->content_type ? at->content_type : "application/octet-stream"));
		json_object_set_new(o, "size", json_integer((json_int_t)at->size));
		json_array_append_new(a, o);
	}
	out = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(a);
	return out;
}

static const char *
parse_status_name(enum parse_status st, int oversize)
{
	if (oversize)
		return "oversize";
	switch (st) {
	case MSG_PARSE_OK:
		return "ok";
	case MSG_PARSE_PARTIAL:
		return "partial";
	case MSG_PARSE_LIMIT:
		return "limit";
	default:
		return "error";
	}
}

static char *
sender_of(const struct message *msg)
{
	if (msg->from_addr && msg->from_name && *msg->from_name)
		return xasprintf("%s <%s>", msg->from_name, msg->from_addr);
	if (msg->from_addr)
		return xstrdup(msg->from_addr);
	if (msg->from_name)
		return xstrdup(msg->from_name);
	return NULL;
}

static const struct query q_insert_ticket = {
	"INSERT INTO tickets (type, urgency, minor, danger, "
	"automated, needs_interpreter, needs_human, lang, rationale, status, "
	"disposition, received_at, in_business_hours, response_due, "
	"breach_at, closed_at, sender, subject, created_at, updated_at) "
	"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id", NULL
};

static int
insert_ticket(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const struct decision *d, time_t now,
    long long *id)
{
	struct stmt *s;
	char *rat, *sender, *subj;
	int rc, bound, automated = d->tri.type == CT_AUTOMATED;

	if ((s = prepare(ctx, &q_insert_ticket, &rc)) == NULL)
		return rc;
	rat = rationale_json(&d->tri, msg);
	sender = sender_of(msg);
	subj = msg->subject ? utf8_truncate(msg->subject, SUBJECT_MAX) : NULL;
	if (sender && strlen(sender) > SENDER_MAX) {
		char *t = utf8_truncate(sender, SENDER_MAX);

		free(sender);
		sender = t;
	}
	bound = text(s, 1, call_type_name(d->tri.type)) |
	    text(s, 2, urgency_name(d->dl.urgency)) |
	    store_bind_int64(s, 3, d->tri.minor) |
	    store_bind_int64(s, 4, d->tri.danger) |
	    store_bind_int64(s, 5, automated) |
	    store_bind_int64(s, 6, d->tri.needs_interpreter) |
	    store_bind_int64(s, 7, d->needs_human) |
	    text(s, 8, d->tri.lang[0] ? d->tri.lang : "und") |
	    text(s, 9, rat ? rat : "[]") |
	    text(s, 10, automated ? "closed" : "open") |
	    text(s, 11, automated ? "automated" : NULL) |
	    store_bind_int64(s, 12, (long long)raw->received_at) |
	    store_bind_int64(s, 13, d->dl.in_business_hours);
	if (d->dl.response_due)
		bound |= store_bind_int64(s, 14, (long long)d->dl.response_due) |
		    store_bind_int64(s, 15, (long long)d->dl.breach_at);
	else
		bound |= store_bind_null(s, 14) | store_bind_null(s, 15);
	bound |= (automated ? store_bind_int64(s, 16, (long long)now) :
	    store_bind_null(s, 16)) |
	    text(s, 17, sender) |
	    text(s, 18, subj) |
	    store_bind_int64(s, 19, (long long)now) |
	    store_bind_int64(s, 20, (long long)now);
	rc = run_returning(s, bound, id);
	free(rat);
	free(sender);
	free(subj);
	return rc;
}

static const struct query q_insert_message = {
	"INSERT INTO messages (ticket_id, source, source_key, "
	"message_id, sha256, raw, size, received_at, date_header, from_addr, "
	"from_name, reply_to, to_addr, subject, in_reply_to, refs, text, "
	"attachments, parse_status, parse_error, created_at, norm_sha256, "
	"recipient) "
	"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
	NULL
};

static int
insert_message(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const char *sha, const struct dedup_info *di,
    long long ticket, time_t now, long long *id)
{
	struct stmt *s;
	char *atts;
	int rc, bound;

	if ((s = prepare(ctx, &q_insert_message, &rc)) == NULL)
		return rc;
	atts = attachments_json(msg);
	bound = store_bind_int64(s, 1, ticket) |
	    text(s, 2, raw->source) |
	    text(s, 3, raw->source_key) |
	    text(s, 4, msg->message_id) |
	    text(s, 5, sha) |
	    store_bind_blob(s, 6, raw->len ? raw->data : "", raw->len) |
	    store_bind_int64(s, 7, (long long)(raw->oversize ? raw->real_size :
	    raw->len)) |
	    store_bind_int64(s, 8, (long long)raw->received_at) |
	    (msg->date ? store_bind_int64(s, 9, (long long)msg->date) :
	    store_bind_null(s, 9)) |
	    text(s, 10, msg->from_addr) |
	    text(s, 11, msg->from_name) |
	    text(s, 12, msg->reply_to) |
	    text(s, 13, msg->to) |
	    text(s, 14, msg->subject) |
	    text(s, 15, msg->in_reply_to) |
	    text(s, 16, msg->references) |
	    text(s, 17, msg->text) |
	    text(s, 18, atts ? atts : "[]") |
	    text(s, 19, parse_status_name(msg->status, raw->oversize)) |
	    text(s, 20, raw->oversize ? "message larger than "
	    "max_message_bytes: left on the server" : msg->parse_error) |
	    store_bind_int64(s, 21, (long long)now) |
	    text(s, 22, raw->fetch_error ? NULL : di->norm_sha256) |
	    text(s, 23, di->recipient[0] ? di->recipient : NULL);
	rc = run_returning(s, bound, id);
	free(atts);
	return rc;
}

int
ingest_event(struct ingest_ctx *ctx, long long ticket, time_t now,
    const char *actor, const char *kind, json_t *detail)
{
	char *text = json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	json_decref(detail);
	rc = store_event(ctx->store, ticket, (long long)now, actor, kind,
	    text ? text : "{}");
	free(text);
	return rc;
}

static int
event_json(struct ingest_ctx *ctx, long long ticket, time_t now,
    const char *kind, json_t *detail)
{
	return ingest_event(ctx, ticket, now, ctx->actor, kind, detail);
}

/*
 * Triage and the deadlines of a new contact.  A message nobody could parse
 * is flagged for a human and treated as urgent where the type allows it:
 * what it says is unknown, and a missed crisis costs more than a false
 * alarm.
 */
static void
decide(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, int prepared, struct decision *d)
{
	enum urgency u;
	long long t0 = tstart(ctx);

	memset(d, 0, sizeof(*d));
	triage_classify(ctx->lex, msg, &d->tri);
	/* No header at all is not mail as RFC 5322 knows it: a person must
	 * look at the bytes, whatever the parser made of them. */
	d->needs_human = msg->status == MSG_PARSE_ERROR ||
	    msg->status == MSG_PARSE_LIMIT || raw->oversize ||
	    (!prepared && msg->nheaders == 0);
	if (d->needs_human && d->tri.type != CT_AUTOMATED)
		d->tri.urgency = URG_URGENT;
	u = urgency_effective(d->tri.type, d->tri.urgency);
	d->tri.urgency = u;
	if (sla_compute(ctx->cal, ctx->cfg, d->tri.type, u, raw->received_at,
	    &d->dl) == -1) {
		memset(&d->dl, 0, sizeof(d->dl));
		d->dl.urgency = u;
	}
	if (ctx->times)
		ingest_times_add(ctx->times, STAGE_TRIAGE, t0);
}

static const struct query q_append = {
	"UPDATE tickets SET type = ?, urgency = ?, "
	"minor = max(minor, ?), danger = max(danger, ?), status = 'open', "
	"disposition = NULL, closed_at = NULL, response_due = ?, "
	"breach_at = ?, updated_at = ? WHERE id = ?",
	/* SQLite's two-argument max() is PostgreSQL's greatest() */
	"UPDATE tickets SET type = $1, urgency = $2, "
	"minor = greatest(minor, $3::integer), "
	"danger = greatest(danger, $4::integer), status = 'open', "
	"disposition = NULL, closed_at = NULL, response_due = $5, "
	"breach_at = $6, updated_at = $7 WHERE id = $8"
};

/*
 * Append to an existing ticket: reopen, and raise (never lower) it.  The
 * new message is unanswered whatever was answered before (doc/sla.md,
 * "Every contact message"): the ticket's deadlines are those of its
 * earliest unanswered message, at the ticket's (raised) urgency.  On an
 * urgent ticket every new message alerts at once.
 */
static int
append_to_ticket(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct decision *d, long long ticket, time_t now, int *alerted)
{
	struct ticket_row t;
	struct deadlines nd;
	struct stmt *s;
	enum urgency u;
	enum call_type type;
	int rc, bound, raise, reopen;
	time_t due, breach, pending, from;

	*alerted = 0;
	if ((rc = load_ticket(ctx, ticket, &t)) != STORE_OK)
		return rc;
	reopen = !t.open;
	type = t.type;
	u = t.urgency;
	/* More urgent: routine -> urgent, or anything -> crisis. */
	raise = (d->dl.urgency == URG_URGENT && t.urgency != URG_URGENT) ||
	    (d->tri.type == CT_CRISIS && t.type != CT_CRISIS);
	if (raise) {
		if (d->tri.type == CT_CRISIS)
			type = CT_CRISIS;
		u = URG_URGENT;
	}
	u = urgency_effective(type, u);
	due = t.response_due;
	breach = t.breach_at;
	/* The earliest message still waiting for a person, if any (a row
	 * from before awaiting_since existed: its first, until acked). */
	pending = t.awaiting_since ? t.awaiting_since : (t.open &&
	    !t.acknowledged_at ? t.received_at : 0);
	from = pending == 0 || raw->received_at < pending ? raw->received_at :
	    pending;
	if (pending == 0 || raise || from != pending) {
		if (sla_compute(ctx->cal, ctx->cfg, type, u, from, &nd) == 0) {
			due = nd.response_due;
			breach = nd.breach_at;
		}
	}
	if ((s = prepare(ctx, &q_append, &rc)) == NULL)
		return rc;
	bound = text(s, 1, call_type_name(type)) | text(s, 2, urgency_name(u)) |
	    store_bind_int64(s, 3, d->tri.minor) |
	    store_bind_int64(s, 4, d->tri.danger);
	if (due)
		bound |= store_bind_int64(s, 5, (long long)due) |
		    store_bind_int64(s, 6, (long long)breach);
	else
		bound |= store_bind_null(s, 5) | store_bind_null(s, 6);
	bound |= store_bind_int64(s, 7, (long long)now) |
	    store_bind_int64(s, 8, ticket);
	if ((rc = run(s, bound)) != STORE_OK)
		return rc;
	if (reopen && (rc = event_json(ctx, ticket, now, "reopen",
	    json_pack("{s:s}", "why", "a new message arrived"))) != STORE_OK)
		return rc;
	if (raise) {
		rc = event_json(ctx, ticket, now, "raise", json_pack(
		    "{s:s,s:s,s:s,s:s}", "from_type", call_type_name(t.type),
		    "to_type", call_type_name(type), "from_urgency",
		    urgency_name(t.urgency), "to_urgency", urgency_name(u)));
		if (rc != STORE_OK)
			return rc;
	}
	/* Queued by ingest_parsed() once the message is stored: the alert
	 * names it. */
	if (u == URG_URGENT)
		*alerted = raise ? 2 : 1;
	return STORE_OK;
}

static const struct query q_keyword_message = {
	"UPDATE messages SET carrier_keyword = ?1 WHERE id = ?2", NULL
};

static const struct query q_keyword_ticket = {
	"UPDATE tickets SET carrier_keyword = ?1 WHERE id = ?2", NULL
};

static const struct query q_segments = {
	"UPDATE messages SET segments = ?1 WHERE id = ?2", NULL
};

static const struct query q_unanswered = {
	"UPDATE tickets SET awaiting_since = ?, "
	"awaiting_message = ? WHERE id = ? AND automated = 0 AND "
	"(awaiting_since IS NULL OR awaiting_since > ?)", NULL
};

static const struct query q_claimed = {
	"UPDATE messages SET received_claimed = ? WHERE id = ?", NULL
};

/* Run q, an UPDATE of one row by id, setting a text. */
static int
set_text(struct ingest_ctx *ctx, const struct query *q, const char *v,
    long long id)
{
	struct stmt *s;
	int rc;

	if ((s = prepare(ctx, q, &rc)) == NULL)
		return rc;
	return run(s, text(s, 1, v) | store_bind_int64(s, 2, id));
}

/* Run q, an UPDATE of one row by id, setting a number. */
static int
set_int(struct ingest_ctx *ctx, const struct query *q, long long v,
    long long id)
{
	struct stmt *s;
	int rc;

	if ((s = prepare(ctx, q, &rc)) == NULL)
		return rc;
	return run(s, store_bind_int64(s, 1, v) | store_bind_int64(s, 2, id));
}

/*
 * A carrier keyword (STOP, HELP...: a whole SMS that the carrier or Twilio
 * may have answered itself) is flagged on the message and on its ticket,
 * with an event, and nothing else: the message is a contact like any
 * other, never dropped, never answered by intake.
 */
static int
flag_keyword(struct ingest_ctx *ctx, const char *keyword, long long ticket,
    long long message, time_t now)
{
	int rc;

	if ((rc = set_text(ctx, &q_keyword_message, keyword, message)) !=
	    STORE_OK ||
	    (rc = set_text(ctx, &q_keyword_ticket, keyword, ticket)) != STORE_OK)
		return rc;
	return event_json(ctx, ticket, now, "keyword", json_pack("{s:I,s:s}",
	    "message", (json_int_t)message, "keyword", keyword));
}

/* A multi-part SMS the provider joined: how many segments it was. */
static int
note_segments(struct ingest_ctx *ctx, long long message, int segments)
{
	return set_int(ctx, &q_segments, segments, message);
}

/* The message just stored waits for a person: it becomes the ticket's
 * earliest unanswered one unless an earlier one still waits.  Automated
 * mail waits for nobody. */
static int
mark_unanswered(struct ingest_ctx *ctx, long long ticket, long long message,
    time_t received)
{
	struct stmt *s;
	int rc;

	if ((s = prepare(ctx, &q_unanswered, &rc)) == NULL)
		return rc;
	return run(s, store_bind_int64(s, 1, (long long)received) |
	    store_bind_int64(s, 2, message) |
	    store_bind_int64(s, 3, ticket) |
	    store_bind_int64(s, 4, (long long)received));
}

/* prepared: not mail (SMS, WhatsApp, a web form, the http source), so
 * never acknowledged: a text to a victim's phone may be read by the
 * trafficker who holds it, and a form contact may give no address. */
static int
store_new_ticket(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, int prepared, const struct decision *d,
    time_t now, long long *ticket, int *alerted)
{
	int rc;

	*alerted = 0;
	if ((rc = insert_ticket(ctx, raw, msg, d, now, ticket)) != STORE_OK)
		return rc;
	if (!prepared &&
	    (rc = ack_maybe_queue(ctx->store, ctx->cfg, *ticket, msg, now)) < 0)
		return rc;
	rc = event_json(ctx, *ticket, now, "created", json_pack(
	    "{s:s,s:s,s:s,s:b,s:b}", "type", call_type_name(d->tri.type),
	    "urgency", urgency_name(d->dl.urgency), "source", raw->source,
	    "minor", d->tri.minor, "danger", d->tri.danger));
	return rc;
}

/* The alert of a new urgent ticket, queued once its message is stored:
 * the payload's excerpt (alerts.include_excerpt) is read from it. */
static int
alert_new_ticket(struct ingest_ctx *ctx, const struct decision *d,
    long long ticket, time_t now, int *alerted)
{
	int rc;

	if (d->dl.urgency != URG_URGENT)
		return STORE_OK;
	rc = outbox_queue_alert(ctx->store, ctx->cfg, ctx->rota, ticket, "new",
	    now);
	if (rc < 0)
		return rc;
	*alerted = rc > 0;
	return STORE_OK;
}

/* A new message on an urgent ticket (or one it made urgent) alerts at
 * once, in the append's transaction: "new message on #N". */
static int
alert_appended(struct ingest_ctx *ctx, long long ticket, int raised,
    time_t now, int *alerted)
{
	int rc;

	rc = outbox_queue_alert(ctx->store, ctx->cfg, ctx->rota, ticket,
	    raised ? "raised" : "message", now);
	if (rc < 0)
		return rc;
	*alerted = rc > 0;
	return STORE_OK;
}

/*
 * A received time in the future (a wrong clock, a forged mtime or
 * INTERNALDATE) would put the deadlines there too, and an urgent ticket
 * would vanish from followups and remind until then: beyond
 * RECEIVED_FUTURE_MAX it becomes now.  Returns the time the source stated
 * when it was replaced, else 0.
 */
static time_t
received_not_future(const struct raw_input *raw, struct raw_input *fixed,
    time_t now, const struct raw_input **use)
{
	char stated[40];

	*use = raw;
	if (raw->received_at <= now + RECEIVED_FUTURE_MAX)
		return 0;
	iso8601_utc(raw->received_at, stated, sizeof(stated));
	log_warning("source %s: received time %s is in the future; using the "
	    "time it was read", raw->source, stated);
	*fixed = *raw;
	fixed->received_at = now;
	*use = fixed;
	return raw->received_at;
}

/* Keeps the received time a source stated, where it was not believed. */
static int
note_claimed_time(struct ingest_ctx *ctx, long long message, time_t claimed)
{
	if (claimed == 0)
		return STORE_OK;
	return set_int(ctx, &q_claimed, (long long)claimed, message);
}

/* The first word of the reply's text ("ack"), and a name after it. */
static int
ack_words(const char *text, char *name, size_t len)
{
	const char *p = text ? text : "", *q;
	size_t n;

	*name = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "ack", 3) != 0 || (p[3] && !isspace((unsigned char)
	    p[3])))
		return 0;
	for (p += 3; *p == ' ' || *p == '\t'; p++)
		;
	for (q = p; isalnum((unsigned char)*q) || *q == '.' || *q == '_' ||
	    *q == '-'; q++)
		;
	n = (size_t)(q - p);
	if (n > 0 && n < len && (*q == '\0' || isspace((unsigned char)*q))) {
		memcpy(name, p, n);
		name[n] = '\0';
	}
	return 1;
}

/* Who acknowledges: "ack NAME", else the oncall.people entry of the
 * sender's address, else the address. */
static char *
ack_actor(const struct config *cfg, const char *addr, const char *name)
{
	size_t i;
	char *a;

	if (*name) {
		const struct oncall_person *p = rota_person(cfg, name);

		return xasprintf("%s via mail", p ? p->name : name);
	}
	for (i = 0; i < cfg->oncall_npeople; i++) {
		if (cfg->oncall_people[i].email == NULL)
			continue;
		a = notify_addr_spec(cfg->oncall_people[i].email);
		if (a && strcasecmp(a, addr) == 0) {
			free(a);
			return xasprintf("%s via mail", cfg->oncall_people[i].name);
		}
		free(a);
	}
	return xasprintf("%s via mail", addr);
}

static const struct query q_mail_ack = {
	"INSERT INTO mail_acks (token, ticket_id, actor, used_at) "
	"VALUES (?1, ?2, ?3, ?4) ON CONFLICT(token) DO NOTHING", NULL
};

/*
 * Acknowledging by mail (oncall.reply_to): a reply carrying a token that
 * verifies for its sender, whose first word is "ack", acknowledges the
 * ticket and is not stored (*handled).  A token used before is ignored
 * and the mail not stored either (the same person's second reply, or the
 * same mail fetched again).  A token that does not verify for the sender
 * is logged and the mail goes on as any other.  Nothing of the content is
 * logged.
 */
static int
ack_by_mail(struct ingest_ctx *ctx, const struct message *msg,
    struct ingest_result *res, int *handled)
{
	char token[TAG_ACK_MAX], name[65], *actor;
	struct stmt *s;
	long long ticket;
	int forged, fresh, rc;
	time_t now = remind_now();

	*handled = 0;
	if (ctx->cfg->oncall_reply_to == NULL || msg->from_addr == NULL)
		return STORE_OK;
	ticket = tag_ack_find(ctx->cfg, msg->subject, msg->from_addr, token,
	    sizeof(token), &forged);
	if (ticket == 0) {
		if (forged)
			log_warning("ack by mail: a token that does not verify "
			    "for its sender: handled as a message");
		return STORE_OK;
	}
	if (!ack_words(msg->text, name, sizeof(name))) {
		log_notice("ack by mail: ticket %lld: a reply not starting with "
		    "\"ack\": handled as a message", ticket);
		return STORE_OK;
	}
	if ((s = prepare(ctx, &q_mail_ack, &rc)) == NULL)
		return rc;
	actor = ack_actor(ctx->cfg, msg->from_addr, name);
	if ((rc = text(s, 1, token) | store_bind_int64(s, 2, ticket) |
	    text(s, 3, actor) | store_bind_int64(s, 4, (long long)now)) == 0)
		rc = store_step(s);
	else
		rc = STORE_ERR;
	/* rows inserted: 0 when the token was used before */
	fresh = rc == STORE_DONE && store_changes(s) > 0;
	store_done(s);
	if (rc != STORE_DONE) {
		free(actor);
		return rc < 0 ? rc : STORE_ERR;
	}
	*handled = 1;
	res->ticket = ticket;
	res->duplicate = 1;	/* nothing stored */
	if (!fresh) {
		log_warning("ack by mail: ticket %lld: token already used: "
		    "ignored", ticket);
		free(actor);
		return STORE_OK;
	}
	rc = workflow_ack_in(ctx->store, ticket, actor, now);
	if (rc == WF_OK || rc == WF_NOCHANGE || rc == WF_NOTFOUND) {
		char *esc = str_escape(actor, 100);

		log_notice("ack by mail: ticket %lld acknowledged by %s%s",
		    ticket, esc, rc == WF_NOCHANGE ? " (already answered)" :
		    rc == WF_NOTFOUND ? " (no such ticket)" : "");
		free(esc);
		rc = STORE_OK;
	}
	free(actor);
	return rc;
}

int
ingest_store_message(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, const char *sha, const struct dedup_info *di,
    long long ticket, time_t now, time_t claimed, long long *id)
{
	int rc;

	if ((rc = insert_message(ctx, raw, msg, sha, di, ticket, now, id)) !=
	    STORE_OK)
		return rc;
	return note_claimed_time(ctx, *id, claimed);
}

/* A staff reply (an outbound source, reply.h): threaded by the subject tag,
 * In-Reply-To and References as any mail, then never triaged. */
static int
ingest_reply(struct ingest_ctx *ctx, const struct source_config *sc,
    const struct raw_input *raw, const struct message *msg, const char *sha,
    const struct dedup_info *di, time_t now, time_t claimed,
    struct ingest_result *res)
{
	long long ticket;
	int rc, kept;

	if ((rc = find_thread(ctx, msg, &ticket)) != STORE_OK)
		return rc;
	/* One kept as unmatched and offered again (a Maildir): its tag named
	 * no ticket when it was read, so the ticket that has that number now
	 * is not the one it answered (reply.h); its Message-IDs still count. */
	if (ticket && (rc = reply_kept(ctx, raw, &kept)) == STORE_OK && kept)
		rc = find_thread_ids(ctx, msg, &ticket);
	if (rc != STORE_OK)
		return rc;
	return reply_store(ctx, sc, raw, msg, sha, di, ticket, now, claimed, res);
}

/* key_checked: the caller already looked the source key up in this
 * transaction (and found nothing), so only the content lookup remains. */
static int
ingest_parsed(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, int prepared, int key_checked,
    const char *sha, struct ingest_result *res)
{
	struct decision d;
	struct raw_input fixed;
	struct dedup_info di;
	const struct source_config *sc;
	long long ticket = 0, message = 0;
	time_t now = time(NULL), claimed, since;
	long long t0 = tstart(ctx);
	int rc, purged = 0, handled, attached = 0;

	dedup_info(raw->data, raw->len, &di);
	if (ctx->times)
		ingest_times_add(ctx->times, STAGE_HASH, t0);
	rc = find_duplicate(ctx, raw->source, key_checked ? NULL :
	    raw->source_key, msg->message_id, raw->fetch_error ? NULL : sha,
	    di.norm_sha256, &ticket, &message);
	if (rc != STORE_OK)
		return rc;
	if (ticket) {
		res->ticket = ticket;
		res->message = message;
		res->duplicate = 1;
		return raw->fetch_error ? STORE_OK : record_copy(ctx, raw, sha,
		    &di, message, now);
	}
	/* Purged before: not stored again, counted as a duplicate; the log
	 * names the source and key only. */
	if (raw->fetch_error == NULL && (rc = find_purged(ctx, msg->message_id,
	    sha, di.norm_sha256, &purged)) != STORE_OK)
		return rc;
	if (purged) {
		log_info("ingest: source %s: message %s was purged before: not "
		    "stored again", raw->source, raw->source_key ?
		    raw->source_key : "(no key)");
		res->duplicate = res->purged = 1;
		return STORE_OK;
	}
	claimed = received_not_future(raw, &fixed, now, &raw);
	if ((sc = reply_source(ctx->cfg, raw->source)) != NULL)
		return ingest_reply(ctx, sc, raw, msg, sha, &di, now, claimed, res);
	if ((rc = ack_by_mail(ctx, msg, res, &handled)) != STORE_OK || handled)
		return rc;
	decide(ctx, raw, msg, prepared, &d);
	/* Automated mail never joins a conversation: an out-of-office reply
	 * must not reopen or raise a ticket. */
	if (d.tri.type != CT_AUTOMATED &&
	    (rc = find_thread(ctx, msg, &d.thread)) != STORE_OK)
		goto out;
	if (d.tri.type != CT_AUTOMATED && d.thread == 0 && prepared &&
	    (rc = find_conversation(ctx, raw, msg, &d.thread)) != STORE_OK)
		goto out;
	if (d.thread) {
		ticket = d.thread;
		rc = append_to_ticket(ctx, raw, &d, ticket, now, &res->alerted);
		res->appended = 1;
	} else
		rc = store_new_ticket(ctx, raw, msg, prepared, &d, now, &ticket,
		    &res->alerted);
	if (rc != STORE_OK)
		goto out;
	if ((rc = insert_message(ctx, raw, msg, sha, &di, ticket, now,
	    &message)) != STORE_OK || (rc = note_claimed_time(ctx, message,
	    claimed)) != STORE_OK)
		goto out;
	if ((rc = mark_unanswered(ctx, ticket, message, raw->received_at)) !=
	    STORE_OK)
		goto out;
	/* Staff replies to it read before it (the Sent folder polled first)
	 * thread now; then every reply since answers what came before it. */
	since = raw->received_at;
	if (d.tri.type != CT_AUTOMATED && (rc = reply_attach_unmatched(ctx,
	    ticket, msg->message_id, now, &since, &attached)) != STORE_OK)
		goto out;
	if ((res->appended || attached) && (rc = reply_late_message(ctx, ticket,
	    since, now)) != STORE_OK)
		goto out;
	if (raw->keyword && (rc = flag_keyword(ctx, raw->keyword, ticket,
	    message, now)) != STORE_OK)
		goto out;
	if (raw->segments > 1 && (rc = note_segments(ctx, message,
	    raw->segments)) != STORE_OK)
		goto out;
	if (res->appended) {
		rc = event_json(ctx, ticket, now, "message", json_pack("{s:I,s:s}",
		    "message", (json_int_t)message, "source", raw->source));
		if (rc == STORE_OK && res->alerted)
			rc = alert_appended(ctx, ticket, res->alerted == 2, now,
			    &res->alerted);
	} else
		rc = alert_new_ticket(ctx, &d, ticket, now, &res->alerted);
	if (rc != STORE_OK)
		goto out;
	res->ticket = ticket;
	res->message = message;
	res->type = d.tri.type;
	res->urgency = d.dl.urgency;
	res->parse_status = msg->status;
	res->response_due = d.dl.response_due;
	res->breach_at = d.dl.breach_at;
out:
	triage_result_free(&d.tri);
	return rc;
}

int
ingest_prepared(struct ingest_ctx *ctx, const struct raw_input *raw,
    const struct message *msg, struct ingest_result *res)
{
	char sha[65];
	long long t0 = tstart(ctx), inner = inner_ns(ctx);
	int rc;

	memset(res, 0, sizeof(*res));
	sha256_hex(raw->data, raw->len, sha);
	if (ctx->times)
		ingest_times_add(ctx->times, STAGE_HASH, t0);
	rc = ingest_parsed(ctx, raw, msg, 1, 0, sha, res);
	store_time(ctx, t0, inner);
	return rc;
}

int
ingest_raw(struct ingest_ctx *ctx, const struct raw_input *raw,
    struct ingest_result *res)
{
	struct message msg;
	char sha[65];
	long long ticket = 0, message = 0;
	long long t0 = tstart(ctx), inner = inner_ns(ctx), tp;
	int rc;

	memset(res, 0, sizeof(*res));
	sha256_hex(raw->data, raw->len, sha);
	if (ctx->times)
		ingest_times_add(ctx->times, STAGE_HASH, t0);
	/* A source-key duplicate needs no parse at all (crash recovery
	 * re-reads whole batches). */
	if (raw->source_key) {
		rc = find_duplicate(ctx, raw->source, raw->source_key, NULL, NULL,
		    NULL, &ticket, &message);
		if (rc != STORE_OK || ticket) {
			store_time(ctx, t0, inner);
			if (rc != STORE_OK)
				return rc;
			res->ticket = ticket;
			res->message = message;
			res->duplicate = 1;
			return STORE_OK;
		}
	}
	tp = tstart(ctx);
	if (ctx->parse)
		ctx->parse(ctx->parse_arg, raw->data, raw->len, &ctx->limits, &msg);
	else
		message_parse(raw->data, raw->len, &ctx->limits, &msg);
	if (ctx->times)
		ingest_times_add(ctx->times, STAGE_PARSE, tp);
	if (raw->fetch_error) {
		/* Whatever the header said, the message itself is missing. */
		msg.status = MSG_PARSE_ERROR;
		free(msg.parse_error);
		msg.parse_error = xstrdup(raw->fetch_error);
	}
	rc = ingest_parsed(ctx, raw, &msg, 0, raw->source_key != NULL, sha,
	    res);
	message_free(&msg);
	store_time(ctx, t0, inner);
	return rc;
}
