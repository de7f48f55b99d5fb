/* SPDX-License-Identifier: MIT */
/*
 * The staff modules converted to the store's statement API (workflow.c,
 * reply.c, ack.c, cmd_ticket.c, cmd_changes.c, cmd_attachment.c) against both drivers: SQLite and a real PostgreSQL 15 (pglib.h).
 * A ticket is inserted by plain SQL through the statement API, then the
 * actions run; both drivers must give the same rows.  _i is the driver.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "ack.h"
#include "calendar.h"
#include "cli.h"
#include "config.h"
#include "dedup.h"
#include "ingest.h"
#include "message.h"
#include "reply.h"
#include "store.h"
#include "util.h"
#include "workflow.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

#define HOUR	3600

static struct config cfg;
static struct calendar *cal;
static time_t now;

/* Wed 2026-12-02 12:00 in New York (EST, -05:00). */
#define NOW_ISO	"2026-12-02T12:00:00-05:00"

/* Run q with integer or text parameters ('i' long long, 't' text, 'n'
 * NULL); the first column of its first row as an integer (-1 without a
 * row, -2 when NULL). */
static long long
sql_int(struct store *st, const struct query *q, const char *fmt, ...)
{
	struct stmt *s;
	va_list ap;
	long long v = -1;
	int rc, i;

	s = store_prepare(st, q, &rc);
	ck_assert_msg(s != NULL, "prepare %s: %s", q->sql, store_errmsg(st));
	va_start(ap, fmt);
	for (i = 1; *fmt; fmt++, i++) {
		if (*fmt == 'i')
			rc = store_bind_int64(s, i, va_arg(ap, long long));
		else if (*fmt == 't')
			rc = store_bind_text(s, i, va_arg(ap, const char *),
			    (size_t)-1);
		else
			rc = store_bind_null(s, i);
		ck_assert_int_eq(rc, STORE_OK);
	}
	va_end(ap);
	rc = store_step(s);
	ck_assert_msg(rc == STORE_ROW || rc == STORE_DONE, "%s: %d %s", q->sql,
	    rc, store_errmsg(st));
	if (rc == STORE_ROW)
		v = store_col_null(s, 0) ? -2 : store_col_int64(s, 0);
	store_done(s);
	return v;
}

/* The first column of the first row as text (caller frees), NULL if none. */
static char *
sql_text(struct store *st, const struct query *q, long long id)
{
	struct stmt *s;
	const char *t;
	char *v = NULL;
	int rc;

	s = store_prepare(st, q, &rc);
	ck_assert_msg(s != NULL, "prepare %s: %s", q->sql, store_errmsg(st));
	ck_assert_int_eq(store_bind_int64(s, 1, id), STORE_OK);
	rc = store_step(s);
	ck_assert_msg(rc == STORE_ROW || rc == STORE_DONE, "%s: %s", q->sql,
	    store_errmsg(st));
	if (rc == STORE_ROW && (t = store_col_text(s, 0, NULL)) != NULL)
		v = xstrdup(t);
	store_done(s);
	return v;
}

/* A ticket as ingest leaves it, with one inbound message; its id. */
static long long
add_ticket(struct store *st, const char *type, const char *status,
    long long *msg)
{
	static const struct query q_ticket = {
		"INSERT INTO tickets (type, urgency, status, received_at, "
		"response_due, breach_at, rationale, sender, subject, "
		"awaiting_since, created_at, updated_at) VALUES (?1, 'routine', "
		"?2, ?3, ?4, ?5, '[\"triage: a tip\"]', 'a@example.org', 'hello', "
		"?3, ?3, ?3) RETURNING id", NULL };
	static const struct query q_msg = {
		"INSERT INTO messages (ticket_id, source, sha256, raw, size, "
		"received_at, from_addr, subject, text, parse_status, created_at) "
		"VALUES (?1, 'test', 'ab', 'raw', 3, ?2, 'a@example.org', 'hello', "
		"'hello there', 'ok', ?2) RETURNING id", NULL };
	long long id, m;

	id = sql_int(st, &q_ticket, "ttiii", type, status,
	    (long long)(now - HOUR), (long long)(now + 20 * HOUR),
	    (long long)(now + 40 * HOUR));
	ck_assert_int_gt(id, 0);
	m = sql_int(st, &q_msg, "ii", id, (long long)(now - HOUR));
	ck_assert_int_gt(m, 0);
	if (msg)
		*msg = m;
	return id;
}

