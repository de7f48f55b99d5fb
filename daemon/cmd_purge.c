/* SPDX-License-Identifier: MIT */
/*
 * cmd_purge.c: `intake purge`: retention.  Deletes closed tickets (their
 * messages, events and reminders go with them through ON DELETE CASCADE;
 * their outbox rows and acknowledgement records are deleted first) with
 * SQLite's secure_delete on, so the freed pages are zeroed rather than left
 * readable in the file, and logs the counts (never content) in purge_log.
 * Open tickets are never touched: every statement names status = 'closed'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fmt.h"
#include "util.h"

/* The doomed set, written once so every statement agrees on it. */
#define DOOMED	"SELECT id FROM tickets WHERE status = 'closed' AND " \
		"closed_at IS NOT NULL AND closed_at < ?1"

struct purge_counts {
	long long	tickets, messages, events;
};

/* Runs sql with `before` bound to its one parameter, one step: the
 * SQLite code of that step (SQLITE_ROW with *first set to column 0, or
 * SQLITE_DONE), or of the failed prepare.  first may be NULL. */
static int
step_before(struct store *st, const char *sql, time_t before,
    long long *first)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && first)
		*first = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc;
}

static int
count(struct store *st, const char *sql, time_t before, long long *out)
{
	int rc;

	*out = 0;
	rc = step_before(st, sql, before, out);
	return rc == SQLITE_ROW ? STORE_OK : store_classify(rc);
}

static int
exec_before(struct store *st, const char *sql, time_t before)
{
	int rc;

	rc = step_before(st, sql, before, NULL);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

static int
store_classify_ok(int rc)
{
	return rc == SQLITE_OK ? STORE_OK : store_classify(rc);
}

static int
count_all(struct store *st, time_t before, struct purge_counts *c)
{
	int rc;

	rc = count(st, "SELECT count(*) FROM (" DOOMED ")", before, &c->tickets);
	if (rc == STORE_OK)
		rc = count(st, "SELECT count(*) FROM messages WHERE ticket_id IN ("
		    DOOMED ")", before, &c->messages);
	if (rc == STORE_OK)
		rc = count(st, "SELECT count(*) FROM events WHERE ticket_id IN ("
		    DOOMED ")", before, &c->events);
	return rc;
}

static int
log_purge(struct store *st, const char *actor, time_t now, time_t before,
    const struct purge_counts *c)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(store_db(st), "INSERT INTO purge_log (at, actor, "
	    "closed_before, tickets, messages, events) VALUES (?,?,?,?,?,?)", -1,
	    &s, NULL);
	if (rc != SQLITE_OK)
		return store_classify(rc);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_text(s, 2, actor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)before);
	sqlite3_bind_int64(s, 4, c->tickets);
	sqlite3_bind_int64(s, 5, c->messages);
	sqlite3_bind_int64(s, 6, c->events);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : store_classify(rc);
}

