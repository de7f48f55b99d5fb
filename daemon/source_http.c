/* SPDX-License-Identifier: MIT */
/*
 * source_http.c: messages polled from an HTTP JSON endpoint (SMS gateway,
 * web form).  GET <url>?since=<cursor> with a bearer token returns
 *
 *   {"messages":[{"id":"...","from":"...","received_at":"ISO8601",
 *     "text":"..."}],"next_cursor":"..."}
 *
 * The reply is split into its items before anything is applied, then its
 * messages and the new cursor are committed (a long reply in several
 * batches, the cursor with the last).  A bad item (invalid JSON, UTF-8 or
 * fields) is stored at once as a ticket for a human with its exact bytes,
 * and the items behind it go on; a reply that cannot be split (over the
 * cap, truncated) changes nothing, is fetched again after the back-off and
 * raises one health alert for the run of such refusals.  The item's id is
 * the source key, so a reply served twice stores nothing twice.  A driver of
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
#include "outbox.h"
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

/* A piece of the reply, as its exact bytes. */
struct span {
	const char	*p;
	size_t		 n;
};

/* One item of a reply.  The strings point into obj; a bad item (why set)
 * keeps what could be read. */
struct http_item {
	struct span	 raw;
	const char	*id;	/* the source key: the item's id, or key */
	char		*key;	/* "sha256:<hex>" when there is no usable id */
	const char	*from;	/* NULL: anonymous (or not usable) */
	const char	*text;	/* NULL: none could be read */
	char		*own;	/* text, when it had to be cleaned */
	size_t		 text_len;
	time_t		 received_at;
	int		 oversize;
	const char	*why;	/* NULL: a good item */
	json_t		*obj;
};

struct http_reply {
	struct http_item *items;
	size_t		 nitems;
	json_t		*cursor;
	const char	*next_cursor;	/* NULL: keep the current one */
};

static void	reply_free(struct http_reply *);

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
		*err = xasprintf("reply refused: larger than %zu bytes",
		    REPLY_MAX);
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

/* ---- the reply, split before it is parsed -------------------------------- */

/*
 * One reply is one JSON object, but one bad item (an invalid UTF-8 byte, a
 * NUL) makes a strict parser refuse all of it, so the items behind it
 * would never be stored.  The reply is split first with a scanner that
 * only follows strings and brackets (no validation), and each piece is
 * then parsed strictly on its own: a bad item stays one bad item, with its
 * exact bytes.  Only a reply whose structure cannot be followed at all is
 * refused as a whole.
 */

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static int
is_delim(char c)
{
	return c == ',' || c == ']' || c == '}' || c == ':' || c == ' ' ||
	    c == '\t' || c == '\r' || c == '\n';
}

/* The end of the value starting at p (string, container or scalar), or
 * NULL when it does not end before e (unterminated, unbalanced).  Counts
 * brackets without a stack, so no nesting can exhaust one. */
