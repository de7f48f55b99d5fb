/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "util.h"

int
srcstate_get(struct store *st, const char *source, struct source_cursor *c)
{
	sqlite3_stmt *s;
	int rc;

	memset(c, 0, sizeof(*c));
	s = store_stmt(st, "SELECT uidvalidity, last_uid, "
	    "cursor FROM source_state WHERE source = ?", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->uidvalidity = sqlite3_column_int64(s, 0);
		c->last_uid = sqlite3_column_int64(s, 1);
		if (sqlite3_column_text(s, 2))
			c->cursor = xstrdup((const char *)sqlite3_column_text(s, 2));
	}
	store_stmt_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK :
	    store_classify(rc);
}

int
srcstate_set(struct store *st, const char *source, const struct source_cursor *c)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "INSERT INTO source_state "
	    "(source, uidvalidity, last_uid, cursor) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT(source) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
	    "last_uid = excluded.last_uid, cursor = excluded.cursor", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, c->uidvalidity);
	sqlite3_bind_int64(s, 3, c->last_uid);
	if (c->cursor)
		sqlite3_bind_text(s, 4, c->cursor, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 4);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

/* The engine's failure record (source.c; sql/015_source_failures.sql):
 * *text NULL when there is none. */
int
srcstate_get_failures(struct store *st, const char *source, char **text)
{
	sqlite3_stmt *s;
	int rc;

	*text = NULL;
	s = store_stmt(st, "SELECT failures FROM source_state WHERE source = ?",
	    &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
		*text = xstrdup((const char *)sqlite3_column_text(s, 0));
	store_stmt_done(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK :
	    store_classify(rc);
}

int
srcstate_set_failures(struct store *st, const char *source, const char *text)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "INSERT INTO source_state (source, failures) "
	    "VALUES (?1, ?2) ON CONFLICT(source) DO UPDATE SET failures = ?2",
	    &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
	if (text && *text)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 2);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

int
srcstate_record_poll(struct store *st, const char *source, int ok,
    const char *error, int waiting, time_t now)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, ok ?
	    "INSERT INTO source_state (source, last_poll_at, last_success_at, "
	    "consecutive_failures, messages_waiting, last_error, last_error_at) "
	    "VALUES (?1, ?2, ?2, 0, ?4, ?3, CASE WHEN ?3 IS NULL THEN NULL "
	    "ELSE ?2 END) "
	    "ON CONFLICT(source) DO UPDATE SET last_poll_at = ?2, "
	    "last_success_at = ?2, consecutive_failures = 0, "
	    "messages_waiting = ?4, stale_alerted_at = NULL, "
	    "last_error = coalesce(?3, last_error), "
	    "last_error_at = CASE WHEN ?3 IS NULL THEN last_error_at ELSE ?2 END" :
	    "INSERT INTO source_state (source, last_poll_at, last_error, "
	    "last_error_at, consecutive_failures) VALUES (?1, ?2, ?3, ?2, 1) "
	    "ON CONFLICT(source) DO UPDATE SET last_poll_at = ?2, "
	    "last_error = ?3, last_error_at = ?2, "
	    "consecutive_failures = consecutive_failures + 1", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	if (error)
		sqlite3_bind_text(s, 3, error, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 3);
	if (waiting >= 0)
		sqlite3_bind_int(s, 4, waiting);
	else
		sqlite3_bind_null(s, 4);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

void
source_cursor_free(struct source_cursor *c)
{
	free(c->cursor);
	c->cursor = NULL;
}
