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
 *    and listed by `intake status`, never dropped.
 */
#ifndef INTAKE_REPLY_H
#define INTAKE_REPLY_H

#include "dedup.h"
#include "ingest.h"

/* The source's config when it is outbound, else NULL. */
const struct source_config *reply_source(const struct config *,
	    const char *source);

/* ticket: what threading found, or 0.  STORE_OK or a STORE_* code. */
int	 reply_store(struct ingest_ctx *, const struct source_config *,
	    const struct raw_input *, const struct message *, const char *sha,
	    const struct dedup_info *, long long ticket, time_t now,
	    time_t claimed, struct ingest_result *);

/* A contact message received at `received`, stored on ticket after a staff
 * reply written later (the Sent folder read first): that reply answers it
 * too.  STORE_OK or a STORE_* code. */
int	 reply_late_message(struct ingest_ctx *, long long ticket,
	    time_t received, time_t now);

#endif
