/* SPDX-License-Identifier: MIT */
/*
 * notify_p.h: private to notify.c and its unit tests: the retry schedule,
 * the header encoding and the claim of a row, exported only so the tests
 * can reach them.
 */
#ifndef INTAKE_NOTIFY_P_H
#define INTAKE_NOTIFY_P_H

#include <time.h>

#include "store.h"

/* Seconds to wait after a failed attempt: min(2^attempts * 30, 3600) plus
 * up to a tenth of jitter.  attempts counts the failures before this one. */
long	 notify_backoff(int attempts);
/* RFC 2047 encoded words (UTF-8, base64) when s is not plain printable
 * ASCII, else a copy; caller frees. */
char	*notify_rfc2047(const char *s);

/* How long a claimed row waits for its claimer's outcome: more than one
 * transfer (20 s) and its record; a claimer that died mid-send hands the
 * row on to the next node after it. */
#define NOTIFY_CLAIM_SECS	60

/*
 * PostgreSQL (two nodes, one outbox): claim outbox row id for a send by
 * this node, inside the caller's transaction: SELECT ... FOR UPDATE SKIP
 * LOCKED of the row if it is still undelivered and due at now, then its
 * next_attempt_at moved to now + NOTIFY_CLAIM_SECS, so that once the
 * claim is committed no other node takes it before this one's outcome
 * (delivered, or rescheduled) is recorded.  1 claimed (*attempts its
 * failures so far), 0 when another node's claim holds it (skipped, not
 * waited for), it was claimed or sent already, or is not due; else a
 * negative store_rc.  SQLite: 1, touching nothing (one writer, one
 * machine).
 */
int	 notify_claim(struct store *, long long id, time_t now, int *attempts);

#endif
