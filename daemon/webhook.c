/* SPDX-License-Identifier: MIT */
/*
 * webhook.c: the push channels' checks and their mapping to messages
 * (webhook.h).  Every signature is computed over the exact bytes received
 * and compared in constant time; nothing of a request is parsed before
 * its signature is good.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "util.h"
#include "webhook.h"

#define MEDIA_MAX	10	/* Twilio sends at most 10 media per MMS */

int
wh_memeq(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *p = a, *q = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= p[i] ^ q[i];
	return d == 0;
}

/* ---- base64 and hex ------------------------------------------------------ */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* out: 4 * ((n + 2) / 3) + 1 bytes. */
static void
b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int
b64_value(int c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64chars, c)) == NULL)
		return -1;
	return (int)(p - b64chars);
}

/* Standard base64 with padding; 0, or -1.  *out malloc'd. */
static int
b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), i, o = 0;
	unsigned char *d;
	int v[4], k;

	*out = NULL;
	if (n == 0 || n % 4 != 0)
		return -1;
	d = xmalloc(n / 4 * 3);
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			v[k] = b64_value((unsigned char)s[i + k]);
			if (v[k] < 0 && !(s[i + k] == '=' && i + 4 == n && k >= 2 &&
			    (k == 3 || s[i + 3] == '='))) {
				free(d);
				return -1;
			}
		}
		d[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			d[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			d[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*out = d;
	*outlen = o;
	return 0;
}

static int
hmac(gnutls_mac_algorithm_t alg, const unsigned char *key, size_t klen,
    const void *data, size_t len, unsigned char *out)
{
	/* gnutls refuses a NULL key pointer even of length 0 */
	return gnutls_hmac_fast(alg, klen ? (const void *)key : "", klen, data,
	    len, out) == 0 ? 0 : -1;
}

/* ---- forms --------------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL-decode s[0..n): '+' is a space; a bad %-escape is kept as it is. */
static char *
form_decode(const char *s, size_t n, size_t *outlen)
{
	char *d = xmalloc(n + 1);
	size_t i, o = 0;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			d[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			d[o++] = (char)(h << 4 | l);
			i += 2;
		} else
			d[o++] = s[i];
	}
	d[o] = '\0';
	*outlen = o;
	return d;
}

struct pair {
	char	*name, *value;
	size_t	 nlen, vlen;
};

static size_t
form_pairs(const char *form, size_t flen, struct pair **out)
{
	struct pair *v = NULL;
	size_t n = 0, cap = 0, i = 0, j, eq;

	while (i < flen) {
		for (j = i; j < flen && form[j] != '&'; j++)
			;
		if (j > i) {
			for (eq = i; eq < j && form[eq] != '='; eq++)
				;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n].name = form_decode(form + i, eq - i, &v[n].nlen);
			v[n].value = eq < j ? form_decode(form + eq + 1, j - eq - 1,
			    &v[n].vlen) : form_decode("", 0, &v[n].vlen);
			n++;
		}
		i = j + 1;
	}
	*out = v;
	return n;
}

static void
pairs_free(struct pair *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static int
bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

static int
pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	int c = bytes_cmp(a->name, a->nlen, b->name, b->nlen);

	return c ? c : bytes_cmp(a->value, a->vlen, b->value, b->vlen);
}

/* One value of an application/x-www-form-urlencoded body, decoded (the
 * first of that name), or NULL.  Caller frees; *len its length. */
static char *
wh_form_value(const char *form, size_t flen, const char *name, size_t *len)
{
	struct pair *v;
	size_t n, i;
	char *out = NULL;

	n = form_pairs(form, flen, &v);
	for (i = 0; i < n && out == NULL; i++)
		if (v[i].nlen == strlen(name) &&
		    memcmp(v[i].name, name, v[i].nlen) == 0) {
			out = v[i].value;
			*len = v[i].vlen;
			v[i].value = NULL;
		}
	pairs_free(v, n);
	return out;
}

/* ---- the signature schemes ----------------------------------------------- */

