/* SPDX-License-Identifier: MIT */
/*
 * listen.h: the webhook listener (doc/interfaces.md, "Webhook listener").
 * libmicrohttpd in one thread of its own with its own database connection,
 * serving the push sources (twilio, whatsapp, webhook) of a configuration.
 * Each request is checked (webhook.h), then its messages go through the
 * source engine as one listing in one transaction; 2xx only after the
 * commit.  The configuration, calendar and lexicon are only read, and
 * must outlive the listener: stop it before they are freed or replaced.
 */
#ifndef INTAKE_LISTEN_H
#define INTAKE_LISTEN_H

#include "calendar.h"
#include "config.h"
#include "triage.h"

struct listener;
struct rota;

/* NULL with *err (caller frees) when it cannot start; cfg without a
 * listen address or push sources: NULL and *err NULL.  rota (NULL: none)
 * is whom a first alert pages besides alerts.to; it too must outlive the
 * listener. */
struct listener *listener_start(const struct config *,
	    const struct calendar *, const struct lexicon *,
	    const struct rota *, char **err);
/* Finish the request under way, close, free.  NULL is fine. */
void	 listener_stop(struct listener *);
/* Does cfg ask for a listener? */
int	 listener_wanted(const struct config *);

#endif
