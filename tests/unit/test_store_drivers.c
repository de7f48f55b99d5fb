/* SPDX-License-Identifier: MIT */
/*
 * The store's statement API and the converted modules (srcstate.c,
 * store_event) against both drivers: SQLite and a real PostgreSQL 15
 * (pglib.h).  Every test is a loop test; _i is the driver.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libpq-fe.h>

#include "calendar.h"
#include "cli.h"
#include "config.h"
#include "pgschema.h"
#include "source.h"
#include "store.h"
#include "util.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

static const char *const drvname[] = { "sqlite", "postgresql" };

/* One row of one integer column, or -1 with no row. */
static long long
one_int(struct store *st, const struct query *q, const char *arg)
{
	struct stmt *s;
	long long v = -1;
	int rc;

	s = store_prepare(st, q, &rc);
	ck_assert_msg(s != NULL, "prepare %s: %s", q->sql, store_errmsg(st));
	if (arg)
		ck_assert_int_eq(store_bind_text(s, 1, arg, (size_t)-1), STORE_OK);
	rc = store_step(s);
	ck_assert_msg(rc == STORE_ROW || rc == STORE_DONE, "%s: %d %s", q->sql,
	    rc, store_errmsg(st));
	if (rc == STORE_ROW)
		v = store_col_int64(s, 0);
	store_done(s);
	return v;
}

START_TEST(test_open_migrate_reopen)
{
	static const struct query q_count = {
		"SELECT count(*) FROM source_state", NULL };
	static const struct query q_versions = {
		"SELECT count(*) FROM schema_version", NULL };
	struct target t;
	struct store *st;

	target_new(_i, "open", &t);
	st = target_open(&t);
	ck_assert_str_eq(store_driver(st)->name, drvname[_i]);
	ck_assert_int_eq(store_schema_version(st), store_schema_latest());
	ck_assert_int_eq(one_int(st, &q_count, NULL), 0);
	if (_i == DRV_PG) {
		/* every sql/pg/ migration recorded, the same version as sql/ */
		ck_assert_int_eq(one_int(st, &q_versions, NULL),
		    (long long)pg_migrations_count);
		ck_assert_str_eq(store_actor(st), "intake_super");
	} else
		ck_assert_ptr_null(store_actor(st));
	store_close(st);
	/* reopening migrates nothing and finds the same version */
	st = target_open(&t);
	ck_assert_int_eq(store_schema_version(st), store_schema_latest());
	if (_i == DRV_PG)
		ck_assert_int_eq(one_int(st, &q_versions, NULL),
		    (long long)pg_migrations_count);
	store_close(st);
}
END_TEST

START_TEST(test_readonly)
{
	static const struct query q_ins = {
		"INSERT INTO source_state (source) VALUES ('ro')", NULL };
	struct target t;
	struct store *st;
	struct stmt *s;
	char *err = NULL;
	int rc;

	target_new(_i, "readonly", &t);
	/* never created or migrated by a reader */
	st = target_open_rc(&t, STORE_OPEN_READONLY, 1000, &rc, &err);
	ck_assert_msg(rc == STORE_OLDER, "rc %d: %s", rc, err);
	ck_assert_ptr_null(st);
	free(err);
	store_close(target_open(&t));
	st = target_open_rc(&t, STORE_OPEN_READONLY, 1000, NULL, NULL);
	s = store_prepare(st, &q_ins, &rc);
	if (s != NULL) {
		rc = store_step(s);
		store_done(s);
	}
	ck_assert_int_lt(rc, 0);
	store_close(st);
}
END_TEST

/* ?N reused, a bare ?, a ? inside quotes and a comment, big integers,
 * UTF-8 text, NULL, and a blob of every byte value. */
/* A query built on the stack: one statement per distinct text, whatever
 * address the struct query had. */