static const char *
value_end(const char *p, const char *e)
{
	const char *s = p;
	size_t depth = 0;
	int instr = 0;

	if (p >= e)
		return NULL;
	if (*p != '{' && *p != '[' && *p != '"') {
		while (p < e && !is_delim(*p))
			p++;
		return p == s ? NULL : p;
	}
	for (; p < e; p++) {
		if (instr) {
			if (*p == '\\') {
				if (++p == e)
					return NULL;
			} else if (*p == '"') {
				instr = 0;
				if (depth == 0)
					return p + 1;
			}
			continue;
		}
		if (*p == '"')
			instr = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return NULL;
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

static int
key_is(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	return n == l + 2 && p[0] == '"' && memcmp(p + 1, name, l) == 0 &&
	    p[l + 1] == '"';
}

/* The reply's members: the "messages" array and "next_cursor" as spans
 * (p NULL: absent).  0, or -1 with *err. */
static int
split_reply(const char *data, size_t len, struct span *msgs,
    struct span *cursor, char **err)
{
	const char *p, *e = data + len, *k, *ke, *v, *ve;
	struct span *slot;

	memset(msgs, 0, sizeof(*msgs));
	memset(cursor, 0, sizeof(*cursor));
	p = skip_ws(data, e);
	if (p == e || *p != '{')
		goto bad;
	p = skip_ws(p + 1, e);
	while (p < e && *p != '}') {
		k = p;
		if (*k != '"' || (ke = value_end(k, e)) == NULL)
			goto bad;
		p = skip_ws(ke, e);
		if (p == e || *p != ':')
			goto bad;
		v = skip_ws(p + 1, e);
		if ((ve = value_end(v, e)) == NULL)
			goto bad;
		slot = key_is(k, (size_t)(ke - k), "messages") ? msgs :
		    key_is(k, (size_t)(ke - k), "next_cursor") ? cursor : NULL;
		if (slot && slot->p) {
			*err = xstrdup("reply refused: a member appears twice");
			return -1;
		}
		if (slot) {
			slot->p = v;
			slot->n = (size_t)(ve - v);
		}
		p = skip_ws(ve, e);
		if (p < e && *p == ',')
			p = skip_ws(p + 1, e);
		else if (p == e || *p != '}')
			goto bad;
	}
	if (p == e || skip_ws(p + 1, e) != e)
		goto bad;
	if (msgs->p == NULL || *msgs->p != '[') {
		*err = xstrdup("reply refused: no \"messages\" array");
		return -1;
	}
	return 0;
bad:
	*err = xasprintf("reply refused: not a JSON object (malformed at byte "
	    "%zu)", p ? (size_t)(p - data) : (size_t)0);
	return -1;
}

/* The elements of the messages array span, each as its exact bytes. */
static int
split_items(const struct span *msgs, struct span **out, size_t *n,
    char **err)
{
	const char *p = msgs->p + 1, *e = msgs->p + msgs->n - 1, *ve;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	p = skip_ws(p, e);
	while (p < e) {
		if ((ve = value_end(p, e)) == NULL)
			goto bad;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		(*out)[*n].p = p;
		(*out)[(*n)++].n = (size_t)(ve - p);
		p = skip_ws(ve, e);
		if (p < e) {
			if (*p != ',')
				goto bad;
			p = skip_ws(p + 1, e);
			if (p == e)	/* a trailing comma */
				goto bad;
		}
	}
	return 0;
bad:
	free(*out);
	*out = NULL;
	*err = xasprintf("reply refused: the \"messages\" array is malformed "
	    "after item %zu", *n);
	return -1;
}

static int
id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

/* One line, no control bytes, at most FROM_MAX: a sender we can show. */
static int
from_ok(const char *s, size_t n)
{
	size_t i;

	if (n > FROM_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * One item, from its exact bytes.  A good one needs a string id (1-200
 * printable ASCII bytes), a text string, an ISO 8601 received_at, and a
 * from that is absent, null, empty (an anonymous web form) or one line.
 * Anything else is a bad item: it->why says what (no message text), and
 * whatever could be read (the sender, the time, the text) is kept for the
 * ticket; an item with no usable id is keyed by its SHA-256, so a reply
 * served again still stores it once.
 */
static void
parse_item(const struct span *sp, size_t text_max, struct http_item *it)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *s;
	char hex[65], *fixed;

	memset(it, 0, sizeof(*it));
	it->raw = *sp;
	it->received_at = time(NULL);
	o = json_loadb(sp->p, sp->n, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		/* Invalid UTF-8 or a NUL: still read what can be read (its id
		 * above all), from a copy with those replaced by U+FFFD. */
		fixed = utf8_sanitize(sp->p, sp->n);
		o = json_loadb(fixed, strlen(fixed), JSON_REJECT_DUPLICATES |
		    JSON_ALLOW_NUL, &jerr);
		free(fixed);
		it->why = "not valid JSON (a syntax error, invalid UTF-8, a NUL "
		    "or a repeated key)";
	}
	it->obj = o;
	if (o == NULL || !json_is_object(o)) {
		if (o)
			it->why = "not a JSON object";
		goto key;
	}
	v = json_object_get(o, "id");
	if (json_is_string(v) && id_ok(json_string_value(v),
	    json_string_length(v)))
		it->id = json_string_value(v);
	else
		it->why = "no id of 1 to 200 printable ASCII bytes";
	v = json_object_get(o, "from");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !from_ok(json_string_value(v),
		    json_string_length(v))) {
			if (it->why == NULL)
				it->why = "from is not one line of at most 320 "
				    "bytes";
		} else if (json_string_length(v) > 0)
			it->from = json_string_value(v);
	}
	v = json_object_get(o, "received_at");
	if (!json_is_string(v) || json_string_length(v) > 64 ||
	    iso8601_parse(json_string_value(v), &it->received_at) == -1) {
		it->received_at = time(NULL);
		if (it->why == NULL)
			it->why = "received_at is not an ISO 8601 time";
	}
	v = json_object_get(o, "text");
	if (!json_is_string(v)) {
		if (it->why == NULL)
			it->why = "no text string";
	} else if (json_string_length(v) > text_max) {
		it->oversize = 1;
		if (it->why == NULL)
			it->why = "text larger than max_message_bytes";
	} else if (memchr(json_string_value(v), '\0', json_string_length(v))) {
		it->own = utf8_sanitize(json_string_value(v),
		    json_string_length(v));	/* a \u0000: U+FFFD */
		it->text = it->own;
		it->text_len = strlen(it->own);
	} else {
		it->text = json_string_value(v);
		it->text_len = json_string_length(v);
	}
key:
	if (it->id)
		return;
	sha256_hex(sp->p, sp->n, hex);
	it->key = xasprintf("sha256:%s", hex);
	s = it->key;
	it->id = s;
}

/* Split, then read every item.  0, or -1 with *err ("reply refused: ..."):
 * nothing in it is applied. */
static int
parse_reply(const char *data, size_t len, size_t text_max,
    struct http_reply *r, char **err)
{
	struct span msgs, cur, *items = NULL;
	json_error_t jerr;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	if (split_reply(data, len, &msgs, &cur, err) == -1 ||
	    split_items(&msgs, &items, &n, err) == -1)
		return -1;
	if (cur.p && (r->cursor = json_loadb(cur.p, cur.n, JSON_DECODE_ANY,
	    &jerr)) != NULL && !json_is_null(r->cursor)) {
		if (!json_is_string(r->cursor) ||
		    json_string_length(r->cursor) == 0 ||
		    json_string_length(r->cursor) > CURSOR_MAX) {
			*err = xstrdup("reply refused: next_cursor is not a "
			    "string of 1 to 1024 bytes");
			free(items);
			reply_free(r);
			return -1;
		}
		r->next_cursor = json_string_value(r->cursor);
	} else if (cur.p && r->cursor == NULL) {
		*err = xstrdup("reply refused: next_cursor is not valid JSON");
		free(items);
		return -1;
	}
	r->nitems = n;
	r->items = xcalloc(n ? n : 1, sizeof(*r->items));
	for (i = 0; i < n; i++)
		parse_item(&items[i], text_max, &r->items[i]);
	free(items);
	return 0;
}

static void
reply_free(struct http_reply *r)
{
	size_t i;

	for (i = 0; i < r->nitems; i++) {
		json_decref(r->items[i].obj);
		free(r->items[i].key);
		free(r->items[i].own);
	}
	free(r->items);
	json_decref(r->cursor);
	memset(r, 0, sizeof(*r));
}

/*
 * A reply refused as a whole (over the cap, or not the format at all):
 * nothing in it is applied and it is fetched again after the back-off, but
 * that must not go on silently: each refusal is logged as an error, and
 * the first of a run of them queues one health alert.  The run is read
 * from source_state (the last poll failed with a refusal too), so neither
 * a restart nor intaked --once repeats the alert; a good poll ends it.
 */
static const struct query q_refused_before = {
	/* the text is ours, lower case: LIKE matches it alike on both */
	"SELECT 1 FROM source_state WHERE source = ?1 AND "
	"consecutive_failures > 0 AND last_error LIKE 'reply refused:%'", NULL
};

static void
reply_refused(struct source *src, struct source_run *run, const char *why)
{
	struct store *st = run->ictx->store;
	const char *name = src->cfg->name;
	struct stmt *s;
	int rc, again = 0;

	if ((s = store_prepare(st, &q_refused_before, &rc)) != NULL) {
		if (store_bind_text(s, 1, name, (size_t)-1) == STORE_OK)
			again = store_step(s) == STORE_ROW;
		store_done(s);
	}
	log_err("source %s: %s: nothing applied; fetched again after the "
	    "back-off%s", name, why, again ? " (still refused: alerted "
	    "before)" : "");
	if (again || store_begin(st) != STORE_OK)
		return;
	if (outbox_queue_health(st, run->ictx->cfg, name, "reply refused", why,
	    time(NULL)) < 0 || store_commit(st) != STORE_OK)
		store_rollback(st);
}

/* ---- the driver ---------------------------------------------------------- */

/* One listed item, copied out of the reply (which is freed at once). */
struct http_msg {
	char	*record;	/* the item's exact bytes (cut when oversize) */
	size_t	 record_len;
	size_t	 real_size;	/* the item's whole size */
	int	 oversize;
	char	*from;		/* NULL: anonymous, or not usable */
	char	*text;		/* NULL: none could be read */
	size_t	 text_len;
	time_t	 received_at;
	const char *why;	/* a bad item: why (static text); NULL: good */
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

static struct http_msg *
http_msg_new(const struct http_item *it, size_t max)
{
	struct http_msg *hm = xcalloc(1, sizeof(*hm));

	hm->real_size = it->raw.n;
	hm->oversize = it->oversize || it->raw.n > max;
	hm->record_len = it->raw.n > max ? max : it->raw.n;
	hm->record = xmalloc(hm->record_len + 1);
	memcpy(hm->record, it->raw.p, hm->record_len);
	hm->record[hm->record_len] = '\0';
	hm->from = it->from ? xstrdup(it->from) : NULL;
	if (it->text && !hm->oversize) {
		hm->text = xmalloc(it->text_len + 1);
		memcpy(hm->text, it->text, it->text_len);
		hm->text[it->text_len] = '\0';
		hm->text_len = it->text_len;
	}
	hm->received_at = it->received_at;
	hm->why = it->why ? it->why : hm->oversize ? "larger than "
	    "max_message_bytes" : NULL;
	return hm;
}

/* One reply (a page) of items, split before anything is applied; its
 * cursor goes with its last message. */
static int
http_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	struct http_priv *hp = src->priv;
	struct http_reply reply;
	struct buf body;
	char *token = NULL, *url, *terr = NULL;
	size_t i, max = run->ictx->cfg->max_message_bytes;
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
	    max, &reply, err) == -1)
		rc = SRC_TEMP;
	if (rc == SRC_TEMP && *err && strncmp(*err, "reply refused:", 14) == 0)
		reply_refused(src, run, *err);
	for (i = 0; rc == SRC_OK && i < reply.nitems; i++)
		source_listing_add(out, reply.items[i].id,
		    http_msg_new(&reply.items[i], max));
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

	(void)run;
	(void)err;
	m->buf = hm->record;	/* handed over */
	hm->record = NULL;
	m->raw.data = m->buf;
	m->raw.len = hm->record_len;
	m->raw.oversize = hm->oversize;
	m->raw.real_size = hm->real_size;
	m->raw.received_at = hm->received_at;
	/* Borrowed strings: msg is never freed with message_free(). */
	m->msg.from_addr = hm->from;
	m->msg.text = hm->text;
	m->msg.text_len = hm->text_len;
	m->msg.content_type = (char *)"text/plain";
	m->msg.status = MSG_PARSE_OK;
	m->prepared = 1;
	/* A bad item is not retried: it will not get better.  It becomes a
	 * ticket for a human now, with its bytes, and the items behind it
	 * go on. */
	if (hm->why) {
		m->msg.status = MSG_PARSE_ERROR;
		m->msg.parse_error = (char *)hm->why;
		log_warning("source %s: item %s: %s: stored as a ticket for a "
		    "human with its raw bytes", src->cfg->name, it->key,
		    hm->why);
	}
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
