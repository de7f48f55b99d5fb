/* SPDX-License-Identifier: MIT */
/*
 * cmd_db.c: `intake db copy` and `intake db verify`: move an installation
 * from its SQLite file to PostgreSQL (libpq), and prove the copy.
 *
 * copy: one read transaction on the SQLite file (a snapshot: the daemon may
 * go on writing, the copy is of one instant) and one transaction on
 * PostgreSQL that applies the sql/pg/ migrations (under an advisory lock,
 * recorded in schema_version), refuses a database that holds rows already,
 * loads every table with COPY (every column, ids kept, raw bytes as bytea,
 * byte for byte), sets each identity sequence past the largest id (and
 * past SQLite's AUTOINCREMENT high-water mark where there is one) and
 * commits: a failure anywhere leaves PostgreSQL as it was.
 *
 * verify: per table row counts, and the SHA-256 of every messages.raw,
 * computed on each side (PostgreSQL's sha256() there), matched by id.
 *
 * Tables and columns are taken from the SQLite file and must all exist in
 * PostgreSQL: a column the PostgreSQL schema lacks is a refusal, never a
 * silent loss.  The two schema versions must be equal.  Nothing of a
 * message (and never the connection string: it may hold a password) is
 * printed; table and column names are checked to be plain identifiers.
 *
 * Its own libpq connection, not the store's driver (store_pg.c): a copy is
 * one transaction of COPY, outside the statement API.  Both take the same
 * migration lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "cli.h"
#include "pgschema.h"
#include "util.h"

/* pg_advisory_xact_lock key of the migrations: "Intk", SQLite's
 * application_id. */
#define PG_MIGRATE_LOCK		"1231975531"
#define COPY_CHUNK		(1024 * 1024)
#define VERIFY_SHOW		10
#define SQLITE_WAIT_MS		5000
#define IDENT_MAX		63

struct col {
	char		*name;
	int		 bytea;
};

struct table {
	char		*name;
	struct col	*cols;
	size_t		 ncols;
	char		*identity;	/* PostgreSQL identity column, or NULL */
	long long	 seq;		/* sqlite_sequence high-water mark, or 0 */
	long long	 rows;
};

struct job {
	const char	*cmd;		/* "copy" or "verify", for messages */
	sqlite3		*lite;
	PGconn		*pg;
	struct table	*tabs;
	size_t		 ntabs;
};

static int
ident_ok(const char *s)
{
	size_t n = 0;

	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' &&
		    s[n] <= '9') || s[n] == '_'))
			return 0;
	return n <= IDENT_MAX;
}

static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* "extension ... already exists, skipping" */
}

/* The exit code of a failed PostgreSQL statement, by its SQLSTATE. */
static int
pg_state_exit(const char *state)
{
	static const char *const temp[] = { "08", "40", "53", "57", "55P03" };
	size_t i;

	if (state == NULL)	/* no answer: the connection went */
		return EX_TEMPFAIL;
	for (i = 0; i < NELEM(temp); i++)
		if (strncmp(state, temp[i], strlen(temp[i])) == 0)
			return EX_TEMPFAIL;
	if (strcmp(state, "42501") == 0 || strncmp(state, "28", 2) == 0)
		return EX_NOPERM;
	/* data exception, integrity violation: a value the schema refuses */
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		return EX_DATAERR;
	return EX_SOFTWARE;
}

