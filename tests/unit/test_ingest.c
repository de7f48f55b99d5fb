/* SPDX-License-Identifier: MIT */
/* ingest_raw() with raw_input.fetch_error: a message the source could not
 * fetch (a server that drops the connection on it) is stored as a flagged
 * parse error, and two such records are never taken for one message. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "ingest.h"
#include "store.h"
#include "triage.h"

static char dir[] = "/tmp/intake-ingesttest-XXXXXX";
static struct config cfg;
static struct calendar *cal;
static struct lexicon *lex;
static struct store *st;
static struct ingest_ctx ctx;
static char path[256];

/* A checked fixture: runs in each test's own child, so each test gets a
 * fresh directory and database. */
static void
setup(void)
{
	char err[256], *serr = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	config_defaults(&cfg);
	ck_assert_msg(calendar_set_zone(cfg.timezone, err, sizeof(err)) == 0,
	    "%s", err);
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_msg(cal != NULL, "%s", err);
	lex = lexicon_builtin();
	ck_assert_ptr_nonnull(lex);
	ck_assert_msg(store_open(path, NULL, 1000, &st, &serr) == STORE_OK,
	    "%s", serr);
	ingest_ctx_init(&ctx, &cfg, cal, lex, st);
}

static void
teardown(void)
{
	char p[300];

	store_close(st);
	lexicon_free(lex);
	calendar_free(cal);
	config_free(&cfg);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

static long long
count(const char *sql)
{
	sqlite3_stmt *s;
	long long n = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void
raw_init(struct raw_input *raw, const char *data, const char *key,
    const char *fetch_error)
{
	memset(raw, 0, sizeof(*raw));
	raw->data = data;
	raw->len = strlen(data);
	raw->source = "hotline";
	raw->source_key = key;
	raw->received_at = 1795000000;
	raw->fetch_error = fetch_error;
}

#define NODELIVER "the server could not deliver this message (UID 7)"

START_TEST(test_fetch_error_empty_records_stay_apart)
{
	struct raw_input raw;
	struct ingest_result a, b;

	raw_init(&raw, "", "7:2", NODELIVER);
	ck_assert_int_eq(ingest_raw(&ctx, &raw, &a), STORE_OK);
	raw_init(&raw, "", "7:5", NODELIVER);
	ck_assert_int_eq(ingest_raw(&ctx, &raw, &b), STORE_OK);
	ck_assert_int_eq(a.duplicate, 0);
	ck_assert_int_eq(b.duplicate, 0);
	ck_assert_int_ne(a.ticket, b.ticket);
	ck_assert_int_eq(a.parse_status, MSG_PARSE_ERROR);
	ck_assert_int_eq(count("SELECT count(*) FROM tickets WHERE "
	    "needs_human = 1"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE "
	    "parse_status = 'error' AND parse_error = '" NODELIVER "' AND "
	    "length(raw) = 0"), 2);
	/* The same source key again: the stored one, not a third. */
	raw_init(&raw, "", "7:5", NODELIVER);
	ck_assert_int_eq(ingest_raw(&ctx, &raw, &b), STORE_OK);
	ck_assert_int_eq(b.duplicate, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM tickets"), 2);
}
END_TEST

START_TEST(test_fetch_error_keeps_the_header)
{
	struct raw_input raw;
	struct ingest_result r;

	raw_init(&raw, "From: Ana <ana@example.net>\r\nSubject: hello\r\n"
	    "Message-ID: <h1@example.net>\r\n\r\n", "7:9", NODELIVER);
	ck_assert_int_eq(ingest_raw(&ctx, &raw, &r), STORE_OK);
	ck_assert_int_eq(r.duplicate, 0);
	ck_assert_int_eq(r.parse_status, MSG_PARSE_ERROR);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE "
	    "from_addr = 'ana@example.net' AND message_id = 'h1@example.net' "
	    "AND parse_status = 'error'"), 1);
	ck_assert_int_eq(count("SELECT needs_human FROM tickets"), 1);
}
END_TEST

/* Control: without fetch_error, identical bytes are one message. */
START_TEST(test_same_bytes_without_fetch_error_are_one)
{
	struct raw_input raw;
	struct ingest_result a, b;

	raw_init(&raw, "", "7:2", NULL);
	ck_assert_int_eq(ingest_raw(&ctx, &raw, &a), STORE_OK);
	raw_init(&raw, "", "7:5", NULL);
	ck_assert_int_eq(ingest_raw(&ctx, &raw, &b), STORE_OK);
	ck_assert_int_eq(b.duplicate, 1);
	ck_assert_int_eq(b.ticket, a.ticket);
}
END_TEST

static Suite *
ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("fetch_error");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fetch_error_empty_records_stay_apart);
	tcase_add_test(tc, test_fetch_error_keeps_the_header);
	tcase_add_test(tc, test_same_bytes_without_fetch_error_are_one);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ingest_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
