/* SPDX-License-Identifier: MIT */
/*
 * store_pg.c: the PostgreSQL driver of the store (store.h, store_p.h), over
 * libpq.  `database` is a libpq URI or connection string; the password
 * comes from database_password_file (0600, config_read_secret()) or from
 * libpq's own .pgpass/service file, never from the logs: the connection
 * string is never printed.
 *
 * Durability as SQLite's synchronous=FULL: synchronous_commit = on for the
 * session (with a synchronous standby, the commit waits for it too; see
 * doc/interfaces.md).  A vanished peer is noticed in seconds (TCP
 * keepalives, tcp_user_timeout), and the server ends a session idle inside
 * a transaction (idle_in_transaction_session_timeout), releasing its row
 * locks: the lease protocol (lease.h) relies on both.  lock_timeout is
 * busy_timeout_ms, SQLite's wait for a lock.
 *
 * Statements: struct query's pg text as written, else its sql text with ?N
 * rewritten to $N outside quotes and comments, prepared once per connection (PQprepare,
 * named), executed with text parameters (blobs binary) and text results.
 * After a lost connection the next begin (or a statement outside a
 * transaction) resets it and prepares again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "pgschema.h"
#include "store_p.h"
#include "util.h"

/* pg_advisory_xact_lock key of the migrations: "Intk", SQLite's
 * application_id; the same as `intake db copy` (cmd_db.c) takes. */
#define PG_MIGRATE_LOCK		"1231975531"
/* A session idle inside a transaction this long is ended by the server
 * (its locks released): below any lease TTL (lease.h). */
#define PG_IDLE_TX_MS		10000
#define PG_BYTEAOID		17
#define PG_BOOLOID		16
#define PG_MAXPARAMS		100

struct pg_stmt {
	struct stmt		 base;
	struct store_pg		*st;
	char			*src;		/* the text asked for */
	char			*text;		/* with $N */
	char			 name[24];
	unsigned		 gen;		/* connection it was prepared on */
	int			 nparams;
	char			**vals;
	int			*lens;
	int			*fmts;
	PGresult		*res;
	int			 row, nrows;
	int			 ended;		/* STORE_DONE returned */
	unsigned char		*unesc;		/* col_blob's last bytea */
};

struct store_pg {
	struct store		 base;
	PGconn			*conn;
	unsigned		 gen;		/* +1 at every (re)connect */
	unsigned		 seq;		/* statement names */
	int			 in_tx;
	int			 readonly;
	int			 lock_ms;
	char			*actor;		/* session_user */
	char			*err;		/* the last error, for logs */
	struct pg_stmt		**stmts;
	size_t			 nstmts, capstmts;
};

static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* "relation ... already exists, skipping" */
}

/* Remember the connection's or the result's error (first line). */
static void
set_err(struct store_pg *st, const PGresult *r)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL;

	if (m == NULL)
		m = PQerrorMessage(st->conn);
	free(st->err);
	st->err = xasprintf("PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
}

/*
 * A failed statement's class: a lost connection, a serialization failure
 * or deadlock, lack of resources, an operator's intervention, a lock or
 * statement timeout: retry later (STORE_TEMP).  No right: STORE_PERM.
 * Anything else (a constraint, bad SQL): STORE_ERR.
 */
static int
classify(struct store_pg *st, const PGresult *r)
{
	static const char *const temp[] = { "08", "40", "53", "57", "55P03",
	    "25P03" };
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	size_t i;

	set_err(st, r);
	if (PQstatus(st->conn) != CONNECTION_OK || state == NULL)
		return STORE_TEMP;
	for (i = 0; i < NELEM(temp); i++)
		if (strncmp(state, temp[i], strlen(temp[i])) == 0)
			return STORE_TEMP;
	if (strcmp(state, "42501") == 0 || strncmp(state, "28", 2) == 0)
		return STORE_PERM;
	return STORE_ERR;
}

/* Run a statement without parameters; *out the result (caller clears) or
 * NULL.  STORE_OK or a class. */
