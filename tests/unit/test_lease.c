/* SPDX-License-Identifier: MIT */
/*
 * Leases and fencing (lease.h) on a real PostgreSQL 15 with two
 * connections, nodes A and B: acquire, refusal, expiry by the database
 * clock, takeover with epoch + 1, the old holder's fence failing and its
 * transaction committing nothing, a fenced batch holding off a takeover,
 * and the roles of sql/pg/roles.sql.  On SQLite the calls are no-ops.
 * No wait is tied to the machine's speed: an expiry is set in the past
 * directly, or waited for on the database clock with a generous bound.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "calendar.h"
#include "config.h"
#include "lease.h"
#include "source.h"
#include "store.h"
#include "util.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

#define LONG_TTL	(30LL * 60 * 1000)	/* never runs out in a test */

/* One text value of sql on c (the test fails without one row). */
static char *
pg_value(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	char *v;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1,
	    "%s: %s", sql, PQerrorMessage(c));
	v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static void
expire_now(PGconn *admin, const char *source)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE source_leases SET expires_at = "
	    "clock_timestamp() - interval '1 second' WHERE source = '%s'",
	    source);
	test_pg_exec(admin, sql);
}

static long long
last_uid(struct store *st, const char *source)
{
	struct source_cursor c;

	ck_assert_int_eq(srcstate_get(st, source, &c), STORE_OK);
	source_cursor_free(&c);
	return c.last_uid;
}

START_TEST(test_node_id)
{
	char id[512], pid[32];
	const char *slash;

	lease_node_id(id, sizeof(id));
	slash = strchr(id, '/');
	ck_assert_ptr_nonnull(slash);
	ck_assert_ptr_nonnull(strchr(slash + 1, '/'));
	snprintf(pid, sizeof(pid), "/%ld", (long)getpid());
	ck_assert_str_eq(strrchr(id, '/'), pid);
}
END_TEST

/* SQLite: one writer on one machine; the calls touch nothing. */
START_TEST(test_sqlite_noop)
{
	static const struct query q_n = {
		"SELECT count(*) FROM source_leases", NULL };
	struct target t;
	struct store *st;
	struct stmt *s;
	long long e = -1;
	int rc;

	target_new(DRV_SQLITE, "lease", &t);
	st = target_open(&t);
	ck_assert_int_eq(lease_acquire(st, "box", "A", 1000, &e), LEASE_HELD);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(lease_renew(st, "box", "A", 0, 1000), LEASE_HELD);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(lease_fence(st, "box", "A", 0), LEASE_HELD);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(lease_release(st, "box", "A", 0), LEASE_HELD);
	/* the table is there (one schema), and empty */
	s = store_prepare(st, &q_n, &rc);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_int_eq(store_col_int64(s, 0), 0);
	store_done(s);
	store_close(st);
}
END_TEST

/*
 * A takes the lease, B is refused; A's lease runs out (set in the past);
 * B takes over with epoch 2; A's renew and fence then fail, and A's batch
 * transaction commits nothing.
 */
