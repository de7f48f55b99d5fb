/* SPDX-License-Identifier: MIT */
/*
 * source_http.c: messages polled from an HTTP JSON endpoint (SMS gateway,
 * web form).  GET <url>?since=<cursor> with a bearer token returns
 *
 *   {"messages":[{"id":"...","from":"...","received_at":"ISO8601",
 *     "text":"..."}],"next_cursor":"..."}
 *
 * The whole reply is checked before anything is applied, then its messages
 * and the new cursor are committed (a long reply in several batches, the
 * cursor with the last): a malformed reply
 * changes nothing and is fetched again next time.  The item's id is the
 * source key, so a reply served twice stores nothing twice.  A driver of
 * the source engine (source.c): a listing is one reply, and the reply's
 * next_cursor is saved with the batch that holds its last message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "log.h"
#include "notify.h"
#include "source.h"
#include "util.h"

#define REPLY_MAX	((size_t)32 << 20)	/* one reply */
#define ID_MAX		200
#define FROM_MAX	320
#define CURSOR_MAX	1024
#define PAGES_MAX	20			/* replies per poll */
#define CONNECT_MS	10000L

struct http_priv {
	CURL	*h;	/* kept between polls: keep-alive */
};

/* One checked item; the strings point into the parsed reply. */
struct http_item {
	const char	*id;
	const char	*from;
	const char	*text;
	size_t		 text_len;
	time_t		 received_at;
	json_t		*obj;
};

struct http_reply {
	json_t		*root;
	struct http_item *items;
	size_t		 nitems;
	const char	*next_cursor;	/* NULL: keep the current one */
};

static size_t
body_sink(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	/* A short count aborts the transfer with CURLE_WRITE_ERROR; in
	 * 7.88 this is the only cap that holds mid-transfer. */
	if (buf_add(b, p, size * n) == -1)
		return 0;
	return size * n;
}

static char *
request_url(CURL *h, const char *base, const char *cursor)
{
	char *esc, *url;

	if (cursor == NULL)
		return xstrdup(base);
	esc = curl_easy_escape(h, cursor, 0);
	url = xasprintf("%s%csince=%s", base, strchr(base, '?') ? '&' : '?',
	    esc ? esc : "");
	curl_free(esc);
	return url;
}

/* GET one reply into body.  SRC_OK, SRC_TEMP or SRC_AUTH with *err. */
static int
fetch(struct source *src, struct http_priv *hp, const char *url,
    const char *token, struct buf *body, char **err)
{
	const struct source_config *sc = src->cfg;
	char ebuf[CURL_ERROR_SIZE], *auth;
	struct curl_slist *hdr = NULL;
	long code = 0;
	CURLcode cc;
	CURL *h = hp->h;

	curl_easy_reset(h);
	ebuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* A timed-out lookup's resolver thread is left to finish alone,
	 * not joined (which would wait for resolv.conf's whole timeout). */
	curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	    notify_url_is_loopback(sc->url) ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (sc->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, sc->ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)sc->timeout * 1000L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)sc->timeout);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "intake/" INTAKE_VERSION);
	auth = xasprintf("Authorization: Bearer %s", token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	/* The handle keeps a pointer to the list and the header text. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	if (cc == CURLE_WRITE_ERROR) {
		*err = xasprintf("reply larger than %zu bytes", REPLY_MAX);
		return SRC_TEMP;
	}
	if (cc != CURLE_OK) {
		*err = xasprintf("%s%s%s", curl_easy_strerror(cc), *ebuf ? ": " :
		    "", ebuf);
		return cc == CURLE_UNSUPPORTED_PROTOCOL ? SRC_FATAL : SRC_TEMP;
	}
	if (code == 401 || code == 403) {
		*err = xasprintf("HTTP %ld: token refused", code);
		return SRC_AUTH;
	}
	if (code != 200) {
		*err = xasprintf("HTTP %ld", code);
		return SRC_TEMP;
	}
	return SRC_OK;
}

static const char *
item_string(json_t *o, const char *key, size_t max, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max)
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

/* Check every item before anything is applied.  0, or -1 with *err. */
static int
parse_reply(const char *data, size_t len, size_t text_max,
    struct http_reply *r, char **err)
{
	json_error_t jerr;
	json_t *msgs, *nc, *o;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->root == NULL) {
		*err = xasprintf("malformed JSON at line %d column %d", jerr.line,
		    jerr.column);
		return -1;
	}
	if (!json_is_object(r->root) ||
	    !json_is_array(msgs = json_object_get(r->root, "messages"))) {
		*err = xstrdup("malformed reply: no \"messages\" array");
		return -1;
	}
	nc = json_object_get(r->root, "next_cursor");
	if (nc && !json_is_null(nc)) {
		if (!json_is_string(nc) || json_string_length(nc) == 0 ||
		    json_string_length(nc) > CURSOR_MAX) {
			*err = xstrdup("malformed reply: next_cursor is not a "
			    "string of 1 to 1024 bytes");
			return -1;
		}
		r->next_cursor = json_string_value(nc);
	}
	r->nitems = json_array_size(msgs);
	r->items = xcalloc(r->nitems ? r->nitems : 1, sizeof(*r->items));
	for (i = 0; i < r->nitems; i++) {
		struct http_item *it = &r->items[i];
		const char *when;

		o = json_array_get(msgs, i);
		it->obj = o;
		if (!json_is_object(o) ||
		    (it->id = item_string(o, "id", ID_MAX, NULL)) == NULL ||
		    (it->from = item_string(o, "from", FROM_MAX, NULL)) == NULL ||
		    (when = item_string(o, "received_at", 64, NULL)) == NULL ||
		    iso8601_parse(when, &it->received_at) == -1 ||
		    !json_is_string(json_object_get(o, "text")) ||
		    strpbrk(it->from, "\r\n") != NULL) {
			*err = xasprintf("malformed reply: messages[%zu] needs "
			    "string id, from, text and an ISO 8601 received_at",
			    i);
			return -1;
		}
		it->text = json_string_value(json_object_get(o, "text"));
		it->text_len = json_string_length(json_object_get(o, "text"));
		if (it->text_len > text_max) {
			*err = xasprintf("malformed reply: messages[%zu].text is "
			    "larger than max_message_bytes", i);
			return -1;
		}
	}
	return 0;
}

