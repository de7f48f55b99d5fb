/* SPDX-License-Identifier: MIT */
/*
 * fmt.c: the text every program prints or posts, made safe and uniform:
 * UTF-8 display width and clipping, terminal-safe copies, CSV fields, HTML
 * escapes, JSON strings and instants, durations and dates.  Every output
 * module (the follow-up report, search, changes, status, workflow, the
 * outbox) uses these, so one rule decides what a hostile string may do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "util.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */
#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 */

/* ---- UTF-8 ----------------------------------------------------------- */

/*
 * Decode one code point at s (NUL-terminated).  *len gets the bytes used
 * (at least 1); invalid or overlong sequences decode as -1, one byte long.
 */
static long
utf8_decode(const unsigned char *s, size_t *len)
{
	long cp;
	size_t n, i;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		*len = 1;
		return -1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = 1;
			return -1;
		}
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff)) {
		*len = 1;
		return -1;
	}
	*len = n;
	return cp;
}

/* Width of one code point on a terminal: a small, fixed table (no locale). */
static int
cp_width(long cp)
{
	if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
	    (cp >= 0x20d0 && cp <= 0x20ff))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
	    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/* Characters that must never reach a terminal or a page as themselves:
 * controls (C0, DEL, C1) and the bidirectional overrides and isolates that
 * can make a line read differently from what it holds.  The one rule of
 * every output: text (fmt_terminal_safe), HTML (fmt_html_escape),
 * CSV (fmt_csv_field) and JSON (fmt_json_dumps). */
static int
cp_unsafe(long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *
fmt_terminal_safe(const char *s, int keep_newlines)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct buf b;
	size_t len;
	long cp;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	while (*p) {
		cp = utf8_decode(p, &len);
		if (cp == '\n' || cp == '\t' || cp == '\r') {
			if (keep_newlines && cp != '\r')
				buf_addc(&b, (char)cp);
			else if (!keep_newlines)
				buf_addc(&b, ' ');
		} else if (cp == -1 || cp_unsafe(cp))
			buf_addstr(&b, REPLACEMENT);
		else
			buf_add(&b, p, len);
		p += len;
	}
	return buf_steal(&b);
}

size_t
fmt_display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, len;
	long cp;

	while (*p) {
		cp = utf8_decode(p, &len);
		w += cp == -1 ? 1 : (size_t)cp_width(cp);
		p += len;
	}
	return w;
}

int
fmt_add_clipped(struct buf *b, const char *s, size_t cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, len, cut = 0;
	long cp;
	int cw;

	if (fmt_display_width(s) <= cols)
		return buf_addstr(b, s);
	if (cols == 0)
		return 0;
	/* Keep what fits in cols - 1, then the ellipsis. */
	while (*p) {
		cp = utf8_decode(p, &len);
		cw = cp == -1 ? 1 : cp_width(cp);
		if (w + (size_t)cw > cols - 1)
			break;
		w += (size_t)cw;
		p += len;
		cut += len;
	}
	if (buf_add(b, s, cut) == -1)
		return -1;
	return buf_addstr(b, ELLIPSIS);
}

/* ---- dates and durations ------------------------------------------- */

int
fmt_parse_date(const char *s, time_t *out)
{
	struct tm tm;
	int y, m, d;
	char tail;

	if (s == NULL)
		return -1;
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	    strspn(s, "0123456789") == 4 && strspn(s + 5, "0123456789") == 2 &&
	    strspn(s + 8, "0123456789") == 2 &&
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3) {
		if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31)
			return -1;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		if (*out == (time_t)-1 || tm.tm_mday != d)
			return -1;
		return 0;
	}
	return iso8601_parse(s, out);
}

void
fmt_duration(long long secs, char *out, size_t outlen)
{
	long long m, h, d;

	if (secs < 0)
		secs = -secs;
	m = secs / 60;
	d = m / 1440;
	h = (m % 1440) / 60;
	m %= 60;
	if (d > 0)
		snprintf(out, outlen, "%lldd %lldh", d, h);
	else if (h > 0)
		snprintf(out, outlen, "%lldh %lldm", h, m);
	else
		snprintf(out, outlen, "%lldm", m);
}

