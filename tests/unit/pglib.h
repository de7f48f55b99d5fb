/* SPDX-License-Identifier: MIT */
/*
 * A throwaway PostgreSQL 15 for a unit-test program, started by the
 * integration tests' own helper (tests/tools/pg.sh: initdb and pg_ctl on a
 * unix socket in a temporary directory, as an unprivileged user when run
 * as root) and stopped by its PID.  Start it in main(), before the runner
 * forks the tests; each test makes its own database (test_pg_newdb()).
 * Needs <check.h>, <stdio.h>, <stdlib.h>, <string.h>, <libpq-fe.h> and
 * testlib.h first.
 */
#ifndef INTAKE_PGLIB_H
#define INTAKE_PGLIB_H

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct test_pg {
	char	 dir[64];
	char	 host[160];
	char	 port[16];
	long	 pid;
	char	 why[512];	/* the skip's or the failure's reason */
};

static inline void
test_pg_chomp(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

/* 0: running; 77: PostgreSQL is not installed (pg->why says so); else
 * it did not start (pg->why). */
static inline int
test_pg_start(struct test_pg *pg)
{
	char cmd[1024], line[512];
	FILE *f;
	int st, n = 0;

	memset(pg, 0, sizeof(*pg));
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/intake-pgunit-XXXXXX");
	if (mkdtemp(pg->dir) == NULL) {
		snprintf(pg->why, sizeof(pg->why), "mkdtemp: %s", strerror(errno));
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "T='%s'; at_exit() { :; }; "
	    ". '%s/tests/tools/pg.sh'; pg_start >\"$T/start.log\" 2>&1 "
	    "</dev/null; echo \"$PG_PID\"; echo \"$PGHOST\"; echo \"$PGPORT\"",
	    pg->dir, test_top());
	if ((f = popen(cmd, "r")) == NULL) {
		snprintf(pg->why, sizeof(pg->why), "popen: %s", strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		test_pg_chomp(line);
		if (n == 0)
			pg->pid = strtol(line, NULL, 10);
		else if (n == 1)
			snprintf(pg->host, sizeof(pg->host), "%.150s", line);
		else if (n == 2)
			snprintf(pg->port, sizeof(pg->port), "%.8s", line);
		n++;
	}
	st = pclose(f);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && pg->pid > 0 && n == 3)
		return 0;
	/* the helper's last line says why ("skip: ..." when not installed) */
	snprintf(cmd, sizeof(cmd), "%s/start.log", pg->dir);
	if ((f = fopen(cmd, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			test_pg_chomp(line);
			snprintf(pg->why, sizeof(pg->why), "%.500s", line);
		}
		fclose(f);
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 77 ? 77 : 1;
}

/* Stop the postmaster by its PID (immediate shutdown: the cluster is
 * thrown away, so no checkpoint; SIGKILL after a long wait, a bound, not
 * a measure) and remove the directory. */
static inline void
test_pg_stop(struct test_pg *pg)
{
	char cmd[128];
	int i;

	if (pg->pid > 0) {
		kill((pid_t)pg->pid, SIGQUIT);
		for (i = 0; i < 1200 && kill((pid_t)pg->pid, 0) == 0; i++)
			usleep(50000);
		kill((pid_t)pg->pid, SIGKILL);
		pg->pid = 0;
	}
	if (pg->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pg->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "pglib: could not remove %s\n", pg->dir);
	}
}

/* The URI of database `name` on it (the bootstrap superuser). */
static inline void
test_pg_url(const struct test_pg *pg, const char *name, char *out, size_t len)
{
	snprintf(out, len, "postgresql:///%s?host=%s&port=%s&user=intake_super",
	    name, pg->host, pg->port);
}

/* A libpq connection to database `name`; fails the test if none. */
static inline PGconn *
test_pg_connect(const struct test_pg *pg, const char *name)
{
	char url[512];
	PGconn *c;

	test_pg_url(pg, name, url, sizeof(url));
	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect %s: %s", name,
	    PQerrorMessage(c));
	return c;
}

/* Run sql on c; fails the test unless it succeeds. */
static inline void
test_pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);

	ck_assert_msg(s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK, "%s: %s",
	    sql, PQerrorMessage(c));
	PQclear(r);
}

static inline void
test_pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* "database ... does not exist, skipping" */
}

/* A fresh, empty database `name` (dropped first if a rerun left it), and
 * its URI into url. */
static inline void
test_pg_newdb(const struct test_pg *pg, const char *name, char *url,
    size_t len)
{
	char sql[256];
	PGconn *c = test_pg_connect(pg, "postgres");

	PQsetNoticeProcessor(c, test_pg_quiet, NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	test_pg_exec(c, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	test_pg_exec(c, sql);
	PQfinish(c);
	test_pg_url(pg, name, url, len);
}

#endif
