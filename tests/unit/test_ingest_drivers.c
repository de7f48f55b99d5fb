/* SPDX-License-Identifier: MIT */
/*
 * The ingest pipeline's store writes (ingest.c) on both drivers: the same
 * fixtures through ingest_raw() and ingest_prepared() into SQLite and into
 * a real PostgreSQL 15 (pglib.h) leave the same tickets, messages, copies
 * and events, and a second run of the same batch stores nothing more.
 *
 * What PostgreSQL cannot run yet is left out, not faked: a mail with a
 * Message-ID that is not automated goes through reply_attach_unmatched(),
 * and a message appended to a ticket through reply_late_message() (reply.c,
 * still on SQLite); so the plain fixtures are fed without their
 * Message-ID line.
 *
 * And the source engine's batch (source.c) over a source in memory: a
 * message the store refuses mid-batch is rolled back alone to its
 * savepoint (on PostgreSQL the refusal spoils the transaction until that
 * rollback), the others commit, the failure record is kept
 * (srcstate_set_failures) and the refused one is stored once later.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "calendar.h"
#include "config.h"
#include "ingest.h"
#include "message.h"
#include "source.h"
#include "../../daemon/source_mem_p.h"
#include "store.h"
#include "triage.h"
#include "util.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

#define MAILDIR	"tests/fixtures/sample-maildir/new/"

struct fixture {
	const char	*path;		/* under test_top() */
	const char	*key;		/* source key */
	int		 no_msgid;	/* drop the Message-ID line */
	const char	*prefix;	/* a header line put in front, or NULL */
	int		 prepared;	/* ingest_prepared(), a push channel's */
};

static const struct fixture batch[] = {
	/* plain contacts */
	{ MAILDIR "1764000001.M1P100.demo", "k1", 1, NULL, 0 },
	{ MAILDIR "1764000004.M4P100.demo", "k2", 1, NULL, 0 },
	/* the same bytes under another key: a duplicate by sha256 */
	{ MAILDIR "1764000001.M1P100.demo", "k3", 1, NULL, 0 },
	/* malformed headers */
	{ "tests/fixtures/mime/flanker/messages/mailformed-headers.eml", "k4",
	    0, NULL, 0 },
	/* automated (an out-of-office reply), Message-ID kept */
	{ MAILDIR "1764000007.M7P100.demo", "k5", 0, NULL, 0 },
	/* another copy of it (one more Received line): Message-ID and
	 * normalised hash find it, a message_copies row records it */
	{ MAILDIR "1764000007.M7P100.demo", "k6", 0,
	    "Received: from relay.example.net by mx.example.org\r\n", 0 },
	/* a push channel's text: a carrier keyword, two segments */
	{ MAILDIR "1764000006.M6P100.demo", "k7", 1, NULL, 1 },
};

/* A whole file, NUL-terminated; *len its size. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	ck_assert_msg(f != NULL, "cannot read %s", path);
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_steal(&b);
}

static char *
fixture_bytes(const struct fixture *f, size_t *len)
{
	char path[1024], *data, *line, *out;
	size_t n, before, after, plen;

	snprintf(path, sizeof(path), "%s/%s", test_top(), f->path);
	data = slurp(path, &n);
	if (f->no_msgid && (line = strstr(data, "Message-ID:")) != NULL) {
		before = (size_t)(line - data);
		after = strcspn(line, "\n");
		if (line[after] == '\n')
			after++;
		memmove(line, line + after, n - before - after + 1);
		n -= after;
	}
	plen = f->prefix ? strlen(f->prefix) : 0;
	out = xmalloc(plen + n + 1);
	if (plen)
		memcpy(out, f->prefix, plen);
	memcpy(out + plen, data, n + 1);
	free(data);
	*len = plen + n;
	return out;
}

/* One ingest of f in its own transaction; the result's counts. */
static void
ingest_one(struct ingest_ctx *ctx, struct store *st, const struct fixture *f,
    int *stored, int *dups)
{
	struct ingest_result res;
	struct raw_input raw;
	struct message msg;
	size_t len;
	char *data = fixture_bytes(f, &len);
	int rc;

	memset(&raw, 0, sizeof(raw));
	raw.data = data;
	raw.len = len;
	raw.source = f->prepared ? "sms" : "mail";
	raw.source_key = f->key;
	raw.received_at = 1764000000 + (time_t)(f - batch) * 60;
	if (f->prepared) {
		raw.keyword = "STOP";
		raw.segments = 2;
	}
	ck_assert_int_eq(store_begin(st), STORE_OK);
	if (f->prepared) {
		message_parse(data, len, &ctx->limits, &msg);
		rc = ingest_prepared(ctx, &raw, &msg, &res);
		message_free(&msg);
	} else
		rc = ingest_raw(ctx, &raw, &res);
	ck_assert_msg(rc == STORE_OK, "%s %s: %d %s", store_driver(st)->name,
	    f->key, rc, store_errmsg(st));
	ck_assert_int_eq(store_commit(st), STORE_OK);
	if (res.duplicate)
		(*dups)++;
	else
		(*stored)++;
	free(data);
}

