/* SPDX-License-Identifier: MIT */
/*
 * tag.h: the subject tag "[intake #N-xxxxxxxx]" that threads a contact's
 * reply to its ticket.  The part after the dash is a keyed MAC of the
 * ticket number (HMAC-SHA256 with GnuTLS, first 40 bits in lowercase
 * base32), so a stranger who knows or guesses a ticket number (they are
 * sequential) cannot write into someone's ticket: a tag that does not
 * verify is ignored and the message becomes a new ticket.  Old threads
 * keep working through In-Reply-To / References.
 *
 * The key is 32 random bytes in "tag.key" next to the database (the state
 * directory), created mode 0600 (0640 and database_group when set, like
 * the database) by the first program that needs it: intaked at start,
 * `intake ingest` at its first message.  Each process reads it once.
 */
#ifndef INTAKE_TAG_H
#define INTAKE_TAG_H

#include <stddef.h>

#include "config.h"

#define TAG_MAC_CHARS	8
#define TAG_KEY_BYTES	32
/* The key's file when the database is PostgreSQL and tag_key_file is
 * unset: every node of one installation needs the same file. */
#define TAG_KEY_PG_DEFAULT	"/var/lib/intake/tag.key"
#define TAG_MAX		64	/* "[intake #N-xxxxxxxx]" and its NUL */

/* Load the key, creating the file (0600, atomically: a link of a complete
 * temporary file) when it does not exist.  0, or -1 with *err (caller
 * frees).  Cached per process after the first success. */
int	 tag_key_init(const struct config *, char **err);
/* "[intake #N-xxxxxxxx]"; without a key "[intake #N]" (never threaded
 * by tag, but still names the ticket for people). */
void	 tag_format(const struct config *, long long ticket, char *out,
	    size_t len);
/* The ticket named by a verified tag anywhere in subject, or 0: an
 * untagged subject, a plain "[intake #N]", a wrong or forged MAC. */
long long tag_find(const struct config *, const char *subject);

/*
 * Acknowledging by mail (oncall.reply_to): each alert and escalation mail
 * carries "[ack T-M-S-Q-xxxxxxxxxxxx]" in its subject: ticket, message,
 * step ("a" for the first alert: step < 0) and repeat, and a keyed MAC (60
 * bits) of those and the recipient's address, with the same key.  tag_ack_token() writes "T-M-S-Q-mac" (at most
 * TAG_ACK_MAX with its NUL).  tag_ack_find() returns the ticket of a
 * token in subject that verifies for addr (the reply's sender), the token
 * into token; 0 when there is none, or (*forged set) when one is there but
 * does not verify for that sender.
 */
#define TAG_ACK_MAC_CHARS	12
#define TAG_ACK_MAX		112
int	 tag_ack_token(const struct config *, long long ticket,
	    long long message, long step, long seq, const char *addr,
	    char *out, size_t len);
long long tag_ack_find(const struct config *, const char *subject,
	    const char *addr, char *token, size_t len, int *forged);

#endif
