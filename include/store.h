/* SPDX-License-Identifier: MIT */
/*
 * store.h: the SQLite database: open (WAL, busy_timeout, foreign keys,
 * synchronous=FULL, mode 0600 or 0660 with a group), migrate (numbered, in
 * one transaction, tracked by PRAGMA user_version), transactions.  Modules
 * that own a part of the schema (ingest, reports, workflow, outbox) prepare
 * their own statements on store_db(); every statement uses bound parameters.
 */
#ifndef INTAKE_STORE_H
#define INTAKE_STORE_H

#include <sqlite3.h>

struct store;

enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,		/* a bug or corruption: do not retry blindly */
	STORE_TEMP = -2,	/* locked, busy, full, unwritable: retry later */
	STORE_NEWER = -3,	/* the database is newer than this program */
	STORE_PERM = -4,	/* this user may not read or write a file */
	STORE_OLDER = -5,	/* read-only open: not migrated yet (or absent) */
};

/*
 * Open (creating with mode 0600, or 0660 and group `group` when not NULL)
 * and migrate to the newest schema.  On failure *err is set (caller frees).
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

/* Append an audit event (JSON detail) to a ticket; inside a transaction. */
int	 store_event(struct store *, long long ticket, long long at,
	    const char *actor, const char *kind, const char *detail_json);

#endif