int
wh_twilio_sign(const unsigned char *token, size_t tlen, const char *url,
    const char *form, size_t flen, char out[29])
{
	unsigned char mac[20];
	struct pair *v;
	struct buf b;
	size_t n, i;
	int rc;

	n = form_pairs(form, flen, &v);
	if (n > 1)
		qsort(v, n, sizeof(*v), pair_cmp);
	buf_init(&b, 0);
	buf_addstr(&b, url);
	for (i = 0; i < n; i++) {
		/* Twilio's own libraries sign each distinct pair once */
		if (i > 0 && pair_cmp(&v[i - 1], &v[i]) == 0)
			continue;
		buf_add(&b, v[i].name, v[i].nlen);
		buf_add(&b, v[i].value, v[i].vlen);
	}
	rc = hmac(GNUTLS_MAC_SHA1, token, tlen, b.data ? b.data : "", b.len,
	    mac);
	buf_free(&b);
	pairs_free(v, n);
	if (rc == 0)
		b64_encode(mac, sizeof(mac), out);
	return rc;
}

int
wh_twilio_verify(const unsigned char *token, size_t tlen, const char *url,
    const char *form, size_t flen, const char *sig)
{
	char want[29];

	if (sig == NULL || strlen(sig) != 28 ||
	    wh_twilio_sign(token, tlen, url, form, flen, want) == -1)
		return 0;
	return wh_memeq(want, sig, 28);
}

