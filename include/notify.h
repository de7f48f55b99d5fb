/* SPDX-License-Identifier: MIT */
/*
 * notify.h: delivery of the outbox (outbox.h) with libcurl: JSON POST to a
 * webhook, e-mail over SMTP.  At-least-once with exponential backoff; a row
 * is marked delivered only after the endpoint accepted it, in its own
 * transaction right after the transfer, so a crash in between can at worst
 * repeat one delivery (webhooks get an Idempotency-Key to fold it).
 *
 * The transfer and mail-building helpers are shared with the reminder
 * report (remind.c) and are pure apart from the network.
 */
#ifndef INTAKE_NOTIFY_H
#define INTAKE_NOTIFY_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "store.h"
#include "util.h"

/*
 * Try every outbox row whose next_attempt_at <= now (at most max rows).
 * Returns the number delivered (>= 0), or a negative STORE_* code when the
 * database failed.  Network failures only reschedule rows.
 */
int	 notify_deliver_due(struct store *, const struct config *, time_t now,
	    int max);

/* The same for the urgent alerts (kind "alert") of these tickets only:
 * intaked's crisis first, right after the batch that queued them was
 * committed (issue 19). */
int	 notify_deliver_tickets(struct store *, const struct config *,
	    time_t now, const long long *tickets, size_t ntickets);

/* Outcome of one transfer. */
enum notify_rc {
	NOTIFY_OK = 0,
	NOTIFY_TEMP = -1,	/* server down, refused, timeout: retry */
	NOTIFY_CONFIG = -2,	/* missing or refused settings: retry, loudly */
};


/* Whether the URL's host is 127.0.0.0/8, ::1 or localhost. */
int	 notify_url_is_loopback(const char *url);

/* POST json to url with Content-Type: application/json and, when not NULL,
 * "Idempotency-Key: <idem_key>".  2xx is success.  *err (caller frees) on
 * failure, never containing the body sent. */
int	 notify_post_json(const struct config *, const char *url,
	    const char *json, const char *idem_key, char **err);

/* Send a complete RFC 5322 message (CRLF line ends) over smtp.url to the
 * recipients (addr-specs).  The envelope sender is smtp.from's address. */
int	 notify_send_mail(const struct config *, char *const *rcpt,
	    size_t nrcpt, const char *message, size_t len, char **err);

/* Mail building.  A header value is refused when it holds CR, LF or NUL
 * (header injection); 1 when acceptable. */
int	 notify_header_ok(const char *);
/* The addr-spec in "Name <a@b>" or "a@b"; NULL when none; caller frees. */
char	*notify_addr_spec(const char *);
/* Append base64 of data in 76-column lines ending CRLF. */
void	 notify_base64_lines(struct buf *, const char *data, size_t len);
/*
 * Start a message in b: From, To (comma separated), Subject (encoded),
 * Date (office zone), Message-ID, MIME-Version, Auto-Submitted (RFC 3834:
 * "auto-generated" or "auto-replied"), plus In-Reply-To when not NULL.
 * The caller adds Content-Type, the blank line and the body.  -1 with
 * *err when a value holds CR/LF or from has no address.
 */
int	 notify_mail_head(struct buf *, const char *from, char *const *to,
	    size_t nto, const char *subject, const char *auto_submitted,
	    const char *in_reply_to, time_t now, char **err);
/* Bare LF to CRLF (text parts are sent in canonical form); caller frees. */
char	*notify_crlf(const char *);

#endif
