/* SPDX-License-Identifier: MIT */
/*
 * html.c: HTML to readable plain text for staff who read a message.  One
 * pass over the input, every look-ahead bounded or consumed, so the time is
 * linear in the input whatever its shape (10 MB of tags, thousands of
 * links, unclosed comments).  Not a validator: it tolerates any bytes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message.h"
#include "util.h"

#define HREF_MAX	2048

struct h2t {
	const char	*s;
	size_t		 n;
	size_t		 i;
	struct buf	 out;
	int		 full;		/* output hit max */
	int		 pending_nl;	/* line breaks owed before the next text */
	int		 pending_sp;
	int		 pre;		/* inside <pre> */
	char		*href;		/* open <a>'s shown target, or NULL */
	size_t		 link_start;	/* output offset of the link text */
	/*
	 * Per skip tag: 1 + the offset from which its closer is known to be
	 * absent (0 = not searched yet).  An unclosed <title> hides nothing,
	 * so the next <title> would search to the end again: a page of them
	 * was quadratic (issue 12).  The input is read forward only, so an
	 * absence found from one offset holds for every later one.
	 */
	size_t		 noclose[6];
};

struct entity {
	const char	*name;
	uint32_t	 cp;
};

/* Common named references; anything else is left as written. */
static const struct entity entities[] = {
	{ "nbsp", 0x20 }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' },
	{ "quot", '"' }, { "apos", '\'' }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
	{ "ndash", 0x2013 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "sbquo", 0x201a },
	{ "bdquo", 0x201e }, { "bull", 0x2022 }, { "middot", 0xb7 },
	{ "euro", 0x20ac }, { "pound", 0xa3 }, { "yen", 0xa5 },
	{ "cent", 0xa2 }, { "sect", 0xa7 }, { "para", 0xb6 }, { "deg", 0xb0 },
	{ "plusmn", 0xb1 }, { "times", 0xd7 }, { "divide", 0xf7 },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "iexcl", 0xa1 },
	{ "iquest", 0xbf }, { "shy", 0xad }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "ensp", 0x2002 }, { "emsp", 0x2003 },
	{ "thinsp", 0x2009 }, { "aacute", 0xe1 }, { "Aacute", 0xc1 },
	{ "agrave", 0xe0 }, { "Agrave", 0xc0 }, { "acirc", 0xe2 },
	{ "auml", 0xe4 }, { "Auml", 0xc4 }, { "atilde", 0xe3 },
	{ "aring", 0xe5 }, { "aelig", 0xe6 }, { "ccedil", 0xe7 },
	{ "Ccedil", 0xc7 }, { "eacute", 0xe9 }, { "Eacute", 0xc9 },
	{ "egrave", 0xe8 }, { "Egrave", 0xc8 }, { "ecirc", 0xea },
	{ "euml", 0xeb }, { "iacute", 0xed }, { "Iacute", 0xcd },
	{ "igrave", 0xec }, { "icirc", 0xee }, { "iuml", 0xef },
	{ "ntilde", 0xf1 }, { "Ntilde", 0xd1 }, { "oacute", 0xf3 },
	{ "Oacute", 0xd3 }, { "ograve", 0xf2 }, { "ocirc", 0xf4 },
	{ "otilde", 0xf5 }, { "ouml", 0xf6 }, { "Ouml", 0xd6 },
	{ "oslash", 0xf8 }, { "uacute", 0xfa }, { "Uacute", 0xda },
	{ "ugrave", 0xf9 }, { "ucirc", 0xfb }, { "uuml", 0xfc },
	{ "Uuml", 0xdc }, { "szlig", 0xdf }, { "yacute", 0xfd },
	{ "iexcl", 0xa1 }, { "ordm", 0xba }, { "ordf", 0xaa },
};

/* HTML5 reads &#128;..&#159; as windows-1252. */
static const uint16_t cp1252[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};

static const char *const block_tags[] = {
	"p", "div", "tr", "table", "ul", "ol", "dl", "dt", "dd", "h1", "h2",
	"h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "section",
	"article", "header", "footer", "nav", "main", "aside", "figure",
	"form", "center", "address", "caption", "fieldset",
	"tbody", "thead", "tfoot", "body", "html",
};

static const char *const skip_tags[] = {
	"script", "style", "title", "noscript", "template", "xml",
};
_Static_assert(NELEM(skip_tags) == sizeof(((struct h2t *)0)->noclose) /
    sizeof(size_t), "one noclose slot per skip tag");

