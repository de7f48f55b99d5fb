/* SPDX-License-Identifier: MIT */
/*
 * store.h: the database behind one interface with two drivers (a table of
 * functions, struct store_ops, like the sources'): SQLite (store_sqlite.c:
 * WAL, busy_timeout, foreign keys, synchronous=FULL, mode 0600 or 0660
 * with a group, migrations tracked by PRAGMA user_version) and PostgreSQL
 * (store_pg.c, libpq: the sql/pg/ migrations under an advisory lock,
 * tracked in schema_version; synchronous_commit on).  A `database` that is
 * a libpq URI or connection string (store_is_postgresql()) selects
 * PostgreSQL; a path keeps SQLite.
 *
 * Every module uses the statement API (struct query, store_prepare(),
 * store_bind_*(), store_step(), store_col_*(), store_done()) and runs on
 * both; the programs open with store_open_config().  store_open() and
 * store_open_readonly() open a SQLite file's path (tests, the source of
 * `intake db copy`) and refuse a PostgreSQL database with STORE_NOTYET.
 * Every statement uses bound parameters.
 */
#ifndef INTAKE_STORE_H
#define INTAKE_STORE_H

#include <stddef.h>

#include <sqlite3.h>

struct config;
struct store;

enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,		/* a bug or corruption: do not retry blindly */
	STORE_TEMP = -2,	/* locked, busy, full, unwritable: retry later */
	STORE_NEWER = -3,	/* the database is newer than this program */
	STORE_PERM = -4,	/* this user may not read or write a file */
	STORE_OLDER = -5,	/* read-only open: not migrated yet (or absent) */
	STORE_NOTYET = -6,	/* PostgreSQL given to a SQLite-file entry */
};

/* store_step(): a row, or the end (every other result is an enum store_rc). */
enum { STORE_ROW = 1, STORE_DONE = 2 };

/*
 * Open (creating with mode 0600, or 0660 and group `group` when not NULL)
 * and migrate to the newest schema.  On failure *err is set (caller frees).
 * SQLite only: a PostgreSQL `path` (store_is_postgresql()) is
 * STORE_NOTYET; nothing is connected or created.
 */
int	 store_open(const char *path, const char *group, int busy_timeout_ms,
	    struct store **out, char **err);
/*
 * Open for reading only (SQLITE_OPEN_READONLY): never creates, migrates or
 * takes the write lock; the schema version is read without a transaction.
 * STORE_OLDER when the file is missing or older than this program (a
 * writer migrates it), STORE_NEWER, STORE_PERM naming the file or
 * directory this user cannot use, else as store_open.
 */
int	 store_open_readonly(const char *path, int busy_timeout_ms,
	    struct store **out, char **err);
void	 store_close(struct store *);
/* The SQLite connection, for the modules not yet converted (SQLite only:
 * NULL on PostgreSQL, which store_open() never returns). */