/* ---- CSV ------------------------------------------------------------- */

int
fmt_csv_field(struct buf *b, const char *s, int defuse)
{
	const unsigned char *p;
	size_t len;
	long cp;
	int quote, rc = 0;

	if (s == NULL)
		return 0;
	quote = strpbrk(s, ",\"\r\n") != NULL;
	/* A spreadsheet runs a cell that starts like a formula: a subject
	 * such as =HYPERLINK(...) must stay text. */
	defuse = defuse && (*s == '=' || *s == '+' || *s == '-' || *s == '@' ||
	    *s == '\t' || *s == '\r');
	if (quote)
		rc |= buf_addc(b, '"');
	if (defuse)
		rc |= buf_addc(b, '\'');
	/* RFC 4180 carries TAB, CR and LF (quoted); any other control or a
	 * bidirectional override would drive the terminal or the viewer the
	 * file is opened in: U+FFFD, as on the terminal. */
	for (p = (const unsigned char *)s; *p; p += len) {
		cp = utf8_decode(p, &len);
		if (cp == -1 || (cp_unsafe(cp) && cp != '\t' && cp != '\r' &&
		    cp != '\n')) {
			rc |= buf_addstr(b, REPLACEMENT);
			continue;
		}
		if (cp == '"')
			rc |= buf_addc(b, '"');
		rc |= buf_add(b, p, len);
	}
	if (quote)
		rc |= buf_addc(b, '"');
	return rc ? -1 : 0;
}

/* ---- JSON ------------------------------------------------------------ */

/*
 * json_dumps(), then every DEL, C1 control and bidirectional override or
 * isolate as a \u escape: Jansson escapes only C0, and a U+009B (CSI) or
 * U+202E passed through raw drives a terminal or reorders a line wherever
 * the JSON is looked at.  Such characters can only stand inside strings,
 * so the text stays the same JSON.  NULL when json_dumps() fails.
 */
char *
fmt_json_dumps(const json_t *j, size_t flags)
{
	const unsigned char *p;
	char *text, esc[8];
	struct buf b;
	size_t len;
	long cp;

	if ((text = json_dumps(j, flags)) == NULL)
		return NULL;
	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (p = (const unsigned char *)text; *p; p += len) {
		cp = utf8_decode(p, &len);
		if (cp >= 0x7f && cp_unsafe(cp)) {
			snprintf(esc, sizeof(esc), "\\u%04X",
			    (unsigned)cp & 0xffffu);
			buf_addstr(&b, esc);
		} else
			buf_add(&b, p, len);
	}
	free(text);
	return buf_steal(&b);
}

json_t *
fmt_json_str(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j ? j : json_null();
}

json_t *
fmt_json_time(time_t t)
{
	char iso[40];

	if (t == 0)
		return json_null();
	iso8601_local(t, iso, sizeof(iso));
	return json_string(iso);
}

/* ---- HTML ------------------------------------------------------------ */

/* The entity for an HTML-special character, or NULL when c is plain. */
static const char *
html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

int
fmt_html_escape(struct buf *b, const char *s)
{
	char *safe;
	const char *p, *ent;
	int rc = 0;

	if (s == NULL)
		return 0;
	safe = fmt_terminal_safe(s, 0);
	for (p = safe; *p; p++) {
		if ((ent = html_entity(*p)) != NULL)
			rc |= buf_addstr(b, ent);
		else
			rc |= buf_addc(b, *p);
	}
	free(safe);
	return rc ? -1 : 0;
}

int
fmt_html_cell(struct buf *b, const char *text, const char *base,
    const char *style, const char *label)
{
	int rc = 0;

	rc |= buf_addf(b, "<td%s%s%s style=\"%s%s%s\">", label ? " data-l=\"" :
	    "", label ? label : "", label ? "\"" : "", base, style ? ";" : "",
	    style ? style : "");
	rc |= fmt_html_escape(b, text ? text : "");
	rc |= buf_addstr(b, "</td>");
	return rc ? -1 : 0;
}
