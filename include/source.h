/* SPDX-License-Identifier: MIT */
/*
 * source.h: where messages come from.  isync's driver/sync split: a source
 * DRIVER (source_imap.c, source_maildir.c, source_http.c, cmd_ingest.c's
 * stdin driver, listen.c's push driver, source_mem.c for the tests) only
 * lists, fetches and marks messages; the
 * ENGINE (source.c) owns everything the exactly-once promise rests on, once
 * for every source:
 *
 *   load cursor -> list_new -> [skip/mark what is already stored] ->
 *   batch: begin -> fetch + ingest each (one savepoint each) -> save
 *   cursor -> commit -> mark the stored ones
 *
 * A crash between commit and marking re-reads those messages next time and
 * finds them stored.  A message that cannot be read or stored is a
 * per-message error: rolled back alone, the rest of the batch goes on, and
 * after SOURCE_POISON_TRIES failures in a row it becomes a ticket for a
 * human ("could not be read"), so it never blocks the messages behind it.
 * The cursor never moves past a message that is neither stored nor
 * recorded.  Between messages the engine calls run->progress (the
 * watchdog), and it commits early when the next message could take the
 * batch past run->budget_ms.
 *
 * What a driver may add, each implemented once here: prefetch (a batch in
 * one round trip; a failed one makes its messages suspects, fetched alone
 * until passed), FETCH_FAILED_TEMP (counted against the message, and the
 * poll ends after committing what came before), record() (what a ticket
 * for a human keeps), MARK_BROKEN / SRCDRV_MARK_ALERT (a mark that fails),
 * SRCDRV_MARKED (a marked watermark), SRCDRV_FAILURES_SAVED (the counts in
 * the database, for `intaked --once` under cron) and poll_end() (IMAP's
 * IDLE, entered once everything is marked).
 *
 * The daemon's loop sees every source through struct source_ops, which
 * for a driver is the engine's (source_set_driver).
 */
#ifndef INTAKE_SOURCE_H
#define INTAKE_SOURCE_H

#include <signal.h>
#include <time.h>

#include "config.h"
#include "ingest.h"
#include "store.h"

enum source_rc {
	SRC_OK = 0,
	SRC_TEMP = -1,		/* network or server trouble: back off, retry */
	SRC_AUTH = -2,		/* credentials refused: alert, retry slowly */
	SRC_STORE = -3,		/* database busy/full: nothing marked, retry */
	SRC_FATAL = -4,		/* misconfigured: retry only after reload */
	SRC_REPLACED = -5,	/* the database file was replaced under the
				   open connection (store_identity_changed):
				   nothing marked; reopen the database */
};

struct source_stats {
	int	fetched;	/* messages read from the source */
	int	stored;		/* new messages stored */
	int	duplicates;	/* already stored (crash recovery, rescans) */
	int	parse_errors;
	int	waiting;	/* still on the server, not yet fetched; -1 unknown */
	int	failed;		/* per-message errors (not stored, retried) */
	int	poisoned;	/* recorded for a human after repeated failures */
	int	not_messages;	/* entries that are not messages (left alone) */
	int	batches;	/* transactions committed */
};

/* What a poll may use; owned by the daemon. */
struct source_run {
	struct ingest_ctx		*ictx;
	const volatile sig_atomic_t	*stop;	/* set by SIGTERM: finish the
						   current batch, fetch no more */
	int				 batch;	/* messages per transaction */
	int				 once;	/* intaked --once: no wait follows
						   this poll (IMAP: no IDLE) */
	/* Called between messages and between batches so a long fetch
	 * keeps the service's watchdog fed; may be NULL. */
	void				(*progress)(void *);
	void				*progress_arg;
	/* The longest a batch may take, in ms (0: no limit): before each
	 * message after the first, a batch that could pass it with one more
	 * parse (limits.timeout_ms) commits and a new one starts. */
	long				 budget_ms;
	/* The engine's clock, ms on CLOCK_MONOTONIC; NULL: source_clock_ms.
	 * (The unit tests pass a fake one.) */
	long long			(*clock_ms)(void *);
	void				*clock_arg;
	/* Told each stored (or duplicate) message; may be NULL. */
	void				(*stored)(void *, const struct ingest_result *);
	void				*stored_arg;
	/* After each batch: committed 1 (committed and marked), or 0 when it
	 * rolled back, so what stored was told of it never happened (crisis
	 * first: intaked alerts a batch's urgent tickets here); may be NULL.
	 * Timed as STAGE_ALERT when run->ictx->times is set. */
	void				(*batch_done)(void *, int committed);
	void				*batch_done_arg;
};

struct source;

struct source_ops {
	/* Fetch everything new, store it, mark it.  On error *err says why
	 * (caller frees; never message text). */
	int	(*poll)(struct source *, struct source_run *,
		    struct source_stats *, char **err);
	/* Between polls: a descriptor to wait on (IMAP IDLE) and the longest
	 * wait in seconds, or -1 when the source is only polled. */
	int	(*wait_fd)(struct source *, int *max_wait);
	/* Log out and free the private state. */
	void	(*close)(struct source *);
};

