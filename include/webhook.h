/* SPDX-License-Identifier: MIT */
/*
 * webhook.h: the push channels' requests (doc/interfaces.md, "Webhook
 * listener"): the checks every request passes before anything is parsed
 * (content type, signature over the exact raw body, timestamp window), and
 * the mapping of a checked body to messages.  No I/O and no HTTP server
 * here (listen.c serves), so the unit tests and the fuzzer call it alone.
 */
#ifndef INTAKE_WEBHOOK_H
#define INTAKE_WEBHOOK_H

#include <stddef.h>
#include <time.h>

#include "config.h"

#define WH_WINDOW	300	/* Standard Webhooks: seconds either way */
#define WH_ID_MAX	200	/* a provider's message id */
#define WH_FROM_MAX	320

/* One request as received; every string NUL-terminated, NULL if absent. */
struct wh_request {
	const char	*method;
	const char	*path;		/* without the query */
	const char	*query;		/* after '?', as received */
	const char	*content_type;
	const char	*signature;	/* the channel's signature header */
	const char	*wh_id;		/* webhook-id */
	const char	*wh_timestamp;	/* webhook-timestamp */
	const char	*body;		/* may hold NULs */
	size_t		 body_len;
};

/* A push source's secrets, read once from its files. */
struct wh_secrets {
	unsigned char	*key;		/* HMAC key */
	size_t		 keylen;
	char		*verify_token;	/* whatsapp: the GET handshake's */
};

/* One message of a request; owned strings, valid UTF-8. */
struct wh_msg {
	char	*key;		/* provider id: the source key */
	char	*from;		/* NULL: anonymous */
	char	*name;
	char	*to;
	char	*subject;
	char	*text;
	size_t	 text_len;
	const char *keyword;	/* carrier keyword (static), or NULL */
	int	 segments;	/* Twilio NumSegments (SMS joined), or 0 */
};

struct wh_batch {
	struct wh_msg	*v;
	size_t		 n;
};

/* Constant-time equality of two buffers of n bytes. */
int	 wh_memeq(const void *, const void *, size_t);

/* The three signature schemes.  Each returns 1 when sig is good, else 0. */
/* base64(HMAC-SHA1(token, url + sorted name/value pairs of the form)). */
int	 wh_twilio_sign(const unsigned char *token, size_t tlen,
	    const char *url, const char *form, size_t flen, char out[29]);
int	 wh_twilio_verify(const unsigned char *token, size_t tlen,
	    const char *url, const char *form, size_t flen, const char *sig);
/* Twilio's JSON variant: url carries bodySHA256 = hex(SHA-256(body)) in
 * its query, and the signature is over the url alone (no parameters). */
int	 wh_twilio_verify_json(const unsigned char *token, size_t tlen,
	    const char *url, const char *body, size_t blen, const char *sig);
/* "sha256=" + hex(HMAC-SHA256(secret, body)). */
int	 wh_hub_verify(const unsigned char *secret, size_t slen,
	    const char *body, size_t blen, const char *sig);
/* Standard Webhooks v1: WH_OK, WH_NOSIG (missing or malformed headers),
 * WH_BADSIG, or WH_STALE (timestamp outside WH_WINDOW of now). */
enum { WH_OK = 0, WH_NOSIG, WH_BADSIG, WH_STALE };
int	 wh_std_verify(const unsigned char *key, size_t klen, const char *id,
	    const char *timestamp, const char *body, size_t blen,
	    const char *sig, time_t now);
/* The HMAC key of a Standard Webhooks secret: base64 after "whsec_", or
 * the bytes of a secret without the prefix.  0, or -1 (bad base64). */
int	 wh_std_key(const char *secret, unsigned char **key, size_t *klen);

/*
 * Every check before the body is parsed, for a source of type t: method,
 * content type, signature (twilio: over public_url + "?" + query).  Returns
 * 0, or the HTTP status of the refusal (401, 403, 405, 415) with *why (a
 * static string naming the reason, never request content).
 */
int	 wh_check(const struct source_config *, const struct wh_secrets *,
	    const struct wh_request *, time_t now, const char **why);

/* The messages of a checked request (WhatsApp: possibly none, or
 * several).  0, or -1 with *why (static; the body is malformed: 400). */
int	 wh_parse(enum source_type, const struct wh_request *,
	    size_t text_max, struct wh_batch *, const char **why);
void	 wh_batch_free(struct wh_batch *);

/*
 * The carrier keyword an SMS is, or NULL: its whole text, blanks and a
 * final "." or "!" aside, in any case, is one of Twilio's default opt-out
 * (STOP STOPALL UNSUBSCRIBE CANCEL END QUIT REVOKE OPTOUT), opt-in (START
 * UNSTOP) or help (HELP INFO) words; or Twilio's OptOutType parameter
 * (opt_out, may be NULL: STOP, START or HELP) names one.  The word is
 * returned in upper case (a static string).
 */
const char *wh_carrier_keyword(const char *text, size_t len,
	    const char *opt_out);

/* The raw record of a request: "METHOD PATH\r\n", the headers that
 * matter, an empty line, the body.  Caller frees; *len set. */
char	*wh_raw_record(enum source_type, const struct wh_request *, size_t *len);

#endif