sqlite3	*store_db(struct store *);
int	 store_schema_version(struct store *);
/* The newest schema version this program knows. */
int	 store_schema_latest(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK: STORE_OK, STORE_TEMP or STORE_ERR. */
int	 store_begin(struct store *);
int	 store_commit(struct store *);
void	 store_rollback(struct store *);
/* Map a SQLite result code to STORE_TEMP (busy, locked, full, I/O,
 * read-only) or STORE_ERR. */
int	 store_classify(int sqlite_rc);
/*
 * A statement prepared once per connection and owned by the store (store_close
 * finalizes it; never finalize it yourself).  Bind, step, then call
 * store_stmt_done() (reset and clear bindings) before anything else may use
 * the same SQL.  NULL on error with *rc the SQLite code.
 */
sqlite3_stmt *store_stmt(struct store *, const char *sql, int *rc);
void	 store_stmt_done(sqlite3_stmt *);
/*
 * Is the database path no longer the file this connection opened (a backup
 * restored with `mv` over it, the file deleted)?  1: the connection writes
 * into a file nobody will see again; nothing it stored may be acted on
 * (source.h: the engine marks nothing and the daemon reopens).  Compares the
 * device and inode the path names now with those it named at the open; 0
 * when unchanged or unknown.
 */
int	 store_identity_changed(struct store *);
/*
 * After store_close() of a store whose file was replaced: SQLite leaves the
 * old file's -wal and -shm (it does not checkpoint a moved database), and
 * they carry that file's pages, which would be read as the new file's.
 * Rename them to PATH-wal.replaced-<time> (kept, never deleted) before the
 * new file is opened.  0 (*msg: what was done, or NULL), or -1 with *msg.
 */
int	 store_set_aside_wal(const char *path, char **msg);
/* The path the store was opened with, for messages. */
const char *store_path(struct store *);
/* The last error message of the connection, for logs. */
const char *store_errmsg(struct store *);

/*
 * The driver-neutral interface.
 */
struct stmt;

/* One statement, both engines' text side by side: pg NULL when the same
 * text serves both.  Parameters are ?1..?N (or ?); the PostgreSQL driver
 * rewrites them to $1..$N when it prepares (outside quotes).  The store
 * keeps one prepared statement per distinct text per connection, so a
 * query may be built (a report's filters, on the stack) as long as its
 * variants are few; its values are always bound, never written in. */
struct query {
	const char	*sql;
	const char	*pg;
};

struct store_ops {
	const char	*name;			/* "sqlite", "postgresql" */
	int	 (*open)(const struct config *, int flags, struct store **,
		    char **err);
	void	 (*close)(struct store *);
	int	 (*begin)(struct store *);	/* SQLite: BEGIN IMMEDIATE; PG: BEGIN */
	int	 (*commit)(struct store *);
	void	 (*rollback)(struct store *);
	/* prepared once per connection; NULL and *rc (enum store_rc) */
	struct stmt *(*prepare)(struct store *, const struct query *, int *rc);
	int	 (*bind_int64)(struct stmt *, int, long long);
	int	 (*bind_text)(struct stmt *, int, const char *, size_t);
	int	 (*bind_blob)(struct stmt *, int, const void *, size_t);
	int	 (*bind_null)(struct stmt *, int);
	int	 (*step)(struct stmt *);	/* STORE_ROW, STORE_DONE, or < 0 */
	int	 (*col_null)(struct stmt *, int);
	long long (*col_int64)(struct stmt *, int);
	const char *(*col_text)(struct stmt *, int, size_t *len);
	const void *(*col_blob)(struct stmt *, int, size_t *len);
	void	 (*done)(struct stmt *);
	/* rows the statement's last run inserted, updated or deleted */
	long long (*changes)(struct stmt *);
	const char *(*actor)(struct store *);	/* PG: session_user; SQLite NULL */
	const char *(*errmsg)(struct store *);
	int	 (*schema_version)(struct store *);
	/* one fixed statement without parameters (SAVEPOINT ...) */
	int	 (*exec)(struct store *, const char *sql);
};

/* store_open_config() flags. */
enum { STORE_OPEN_READONLY = 1 << 0 };

/* Is `database` a PostgreSQL one: a postgresql:// or postgres:// URI, or
 * a libpq keyword=value string starting with host=, hostaddr=, port=,
 * dbname=, user= or service=?  Anything else is a SQLite file's path. */
int	 store_is_postgresql(const char *database);
/* `database` as logs and messages may show it: a SQLite path as is; a
 * PostgreSQL one as "postgresql: user=U dbname=D host=H port=P" (the
 * keywords libpq parsed, in its order, never password= nor a URI's
 * user:password@;
 * "postgresql: (unparseable)" when libpq cannot read it).  Caller frees. */
char	*store_display_name(const char *database);
/* Does a PostgreSQL `database` carry a password (password=, or the
 * user:password@ of a URI)?  What shows or logs it must not print it. */
int	 store_has_password(const char *database);
/*
 * Open cfg->database with its driver: SQLite as store_open() (flags
 * STORE_OPEN_READONLY: store_open_readonly()); PostgreSQL with
 * cfg->database_password_file (0600) or libpq's own .pgpass/service file,
 * applying the sql/pg/ migrations (not when read-only).  The results of
 * store_open().
 */
int	 store_open_config(const struct config *, int flags, struct store **,
	    char **err);
/* The driver of an open store (its name: "sqlite" or "postgresql"). */
const struct store_ops *store_driver(const struct store *);
/* Is an open store PostgreSQL's (the statements that only it needs:
 * leases, the outbox claim; the PRAGMAs only SQLite has)? */
int	 store_on_postgresql(const struct store *);

/* NULL with *rc (a store_rc) on error; never finalize it: the store owns it. */
struct stmt *store_prepare(struct store *, const struct query *, int *rc);
int	 store_bind_int64(struct stmt *, int i, long long v);
/* len (size_t)-1: up to the NUL.  A NULL text binds NULL. */
int	 store_bind_text(struct stmt *, int i, const char *, size_t len);
int	 store_bind_blob(struct stmt *, int i, const void *, size_t len);
int	 store_bind_null(struct stmt *, int i);
int	 store_step(struct stmt *);
int	 store_col_null(struct stmt *, int i);
long long store_col_int64(struct stmt *, int i);
/* NULL for SQL NULL; valid until the next step or done.  len may be NULL. */
const char *store_col_text(struct stmt *, int i, size_t *len);
const void *store_col_blob(struct stmt *, int i, size_t *len);
/* After the last step: reset, clear the bindings (and the result).  A
 * write done with after its first row (INSERT ... RETURNING) is run to its
 * end first: what it changes stays changed, on both drivers. */
void	 store_done(struct stmt *);
/* The rows an INSERT, UPDATE or DELETE changed (SQLite's sqlite3_changes,
 * PostgreSQL's PQcmdTuples): after its last step, before store_done().
 * A new row's id: RETURNING id (both engines), not last_insert_rowid(). */
long long store_changes(struct stmt *);
/*
 * Run one statement with bound values described by fmt: 'i' long long,
 * 'z' long long that binds NULL when 0 (an absent instant), 'm' long long
 * that binds NULL when negative (an unknown boolean), 't' const char *
 * (NULL binds NULL), 'n' NULL.  The rows it changed (>= 0), or a store_rc.
 */
long long store_exec(struct store *, const struct query *, const char *fmt,
	    ...);
/* store_exec()'s result as STORE_OK or the error. */
static inline int
store_rc_of(long long changed)
{
	return changed >= 0 ? STORE_OK : (int)changed;
}
/*
 * Savepoints inside a transaction (the engine's one per message): name is
 * a plain identifier ([a-z_][a-z0-9_]*, else STORE_ERR).  On PostgreSQL a
 * failed statement spoils the whole transaction until the rollback to a
 * savepoint before it; rollback_to keeps the savepoint (release it).
 */
int	 store_savepoint(struct store *, const char *name);
int	 store_savepoint_release(struct store *, const char *name);
int	 store_savepoint_rollback(struct store *, const char *name);
/* The database role the connection acts as (PostgreSQL's session_user),
 * or NULL (SQLite: the file has no roles). */
const char *store_actor(struct store *);

/* Append an audit event (JSON detail) to a ticket; inside a transaction.
 * Both drivers.  actor NULL: store_actor() (else "?"). */
int	 store_event(struct store *, long long ticket, long long at,
	    const char *actor, const char *kind, const char *detail_json);

#endif
