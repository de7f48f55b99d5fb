/* SPDX-License-Identifier: MIT */
/*
 * reply.h: staff replies (issue 14, "Staff replies become part of the
 * ticket").  A source with direction = "outbound" (a Sent folder, a
 * Maildir the staff's mail client saves to) carries what staff wrote.
 * ingest.c threads such a message as any other (subject tag, In-Reply-To,
 * References) and hands it here, inside the caller's transaction:
 *  - threaded to a ticket: stored as a message with direction 'out',
 *    never triaged, never a new ticket, never an alert; it answers every
 *    contact message received before it (messages.responded_at = its
 *    received time) and, on a ticket nobody acknowledged, is the first
 *    response (acknowledged_at, acknowledged_by = the source's `staff`
 *    name, else its From address; sla_met as doc/sla.md).  The ticket then
 *    waits for its earliest contact message still unanswered (deadlines
 *    from it), or for nobody.
 *  - threaded to nothing: kept in unmatched_replies (sql/012_replies.sql)
 *    and listed by `intake status`, never dropped, until the contact
 *    message it answers is stored (reply_attach_unmatched()).
 */
#ifndef INTAKE_REPLY_H
#define INTAKE_REPLY_H

#include "dedup.h"
#include "ingest.h"

/* The source's config when it is outbound, else NULL. */
const struct source_config *reply_source(const struct config *,
	    const char *source);

/* Whether raw (by its source key) is kept in unmatched_replies, not
 * attached: such a reply, offered again, threads by its In-Reply-To and
 * References only (see reply_attach_unmatched()).  STORE_OK with *kept. */
int	 reply_kept(struct ingest_ctx *, const struct raw_input *, int *kept);

/* ticket: what threading found, or 0.  STORE_OK or a STORE_* code. */
int	 reply_store(struct ingest_ctx *, const struct source_config *,
	    const struct raw_input *, const struct message *, const char *sha,
	    const struct dedup_info *, long long ticket, time_t now,
	    time_t claimed, struct ingest_result *);

/* A contact message received at `received`, stored on ticket after staff
 * replies written later (the Sent folder read first): each reply since,
 * oldest first, answers what came before it (so every contact message is
 * answered by the earliest reply after it).  STORE_OK or a STORE_* code. */
int	 reply_late_message(struct ingest_ctx *, long long ticket,
	    time_t received, time_t now);

/*
 * A contact message with Message-ID msgid was just stored on ticket: the
 * replies kept in unmatched_replies that name it in In-Reply-To or
 * References thread now (never by a subject tag: a reply kept with a
 * keyed tag named a ticket number that did not exist when it was read, a
 * database restored from a backup, and the ticket with that number now is
 * someone else's).  Each is stored as a staff reply (its "reply" event has
 * "unmatched": the row it was), its row marked attached and its content
 * cleared (sql/014_reply_attach.sql); none answers anything yet:
 * the caller then runs reply_late_message() from *since, lowered to the
 * earliest attached reply's time.  *attached: how many.  STORE_OK or a
 * STORE_* code.
 */
int	 reply_attach_unmatched(struct ingest_ctx *, long long ticket,
	    const char *msgid, time_t now, time_t *since, int *attached);

#endif