static void
built_query(struct store *st)
{
	const char *texts[] = { "SELECT count(*) FROM t WHERE i > ?1",
	    "SELECT count(*) FROM t WHERE i < ?1" };
	long long want[] = { 2, 1 };	/* of -5, 7, 1 << 62 above 0; below */
	struct stmt *s;
	int k, rc;

	for (k = 0; k < 4; k++) {
		struct query q = { texts[k % 2], NULL };

		s = store_prepare(st, &q, &rc);
		ck_assert_msg(s != NULL, "%s", store_errmsg(st));
		ck_assert_int_eq(store_bind_int64(s, 1, 0), STORE_OK);
		ck_assert_int_eq(store_step(s), STORE_ROW);
		ck_assert_int_eq(store_col_int64(s, 0), want[k % 2]);
		store_done(s);
	}
}

START_TEST(test_statement_api)
{
	static const struct query q_create = {
		"CREATE TEMP TABLE t (i INTEGER, s TEXT, b BLOB)",
		"CREATE TEMP TABLE t (i bigint, s text, b bytea)" };
	static const struct query q_ins = {
		"INSERT INTO t (i, s, b) VALUES (?, ?, ?)", NULL };
	static const struct query q_upd = {
		"UPDATE t SET i = i WHERE i > ?1", NULL };
	static const struct query q_sel = {
		"SELECT i, s, b, '?1 -- ?', ?1 * 2 -- ?9 is no parameter\n"
		"FROM t WHERE i >= ?1 ORDER BY i", NULL };
	unsigned char blob[256];
	struct target t;
	struct store *st;
	struct stmt *s, *s2;
	const unsigned char *b;
	const char *txt;
	size_t n;
	int rc, i;

	for (i = 0; i < 256; i++)
		blob[i] = (unsigned char)i;
	target_new(_i, "stmt", &t);
	st = target_open(&t);
	s = store_prepare(st, &q_create, &rc);
	ck_assert_msg(s != NULL, "%s", store_errmsg(st));
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	s = store_prepare(st, &q_ins, &rc);
	ck_assert_msg(s != NULL, "%s", store_errmsg(st));
	ck_assert_int_eq(store_bind_int64(s, 1, 1LL << 62), STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 2, "ni\xc3\xb1" "a, 'quoted' \\",
	    (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_bind_blob(s, 3, blob, sizeof(blob)), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	/* prepared once: the same handle again */
	s2 = store_prepare(st, &q_ins, &rc);
	ck_assert_ptr_eq(s2, s);
	ck_assert_int_eq(store_bind_int64(s, 1, -5), STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 2, NULL, 0), STORE_OK);
	ck_assert_int_eq(store_bind_null(s, 3), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	ck_assert_int_eq(store_bind_int64(s, 1, 7), STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 2, "x", 1), STORE_OK);
	ck_assert_int_eq(store_bind_blob(s, 3, "", 0), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	ck_assert_int_eq(store_changes(s), 1);
	store_done(s);
	s = store_prepare(st, &q_upd, &rc);
	ck_assert_msg(s != NULL, "%s", store_errmsg(st));
	ck_assert_int_eq(store_bind_int64(s, 1, 0), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	ck_assert_int_eq(store_changes(s), 2);	/* 1 << 62 and 7, not -5 */
	store_done(s);
	ck_assert_int_eq(store_bind_int64(s, 1, 1LL << 62), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	ck_assert_int_eq(store_changes(s), 0);
	store_done(s);

	s = store_prepare(st, &q_sel, &rc);
	ck_assert_msg(s != NULL, "%s", store_errmsg(st));
	ck_assert_int_eq(store_bind_int64(s, 1, -10), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), -5);
	ck_assert(store_col_null(s, 1));
	ck_assert_ptr_null(store_col_text(s, 1, NULL));
	ck_assert(store_col_null(s, 2));
	ck_assert_str_eq(store_col_text(s, 3, NULL), "?1 -- ?");
	ck_assert_int_eq(store_col_int64(s, 4), -20);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), 7);
	ck_assert(!store_col_null(s, 2));
	store_col_blob(s, 2, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), 1LL << 62);
	txt = store_col_text(s, 1, &n);
	ck_assert_str_eq(txt, "ni\xc3\xb1" "a, 'quoted' \\");
	ck_assert_uint_eq(n, strlen(txt));
	b = store_col_blob(s, 2, &n);
	ck_assert_uint_eq(n, sizeof(blob));
	ck_assert_mem_eq(b, blob, sizeof(blob));
	ck_assert_int_eq(store_step(s), STORE_DONE);
	/* as SQLite's: a step after the end runs it again */
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), -5);
	store_done(s);
	/* after done, the statement runs again with new values */
	ck_assert_int_eq(store_bind_int64(s, 1, 2), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), 7);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	built_query(st);
	store_close(st);
}
END_TEST

