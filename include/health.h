/* SPDX-License-Identifier: MIT */
/*
 * health.h: what makes a health alert go out once (doc/interfaces.md,
 * "intaked" and "Webhook listener"): a source stale once per outage
 * (source_state.stale_alerted_at), a push source's refused requests
 * counted and their burst alerted once per window (refused, refused_at,
 * refused_alerted_at), a gap of the on-call rota once per office day
 * (oncall_gaps).  On the store's statement API (both drivers); with two
 * nodes on one PostgreSQL the row or key each one takes is what makes
 * the alert one, not one per node.
 */
#ifndef INTAKE_HEALTH_H
#define INTAKE_HEALTH_H

#include <time.h>

#include "store.h"

/* Mark source stale at now unless this outage's mark is there already:
 * 1 marked now (queue its alert), 0 marked before (or no such row), or a
 * negative store_rc. */
int	 health_mark_stale(struct store *, const char *source, time_t now);
/* Count one refused request of a push source (refused + 1, refused_at). */
int	 health_count_refusal(struct store *, const char *source, time_t now);
/*
 * Inside the caller's transaction (which then queues the alert): is the
 * refusal burst alert of source due, none having gone out in the window
 * seconds before now?  Then its time is recorded as now.  1 due, 0 not, or
 * a negative store_rc.  On PostgreSQL the source's row is locked (FOR
 * UPDATE), so a second node asking at once sees the first one's answer.
 */
int	 health_refusal_alert_due(struct store *, const char *source,
	    int window, time_t now);
/* The rota gap [start, end) alerted on office day `day` (YYYY-MM-DD) at
 * now: 1 recorded now (queue its alert), 0 alerted already that day, or
 * a negative store_rc. */
int	 health_gap_once(struct store *, time_t start, time_t end,
	    const char *day, time_t now);

#endif
