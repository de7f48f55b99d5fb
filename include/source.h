/* SPDX-License-Identifier: MIT */
/*
 * source.h: where messages come from.  Every kind of source (maildir, imap,
 * http) is a table of operations, as isync's struct driver, so the daemon's
 * loop treats them alike and one source's failure never stops another.
 *
 * The exactly-once contract every source keeps: fetch, then ingest a batch
 * and its new cursor (source_state) in ONE transaction, commit, and only
 * then mark the messages on the server (\Seen, move, cur/ + S).  A crash
 * between commit and marking re-reads those messages next time and the
 * ingest stage finds them already stored.
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
};

struct source_stats {
	int	fetched;	/* messages read from the source */
	int	stored;		/* new messages stored */
	int	duplicates;	/* already stored (crash recovery, rescans) */
	int	parse_errors;
	int	waiting;	/* still on the server, not yet fetched; -1 unknown */
};

/* What a poll may use; owned by the daemon. */
struct source_run {
	struct ingest_ctx		*ictx;
	const volatile sig_atomic_t	*stop;	/* set by SIGTERM: finish the
						   current batch, fetch no more */
	int				 batch;	/* messages per transaction */
	int				 once;	/* intaked --once: no wait follows
						   this poll (IMAP: no IDLE) */
	/* Called between batches so a long fetch keeps the service's
	 * watchdog fed; may be NULL. */
	void				(*progress)(void *);
	void				*progress_arg;
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

struct source {
	const struct source_config	*cfg;
	const struct source_ops		*ops;
	void				*priv;
	/* scheduling: the daemon loop's */
	time_t				 next_poll;
	int				 backoff;	/* seconds */
	int				 failures;
	int				 auth_alerted;
};

/* Fill src for cfg (ops and private state).  0, or -1 with *err. */
int	 source_init(struct source *, const struct source_config *, char **err);
void	 source_close(struct source *);

/* The per-source implementations (source_maildir.c, source_imap.c,
 * source_http.c). */
int	 source_maildir_init(struct source *, char **err);
int	 source_imap_init(struct source *, char **err);
int	 source_http_init(struct source *, char **err);

/* source_state rows (srcstate.c). */
struct source_cursor {
	long long	 uidvalidity;	/* 0 when unknown */
	long long	 last_uid;
	char		*cursor;	/* http; NULL when none; owned */
};
int	 srcstate_get(struct store *, const char *source, struct source_cursor *);
/* Inside the caller's batch transaction. */
int	 srcstate_set(struct store *, const char *source,
	    const struct source_cursor *);
/* Its own short transaction: the outcome of a poll, for `intake status`. */
int	 srcstate_record_poll(struct store *, const char *source, int ok,
	    const char *error, int waiting, time_t now);
void	 source_cursor_free(struct source_cursor *);

#endif