/* Say why r failed (r may be NULL), clear it, and return the exit code. */
static int
pg_fail(struct job *j, PGresult *r, const char *what)
{
	const char *msg, *ctx;
	int rc;

	msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	ctx = r ? PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL;
	if (msg == NULL)
		msg = PQerrorMessage(j->pg);
	rc = PQstatus(j->pg) == CONNECTION_BAD ? EX_TEMPFAIL :
	    pg_state_exit(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
	/* what may be a whole migration: its first line names it */
	fprintf(stderr, "intake db %s: PostgreSQL: %.*s: %.*s%s%s\n", j->cmd,
	    (int)strcspn(what, "\n"), what, (int)strcspn(msg, "\n"), msg,
	    ctx ? "; " : "", ctx ? ctx : "");
	PQclear(r);
	return rc;
}

/* Run sql (params may be NULL); *out gets the result when out is not NULL
 * (caller clears), else it is cleared.  0 or an exit code. */
static int
pg_run(struct job *j, const char *sql, int nparams,
    const char *const *params, PGresult **out)
{
	PGresult *r;
	ExecStatusType s;

	if (out)
		*out = NULL;
	r = nparams ? PQexecParams(j->pg, sql, nparams, NULL, params, NULL,
	    NULL, 0) : PQexec(j->pg, sql);
	s = PQresultStatus(r);
	if (r == NULL || (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK))
		return pg_fail(j, r, sql);
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int
pg_connect(struct job *j, const char *conninfo)
{
	/* Ours first: a setting in CONNINFO (expanded at "dbname") wins. */
	static const char *const keys[] = { "connect_timeout", "keepalives",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "fallback_application_name", "dbname", NULL };
	const char *vals[] = { "30", "1", "10", "5", "3", "intake db",
	    conninfo, NULL };
	PQconninfoOption *opts;
	char *perr = NULL;

	opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		fprintf(stderr, "intake db %s: --to: not a libpq connection "
		    "string or URI: %s", j->cmd, perr ? perr : "out of memory\n");
		PQfreemem(perr);
		return EX_USAGE;
	}
	PQconninfoFree(opts);
	j->pg = PQconnectdbParams(keys, vals, 1);
	if (j->pg == NULL || PQstatus(j->pg) != CONNECTION_OK) {
		fprintf(stderr, "intake db %s: cannot connect to PostgreSQL: %s",
		    j->cmd, j->pg ? PQerrorMessage(j->pg) : "out of memory\n");
		return EX_UNAVAILABLE;
	}
	PQsetNoticeProcessor(j->pg, quiet_notice, NULL);
	return 0;
}

static int
lite_fail(struct job *j, int rc, const char *what)
{
	fprintf(stderr, "intake db %s: SQLite: %s: %s\n", j->cmd, what,
	    sqlite3_errmsg(j->lite));
	return cli_store_exit(store_classify(rc));
}

/* A non-negative integer value of a result ("" and junk: 0). */
static long long
pg_int(const PGresult *r, int row, int col)
{
	unsigned long long u;

	if (parse_uint(PQgetvalue(r, row, col), 0, (1ULL << 62), &u) == -1)
		return 0;
	return (long long)u;
}

/* The newest version of sql/pg/. */
static int
pg_schema_latest(void)
{
	return pg_migrations_count ?
	    pg_migrations[pg_migrations_count - 1].version : 0;
}

/*
 * Inside the caller's transaction: take the migration lock, then apply
 * every sql/pg/ migration newer than schema_version records.  A second
 * migrator waits on the lock and then finds the work done.
 */
static int
pg_migrate(struct job *j)
{
	PGresult *r;
	char vbuf[16];
	const char *p[2];
	size_t i;
	int rc, v;

	if ((rc = pg_run(j, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK
	    ")", 0, NULL, NULL)) != 0 ||
	    (rc = pg_run(j, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL,
	    NULL)) != 0 ||
	    (rc = pg_run(j, "SELECT coalesce(max(version), 0) FROM "
	    "schema_version", 0, NULL, &r)) != 0)
		return rc;
	v = (int)pg_int(r, 0, 0);
	PQclear(r);
	if (v > pg_schema_latest()) {
		fprintf(stderr, "intake db %s: the PostgreSQL schema is version "
		    "%d, newer than this program knows (%d): upgrade intake\n",
		    j->cmd, v, pg_schema_latest());
		return EX_CONFIG;
	}
	for (i = 0; i < pg_migrations_count; i++) {
		if (pg_migrations[i].version <= v)
			continue;
		if ((rc = pg_run(j, pg_migrations[i].sql, 0, NULL, NULL)) != 0)
			return rc;
		snprintf(vbuf, sizeof(vbuf), "%d", pg_migrations[i].version);
		p[0] = vbuf;
		p[1] = pg_migrations[i].name;
		if ((rc = pg_run(j, "INSERT INTO schema_version (version, name) "
		    "VALUES ($1, $2)", 2, p, NULL)) != 0)
			return rc;
	}
	return 0;
}

static void
tables_free(struct job *j)
{
	size_t i, k;

	for (i = 0; i < j->ntabs; i++) {
		for (k = 0; k < j->tabs[i].ncols; k++)
			free(j->tabs[i].cols[k].name);
		free(j->tabs[i].cols);
		free(j->tabs[i].name);
		free(j->tabs[i].identity);
	}
	free(j->tabs);
	j->tabs = NULL;
	j->ntabs = 0;
}

/* The columns of SQLite table t, in order. */
static int
lite_columns(struct job *j, struct table *t)
{
	sqlite3_stmt *s;
	const char *name;
	int rc;

	rc = sqlite3_prepare_v2(j->lite, "SELECT name FROM pragma_table_info(?1)"
	    " ORDER BY cid", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return lite_fail(j, rc, "reading the columns");
	sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		if (name == NULL || !ident_ok(name)) {
			sqlite3_finalize(s);
			fprintf(stderr, "intake db %s: SQLite table %s has a column "
			    "whose name is not a plain identifier\n", j->cmd,
			    t->name);
			return EX_DATAERR;
		}
		t->cols = xreallocarray(t->cols, t->ncols + 1, sizeof(*t->cols));
		t->cols[t->ncols].name = xstrdup(name);
		t->cols[t->ncols++].bytea = 0;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : lite_fail(j, rc, "reading the columns");
}

/* AUTOINCREMENT's high-water mark of t (sqlite_sequence), else 0. */
static int
lite_seq(struct job *j, struct table *t)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(j->lite, "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'sqlite_sequence'", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return lite_fail(j, rc, "reading sqlite_master");
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return lite_fail(j, rc, "reading sqlite_master");
	rc = sqlite3_prepare_v2(j->lite, "SELECT seq FROM sqlite_sequence "
	    "WHERE name = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return lite_fail(j, rc, "reading sqlite_sequence");
	sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		t->seq = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    lite_fail(j, rc, "reading sqlite_sequence");
}

/* Every ordinary table of the SQLite file (not its own sqlite_* ones, not
 * FTS5's virtual and shadow tables, which PostgreSQL replaces by a
 * generated column), with its columns.  Starts the read snapshot. */
static int
lite_tables(struct job *j)
{
	sqlite3_stmt *s;
	const char *name;
	struct table *t;
	size_t i;
	int rc;

	rc = sqlite3_prepare_v2(j->lite, "SELECT name FROM pragma_table_list "
	    "WHERE schema = 'main' AND type = 'table' AND name NOT LIKE "
	    "'sqlite\\_%' ESCAPE '\\' ORDER BY name", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return lite_fail(j, rc, "listing the tables");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		if (name == NULL || !ident_ok(name)) {
			sqlite3_finalize(s);
			fprintf(stderr, "intake db %s: the SQLite database has a "
			    "table whose name is not a plain identifier\n", j->cmd);
			return EX_DATAERR;
		}
		j->tabs = xreallocarray(j->tabs, j->ntabs + 1, sizeof(*j->tabs));
		t = &j->tabs[j->ntabs++];
		memset(t, 0, sizeof(*t));
		t->name = xstrdup(name);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return lite_fail(j, rc, "listing the tables");
	for (i = 0; i < j->ntabs; i++)
		if ((rc = lite_columns(j, &j->tabs[i])) != 0 ||
		    (rc = lite_seq(j, &j->tabs[i])) != 0)
			return rc;
	return 0;
}

/* Every SQLite table and column must exist in PostgreSQL (and not be a
 * generated column there); note which are bytea and the identity. */
static int
pg_match(struct job *j)
{
	PGresult *r;
	struct table *t;
	const char *p[1];
	size_t i, k;
	int n, rc, found;

	for (i = 0; i < j->ntabs; i++) {
		t = &j->tabs[i];
		p[0] = t->name;
		if ((rc = pg_run(j, "SELECT column_name, data_type, is_generated, "
		    "is_identity FROM information_schema.columns WHERE "
		    "table_schema = current_schema() AND table_name = $1",
		    1, p, &r)) != 0)
			return rc;
		if (PQntuples(r) == 0) {
			PQclear(r);
			fprintf(stderr, "intake db %s: table %s of the SQLite "
			    "database is not in the PostgreSQL schema (sql/pg/ lags "
			    "sql/): nothing copied\n", j->cmd, t->name);
			return EX_CONFIG;
		}
		for (k = 0; k < t->ncols; k++) {
			found = 0;
			for (n = 0; n < PQntuples(r) && !found; n++) {
				if (strcmp(PQgetvalue(r, n, 0), t->cols[k].name))
					continue;
				found = strcmp(PQgetvalue(r, n, 2), "ALWAYS") ? 1 : -1;
				t->cols[k].bytea = !strcmp(PQgetvalue(r, n, 1),
				    "bytea");
			}
			if (found != 1) {
				fprintf(stderr, "intake db %s: column %s.%s of the "
				    "SQLite database is %s in the PostgreSQL schema: "
				    "nothing copied\n", j->cmd, t->name,
				    t->cols[k].name, found ? "generated" : "missing");
				PQclear(r);
				return EX_CONFIG;
			}
		}
		for (n = 0; n < PQntuples(r); n++)
			if (!strcmp(PQgetvalue(r, n, 3), "YES") && !t->identity)
				t->identity = xstrdup(PQgetvalue(r, n, 0));
		PQclear(r);
	}
	return 0;
}

/* copy loads an empty database only: refuse if any table has a row. */
static int
pg_refuse_rows(struct job *j)
{
	PGresult *r;
	char *sql;
	size_t i;
	int rc, any;

	for (i = 0; i < j->ntabs; i++) {
		sql = xasprintf("SELECT EXISTS (SELECT 1 FROM \"%s\")",
		    j->tabs[i].name);
		rc = pg_run(j, sql, 0, NULL, &r);
		free(sql);
		if (rc != 0)
			return rc;
		any = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (any) {
			fprintf(stderr, "intake db copy: the PostgreSQL database "
			    "holds rows already (table %s): copy loads an empty "
			    "database only; nothing written\n", j->tabs[i].name);
			return EX_DATAERR;
		}
	}
	return 0;
}

/* Append n bytes of s for COPY's text format. */
static void
copy_escape(struct buf *b, const char *s, size_t n)
{
	size_t i, run = 0;
	char esc;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		default: continue;
		}
		buf_add(b, s + run, i - run);
		buf_addc(b, '\\');
		buf_addc(b, esc);
		run = i + 1;
	}
	buf_add(b, s + run, n - run);
}

/* bytea's hex input form, its backslash escaped for COPY. */
static void
copy_hex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_addstr(b, "\\\\x");
	for (i = 0; i < n; i++) {
		buf_addc(b, hex[p[i] >> 4]);
		buf_addc(b, hex[p[i] & 15]);
	}
}

/* One SQLite value as a COPY field: 0, or EX_DATAERR (said why). */
static int
copy_value(struct job *j, struct buf *b, sqlite3_stmt *s, int i,
    const struct table *t, long long row)
{
	const char *p;
	size_t n;

	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		buf_addstr(b, "\\N");
		return 0;
	case SQLITE_INTEGER:
		if (t->cols[i].bytea)
			break;
		buf_addf(b, "%lld", (long long)sqlite3_column_int64(s, i));
		return 0;
	case SQLITE_FLOAT:
		if (t->cols[i].bytea)
			break;
		buf_addf(b, "%.17g", sqlite3_column_double(s, i));
		return 0;
	default:	/* TEXT or BLOB: the bytes as stored */
		p = sqlite3_column_blob(s, i);
		n = (size_t)sqlite3_column_bytes(s, i);
		if (t->cols[i].bytea) {
			copy_hex(b, (const unsigned char *)p, n);
			return 0;
		}
		if (n == 0 || (memchr(p, '\0', n) == NULL && utf8_valid(p, n))) {
			copy_escape(b, p ? p : "", n);
			return 0;
		}
		fprintf(stderr, "intake db %s: %s row %lld column %s: text "
		    "with a NUL byte or invalid UTF-8, which PostgreSQL's text "
		    "cannot store; nothing written\n", j->cmd, t->name, row,
		    t->cols[i].name);
		return EX_DATAERR;
	}
	fprintf(stderr, "intake db %s: %s row %lld column %s: a number where "
	    "PostgreSQL has bytea; nothing written\n", j->cmd, t->name, row,
	    t->cols[i].name);
	return EX_DATAERR;
}

