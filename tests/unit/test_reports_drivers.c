/* SPDX-License-Identifier: MIT */
/*
 * The staff side's read and retention modules on both drivers (SQLite and
 * a real PostgreSQL 15, pglib.h): the follow-up list (report.c), `intake
 * status` (cmd_status.c), search (search.c) and `intake purge`
 * (cmd_purge.c), over the same rows inserted through the statement API.
 * Every test is a loop test; _i is the driver.  The commands run through
 * their handlers with the store already open (cmd_open() below).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "cli.h"
#include "config.h"
#include "report.h"
#include "search.h"
#include "store.h"
#include "util.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

/* intake.c's, which the tests do not link: the store is open already. */
int
cmd_open(struct cmd_ctx *ctx)
{
	(void)ctx;
	return 0;
}

int
cmd_usage_error(struct cmd_ctx *ctx)
{
	(void)ctx;
	return EX_USAGE;
}

int
cmd_store_fail(struct cmd_ctx *ctx, int rc)
{
	fprintf(stderr, "store: %s\n", store_errmsg(ctx->env.store));
	return cli_store_exit(rc);
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

static void
run_q(struct store *st, const char *sql, const char *pg, const long long *v,
    int n, const char *text)
{
	struct query q = { sql, pg };
	struct stmt *s;
	int rc, i;

	s = store_prepare(st, &q, &rc);
	ck_assert_msg(s != NULL, "prepare %s: %s", sql, store_errmsg(st));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(store_bind_int64(s, i + 1, v[i]), STORE_OK);
	if (text)
		ck_assert_int_eq(store_bind_text(s, n + 1, text, (size_t)-1),
		    STORE_OK);
	while ((rc = store_step(s)) == STORE_ROW)
		;
	ck_assert_msg(rc == STORE_DONE, "%s: %d %s", sql, rc,
	    store_errmsg(st));
	store_done(s);
}

static long long
count_q(struct store *st, const char *sql)
{
	struct query q = { sql, NULL };
	struct stmt *s;
	long long n;
	int rc;

	s = store_prepare(st, &q, &rc);
	ck_assert_msg(s != NULL, "%s: %s", sql, store_errmsg(st));
	ck_assert_int_eq(store_step(s), STORE_ROW);
	n = store_col_int64(s, 0);
	store_done(s);
	return n;
}

/* id, type, urgency, automated, status, received, due, breach, acked,
 * closed (0: NULL) */
static void
ticket(struct store *st, long long id, const char *urgency, int automated,
    const char *status, long long recv, long long due, long long breach,
    long long acked, long long closed)
{
	long long v[] = { id, automated, recv, due, breach, acked, closed };

	run_q(st, "INSERT INTO tickets (id, type, urgency, automated, "
	    "received_at, response_due, breach_at, acknowledged_at, closed_at, "
	    "status, sender, subject, created_at, updated_at) VALUES (?1, "
	    "'trafficking', 'normal', ?2, ?3, nullif(?4, 0), nullif(?5, 0), "
	    "nullif(?6, 0), nullif(?7, 0), 'open', 'a@example.org', 's', ?3, ?3)",
	    "INSERT INTO tickets (id, type, urgency, automated, "
	    "received_at, response_due, breach_at, acknowledged_at, closed_at, "
	    "status, sender, subject, created_at, updated_at) VALUES ($1, "
	    "'trafficking', 'normal', $2, $3, nullif($4::bigint, 0), "
	    "nullif($5::bigint, 0), nullif($6::bigint, 0), "
	    "nullif($7::bigint, 0), 'open', 'a@example.org', 's', $3, $3)",
	    v, 7, NULL);
	(void)urgency;
	(void)status;
}

static void
message(struct store *st, long long id, long long tid, long long at,
    const char *subject, const char *text, const char *parse)
{
	long long v[] = { id, tid, at };
	char sql[1024], pg[1024];

	/* subject, text and parse status are fixed words of this test */
	snprintf(sql, sizeof(sql), "INSERT INTO messages (id, ticket_id, "
	    "source, sha256, norm_sha256, message_id, raw, size, received_at, "
	    "from_addr, subject, text, parse_status, created_at) VALUES (?1, "
	    "?2, 'mail', 'sha%lld', 'norm%lld', '<m%lld@x>', X'41', 1, ?3, "
	    "'A@Example.org', '%s', '%s', '%s', ?3)", id, id, id, subject,
	    text, parse);
	snprintf(pg, sizeof(pg), "INSERT INTO messages (id, ticket_id, "
	    "source, sha256, norm_sha256, message_id, raw, size, received_at, "
	    "from_addr, subject, text, parse_status, created_at) VALUES ($1, "
	    "$2, 'mail', 'sha%lld', 'norm%lld', '<m%lld@x>', '\\x41', 1, $3, "
	    "'A@Example.org', '%s', '%s', '%s', $3)", id, id, id, subject,
	    text, parse);
	run_q(st, sql, pg, v, 3, NULL);
}

/*
 * 1 open urgent breached; 2 open, no deadline; 3 open, acknowledged;
 * 4 closed 100 days ago; 5 open automated, breached.  Messages: 1 and 4
 * say "Lisbon" (1 in its subject), 1 has a phone number and "niña", 2
 * failed to parse; a note on 2 says "lisbon" too.
 */
static struct store *
seed(int drv, const char *name, time_t now)
{
	struct target t;
	struct store *st;
	long long n = (long long)now, ev[] = { 2, n };

	target_new(drv, name, &t);
	st = target_open(&t);
	ticket(st, 1, "urgent", 0, "open", n - 7200, n - 3600, n - 60, 0, 0);
	ticket(st, 2, "normal", 0, "open", n - 600, 0, 0, 0, 0);
	ticket(st, 3, "normal", 0, "open", n - 900, n + 600, n + 900, n - 300,
	    0);
	ticket(st, 4, "normal", 0, "open", n - 9000000, 0, 0, 0, 0);
	ticket(st, 5, "normal", 1, "open", n - 7200, n - 3600, n - 60, 0, 0);
	run_q(st, "UPDATE tickets SET urgency = CASE WHEN id = 1 THEN 'urgent' "
	    "ELSE 'normal' END", NULL, NULL, 0, NULL);
	run_q(st, "UPDATE tickets SET status = 'closed', closed_at = ?1 "
	    "WHERE id = 4", NULL, (long long[]){ n - 8640000 }, 1, NULL);
	message(st, 1, 1, n, "Job offer in Lisbon",
	    "they keep our passports, call 555-0142, ask for niña", "ok");
	message(st, 2, 2, n, "Question", "hello world", "error");
	message(st, 4, 4, n - 9000000, "Old", "secretword from lisbon", "ok");
	run_q(st, "INSERT INTO events (ticket_id, at, actor, kind, detail) "
	    "VALUES (?1, ?2, 'ana', 'note', '{\"text\":\"called lisbon "
	    "office\"}')", NULL, ev, 2, NULL);
	return st;
}

START_TEST(test_followups)
{
	time_t now = time(NULL);
	struct store *st = seed(_i, "followups", now);
	struct report_filter f;
	struct report_rows rows;

	report_filter_init(&f, now);
	ck_assert_int_eq(report_query(st, NULL, &f, &rows), STORE_OK);
	/* not the acknowledged, the closed nor the automated one */
	ck_assert_uint_eq(rows.n, 2);
	ck_assert_int_eq(rows.v[0].id, 1);
	ck_assert_int_eq(rows.v[0].group, RG_BREACHED);
	ck_assert(rows.v[0].breached);
	ck_assert_str_eq(rows.v[0].urgency, "urgent");
	ck_assert_int_eq(rows.v[1].id, 2);
	ck_assert_int_eq(rows.v[1].group, RG_NO_DEADLINE);
	report_rows_free(&rows);

	f.scope = REPORT_ALL_OPEN;
	f.include_automated = 1;
	ck_assert_int_eq(report_query(st, NULL, &f, &rows), STORE_OK);
	ck_assert_uint_eq(rows.n, 4);
	ck_assert_int_eq(rows.v[2].group, RG_NO_DEADLINE);
	ck_assert_int_eq(rows.v[3].id, 3);
	ck_assert_int_eq(rows.v[3].group, RG_ACKNOWLEDGED);
	report_rows_free(&rows);

	/* filters and a limit, bound: the same rows on both engines */
	f.scope = REPORT_OVERDUE;
	f.urgent_only = 1;
	f.type = "trafficking";
	f.limit = 1;
	ck_assert_int_eq(report_query(st, NULL, &f, &rows), STORE_OK);
	ck_assert_uint_eq(rows.n, 1);
	ck_assert_int_eq(rows.v[0].id, 1);
	report_rows_free(&rows);
	f.type = "other";
	ck_assert_int_eq(report_query(st, NULL, &f, &rows), STORE_OK);
	ck_assert_uint_eq(rows.n, 0);
	report_rows_free(&rows);
	/* ticket 2 (no deadline) sorts before 1 without NULLS FIRST on
	 * PostgreSQL: the limit must keep the same one as SQLite */
	report_filter_init(&f, now);
	f.scope = REPORT_ALL_OPEN;
	f.limit = 2;
	ck_assert_int_eq(report_query(st, NULL, &f, &rows), STORE_OK);
	ck_assert_uint_eq(rows.n, 2);
	ck_assert_int_eq(rows.v[0].id, 1);
	ck_assert_int_eq(rows.v[1].id, 3);
	report_rows_free(&rows);
	store_close(st);
}
END_TEST

static int
hits(struct store *st, const char *query, struct search_hits *hs)
{
	struct search_filter f;
	char *match = search_match_expr(query);
	int rc;

	memset(&f, 0, sizeof(f));
	f.until = (time_t)1 << 40;
	f.limit = 10;
	rc = search_run(st, match, &f, hs);
	if (rc != STORE_OK)
		fprintf(stderr, "search %s: %s\n", query, store_errmsg(st));
	free(match);
	return rc;
}

START_TEST(test_search)
{
	time_t now = time(NULL);
	struct store *st = seed(_i, "search", now);
	struct search_hits hs;

	ck_assert_int_eq(hits(st, "Lisbon", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 3);
	/* in a subject ranks first; the note's ticket is found by the note */
	ck_assert_int_eq(hs.v[0].id, 1);
	ck_assert_str_eq(hs.v[0].where, "message");
	ck_assert_ptr_nonnull(strchr(hs.v[0].snippet, SEARCH_MARK_ON));
	ck_assert(hs.v[0].score <= hs.v[1].score);
	ck_assert(hs.v[1].score <= hs.v[2].score);
	ck_assert(hs.v[1].id == 2 || hs.v[2].id == 2);
	search_hits_free(&hs);

	/* every word required */
	ck_assert_int_eq(hits(st, "lisbon passports", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 1);
	ck_assert_int_eq(hs.v[0].id, 1);
	search_hits_free(&hs);
	/* a phone number in other punctuation, a word without its accent */
	ck_assert_int_eq(hits(st, "(555) 0142", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 1);
	ck_assert_int_eq(hs.v[0].id, 1);
	search_hits_free(&hs);
	ck_assert_int_eq(hits(st, "nina", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 1);
	search_hits_free(&hs);
	ck_assert_int_eq(hits(st, "office", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 1);
	ck_assert_int_eq(hs.v[0].id, 2);
	ck_assert_str_eq(hs.v[0].where, "note");
	ck_assert_ptr_nonnull(strstr(hs.v[0].snippet, "office"));
	search_hits_free(&hs);
	ck_assert_int_eq(hits(st, "nowhere", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 0);
	search_hits_free(&hs);
	store_close(st);
}
END_TEST

/* Run a command's handler with stdout into a buffer (caller frees). */
static char *
run_cmd(int (*fn)(struct cmd_ctx *), struct cmd_ctx *ctx, int *exit_code)
{
	char path[] = "/tmp/intake-cmdout-XXXXXX";
	int fd = mkstemp(path), saved;
	char *out;
	size_t len;

	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	*exit_code = fn(ctx);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	ck_assert_int_eq(read_file(path, 1 << 20, &out, &len), 0);
	unlink(path);
	return out;
}

START_TEST(test_status)
{
	static const struct cmd_entry ent = { .name = "status" };
	time_t now = time(NULL);
	struct store *st = seed(_i, "status", now);
	struct cmd_ctx ctx;
	struct source_config src;
	json_t *root, *s0, *ob;
	json_error_t jerr;
	long long v[] = { now - 3600, now };
	char *out;
	int code;

	run_q(st, "INSERT INTO source_state (source, last_poll_at, "
	    "last_success_at, consecutive_failures) VALUES ('mail', ?1, ?1, 0)",
	    NULL, v + 1, 1, NULL);
	/* one stuck (an hour old), one delivered */
	run_q(st, "INSERT INTO outbox (kind, channel, payload, created_at, "
	    "next_attempt_at, attempts) VALUES ('alert', 'smtp', '{}', ?1, ?1, "
	    "1)", NULL, v, 1, NULL);
	run_q(st, "INSERT INTO outbox (kind, channel, payload, created_at, "
	    "next_attempt_at, attempts, delivered_at) VALUES ('alert', 'smtp', "
	    "'{}', ?1, ?1, 1, ?2)", NULL, v, 2, NULL);
	memset(&ctx, 0, sizeof(ctx));
	memset(&src, 0, sizeof(src));
	src.name = (char *)"mail";
	src.type = SOURCE_MAILDIR;
	config_defaults(&ctx.env.cfg);
	ctx.env.cfg.sources = &src;
	ctx.env.cfg.nsources = 1;
	ctx.env.store = st;
	ctx.cmd = &ent;
	ctx.format = 1;		/* json */
	out = run_cmd(cmd_status, &ctx, &code);
	ctx.env.cfg.sources = NULL;
	ctx.env.cfg.nsources = 0;
	config_free(&ctx.env.cfg);
	ck_assert_int_eq(code, 1);	/* the outbox is stuck */
	root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", out);
	s0 = json_array_get(json_object_get(root, "sources"), 0);
	/* tickets 1 and 2 began today from "mail"; 2 did not parse */
	ck_assert_int_eq(json_integer_value(json_object_get(s0,
	    "tickets_today")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(s0,
	    "parse_errors_today")), 1);
	ck_assert(json_is_false(json_object_get(s0, "stale")));
	ob = json_object_get(root, "outbox");
	ck_assert_int_eq(json_integer_value(json_object_get(ob, "undelivered")),
	    1);
	ck_assert_int_eq(json_integer_value(json_object_get(ob,
	    "max_attempts")), 1);
	ck_assert(json_is_true(json_object_get(ob, "stuck")));
	json_decref(root);
	free(out);
	store_close(st);
}
END_TEST

START_TEST(test_purge)
{
	static const struct cmd_entry ent = { .name = "purge" };
	time_t now = time(NULL);
	struct store *st = seed(_i, "purge", now);
	struct cmd_ctx ctx;
	struct search_hits hs;
	char *out;
	int code;

	memset(&ctx, 0, sizeof(ctx));
	config_defaults(&ctx.env.cfg);
	ctx.env.store = st;
	ctx.cmd = &ent;
	ctx.opts[0].id = 'b';
	ctx.opts[0].arg = "2100-01-01";
	ctx.opts[1].id = 'n';
	ctx.nopts = 2;
	out = run_cmd(cmd_purge, &ctx, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(strstr(out, "would purge 1 closed ticket (1 messages, "
	    "0 events)") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(count_q(st, "SELECT count(*) FROM tickets"), 5);

	ctx.nopts = 1;
	out = run_cmd(cmd_purge, &ctx, &code);
	config_free(&ctx.env.cfg);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(strstr(out, "purged 1 closed ticket (1 messages, "
	    "0 events)") != NULL, "%s", out);
	free(out);
	/* the closed one only, with its message; hashes kept, counts logged */
	ck_assert_int_eq(count_q(st, "SELECT count(*) FROM tickets"), 4);
	ck_assert_int_eq(count_q(st, "SELECT count(*) FROM tickets "
	    "WHERE id = 4"), 0);
	ck_assert_int_eq(count_q(st, "SELECT count(*) FROM messages"), 2);
	ck_assert_int_eq(count_q(st, "SELECT count(*) FROM purged WHERE "
	    "sha256 = 'sha4' AND norm_sha256 = 'norm4' AND "
	    "length(msgid_sha256) = 64"), 1);
	ck_assert_int_eq(count_q(st, "SELECT count(*) FROM purge_log WHERE "
	    "tickets = 1 AND messages = 1 AND events = 0"), 1);
	/* its words are gone from the index */
	ck_assert_int_eq(hits(st, "secretword", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 0);
	search_hits_free(&hs);
	ck_assert_int_eq(hits(st, "lisbon", &hs), STORE_OK);
	ck_assert_uint_eq(hs.n, 2);
	search_hits_free(&hs);
	store_close(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("reports_drivers");
	TCase *tc = tcase_create("both");
	SRunner *sr;
	int nf, skip, n;

	setenv("TZ", "UTC", 1);
	tzset();
	skip = targets_start();
	n = targets_n();
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_followups, 0, n);
	tcase_add_loop_test(tc, test_search, 0, n);
	tcase_add_loop_test(tc, test_status, 0, n);
	tcase_add_loop_test(tc, test_purge, 0, n);
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
