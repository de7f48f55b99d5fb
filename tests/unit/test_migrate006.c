/* SPDX-License-Identifier: MIT */
/* Migration 006 on an existing version 5 database (issue 12 item 8): every
 * row, event and child survives the table rebuilds (foreign_keys is off
 * while migrating, so dropping the old tickets cascades to nothing), the
 * FTS5 index still finds the old text, and a new id is above every id
 * anything still names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrations.h"
#include "search.h"
#include "store.h"

static char dir[] = "/tmp/intake-mig6-XXXXXX";
static char path[256];

static long long
one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A version 5 database as the old program left it: schema 001..005, two
 * tickets (7 and 9), messages 20 and 21, events, an alert naming message
 * 30 (of a ticket purged since), reminders and an escalation. */
static void
make_v5(void)
{
	sqlite3 *db;
	size_t i;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(search_register(db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	for (i = 0; i < migrations_count && migrations[i].version <= 5; i++)
		ck_assert_msg(sqlite3_exec(db, migrations[i].sql, NULL, NULL,
		    NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_exec(db,
	    "INSERT INTO tickets (id, type, urgency, received_at, created_at, "
	    " updated_at, subject) VALUES (7, 'crisis', 'urgent', 1, 1, 1, 'a'),"
	    " (9, 'info', 'routine', 2, 2, 2, 'b');"
	    "INSERT INTO messages (id, ticket_id, source, message_id, sha256, raw,"
	    " size, received_at, text, parse_status, created_at) VALUES"
	    " (20, 7, 'imap', 'x@y', 'aa', X'4d6573736167652d49443a203c78407"
	    "93e0d0a0d0a7061737370677274', 5, 1, 'zanzibarwords passport', 'ok',"
	    " 1), (21, 9, 'pipe', NULL, 'bb', 'x', 1, 2, 'other', 'ok', 2);"
	    "INSERT INTO events (ticket_id, at, actor, kind, detail) VALUES"
	    " (7, 1, 'intake', 'created', '{}'), (9, 2, 'staff', 'note',"
	    " '{\"text\":\"quokkanote\"}');"
	    "INSERT INTO outbox (id, kind, channel, ticket_id, payload, created_at,"
	    " next_attempt_at) VALUES (40, 'alert', 'webhook', 7,"
	    " '{\"ticket\":7,\"message\":30}', 1, 1);"
	    "INSERT INTO reminders VALUES (7, 'breach_at', 5, '2026-01-01', 3);"
	    "INSERT INTO escalations (ticket_id, message_id, step, at) VALUES"
	    " (7, 20, 0, 1);"
	    "PRAGMA user_version = 5;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(test_v5_keeps_everything)
{
	struct store *st;
	sqlite3 *db;
	char *err = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v5.db", dir);
	make_v5();
	ck_assert_msg(store_open(path, NULL, 1000, &st, &err) == STORE_OK, "%s",
	    err);
	db = store_db(st);
	ck_assert_int_eq(store_schema_version(st), store_schema_latest());
	ck_assert_int_eq(one(db, "SELECT count(*) FROM tickets"), 2);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM messages"), 2);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM outbox WHERE "
	    "ticket_id = 7"), 1);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM reminders"), 1);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM escalations"), 1);
	ck_assert_int_eq(one(db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM pragma_foreign_key_check"),
	    0);
	/* the old text is still found, and the new triggers index new rows */
	ck_assert_int_eq(one(db, "SELECT rowid FROM search_messages WHERE "
	    "search_messages MATCH 'zanzibarwords'"), 20);
	ck_assert_int_eq(one(db, "SELECT rowid FROM search_notes WHERE "
	    "search_notes MATCH 'quokkanote'"), 2);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM messages WHERE "
	    "norm_sha256 IS NOT NULL"), 2);
	/* every id above what anything names: message 30 (in the alert) */
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM tickets WHERE id = 9;"
	    "DELETE FROM outbox;"
	    "INSERT INTO tickets (type, urgency, received_at, created_at, "
	    "updated_at) VALUES ('info', 'routine', 3, 3, 3);"
	    "INSERT INTO messages (ticket_id, source, sha256, raw, size, "
	    "received_at, parse_status, created_at) VALUES (last_insert_rowid(), "
	    "'pipe', 'cc', 'y', 1, 3, 'ok', 3);"
	    "INSERT INTO outbox (kind, channel, payload, created_at, "
	    "next_attempt_at) VALUES ('alert', 'webhook', '{}', 3, 3);", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(one(db, "SELECT max(id) FROM tickets"), 10);
	ck_assert_int_eq(one(db, "SELECT max(id) FROM messages"), 31);
	ck_assert_int_eq(one(db, "SELECT max(id) FROM outbox"), 41);
	/* ON DELETE CASCADE works again on the rebuilt tables */
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM tickets WHERE id = 7",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM messages WHERE "
	    "ticket_id = 7"), 0);
	ck_assert_int_eq(one(db, "SELECT count(*) FROM search_messages WHERE "
	    "search_messages MATCH 'zanzibarwords'"), 0);
	store_close(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v5.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v5.db-shm", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("migrate006");
	TCase *tc = tcase_create("v5");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_v5_keeps_everything);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