static int
run(struct store_pg *st, const char *sql, PGresult **out)
{
	PGresult *r = PQexec(st->conn, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc;

	if (out)
		*out = NULL;
	if (r == NULL || (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)) {
		rc = classify(st, r);
		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return STORE_OK;
}

/* The session's settings (after every connect). */
static int
configure(struct store_pg *st)
{
	char *sql;
	PGresult *r;
	int rc;

	PQsetNoticeProcessor(st->conn, quiet_notice, NULL);
	/* lock_timeout 0 would mean "wait for ever": SQLite's 0 is "never" */
	sql = xasprintf("SET synchronous_commit = on; "
	    "SET idle_in_transaction_session_timeout = %d; "
	    "SET lock_timeout = %d; SET client_encoding = 'UTF8'; "
	    "SET default_transaction_read_only = %s",
	    PG_IDLE_TX_MS, st->lock_ms > 0 ? st->lock_ms : 1,
	    st->readonly ? "on" : "off");
	rc = run(st, sql, NULL);
	free(sql);
	if (rc != STORE_OK)
		return rc;
	if ((rc = run(st, "SELECT session_user", &r)) != STORE_OK)
		return rc;
	free(st->actor);
	st->actor = xstrdup(PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
	PQclear(r);
	st->gen++;
	return STORE_OK;
}

static int
pg_latest(void)
{
	return pg_migrations_count ?
	    pg_migrations[pg_migrations_count - 1].version : 0;
}

/* schema_version's newest version, 0 without the table; -1 on error. */
static int
version(struct store_pg *st)
{
	PGresult *r;
	int v = -1, have;

	/* two statements: one naming a missing table fails at its parse */
	if (run(st, "SELECT to_regclass('schema_version') IS NOT NULL",
	    &r) != STORE_OK)
		return -1;
	have = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!have)
		return 0;
	if (run(st, "SELECT coalesce(max(version), 0) FROM schema_version",
	    &r) != STORE_OK)
		return -1;
	if (PQntuples(r) == 1)
		v = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/*
 * Apply every sql/pg/ migration newer than schema_version records, in one
 * transaction under the migration lock: a concurrent opener (another
 * node, `intake db copy`) waits on the lock, then finds the work done; a
 * failure leaves the old version.  Needs the rights of intake_admin
 * (roles.sql); an up-to-date schema takes no lock and needs none.
 */
static int
migrate(struct store_pg *st, char **err)
{
	char vbuf[16];
	const char *p[2];
	PGresult *r;
	size_t i;
	int v, rc;

	if ((v = version(st)) == pg_latest())
		return STORE_OK;
	if (v > pg_latest()) {
		*err = xasprintf("database schema version %d is newer than this "
		    "program knows (%d): upgrade intake", v, pg_latest());
		return STORE_NEWER;
	}
	if ((rc = run(st, "BEGIN", NULL)) != STORE_OK)
		goto fail;
	if ((rc = run(st, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK
	    ")", NULL)) != STORE_OK ||
	    (rc = run(st, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", NULL)) != STORE_OK)
		goto fail_rollback;
	if ((v = version(st)) < 0) {
		rc = STORE_ERR;
		goto fail_rollback;
	}
	if (v > pg_latest()) {
		run(st, "ROLLBACK", NULL);
		*err = xasprintf("database schema version %d is newer than this "
		    "program knows (%d): upgrade intake", v, pg_latest());
		return STORE_NEWER;
	}
	for (i = 0; i < pg_migrations_count; i++) {
		if (pg_migrations[i].version <= v)
			continue;
		if ((rc = run(st, pg_migrations[i].sql, NULL)) != STORE_OK) {
			*err = xasprintf("migration sql/pg/%s failed: %s",
			    pg_migrations[i].name, st->err);
			run(st, "ROLLBACK", NULL);
			return rc;
		}
		snprintf(vbuf, sizeof(vbuf), "%d", pg_migrations[i].version);
		p[0] = vbuf;
		p[1] = pg_migrations[i].name;
		r = PQexecParams(st->conn, "INSERT INTO schema_version (version, "
		    "name) VALUES ($1, $2)", 2, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = classify(st, r);
			PQclear(r);
			goto fail_rollback;
		}
		PQclear(r);
	}
	if ((rc = run(st, "COMMIT", NULL)) == STORE_OK)
		return STORE_OK;
fail_rollback:
	run(st, "ROLLBACK", NULL);
fail:
	*err = xasprintf("migrating: %s%s", st->err ? st->err : "failed",
	    rc == STORE_PERM ? " (migrations need the rights of intake_admin: "
	    "see sql/pg/roles.sql)" : "");
	return rc;
}

/* Connect: our defaults first, then the user's string (a setting there
 * wins), then the password of database_password_file. */
static int
connect_db(struct store_pg *st, const struct config *cfg, char **err)
{
	const char *keys[12], *vals[12];
	char *password = NULL, *perr = NULL;
	PQconninfoOption *opts;
	size_t n = 0;

	opts = PQconninfoParse(cfg->database, &perr);
	if (opts == NULL) {
		/* libpq quotes parts of a bad URI, the password among them:
		 * only its message naming an unknown option is safe to show */
		int named = perr && (strncmp(perr, "invalid connection option",
		    25) == 0 || strncmp(perr, "invalid URI query parameter",
		    27) == 0);

		*err = xasprintf("database: not a libpq connection string or "
		    "URI%s%.*s (the string is not shown: it may hold a "
		    "password)", named ? ": " : "", named ?
		    (int)strcspn(perr, "\n") : 0, named ? perr : "");
		PQfreemem(perr);
		return STORE_ERR;
	}
	PQconninfoFree(opts);
	if (cfg->database_password_file && config_read_secret(
	    cfg->database_password_file, &password, err) == -1)
		return STORE_PERM;
#define KV(k, v)	do { keys[n] = (k); vals[n] = (v); n++; } while (0)
	KV("connect_timeout", "10");
	KV("keepalives", "1");
	KV("keepalives_idle", "5");
	KV("keepalives_interval", "2");
	KV("keepalives_count", "3");
	KV("tcp_user_timeout", "10000");
	KV("fallback_application_name", "intake");
	KV("dbname", cfg->database);
	if (password)
		KV("password", password);
	KV(NULL, NULL);
#undef KV
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
		const char *m = st->conn ? PQerrorMessage(st->conn) :
		    "out of memory";

		*err = xasprintf("database: cannot connect to PostgreSQL: %.*s",
		    (int)strcspn(m, "\n"), m);
		/* a refused password or role is no "retry later" */
		return st->conn && PQconnectionNeedsPassword(st->conn) ?
		    STORE_PERM : STORE_TEMP;
	}
	return STORE_OK;
}

static void pg_close(struct store *);

static int
pg_open(const struct config *cfg, int flags, struct store **out, char **err)
{
	struct store_pg *st = xcalloc(1, sizeof(*st));
	int rc, v;

	st->base.ops = &store_pg_ops;
	st->readonly = (flags & STORE_OPEN_READONLY) != 0;
	st->lock_ms = cfg->busy_timeout_ms;
	if ((rc = connect_db(st, cfg, err)) != STORE_OK)
		goto fail;
	if ((rc = configure(st)) != STORE_OK) {
		*err = xasprintf("database: %s", st->err);
		goto fail;
	}
	if (st->readonly) {
		if ((v = version(st)) != pg_latest()) {
			*err = v < 0 ? xasprintf("database: %s", st->err) :
			    xasprintf("database schema version %d is %s than this "
			    "program's (%d)%s", v, v > pg_latest() ? "newer" :
			    "older", pg_latest(), v > pg_latest() ?
			    ": upgrade intake" : ": read commands do not migrate");
			rc = v < 0 ? STORE_ERR : v > pg_latest() ? STORE_NEWER :
			    STORE_OLDER;
			goto fail;
		}
	} else if ((rc = migrate(st, err)) != STORE_OK) {
		char *e = *err;

		*err = xasprintf("database: %s", e);
		free(e);
		goto fail;
	}
	*out = &st->base;
	return STORE_OK;
fail:
	pg_close(&st->base);
	return rc;
}

static void
stmt_clear(struct pg_stmt *s)
{
	int i;

	PQclear(s->res);
	s->res = NULL;
	s->row = s->nrows = s->ended = 0;
	PQfreemem(s->unesc);
	s->unesc = NULL;
	for (i = 0; i < s->nparams; i++) {
		free(s->vals[i]);
		s->vals[i] = NULL;
		s->lens[i] = 0;
		s->fmts[i] = 0;
	}
}

static void
pg_close(struct store *base)
{
	struct store_pg *st = (struct store_pg *)base;
	size_t i;

	for (i = 0; i < st->nstmts; i++) {
		stmt_clear(st->stmts[i]);
		free(st->stmts[i]->vals);
		free(st->stmts[i]->lens);
		free(st->stmts[i]->fmts);
		free(st->stmts[i]->text);
		free(st->stmts[i]->src);
		free(st->stmts[i]);
	}
	free(st->stmts);
	PQfinish(st->conn);
	free(st->actor);
	free(st->err);
	free(st);
}

/* A connection lost outside a transaction is reset (and the session set
 * up again): inside one, the transaction is gone and the caller must
 * learn it from the failure. */
static int
alive(struct store_pg *st)
{
	if (PQstatus(st->conn) == CONNECTION_OK)
		return STORE_OK;
	if (st->in_tx)
		return STORE_TEMP;
	PQreset(st->conn);
	if (PQstatus(st->conn) != CONNECTION_OK) {
		set_err(st, NULL);
		return STORE_TEMP;
	}
	return configure(st);
}

static int
pg_begin(struct store_pg *st)
{
	int rc;

	if ((rc = alive(st)) != STORE_OK)
		return rc;
	/* as SQLite: no transaction inside a transaction */
	if (PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
		free(st->err);
		st->err = xstrdup("PostgreSQL: a transaction is open already");
		return STORE_ERR;
	}
	if ((rc = run(st, "BEGIN", NULL)) == STORE_OK)
		st->in_tx = 1;
	return rc;
}

static int
pg_begin_op(struct store *base)
{
	return pg_begin((struct store_pg *)base);
}

/* COMMIT of a transaction that had failed answers "ROLLBACK": nothing
 * was committed, and the caller must not act as if it were. */
static int
pg_commit(struct store *base)
{
	struct store_pg *st = (struct store_pg *)base;
	PGresult *r = PQexec(st->conn, "COMMIT");
	int rc = STORE_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = classify(st, r);
	else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		free(st->err);
		st->err = xstrdup("PostgreSQL: the transaction had failed and "
		    "was rolled back at COMMIT");
		rc = STORE_ERR;
	}
	PQclear(r);
	if (rc != STORE_OK && PQtransactionStatus(st->conn) != PQTRANS_IDLE &&
	    PQstatus(st->conn) == CONNECTION_OK)
		run(st, "ROLLBACK", NULL);
	st->in_tx = 0;
	return rc;
}

static void
pg_rollback(struct store *base)
{
	struct store_pg *st = (struct store_pg *)base;

	if (PQstatus(st->conn) == CONNECTION_OK &&
	    PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		run(st, "ROLLBACK", NULL);
	st->in_tx = 0;
}

/*
 * ?N to $N, and a bare ? to one more than the largest number so far (as
 * SQLite numbers them), outside '...', "..." and -- comments; $N kept.
 * A query's pg text is taken as written ($N only; it may use jsonb's ?
 * operators): only the shared sql text is rewritten, and it uses neither
 * E'' strings nor dollar quoting.
 * *max: the largest parameter number.  NULL when a number is out of
 * range.
 */
static char *
rewrite(const char *sql, int qmarks, int *max)
{
	struct buf b;
	const char *p = sql;
	long n;
	char *end, num[16];

	buf_init(&b, 0);
	*max = 0;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			char q = *p;
			const char *e = p + 1;

			while (*e && *e != q)
				e++;
			if (*e)
				e++;
			buf_add(&b, p, (size_t)(e - p));
			p = e;
		} else if (p[0] == '-' && p[1] == '-') {
			size_t len = strcspn(p, "\n");

			buf_add(&b, p, len);
			p += len;
		} else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			/* a pg text may number them itself */
			n = strtol(p + 1, &end, 10);
			if (n < 1 || n > PG_MAXPARAMS) {
				buf_free(&b);
				return NULL;
			}
			if (n > *max)
				*max = (int)n;
			buf_add(&b, p, (size_t)(end - p));
			p = end;
		} else if (*p == '?' && qmarks) {
			p++;
			if (*p >= '0' && *p <= '9') {
				errno = 0;
				n = strtol(p, &end, 10);
				if (errno || n < 1 || n > PG_MAXPARAMS) {
					buf_free(&b);
					return NULL;
				}
				p = end;
			} else
				n = *max + 1;
			if (n > PG_MAXPARAMS) {
				buf_free(&b);
				return NULL;
			}
			if (n > *max)
				*max = (int)n;
			snprintf(num, sizeof(num), "$%ld", n);
			buf_add(&b, num, strlen(num));
		} else
			buf_add(&b, p++, 1);
	}
	return b.len ? buf_steal(&b) : xstrdup("");
}

/* PQprepare s on this connection. */
static int
prepare_now(struct store_pg *st, struct pg_stmt *s)
{
	PGresult *r;
	int rc = STORE_OK;

	snprintf(s->name, sizeof(s->name), "intake_%u", ++st->seq);
	r = PQprepare(st->conn, s->name, s->text, s->nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = classify(st, r);
	else
		s->gen = st->gen;
	PQclear(r);
	return rc;
}

static struct stmt *
pg_prepare(struct store *base, const struct query *q, int *rc)
{
	struct store_pg *st = (struct store_pg *)base;
	struct pg_stmt *s;
	const char *src;
	size_t i;

	src = q->pg ? q->pg : q->sql;
	/* by text, as SQLite's cache: a query built from a few variants
	 * (report filters) may live on the stack */
	for (i = 0; i < st->nstmts; i++)
		if (strcmp(st->stmts[i]->src, src) == 0)
			return &st->stmts[i]->base;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &store_pg_ops;
	s->st = st;
	s->src = xstrdup(src);
	if ((s->text = rewrite(src, q->pg == NULL,
	    &s->nparams)) == NULL) {
		free(st->err);
		st->err = xstrdup("a parameter number out of range");
		free(s->src);
		free(s);
		*rc = STORE_ERR;
		return NULL;
	}
	if ((*rc = alive(st)) != STORE_OK ||
	    (*rc = prepare_now(st, s)) != STORE_OK) {
		free(s->text);
		free(s->src);
		free(s);
		return NULL;
	}
	s->vals = xcalloc((size_t)s->nparams + 1, sizeof(*s->vals));
	s->lens = xcalloc((size_t)s->nparams + 1, sizeof(*s->lens));
	s->fmts = xcalloc((size_t)s->nparams + 1, sizeof(*s->fmts));
	if (st->nstmts == st->capstmts) {
		st->capstmts = st->capstmts ? st->capstmts * 2 : 16;
		st->stmts = xreallocarray(st->stmts, st->capstmts,
		    sizeof(*st->stmts));
	}
	st->stmts[st->nstmts++] = s;
	return &s->base;
}

static struct pg_stmt *
ps(struct stmt *s)
{
	return (struct pg_stmt *)s;
}

/* Set parameter i (1-based) to a copy of len bytes, fmt 0 text, 1 binary. */
static int
bind_bytes(struct stmt *base, int i, const void *v, size_t len, int fmt)
{
	struct pg_stmt *s = ps(base);

	if (i < 1 || i > s->nparams || len > 0x7fffffff)
		return STORE_ERR;
	free(s->vals[i - 1]);
	s->vals[i - 1] = xmalloc(len + 1);
	memcpy(s->vals[i - 1], v, len);
	s->vals[i - 1][len] = '\0';
	s->lens[i - 1] = (int)len;
	s->fmts[i - 1] = fmt;
	return STORE_OK;
}

static int
pg_bind_int64(struct stmt *s, int i, long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", v);
	return bind_bytes(s, i, num, strlen(num), 0);
}

static int
pg_bind_text(struct stmt *s, int i, const char *t, size_t len)
{
	/* text parameters end at a NUL: one inside is refused, as invalid
	 * UTF-8 is by the server */
	if (memchr(t, '\0', len) != NULL)
		return STORE_ERR;
	return bind_bytes(s, i, t, len, 0);
}

static int
pg_bind_blob(struct stmt *s, int i, const void *b, size_t len)
{
	return bind_bytes(s, i, b, len, 1);
}

static int
pg_bind_null(struct stmt *base, int i)
{
	struct pg_stmt *s = ps(base);

	if (i < 1 || i > s->nparams)
		return STORE_ERR;
	free(s->vals[i - 1]);
	s->vals[i - 1] = NULL;
	s->lens[i - 1] = 0;
	s->fmts[i - 1] = 0;
	return STORE_OK;
}

static int
pg_step(struct stmt *base)
{
	struct pg_stmt *s = ps(base);
	struct store_pg *st = s->st;
	ExecStatusType es;
	int rc;

	/* as SQLite's: a step after the end runs the statement again, with
	 * the same parameters */
	if (s->res != NULL && s->ended) {
		PQclear(s->res);
		s->res = NULL;
		s->ended = 0;
	}
	if (s->res == NULL) {
		if ((rc = alive(st)) != STORE_OK)
			return rc;
		if (s->gen != st->gen && (rc = prepare_now(st, s)) != STORE_OK)
			return rc;
		s->res = PQexecPrepared(st->conn, s->name, s->nparams,
		    (const char *const *)s->vals, s->lens, s->fmts, 0);
		es = PQresultStatus(s->res);
		if (es == PGRES_TUPLES_OK)
			s->nrows = PQntuples(s->res);
		else if (es == PGRES_COMMAND_OK)
			s->nrows = 0;
		else {
			rc = classify(st, s->res);
			PQclear(s->res);
			s->res = NULL;
			return rc;
		}
		s->row = -1;
	}
	PQfreemem(s->unesc);
	s->unesc = NULL;
	if (s->row + 1 < s->nrows) {
		s->row++;
		return STORE_ROW;
	}
	s->row = s->nrows;
	s->ended = 1;
	return STORE_DONE;
}

static int
valid(const struct pg_stmt *s, int i)
{
	return s->res != NULL && s->row >= 0 && s->row < s->nrows && i >= 0 &&
	    i < PQnfields(s->res);
}

static int
pg_col_null(struct stmt *base, int i)
{
	struct pg_stmt *s = ps(base);

	return !valid(s, i) || PQgetisnull(s->res, s->row, i);
}

static long long
pg_col_int64(struct stmt *base, int i)
{
	struct pg_stmt *s = ps(base);
	const char *v;

	if (pg_col_null(base, i))
		return 0;
	v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == PG_BOOLOID)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *
pg_col_text(struct stmt *base, int i, size_t *len)
{
	struct pg_stmt *s = ps(base);

	*len = 0;
	if (pg_col_null(base, i))
		return NULL;
	*len = (size_t)PQgetlength(s->res, s->row, i);
	return PQgetvalue(s->res, s->row, i);
}

static const void *
pg_col_blob(struct stmt *base, int i, size_t *len)
{
	struct pg_stmt *s = ps(base);

	if (pg_col_null(base, i) || PQftype(s->res, i) != PG_BYTEAOID)
		return pg_col_text(base, i, len);
	PQfreemem(s->unesc);
	s->unesc = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res,
	    s->row, i), len);
	if (s->unesc == NULL)
		*len = 0;
	return s->unesc;
}

static void
pg_done(struct stmt *base)
{
	stmt_clear(ps(base));
}

static long long
pg_changes(struct stmt *base)
{
	struct pg_stmt *s = ps(base);
	const char *n;

	if (s->res == NULL || *(n = PQcmdTuples(s->res)) == '\0')
		return 0;
	return strtoll(n, NULL, 10);
}

static const char *
pg_actor(struct store *base)
{
	return ((struct store_pg *)base)->actor;
}

static const char *
pg_errmsg(struct store *base)
{
	struct store_pg *st = (struct store_pg *)base;

	return st->err ? st->err : "PostgreSQL: no error";
}

static int
pg_schema_version(struct store *base)
{
	return version((struct store_pg *)base);
}

char *
store_display_name(const char *database)
{
	static const char *shown[] = { "host", "hostaddr", "port", "dbname",
	    "user", "service" };
	PQconninfoOption *opts, *o;
	struct buf b;
	size_t i;

	if (!store_is_postgresql(database))
		return xstrdup(database);
	if ((opts = PQconninfoParse(database, NULL)) == NULL)
		return xstrdup("postgresql: (unparseable)");
	buf_init(&b, 0);
	buf_addstr(&b, "postgresql:");
	for (o = opts; o->keyword; o++)
		for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
			if (strcmp(o->keyword, shown[i]) == 0 && o->val &&
			    *o->val)
				buf_addf(&b, " %s=%s", o->keyword, o->val);
	PQconninfoFree(opts);
	return buf_steal(&b);
}

int
store_has_password(const char *database)
{
	PQconninfoOption *opts, *o;
	int has = 0;

	if (!store_is_postgresql(database))
		return 0;
	/* unparseable: it may hold one all the same */
	if ((opts = PQconninfoParse(database, NULL)) == NULL)
		return 1;
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			has = 1;
	PQconninfoFree(opts);
	return has;
}

static int
pg_exec(struct store *base, const char *sql)
{
	return run((struct store_pg *)base, sql, NULL);
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin_op,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_null = pg_col_null,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.done = pg_done,
	.changes = pg_changes,
	.actor = pg_actor,
	.errmsg = pg_errmsg,
	.schema_version = pg_schema_version,
	.exec = pg_exec,
};
