/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static char dir[] = "/tmp/intake-storetest-XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static char *
dbpath(const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	snprintf(p, strlen(dir) + strlen(name) + 2, "%s/%s", dir, name);
	return p;
}

START_TEST(test_create_migrate_reopen)
{
	struct store *st;
	char *err = NULL, *p = dbpath("a.db");
	struct stat sb;

	ck_assert_msg(store_open(p, NULL, 1000, &st, &err) == STORE_OK, "%s", err);
	ck_assert_int_eq(store_schema_version(st), store_schema_latest());
	ck_assert_int_ge(store_schema_latest(), 1);
	ck_assert_int_eq(sqlite3_exec(store_db(st), "SELECT id, ticket_id, raw, "
	    "message_id, sha256, parse_status FROM messages; SELECT uidvalidity, "
	    "last_uid, cursor FROM source_state; SELECT * FROM outbox; "
	    "SELECT * FROM events", NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	/* Reopening is a no-op. */
	ck_assert_int_eq(store_open(p, NULL, 1000, &st, &err), STORE_OK);
	ck_assert_int_eq(store_schema_version(st), store_schema_latest());
	store_close(st);
	free(p);
}
END_TEST

START_TEST(test_group_mode)
{
	struct store *st;
	char *err = NULL, *p = dbpath("g.db");
	struct stat sb;

	ck_assert_msg(store_open(p, "root", 1000, &st, &err) == STORE_OK, "%s", err);
	store_close(st);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0660);
	free(p);
	p = dbpath("h.db");
	ck_assert_int_eq(store_open(p, "no-such-group-xyz", 1000, &st, &err),
	    STORE_ERR);
	ck_assert_ptr_nonnull(strstr(err, "no such group"));
	free(err);
	free(p);
}
END_TEST

START_TEST(test_newer_refused)
{
	struct store *st;
	char *err = NULL, *p = dbpath("n.db");

	ck_assert_int_eq(store_open(p, NULL, 1000, &st, &err), STORE_OK);
	ck_assert_int_eq(sqlite3_exec(store_db(st), "PRAGMA user_version = 999",
	    NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
	ck_assert_int_eq(store_open(p, NULL, 1000, &st, &err), STORE_NEWER);
	ck_assert_ptr_nonnull(strstr(err, "newer"));
	free(err);
	free(p);
}
END_TEST

START_TEST(test_locked_is_temporary)
{
	struct store *a, *b;
	char *err = NULL, *p = dbpath("l.db");

	ck_assert_int_eq(store_open(p, NULL, 100, &a, &err), STORE_OK);
	ck_assert_int_eq(store_open(p, NULL, 100, &b, &err), STORE_OK);
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(store_begin(b), STORE_TEMP);
	store_rollback(a);
	ck_assert_int_eq(store_begin(b), STORE_OK);
	store_rollback(b);
	store_close(a);
	store_close(b);
	free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("open");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_create_migrate_reopen);
	tcase_add_test(tc, test_group_mode);
	tcase_add_test(tc, test_newer_refused);
	tcase_add_test(tc, test_locked_is_temporary);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
