/* SPDX-License-Identifier: MIT */
/*
 * remind.h: the cron-driven reminder report (`intake remind`).  At each
 * office time of remind.at on a business day, the first run at or after it
 * collects the open, not automated tickets with an unanswered message
 * whose response_due or breach_at is within remind.lead_minutes or has
 * passed, and sends one report.  An overdue or breached ticket is in every
 * slot's report until it is answered; one only due soon is reminded once
 * per deadline per day (same ticket, deadline kind and deadline).  Nothing
 * is recorded unless the report went out.
 */
#ifndef INTAKE_REMIND_H
#define INTAKE_REMIND_H

#include <stddef.h>
#include <time.h>

#include "calendar.h"
#include "config.h"
#include "report.h"
#include "store.h"
#include "util.h"

#define REMIND_RESPONSE	1	/* response_due is within the lead or past */
#define REMIND_BREACH	2	/* breach_at is within the lead or past */

struct remind_report {
	time_t		 now;
	char		 day[16];	/* office-local YYYY-MM-DD */
	char		 slot[32];	/* office-local "YYYY-MM-DD HH:MM" */
	struct report_rows rows;	/* the tickets, in follow-up list order */
	int		*due;		/* per row: REMIND_* bits to record */
};

enum remind_state {
	REMIND_NOTHING = 0,	/* not a slot, slot done, or nothing due */
	REMIND_DUE = 1,
};

/*
 * The current time, or the instant in $INTAKE_NOW (ISO 8601 with offset).
 * INTAKE_NOW is a test hook only, so the tests can run on any day of the
 * week; it is documented as such and has no other use.
 */
time_t	 remind_now(void);

/*
 * Decide whether a report is due at now and collect its tickets.  Returns
 * REMIND_DUE (the report is the caller's to free), REMIND_NOTHING with
 * *why (static text; nothing to free; slot[0] is set only when the slot is
 * open but nothing is due), or a negative STORE_* code.
 */
int	 remind_collect(struct store *, const struct calendar *,
	    const struct config *, time_t now, struct remind_report *,
	    const char **why);
void	 remind_report_free(struct remind_report *);

/* Renderings (report.h's follow-up list, ids as "[intake #N]"); every
 * message-derived string escaped.  Caller frees. */
char	*remind_text(const struct remind_report *);
char	*remind_html(const struct remind_report *);
/* The webhook payload: ids, states and deadlines, no message text. */
char	*remind_json(const struct remind_report *);

/* After a successful send: the reminders and the slot, one transaction.
 * Also used with an empty report to close a slot with nothing due. */
int	 remind_record(struct store *, const struct remind_report *);

/* The whole run of `intake remind`: 0 sent or nothing to send, 75 when a
 * server failed (nothing recorded), 78 when no channel is configured. */
int	 remind_run(struct store *, const struct calendar *,
	    const struct config *, time_t now, int dry_run);

#endif
