/* SPDX-License-Identifier: MIT */
/*
 * signal_events.c: signal-cli's event stream (signal_events.h).  Parser
 * only: no driver uses it yet (signal-cli cannot be installed here to test
 * one against).  Two layers: a bounded, incremental server-sent-events
 * reader that takes the bytes in whatever pieces the socket gives, and the
 * reader of one receive event's JSON.  Neither trusts the other side: a
 * line or an event over the cap is dropped whole and reported, never
 * half-kept, and every field is checked before it is used.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "signal_events.h"
#include "util.h"

#define SSE_TYPE_MAX	64
#define SSE_ID_MAX	256

struct sse_parser {
	size_t		 max;
	struct buf	 line;
	struct buf	 data;
	char		 type[SSE_TYPE_MAX + 1];
	char		 id[SSE_ID_MAX + 1];	/* the last event id */
	int		 oversize;	/* this event went over the cap */
	int		 line_over;	/* this line did */
	int		 after_cr;	/* a CR ended the last line: skip an LF */
	int		 started;	/* past a leading BOM */
	size_t		 bom;		/* BOM bytes matched so far */
};

struct sse_parser *
sse_new(size_t max)
{
	struct sse_parser *p = xcalloc(1, sizeof(*p));

	p->max = max;
	/* A line holds one field: its name, a colon, a space and the value. */
	buf_init(&p->line, max + SSE_TYPE_MAX + 8);
	buf_init(&p->data, max + 1);
	return p;
}

void
sse_free(struct sse_parser *p)
{
	if (p == NULL)
		return;
	buf_free(&p->line);
	buf_free(&p->data);
	free(p);
}

static int
dispatch(struct sse_parser *p, sse_cb cb, void *arg)
{
	struct sse_event ev;
	int rc = 0;

	if (p->data.len > 0 || p->oversize) {
		memset(&ev, 0, sizeof(ev));
		ev.type = p->type[0] ? p->type : "message";
		ev.id = p->id;
		ev.oversize = p->oversize;
		if (!p->oversize) {
			p->data.len--;	/* the last line's \n */
			p->data.data[p->data.len] = '\0';
			ev.data = p->data.data;
			ev.data_len = p->data.len;
		}
		rc = cb(arg, &ev);
	}
	buf_reset(&p->data);
	p->type[0] = '\0';
	p->oversize = 0;
	return rc;
}

/* One field line (no line end).  Unknown fields and retry: ignored. */
static void
field(struct sse_parser *p, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t fl, vl;

	if (colon == NULL) {
		fl = n;
		v = s + n;
		vl = 0;
	} else {
		fl = (size_t)(colon - s);
		v = colon + 1;
		vl = n - fl - 1;
		if (vl > 0 && *v == ' ') {
			v++;
			vl--;
		}
	}
	if (fl == 4 && memcmp(s, "data", 4) == 0) {
		if (p->oversize)
			return;
		if (buf_add(&p->data, v, vl) == -1 ||
		    buf_addc(&p->data, '\n') == -1 || p->data.len > p->max + 1) {
			p->oversize = 1;
			buf_reset(&p->data);
		}
	} else if (fl == 5 && memcmp(s, "event", 5) == 0) {
		if (vl > SSE_TYPE_MAX || memchr(v, '\0', vl)) {
			p->oversize = 1;	/* not an event we could name */
			return;
		}
		memcpy(p->type, v, vl);
		p->type[vl] = '\0';
	} else if (fl == 2 && memcmp(s, "id", 2) == 0) {
		/* the spec ignores an id holding NUL; so does an over-long one */
		if (vl <= SSE_ID_MAX && memchr(v, '\0', vl) == NULL) {
			memcpy(p->id, v, vl);
			p->id[vl] = '\0';
		}
	}
}

static int
end_line(struct sse_parser *p, sse_cb cb, void *arg)
{
	int rc = 0;

	if (p->line_over) {
		p->oversize = 1;
		p->line_over = 0;
	} else if (p->line.len == 0)
		rc = dispatch(p, cb, arg);
	else if (p->line.data[0] != ':')	/* ':' a comment (keep-alive) */
		field(p, p->line.data, p->line.len);
	buf_reset(&p->line);
	return rc;
}

int
sse_feed(struct sse_parser *p, const char *s, size_t n, sse_cb cb, void *arg)
{
	static const char bom[] = "\xef\xbb\xbf";
	size_t i, start;
	int rc;

	for (i = 0; !p->started && i < n; i++) {
		if ((unsigned char)s[i] != (unsigned char)bom[p->bom]) {
			/* not a BOM: what matched so far was text */
			p->started = 1;
			if (p->bom && buf_add(&p->line, bom, p->bom) == -1)
				p->line_over = 1;
			break;
		}
		if (++p->bom == 3)
			p->started = 1;
	}
	for (start = i; i < n; i++) {
		if (s[i] != '\n' && s[i] != '\r') {
			p->after_cr = 0;
			continue;
		}
		if (s[i] == '\n' && p->after_cr && i == start) {
			p->after_cr = 0;	/* the LF of a CRLF */
			start = i + 1;
			continue;
		}
		if (i > start && !p->line_over &&
		    buf_add(&p->line, s + start, i - start) == -1)
			p->line_over = 1;
		start = i + 1;
		p->after_cr = s[i] == '\r';
		if ((rc = end_line(p, cb, arg)) != 0)
			return rc;
	}
	if (i > start && !p->line_over &&
	    buf_add(&p->line, s + start, i - start) == -1)
		p->line_over = 1;
	return 0;
}