/* "c1", "c2", ... of t. */
static char *
column_list(const struct table *t)
{
	struct buf b;
	size_t k;

	buf_init(&b, 0);
	for (k = 0; k < t->ncols; k++)
		buf_addf(&b, "%s\"%s\"", k ? ", " : "", t->cols[k].name);
	return buf_steal(&b);
}

static int
copy_put(struct job *j, struct buf *b)
{
	if (b->len && PQputCopyData(j->pg, b->data, (int)b->len) != 1)
		return pg_fail(j, NULL, "COPY");
	buf_reset(b);
	return 0;
}

/* End the COPY (with errmsg: abort it) and collect its result. */
static int
copy_end(struct job *j, const char *errmsg, int rc)
{
	PGresult *r;

	if (PQputCopyEnd(j->pg, errmsg) != 1 && rc == 0)
		rc = pg_fail(j, NULL, "COPY");
	while ((r = PQgetResult(j->pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = pg_fail(j, r, "COPY");
		else
			PQclear(r);
	}
	return rc;
}

static int
copy_table(struct job *j, struct table *t)
{
	sqlite3_stmt *s;
	PGresult *r;
	struct buf b;
	char *cols, *sql;
	int i, rc, lrc;

	cols = column_list(t);
	sql = xasprintf("SELECT %s FROM \"%s\"", cols, t->name);
	lrc = sqlite3_prepare_v2(j->lite, sql, -1, &s, NULL);
	free(sql);
	if (lrc != SQLITE_OK) {
		free(cols);
		return lite_fail(j, lrc, t->name);
	}
	sql = xasprintf("COPY \"%s\" (%s) FROM STDIN", t->name, cols);
	free(cols);
	r = PQexec(j->pg, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		sqlite3_finalize(s);
		return pg_fail(j, r, "COPY");
	}
	PQclear(r);
	buf_init(&b, 0);
	rc = 0;
	t->rows = 0;
	while (rc == 0 && (lrc = sqlite3_step(s)) == SQLITE_ROW) {
		t->rows++;
		for (i = 0; rc == 0 && i < (int)t->ncols; i++) {
			if (i)
				buf_addc(&b, '\t');
			rc = copy_value(j, &b, s, i, t, t->rows);
		}
		buf_addc(&b, '\n');
		if (rc == 0 && b.len >= COPY_CHUNK)
			rc = copy_put(j, &b);
	}
	if (rc == 0 && lrc != SQLITE_DONE)
		rc = lite_fail(j, lrc, t->name);
	if (rc == 0)
		rc = copy_put(j, &b);
	buf_free(&b);
	sqlite3_finalize(s);
	return copy_end(j, rc ? "intake db copy: source failed" : NULL, rc);
}

/* Each identity sequence past the largest id copied (and past SQLite's
 * AUTOINCREMENT high-water mark), so the next insert gets a new id. */
static int
set_sequences(struct job *j)
{
	PGresult *r;
	const char *p[4];
	char *sql, *qname, nbuf[32];
	long long max;
	size_t i;
	int rc;

	for (i = 0; i < j->ntabs; i++) {
		if (j->tabs[i].identity == NULL)
			continue;
		sql = xasprintf("SELECT coalesce(max(\"%s\"), 0) FROM \"%s\"",
		    j->tabs[i].identity, j->tabs[i].name);
		rc = pg_run(j, sql, 0, NULL, &r);
		free(sql);
		if (rc != 0)
			return rc;
		max = pg_int(r, 0, 0);
		PQclear(r);
		if (j->tabs[i].seq > max)
			max = j->tabs[i].seq;
		qname = xasprintf("\"%s\"", j->tabs[i].name);
		snprintf(nbuf, sizeof(nbuf), "%lld", max > 0 ? max : 1);
		p[0] = qname;
		p[1] = j->tabs[i].identity;
		p[2] = nbuf;
		p[3] = max > 0 ? "true" : "false";
		rc = pg_run(j, "SELECT setval(pg_get_serial_sequence($1, $2), "
		    "$3::bigint, $4::boolean)", 4, p, NULL);
		free(qname);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
lite_count(struct job *j, const char *table, long long *n)
{
	sqlite3_stmt *s;
	char *sql;
	int rc;

	sql = xasprintf("SELECT count(*) FROM \"%s\"", table);
	rc = sqlite3_prepare_v2(j->lite, sql, -1, &s, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return lite_fail(j, rc, table);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : lite_fail(j, rc, table);
}

/* The counts of every table on both sides: 0, 1 (a difference) or an
 * exit code. */
static int
verify_counts(struct job *j)
{
	PGresult *r;
	char *sql;
	long long nl = 0, np;
	size_t i;
	int rc, bad = 0;

	for (i = 0; i < j->ntabs; i++) {
		if ((rc = lite_count(j, j->tabs[i].name, &nl)) != 0)
			return rc;
		sql = xasprintf("SELECT count(*) FROM \"%s\"", j->tabs[i].name);
		rc = pg_run(j, sql, 0, NULL, &r);
		free(sql);
		if (rc != 0)
			return rc;
		np = pg_int(r, 0, 0);
		PQclear(r);
		printf("verify: %s: %lld rows in SQLite, %lld in PostgreSQL%s\n",
		    j->tabs[i].name, nl, np, nl == np ? "" : ": DIFFERENT");
		if (nl != np)
			bad = 1;
	}
	return bad;
}

/* The next row of PostgreSQL's single-row result: 1 (id, hash), 0 at the
 * end, or -exit code. */
static int
pg_next_hash(struct job *j, long long *id, char hash[65])
{
	PGresult *r;
	ExecStatusType s;
	int rc;

	r = PQgetResult(j->pg);
	s = PQresultStatus(r);
	if (r != NULL && s == PGRES_SINGLE_TUPLE) {
		*id = pg_int(r, 0, 0);
		snprintf(hash, 65, "%s", PQgetvalue(r, 0, 1));
		PQclear(r);
		return 1;
	}
	if (r != NULL && s == PGRES_TUPLES_OK) {
		PQclear(r);
		while ((r = PQgetResult(j->pg)) != NULL)
			PQclear(r);
		return 0;
	}
	rc = pg_fail(j, r, "reading messages.raw");
	while ((r = PQgetResult(j->pg)) != NULL)
		PQclear(r);
	return -rc;
}

/* The SHA-256 of every raw message on both sides, by id, one row in
 * memory at a time: 0, 1 (a difference) or an exit code. */
static int
verify_raw(struct job *j)
{
	sqlite3_stmt *s;
	long long lid = 0, pid = 0, n = 0, bad = 0;
	char lh[65], ph[65];
	int lrc, prc, rc = 0;

	lrc = sqlite3_prepare_v2(j->lite, "SELECT id, raw FROM messages ORDER "
	    "BY id", -1, &s, NULL);
	if (lrc != SQLITE_OK)
		return lite_fail(j, lrc, "messages");
	if (!PQsendQuery(j->pg, "SELECT id, encode(sha256(raw), 'hex') FROM "
	    "messages ORDER BY id") || !PQsetSingleRowMode(j->pg)) {
		sqlite3_finalize(s);
		return pg_fail(j, NULL, "reading messages.raw");
	}
	lrc = sqlite3_step(s);
	prc = pg_next_hash(j, &pid, ph);
	while ((lrc == SQLITE_ROW || prc == 1) && prc >= 0) {
		if (lrc == SQLITE_ROW) {
			lid = sqlite3_column_int64(s, 0);
			sha256_hex(sqlite3_column_blob(s, 1),
			    (size_t)sqlite3_column_bytes(s, 1), lh);
		}
		if (lrc == SQLITE_ROW && prc == 1 && lid == pid) {
			n++;
			if (strcmp(lh, ph) != 0 && bad++ < VERIFY_SHOW)
				printf("verify: message %lld: raw bytes differ "
				    "(SHA-256 %s in SQLite, %s in PostgreSQL)\n",
				    lid, lh, ph);
			lrc = sqlite3_step(s);
			prc = pg_next_hash(j, &pid, ph);
		} else if (lrc == SQLITE_ROW && (prc != 1 || lid < pid)) {
			if (bad++ < VERIFY_SHOW)
				printf("verify: message %lld: not in PostgreSQL\n",
				    lid);
			lrc = sqlite3_step(s);
		} else {
			if (bad++ < VERIFY_SHOW)
				printf("verify: message %lld: not in SQLite\n", pid);
			prc = pg_next_hash(j, &pid, ph);
		}
	}
	if (prc < 0)
		rc = -prc;
	else if (lrc != SQLITE_DONE && lrc != SQLITE_ROW)
		rc = lite_fail(j, lrc, "messages");
	sqlite3_finalize(s);
	if (rc != 0)
		return rc;
	printf("verify: messages.raw: %lld compared by SHA-256, %lld "
	    "different or missing\n", n, bad);
	return bad ? 1 : 0;
}

static int
has_table(const struct job *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->ntabs; i++)
		if (strcmp(j->tabs[i].name, name) == 0)
			return 1;
	return 0;
}

/* In a read-only REPEATABLE READ transaction (one snapshot on each side). */
static int
verify(struct job *j)
{
	int rc, rc2;

	if ((rc = pg_run(j, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    0, NULL, NULL)) != 0)
		return rc;
	rc = verify_counts(j);
	if (rc <= 1 && has_table(j, "messages")) {
		rc2 = verify_raw(j);
		rc = rc2 > 1 ? rc2 : (rc | rc2);
	}
	if (rc <= 1)
		printf("verify: %s\n", rc ? "DIFFERENT" : "same");
	pg_run(j, "ROLLBACK", 0, NULL, NULL);
	return rc;
}

/* The schema version PostgreSQL records (verify: no migrating). */
static int
pg_version(struct job *j, int *v)
{
	PGresult *r;
	int rc;

	*v = 0;
	if ((rc = pg_run(j, "SELECT to_regclass('schema_version') IS NOT NULL",
	    0, NULL, &r)) != 0)
		return rc;
	rc = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!rc)
		return 0;
	if ((rc = pg_run(j, "SELECT coalesce(max(version), 0) FROM "
	    "schema_version", 0, NULL, &r)) != 0)
		return rc;
	*v = (int)pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

static int
do_copy(struct job *j)
{
	size_t i;
	long long total = 0;
	int rc;

	if ((rc = pg_run(j, "BEGIN", 0, NULL, NULL)) != 0 ||
	    (rc = pg_run(j, "SET LOCAL synchronous_commit = on", 0, NULL,
	    NULL)) != 0 ||
	    (rc = pg_run(j, "SET CONSTRAINTS ALL DEFERRED", 0, NULL, NULL)) != 0 ||
	    (rc = pg_migrate(j)) != 0 ||
	    (rc = pg_match(j)) != 0 ||
	    (rc = pg_refuse_rows(j)) != 0)
		goto fail;
	for (i = 0; i < j->ntabs; i++)
		if ((rc = copy_table(j, &j->tabs[i])) != 0)
			goto fail;
	if ((rc = set_sequences(j)) != 0 ||
	    (rc = pg_run(j, "COMMIT", 0, NULL, NULL)) != 0)
		goto fail;
	for (i = 0; i < j->ntabs; i++) {
		printf("copy: %s: %lld rows\n", j->tabs[i].name, j->tabs[i].rows);
		total += j->tabs[i].rows;
	}
	printf("copy: %lld rows in %zu tables, schema version %d, committed\n",
	    total, j->ntabs, pg_schema_latest());
	return 0;
fail:
	if (PQstatus(j->pg) == CONNECTION_OK)
		PQclear(PQexec(j->pg, "ROLLBACK"));
	return rc;
}

/* intake db copy / db verify: usage and options in intake.c's table. */
static int
db_run(struct cmd_ctx *ctx, const char *cmd)
{
	struct job j = { .cmd = cmd };
	struct store *st = NULL;
	const char *from = cmd_opt(ctx, 'f'), *to = cmd_opt(ctx, 't');
	char *err = NULL;
	struct stat sb;
	int rc, v, pv;
	int want_verify = strcmp(cmd, "verify") == 0 || cmd_opt(ctx, 'v');

	if (from == NULL || to == NULL || *to == '\0' ||
	    cli_no_operands("db", ctx->argc, ctx->argv, 0) != 0)
		return cmd_usage_error(ctx);
	if (stat(from, &sb) == -1) {
		fprintf(stderr, "intake db %s: %s: %s\n", cmd, from,
		    strerror(errno));
		return errno == ENOENT ? EX_NOINPUT : EX_NOPERM;
	}
	if ((rc = store_open_readonly(from, SQLITE_WAIT_MS, &st, &err)) != 0) {
		fprintf(stderr, "intake db %s: %s\n", cmd, err ? err : from);
		free(err);
		return cli_store_exit(rc);
	}
	v = store_schema_version(st);
	if (v != pg_schema_latest()) {
		fprintf(stderr, "intake db %s: the SQLite database is at schema "
		    "version %d, this program's PostgreSQL schema (sql/pg/) at "
		    "%d: a build with both at the same version is needed\n",
		    cmd, v, pg_schema_latest());
		store_close(st);
		return EX_CONFIG;
	}
	j.lite = store_db(st);
	if ((rc = pg_connect(&j, to)) != 0)
		goto out;
	/* One read snapshot of the SQLite file for the copy and the verify. */
	if ((rc = sqlite3_exec(j.lite, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = lite_fail(&j, rc, "BEGIN");
		goto out;
	}
	if ((rc = lite_tables(&j)) != 0)
		goto out;
	if (strcmp(cmd, "copy") == 0 && (rc = do_copy(&j)) != 0)
		goto out;
	if (want_verify) {
		if ((rc = pg_version(&j, &pv)) != 0)
			goto out;
		if (pv != v) {
			fprintf(stderr, "intake db %s: the PostgreSQL database is "
			    "at schema version %d, the SQLite one at %d\n", cmd,
			    pv, v);
			rc = EX_CONFIG;
			goto out;
		}
		if (strcmp(cmd, "verify") == 0 && (rc = pg_match(&j)) != 0)
			goto out;
		rc = verify(&j);
	}
out:
	sqlite3_exec(j.lite, "ROLLBACK", NULL, NULL, NULL);
	tables_free(&j);
	PQfinish(j.pg);
	store_close(st);
	return rc;
}

int
cmd_db_copy(struct cmd_ctx *ctx)
{
	return db_run(ctx, "copy");
}

int
cmd_db_verify(struct cmd_ctx *ctx)
{
	return db_run(ctx, "verify");
}