/* Rolled back: not there; committed: seen by another connection. */
START_TEST(test_transactions)
{
	static const struct query q_ins = {
		"INSERT INTO source_state (source) VALUES (?1)", NULL };
	static const struct query q_has = {
		"SELECT count(*) FROM source_state WHERE source = ?1", NULL };
	struct target t;
	struct store *a, *b;
	struct stmt *s;
	int rc;

	target_new(_i, "tx", &t);
	a = target_open(&t);
	b = target_open(&t);
	ck_assert_int_eq(store_begin(a), STORE_OK);
	s = store_prepare(a, &q_ins, &rc);
	ck_assert_int_eq(store_bind_text(s, 1, "gone", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	store_rollback(a);
	ck_assert_int_eq(one_int(a, &q_has, "gone"), 0);
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 1, "kept", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	ck_assert_int_eq(store_commit(a), STORE_OK);
	ck_assert_int_eq(one_int(b, &q_has, "kept"), 1);

	/* a failed statement (a duplicate key) inside a transaction: on
	 * PostgreSQL the whole transaction is lost, and COMMIT says so */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 1, "also", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	ck_assert_int_eq(store_bind_text(s, 1, "kept", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ERR);
	store_done(s);
	rc = store_commit(a);
	if (_i == DRV_PG) {
		ck_assert_int_eq(rc, STORE_ERR);
		ck_assert_ptr_nonnull(strstr(store_errmsg(a), "rolled back"));
		ck_assert_int_eq(one_int(b, &q_has, "also"), 0);
	} else
		ck_assert_int_eq(rc, STORE_OK);
	/* and the connection goes on; no transaction inside one */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(store_begin(a), STORE_ERR);
	ck_assert_int_eq(store_commit(a), STORE_OK);
	store_close(a);
	store_close(b);
}
END_TEST

/* The engine's savepoint per message: a statement that fails inside one
 * is rolled back to it, and the transaction commits the rest (on
 * PostgreSQL the failure would otherwise spoil the whole transaction). */
START_TEST(test_savepoints)
{
	static const struct query q_ins = {
		"INSERT INTO source_state (source) VALUES (?1)", NULL };
	static const struct query q_n = {
		"SELECT count(*) FROM source_state", NULL };
	static const char *const names[] = { "m1", "m1", "m2", "m3" };
	struct target t;
	struct store *st;
	struct stmt *s;
	size_t i;
	int rc;

	target_new(_i, "savepoint", &t);
	st = target_open(&t);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	for (i = 0; i < NELEM(names); i++) {
		ck_assert_int_eq(store_savepoint(st, "source_msg"), STORE_OK);
		s = store_prepare(st, &q_ins, &rc);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(store_bind_text(s, 1, names[i], (size_t)-1),
		    STORE_OK);
		rc = store_step(s);
		store_done(s);
		if (rc == STORE_DONE)
			ck_assert_int_eq(store_savepoint_release(st, "source_msg"),
			    STORE_OK);
		else {
			/* the duplicate m1 */
			ck_assert_int_eq(i, 1);
			ck_assert_int_eq(store_savepoint_rollback(st,
			    "source_msg"), STORE_OK);
			ck_assert_int_eq(store_savepoint_release(st, "source_msg"),
			    STORE_OK);
		}
	}
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(one_int(st, &q_n, NULL), 3);
	/* a name that is no plain identifier is refused, never run */
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(store_savepoint(st, "x; DROP TABLE events"), STORE_ERR);
	ck_assert_int_eq(store_savepoint(st, "Upper"), STORE_ERR);
	store_rollback(st);
	store_close(st);
}
END_TEST

/* An INSERT ... RETURNING done with after its row, not stepped to its end
 * (as one takes a new id): the caller's transaction and savepoint stay,
 * and the row is there, on both drivers.  messages has triggers (the
 * search index, on SQLite). */
START_TEST(test_returning_done_early)
{
	static const struct query q_ticket = {
		"INSERT INTO tickets (type, urgency, received_at, created_at, "
		"updated_at) VALUES ('info', 'none', 1, 1, 1) RETURNING id",
		NULL };
	static const struct query q_msg = {
		"INSERT INTO messages (ticket_id, source, sha256, raw, size, "
		"received_at, subject, parse_status, created_at) VALUES (?1, 'mail', "
		"'x', ?2, "
		"1, 1, 'hello', 'ok', 1) RETURNING id", NULL };
	static const struct query q_n = {
		"SELECT count(*) FROM messages", NULL };
	struct target t;
	struct store *st;
	struct stmt *s;
	long long ticket, id;
	int rc;

	target_new(_i, "returning", &t);
	st = target_open(&t);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(store_savepoint(st, "one"), STORE_OK);
	ticket = one_int(st, &q_ticket, NULL);
	ck_assert_int_gt(ticket, 0);
	s = store_prepare(st, &q_msg, &rc);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_bind_int64(s, 1, ticket), STORE_OK);
	ck_assert_int_eq(store_bind_blob(s, 2, "x", 1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	id = store_col_int64(s, 0);
	ck_assert_int_gt(id, 0);
	store_done(s);
	ck_assert_msg(store_savepoint_release(st, "one") == STORE_OK, "%s",
	    store_errmsg(st));
	ck_assert_msg(store_commit(st) == STORE_OK, "%s", store_errmsg(st));
	ck_assert_int_eq(one_int(st, &q_n, NULL), 1);
	store_close(st);
}
END_TEST

/* Another connection's write lock: a temporary failure after the busy
 * timeout (SQLite's busy_timeout, PostgreSQL's lock_timeout), which the
 * holder's end clears. */
START_TEST(test_locked_is_temporary)
{
	static const struct query q_upd = {
		"UPDATE source_state SET last_uid = last_uid + 1 "
		"WHERE source = 'x'", NULL };
	static const struct query q_ins = {
		"INSERT INTO source_state (source) VALUES ('x')", NULL };
	struct target t;
	struct store *a, *b;
	struct stmt *s;
	int rc;

	target_new(_i, "locked", &t);
	a = target_open_rc(&t, 0, 100, NULL, NULL);
	b = target_open_rc(&t, 0, 100, NULL, NULL);
	s = store_prepare(a, &q_ins, &rc);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	ck_assert_int_eq(store_begin(a), STORE_OK);
	s = store_prepare(a, &q_upd, &rc);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	/* SQLite: BEGIN IMMEDIATE waits; PostgreSQL: the row's lock */
	rc = store_begin(b);
	if (rc == STORE_OK) {
		s = store_prepare(b, &q_upd, &rc);
		ck_assert_ptr_nonnull(s);
		rc = store_step(s);
		store_done(s);
		store_rollback(b);
	}
	ck_assert_int_eq(rc, STORE_TEMP);
	store_rollback(a);
	ck_assert_int_eq(store_begin(b), STORE_OK);
	s = store_prepare(b, &q_upd, &rc);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	ck_assert_int_eq(store_commit(b), STORE_OK);
	store_close(a);
	store_close(b);
}
END_TEST

START_TEST(test_srcstate)
{
	static const struct query q_health = {
		"SELECT consecutive_failures, last_error, last_success_at, "
		"messages_waiting FROM source_state WHERE source = ?1", NULL };
	struct source_cursor c = { 0 }, got;
	struct target t;
	struct store *st;
	struct stmt *s;
	int rc;

	target_new(_i, "srcstate", &t);
	st = target_open(&t);
	/* nothing stored: all zero */
	ck_assert_int_eq(srcstate_get(st, "box", &got), STORE_OK);
	ck_assert_int_eq(got.uidvalidity, 0);
	ck_assert_int_eq(got.last_uid, 0);
	ck_assert_ptr_null(got.cursor);
	/* in a batch transaction, as the engine saves it */
	ck_assert_int_eq(store_begin(st), STORE_OK);
	c.uidvalidity = 3000000001LL;
	c.last_uid = 42;
	c.cursor = "page=2&since=\xe2\x80\x94";
	ck_assert_int_eq(srcstate_set(st, "box", &c), STORE_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(srcstate_get(st, "box", &got), STORE_OK);
	ck_assert_int_eq(got.uidvalidity, 3000000001LL);
	ck_assert_int_eq(got.last_uid, 42);
	ck_assert_str_eq(got.cursor, c.cursor);
	source_cursor_free(&got);
	/* the cursor cleared, the numbers moved: an update in place */
	c.cursor = NULL;
	c.last_uid = 43;
	ck_assert_int_eq(srcstate_set(st, "box", &c), STORE_OK);
	ck_assert_int_eq(srcstate_get(st, "box", &got), STORE_OK);
	ck_assert_int_eq(got.last_uid, 43);
	ck_assert_ptr_null(got.cursor);

	/* polls: two failures count, a success with a note clears the count
	 * and shows the note, a success without one keeps it */
	ck_assert_int_eq(srcstate_record_poll(st, "box", 0, "timeout", -1,
	    1000), STORE_OK);
	ck_assert_int_eq(srcstate_record_poll(st, "box", 0, "refused", -1,
	    1001), STORE_OK);
	s = store_prepare(st, &q_health, &rc);
	ck_assert_int_eq(store_bind_text(s, 1, "box", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), 2);
	ck_assert_str_eq(store_col_text(s, 1, NULL), "refused");
	ck_assert(store_col_null(s, 2));
	store_done(s);
	rc = srcstate_record_poll(st, "box", 1, "one bad entry", 7, 1002);
	ck_assert_msg(rc == STORE_OK, "%d: %s", rc, store_errmsg(st));
	ck_assert_int_eq(srcstate_record_poll(st, "box", 1, NULL, -1, 1003),
	    STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 1, "box", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), 0);
	ck_assert_str_eq(store_col_text(s, 1, NULL), "one bad entry");
	ck_assert_int_eq(store_col_int64(s, 2), 1003);
	ck_assert(store_col_null(s, 3));
	store_done(s);
	/* a new source's first poll inserts its row */
	ck_assert_int_eq(srcstate_record_poll(st, "new", 1, NULL, 3, 1004),
	    STORE_OK);
	ck_assert_int_eq(store_bind_text(s, 1, "new", (size_t)-1), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 3), 3);
	store_done(s);
	store_close(st);
}
END_TEST

START_TEST(test_event)
{
	static const struct query q_ticket = {
		"INSERT INTO tickets (type, urgency, received_at, created_at, "
		"updated_at) VALUES ('info', 'none', 1, 1, 1) RETURNING id",
		NULL };
	static const struct query q_ev = {
		"SELECT actor, kind, detail, at FROM events WHERE ticket_id = ?1 "
		"ORDER BY id", NULL };
	struct target t;
	struct store *st;
	struct stmt *s;
	long long id;
	int rc;

	target_new(_i, "event", &t);
	st = target_open(&t);
	id = one_int(st, &q_ticket, NULL);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(store_event(st, id, 100, "alice", "note",
	    "{\"text\":\"x\"}"), STORE_OK);
	ck_assert_int_eq(store_event(st, id, 101, NULL, "ack", NULL), STORE_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	/* an event of no ticket is refused (the foreign key) */
	ck_assert_int_eq(store_event(st, id + 1000, 1, "x", "note", NULL),
	    STORE_ERR);
	s = store_prepare(st, &q_ev, &rc);
	ck_assert_int_eq(store_bind_int64(s, 1, id), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_str_eq(store_col_text(s, 0, NULL), "alice");
	ck_assert_str_eq(store_col_text(s, 2, NULL), "{\"text\":\"x\"}");
	ck_assert_int_eq(store_step(s), STORE_ROW);
	/* no actor given: the database role, where there is one */
	ck_assert_str_eq(store_col_text(s, 0, NULL),
	    _i == DRV_PG ? "intake_super" : "?");
	ck_assert_str_eq(store_col_text(s, 2, NULL), "{}");
	ck_assert_int_eq(store_col_int64(s, 3), 101);
	ck_assert_int_eq(store_step(s), STORE_DONE);
	store_done(s);
	store_close(st);
}
END_TEST

/* PostgreSQL: the server ends the session (an administrator, a failover):
 * inside a transaction that is a temporary failure; the next transaction
 * reconnects and prepares its statements again. */
START_TEST(test_pg_reconnect)
{
	static const struct query q_pid = { "SELECT pg_backend_pid()", NULL };
	struct target t;
	struct store *st;
	char sql[96];
	long long pid, pid2;
	PGconn *admin;
	int rc;

	target_new(DRV_PG, "reconnect", &t);
	st = target_open(&t);
	pid = one_int(st, &q_pid, NULL);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	admin = test_pg_connect(&test_pgsrv, "t_reconnect");
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld, 60000)",
	    pid);
	test_pg_exec(admin, sql);
	PQfinish(admin);
	ck_assert_int_eq(srcstate_set(st, "x", &(struct source_cursor){ 0 }),
	    STORE_TEMP);
	rc = store_commit(st);
	ck_assert_int_ne(rc, STORE_OK);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	pid2 = one_int(st, &q_pid, NULL);
	ck_assert_int_ne(pid2, pid);
	ck_assert_int_eq(srcstate_set(st, "x", &(struct source_cursor){ 0 }),
	    STORE_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	store_close(st);
}
END_TEST

START_TEST(test_is_postgresql)
{
	ck_assert(store_is_postgresql("postgresql://u@h/db"));
	ck_assert(store_is_postgresql("postgres:///intake?host=/run"));
	ck_assert(store_is_postgresql("host=db1 dbname=intake"));
	ck_assert(store_is_postgresql("dbname = intake"));
	ck_assert(store_is_postgresql("service=intake"));
	ck_assert(!store_is_postgresql("/var/lib/intake/intake.db"));
	ck_assert(!store_is_postgresql("intake.db"));
	ck_assert(!store_is_postgresql("./host=x"));
	ck_assert(!store_is_postgresql("hostname.db"));
	ck_assert(!store_is_postgresql("postgresql:relative.db"));
	ck_assert(!store_is_postgresql(NULL));
	/* what --dump-config must not show */
	ck_assert(store_has_password("postgresql://u:pw@h/db"));
	ck_assert(store_has_password("host=h password=pw"));
	ck_assert(store_has_password("postgresql://h/db?password=pw"));
	ck_assert(!store_has_password("postgresql://u@h/db"));
	ck_assert(!store_has_password("host=h dbname=intake"));
	ck_assert(!store_has_password("/var/lib/intake/intake.db"));
}
END_TEST

/* What the daemon logs at start: never a password, in either form. */
START_TEST(test_display_name)
{
	char *n;

	n = store_display_name("/var/lib/intake/intake.db");
	ck_assert_str_eq(n, "/var/lib/intake/intake.db");
	free(n);
	n = store_display_name("postgresql://intaked:s3cret@db1:5433/intake");
	ck_assert_str_eq(n,
	    "postgresql: user=intaked dbname=intake host=db1 port=5433");
	free(n);
	n = store_display_name("host=db1 password=s3cret dbname=intake");
	ck_assert_str_eq(n, "postgresql: dbname=intake host=db1");
	free(n);
	n = store_display_name("postgresql://h/db?password=s3cret");
	ck_assert_ptr_null(strstr(n, "s3cret"));
	free(n);
	n = store_display_name("host='db1 password=s3cret");
	ck_assert_str_eq(n, "postgresql: (unparseable)");
	free(n);
}
END_TEST

/* The SQLite-file entries refuse PostgreSQL before connecting, never
 * repeating the connection string. */
START_TEST(test_notyet_names_modules)
{
	struct store *st = (struct store *)1;
	char *err = NULL;

	ck_assert_int_eq(store_open("postgresql://u:s3cret@127.0.0.1:1/x",
	    NULL, 100, &st, &err), STORE_NOTYET);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err, "SQLite files only"));
	ck_assert_ptr_null(strstr(err, "s3cret"));
	free(err);
	ck_assert_int_eq(store_open_readonly("host=x password=s3cret", 100, &st,
	    &err), STORE_NOTYET);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	free(err);
	/* the staff commands' exit code: 78 */
	ck_assert_int_eq(cli_store_exit(STORE_NOTYET), EX_CONFIG);
}
END_TEST

/* database_password_file: read with the secret-file rules; a file others
 * can read is refused before any connection. */
START_TEST(test_pg_password_file)
{
	struct target t;
	struct config cfg;
	struct store *st = NULL;
	char path[600], *err = NULL;
	FILE *f;
	int rc;

	target_new(DRV_PG, "pwfile", &t);
	snprintf(path, sizeof(path), "%s/pg.pass", test_litedir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("not-checked-by-trust\n", f);
	fclose(f);
	config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(t.db);
	cfg.database_password_file = xstrdup(path);
	ck_assert_int_eq(chmod(path, 0644), 0);
	rc = store_open_config(&cfg, 0, &st, &err);
	ck_assert_int_eq(rc, STORE_PERM);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err, path));
	free(err);
	ck_assert_int_eq(chmod(path, 0600), 0);
	rc = store_open_config(&cfg, 0, &st, &err);
	ck_assert_msg(rc == STORE_OK, "%s", err);
	store_close(st);
	/* a bad connection string: refused, not echoed */
	free(cfg.database);
	cfg.database = xstrdup("host=x password=s3cret nosuchkey=1");
	rc = store_open_config(&cfg, 0, &st, &err);
	ck_assert_int_eq(rc, STORE_ERR);
	ck_assert_ptr_nonnull(strstr(err, "nosuchkey"));
	ck_assert_ptr_null(strstr(err, "s3cret"));
	free(err);
	/* libpq would quote this URI, password and all */
	free(cfg.database);
	cfg.database = xstrdup("postgresql://u:s3cret@[::1/db");
	rc = store_open_config(&cfg, 0, &st, &err);
	ck_assert_int_eq(rc, STORE_ERR);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	free(err);
	config_free(&cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store_drivers");
	TCase *tc = tcase_create("both");
	TCase *pg = tcase_create("postgresql");
	SRunner *sr;
	int nf, skip, n;

	skip = targets_start();
	n = targets_n();
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_open_migrate_reopen, 0, n);
	tcase_add_loop_test(tc, test_readonly, 0, n);
	tcase_add_loop_test(tc, test_statement_api, 0, n);
	tcase_add_loop_test(tc, test_transactions, 0, n);
	tcase_add_loop_test(tc, test_savepoints, 0, n);
	tcase_add_loop_test(tc, test_returning_done_early, 0, n);
	tcase_add_loop_test(tc, test_locked_is_temporary, 0, n);
	tcase_add_loop_test(tc, test_srcstate, 0, n);
	tcase_add_loop_test(tc, test_event, 0, n);
	tcase_add_test(tc, test_is_postgresql);
	tcase_add_test(tc, test_display_name);
	tcase_add_test(tc, test_notyet_names_modules);
	suite_add_tcase(s, tc);
	if (test_have_pg) {
		tcase_set_timeout(pg, 120);
		tcase_add_test(pg, test_pg_reconnect);
		tcase_add_test(pg, test_pg_password_file);
		suite_add_tcase(s, pg);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	targets_stop();
	if (nf != 0)
		return 1;
	return skip == 77 ? 77 : 0;
}