static const struct query q_events = {
	"SELECT count(*) FROM events WHERE ticket_id = ?1 AND kind = ?2 AND "
	"actor = ?3", NULL };

static struct store *
open_fresh(int drv, const char *name)
{
	struct target t;

	target_new(drv, name, &t);
	return target_open(&t);
}

START_TEST(test_workflow_actions)
{
	static const struct query q_ack = {
		"SELECT acknowledged_at FROM tickets WHERE id = ?1 AND "
		"acknowledged_by = ?2 AND sla_met = 1 AND awaiting_since IS NULL",
		NULL };
	static const struct query q_answered = {
		"SELECT responded_at FROM messages WHERE id = ?1", NULL };
	static const struct query q_assignee = {
		"SELECT assignee FROM tickets WHERE id = ?1", NULL };
	static const struct query q_closed = {
		"SELECT closed_at FROM tickets WHERE id = ?1 AND status = ?2 AND "
		"disposition = ?3", NULL };
	static const struct query q_open = {
		"SELECT count(*) FROM tickets WHERE id = ?1 AND status = 'open' "
		"AND disposition IS NULL AND closed_at IS NULL", NULL };
	static const struct query q_note = {
		"SELECT detail FROM events WHERE ticket_id = ?1 AND kind = 'note'",
		NULL };
	struct store *st = open_fresh(_i, "wf");
	long long id, msg;
	time_t prev_at;
	char *prev_by = NULL, *v;
	int sla_met;

	id = add_ticket(st, "tip", "open", &msg);
	ck_assert_int_eq(workflow_ack(st, id, "carol", now, &sla_met, &prev_at,
	    &prev_by), WF_OK);
	ck_assert_int_eq(sla_met, 1);
	ck_assert_int_eq(sql_int(st, &q_ack, "it", id, "carol"), (long long)now);
	ck_assert_int_eq(sql_int(st, &q_answered, "i", msg), (long long)now);
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "ack", "carol"), 1);
	/* a second one changes nothing and names the first */
	ck_assert_int_eq(workflow_ack(st, id, "dave", now + 60, &sla_met,
	    &prev_at, &prev_by), WF_NOCHANGE);
	ck_assert_int_eq(prev_at, now);
	ck_assert_str_eq(prev_by, "carol");
	free(prev_by);
	ck_assert_int_eq(workflow_ack(st, id + 100, "dave", now, &sla_met,
	    &prev_at, &prev_by), WF_NOTFOUND);

	ck_assert_int_eq(workflow_assign(st, id, "erin", "carol", now), WF_OK);
	ck_assert_int_eq(workflow_assign(st, id, "erin", "carol", now),
	    WF_NOCHANGE);
	v = sql_text(st, &q_assignee, id);
	ck_assert_str_eq(v, "erin");
	free(v);
	ck_assert_int_eq(workflow_assign(st, id, NULL, "carol", now), WF_OK);
	ck_assert_ptr_null(sql_text(st, &q_assignee, id));
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "assign", "carol"),
	    2);

	ck_assert_int_eq(workflow_note(st, id, "called back", "erin", now),
	    WF_OK);
	v = sql_text(st, &q_note, id);
	ck_assert_str_eq(v, "{\"text\":\"called back\"}");
	free(v);

	ck_assert_int_eq(workflow_close(st, id, "resolved", "erin", now + 5),
	    WF_OK);
	ck_assert_int_eq(sql_int(st, &q_closed, "itt", id, "closed",
	    "resolved"), (long long)now + 5);
	ck_assert_int_eq(workflow_close(st, id, "resolved", "erin", now + 5),
	    WF_NOCHANGE);
	ck_assert_int_eq(workflow_close(st, id, "bogus", "erin", now + 5),
	    STORE_ERR);
	ck_assert_int_eq(workflow_reopen(st, id, "erin", now + 9), WF_OK);
	ck_assert_int_eq(workflow_reopen(st, id, "erin", now + 9),
	    WF_NOCHANGE);
	ck_assert_int_eq(sql_int(st, &q_open, "i", id), 1);
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "close", "erin"), 1);
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "reopen", "erin"),
	    1);
	store_close(st);
}
END_TEST