/* The rows of q, one line each, its columns as text ('~' for NULL). */
static void
dump(struct store *st, const struct query *q, struct buf *b)
{
	struct stmt *s;
	const char *v;
	int rc, i, ncol;

	ncol = 1;
	for (v = q->sql; (v = strchr(v, ',')) != NULL && v < strstr(q->sql,
	    " FROM "); v++)
		ncol++;
	s = store_prepare(st, q, &rc);
	ck_assert_msg(s != NULL, "%s: %s", q->sql, store_errmsg(st));
	while ((rc = store_step(s)) == STORE_ROW) {
		for (i = 0; i < ncol; i++) {
			v = store_col_text(s, i, NULL);
			if (i)
				buf_addc(b, '|');
			buf_addstr(b, v ? v : "~");
		}
		buf_addc(b, '\n');
	}
	ck_assert_msg(rc == STORE_DONE, "%s: %s", q->sql, store_errmsg(st));
	store_done(s);
}

/* Everything ingest wrote that does not depend on the wall clock. */
static char *
dump_all(struct store *st)
{
	static const struct query q_tickets = {
		"SELECT id, type, urgency, minor, danger, automated, "
		"needs_interpreter, needs_human, lang, rationale, status, "
		"disposition, received_at, in_business_hours, response_due, "
		"breach_at, sender, subject, carrier_keyword, awaiting_since, "
		"awaiting_message FROM tickets ORDER BY id", NULL };
	static const struct query q_messages = {
		"SELECT id, ticket_id, source, source_key, message_id, sha256, "
		"size, received_at, date_header, from_addr, subject, text, "
		"attachments, parse_status, parse_error, norm_sha256, "
		"carrier_keyword, segments FROM messages ORDER BY id", NULL };
	static const struct query q_raw = {
		"SELECT id, raw FROM messages ORDER BY id", NULL };
	static const struct query q_copies = {
		"SELECT message, source, source_key, sha256, received_at "
		"FROM message_copies ORDER BY id", NULL };
	static const struct query q_events = {
		"SELECT ticket_id, actor, kind, detail FROM events ORDER BY id",
		NULL };
	struct buf b;
	struct stmt *s;
	const void *raw;
	size_t len;
	char sha[65];
	int rc;

	buf_init(&b, 0);
	buf_addstr(&b, "tickets\n");
	dump(st, &q_tickets, &b);
	buf_addstr(&b, "messages\n");
	dump(st, &q_messages, &b);
	/* the raw bytes kept verbatim: their hash, as bytea or BLOB */
	s = store_prepare(st, &q_raw, &rc);
	ck_assert_ptr_nonnull(s);
	while ((rc = store_step(s)) == STORE_ROW) {
		raw = store_col_blob(s, 1, &len);
		sha256_hex(raw, len, sha);
		buf_addstr(&b, sha);
		buf_addc(&b, '\n');
	}
	ck_assert_int_eq(rc, STORE_DONE);
	store_done(s);
	buf_addstr(&b, "copies\n");
	dump(st, &q_copies, &b);
	buf_addstr(&b, "events\n");
	dump(st, &q_events, &b);
	return buf_steal(&b);
}

