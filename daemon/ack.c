/* SPDX-License-Identifier: MIT */
/*
 * ack.c: whether a new ticket's sender gets an acknowledgement, and its
 * outbox row.  Conservative: any sign of automation or of a list, and no
 * reply is sent (RFC 3834 section 2).  On the store's statement API (both
 * drivers).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ack.h"
#include "notify.h"
#include "outbox.h"
#include "util.h"

static int
header_has(const struct message *msg, const char *name)
{
	return message_header(msg, name) != NULL;
}

static int
header_is(const struct message *msg, const char *name, const char *value)
{
	const char *v = message_header(msg, name);

	while (v && isspace((unsigned char)*v))
		v++;
	return v && strncasecmp(v, value, strlen(value)) == 0;
}

/* Mail that must never get an automatic reply. */
static int
is_list_or_automated(const struct message *msg, const char *addr)
{
	static const char *const local_parts[] = { "mailer-daemon",
	    "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply",
	    "bounce", "bounces", "listserv", "majordomo", "owner-" };
	const char *at = strchr(addr, '@');
	size_t i, n = at ? (size_t)(at - addr) : strlen(addr);

	if (header_has(msg, "List-Id") || header_has(msg, "List-Unsubscribe") ||
	    header_has(msg, "List-Post") || header_has(msg, "Mailing-List") ||
	    header_has(msg, "X-Auto-Response-Suppress"))
		return 1;
	if (header_has(msg, "Auto-Submitted") &&
	    !header_is(msg, "Auto-Submitted", "no"))
		return 1;
	if (header_is(msg, "Precedence", "bulk") ||
	    header_is(msg, "Precedence", "list") ||
	    header_is(msg, "Precedence", "junk"))
		return 1;
	if (header_is(msg, "Return-Path", "<>"))
		return 1;
	if (msg->report_type != NULL)
		return 1;
	for (i = 0; i < NELEM(local_parts); i++) {
		size_t k = strlen(local_parts[i]);

		if (local_parts[i][k - 1] == '-' ? strncasecmp(addr,
		    local_parts[i], k) == 0 : (n == k &&
		    strncasecmp(addr, local_parts[i], k) == 0))
			return 1;
	}
	return 0;
}

static int
ticket_is_automated(struct store *st, long long ticket, int *automated)
{
	static const struct query q_automated = {
		"SELECT automated FROM tickets WHERE id = ?", NULL };
	struct stmt *s;
	int rc;

	*automated = 1;
	if ((s = store_prepare(st, &q_automated, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, ticket)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW)
		*automated = store_col_int64(s, 0) != 0;
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* Claim today's acknowledgement for sender: 1 claimed, 0 already sent. */
static int
claim_day(struct store *st, const char *sender, long long ticket, time_t now)
{
	static const struct query q_claim = {
		"INSERT OR IGNORE INTO acks_sent (sender, day, ticket_id) "
		"VALUES (?, ?, ?)",
		"INSERT INTO acks_sent (sender, day, ticket_id) "
		"VALUES ($1, $2, $3) ON CONFLICT DO NOTHING" };
	struct stmt *s;
	char day[16];
	struct tm tm;
	long long claimed = 0;
	int rc;

	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if ((s = store_prepare(st, &q_claim, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, sender, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, day, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, ticket)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_DONE)
		claimed = store_changes(s);
	store_done(s);
	if (rc != STORE_DONE)
		return rc;
	return claimed > 0;
}

int
ack_maybe_queue(struct store *st, const struct config *cfg, long long ticket,
    const struct message *msg, time_t now)
{
	json_t *p;
	char *addr, *text, *own;
	size_t i;
	int rc, automated;

	if (!cfg->ack_enabled || cfg->smtp_url == NULL || msg == NULL)
		return 0;
	if (msg->status != MSG_PARSE_OK && msg->status != MSG_PARSE_PARTIAL)
		return 0;
	if ((addr = notify_addr_spec(msg->from_addr)) == NULL)
		return 0;
	for (i = 0; addr[i]; i++)
		addr[i] = (char)tolower((unsigned char)addr[i]);
	/* Never to ourselves (a loop). */
	own = notify_addr_spec(cfg->ack_from ? cfg->ack_from : cfg->smtp_from);
	if ((own && strcasecmp(own, addr) == 0) ||
	    is_list_or_automated(msg, addr)) {
		free(own);
		free(addr);
		return 0;
	}
	free(own);
	if ((rc = ticket_is_automated(st, ticket, &automated)) != STORE_OK ||
	    automated) {
		free(addr);
		return rc;
	}
	if ((rc = claim_day(st, addr, ticket, now)) <= 0) {
		free(addr);
		return rc;
	}
	p = json_object();
	json_object_set_new(p, "kind", json_string("ack"));
	json_object_set_new(p, "ticket", json_integer(ticket));
	json_object_set_new(p, "to", json_string(addr));
	json_object_set_new(p, "in_reply_to", msg->message_id &&
	    notify_header_ok(msg->message_id) && strpbrk(msg->message_id,
	    "<> ") == NULL ? json_string(msg->message_id) : json_null());
	text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	free(addr);
	if (text == NULL)
		return STORE_ERR;
	rc = outbox_queue(st, "ack", "email", ticket, text, now);
	free(text);
	return rc == STORE_OK ? 1 : rc;
}