START_TEST(test_acquire_expire_takeover_fence)
{
	struct target t;
	struct store *a, *b;
	struct source_cursor cur = { 0 };
	PGconn *admin;
	long long ea = 0, eb = 0;
	char *v;

	target_new(DRV_PG, "takeover", &t);
	a = target_open(&t);
	b = target_open(&t);
	admin = test_pg_connect(&test_pgsrv, "t_takeover");

	ck_assert_int_eq(lease_acquire(a, "box", "A", LONG_TTL, &ea), LEASE_HELD);
	ck_assert_int_eq(ea, 1);
	ck_assert_int_eq(lease_acquire(b, "box", "B", LONG_TTL, &eb), LEASE_LOST);
	/* a running lease is not taken again, not even by its holder */
	ck_assert_int_eq(lease_acquire(a, "box", "A", LONG_TTL, &eb), LEASE_LOST);
	ck_assert_int_eq(lease_renew(a, "box", "A", ea, LONG_TTL), LEASE_HELD);
	ck_assert_int_eq(lease_renew(b, "box", "B", ea, LONG_TTL), LEASE_LOST);
	ck_assert_int_eq(lease_renew(a, "box", "A", ea + 1, LONG_TTL),
	    LEASE_LOST);
	/* A's batch, fenced, commits */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(lease_fence(a, "box", "A", ea), LEASE_HELD);
	cur.last_uid = 10;
	ck_assert_int_eq(srcstate_set(a, "box", &cur), STORE_OK);
	ck_assert_int_eq(store_commit(a), STORE_OK);
	ck_assert_int_eq(last_uid(b, "box"), 10);

	/* A is paused past its lease: it runs out */
	expire_now(admin, "box");
	ck_assert_int_eq(lease_renew(a, "box", "A", ea, LONG_TTL), LEASE_LOST);
	ck_assert_int_eq(lease_acquire(b, "box", "B", LONG_TTL, &eb), LEASE_HELD);
	ck_assert_int_eq(eb, ea + 1);
	v = pg_value(admin, "SELECT holder || ':' || epoch || ':' || "
	    "(acquired_at = renewed_at AND expires_at > clock_timestamp()) "
	    "FROM source_leases WHERE source = 'box'");
	ck_assert_str_eq(v, "B:2:true");
	free(v);

	/* A resumes inside a batch: its write, then the fence fails; it
	 * rolls back, and nothing of it is committed */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	cur.last_uid = 99;
	ck_assert_int_eq(srcstate_set(a, "box", &cur), STORE_OK);
	ck_assert_int_eq(lease_fence(a, "box", "A", ea), LEASE_LOST);
	store_rollback(a);
	ck_assert_int_eq(last_uid(b, "box"), 10);
	/* the fence as the first statement, as the engine does it */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(lease_fence(a, "box", "A", ea), LEASE_LOST);
	store_rollback(a);
	/* nor can A give away what is no longer its */
	ck_assert_int_eq(lease_release(a, "box", "A", ea), LEASE_LOST);
	/* B's batch goes in */
	ck_assert_int_eq(store_begin(b), STORE_OK);
	ck_assert_int_eq(lease_fence(b, "box", "B", eb), LEASE_HELD);
	cur.last_uid = 11;
	ck_assert_int_eq(srcstate_set(b, "box", &cur), STORE_OK);
	ck_assert_int_eq(store_commit(b), STORE_OK);
	ck_assert_int_eq(last_uid(a, "box"), 11);

	/* a clean stop hands over at once, with the next epoch */
	ck_assert_int_eq(lease_release(b, "box", "B", eb), LEASE_HELD);
	ck_assert_int_eq(lease_acquire(a, "box", "A", LONG_TTL, &ea), LEASE_HELD);
	ck_assert_int_eq(ea, eb + 1);
	ck_assert_int_eq(lease_renew(b, "box", "B", eb, LONG_TTL), LEASE_LOST);
	PQfinish(admin);
	store_close(a);
	store_close(b);
}
END_TEST

/* A short TTL runs out by the database clock: waited for there (a bound
 * of minutes, never a measure of speed), then B takes over. */
START_TEST(test_expiry_by_database_clock)
{
	struct target t;
	struct store *a, *b;
	PGconn *admin;
	long long ea = 0, eb = 0;
	char *v;
	int i, past = 0;

	target_new(DRV_PG, "clock", &t);
	a = target_open(&t);
	b = target_open(&t);
	admin = test_pg_connect(&test_pgsrv, "t_clock");
	ck_assert_int_eq(lease_acquire(a, "box", "A", 200, &ea), LEASE_HELD);
	/* the expiry is the database's clock plus the TTL */
	v = pg_value(admin, "SELECT round(extract(epoch FROM expires_at - "
	    "renewed_at) * 1000) FROM source_leases WHERE source = 'box'");
	ck_assert_str_eq(v, "200");
	free(v);
	for (i = 0; i < 6000 && !past; i++) {
		v = pg_value(admin, "SELECT clock_timestamp() > expires_at FROM "
		    "source_leases WHERE source = 'box'");
		past = strcmp(v, "t") == 0;
		free(v);
		if (!past)
			usleep(20000);
	}
	ck_assert_msg(past, "the database clock never passed the expiry");
	ck_assert_int_eq(lease_acquire(b, "box", "B", LONG_TTL, &eb), LEASE_HELD);
	ck_assert_int_eq(eb, ea + 1);
	ck_assert_int_eq(lease_renew(a, "box", "A", ea, LONG_TTL), LEASE_LOST);
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(lease_fence(a, "box", "A", ea), LEASE_LOST);
	store_rollback(a);
	PQfinish(admin);
	store_close(a);
	store_close(b);
}
END_TEST

/*
 * While B's fenced batch is open (the lease row FOR SHARE), a takeover
 * cannot happen: A's acquire waits for the row and gives up after its
 * lock timeout (STORE_TEMP), whatever the lease's expiry.  After B's
 * commit the takeover goes through and B's next fence fails.
 */
