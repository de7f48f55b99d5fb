/* SPDX-License-Identifier: MIT */
/*
 * ingest.h: one message's way: raw bytes -> parse -> triage -> threading ->
 * SLA -> store (ticket, message, events, urgent alert in the outbox).
 * Exactly once: a message already stored (same source key; or same
 * Message-ID and normalised sha256, dedup.h, its other raw copy recorded;
 * without Message-ID, the same sha256) returns the ticket it belongs to,
 * flagged duplicate.  One `intake purge` removed is flagged duplicate and
 * purged, with no ticket, and not stored again.
 *
 * ingest_message() runs inside the caller's transaction (store_begin), so a
 * source commits a batch together with its cursor; it never commits.
 */
#ifndef INTAKE_INGEST_H
#define INTAKE_INGEST_H

#include <stddef.h>
#include <time.h>

#include "calendar.h"
#include "calltype.h"
#include "config.h"
#include "message.h"
#include "store.h"
#include "triage.h"

struct rota;

/* How to turn raw bytes into a message: in process, or in the sandboxed
 * parser child (parsechild.h).  Must always fill *out. */
typedef int (*ingest_parse_fn)(void *arg, const char *raw, size_t len,
    const struct parse_limits *, struct message *out);

/*
 * Where a poll's time goes (issue 19): nanoseconds on CLOCK_MONOTONIC,
 * summed over the poll, with how many times each stage ran.  Cheap (two
 * clock reads a stage), so always kept when a caller gives somewhere to
 * keep them; shown at debug level and by intaked --once --stages.
 *   LIST    the driver's list_new (IMAP: UID FETCH of UIDs and sizes)
 *   FETCH   the driver's fetch (IMAP: UID FETCH of bodies, TLS, libetpan)
 *   HASH    sha256 and the normalised digest of dedup
 *   PARSE   the parse: in process, or the round trip to the parser child
 *   TRIAGE  triage_classify and the SLA deadlines
 *   STORE   the rest of ingest: lookups, inserts, events, outbox (SQLite)
 *   COMMIT  store_commit: the fsync of the batch (synchronous = FULL)
 *   MARK    the driver's mark (IMAP: STORE \Seen or MOVE)
 *   ALERT   urgent alerts delivered between batches (crisis first)
 */
enum ingest_stage {
	STAGE_LIST, STAGE_FETCH, STAGE_HASH, STAGE_PARSE, STAGE_TRIAGE,
	STAGE_STORE, STAGE_COMMIT, STAGE_MARK, STAGE_ALERT, STAGE_NSTAGES
};
struct ingest_times {
	long long	 ns[STAGE_NSTAGES];
	long		 n[STAGE_NSTAGES];
};
/* The stage names above, lower case, for logs and --stages. */
const char	*ingest_stage_name(enum ingest_stage);
/* CLOCK_MONOTONIC in ns: a stage's start, for ingest_times_add(). */
long long	 ingest_times_now(void);
/* Add the time since start (ingest_times_now()) to stage; t may be NULL. */
void		 ingest_times_add(struct ingest_times *t, enum ingest_stage,
		    long long start);

struct ingest_ctx {
	const struct config	*cfg;
	const struct calendar	*cal;
	const struct lexicon	*lex;
	struct store		*store;
	struct parse_limits	 limits;
	ingest_parse_fn		 parse;		/* NULL: message_parse */
	void			*parse_arg;
	const char		*actor;		/* for events: "intaked", "intake" */
	struct ingest_times	*times;		/* NULL: not timed */
	/* who the first alert of an urgent ticket pages besides alerts.to
	 * (outbox_queue_alert); NULL: no rota, alerts.to only */
	const struct rota	*rota;
};

/*
 * A received time (Maildir mtime, HTTP received_at, IMAP INTERNALDATE)
 * more than this many seconds after the clock when the message is stored
 * is not believed: the message is stored as received at that moment, and
 * the stated time is kept in messages.received_claimed (shown by intake
 * show).  Five minutes leaves room for a mail server's clock a little
 * ahead of ours.
 */
#define RECEIVED_FUTURE_MAX	300

struct raw_input {
	const char	*data;		/* verbatim bytes, kept as the record */
	size_t		 len;
	const char	*source;	/* source name */
	const char	*source_key;	/* NULL when none (stdin) */
	time_t		 received_at;	/* reached the hotline's mailbox */
	int		 oversize;	/* too large: data is headers only */
	size_t		 real_size;	/* with oversize: the size on the server */
	/* ingest_raw() only.  Set by a source that could not fetch the
	 * message itself (a server that drops the connection on it every
	 * time): data is what could be had (its header, or nothing, len 0).
	 * Stored as a parse error with this text as parse_error (no message
	 * text in it), so the ticket is flagged needs_human, and never
	 * matched as a duplicate by content (two empty records are not the
	 * same message): only by source_key.  NULL normally. */
	const char	*fetch_error;
	/* Push channels: the carrier keyword the text is (STOP, HELP...;
	 * webhook.h), flagged on the message and its ticket; NULL: none. */
	const char	*keyword;
	/* Push channels: the SMS segments the provider joined into this
	 * message (kept in messages.segments when more than one). */
	int		 segments;
};

struct ingest_result {
	long long	 ticket;
	long long	 message;
	int		 duplicate;
	int		 purged;	/* with duplicate: purged before, not stored */
	int		 appended;	/* added to an existing ticket */
	int		 alerted;	/* an urgent alert was queued */
	enum call_type	 type;
	enum urgency	 urgency;
	enum parse_status parse_status;
	time_t		 response_due;
	time_t		 breach_at;
};

void	 ingest_ctx_init(struct ingest_ctx *, const struct config *,
	    const struct calendar *, const struct lexicon *, struct store *);
/* STORE_OK, STORE_TEMP (retry later, nothing written) or STORE_ERR. */
int	 ingest_raw(struct ingest_ctx *, const struct raw_input *,
	    struct ingest_result *);
/* For sources whose messages are not RFC 5322 (HTTP: SMS, web forms): the
 * message is already built; raw is kept as the record.  msg stays the
 * caller's. */
int	 ingest_prepared(struct ingest_ctx *, const struct raw_input *,
	    const struct message *msg, struct ingest_result *);

#endif