static long long
count(struct store *st, const char *sql)
{
	struct query q = { sql, NULL };
	struct stmt *s;
	long long n = -1;
	int rc;

	s = store_prepare(st, &q, &rc);
	ck_assert_msg(s != NULL, "%s: %s", sql, store_errmsg(st));
	if (store_step(s) == STORE_ROW)
		n = store_col_int64(s, 0);
	store_done(s);
	return n;
}

/* The batch twice into a fresh database of driver drv: the dump after. */
static char *
run_batch(int drv)
{
	struct config cfg;
	struct calendar *cal;
	struct lexicon *lex;
	struct ingest_ctx ctx;
	struct target t;
	struct store *st;
	char *out;
	size_t i;
	int pass, stored, dups;

	target_new(drv, "ingest", &t);
	st = target_open(&t);
	config_defaults(&cfg);
	cal = test_calendar_new(&cfg);
	lex = lexicon_builtin();
	ck_assert_ptr_nonnull(lex);
	ingest_ctx_init(&ctx, &cfg, cal, lex, st);
	for (pass = 0; pass < 2; pass++) {
		stored = dups = 0;
		for (i = 0; i < NELEM(batch); i++)
			ingest_one(&ctx, st, &batch[i], &stored, &dups);
		/* the first: k3 and k6 are duplicates; the second: all */
		ck_assert_int_eq(stored, pass == 0 ? 5 : 0);
		ck_assert_int_eq(dups, pass == 0 ? 2 : (int)NELEM(batch));
	}
	/* exactly once: 5 tickets, 5 messages, one copy of the automated */
	ck_assert_int_eq(count(st, "SELECT count(*) FROM tickets"), 5);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM messages"), 5);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM message_copies"), 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM tickets WHERE "
	    "automated = 1 AND status = 'closed'"), 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM tickets WHERE "
	    "carrier_keyword = 'STOP'"), 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM messages WHERE "
	    "segments = 2 AND carrier_keyword = 'STOP'"), 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM events WHERE "
	    "kind = 'created'"), 5);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM events WHERE "
	    "kind = 'keyword'"), 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM tickets WHERE "
	    "awaiting_message IS NOT NULL"), 4);
	out = dump_all(st);
	store_close(st);
	lexicon_free(lex);
	calendar_free(cal);
	config_free(&cfg);
	return out;
}

START_TEST(test_same_rows_on_both)
{
	char *lite, *pg;

	lite = run_batch(DRV_SQLITE);
	if (!test_have_pg) {
		free(lite);
		return;
	}
	pg = run_batch(DRV_PG);
	if (strcmp(lite, pg) != 0) {
		fprintf(stderr, "sqlite:\n%s\npostgresql:\n%s\n", lite, pg);
		ck_abort_msg("the two stores differ");
	}
	free(lite);
	free(pg);
}
END_TEST

/* The engine's messages: no Message-ID (reply.c, above). */
#define EMSG(subj, body) "From: someone@example.net\nSubject: " subj \
	"\n\n" body "\n"

static const struct mem_message four[] = {
	{ .key = "k1", .data = EMSG("m1", "Where is the nearest shelter?") },
	{ .key = "k2", .data = EMSG("m2", "Do you have training materials?") },
	{ .key = "k3", .data = EMSG("m3", "Can you send me statistics?") },
	{ .key = "k4", .data = EMSG("m4", "Who can I call about a job offer?") },
};

/* A planted refusal of k3's messages row, per driver. */
static const struct query q_refuse_fn = {
	"SELECT 1",
	"CREATE FUNCTION refuse_k3() RETURNS trigger LANGUAGE plpgsql AS $$ "
	"BEGIN IF NEW.source_key = 'k3' THEN RAISE EXCEPTION "
	"'planted refusal'; END IF; RETURN NEW; END $$"
};
static const struct query q_refuse = {
	"CREATE TEMP TRIGGER refuse BEFORE INSERT ON messages WHEN "
	"NEW.source_key = 'k3' BEGIN SELECT RAISE(ABORT, 'planted refusal'); "
	"END",
	"CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW "
	"EXECUTE FUNCTION refuse_k3()"
};
static const struct query q_unrefuse = {
	"DROP TRIGGER refuse", "DROP TRIGGER refuse ON messages"
};

