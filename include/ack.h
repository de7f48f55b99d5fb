/* SPDX-License-Identifier: MIT */
/*
 * ack.h: acknowledgements to senders (RFC 3834 auto-replies), off by
 * default: a trafficker may read the victim's mailbox.  When ack.enabled,
 * a new ticket from a person (not automated mail, not a mailing list, not a
 * bounce) queues one outbox row (kind "ack", channel "email"), at most one
 * per sender per office-local day (acks_sent).  The daemon delivers it with
 * "Auto-Submitted: auto-replied" and the "[intake #N]" subject tag.
 *
 * Payload: {"kind":"ack","ticket":N,"to":ADDR,"in_reply_to":MSGID|null}.
 */
#ifndef INTAKE_ACK_H
#define INTAKE_ACK_H

#include <time.h>

#include "config.h"
#include "message.h"
#include "store.h"

/*
 * Inside the caller's transaction, right after the ticket was inserted.
 * msg is the message that created it (its headers tell lists and bounces
 * apart).  Returns 1 when a row was queued, 0 when none is due, or a
 * negative STORE_* code.
 */
int	 ack_maybe_queue(struct store *, const struct config *, long long ticket,
	    const struct message *msg, time_t now);

#endif
