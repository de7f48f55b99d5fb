/* SPDX-License-Identifier: MIT */
/*
 * outbox.h: durable queue of things to tell people (urgent alerts, health
 * alerts, reminder reports, acknowledgements).  A row is written in the same
 * transaction as the change that caused it, and delivered later (notify.h)
 * with retries, so an alert survives a restart and an endpoint that is down.
 *
 * Alert payload (JSON object, compact): {"kind":"alert","reason":R,
 * "ticket":N,"type":T,"urgency":"urgent","minor":B,"danger":B,
 * "needs_interpreter":B,"received":ISO,"response_due":ISO,"breach_at":ISO,
 * "message":ID,"message_received":ISO,"messages":N,"step":S,
 * "ack_command":"intake ack N --by NAME"} plus "excerpt" (of that message)
 * only when alerts.include_excerpt is true.  R is "new", "reclassified",
 * "raised" or "message" (a new message on an urgent ticket); the message
 * is the ticket's earliest unanswered one (else its newest).  S is
 * "alert", or the escalation step (escalate.h).  With oncall.reply_to the
 * mail goes one row per alerts.to address (outbox_queue_ack_mails).
 */
#ifndef INTAKE_OUTBOX_H
#define INTAKE_OUTBOX_H

#include <time.h>

#include <jansson.h>

#include "config.h"
#include "store.h"

struct rota;

/*
 * Queue an urgent-ticket alert (the first alert: reason "new",
 * "reclassified", "raised" or "message") for each configured channel
 * (alerts.webhook, alerts.to), and page everyone the rota has on call at
 * this moment (remind_now(): INTAKE_NOW in tests): their email among the
 * mail's recipients (an address alerts.to has already gets one mail),
 * their webhook as a row of its own with "url", "person" and "key"
 * ("intake-alert-T-M-REASON-TIME-PERSON", its Idempotency-Key).  With a
 * rota the payload has "oncall" (the names) and, when nobody is on call,
 * "oncall_gap": true, and an event "page" records whom it reached.  rota
 * NULL (none, or refused): alerts.to and alerts.webhook only.  Inside the
 * caller's transaction.  Returns the number of rows queued (0 when nobody
 * can be reached), or a negative STORE_* code.
 */
int	 outbox_queue_alert(struct store *, const struct config *,
	    const struct rota *, long long ticket, const char *reason,
	    time_t now);
/* The alert payload above, for the caller to add to and queue (the
 * escalation); NULL with *rc a STORE_* code. */
json_t	*outbox_alert_payload(struct store *, const struct config *,
	    long long ticket, const char *reason, int *rc);
/* Acknowledging by mail (oncall.reply_to): one alert mail row per address
 * of the JSON array to, each the payload with "notify":[ADDR] and, when a
 * token can be made, "ack_token" (tag_ack_token(ticket, message, step,
 * seq, ADDR); step < 0: the first alert) and "reply_to".  Returns the
 * rows queued, or a negative STORE_* code. */
int	 outbox_queue_ack_mails(struct store *, const struct config *,
	    json_t *payload, json_t *to, long long ticket, long long message,
	    long step, long seq, time_t now);
/* Queue a health alert (source stale, authentication failure, parse-error
 * run): payload {"kind":"health","source":S,"problem":P,"detail":D,"at":ISO}.
 * Never contains message text. */
int	 outbox_queue_health(struct store *, const struct config *,
	    const char *source, const char *problem, const char *detail,
	    time_t now);
/* Queue a payload as-is for one channel ("webhook" or "email"). */
int	 outbox_queue(struct store *, const char *kind, const char *channel,
	    long long ticket, const char *payload_json, time_t now);

#endif