/* The value of parameter name in query (not decoded), or NULL. */
static const char *
query_param(const char *query, const char *name, size_t *len)
{
	size_t n = strlen(name);
	const char *p = query, *e;

	while (p && *p) {
		e = p + strcspn(p, "&");
		if ((size_t)(e - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			*len = (size_t)(e - p) - n - 1;
			return p + n + 1;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

int
wh_twilio_verify_json(const unsigned char *token, size_t tlen,
    const char *url, const char *body, size_t blen, const char *sig)
{
	const char *q = strchr(url, '?'), *h;
	char want[65], got[65];
	size_t hlen, i;
	int body_ok;

	if (q == NULL || (h = query_param(q + 1, "bodySHA256", &hlen)) == NULL ||
	    hlen != 64)
		return 0;
	sha256_hex(blen ? body : "", blen, want);
	for (i = 0; i < 64; i++)
		got[i] = (char)tolower((unsigned char)h[i]);
	got[64] = '\0';
	body_ok = wh_memeq(want, got, 64);
	/* both checked, whatever the first says: no early exit */
	return wh_twilio_verify(token, tlen, url, "", 0, sig) & body_ok;
}

int
wh_hub_verify(const unsigned char *secret, size_t slen, const char *body,
    size_t blen, const char *sig)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char mac[32];
	char want[65], got[65];
	size_t i;

	if (sig == NULL || strncmp(sig, "sha256=", 7) != 0 ||
	    strlen(sig + 7) != 64)
		return 0;
	if (hmac(GNUTLS_MAC_SHA256, secret, slen, blen ? body : "", blen,
	    mac) == -1)
		return 0;
	for (i = 0; i < 32; i++) {
		want[2 * i] = hexd[mac[i] >> 4];
		want[2 * i + 1] = hexd[mac[i] & 15];
	}
	/* hex digits in either case */
	for (i = 0; i < 64; i++)
		got[i] = (char)tolower((unsigned char)sig[7 + i]);
	return wh_memeq(want, got, 64);
}

int
wh_std_key(const char *secret, unsigned char **key, size_t *klen)
{
	if (strncmp(secret, "whsec_", 6) == 0)
		return b64_decode(secret + 6, key, klen);
	*klen = strlen(secret);
	*key = (unsigned char *)xstrdup(secret);
	return 0;
}

int
wh_std_verify(const unsigned char *key, size_t klen, const char *id,
    const char *timestamp, const char *body, size_t blen, const char *sig,
    time_t now)
{
	unsigned long long ts;
	unsigned char mac[32];
	char want[45];
	const char *p, *e;
	struct buf b;
	int rc, good = 0;

	if (id == NULL || timestamp == NULL || sig == NULL || *id == '\0' ||
	    strlen(id) > WH_ID_MAX ||
	    parse_uint(timestamp, 0, 1ULL << 40, &ts) == -1)
		return WH_NOSIG;
	buf_init(&b, 0);
	buf_addf(&b, "%s.%s.", id, timestamp);
	buf_add(&b, body, blen);
	rc = hmac(GNUTLS_MAC_SHA256, key, klen, b.data, b.len, mac);
	buf_free(&b);
	if (rc == -1)
		return WH_BADSIG;
	b64_encode(mac, sizeof(mac), want);
	/* "v1,SIG v1,SIG2 ...": one good v1 signature suffices */
	for (p = sig; *p; p = e) {
		while (*p == ' ')
			p++;
		for (e = p; *e && *e != ' '; e++)
			;
		if (e - p == 3 + 44 && strncmp(p, "v1,", 3) == 0 &&
		    wh_memeq(p + 3, want, 44))
			good = 1;
	}
	if (!good)
		return WH_BADSIG;
	if ((long long)ts > (long long)now + WH_WINDOW ||
	    (long long)ts < (long long)now - WH_WINDOW)
		return WH_STALE;
	return WH_OK;
}

/* ---- the checks ---------------------------------------------------------- */

/* The media type of a Content-Type is want (parameters allowed). */
static int
media_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' ||
	    ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

int
wh_check(const struct source_config *sc, const struct wh_secrets *sec,
    const struct wh_request *rq, time_t now, const char **why)
{
	char *url;
	int ok, json;

	if (rq->method == NULL || strcmp(rq->method, "POST") != 0) {
		*why = "method not allowed";
		return 405;
	}
	json = media_type_is(rq->content_type, "application/json");
	if (!json && !(sc->type == SOURCE_TWILIO && media_type_is(
	    rq->content_type, "application/x-www-form-urlencoded"))) {
		*why = "wrong content type";
		return 415;
	}
	if (rq->signature == NULL || *rq->signature == '\0') {
		*why = "no signature";
		return 401;
	}
	switch (sc->type) {
	case SOURCE_TWILIO:
		url = rq->query ? xasprintf("%s?%s", sc->public_url, rq->query) :
		    xstrdup(sc->public_url);
		ok = json ? wh_twilio_verify_json(sec->key, sec->keylen, url,
		    rq->body, rq->body_len, rq->signature) :
		    wh_twilio_verify(sec->key, sec->keylen, url, rq->body,
		    rq->body_len, rq->signature);
		free(url);
		break;
	case SOURCE_WHATSAPP:
		ok = wh_hub_verify(sec->key, sec->keylen, rq->body, rq->body_len,
		    rq->signature);
		break;
	case SOURCE_WEBHOOK:
		switch (wh_std_verify(sec->key, sec->keylen, rq->wh_id,
		    rq->wh_timestamp, rq->body, rq->body_len, rq->signature,
		    now)) {
		case WH_OK:
			ok = 1;
			break;
		case WH_NOSIG:
			*why = "no or malformed webhook-id, webhook-timestamp "
			    "or webhook-signature";
			return 401;
		case WH_STALE:
			*why = "webhook-timestamp outside the 5-minute window";
			return 403;
		default:
			ok = 0;
		}
		break;
	default:
		*why = "not a push source";
		return 404;
	}
	if (!ok) {
		*why = "bad signature";
		return 401;
	}
	*why = NULL;
	return 0;
}

/* ---- messages ------------------------------------------------------------ */

/* Valid UTF-8, no NUL; one_line: every control byte a space; at most max
 * bytes (0: no limit).  NULL stays NULL, and so does an empty one_line
 * value (an absent sender). */
static char *
clean(const char *s, size_t len, int one_line, size_t max)
{
	char *u, *t;
	size_t i;

	if (s == NULL)
		return NULL;
	u = utf8_sanitize(s, len);
	if (one_line) {
		for (i = 0; u[i]; i++)
			if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
				u[i] = ' ';
		for (i = strlen(u); i > 0 && u[i - 1] == ' '; i--)
			u[i - 1] = '\0';
		for (i = 0; u[i] == ' '; i++)
			;
		if (u[i] == '\0') {
			free(u);
			return NULL;
		}
		if (i) {
			t = xstrdup(u + i);
			free(u);
			u = t;
		}
	}
	if (max && strlen(u) > max) {
		t = utf8_truncate(u, max);
		free(u);
		u = t;
	}
	return u;
}

static struct wh_msg *
batch_add(struct wh_batch *b)
{
	b->v = xreallocarray(b->v, b->n + 1, sizeof(*b->v));
	memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
	return &b->v[b->n++];
}

/* A provider id: 1-WH_ID_MAX printable ASCII bytes. */
static int
id_ok(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n == 0 || n > WH_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static void
set_text(struct wh_msg *m, struct buf *t, size_t text_max)
{
	m->text = clean(t->data ? t->data : "", t->len, 0, text_max);
	m->text_len = strlen(m->text);
}

static const char *const keywords[] = {
	"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
	"OPTOUT", "START", "UNSTOP", "HELP", "INFO",
};

/* The keyword that w[0..n) is (any case), or NULL. */
static const char *
keyword_of(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i]) == n && strncasecmp(w, keywords[i], n) == 0)
			return keywords[i];
	return NULL;
}

const char *
wh_carrier_keyword(const char *text, size_t len, const char *opt_out)
{
	const char *k = NULL;
	size_t b = 0, e = len;

	if (text != NULL) {
		while (b < e && isspace((unsigned char)text[b]))
			b++;
		while (e > b && isspace((unsigned char)text[e - 1]))
			e--;
		if (e > b && (text[e - 1] == '.' || text[e - 1] == '!'))
			e--;
		k = keyword_of(text + b, e - b);
	}
	/* Twilio's Advanced Opt-Out names the class of a word it was told
	 * to treat as one (YES for START...): flag that too. */
	if (k == NULL && opt_out != NULL && (strcasecmp(opt_out, "STOP") == 0 ||
	    strcasecmp(opt_out, "START") == 0 || strcasecmp(opt_out, "HELP") == 0))
		k = keyword_of(opt_out, strlen(opt_out));
	return k;
}

static json_t *
jget(json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *
jstr(json_t *o, const char *key, size_t *len)
{
	json_t *v = jget(o, key);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

/* One Twilio parameter: from the form, or from the object of the JSON
 * variant (a number as its digits).  Caller frees; may hold NULs. */
static char *
tw_value(const struct wh_request *rq, json_t *root, const char *name,
    size_t *len)
{
	json_t *v;
	char *d;

	if (root == NULL)
		return wh_form_value(rq->body, rq->body_len, name, len);
	v = jget(root, name);
	if (json_is_integer(v)) {
		d = xasprintf("%lld", (long long)json_integer_value(v));
		*len = strlen(d);
		return d;
	}
	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	d = xmalloc(*len + 1);
	memcpy(d, json_string_value(v), *len);
	d[*len] = '\0';
	return d;
}

static int
parse_twilio(const struct wh_request *rq, size_t text_max,
    struct wh_batch *out, const char **why)
{
	size_t len, blen, i;
	char *sid, *v, name[32], *url, *type;
	unsigned long long nmedia = 0, nseg = 0;
	json_t *root = NULL;
	json_error_t jerr;
	struct wh_msg *m;
	struct buf t;

	/* json_is_object() is a macro that evaluates its argument twice */
	if (media_type_is(rq->content_type, "application/json") &&
	    (root = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES,
	    &jerr), !json_is_object(root))) {
		json_decref(root);
		*why = "not a JSON object";
		return -1;
	}
	sid = tw_value(rq, root, "MessageSid", &len);
	if (!id_ok(sid, sid ? len : 0)) {
		free(sid);
		json_decref(root);
		*why = "no MessageSid";
		return -1;
	}
	m = batch_add(out);
	m->key = sid;
	v = tw_value(rq, root, "From", &len);
	m->from = clean(v, v ? len : 0, 1, WH_FROM_MAX);
	free(v);
	v = tw_value(rq, root, "To", &len);
	m->to = clean(v, v ? len : 0, 1, WH_FROM_MAX);
	free(v);
	/* Only the channel and the number: a synthesized subject must not
	 * sway triage ("message from" reads as automated mail to it). */
	m->subject = m->from ? xasprintf("SMS %s", m->from) : xstrdup("SMS");
	buf_init(&t, 0);
	v = tw_value(rq, root, "Body", &len);
	if (v)
		buf_add(&t, v, len);
	blen = v ? len : 0;
	type = tw_value(rq, root, "OptOutType", &len);
	m->keyword = wh_carrier_keyword(v, blen, type);
	free(type);
	free(v);
	/* A long SMS is sent as segments; Twilio joins them before the
	 * webhook and says how many there were: one message. */
	v = tw_value(rq, root, "NumSegments", &len);
	if (v && parse_uint(v, 1, 1000, &nseg) == 0 && nseg > 1)
		m->segments = (int)nseg;
	free(v);
	v = tw_value(rq, root, "NumMedia", &len);
	if (v && parse_uint(v, 0, 1000, &nmedia) == -1)
		nmedia = 0;
	free(v);
	for (i = 0; i < nmedia && i < MEDIA_MAX; i++) {
		snprintf(name, sizeof(name), "MediaUrl%zu", i);
		url = tw_value(rq, root, name, &len);
		snprintf(name, sizeof(name), "MediaContentType%zu", i);
		type = tw_value(rq, root, name, &len);
		if (url) {
			char *cu = clean(url, strlen(url), 1, 2048);
			char *ctype = clean(type, type ? strlen(type) : 0, 1, 200);

			buf_addf(&t, "%s[media %zu: %s %s]", t.len ? "\n\n" : "",
			    i, ctype ? ctype : "unknown", cu ? cu : "");
			free(cu);
			free(ctype);
		}
		free(url);
		free(type);
	}
	set_text(m, &t, text_max);
	buf_free(&t);
	json_decref(root);
	return 0;
}

/* The profile name WhatsApp sends for wa id `from`, or NULL. */
static const char *
wa_name(json_t *value, const char *from, size_t *len)
{
	json_t *contacts = jget(value, "contacts"), *c;
	const char *id;
	size_t i, n;

	if (!json_is_array(contacts))
		return NULL;
	json_array_foreach(contacts, i, c) {
		if ((id = jstr(c, "wa_id", &n)) != NULL && strcmp(id, from) == 0)
			return jstr(jget(c, "profile"), "name", len);
	}
	return NULL;
}

static void
wa_message(json_t *value, json_t *msg, size_t text_max, struct wh_batch *out)
{
	const char *id, *from, *type, *s;
	size_t idlen, flen, len;
	struct wh_msg *m;
	struct buf t;
	char *f;

	if ((id = jstr(msg, "id", &idlen)) == NULL || !id_ok(id, idlen))
		return;		/* nothing to key it by: never stored */
	m = batch_add(out);
	m->key = xstrdup(id);
	from = jstr(msg, "from", &flen);
	if (from && flen) {
		f = clean(from, flen, 1, WH_FROM_MAX - 1);
		m->from = f ? xasprintf("%s%s", f[0] == '+' ? "" : "+", f) : NULL;
		free(f);
		if ((s = wa_name(value, from, &len)) != NULL)
			m->name = clean(s, len, 1, 200);
	}
	if ((s = jstr(jget(value, "metadata"), "display_phone_number", &len)))
		m->to = clean(s, len, 1, WH_FROM_MAX);
	m->subject = m->from ? xasprintf("WhatsApp %s", m->from) :
	    xstrdup("WhatsApp");
	buf_init(&t, 0);
	type = jstr(msg, "type", &len);
	if (type && strcmp(type, "text") == 0) {
		if ((s = jstr(jget(msg, "text"), "body", &len)) != NULL)
			buf_add(&t, s, len);
	} else {
		f = clean(type ? type : "unknown", type ? len : 7, 1, 40);
		buf_addf(&t, "[%s message]", f ? f : "unknown");
		free(f);
		if (type && (s = jstr(jget(msg, type), "caption", &len)) != NULL) {
			buf_addstr(&t, "\n\n");
			buf_add(&t, s, len);
		}
	}
	set_text(m, &t, text_max);
	buf_free(&t);
}

static int
parse_whatsapp(const struct wh_request *rq, size_t text_max,
    struct wh_batch *out, const char **why)
{
	json_t *root, *entry, *change, *value, *msgs, *e, *c, *mm;
	json_error_t jerr;
	size_t i, j, k;

	root = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_array(entry = jget(root, "entry"))) {
		json_decref(root);
		*why = "not a WhatsApp notification (JSON with entry[])";
		return -1;
	}
	json_array_foreach(entry, i, e) {
		change = jget(e, "changes");
		if (!json_is_array(change))
			continue;
		json_array_foreach(change, j, c) {
			value = jget(c, "value");
			msgs = jget(value, "messages");
			if (!json_is_array(msgs))
				continue;	/* statuses[]: ignored */
			json_array_foreach(msgs, k, mm)
				wa_message(value, mm, text_max, out);
		}
	}
	json_decref(root);
	return 0;
}

static int
parse_form(const struct wh_request *rq, size_t text_max, struct wh_batch *out,
    const char **why)
{
	json_t *root;
	json_error_t jerr;
	const char *s;
	struct wh_msg *m;
	size_t len;

	root = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root) || (s = jstr(root, "text", &len)) == NULL) {
		json_decref(root);
		*why = "not a JSON object with a string \"text\"";
		return -1;
	}
	m = batch_add(out);
	m->key = xstrdup(rq->wh_id);
	m->text = clean(s, len, 0, text_max);
	m->text_len = strlen(m->text);
	if ((s = jstr(root, "from", &len)) != NULL)
		m->from = clean(s, len, 1, WH_FROM_MAX);
	if ((s = jstr(root, "name", &len)) != NULL)
		m->name = clean(s, len, 1, 200);
	if ((s = jstr(root, "subject", &len)) != NULL)
		m->subject = clean(s, len, 1, 300);
	if (m->subject == NULL)
		m->subject = xstrdup("Web form");
	json_decref(root);
	return 0;
}