/* Inside the caller's transaction (an ack by mail during an ingest). */
START_TEST(test_workflow_ack_in)
{
	struct store *st = open_fresh(_i, "wfin");
	long long id;

	id = add_ticket(st, "tip", "open", NULL);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(workflow_ack_in(st, id, "mail", now), WF_OK);
	ck_assert_int_eq(workflow_ack_in(st, id + 1, "mail", now), WF_NOTFOUND);
	store_rollback(st);
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "ack", "mail"), 0);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(workflow_ack_in(st, id, "mail", now), WF_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "ack", "mail"), 1);
	store_close(st);
}
END_TEST

/* Reclassifying: deadlines recomputed, the staff line leads the
 * rationale, and mail closed as automated that a person wrote reopens. */
START_TEST(test_workflow_reclassify)
{
	static const struct query q_class = {
		"SELECT count(*) FROM tickets WHERE id = ?1 AND type = ?2 AND "
		"minor = 1 AND automated = 0 AND status = 'open' AND "
		"awaiting_since = received_at AND awaiting_message = ?3", NULL };
	static const struct query q_rationale = {
		"SELECT rationale FROM tickets WHERE id = ?1", NULL };
	static const struct query q_automate = {
		"UPDATE tickets SET type = 'automated', urgency = 'none', "
		"automated = 1, status = 'closed', disposition = 'automated', "
		"closed_at = ?2, awaiting_since = NULL WHERE id = ?1", NULL };
	struct workflow_class c = { CT_TTA, -1, 1, -1 };
	struct store *st = open_fresh(_i, "wfre");
	long long id, msg;
	int alerted;
	char *v;

	id = add_ticket(st, "tip", "open", &msg);
	sql_int(st, &q_automate, "ii", id, (long long)now);
	ck_assert_int_eq(workflow_reclassify(st, &cfg, cal, NULL, id, &c,
	    "carol", now, &alerted), WF_OK);
	ck_assert_int_eq(alerted, 0);
	ck_assert_int_eq(sql_int(st, &q_class, "iti", id, "tta", msg), 1);
	v = sql_text(st, &q_rationale, id);
	ck_assert_ptr_nonnull(strstr(v, "(carol) reclassified: tta"));
	free(v);
	ck_assert_int_eq(sql_int(st, &q_events, "itt", id, "reclassify",
	    "carol"), 1);
	ck_assert_int_eq(workflow_reclassify(st, &cfg, cal, NULL, id, &c,
	    "carol", now, &alerted), WF_NOCHANGE);
	store_close(st);
}
END_TEST

/* A reply threading to nothing is kept once; offered again it is known. */
START_TEST(test_reply_unmatched)
{
	static const char mail[] = "From: carol@hotline.example\r\n"
	    "To: a@example.org\r\nSubject: Re: help\r\n"
	    "Message-ID: <r1@hotline.example>\r\n"
	    "In-Reply-To: <gone@example.org>\r\n\r\nWe can help.\r\n";
	static const struct query q_kept = {
		"SELECT size FROM unmatched_replies WHERE source = 'sent' AND "
		"source_key = 'k1' AND in_reply_to LIKE '%gone@example.org%' AND "
		"attached_message IS NULL", NULL };
	struct store *st = open_fresh(_i, "rpun");
	struct ingest_ctx ctx;
	struct ingest_result res;
	struct raw_input raw;
	struct dedup_info di;
	struct message msg;
	int kept;

	ingest_ctx_init(&ctx, &cfg, cal, NULL, st);
	memset(&raw, 0, sizeof(raw));
	raw.data = mail;
	raw.len = sizeof(mail) - 1;
	raw.source = "sent";
	raw.source_key = "k1";
	raw.received_at = now;
	message_parse(mail, raw.len, &ctx.limits, &msg);
	dedup_info(mail, raw.len, &di);
	ck_assert_int_eq(reply_kept(&ctx, &raw, &kept), STORE_OK);
	ck_assert_int_eq(kept, 0);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(reply_store(&ctx, NULL, &raw, &msg, "ab", &di, 0, now,
	    0, &res), STORE_OK);
	ck_assert_int_eq(res.duplicate, 0);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(sql_int(st, &q_kept, ""), (long long)raw.len);
	ck_assert_int_eq(reply_kept(&ctx, &raw, &kept), STORE_OK);
	ck_assert_int_eq(kept, 1);
	/* the same reply again (another key, same Message-ID and content) */
	raw.source_key = "k2";
	ck_assert_int_eq(store_begin(st), STORE_OK);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(reply_store(&ctx, NULL, &raw, &msg, "ab", &di, 0, now,
	    0, &res), STORE_OK);
	ck_assert_int_eq(res.duplicate, 1);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	message_free(&msg);
	store_close(st);
}
END_TEST