static void
reply_free(struct http_reply *r)
{
	free(r->items);
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

/* ---- the driver ---------------------------------------------------------- */

/* One listed item, copied out of the reply (which is freed at once). */
struct http_msg {
	char	*record;	/* the item as stored: compact JSON */
	char	*from;
	char	*text;
	size_t	 text_len;
	time_t	 received_at;
};

static void
http_item_free(void *p)
{
	struct http_msg *hm = p;

	free(hm->record);
	free(hm->from);
	free(hm->text);
	free(hm);
}

/* One reply (a page) of items, checked whole before anything is applied;
 * its cursor goes with its last message. */
static int
http_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	struct http_priv *hp = src->priv;
	struct http_reply reply;
	struct buf body;
	char *token = NULL, *url, *terr = NULL;
	size_t i;
	int rc;

	*err = NULL;
	if (src->cfg->token_file == NULL) {
		*err = xstrdup("no token_file configured");
		return SRC_FATAL;
	}
	if (config_read_secret(src->cfg->token_file, &token, &terr) == -1) {
		*err = terr;
		return SRC_FATAL;
	}
	memset(&reply, 0, sizeof(reply));
	buf_init(&body, REPLY_MAX);
	url = request_url(hp->h, src->cfg->url, cur->cursor);
	rc = fetch(src, hp, url, token, &body, err);
	free(url);
	explicit_bzero(token, strlen(token));
	free(token);
	if (rc == SRC_OK && parse_reply(body.data ? body.data : "", body.len,
	    run->ictx->cfg->max_message_bytes, &reply, err) == -1) {
		log_warning("source %s: %s: nothing applied, retrying later",
		    src->cfg->name, *err);
		rc = SRC_TEMP;
	}
	for (i = 0; rc == SRC_OK && i < reply.nitems; i++) {
		const struct http_item *it = &reply.items[i];
		struct http_msg *hm = xcalloc(1, sizeof(*hm));

		hm->record = json_dumps(it->obj, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		hm->from = xstrdup(it->from);
		hm->text = xmalloc(it->text_len + 1);
		memcpy(hm->text, it->text, it->text_len);
		hm->text[it->text_len] = '\0';
		hm->text_len = it->text_len;
		hm->received_at = it->received_at;
		source_listing_add(out, it->id, hm);
	}
	if (rc == SRC_OK && reply.next_cursor) {
		out->end.cursor = xstrdup(reply.next_cursor);
		out->has_end = 1;
	}
	/* Follow the cursor while the server has more, a few pages a poll. */
	out->more = rc == SRC_OK && reply.nitems > 0 &&
	    reply.next_cursor != NULL && out->round + 1 < PAGES_MAX;
	reply_free(&reply);
	buf_free(&body);
	return rc;
}

static int
http_fetch(struct source *src, struct source_run *run, struct source_item *it,
    struct source_msg *m, char **err)
{
	struct http_msg *hm = it->drv;

	(void)src;
	(void)run;
	if (hm->record == NULL) {
		*err = xstrdup("cannot be encoded as JSON");
		return FETCH_FAILED;
	}
	m->buf = hm->record;	/* handed over */
	hm->record = NULL;
	m->raw.data = m->buf;
	m->raw.len = strlen(m->buf);
	m->raw.received_at = hm->received_at;
	/* Borrowed strings: msg is never freed with message_free(). */
	m->msg.from_addr = hm->from;
	m->msg.text = hm->text;
	m->msg.text_len = hm->text_len;
	m->msg.content_type = (char *)"text/plain";
	m->msg.status = MSG_PARSE_OK;
	m->prepared = 1;
	return FETCH_OK;
}

static int
http_wait_fd(struct source *src, int *max_wait)
{
	*max_wait = src->cfg->poll_interval;
	return -1;
}

static void
http_close(struct source *src)
{
	struct http_priv *hp = src->priv;

	if (hp) {
		curl_easy_cleanup(hp->h);
		free(hp);
	}
	src->priv = NULL;
}

static const struct source_driver http_driver = {
	.type = "http",
	.flags = SRCDRV_CURSOR | SRCDRV_WAITING_UNKNOWN,
	.list_new = http_list_new,
	.fetch = http_fetch,
	.item_free = http_item_free,
	.wait_fd = http_wait_fd,
	.close = http_close,
};

int
source_http_init(struct source *src, char **err)
{
	struct http_priv *hp;

	*err = NULL;
	if (src->cfg->url == NULL) {
		*err = xasprintf("source '%s': no url", src->cfg->name);
		return -1;
	}
	hp = xcalloc(1, sizeof(*hp));
	if ((hp->h = curl_easy_init()) == NULL) {
		free(hp);
		*err = xasprintf("source '%s': curl_easy_init failed",
		    src->cfg->name);
		return -1;
	}
	source_set_driver(src, &http_driver, hp);
	return 0;
}
