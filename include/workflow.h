/* SPDX-License-Identifier: MIT */
/*
 * workflow.h: what staff do to a ticket (acknowledge, assign, note,
 * reclassify, close, reopen).  Each call is one IMMEDIATE transaction that
 * changes the ticket and appends its `events` row (actor, time, JSON
 * detail) together, so the audit trail never misses a change.  No message
 * text is ever copied into events except a staff note's own text.
 *
 * Return values: WF_OK; WF_NOTFOUND (no such ticket); WF_NOCHANGE (the
 * ticket is already in that state: nothing written, see each function);
 * or a negative STORE_* code (STORE_TEMP: busy, retry).
 */
#ifndef INTAKE_WORKFLOW_H
#define INTAKE_WORKFLOW_H

#include <time.h>

#include "calendar.h"
#include "calltype.h"
#include "config.h"
#include "store.h"

struct rota;

enum workflow_rc {
	WF_OK = 0,
	WF_NOTFOUND = 1,
	WF_NOCHANGE = 2,
};

/*
 * First response.  Records acknowledged_at = now, acknowledged_by = actor
 * and sla_met = 1 when now <= breach_at, 0 when later, NULL when the ticket
 * has no deadline.  (response_due is the target; the SLA counts as breached
 * only past breach_at.)  An acknowledged ticket keeps its first
 * acknowledgement: WF_NOCHANGE, *prev_at and *prev_by tell it (caller frees).
 */
int	 workflow_ack(struct store *, long long ticket, const char *actor,
	    time_t now, int *sla_met, time_t *prev_at, char **prev_by);
/* workflow_ack() inside the caller's transaction (acknowledging by mail,
 * during an ingest): WF_OK, WF_NOTFOUND, WF_NOCHANGE or a STORE_* code. */
int	 workflow_ack_in(struct store *, long long ticket, const char *actor,
	    time_t now);
/* Set the assignee, or clear it (assignee NULL).  WF_NOCHANGE when equal. */
int	 workflow_assign(struct store *, long long ticket, const char *assignee,
	    const char *actor, time_t now);
/* A staff note (event "note", detail {"text": ...}).  The text is stored
 * as valid UTF-8, at most WORKFLOW_NOTE_MAX bytes. */
#define WORKFLOW_NOTE_MAX	16384
int	 workflow_note(struct store *, long long ticket, const char *text,
	    const char *actor, time_t now);
/* Close with a disposition (referred resolved duplicate no-action
 * automated).  WF_NOCHANGE when already closed. */
int	 workflow_close(struct store *, long long ticket, const char *disposition,
	    const char *actor, time_t now);
/* Reopen a closed ticket (disposition and closed_at cleared).
 * WF_NOCHANGE when already open. */
int	 workflow_reopen(struct store *, long long ticket, const char *actor,
	    time_t now);
/* 1 when s is one of the dispositions above. */
int	 workflow_disposition_valid(const char *s);

/* The rationale line a reclassification puts first (workflow_reclassify):
 * "staff (NAME) reclassified: TYPE, URGENCY[, minor][, danger] (was TYPE,
 * URGENCY)", NAME cut to WORKFLOW_ACTOR_MAX bytes. */
#define WORKFLOW_RATIONALE_STAFF	"staff"
#define WORKFLOW_ACTOR_MAX		64

/* A correction; urgency/minor/danger < 0 keep the ticket's value. */
struct workflow_class {
	enum call_type	 type;
	int		 urgency;	/* enum urgency, or -1 */
	int		 minor;		/* 0, 1 or -1 */
	int		 danger;	/* 0, 1 or -1 */
};

/*
 * Reclassify: new type, urgency (made effective by the contract: crisis is
 * urgent, info/related routine, automated none), flags; deadlines
 * recomputed with sla_compute() from the ticket's received_at; sla_met
 * recomputed when already acknowledged; `automated` follows the type.  A
 * ticket closed as automated that gets a human type is reopened.  Event
 * "reclassify" with {"from":{...},"to":{...},"reopened":B}.  When the
 * ticket becomes urgent (was not before; open or closed), an alert
 * ("reclassified") is queued in the same transaction; *alerted says whether
 * a row was queued (none when no alert channel is configured).  The
 * rationale gets the staff line first (WORKFLOW_RATIONALE_STAFF).
 * WF_NOCHANGE when nothing differs.
 */
int	 workflow_reclassify(struct store *, const struct config *,
	    const struct calendar *, const struct rota *, long long ticket,
	    const struct workflow_class *, const char *actor, time_t now,
	    int *alerted);

#endif