/* A contact message stored after the staff reply that answers it: the
 * reply (its "reply" event names the actor) is its response. */
START_TEST(test_reply_late_message)
{
	static const struct query q_out = {
		"INSERT INTO messages (ticket_id, source, sha256, raw, size, "
		"received_at, parse_status, created_at, direction, responded_at) "
		"VALUES (?1, 'sent', 'cd', 'raw', 3, ?2, 'ok', ?2, 'out', ?2) "
		"RETURNING id", NULL };
	static const struct query q_answered = {
		"SELECT responded_at FROM messages WHERE id = ?1", NULL };
	static const struct query q_acked = {
		"SELECT acknowledged_at FROM tickets WHERE id = ?1 AND "
		"acknowledged_by = ?2 AND sla_met = 1 AND awaiting_since IS NULL "
		"AND awaiting_message IS NULL", NULL };
	static const struct query q_via = {
		"SELECT count(*) FROM events WHERE ticket_id = ?1 AND kind = 'ack' "
		"AND actor = ?2 AND detail LIKE '%\"via\":\"reply\"%'", NULL };
	struct store *st = open_fresh(_i, "rplate");
	struct ingest_ctx ctx;
	long long id, in, out;
	char detail[96];

	ingest_ctx_init(&ctx, &cfg, cal, NULL, st);
	id = add_ticket(st, "tip", "open", &in);	/* received now - HOUR */
	out = sql_int(st, &q_out, "ii", id, (long long)(now - 60));
	ck_assert_int_gt(out, 0);
	snprintf(detail, sizeof(detail), "{\"message\":%lld,\"source\":\"sent\"}",
	    out);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(store_event(st, id, now - 60, "carol", "reply", detail),
	    STORE_OK);
	ck_assert_int_eq(reply_late_message(&ctx, id, now - HOUR, now),
	    STORE_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(sql_int(st, &q_answered, "i", in), (long long)now - 60);
	ck_assert_int_eq(sql_int(st, &q_acked, "it", id, "carol"),
	    (long long)now - 60);
	ck_assert_int_eq(sql_int(st, &q_via, "it", id, "carol"), 1);
	/* nothing left to answer: no second acknowledgement */
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(reply_late_message(&ctx, id, now - HOUR, now),
	    STORE_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(sql_int(st, &q_via, "it", id, "carol"), 1);
	store_close(st);
}
END_TEST

/* One acknowledgement per sender and day; none to automated mail. */
START_TEST(test_ack_claim)
{
	static const char mail[] = "From: A <A@Example.org>\r\n"
	    "To: help@hotline.example\r\nSubject: hello\r\n"
	    "Message-ID: <m1@example.org>\r\n\r\nhello there\r\n";
	static const struct query q_claims = {
		"SELECT count(*) FROM acks_sent WHERE sender = 'a@example.org' "
		"AND ticket_id = ?1", NULL };
	static const struct query q_automated = {
		"UPDATE tickets SET automated = 1 WHERE id = ?1", NULL };
	static const struct query q_claim = {
		"INSERT INTO acks_sent (sender, day, ticket_id) "
		"VALUES ('a@example.org', ?2, ?1)", NULL };
	struct store *st = open_fresh(_i, "ack");
	struct config c;
	struct message msg;
	struct parse_limits lim;
	struct tm tm;
	char day[16];
	long long id, bot, next;
	int rc;

	config_defaults(&c);
	c.ack_enabled = 1;
	c.smtp_url = xstrdup("smtp://127.0.0.1:9");
	c.smtp_from = xstrdup("help@hotline.example");
	parse_limits_default(&lim);
	message_parse(mail, sizeof(mail) - 1, &lim, &msg);
	id = add_ticket(st, "tip", "open", NULL);
	bot = add_ticket(st, "tip", "open", NULL);
	next = add_ticket(st, "tip", "open", NULL);
	sql_int(st, &q_automated, "i", bot);

	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(ack_maybe_queue(st, &c, bot, &msg, now), 0);
	ck_assert_int_eq(sql_int(st, &q_claims, "i", bot), 0);
	rc = ack_maybe_queue(st, &c, id, &msg, now);
	/* the day is claimed before the outbox row is queued; outbox.c
	 * (issue 18, not converted yet) refuses PostgreSQL */
	ck_assert_int_eq(sql_int(st, &q_claims, "i", id), 1);
	if (_i == DRV_SQLITE || rc == 1)
		ck_assert_int_eq(rc, 1);
	else
		ck_assert_int_eq(rc, STORE_ERR);
	if (rc == 1)
		ck_assert_int_eq(store_commit(st), STORE_OK);
	else {
		store_rollback(st);
		localtime_r(&now, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		sql_int(st, &q_claim, "it", id, day);
	}
	/* the same sender again today, on another ticket: acknowledged */
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(ack_maybe_queue(st, &c, next, &msg, now), 0);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(sql_int(st, &q_claims, "i", id), 1);
	ck_assert_int_eq(sql_int(st, &q_claims, "i", next), 0);
	message_free(&msg);
	config_free(&c);
	store_close(st);
}
END_TEST

/* intake.c's, which the staff commands call: the test opened the store. */
int
cmd_open(struct cmd_ctx *ctx)
{
	return ctx->opened ? 0 : EX_SOFTWARE;
}

int
cmd_usage_error(struct cmd_ctx *ctx)
{
	(void)ctx;
	return EX_USAGE;
}

int
cmd_store_fail(struct cmd_ctx *ctx, int store_rc)
{
	(void)ctx;
	return cli_store_exit(store_rc);
}

const char *
cmd_opt(const struct cmd_ctx *ctx, int id)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < ctx->nopts; i++)
		if (ctx->opts[i].id == id)
			v = ctx->opts[i].arg ? ctx->opts[i].arg : "";
	return v;
}

/* Run a staff command on st with its stdout in a file; *out what it
 * printed (caller frees).  Returns its exit code. */
static int
run_cmd(struct store *st, int (*fn)(struct cmd_ctx *), int format,
    char **argv, int argc, const struct cmd_opt *opts, size_t nopts,
    char **out)
{
	struct cmd_ctx ctx;
	char path[] = "/tmp/intake-staffout-XXXXXX";
	int fd, saved, rc;
	FILE *f;
	long n;

	memset(&ctx, 0, sizeof(ctx));
	ctx.format = format;
	ctx.argc = argc;
	ctx.argv = argv;
	ctx.nopts = nopts;
	if (nopts)
		memcpy(ctx.opts, opts, nopts * sizeof(*opts));
	ctx.opened = 1;
	config_defaults(&ctx.env.cfg);
	ctx.env.store = st;
	ck_assert_int_ge(fd = mkstemp(path), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
	rc = fn(&ctx);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	config_free(&ctx.env.cfg);
	ck_assert_ptr_nonnull(f = fdopen(fd, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*out = xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(*out, 1, (size_t)n, f), (size_t)n);
	(*out)[n] = '\0';
	fclose(f);
	unlink(path);
	return rc;
}

/* show and list: the same JSON from both drivers for the same rows. */
START_TEST(test_show_list)
{
	static const struct query q_copy = {
		"INSERT INTO message_copies (message, source, recipient, "
		"received_at, sha256, created_at) VALUES (?1, 'imap', "
		"'help@hotline.example', ?2, 'ab', ?2)", NULL };
	struct store *st = open_fresh(_i, "showlist");
	struct cmd_opt opt[2];
	json_error_t jerr;
	json_t *j, *m, *e;
	long long id, other, msg;
	time_t prev_at;
	char *out, *prev_by = NULL, arg[32], *argv[1] = { arg };
	int sla_met;

	id = add_ticket(st, "tip", "open", &msg);
	other = add_ticket(st, "info", "open", NULL);
	sql_int(st, &q_copy, "ii", msg, (long long)now);
	ck_assert_int_eq(workflow_ack(st, id, "carol", now, &sla_met, &prev_at,
	    &prev_by), WF_OK);
	ck_assert_int_eq(workflow_assign(st, id, "erin", "carol", now), WF_OK);

	snprintf(arg, sizeof(arg), "%lld", id);
	ck_assert_int_eq(run_cmd(st, cmd_show, 1, argv, 1, NULL, 0, &out), 0);
	j = json_loads(out, 0, &jerr);
	ck_assert_msg(j != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(j, "assignee")),
	    "erin");
	ck_assert(json_is_true(json_object_get(j, "sla_met")));
	ck_assert(json_is_false(json_object_get(j, "minor")));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j,
	    "rationale"), 0)), "triage: a tip");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "messages")), 1);
	m = json_array_get(json_object_get(j, "messages"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "text")),
	    "hello there");
	ck_assert(json_is_false(json_object_get(m, "unanswered")));
	ck_assert(json_is_null(json_object_get(m, "segments")));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "copies")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "events")), 2);
	e = json_array_get(json_object_get(j, "events"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "kind")),
	    "assign");
	ck_assert_str_eq(json_string_value(json_object_get(e, "actor")),
	    "carol");
	json_decref(j);
	/* the text form too, and a ticket that does not exist */
	ck_assert_int_eq(run_cmd(st, cmd_show, 0, argv, 1, NULL, 0, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "Acknowledged:  "));
	ck_assert_ptr_nonnull(strstr(out, "by carol (SLA met)"));
	ck_assert_ptr_nonnull(strstr(out, "copy via imap"));
	free(out);
	snprintf(arg, sizeof(arg), "%lld", other + 10);
	ck_assert_int_eq(run_cmd(st, cmd_show, 1, argv, 1, NULL, 0, &out),
	    EX_DATAERR);
	free(out);

	/* list: newest first; filters by type and sender (any case) */
	ck_assert_int_eq(run_cmd(st, cmd_list, 1, NULL, 0, NULL, 0, &out), 0);
	j = json_loads(out, 0, &jerr);
	ck_assert_msg(j != NULL, "%s", out);
	free(out);
	ck_assert_uint_eq(json_array_size(j), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j,
	    0), "id")), other);
	json_decref(j);
	opt[0].id = 't';
	opt[0].arg = "tip";
	opt[1].id = 'r';
	opt[1].arg = "A@EXAMPLE.org";
	ck_assert_int_eq(run_cmd(st, cmd_list, 1, NULL, 0, opt, 2, &out), 0);
	j = json_loads(out, 0, &jerr);
	ck_assert_msg(j != NULL, "%s", out);
	free(out);
	ck_assert_uint_eq(json_array_size(j), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j,
	    0), "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j,
	    0), "assignee")), "erin");
	json_decref(j);
	opt[0].id = 'l';
	opt[0].arg = "1";
	ck_assert_int_eq(run_cmd(st, cmd_list, 0, NULL, 0, opt, 1, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "ID      STATUS"));
	ck_assert_ptr_null(strstr(out, "tip "));	/* the older one: cut */
	ck_assert_ptr_nonnull(strstr(out, "info "));
	free(out);
	store_close(st);
}
END_TEST

