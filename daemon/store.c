/* SPDX-License-Identifier: MIT */
/*
 * store.c: the driver-neutral front of the store (store.h): which driver a
 * `database` names, the statement API dispatched through the driver's
 * table, transactions, and the events every module appends.  The drivers
 * are store_sqlite.c and store_pg.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store_p.h"
#include "util.h"

int
store_is_postgresql(const char *db)
{
	static const char *const kw[] = { "host", "hostaddr", "port",
	    "dbname", "user", "service" };
	size_t i, n;

	if (db == NULL)
		return 0;
	if (strncmp(db, "postgresql://", 13) == 0 ||
	    strncmp(db, "postgres://", 11) == 0)
		return 1;
	for (i = 0; i < NELEM(kw); i++) {
		n = strlen(kw[i]);
		if (strncmp(db, kw[i], n) != 0)
			continue;
		/* libpq allows blanks around '=' */
		while (db[n] == ' ' || db[n] == '\t')
			n++;
		if (db[n] == '=')
			return 1;
	}
	return 0;
}

/* The refusal of a PostgreSQL database by the SQLite-file entries (a
 * program's bug: the programs open with store_open_config()).  The
 * connection string is never repeated: it may hold a password. */
static int
not_yet(char **err)
{
	*err = xstrdup("this entry opens SQLite files only: a PostgreSQL "
	    "database is opened with its configuration (store_open_config)");
	return STORE_NOTYET;
}

int
store_open(const char *path, const char *group, int busy_timeout_ms,
    struct store **out, char **err)
{
	*out = NULL;
	*err = NULL;
	if (store_is_postgresql(path))
		return not_yet(err);
	return store_sqlite_open(path, group, busy_timeout_ms, 0, out, err);
}

int
store_open_readonly(const char *path, int busy_timeout_ms,
    struct store **out, char **err)
{
	*out = NULL;
	*err = NULL;
	if (store_is_postgresql(path))
		return not_yet(err);
	return store_sqlite_open(path, NULL, busy_timeout_ms,
	    STORE_OPEN_READONLY, out, err);
}

int
store_open_config(const struct config *cfg, int flags, struct store **out,
    char **err)
{
	const struct store_ops *ops = store_is_postgresql(cfg->database) ?
	    &store_pg_ops : &store_sqlite_ops;

	*out = NULL;
	*err = NULL;
	return ops->open(cfg, flags, out, err);
}

const struct store_ops *
store_driver(const struct store *st)
{
	return st->ops;
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_begin(struct store *st)
{
	return st->ops->begin(st);
}

int
store_commit(struct store *st)
{
	return st->ops->commit(st);
}

void
store_rollback(struct store *st)
{
	st->ops->rollback(st);
}

int
store_schema_version(struct store *st)
{
	return st->ops->schema_version(st);
}

const char *
store_errmsg(struct store *st)
{
	return st->ops->errmsg(st);
}

const char *
store_actor(struct store *st)
{
	return st->ops->actor(st);
}

struct stmt *
store_prepare(struct store *st, const struct query *q, int *rc)
{
	*rc = STORE_OK;
	return st->ops->prepare(st, q, rc);
}

int
store_bind_int64(struct stmt *s, int i, long long v)
{
	return s->ops->bind_int64(s, i, v);
}

int
store_bind_text(struct stmt *s, int i, const char *t, size_t len)
{
	if (t == NULL)
		return s->ops->bind_null(s, i);
	if (len == (size_t)-1)
		len = strlen(t);
	return s->ops->bind_text(s, i, t, len);
}

int
store_bind_blob(struct stmt *s, int i, const void *b, size_t len)
{
	return s->ops->bind_blob(s, i, b ? b : "", len);
}

int
store_bind_null(struct stmt *s, int i)
{
	return s->ops->bind_null(s, i);
}

int
store_step(struct stmt *s)
{
	return s->ops->step(s);
}

int
store_col_null(struct stmt *s, int i)
{
	return s->ops->col_null(s, i);
}

long long
store_col_int64(struct stmt *s, int i)
{
	return s->ops->col_int64(s, i);
}

const char *
store_col_text(struct stmt *s, int i, size_t *len)
{
	size_t n = 0;
	const char *t = s->ops->col_text(s, i, &n);

	if (len)
		*len = n;
	return t;
}

const void *
store_col_blob(struct stmt *s, int i, size_t *len)
{
	size_t n = 0;
	const void *b = s->ops->col_blob(s, i, &n);

	if (len)
		*len = n;
	return b;
}

void
store_done(struct stmt *s)
{
	if (s != NULL)
		s->ops->done(s);
}

int
store_on_postgresql(const struct store *st)
{
	return store_driver(st) == &store_pg_ops;
}

long long
store_changes(struct stmt *s)
{
	return s->ops->changes(s);
}

/* The why of the format is in store.h. */
long long
store_exec(struct store *st, const struct query *q, const char *fmt, ...)
{
	struct stmt *s;
	va_list ap;
	long long v, changed;
	int rc, i;

	if ((s = store_prepare(st, q, &rc)) == NULL)
		return rc;
	va_start(ap, fmt);
	for (i = 1, rc = STORE_OK; *fmt && rc == STORE_OK; fmt++, i++) {
		switch (*fmt) {
		case 'i':
			rc = store_bind_int64(s, i, va_arg(ap, long long));
			break;
		case 'z':
		case 'm':
			v = va_arg(ap, long long);
			if ((*fmt == 'z' && v == 0) || (*fmt == 'm' && v < 0))
				rc = store_bind_null(s, i);
			else
				rc = store_bind_int64(s, i, v);
			break;
		case 't':
			rc = store_bind_text(s, i, va_arg(ap, const char *),
			    (size_t)-1);
			break;
		default:
			rc = store_bind_null(s, i);
			break;
		}
	}
	va_end(ap);
	if (rc == STORE_OK)
		rc = store_step(s);
	changed = rc == STORE_DONE ? store_changes(s) : rc;
	store_done(s);
	return changed;
}


/* SAVEPOINT-like statement `verb name` after checking name. */
static int
savepoint_sql(struct store *st, const char *verb, const char *name)
{
	char sql[128];
	size_t i;

	if (name == NULL || !((name[0] >= 'a' && name[0] <= 'z') ||
	    name[0] == '_') || strlen(name) > 63)
		return STORE_ERR;
	for (i = 0; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_' ||
		    (name[i] >= '0' && name[i] <= '9')))
			return STORE_ERR;
	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	return st->ops->exec(st, sql);
}

int
store_savepoint(struct store *st, const char *name)
{
	return savepoint_sql(st, "SAVEPOINT", name);
}

int
store_savepoint_release(struct store *st, const char *name)
{
	return savepoint_sql(st, "RELEASE SAVEPOINT", name);
}

int
store_savepoint_rollback(struct store *st, const char *name)
{
	return savepoint_sql(st, "ROLLBACK TO SAVEPOINT", name);
}

static const struct query q_event = {
	"INSERT INTO events (ticket_id, at, actor, kind, detail) "
	"VALUES (?1, ?2, ?3, ?4, ?5)", NULL
};

int
store_event(struct store *st, long long ticket, long long at,
    const char *actor, const char *kind, const char *detail_json)
{
	struct stmt *s;
	int rc;

	if (actor == NULL && (actor = store_actor(st)) == NULL)
		actor = "?";
	if ((s = store_prepare(st, &q_event, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, at)) == STORE_OK &&
	    (rc = store_bind_text(s, 3, actor, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 4, kind, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 5, detail_json ? detail_json : "{}",
	    (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}