/* ---- one receive event ---------------------------------------------------- */

#define NAME_MAX_BYTES	256
#define GROUP_ID_MAX	128

/* 8-4-4-4-12 hex digits: the form signal-cli prints an ACI in. */
static int
uuid_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

/* E.164: a + and 1 to 15 digits. */
static int
e164_ok(const char *s)
{
	size_t i;

	if (s[0] != '+' || s[1] == '\0')
		return 0;
	for (i = 1; s[i]; i++)
		if (s[i] < '0' || s[i] > '9' || i > 15)
			return 0;
	return 1;
}

/* A one-line string of at most max bytes, copied; else NULL. */
static char *
one_line(json_t *v, size_t max)
{
	const char *s;
	size_t i, n;

	if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n > max)
		return NULL;
	s = json_string_value(v);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
	return xstrndup(s, n);
}

static char *
checked(json_t *v, int (*ok)(const char *))
{
	return json_is_string(v) && ok(json_string_value(v)) ?
	    xstrdup(json_string_value(v)) : NULL;
}

static long long
positive(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) > 0 ?
	    (long long)json_integer_value(v) : 0;
}

/* The message content of an envelope: dataMessage, or an edit's. */
static json_t *
content(json_t *env, struct signal_msg *m)
{
	json_t *dm = json_object_get(env, "dataMessage"), *em;

	if (json_is_object(dm))
		return dm;
	em = json_object_get(env, "editMessage");
	if (json_is_object(em) &&
	    json_is_object(dm = json_object_get(em, "dataMessage"))) {
		m->edit_of = positive(json_object_get(em, "targetSentTimestamp"));
		return dm;
	}
	return NULL;
}

static void
read_content(json_t *dm, size_t max_text, struct signal_msg *m)
{
	json_t *t = json_object_get(dm, "message"), *a;

	a = json_object_get(dm, "attachments");
	m->attachments = json_is_array(a) ? (int)json_array_size(a) : 0;
	if (json_is_object(json_object_get(dm, "sticker")))
		m->attachments++;
	m->group_id = one_line(json_object_get(json_object_get(dm,
	    "groupInfo"), "groupId"), GROUP_ID_MAX);
	if (json_is_string(t) && json_string_length(t) > max_text) {
		m->why = "text larger than the limit";
		return;
	}
	if (json_is_string(t) && json_string_length(t) > 0) {
		m->text_len = json_string_length(t);
		m->text = xstrndup(json_string_value(t), m->text_len);
	}
	if (m->text == NULL && m->attachments == 0) {
		m->kind = SIGNAL_IGNORED;
		m->why = "no text or attachment (a reaction, a deletion or a "
		    "timer change)";
		return;
	}
	if (m->key == NULL) {
		m->why = "no sourceUuid and timestamp to key it by";
		return;
	}
	m->kind = SIGNAL_MESSAGE;
}

void
signal_event_parse(const char *data, size_t len, size_t max_text,
    struct signal_msg *m)
{
	json_error_t jerr;
	json_t *root, *p, *env, *dm, *meth;
	long long srv;

	memset(m, 0, sizeof(*m));
	m->kind = SIGNAL_BAD;
	if ((root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(root)) {
		m->why = "not a JSON object (or not UTF-8, or a NUL)";
		json_decref(root);
		return;
	}
	p = root;
	if (json_object_get(root, "jsonrpc") != NULL) {
		meth = json_object_get(root, "method");
		if (!json_is_string(meth) ||
		    strcmp(json_string_value(meth), "receive") != 0) {
			m->kind = SIGNAL_IGNORED;
			m->why = "a JSON-RPC message other than receive";
			goto out;
		}
		p = json_object_get(root, "params");
	}
	if (!json_is_object(p) ||
	    !json_is_object(env = json_object_get(p, "envelope"))) {
		m->why = "no envelope";
		goto out;
	}
	m->account = checked(json_object_get(p, "account"), e164_ok);
	m->source_uuid = checked(json_object_get(env, "sourceUuid"), uuid_ok);
	m->source_number = checked(json_object_get(env, "sourceNumber"),
	    e164_ok);
	m->source_name = one_line(json_object_get(env, "sourceName"),
	    NAME_MAX_BYTES);
	m->timestamp = positive(json_object_get(env, "timestamp"));
	srv = positive(json_object_get(env, "serverReceivedTimestamp"));
	m->received_at = (time_t)((srv ? srv : m->timestamp) / 1000);
	if (m->source_uuid && m->timestamp)
		m->key = xasprintf("%s:%lld", m->source_uuid, m->timestamp);
	if (json_object_get(p, "exception") != NULL) {
		/* Someone wrote and nobody can read it: a human must know. */
		m->undecryptable = 1;
		m->why = "could not be decrypted (signal-cli reported an "
		    "exception)";
		goto out;
	}
	if ((dm = content(env, m)) == NULL) {
		m->kind = SIGNAL_IGNORED;
		m->why = "not a message (a receipt, typing, sync, call or "
		    "story)";
		goto out;
	}
	read_content(dm, max_text, m);
out:
	json_decref(root);
}

void
signal_msg_free(struct signal_msg *m)
{
	free(m->key);
	free(m->account);
	free(m->source_uuid);
	free(m->source_number);
	free(m->source_name);
	free(m->text);
	free(m->group_id);
	memset(m, 0, sizeof(*m));
}
