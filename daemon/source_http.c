/* SPDX-License-Identifier: MIT */
/*
 * source_http.c: messages polled from an HTTP JSON endpoint (SMS gateway,
 * web form).  GET <url>?since=<cursor> with a bearer token returns
 *
 *   {"messages":[{"id":"...","from":"...","received_at":"ISO8601",
 *     "text":"..."}],"next_cursor":"..."}
 *
 * The whole reply is checked before anything is applied, then its messages
 * and the new cursor are committed in one transaction: a malformed reply
 * changes nothing and is fetched again next time.  The item's id is the
 * source key, so a reply served twice stores nothing twice.
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

static int
ingest_item(struct source *src, struct source_run *run,
    const struct http_item *it, struct source_stats *stats)
{
	struct ingest_result res;
	struct raw_input raw;
	struct message msg;
	char *record;
	int rc;

	record = json_dumps(it->obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (record == NULL)
		return STORE_ERR;
	memset(&raw, 0, sizeof(raw));
	raw.data = record;
	raw.len = strlen(record);
	raw.source = src->cfg->name;
	raw.source_key = it->id;
	raw.received_at = it->received_at;
	memset(&msg, 0, sizeof(msg));
	/* Borrowed strings: msg is never freed with message_free(). */
	msg.from_addr = (char *)it->from;
	msg.text = (char *)it->text;
	msg.text_len = it->text_len;
	msg.content_type = (char *)"text/plain";
	msg.status = MSG_PARSE_OK;
	stats->fetched++;
	rc = ingest_prepared(run->ictx, &raw, &msg, &res);
	if (rc == STORE_OK) {
		if (res.duplicate)
			stats->duplicates++;
		else
			stats->stored++;
	}
	free(record);
	return rc;
}

/* Apply one checked reply: its messages and the cursor, one transaction. */
static int
apply(struct source *src, struct source_run *run, const struct http_reply *r,
    struct source_cursor *cur, struct source_stats *stats, char **err)
{
	struct store *st = run->ictx->store;
	struct source_stats tmp = *stats;
	char *old = cur->cursor;
	size_t i;
	int rc;

	if ((rc = store_begin(st)) != STORE_OK)
		goto fail;
	for (i = 0; i < r->nitems; i++)
		if ((rc = ingest_item(src, run, &r->items[i], &tmp)) != STORE_OK)
			goto rollback;
	if (r->next_cursor)
		cur->cursor = (char *)r->next_cursor;
	rc = srcstate_set(st, src->cfg->name, cur);
	cur->cursor = old;
	if (rc != STORE_OK)
		goto rollback;
	if ((rc = store_commit(st)) != STORE_OK)
		goto fail;
	*stats = tmp;
	if (r->next_cursor) {
		free(cur->cursor);
		cur->cursor = xstrdup(r->next_cursor);
	}
	return SRC_OK;
rollback:
	store_rollback(st);
fail:
	*err = xasprintf("database: %s", store_errmsg(st));
	return rc == STORE_TEMP ? SRC_STORE : SRC_FATAL;
}

static int
http_poll(struct source *src, struct source_run *run,
    struct source_stats *stats, char **err)
{
	struct http_priv *hp = src->priv;
	struct source_cursor cur;
	struct http_reply reply;
	struct buf body;
	char *token = NULL, *url, *terr = NULL;
	int rc, page;

	stats->waiting = -1;
	*err = NULL;
	if (src->cfg->token_file == NULL) {
		*err = xstrdup("no token_file configured");
		return SRC_FATAL;
	}
	if (config_read_secret(src->cfg->token_file, &token, &terr) == -1) {
		*err = terr;
		return SRC_FATAL;
	}
	if ((rc = srcstate_get(run->ictx->store, src->cfg->name, &cur)) !=
	    STORE_OK) {
		*err = xasprintf("database: %s", store_errmsg(run->ictx->store));
		free(token);
		return rc == STORE_TEMP ? SRC_STORE : SRC_FATAL;
	}
	rc = SRC_OK;
	/* Follow the cursor while the server has more, a few pages a poll. */
	for (page = 0; page < PAGES_MAX && !*run->stop; page++) {
		memset(&reply, 0, sizeof(reply));
		buf_init(&body, REPLY_MAX);
		url = request_url(hp->h, src->cfg->url, cur.cursor);
		rc = fetch(src, hp, url, token, &body, err);
		free(url);
		if (rc == SRC_OK && parse_reply(body.data ? body.data : "",
		    body.len, run->ictx->cfg->max_message_bytes, &reply,
		    err) == -1) {
			log_warning("source %s: %s: nothing applied, retrying "
			    "later", src->cfg->name, *err);
			rc = SRC_TEMP;
		} else if (rc == SRC_OK) {
			rc = apply(src, run, &reply, &cur, stats, err);
			if (rc == SRC_OK && (reply.nitems == 0 ||
			    reply.next_cursor == NULL))
				page = PAGES_MAX;	/* caught up */
		}
		reply_free(&reply);
		buf_free(&body);
		if (rc != SRC_OK)
			break;
	}
	explicit_bzero(token, strlen(token));
	free(token);
	source_cursor_free(&cur);
	return rc;
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

static const struct source_ops http_ops = {
	.poll = http_poll,
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
	src->ops = &http_ops;
	src->priv = hp;
	return 0;
}
