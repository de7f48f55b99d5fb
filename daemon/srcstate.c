/* SPDX-License-Identifier: MIT */
/*
 * srcstate.c: the source_state rows (source.h): a source's cursor, and the
 * outcome of its polls.  On the store's statement API: one text serves
 * SQLite and PostgreSQL (ON CONFLICT ... DO UPDATE, excluded.*, numbered
 * parameters); PostgreSQL infers each parameter's type from the column it
 * is stored in.
 */
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "util.h"

static const struct query q_get = {
	"SELECT uidvalidity, last_uid, cursor FROM source_state "
	"WHERE source = ?1", NULL
};

static const struct query q_set = {
	"INSERT INTO source_state (source, uidvalidity, last_uid, cursor) "
	"VALUES (?1, ?2, ?3, ?4) "
	"ON CONFLICT(source) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
	"last_uid = excluded.last_uid, cursor = excluded.cursor", NULL
};

static const struct query q_poll_ok = {
	"INSERT INTO source_state (source, last_poll_at, last_success_at, "
	"consecutive_failures, messages_waiting, last_error, last_error_at) "
	"VALUES (?1, ?2, ?2, 0, ?4, ?3, CASE WHEN ?3 IS NULL THEN NULL "
	"ELSE ?2 END) "
	"ON CONFLICT(source) DO UPDATE SET last_poll_at = ?2, "
	"last_success_at = ?2, consecutive_failures = 0, "
	"messages_waiting = ?4, stale_alerted_at = NULL, "
	"last_error = coalesce(?3, source_state.last_error), "
	"last_error_at = CASE WHEN ?3 IS NULL THEN source_state.last_error_at "
	"ELSE ?2 END",
	/* PostgreSQL infers no type from "?3 IS NULL" or a CASE: cast */
	"INSERT INTO source_state (source, last_poll_at, last_success_at, "
	"consecutive_failures, messages_waiting, last_error, last_error_at) "
	"VALUES ($1, $2::bigint, $2::bigint, 0, $4::bigint, $3::text, "
	"CASE WHEN $3::text IS NULL THEN NULL ELSE $2::bigint END) "
	"ON CONFLICT(source) DO UPDATE SET last_poll_at = $2::bigint, "
	"last_success_at = $2::bigint, consecutive_failures = 0, "
	"messages_waiting = $4::bigint, stale_alerted_at = NULL, "
	"last_error = coalesce($3::text, source_state.last_error), "
	"last_error_at = CASE WHEN $3::text IS NULL THEN "
	"source_state.last_error_at ELSE $2::bigint END"
};

static const struct query q_poll_fail = {
	"INSERT INTO source_state (source, last_poll_at, last_error, "
	"last_error_at, consecutive_failures) VALUES (?1, ?2, ?3, ?2, 1) "
	"ON CONFLICT(source) DO UPDATE SET last_poll_at = ?2, "
	"last_error = ?3, last_error_at = ?2, "
	"consecutive_failures = source_state.consecutive_failures + 1", NULL
};

static const struct query q_get_failures = {
	"SELECT failures FROM source_state WHERE source = ?1", NULL
};

static const struct query q_set_failures = {
	"INSERT INTO source_state (source, failures) VALUES (?1, ?2) "
	"ON CONFLICT(source) DO UPDATE SET failures = excluded.failures", NULL
};

int
srcstate_get(struct store *st, const char *source, struct source_cursor *c)
{
	struct stmt *s;
	const char *cur;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((s = store_prepare(st, &q_get, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		c->uidvalidity = store_col_int64(s, 0);
		c->last_uid = store_col_int64(s, 1);
		if ((cur = store_col_text(s, 2, NULL)) != NULL)
			c->cursor = xstrdup(cur);
	}
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

int
srcstate_set(struct store *st, const char *source, const struct source_cursor *c)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_set, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, c->uidvalidity)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, c->last_uid)) == STORE_OK &&
	    (rc = store_bind_text(s, 4, c->cursor, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

/* The engine's failure record (source.c; sql/015_source_failures.sql):
 * *text NULL when there is none. */
int
srcstate_get_failures(struct store *st, const char *source, char **text)
{
	struct stmt *s;
	const char *t;
	int rc;

	*text = NULL;
	if ((s = store_prepare(st, &q_get_failures, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW && (t = store_col_text(s, 0, NULL)) != NULL)
		*text = xstrdup(t);
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

int
srcstate_set_failures(struct store *st, const char *source, const char *text)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_set_failures, &rc)) == NULL)
		return rc;
	/* an empty record is none: NULL */
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, text && *text ? text : NULL,
	    (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

int
srcstate_record_poll(struct store *st, const char *source, int ok,
    const char *error, int waiting, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, ok ? &q_poll_ok : &q_poll_fail, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)now)) == STORE_OK &&
	    (rc = store_bind_text(s, 3, error, (size_t)-1)) == STORE_OK &&
	    ok)
		rc = waiting >= 0 ? store_bind_int64(s, 4, waiting) :
		    store_bind_null(s, 4);
	if (rc == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

void
source_cursor_free(struct source_cursor *c)
{
	free(c->cursor);
	c->cursor = NULL;
}