static size_t
utf8_encode(uint32_t cp, char out[4])
{
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void
emit_raw(struct h2t *h, const char *s, size_t n)
{
	if (h->full)
		return;
	if (buf_add(&h->out, s, n) == -1)
		h->full = 1;
}

/* Pay the owed line breaks or space before visible text. */
static void
flush_space(struct h2t *h)
{
	if (h->pending_nl && h->out.len) {
		emit_raw(h, "\n\n", h->pending_nl > 1 ? 2 : 1);
	} else if (h->pending_sp && h->out.len &&
	    h->out.data[h->out.len - 1] != '\n')
		emit_raw(h, " ", 1);
	h->pending_nl = 0;
	h->pending_sp = 0;
}

static void
emit_text(struct h2t *h, const char *s, size_t n)
{
	flush_space(h);
	emit_raw(h, s, n);
}

static void
line_break(struct h2t *h, int n)
{
	if (h->pending_nl < n)
		h->pending_nl = n;
}

static void
emit_ws(struct h2t *h, char c)
{
	if (h->pre) {
		flush_space(h);
		emit_raw(h, c == '\r' ? "" : &c, c == '\r' ? 0 : 1);
		return;
	}
	h->pending_sp = 1;
}

static int
name_eq(const char *a, size_t an, const char *b)
{
	return strlen(b) == an && strncasecmp(a, b, an) == 0;
}

static int
in_list(const char *name, size_t n, const char *const *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (name_eq(name, n, list[i]))
			return 1;
	return 0;
}

/*
 * Decode the reference at s[0] == '&' into out; returns the bytes of input
 * consumed (0 = not a reference, write '&' literally).  Look-ahead is at
 * most 32 bytes, so a page full of '&' stays linear.
 */
static size_t
entity_decode(const char *s, size_t n, char out[4], size_t *outlen)
{
	size_t i, k;
	uint32_t cp = 0;
	int hex, digits = 0;

	if (n < 3)
		return 0;
	if (s[1] == '#') {
		hex = (s[2] == 'x' || s[2] == 'X');
		for (i = hex ? 3 : 2; i < n && i < 16; i++) {
			int d;

			if (isdigit((unsigned char)s[i]))
				d = s[i] - '0';
			else if (hex && isxdigit((unsigned char)s[i]))
				d = (tolower((unsigned char)s[i]) - 'a') + 10;
			else
				break;
			if (cp < 0x110000)
				cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (cp >= 0x80 && cp < 0xa0)
			cp = cp1252[cp - 0x80];
		*outlen = utf8_encode(cp, out);
		return i;
	}
	for (i = 1; i < n && i < 32 && isalnum((unsigned char)s[i]); i++)
		;
	if (i == 1)
		return 0;
	for (k = 0; k < NELEM(entities); k++) {
		if (strlen(entities[k].name) != i - 1 ||
		    strncmp(s + 1, entities[k].name, i - 1) != 0)
			continue;
		/* the oldest few are accepted without the ';' */
		if (i < n && s[i] == ';')
			i++;
		else if (k > 5)
			return 0;
		*outlen = utf8_encode(entities[k].cp, out);
		return i;
	}
	return 0;
}

/* Text between tags, with references decoded and spaces collapsed. */
static void
text_run(struct h2t *h)
{
	const char *s = h->s;
	char enc[4];
	size_t start, k, elen;

	while (h->i < h->n && s[h->i] != '<' && !h->full) {
		char c = s[h->i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f') {
			emit_ws(h, c);
			h->i++;
			continue;
		}
		if (c == '&') {
			k = entity_decode(s + h->i, h->n - h->i, enc, &elen);
			if (k) {
				if (elen == 1 && enc[0] == ' ')
					emit_ws(h, ' ');
				else
					emit_text(h, enc, elen);
				h->i += k;
				continue;
			}
		}
		start = h->i;
		while (h->i < h->n && s[h->i] != '<' && s[h->i] != '&' &&
		    s[h->i] != ' ' && s[h->i] != '\t' && s[h->i] != '\n' &&
		    s[h->i] != '\r' && s[h->i] != '\f')
			h->i++;
		if (h->i == start)
			h->i++;
		emit_text(h, s + start, h->i - start);
	}
}

/* Position after the first occurrence of pat (ASCII, case-insensitive), or n. */
static size_t
find_ci(const char *s, size_t n, size_t from, const char *pat)
{
	size_t plen = strlen(pat), i;

	for (i = from; i + plen <= n; i++)
		if (tolower((unsigned char)s[i]) == pat[0] &&
		    strncasecmp(s + i, pat, plen) == 0)
			return i + plen;
	return n;
}

static int
shown_scheme(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 ||
	    strncasecmp(u, "https://", 8) == 0 ||
	    strncasecmp(u, "mailto:", 7) == 0;
}

/* Attribute value with references decoded, bounded; caller frees. */
static char *
attr_value(const char *s, size_t n)
{
	struct buf b;
	char enc[4];
	size_t i = 0, k, elen;

	buf_init(&b, HREF_MAX);
	buf_add(&b, "", 0);
	while (i < n) {
		if (s[i] == '&' && (k = entity_decode(s + i, n - i, enc,
		    &elen)) > 0) {
			if (buf_add(&b, enc, elen) == -1)
				break;
			i += k;
			continue;
		}
		if ((unsigned char)s[i] > ' ' && buf_addc(&b, s[i]) == -1)
			break;
		i++;
	}
	return buf_steal(&b);
}

/*
 * Parse attributes from h->i up to the closing '>' (quotes respected) and
 * return a copy of the href value when want_href; h->i ends after '>'.
 */
static char *
tag_attrs(struct h2t *h, int want_href)
{
	const char *s = h->s;
	char *href = NULL;
	size_t ns, ne, vs, ve;

	while (h->i < h->n && s[h->i] != '>') {
		if (isspace((unsigned char)s[h->i]) || s[h->i] == '/') {
			h->i++;
			continue;
		}
		ns = h->i;
		while (h->i < h->n && s[h->i] != '=' && s[h->i] != '>' &&
		    !isspace((unsigned char)s[h->i]))
			h->i++;
		ne = h->i;
		if (ne == ns)
			h->i++;
		while (h->i < h->n && isspace((unsigned char)s[h->i]))
			h->i++;
		if (h->i >= h->n || s[h->i] != '=')
			continue;
		h->i++;
		while (h->i < h->n && isspace((unsigned char)s[h->i]))
			h->i++;
		if (h->i < h->n && (s[h->i] == '"' || s[h->i] == '\'')) {
			char q = s[h->i++];

			vs = h->i;
			while (h->i < h->n && s[h->i] != q)
				h->i++;
			ve = h->i;
			if (h->i < h->n)
				h->i++;
		} else {
			vs = h->i;
			while (h->i < h->n && s[h->i] != '>' &&
			    !isspace((unsigned char)s[h->i]))
				h->i++;
			ve = h->i;
		}
		if (want_href && href == NULL && name_eq(s + ns, ne - ns, "href"))
			href = attr_value(s + vs, ve - vs < HREF_MAX ? ve - vs :
			    HREF_MAX);
	}
	if (h->i < h->n)
		h->i++;
	return href;
}

/* Close an open link: "text <url>", the url once when it is the text. */
static void
link_close(struct h2t *h)
{
	size_t tl;

	if (h->href == NULL)
		return;
	tl = h->out.len - h->link_start;
	if (!(tl == strlen(h->href) && memcmp(h->out.data + h->link_start,
	    h->href, tl) == 0) && !(strncasecmp(h->href, "mailto:", 7) == 0 &&
	    tl == strlen(h->href) - 7 && memcmp(h->out.data + h->link_start,
	    h->href + 7, tl) == 0)) {
		if (tl)
			emit_raw(h, " ", 1);
		else
			flush_space(h);
		emit_raw(h, "<", 1);
		emit_raw(h, h->href, strlen(h->href));
		emit_raw(h, ">", 1);
	}
	free(h->href);
	h->href = NULL;
}

static size_t
skip_index(const char *name, size_t n)
{
	size_t k;

	for (k = 0; k < NELEM(skip_tags); k++)
		if (name_eq(name, n, skip_tags[k]))
			break;
	return k;
}

/*
 * After the opening tag of skip_tags[k]: skip to the end of its closer.
 * Every byte is searched at most once per skip tag (h->noclose), so the
 * cost stays linear however many unclosed openers the page repeats.
 */
static void
skip_to_close(struct h2t *h, size_t k, const char *name, size_t nl)
{
	const char *s = h->s;
	char close_pat[16];
	size_t end, j;

	close_pat[0] = '<';
	close_pat[1] = '/';
	for (j = 0; j < nl && j + 3 < sizeof(close_pat); j++)
		close_pat[j + 2] = (char)tolower((unsigned char)name[j]);
	close_pat[j + 2] = '\0';
	if (h->noclose[k] != 0 && h->noclose[k] - 1 <= h->i)
		end = h->n;
	else
		end = find_ci(s, h->n, h->i, close_pat);
	if (end == h->n && h->noclose[k] == 0)
		h->noclose[k] = h->i + 1;
	/* an unclosed <title> hides nothing; others run to the end */
	if (end == h->n && name_eq(name, nl, "title"))
		return;
	h->i = end;
	while (h->i < h->n && s[h->i] != '>')
		h->i++;
	if (h->i < h->n)
		h->i++;
}

static void
tag(struct h2t *h)
{
	const char *s = h->s;
	size_t ns, nl, k;
	int closing = 0;

	h->i++;				/* '<' */
	if (h->i + 2 < h->n && s[h->i] == '!' && s[h->i + 1] == '-' &&
	    s[h->i + 2] == '-') {
		h->i = find_ci(s, h->n, h->i + 3, "-->");
		return;
	}
	if (h->i < h->n && (s[h->i] == '!' || s[h->i] == '?')) {
		while (h->i < h->n && s[h->i] != '>')
			h->i++;
		if (h->i < h->n)
			h->i++;
		return;
	}
	if (h->i < h->n && s[h->i] == '/') {
		closing = 1;
		h->i++;
	}
	ns = h->i;
	while (h->i < h->n && (isalnum((unsigned char)s[h->i]) ||
	    s[h->i] == ':'))
		h->i++;
	nl = h->i - ns;
	if (nl == 0) {
		/* a lone '<' is text */
		emit_text(h, "<", 1);
		if (closing)
			emit_raw(h, "/", 1);
		return;
	}
	if (!closing && name_eq(s + ns, nl, "a")) {
		char *href = tag_attrs(h, 1);

		link_close(h);
		if (href && shown_scheme(href)) {
			flush_space(h);
			h->href = href;
			h->link_start = h->out.len;
		} else
			free(href);
		return;
	}
	free(tag_attrs(h, 0));
	if (closing && name_eq(s + ns, nl, "a")) {
		link_close(h);
		return;
	}
	if (!closing && (k = skip_index(s + ns, nl)) < NELEM(skip_tags)) {
		skip_to_close(h, k, s + ns, nl);
		return;
	}
	if (name_eq(s + ns, nl, "br")) {
		if (h->pending_nl == 0 && h->out.len)
			emit_raw(h, "\n", 1);
		else
			h->pending_nl++;
		h->pending_sp = 0;
		return;
	}
	if (name_eq(s + ns, nl, "pre"))
		h->pre = !closing;
	if (!closing && name_eq(s + ns, nl, "li")) {
		line_break(h, 1);
		flush_space(h);
		emit_raw(h, "- ", 2);
		return;
	}
	if (name_eq(s + ns, nl, "td") || name_eq(s + ns, nl, "th")) {
		h->pending_sp = 1;
		return;
	}
	if (name_eq(s + ns, nl, "li")) {
		line_break(h, 1);
		return;
	}
	if (in_list(s + ns, nl, block_tags, NELEM(block_tags)))
		line_break(h, (name_eq(s + ns, nl, "p") ||
		    (nl == 2 && tolower((unsigned char)s[ns]) == 'h' &&
		    isdigit((unsigned char)s[ns + 1]))) ? 2 : 1);
}

char *
html_to_text(const char *html, size_t len, size_t max, size_t *outlen)
{
	struct h2t h;
	char *res;

	memset(&h, 0, sizeof(h));
	h.s = html ? html : "";
	h.n = html ? len : 0;
	buf_init(&h.out, max);
	buf_add(&h.out, "", 0);
	while (h.i < h.n && !h.full) {
		if (h.s[h.i] == '<')
			tag(&h);
		else
			text_run(&h);
	}
	link_close(&h);
	while (h.out.len && (h.out.data[h.out.len - 1] == '\n' ||
	    h.out.data[h.out.len - 1] == ' '))
		h.out.data[--h.out.len] = '\0';
	if (!utf8_valid(h.out.data, h.out.len) ||
	    memchr(h.out.data, 0, h.out.len) != NULL) {
		res = utf8_sanitize(h.out.data, h.out.len);
		buf_free(&h.out);
		if (max && strlen(res) > max) {
			char *t = utf8_truncate(res, max);

			free(res);
			res = t;
		}
	} else
		res = buf_steal(&h.out);
	if (outlen)
		*outlen = strlen(res);
	return res;
}
