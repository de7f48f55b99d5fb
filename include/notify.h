/* SPDX-License-Identifier: MIT */
/*
 * notify.h: delivery of the outbox (outbox.h) with libcurl: JSON POST to a
 * webhook, e-mail over SMTP.  At-least-once with exponential backoff; a row
 * is marked delivered only after the endpoint accepted it.
 */
#ifndef INTAKE_NOTIFY_H
#define INTAKE_NOTIFY_H

#include <time.h>

#include "config.h"
#include "store.h"

/*
 * Try every outbox row whose next_attempt_at <= now (at most max rows).
 * Returns the number delivered (>= 0), or a negative STORE_* code when the
 * database failed.  Network failures only reschedule rows.
 */
int	 notify_deliver_due(struct store *, const struct config *, time_t now,
	    int max);

#endif
