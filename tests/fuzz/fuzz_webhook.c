/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the webhook listener's request reader (webhook.c): the first
 * byte picks the channel (and, for Twilio, form or JSON body), the rest
 * is the body.  Whatever is accepted is
 * what ingest relies on: every message has a printable provider id, valid
 * UTF-8 text without NUL, one-line sender fields; the signature schemes
 * never crash on any body or header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
one_line(const char *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (!utf8_valid(s, strlen(s)))
		abort();
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum source_type types[] = { SOURCE_TWILIO,
	    SOURCE_WHATSAPP, SOURCE_WEBHOOK };
	struct wh_request rq;
	struct wh_batch b;
	const char *why = NULL;
	char *body, *rec, out[29];
	size_t i, len;

	if (size == 0)
		return 0;
	body = malloc(size);
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/x";
	rq.wh_id = "msg_1";
	rq.wh_timestamp = "1700000000";
	rq.signature = body;	/* any header value */
	rq.body = body;
	rq.body_len = size - 1;
	if (data[0] & 0x80)	/* Twilio's JSON variant */
		rq.content_type = "application/json";
	if (wh_parse(types[data[0] % 3], &rq, 4096, &b, &why) == 0) {
		for (i = 0; i < b.n; i++) {
			if (b.v[i].key == NULL || b.v[i].text == NULL ||
			    b.v[i].text_len != strlen(b.v[i].text) ||
			    b.v[i].text_len > 4096 ||
			    !utf8_valid(b.v[i].text, b.v[i].text_len))
				abort();
			one_line(b.v[i].key);
			one_line(b.v[i].from);
			one_line(b.v[i].name);
			one_line(b.v[i].to);
			one_line(b.v[i].subject);
		}
		wh_batch_free(&b);
	} else if (why == NULL)
		abort();
	(void)wh_twilio_sign((const unsigned char *)"k", 1, "https://x/",
	    body, size - 1, out);
	(void)wh_hub_verify((const unsigned char *)"k", 1, body, size - 1, body);
	(void)wh_twilio_verify_json((const unsigned char *)"k", 1, body, body,
	    size - 1, body);
	(void)wh_carrier_keyword(body, size - 1, body);
	(void)wh_std_verify((const unsigned char *)"k", 1, "id", "1700000000",
	    body, size - 1, body, 1700000000);
	rec = wh_raw_record(types[data[0] % 3], &rq, &len);
	free(rec);
	{
		unsigned char *key;
		size_t klen;

		if (wh_std_key(body, &key, &klen) == 0)
			free(key);
	}
	free(body);
	return 0;
}