struct source_driver;
struct source_poison;

struct source {
	const struct source_config	*cfg;
	const struct source_ops		*ops;
	const struct source_driver	*drv;	/* NULL: ops->poll of its own */
	void				*priv;
	/* the engine's: messages that failed, and how often in a row */
	struct source_poison		*poison;
	size_t				 npoison;
	int				 poison_dirty;	/* changed since saved */
	int				 mark_failing;	/* SRCDRV_MARK_ALERT: a
							   refusal was alerted */
	/* scheduling: the daemon loop's, in source_clock() seconds */
	time_t				 next_poll;
	time_t				 last_ok;	/* last success, or start */
	int				 backoff;	/* seconds */
	int				 failures;
	int				 auth_alerted;
};

/* Fill src for cfg (ops and private state).  0, or -1 with *err. */
int	 source_init(struct source *, const struct source_config *, char **err);
void	 source_close(struct source *);

/* The drivers' set-up (source_maildir.c, source_imap.c, source_http.c). */
int	 source_maildir_init(struct source *, char **err);
int	 source_imap_init(struct source *, char **err);
int	 source_http_init(struct source *, char **err);

/* The scheduler's clock: seconds, and the engine's: milliseconds, both on
 * CLOCK_MONOTONIC, so a step of the wall clock delays no poll. */
time_t	 source_clock(void);
long long source_clock_ms(void);

/* source_state rows (srcstate.c).  A driver's cursor, encoded: what the
 * engine loads before list_new and saves with each batch. */
struct source_cursor {
	long long	 uidvalidity;	/* 0 when unknown */
	long long	 last_uid;	/* numeric cursors: never moves back */
	char		*cursor;	/* text cursors (http); NULL: none; owned */
	/* SRCDRV_MARKED: every message stored up to here is marked (or
	 * left unmarked on purpose); list_new lists from here on, so what a
	 * crash or a failed mark left unmarked is listed, found stored and
	 * marked.  The engine's, saved as the text "marked=N". */
	long long	 marked;
};

/* ---- drivers ------------------------------------------------------------ */

#define SOURCE_POISON_TRIES	3	/* failures in a row, then a record */

/* One message a driver listed. */
struct source_item {
	char			*key;	/* source key; NULL: none (stdin); owned */
	void			*drv;	/* the driver's; freed by item_free */
	/* The cursor once this message and every one before it are stored
	 * (has_after 0: this message does not move it). */
	struct source_cursor	 after;
	int			 has_after;
	int			 known;	/* the engine's: already stored */
};

struct source_listing {
	int			 round;	/* in: 0, 1, ... listings this poll */
	struct source_item	*v;
	size_t			 n, cap;
	/* The cursor once the whole listing is stored (has_end 0: none). */
	struct source_cursor	 end;
	int			 has_end;
	int			 more;	/* list again after this one (pages) */
};

/* What a driver's fetch made of one item. */
enum source_fetch_rc {
	FETCH_OK = 0,		/* msg filled */
	FETCH_GONE,		/* vanished meanwhile: nothing to store */
	FETCH_NOT_MESSAGE,	/* not a message (FIFO, symlink): never read,
				   left in place, noted in intake status */
	FETCH_FAILED,		/* this one could not be read: counted
				   against it, the rest goes on */
	FETCH_TEMP,		/* the source is in trouble: end the poll */
	FETCH_FAILED_TEMP,	/* both: the source failed on this one (a
				   connection dropped in its bytes): counted
				   against it as FETCH_FAILED, what the batch
				   stored before it is committed and marked,
				   then the poll ends (SRC_TEMP, *err) */
};

struct source_msg {
	struct raw_input	 raw;	/* source and source_key: the engine's */
	struct message		 msg;	/* with prepared: borrowed strings */
	int			 prepared;	/* ingest_prepared(), not _raw() */
	char			*buf;	/* freed by the engine after ingest */
	/* record() only, each owned, NULL: the engine's.  reason: the
	 * text a human reads (raw.fetch_error); label: how the log names
	 * the message ("uid 2"); kept: what of it was kept ("its header
	 * only"). */
	char			*reason;
	char			*label;
	char			*kept;
};

#define SRCDRV_SKIP_KNOWN	0x1	/* stored items: only marked, not read */
#define SRCDRV_CURSOR		0x2	/* save the cursor with every batch */
#define SRCDRV_WAITING_UNKNOWN	0x4	/* cannot tell how many wait */
#define SRCDRV_MARK_ALERT	0x10	/* a refused mark: the first of a run
					   logged as an error and alerted
					   (outbox health), each noted for
					   intake status; "works again" logged */
#define SRCDRV_MARKED		0x20	/* numeric cursor with a marked
					   watermark (source_cursor.marked) */