/* intake changes: the window's events grouped by ticket, with actors. */
START_TEST(test_changes)
{
	struct store *st = open_fresh(_i, "changes");
	struct cmd_opt opt[2];
	char since[40], until[40], *out;
	long long id, other;
	time_t prev_at;
	char *prev_by = NULL;
	int sla_met;

	id = add_ticket(st, "tip", "open", NULL);
	other = add_ticket(st, "info", "open", NULL);
	ck_assert_int_eq(workflow_assign(st, other, "erin", "carol", now - 2 *
	    HOUR), WF_OK);	/* before the window */
	ck_assert_int_eq(workflow_ack(st, id, "carol", now, &sla_met, &prev_at,
	    &prev_by), WF_OK);
	ck_assert_int_eq(workflow_assign(st, id, "erin", "dave", now + 60),
	    WF_OK);
	ck_assert_int_eq(workflow_close(st, other, "resolved", "erin",
	    now + 120), WF_OK);
	iso8601_local(now - HOUR, since, sizeof(since));
	iso8601_local(now + HOUR, until, sizeof(until));
	opt[0].id = 'S';
	opt[0].arg = since;
	opt[1].id = 'U';
	opt[1].arg = until;
	ck_assert_int_eq(run_cmd(st, cmd_changes, 0, NULL, 0, opt, 2, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "acknowledged (SLA met)"));
	ck_assert_ptr_nonnull(strstr(out, "assigned to erin"));
	ck_assert_ptr_nonnull(strstr(out, "closed (resolved)"));
	ck_assert_ptr_nonnull(strstr(out, "dave"));
	/* ticket id first (its first change in the window came first) */
	ck_assert(strstr(out, "acknowledged") < strstr(out, "closed ("));
	free(out);
	ck_assert_int_eq(run_cmd(st, cmd_changes, 2, NULL, 0, opt, 2, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"assigned\""));
	ck_assert_ptr_null(strstr(out, "\"unassigned\""));
	free(out);
	store_close(st);
}
END_TEST

