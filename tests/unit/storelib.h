/* SPDX-License-Identifier: MIT */
/*
 * The two drivers of the store as test targets: a loop test's _i is the
 * driver (0 SQLite, 1 PostgreSQL, which pglib.h started in main()).  A
 * target is one fresh database per test; target_open() may open it more
 * than once (two connections).  Needs pglib.h, "config.h" and "store.h".
 */
#ifndef INTAKE_STORELIB_H
#define INTAKE_STORELIB_H

enum { DRV_SQLITE, DRV_PG, DRV_N };

static struct test_pg test_pgsrv;
static int test_have_pg;
static char test_litedir[] = "/tmp/intake-drvtest-XXXXXX";

struct target {
	int	 drv;
	char	 db[512];
};

static inline void
target_new(int drv, const char *name, struct target *t)
{
	char dbname[96];

	t->drv = drv;
	if (drv == DRV_SQLITE) {
		snprintf(t->db, sizeof(t->db), "%s/%s.db", test_litedir, name);
		unlink(t->db);
		return;
	}
	ck_assert_msg(test_have_pg, "no PostgreSQL");
	snprintf(dbname, sizeof(dbname), "t_%s", name);
	test_pg_newdb(&test_pgsrv, dbname, t->db, sizeof(t->db));
}

/* Open the target; *rcp the result when not NULL (else it must be OK). */
static inline struct store *
target_open_rc(const struct target *t, int flags, int busy_ms, int *rcp,
    char **errp)
{
	struct config cfg;
	struct store *st = NULL;
	char *err = NULL;
	int rc;

	config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(t->db);
	cfg.busy_timeout_ms = busy_ms;
	rc = store_open_config(&cfg, flags, &st, &err);
	config_free(&cfg);
	if (rcp == NULL)
		ck_assert_msg(rc == STORE_OK, "open %s: %s",
		    t->drv == DRV_PG ? "PostgreSQL" : t->db, err);
	else
		*rcp = rc;
	if (errp)
		*errp = err;
	else
		free(err);
	return st;
}

static inline struct store *
target_open(const struct target *t)
{
	return target_open_rc(t, 0, 1000, NULL, NULL);
}

/* main(): the SQLite directory, and PostgreSQL if installed.  Returns 0,
 * or 77 after "skip: ..." (the PostgreSQL half is then left out; the
 * program exits 77 once the SQLite half passed). */
static inline int
targets_start(void)
{
	int rc;

	if (mkdtemp(test_litedir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	rc = test_pg_start(&test_pgsrv);
	if (rc == 0) {
		test_have_pg = 1;
		return 0;
	}
	if (rc == 77) {
		printf("skip: %s: the PostgreSQL half of this test is left out\n",
		    strncmp(test_pgsrv.why, "skip: ", 6) == 0 ?
		    test_pgsrv.why + 6 : test_pgsrv.why);
		test_pg_stop(&test_pgsrv);
		return 77;
	}
	fprintf(stderr, "PostgreSQL did not start: %s\n", test_pgsrv.why);
	test_pg_stop(&test_pgsrv);
	exit(1);
}

static inline void
targets_stop(void)
{
	char cmd[128];

	if (test_have_pg)
		test_pg_stop(&test_pgsrv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_litedir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", test_litedir);
}

/* Both drivers when PostgreSQL runs, else SQLite alone. */
static inline int
targets_n(void)
{
	return test_have_pg ? DRV_N : DRV_PG;
}

/* Run one statement of plain SQL (a test's seed); it must succeed. */
static inline void
exec_sql(struct store *st, const char *sql)
{
	struct query q = { sql, NULL };
	struct stmt *s;
	int rc;

	s = store_prepare(st, &q, &rc);
	ck_assert_msg(s != NULL, "prepare %s: %s", sql, store_errmsg(st));
	rc = store_step(s);
	ck_assert_msg(rc == STORE_DONE || rc == STORE_ROW, "%s: %s", sql,
	    store_errmsg(st));
	store_done(s);
}

/* One integer of sql (-1 when NULL, -2 with no row). */
static inline long long
int_of(struct store *st, const char *sql)
{
	struct query q = { sql, NULL };
	struct stmt *s;
	long long v = -2;
	int rc;

	s = store_prepare(st, &q, &rc);
	ck_assert_msg(s != NULL, "prepare %s: %s", sql, store_errmsg(st));
	rc = store_step(s);
	ck_assert_msg(rc == STORE_DONE || rc == STORE_ROW, "%s: %s", sql,
	    store_errmsg(st));
	if (rc == STORE_ROW)
		v = store_col_null(s, 0) ? -1 : store_col_int64(s, 0);
	store_done(s);
	return v;
}

#endif