int
wh_parse(enum source_type t, const struct wh_request *rq, size_t text_max,
    struct wh_batch *out, const char **why)
{
	int rc;

	memset(out, 0, sizeof(*out));
	switch (t) {
	case SOURCE_TWILIO:
		rc = parse_twilio(rq, text_max, out, why);
		break;
	case SOURCE_WHATSAPP:
		rc = parse_whatsapp(rq, text_max, out, why);
		break;
	case SOURCE_WEBHOOK:
		if (rq->wh_id == NULL || !id_ok(rq->wh_id, strlen(rq->wh_id))) {
			*why = "webhook-id is not 1-200 printable bytes";
			return -1;
		}
		rc = parse_form(rq, text_max, out, why);
		break;
	default:
		*why = "not a push source";
		return -1;
	}
	if (rc == -1)
		wh_batch_free(out);
	return rc;
}

void
wh_batch_free(struct wh_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->v[i].key);
		free(b->v[i].from);
		free(b->v[i].name);
		free(b->v[i].to);
		free(b->v[i].subject);
		free(b->v[i].text);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* A header value as it goes into the record: CR/LF cannot split it. */
static void
record_header(struct buf *b, const char *name, const char *v)
{
	size_t i;

	if (v == NULL)
		return;
	buf_addstr(b, name);
	buf_addstr(b, ": ");
	for (i = 0; v[i]; i++)
		buf_addc(b, v[i] == '\r' || v[i] == '\n' ? ' ' : v[i]);
	buf_addstr(b, "\r\n");
}

char *
wh_raw_record(enum source_type t, const struct wh_request *rq, size_t *len)
{
	struct buf b;
	char *out;

	buf_init(&b, 0);
	buf_addf(&b, "%s %s%s%s\r\n", rq->method ? rq->method : "?",
	    rq->path ? rq->path : "/", rq->query ? "?" : "",
	    rq->query ? rq->query : "");
	record_header(&b, "Content-Type", rq->content_type);
	record_header(&b, t == SOURCE_TWILIO ? "X-Twilio-Signature" :
	    t == SOURCE_WHATSAPP ? "X-Hub-Signature-256" : "webhook-signature",
	    rq->signature);
	record_header(&b, "webhook-id", rq->wh_id);
	record_header(&b, "webhook-timestamp", rq->wh_timestamp);
	buf_addstr(&b, "\r\n");
	buf_add(&b, rq->body ? rq->body : "", rq->body_len);
	*len = b.len;
	buf_addc(&b, '\0');
	out = buf_steal(&b);
	return out;
}