static void
exec1(struct store *st, const struct query *q)
{
	struct stmt *s;
	int rc;

	s = store_prepare(st, q, &rc);
	ck_assert_msg(s != NULL, "%s", store_errmsg(st));
	rc = store_step(s);
	ck_assert_msg(rc == STORE_ROW || rc == STORE_DONE, "%s",
	    store_errmsg(st));
	store_done(s);
}

static char *
failures(struct store *st)
{
	char *t = NULL;

	ck_assert_int_eq(srcstate_get_failures(st, "mem", &t), STORE_OK);
	return t;
}

static const volatile sig_atomic_t no_stop;

static int
engine_poll(struct source *src, struct ingest_ctx *ctx,
    struct source_stats *stats, char **err)
{
	struct source_run run;

	memset(&run, 0, sizeof(run));
	memset(stats, 0, sizeof(*stats));
	run.ictx = ctx;
	run.stop = &no_stop;
	run.batch = 100;
	*err = NULL;
	return source_engine_poll(src, &run, stats, err);
}

START_TEST(test_engine_batch)
{
	struct mem_message v[4];
	struct mem_source ms = { .v = v, .n = 4, .use_cursor = 1,
	    .save_failures = 1 };
	struct source_config scfg;
	struct source_stats stats;
	struct source src;
	struct config cfg;
	struct calendar *cal;
	struct lexicon *lex;
	struct ingest_ctx ctx;
	struct target t;
	struct store *st;
	char *err, *f;
	size_t i;

	memcpy(v, four, sizeof(v));
	target_new(_i, "engine", &t);
	st = target_open(&t);
	config_defaults(&cfg);
	cal = test_calendar_new(&cfg);
	lex = lexicon_builtin();
	ingest_ctx_init(&ctx, &cfg, cal, lex, st);
	memset(&scfg, 0, sizeof(scfg));
	scfg.name = (char *)"mem";
	scfg.poll_interval = 60;
	exec1(st, &q_refuse_fn);
	exec1(st, &q_refuse);
	source_mem_init(&src, &scfg, &ms);
	ck_assert_int_eq(engine_poll(&src, &ctx, &stats, &err), SRC_OK);
	ck_assert_int_eq(stats.stored, 3);
	ck_assert_int_eq(stats.failed, 1);
	ck_assert_int_eq(stats.batches, 1);
	ck_assert_msg(err && strstr(err, "k3") && strstr(err, "planted refusal"),
	    "note: %s", err ? err : "(none)");
	free(err);
	ck_assert_int_eq(v[2].marked, 0);
	ck_assert_int_eq(v[3].marked, 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM messages"), 3);
	f = failures(st);
	ck_assert_msg(f && strstr(f, "k3"), "failures: %s", f ? f : "(none)");
	free(f);
	/* fixed: stored on the next poll, once; the record forgotten */
	exec1(st, &q_unrefuse);
	ck_assert_int_eq(engine_poll(&src, &ctx, &stats, &err), SRC_OK);
	free(err);
	ck_assert_int_eq(stats.stored, 1);
	ck_assert_ptr_null((f = failures(st)));
	ck_assert_int_eq(engine_poll(&src, &ctx, &stats, &err), SRC_OK);
	free(err);
	ck_assert_int_eq(stats.stored, 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_ge(v[i].marked, 1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM messages"), 4);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM tickets"), 4);
	ck_assert_int_eq(count(st, "SELECT count(DISTINCT source_key) FROM "
	    "messages WHERE source = 'mem'"), 4);
	ck_assert_int_eq(count(st, "SELECT last_uid FROM source_state WHERE "
	    "source = 'mem'"), 4);
	source_close(&src);
	store_close(st);
	lexicon_free(lex);
	calendar_free(cal);
	config_free(&cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ingest_drivers");
	TCase *tc = tcase_create("both");
	SRunner *sr;
	int nf, skip;

	skip = targets_start();
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_same_rows_on_both);
	tcase_add_loop_test(tc, test_engine_batch, 0, targets_n());
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	targets_stop();
	if (nf != 0)
		return 1;
	return skip == 77 ? 77 : 0;
}