/* One transaction: count, delete, log.  STORE_OK or an error. */
static int
purge(struct store *st, const char *actor, time_t now, time_t before,
    int dry_run, struct purge_counts *c)
{
	int rc;

	if (dry_run)
		return count_all(st, before, c);
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	rc = count_all(st, before, c);
	/* Rows that would outlive their ticket and may hold an address or an
	 * excerpt: alerts (ticket_id would become NULL) and ack records. */
	if (rc == STORE_OK && c->tickets > 0)
		rc = exec_before(st, "DELETE FROM outbox WHERE ticket_id IN ("
		    DOOMED ")", before);
	/* What it removes stays known by hashes alone (no content; the
	 * Message-ID only as its SHA-256), so a rescan of the source does not
	 * bring it back (ingest.c find_purged).  Records without the message
	 * (empty raw) are left out: they match nothing. */
	if (rc == STORE_OK && c->tickets > 0)
		rc = exec_before(st, "INSERT OR IGNORE INTO purged (sha256, "
		    "norm_sha256, msgid_sha256, purged_at) SELECT sha256, "
		    "norm_sha256, intake_sha256(message_id), strftime('%s','now') "
		    "FROM messages WHERE length(raw) > 0 AND ticket_id IN ("
		    DOOMED ")", before);
	if (rc == STORE_OK && c->tickets > 0)
		rc = exec_before(st, "INSERT OR IGNORE INTO purged (sha256, "
		    "norm_sha256, msgid_sha256, purged_at) SELECT c.sha256, "
		    "m.norm_sha256, intake_sha256(m.message_id), "
		    "strftime('%s','now') FROM message_copies c JOIN messages m "
		    "ON m.id = c.message WHERE m.ticket_id IN (" DOOMED ")", before);
	if (rc == STORE_OK && c->tickets > 0)
		rc = exec_before(st, "DELETE FROM acks_sent WHERE ticket_id IN ("
		    DOOMED ")", before);
	if (rc == STORE_OK && c->tickets > 0)
		rc = exec_before(st, "DELETE FROM tickets WHERE id IN (" DOOMED ")",
		    before);
	/* The triggers of 005_search.sql only mark the index's entries
	 * deleted; merging the segments drops them, so no purged word stays
	 * in the search tables' pages (secure_delete zeroes the old ones). */
	if (rc == STORE_OK && c->tickets > 0)
		rc = store_classify_ok(sqlite3_exec(store_db(st),
		    "INSERT INTO search_messages (search_messages) "
		    "VALUES ('optimize'); INSERT INTO search_notes (search_notes) "
		    "VALUES ('optimize')", NULL, NULL, NULL));
	if (rc == STORE_OK)
		rc = log_purge(st, actor, now, before, c);
	if (rc != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	if ((rc = store_commit(st)) != STORE_OK)
		return rc;
	/* Move the zeroed pages from the WAL into the file and empty the
	 * WAL, so no copy of the old pages stays behind in it.  Best effort:
	 * a reader holding a snapshot only delays it. */
	sqlite3_exec(store_db(st), "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
	    NULL, NULL);
	return STORE_OK;
}

int
cmd_purge(struct cmd_ctx *ctx)
{
	const char *before_arg = cmd_opt(ctx, 'b'), *by = cmd_opt(ctx, 'B');
	struct purge_counts c;
	char actor[512];
	struct cli_env *env = &ctx->env;
	time_t now = time(NULL), before;
	char iso[40];
	int rc, dry_run = cmd_opt(ctx, 'n') != NULL;

	if (ctx->argc != 0)
		return cmd_usage_error(ctx);
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	if (before_arg) {
		if (fmt_parse_date(before_arg, &before) == -1) {
			fprintf(stderr, "intake purge: --closed-before: '%s' is not "
			    "a date (YYYY-MM-DD) or ISO 8601 instant\n", before_arg);
			return EX_USAGE;
		}
	} else if (env->cfg.retention_closed_days == 0) {
		printf("retention.closed_days is 0 (keep forever) and no "
		    "--closed-before: nothing purged\n");
		return 0;
	} else
		before = now - (time_t)env->cfg.retention_closed_days * 86400;
	if (!dry_run && sqlite3_exec(store_db(env->store),
	    "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "intake purge: cannot turn on secure_delete: %s\n",
		    store_errmsg(env->store));
		return EX_SOFTWARE;
	}
	memset(&c, 0, sizeof(c));
	rc = purge(env->store, cli_actor(by, actor, sizeof(actor)), now, before,
	    dry_run, &c);
	if (rc != STORE_OK) {
		fprintf(stderr, "intake purge: %s; nothing purged\n",
		    rc == STORE_TEMP ? "database busy" : store_errmsg(env->store));
		return cli_store_exit(rc);
	}
	iso8601_local(before, iso, sizeof(iso));
	printf("%s %lld closed ticket%s (%lld messages, %lld events) closed "
	    "before %s\n", dry_run ? "would purge" : "purged", c.tickets,
	    c.tickets == 1 ? "" : "s", c.messages, c.events, iso);
	return 0;
}
