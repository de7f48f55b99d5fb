/* SPDX-License-Identifier: MIT */
/*
 * health.c: the once-only records of the health alerts (health.h).  One
 * text per statement serves both engines, except the refusal check, which
 * PostgreSQL locks: SQLite's BEGIN IMMEDIATE already has one writer.
 */
#include "health.h"

static const struct query q_stale = {
	"UPDATE source_state SET stale_alerted_at = ?1 WHERE source = ?2 "
	"AND stale_alerted_at IS NULL", NULL
};

/* source_state.refused: qualified, as PostgreSQL's DO UPDATE needs */
static const struct query q_refused = {
	"INSERT INTO source_state (source, refused, refused_at) "
	"VALUES (?1, 1, ?2) ON CONFLICT(source) DO UPDATE SET "
	"refused = source_state.refused + 1, refused_at = ?2", NULL
};

static const struct query q_refusal_alerted = {
	"SELECT refused_alerted_at FROM source_state WHERE source = ?1",
	"SELECT refused_alerted_at FROM source_state WHERE source = $1 "
	"FOR UPDATE"
};

static const struct query q_refusal_alert = {
	"UPDATE source_state SET refused_alerted_at = ?2 WHERE source = ?1",
	NULL
};

static const struct query q_gap = {
	"INSERT INTO oncall_gaps (gap_start, gap_end, day, alerted_at) "
	"VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", NULL
};

int
health_mark_stale(struct store *st, const char *source, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_stale, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)now)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_step(s)) == STORE_DONE)
		rc = store_changes(s) > 0;
	store_done(s);
	return rc;
}

int
health_count_refusal(struct store *st, const char *source, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_refused, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)now)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

int
health_refusal_alert_due(struct store *st, const char *source, int window,
    time_t now)
{
	struct stmt *s;
	time_t last;
	int rc, due = 1;

	if ((s = store_prepare(st, &q_refusal_alerted, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW && !store_col_null(s, 0)) {
		last = (time_t)store_col_int64(s, 0);
		/* a time ahead of now (a clock stepped back) does not hold
		 * the alert off */
		if (now - last < (time_t)window && now >= last)
			due = 0;
	}
	store_done(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return rc;
	if (!due)
		return 0;
	if ((s = store_prepare(st, &q_refusal_alert, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)now)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? 1 : rc;
}

int
health_gap_once(struct store *st, time_t start, time_t end, const char *day,
    time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_gap, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)start)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)end)) == STORE_OK &&
	    (rc = store_bind_text(s, 3, day, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 4, (long long)now)) == STORE_OK &&
	    (rc = store_step(s)) == STORE_DONE)
		rc = store_changes(s) > 0;
	store_done(s);
	return rc;
}
