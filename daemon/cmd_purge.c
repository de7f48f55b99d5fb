/* SPDX-License-Identifier: MIT */
/*
 * cmd_purge.c: `intake purge`: retention.  Deletes closed tickets (their
 * messages, events and reminders go with them through ON DELETE CASCADE;
 * their outbox rows and acknowledgement records are deleted first) with
 * SQLite's secure_delete on, so the freed pages are zeroed rather than left
 * readable in the file (PostgreSQL has no such thing: doc/interfaces.md,
 * "intake purge"), and logs the counts (never content) in purge_log.
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
/* the same for a pg text, which the driver takes as written */
#define DOOMED_PG	"SELECT id FROM tickets WHERE status = 'closed' AND " \
		"closed_at IS NOT NULL AND closed_at < $1"

struct purge_counts {
	long long	tickets, messages, events;
};

/* The statements, on the store's API (both drivers). */
#define PG_SHA256(x)	"encode(sha256(convert_to(" x ", 'UTF8')), 'hex')"
#define PG_NOW		"extract(epoch FROM now())::bigint"

static const struct query q_count_tickets = {
	"SELECT count(*) FROM (" DOOMED ")",
	"SELECT count(*) FROM (" DOOMED_PG ") AS doomed"
};
static const struct query q_count_messages = {
	"SELECT count(*) FROM messages WHERE ticket_id IN (" DOOMED ")", NULL
};
static const struct query q_count_events = {
	"SELECT count(*) FROM events WHERE ticket_id IN (" DOOMED ")", NULL
};
static const struct query q_del_outbox = {
	"DELETE FROM outbox WHERE ticket_id IN (" DOOMED ")", NULL
};
static const struct query q_purged_messages = {
	"INSERT OR IGNORE INTO purged (sha256, norm_sha256, msgid_sha256, "
	"purged_at) SELECT sha256, norm_sha256, intake_sha256(message_id), "
	"strftime('%s','now') FROM messages WHERE length(raw) > 0 AND "
	"ticket_id IN (" DOOMED ")",
	"INSERT INTO purged (sha256, norm_sha256, msgid_sha256, purged_at) "
	"SELECT sha256, norm_sha256, " PG_SHA256("message_id") ", " PG_NOW
	" FROM messages WHERE length(raw) > 0 AND ticket_id IN ("
	DOOMED_PG ") ON CONFLICT DO NOTHING"
};
static const struct query q_purged_copies = {
	"INSERT OR IGNORE INTO purged (sha256, norm_sha256, msgid_sha256, "
	"purged_at) SELECT c.sha256, m.norm_sha256, "
	"intake_sha256(m.message_id), strftime('%s','now') FROM "
	"message_copies c JOIN messages m ON m.id = c.message WHERE "
	"m.ticket_id IN (" DOOMED ")",
	"INSERT INTO purged (sha256, norm_sha256, msgid_sha256, purged_at) "
	"SELECT c.sha256, m.norm_sha256, " PG_SHA256("m.message_id") ", "
	PG_NOW " FROM message_copies c JOIN messages m ON m.id = c.message "
	"WHERE m.ticket_id IN (" DOOMED_PG ") ON CONFLICT DO NOTHING"
};
static const struct query q_del_acks = {
	"DELETE FROM acks_sent WHERE ticket_id IN (" DOOMED ")", NULL
};
static const struct query q_del_tickets = {
	"DELETE FROM tickets WHERE id IN (" DOOMED ")", NULL
};
static const struct query q_log = {
	"INSERT INTO purge_log (at, actor, closed_before, tickets, messages, "
	"events) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", NULL
};
/* SQLite only (store_on_postgresql()): see purge() */
static const struct query q_optimize_messages = {
	"INSERT INTO search_messages (search_messages) VALUES ('optimize')",
	NULL
};
static const struct query q_optimize_notes = {
	"INSERT INTO search_notes (search_notes) VALUES ('optimize')", NULL
};
static const struct query q_secure_delete = {
	"PRAGMA secure_delete = ON", NULL
};
static const struct query q_checkpoint = {
	"PRAGMA wal_checkpoint(TRUNCATE)", NULL
};

/* Runs q with `before` bound to ?1 when before >= 0, to its end: STORE_OK
 * (*first: column 0 of its first row, when not NULL and there is one) or
 * the error. */
static int
run(struct store *st, const struct query *q, time_t before, long long *first)
{
	struct stmt *s;
	int rc, got = 0;

	if ((s = store_prepare(st, q, &rc)) == NULL)
		return rc;
	if (before < 0 || (rc = store_bind_int64(s, 1, (long long)before)) ==
	    STORE_OK)
		while ((rc = store_step(s)) == STORE_ROW)
			if (first && !got++)
				*first = store_col_int64(s, 0);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

static int
count_all(struct store *st, time_t before, struct purge_counts *c)
{
	int rc;

	rc = run(st, &q_count_tickets, before, &c->tickets);
	if (rc == STORE_OK)
		rc = run(st, &q_count_messages, before, &c->messages);
	if (rc == STORE_OK)
		rc = run(st, &q_count_events, before, &c->events);
	return rc;
}

static int
log_purge(struct store *st, const char *actor, time_t now, time_t before,
    const struct purge_counts *c)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_log, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)now)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, actor, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, (long long)before)) == STORE_OK &&
	    (rc = store_bind_int64(s, 4, c->tickets)) == STORE_OK &&
	    (rc = store_bind_int64(s, 5, c->messages)) == STORE_OK &&
	    (rc = store_bind_int64(s, 6, c->events)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
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
		rc = run(st, &q_del_outbox, before, NULL);
	/* What it removes stays known by hashes alone (no content; the
	 * Message-ID only as its SHA-256), so a rescan of the source does not
	 * bring it back (ingest.c find_purged).  Records without the message
	 * (empty raw) are left out: they match nothing. */
	if (rc == STORE_OK && c->tickets > 0)
		rc = run(st, &q_purged_messages, before, NULL);
	if (rc == STORE_OK && c->tickets > 0)
		rc = run(st, &q_purged_copies, before, NULL);
	if (rc == STORE_OK && c->tickets > 0)
		rc = run(st, &q_del_acks, before, NULL);
	if (rc == STORE_OK && c->tickets > 0)
		rc = run(st, &q_del_tickets, before, NULL);
	/* The triggers of 005_search.sql only mark the index's entries
	 * deleted; merging the segments drops them, so no purged word stays
	 * in the search tables' pages (secure_delete zeroes the old ones).
	 * PostgreSQL's tsvector columns go with their rows. */
	if (rc == STORE_OK && c->tickets > 0 && !store_on_postgresql(st))
		rc = run(st, &q_optimize_messages, -1, NULL);
	if (rc == STORE_OK && c->tickets > 0 && !store_on_postgresql(st))
		rc = run(st, &q_optimize_notes, -1, NULL);
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
	if (!store_on_postgresql(st))
		(void)run(st, &q_checkpoint, -1, NULL);
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
	/* PostgreSQL has no secure_delete: the deleted rows' old versions
	 * stay in its files until VACUUM reuses their space (doc/interfaces.md,
	 * "intake purge") */
	if (!dry_run && !store_on_postgresql(env->store) && run(env->store,
	    &q_secure_delete, -1, NULL) != STORE_OK) {
		fprintf(stderr, "intake purge: cannot turn on secure_delete: %s\n",
		    store_errmsg(env->store));
		return EX_SOFTWARE;
	}
	memset(&c, 0, sizeof(c));
	rc = purge(env->store, cli_actor(env->store, by, actor, sizeof(actor)), now, before,
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
