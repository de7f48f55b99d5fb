/* SPDX-License-Identifier: MIT */
/*
 * escalate.h: the 24/7 escalation of urgent tickets nobody answers, run by
 * intaked (at least every minute and after each batch).  An open, urgent,
 * not automated ticket with an unanswered contact message is paged at each
 * step of cfg->escalation, counted from that message's deadlines: by
 * default "oncall" at response_due, the escalation targets at breach_at,
 * then both every 30 minutes, until a person answers (intake ack) or
 * closes it.  Night, weekend and holiday alike: the urgent clock has no
 * calendar.  Routine tickets are never paged (they stay with the
 * business-day reminder report).
 *
 * Each step taken is one transaction: a row in `escalations` (ticket,
 * message, step, repeat: the idempotent key), an outbox row per channel
 * (kind "alert", payload outbox.h's plus "step", "notify" and "key") and
 * an "escalate" event.  So a restart never repeats a step (the row is
 * there) and never skips one (the scan finds every due step without a
 * row).  A repeat that fell due while the daemon was down is sent once,
 * as the latest repeat due, not once per missed interval.
 *
 * "oncall" is whoever the rota (rota.h) has on shift at the step's time,
 * each at their oncall.people address (and webhook, one row with "url"
 * each); with no rota, or nobody on shift (a gap), it is alerts.to and the
 * payload says "oncall_gap": true.  The payload's "oncall" lists the names.
 */
#ifndef INTAKE_ESCALATE_H
#define INTAKE_ESCALATE_H

#include <time.h>

#include "config.h"
#include "rota.h"
#include "store.h"

/* Take every step due at now.  Returns the number of steps taken (>= 0)
 * or a negative STORE_* code (nothing of the failed step is written). */
int	 escalate_run(struct store *, const struct config *,
	    const struct rota *, time_t now);

#endif