START_TEST(test_fence_holds_off_takeover)
{
	struct target t;
	struct store *a, *b;
	struct source_cursor cur = { 0 };
	PGconn *admin;
	long long ea = 0, eb = 0;

	target_new(DRV_PG, "fenced", &t);
	a = target_open_rc(&t, 0, 200, NULL, NULL);
	b = target_open(&t);
	admin = test_pg_connect(&test_pgsrv, "t_fenced");
	ck_assert_int_eq(lease_acquire(b, "box", "B", LONG_TTL, &eb), LEASE_HELD);
	ck_assert_int_eq(store_begin(b), STORE_OK);
	ck_assert_int_eq(lease_fence(b, "box", "B", eb), LEASE_HELD);
	/* the row is locked FOR SHARE: even a takeover of an expired lease
	 * must wait (admin's UPDATE would too; its own timeout says so) */
	test_pg_exec(admin, "SET lock_timeout = 200");
	{
		PGresult *r = PQexec(admin, "UPDATE source_leases SET expires_at = "
		    "clock_timestamp() - interval '1 second'");

		ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
		ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03");
		PQclear(r);
	}
	ck_assert_int_eq(lease_acquire(a, "box", "A", LONG_TTL, &ea), STORE_TEMP);
	cur.last_uid = 5;
	ck_assert_int_eq(srcstate_set(b, "box", &cur), STORE_OK);
	ck_assert_int_eq(store_commit(b), STORE_OK);
	/* after the commit: B's batch is in, and a takeover can happen */
	ck_assert_int_eq(last_uid(a, "box"), 5);
	expire_now(admin, "box");
	ck_assert_int_eq(lease_acquire(a, "box", "A", LONG_TTL, &ea), LEASE_HELD);
	ck_assert_int_eq(ea, eb + 1);
	ck_assert_int_eq(store_begin(b), STORE_OK);
	ck_assert_int_eq(lease_fence(b, "box", "B", eb), LEASE_LOST);
	store_rollback(b);
	PQfinish(admin);
	store_close(a);
	store_close(b);
}
END_TEST

/* sql/pg/roles.sql: the daemon's role opens the migrated schema (no
 * migration, no lock), takes leases and is the events' actor; a staff
 * role may read the leases but not take one. */
START_TEST(test_roles)
{
	static const struct query q_holders = {
		"SELECT holder FROM source_leases", NULL };
	struct target t, as;
	struct store *st;
	struct stmt *s;
	PGconn *admin;
	char path[600], *sql, *err = NULL;
	long long e = 0;
	FILE *f;
	size_t n;
	int rc;

	target_new(DRV_PG, "roles", &t);
	store_close(target_open(&t));	/* migrated by the superuser */
	snprintf(path, sizeof(path), "%s/sql/pg/roles.sql", test_top());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	sql = xmalloc(1 << 16);
	n = fread(sql, 1, (1 << 16) - 1, f);
	fclose(f);
	sql[n] = '\0';
	admin = test_pg_connect(&test_pgsrv, "t_roles");
	PQsetNoticeProcessor(admin, test_pg_quiet, NULL);
	test_pg_exec(admin, sql);
	free(sql);
	test_pg_exec(admin, "DROP ROLE IF EXISTS dm1");
	test_pg_exec(admin, "DROP ROLE IF EXISTS st1");
	test_pg_exec(admin, "CREATE ROLE dm1 LOGIN IN ROLE intake_daemon");
	test_pg_exec(admin, "CREATE ROLE st1 LOGIN IN ROLE intake_staff");
	test_pg_exec(admin, "INSERT INTO tickets (type, urgency, received_at, "
	    "created_at, updated_at) VALUES ('info', 'none', 1, 1, 1)");

	as.drv = DRV_PG;
	snprintf(as.db, sizeof(as.db), "%.*s%s", (int)(strstr(t.db, "user=") -
	    t.db), t.db, "user=dm1");
	st = target_open_rc(&as, 0, 1000, &rc, &err);
	ck_assert_msg(rc == STORE_OK, "daemon role: %s", err);
	free(err);
	ck_assert_str_eq(store_actor(st), "dm1");
	ck_assert_int_eq(lease_acquire(st, "box", "D", LONG_TTL, &e), LEASE_HELD);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(lease_fence(st, "box", "D", e), LEASE_HELD);
	ck_assert_int_eq(store_event(st, 1, 5, NULL, "note", NULL), STORE_OK);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	store_close(st);
	sql = pg_value(admin, "SELECT actor FROM events WHERE ticket_id = 1");
	ck_assert_str_eq(sql, "dm1");
	free(sql);

	snprintf(as.db, sizeof(as.db), "%.*s%s", (int)(strstr(t.db, "user=") -
	    t.db), t.db, "user=st1");
	st = target_open_rc(&as, 0, 1000, &rc, &err);
	ck_assert_msg(rc == STORE_OK, "staff role: %s", err);
	free(err);
	s = store_prepare(st, &q_holders, &rc);
	ck_assert_msg(s != NULL, "%s", store_errmsg(st));
	ck_assert_int_eq(store_step(s), STORE_ROW);
	ck_assert_str_eq(store_col_text(s, 0, NULL), "D");
	store_done(s);
	expire_now(admin, "box");
	ck_assert_int_eq(lease_acquire(st, "box", "S", LONG_TTL, &e), STORE_PERM);
	store_close(st);
	PQfinish(admin);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lease");
	TCase *tc = tcase_create("lease");
	SRunner *sr;
	int nf, skip;

	skip = targets_start();
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_node_id);
	tcase_add_test(tc, test_sqlite_noop);
	if (test_have_pg) {
		tcase_add_test(tc, test_acquire_expire_takeover_fence);
		tcase_add_test(tc, test_expiry_by_database_clock);
		tcase_add_test(tc, test_fence_holds_off_takeover);
		tcase_add_test(tc, test_roles);
	}
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