/* intake attachment: the bytes come again from the stored raw message. */
START_TEST(test_attachment)
{
	static const char mail[] = "From: a@example.org\r\n"
	    "To: help@hotline.example\r\nSubject: photo\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--b\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n"
	    "--b--\r\n";
	static const struct query q_raw = {
		"UPDATE messages SET raw = ?2, size = ?3, attachments = "
		"'[{\"filename\":\"a.bin\",\"content_type\":"
		"\"application/octet-stream\",\"size\":11}]' WHERE id = ?1",
		NULL };
	struct store *st = open_fresh(_i, "attach");
	struct cmd_opt opt[1];
	struct stmt *s;
	char path[128], arg[32], *argv[1] = { arg }, *out, buf[64];
	long long id, msg;
	FILE *f;
	size_t n;
	int rc;

	id = add_ticket(st, "tip", "open", &msg);
	ck_assert_ptr_nonnull(s = store_prepare(st, &q_raw, &rc));
	ck_assert_int_eq(store_bind_int64(s, 1, msg), STORE_OK);
	ck_assert_int_eq(store_bind_blob(s, 2, mail, sizeof(mail) - 1),
	    STORE_OK);
	ck_assert_int_eq(store_bind_int64(s, 3, (long long)sizeof(mail) - 1),
	    STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	snprintf(path, sizeof(path), "%s/att-%d.bin", test_litedir, _i);
	unlink(path);
	snprintf(arg, sizeof(arg), "%lld", id);
	opt[0].id = 'o';
	opt[0].arg = path;
	ck_assert_int_eq(run_cmd(st, cmd_attachment, 0, argv, 1, opt, 1, &out),
	    0);
	free(out);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_uint_eq(n, 11);
	ck_assert(memcmp(buf, "hello world", 11) == 0);
	/* a ticket without one */
	snprintf(arg, sizeof(arg), "%lld", id + 5);
	ck_assert_int_eq(run_cmd(st, cmd_attachment, 0, argv, 1, opt, 1, &out),
	    EX_DATAERR);
	free(out);
	store_close(st);
}
END_TEST

/* PostgreSQL: a staff member's own role (sql/pg/roles.sql) may do every
 * workflow action and read show and list; its column grants are enough
 * for the FOR UPDATE read. */
START_TEST(test_pg_staff_role)
{
	static const struct query q_by = {
		"SELECT count(*) FROM events WHERE ticket_id = ?1 AND actor = ?2",
		NULL };
	struct workflow_class c = { CT_TTA, -1, -1, -1 };
	struct target t, as;
	struct store *st;
	PGconn *admin;
	char path[512], *sql, arg[32], *argv[1] = { arg }, *out, *prev_by = NULL;
	long long id;
	time_t prev_at;
	FILE *f;
	size_t n;
	int rc, sla_met, alerted;

	target_new(DRV_PG, "staffrole", &t);
	st = target_open(&t);		/* migrated by the superuser */
	id = add_ticket(st, "tip", "open", NULL);
	store_close(st);
	snprintf(path, sizeof(path), "%s/sql/pg/roles.sql", test_top());
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	sql = xmalloc(1 << 16);
	n = fread(sql, 1, (1 << 16) - 1, f);
	fclose(f);
	sql[n] = '\0';
	admin = test_pg_connect(&test_pgsrv, "t_staffrole");
	PQsetNoticeProcessor(admin, test_pg_quiet, NULL);
	test_pg_exec(admin, sql);
	free(sql);
	test_pg_exec(admin, "DROP ROLE IF EXISTS st1");
	test_pg_exec(admin, "CREATE ROLE st1 LOGIN IN ROLE intake_staff");

	as.drv = DRV_PG;
	snprintf(as.db, sizeof(as.db), "%.*s%s", (int)(strstr(t.db, "user=") -
	    t.db), t.db, "user=st1");
	st = target_open_rc(&as, 0, 1000, &rc, NULL);
	ck_assert_int_eq(rc, STORE_OK);
	ck_assert_str_eq(store_actor(st), "st1");
	ck_assert_int_eq(workflow_ack(st, id, "st1", now, &sla_met, &prev_at,
	    &prev_by), WF_OK);
	ck_assert_int_eq(workflow_assign(st, id, "st1", "st1", now), WF_OK);
	ck_assert_int_eq(workflow_note(st, id, "called", "st1", now), WF_OK);
	ck_assert_int_eq(workflow_reclassify(st, &cfg, cal, NULL, id, &c, "st1",
	    now, &alerted), WF_OK);
	ck_assert_int_eq(workflow_close(st, id, "referred", "st1", now), WF_OK);
	ck_assert_int_eq(workflow_reopen(st, id, "st1", now), WF_OK);
	ck_assert_int_eq(sql_int(st, &q_by, "it", id, "st1"), 6);
	snprintf(arg, sizeof(arg), "%lld", id);
	ck_assert_int_eq(run_cmd(st, cmd_show, 1, argv, 1, NULL, 0, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"reclassify\""));
	free(out);
	ck_assert_int_eq(run_cmd(st, cmd_list, 1, NULL, 0, NULL, 0, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"tta\""));
	free(out);
	store_close(st);
	PQfinish(admin);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("staff_drivers");
	TCase *tc = tcase_create("both");
	TCase *pg = tcase_create("postgresql");
	SRunner *sr;
	char err[256];
	int nf, skip, n;

	if (calendar_set_zone("America/New_York", err, sizeof(err)) == -1 ||
	    iso8601_parse(NOW_ISO, &now) == -1) {
		fprintf(stderr, "test_staff_drivers: set-up failed\n");
		return 1;
	}
	config_defaults(&cfg);
	if ((cal = calendar_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "calendar: %s\n", err);
		return 1;
	}
	skip = targets_start();
	n = targets_n();
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_workflow_actions, 0, n);
	tcase_add_loop_test(tc, test_workflow_ack_in, 0, n);
	tcase_add_loop_test(tc, test_workflow_reclassify, 0, n);
	tcase_add_loop_test(tc, test_reply_unmatched, 0, n);
	tcase_add_loop_test(tc, test_reply_late_message, 0, n);
	tcase_add_loop_test(tc, test_ack_claim, 0, n);
	tcase_add_loop_test(tc, test_show_list, 0, n);
	tcase_add_loop_test(tc, test_changes, 0, n);
	tcase_add_loop_test(tc, test_attachment, 0, n);
	suite_add_tcase(s, tc);
	if (test_have_pg) {
		tcase_set_timeout(pg, 120);
		tcase_add_test(pg, test_pg_staff_role);
		suite_add_tcase(s, pg);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	targets_stop();
	calendar_free(cal);
	config_free(&cfg);
	if (nf != 0)
		return 1;
	return skip == 77 ? 77 : 0;
}