#define SRCDRV_FAILURES_SAVED	0x8	/* failure counts and suspects kept in
					   the database (source_state.failures),
					   not only in memory: a source polled
					   by `intaked --once` under cron counts
					   across runs */

enum { MARK_OK = 0, MARK_REFUSED = -1, MARK_BROKEN = -2 };

struct source_driver {
	const char	*type;
	unsigned	 flags;
	/* Everything new after cur into *out.  SRC_OK or an SRC_* error
	 * with *err. */
	int	(*list_new)(struct source *, struct source_run *,
		    const struct source_cursor *cur, struct source_listing *out,
		    char **err);
	/* One item.  With FETCH_FAILED, FETCH_NOT_MESSAGE and FETCH_TEMP
	 * *err says why (never message text). */
	int	(*fetch)(struct source *, struct source_run *,
		    struct source_item *, struct source_msg *, char **err);
	/* After the commit: mark these stored messages (seen, moved); NULL:
	 * nothing to mark.  MARK_REFUSED (-1) with *err: logged (with
	 * SRCDRV_MARK_ALERT: the first of a run alerted); they are found
	 * stored and marked again next poll.  MARK_BROKEN with *err: the
	 * source broke while marking (a dropped connection): the same, and
	 * the poll ends (SRC_TEMP). */
	int	(*mark)(struct source *, struct source_item *const *, size_t,
		    char **err);
	void	(*item_free)(void *);
	/* May be NULL.  Called once before each batch's transaction with
	 * the new (not known) messages it may take, in order, at most
	 * run->batch: a driver reads them in one round trip (IMAP: one UID
	 * FETCH) and its fetch() then takes each from what it holds.  It may
	 * read only a prefix (its own memory bound), and the batch may end
	 * before the last (run->budget_ms): fetch() reads what it does not
	 * hold itself, and the driver frees what it holds at the next
	 * prefetch or close.  SRC_OK, or an SRC_* error with *err: the poll
	 * ends before the batch begins.  SRC_TEMP says the fetch of these
	 * failed: with several, the culprit is unknown and nothing is
	 * counted, but each becomes a suspect, taken in a batch of its own
	 * (prefetched alone) until it is passed, which finds it; with one,
	 * it is counted against it as FETCH_FAILED_TEMP would be. */
	int	(*prefetch)(struct source *, struct source_run *,
		    struct source_item *const *, size_t, char **err);
	/* May be NULL (then nothing of it is kept, and the engine words
	 * the record).  A message failed SOURCE_POISON_TRIES times in a row
	 * (why: the last reason) and becomes a ticket for a human: fill m
	 * with what can still be had of it (raw.data and raw.len, say its
	 * header, in buf; raw.received_at; raw.oversize and raw.real_size)
	 * and the reason, label and kept texts.  FETCH_OK; FETCH_TEMP with
	 * *err: nothing is recorded now (the failure stays counted), the
	 * batch so far is committed and the poll ends (SRC_TEMP). */
	int	(*record)(struct source *, struct source_run *,
		    struct source_item *, int tries, const char *why,
		    struct source_msg *, char **err);
	/* May be NULL.  The poll is over, everything it stored is marked,
	 * rc its outcome: the driver may enter IDLE here (or drop a broken
	 * session).  1, with SRC_OK and no stop: list again in this poll
	 * (mail came while entering IDLE); 0: the poll ends with rc. */
	int	(*poll_end)(struct source *, struct source_run *, int rc);
	int	(*wait_fd)(struct source *, int *max_wait);
	void	(*close)(struct source *);
};

/* Point src at drv: ops becomes the engine's. */
void	 source_set_driver(struct source *, const struct source_driver *,
	    void *priv);
/* One poll through the engine (what ops->poll is for a driver). */
int	 source_engine_poll(struct source *, struct source_run *,
	    struct source_stats *, char **err);
/* A driver's list_new: add an item (key copied; drv handed over). */
struct source_item *source_listing_add(struct source_listing *,
	    const char *key, void *drv);
void	 source_listing_free(const struct source_driver *,
	    struct source_listing *);

/* source_mem.c, the engine's test driver: daemon/source_mem_p.h. */
int	 srcstate_get(struct store *, const char *source, struct source_cursor *);
/* Inside the caller's batch transaction. */
int	 srcstate_set(struct store *, const char *source,
	    const struct source_cursor *);
/* The engine's failure record (SRCDRV_FAILURES_SAVED); set: inside the
 * caller's transaction. */
int	 srcstate_get_failures(struct store *, const char *source, char **text);
int	 srcstate_set_failures(struct store *, const char *source,
	    const char *text);
/* Its own short transaction: the outcome of a poll, for `intake status`.
 * With ok, error is a note (an entry that is not a message, a message that
 * failed) shown as the last error with no failure counted; NULL: none. */
int	 srcstate_record_poll(struct store *, const char *source, int ok,
	    const char *error, int waiting, time_t now);
void	 source_cursor_free(struct source_cursor *);

#endif
