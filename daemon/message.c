/* SPDX-License-Identifier: MIT */
/*
 * message.c: raw RFC 5322 bytes -> struct message, with libetpan's
 * mailmime/mailimf doing the MIME work.  Our own code does the bounded
 * jobs libetpan does not: a size cap and pre-scans for inputs that crash
 * libetpan 1.9.4, a raw header list, charset fallbacks, the choice of the
 * text body and the limits on depth, parts and decoded sizes.
 *
 * Every string handed out is valid UTF-8, owned by the struct message and
 * freed by message_free().
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "message.h"
#include "util.h"

#define DEFAULT_CHARSET	"windows-1252"
/* lines starting "--" allowed per max_parts before libetpan sees them */
#define DELIMS_PER_PART	4
/* header fields allowed per max_headers before libetpan sees them */
#define HEADERS_PER_MAX	4
/*
 * A top-level header block over this many max_header_bytes is not given to
 * libetpan: its address and parameter parsers spend ~1000 instructions a
 * byte and hold every item (1 M addresses in To: took 4.5 s).
 */
#define HEADER_BLOCK_PER_FIELD	64
/* the fallback reads at most this much of the header block */
#define FALLBACK_HEADER_BYTES	(256 * 1024)

/* Parse state shared by the tree walk; lives on message_parse's stack. */
struct walk {
	const struct parse_limits *lim;
	struct message	*m;
	struct buf	 text;		/* chosen text, max_text_bytes */
	int		 nparts;
	size_t		 attcap;
	int		 any_plain;
	int		 any_html;
};

static int	status_rank(enum parse_status);
static void	flag(struct message *, enum parse_status, const char *);

void
parse_limits_default(struct parse_limits *l)
{
	l->max_message_bytes = 25 * 1024 * 1024;
	l->max_depth = 20;
	l->max_parts = 500;
	l->max_headers = 500;
	l->max_header_bytes = 16 * 1024;
	l->max_text_bytes = 1024 * 1024;
	l->max_decode_ratio = 10;
	l->timeout_ms = 30 * 1000;
	l->want_attachment = 0;
}

static int
status_rank(enum parse_status s)
{
	switch (s) {
	case MSG_PARSE_OK:
		return 0;
	case MSG_PARSE_PARTIAL:
		return 1;
	case MSG_PARSE_LIMIT:
		return 2;
	case MSG_PARSE_ERROR:
		return 3;
	}
	return 3;
}

/*
 * Raise the status to s (never lower it); the first reason given at the
 * highest rank is kept.  Reasons are fixed strings: no message text.
 */
static void
flag(struct message *m, enum parse_status s, const char *why)
{
	if (status_rank(s) < status_rank(m->status))
		return;
	if (status_rank(s) > status_rank(m->status) || m->parse_error == NULL) {
		free(m->parse_error);
		m->parse_error = xstrdup(why);
	}
	m->status = s;
}

static void
lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
all_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* ---- charsets ---------------------------------------------------------- */

static char *
charconv_utf8(const char *cs, const char *s, size_t n, int *unknown)
{
	char *out = NULL, *res;
	size_t outlen = 0;
	int r;

	*unknown = 0;
	r = charconv_buffer("utf-8", cs, s, n, &out, &outlen);
	if (r != MAIL_CHARCONV_NO_ERROR) {
		if (out)
			charconv_buffer_free(out);
		*unknown = 1;
		return NULL;
	}
	res = utf8_sanitize(out, outlen);
	charconv_buffer_free(out);
	return res;
}

/*
 * Bytes in charset cs (NULL = us-ascii) -> valid UTF-8, caller frees.
 * Never fails: an unknown charset is read as windows-1252, a us-ascii label
 * on 8-bit bytes as UTF-8 when that is valid, else windows-1252 (both are
 * common in the wild), and whatever is still invalid becomes U+FFFD.
 */
static char *
to_utf8(const char *cs, const char *s, size_t n)
{
	char lc[64];
	char *r;
	int unknown;

	if (cs == NULL || *cs == '\0')
		cs = "us-ascii";
	if (strlen(cs) >= sizeof(lc))
		cs = DEFAULT_CHARSET;
	memcpy(lc, cs, strlen(cs) + 1);
	lower(lc);
	if (strcmp(lc, "utf-8") == 0 || strcmp(lc, "utf8") == 0)
		return utf8_sanitize(s, n);
	if (strcmp(lc, "us-ascii") == 0 || strcmp(lc, "ascii") == 0 ||
	    strcmp(lc, "unknown-8bit") == 0 || strcmp(lc, "x-unknown") == 0) {
		if (all_ascii(s, n) || utf8_valid(s, n))
			return utf8_sanitize(s, n);
		cs = DEFAULT_CHARSET;
	} else if (strcmp(lc, "iso-8859-1") == 0 || strcmp(lc, "latin1") == 0 ||
	    strcmp(lc, "iso8859-1") == 0 || strcmp(lc, "iso_8859-1") == 0) {
		/* What senders mean by latin-1 is windows-1252 (WHATWG). */
		cs = DEFAULT_CHARSET;
	}
	r = charconv_utf8(cs, s, n, &unknown);
	if (r == NULL && strcmp(cs, DEFAULT_CHARSET) != 0)
		r = charconv_utf8(DEFAULT_CHARSET, s, n, &unknown);
	if (r == NULL)
		r = utf8_sanitize(s, n);
	return r;
}

/* ---- header values ----------------------------------------------------- */

/* Copy of s[0..n) with folding line breaks removed; caller frees. */
static char *
unfold(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		out[o++] = s[i] == '\t' ? ' ' : s[i];
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	i = 0;
	while (out[i] == ' ')
		i++;
	if (i)
		memmove(out, out + i, o - i + 1);
	return out;
}

/*
 * A raw header value (possibly folded, RFC 2047 encoded, 8-bit) as valid
 * UTF-8; caller frees.  libetpan fails a whole phrase on one bad word, so
 * the raw value made valid UTF-8 is the fallback.
 */
static char *
decode_header(const char *raw, size_t n, size_t max)
{
	char *u, *dec = NULL, *res;
	const char *from;
	size_t idx = 0, len;

	if (raw == NULL)
		return NULL;
	if (max && n > max)
		n = max;
	u = unfold(raw, n);
	len = strlen(u);
	from = (all_ascii(u, len) || utf8_valid(u, len)) ? "utf-8" :
	    DEFAULT_CHARSET;
	if (strstr(u, "=?") != NULL &&
	    mailmime_encoded_phrase_parse(from, u, len, &idx, "utf-8",
	    &dec) == MAILIMF_NO_ERROR && dec != NULL) {
		res = utf8_sanitize(dec, strlen(dec));
		free(dec);
	} else {
		free(dec);
		res = to_utf8(from, u, len);
	}
	free(u);
	if (max && strlen(res) > max) {
		u = utf8_truncate(res, max);
		free(res);
		res = u;
	}
	return res;
}

/* ---- the raw header block --------------------------------------------- */

/* Offset just past the header block's blank line, or len when none. */
static size_t
header_block_end(const char *raw, size_t len, size_t start, size_t *hdr_len)
{
	size_t i = start;

	while (i < len) {
		if (raw[i] == '\n') {
			*hdr_len = i - start;
			return i + 1;
		}
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n') {
			*hdr_len = i - start;
			return i + 2;
		}
		while (i < len && raw[i] != '\n')
			i++;
		if (i < len)
			i++;
	}
	*hdr_len = len - start;
	return len;
}

/* Skip an mbox "From " line, which is not a header. */
static size_t
skip_from_line(const char *raw, size_t len)
{
	const char *nl;

	if (len < 5 || memcmp(raw, "From ", 5) != 0)
		return 0;
	nl = memchr(raw, '\n', len);
	return nl ? (size_t)(nl - raw) + 1 : len;
}

static int
valid_field_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127)
			return 0;
	return 1;
}

static void
add_header(struct walk *w, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	struct message *m = w->m;
	struct header *h;

	if (m->nheaders >= (size_t)w->lim->max_headers) {
		flag(m, MSG_PARSE_LIMIT, "max_headers");
		return;
	}
	if (vlen > w->lim->max_header_bytes)
		flag(m, MSG_PARSE_LIMIT, "max_header_bytes");
	if (m->nheaders % 16 == 0)
		m->headers = xreallocarray(m->headers, m->nheaders + 16,
		    sizeof(*m->headers));
	h = &m->headers[m->nheaders++];
	h->name = utf8_sanitize(name, nlen);
	h->value = decode_header(val, vlen, w->lim->max_header_bytes);
}

/*
 * Split the header block into name/value pairs.  Lines that are neither
 * a field nor a continuation are skipped (libetpan would stop there).
 */
static size_t
scan_headers(struct walk *w, const char *h, size_t n)
{
	size_t i = 0, ls, le, ns, ne, vs, ve, fields = 0;
	const char *colon;

	while (i < n) {
		ls = i;
		le = i;
		while (le < n && h[le] != '\n')
			le++;
		/* the field runs on over continuation lines */
		ve = le;
		while (ve + 1 < n && (h[ve + 1] == ' ' || h[ve + 1] == '\t')) {
			ve++;
			while (ve < n && h[ve] != '\n')
				ve++;
		}
		i = ve < n ? ve + 1 : n;
		colon = memchr(h + ls, ':', le - ls);
		if (colon == NULL)
			continue;
		ns = ls;
		ne = (size_t)(colon - h);
		while (ne > ns && (h[ne - 1] == ' ' || h[ne - 1] == '\t'))
			ne--;
		if (!valid_field_name(h + ns, ne - ns))
			continue;
		if (++fields > (size_t)w->lim->max_headers) {
			if (fields == (size_t)w->lim->max_headers + 1)
				flag(w->m, MSG_PARSE_LIMIT, "max_headers");
			continue;
		}
		vs = ne;
		while (vs < ve && h[vs] != ':')
			vs++;
		vs++;
		add_header(w, h + ns, ne - ns, h + vs, vs < ve ? ve - vs : 0);
	}
	return fields;
}

const char *
message_header(const struct message *m, const char *name)
{
	size_t i;

	if (m == NULL || name == NULL)
		return NULL;
	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name && strcasecmp(m->headers[i].name,
		    name) == 0)
			return m->headers[i].value;
	return NULL;
}

/* ---- pre-scans for libetpan 1.9.4 bugs -------------------------------- */

/*
 * Skip white space and comments, at most CFWS_MAX bytes, so scanning many
 * "boundary=(((" in a row stays linear.
 */
#define CFWS_MAX	256

static size_t
skip_cfws(const char *s, size_t n, size_t i)
{
	int depth;

	if (n - i > CFWS_MAX)
		n = i + CFWS_MAX;
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n'))
			i++;
		if (i >= n || s[i] != '(')
			return i;
		depth = 0;
		while (i < n) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth == 0) {
				i++;
				break;
			}
			i++;
		}
	}
}

/*
 * A boundary parameter whose unquoted value starts with '"' (written
 * boundary="\"...") makes mailmime_extract_boundary() of libetpan 1.9.4
 * strip two characters that are not there: with a one-byte value that is a
 * heap overflow (upstream commit 3f14913).  Scan the whole input, so nested
 * parts are covered too; a false positive only costs a parse error.
 */
static size_t
find_byte(const char *s, size_t n, size_t from, char c)
{
	const char *p = from < n ? memchr(s + from, c, n - from) : NULL;

	return p ? (size_t)(p - s) : n;
}

static int
has_bad_boundary(const char *s, size_t n)
{
	size_t i, j, lo, up;

	/* every 'b' or 'B' in turn: lo and up are the next of each */
	lo = find_byte(s, n, 0, 'b');
	up = find_byte(s, n, 0, 'B');
	while ((i = lo < up ? lo : up) + 8 < n) {
		if (i == lo)
			lo = find_byte(s, n, i + 1, 'b');
		else
			up = find_byte(s, n, i + 1, 'B');
		if (strncasecmp(s + i, "boundary", 8))
			continue;
		j = skip_cfws(s, n, i + 8);
		if (j >= n || s[j] != '=')
			continue;
		j = skip_cfws(s, n, j + 1);
		if (j >= n || s[j] != '"')
			continue;
		/* folding white space inside the quotes may be dropped */
		j++;
		while (j < n && j - i < 64 && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\r' || s[j] == '\n'))
			j++;
		if (j + 1 < n && s[j] == '\\' && s[j + 1] == '"')
			return 1;
	}
	return 0;
}

/*
 * libetpan parses nested multiparts and messages recursively without a
 * limit: count the Content-Type fields that open a container, so absurd
 * nesting never reaches its parser and our stack.  Also count the lines
 * that could be boundary delimiters: every one can become a part, and
 * libetpan builds them all in memory (1.5 million parts took 530 MB).
 */
static int
count_containers(const char *s, size_t n, int *delims)
{
	size_t i, j;
	int count = 0;

	*delims = 0;
	/* at each line start (memchr to the next) */
	for (i = 0; i + 13 < n; i = find_byte(s, n, i, '\n') + 1) {
		if (s[i] == '-' && s[i + 1] == '-')
			(*delims)++;
		if (strncasecmp(s + i, "content-type:", 13) != 0)
			continue;
		j = skip_cfws(s, n, i + 13);
		if (j + 10 <= n && (strncasecmp(s + j, "multipart/", 10) == 0 ||
		    strncasecmp(s + j, "message/", 8) == 0))
			count++;
	}
	return count;
}

/* ---- single fields ----------------------------------------------------- */

static char *
mailbox_addr(const struct mailimf_mailbox *mb)
{
	if (mb == NULL || mb->mb_addr_spec == NULL)
		return NULL;
	return utf8_sanitize(mb->mb_addr_spec, strlen(mb->mb_addr_spec));
}

static char *
mailbox_name(const struct mailimf_mailbox *mb, size_t max)
{
	if (mb == NULL || mb->mb_display_name == NULL)
		return NULL;
	return decode_header(mb->mb_display_name,
	    strlen(mb->mb_display_name), max);
}

static void
add_mailbox_text(struct buf *b, const struct mailimf_mailbox *mb, size_t max)
{
	char *name, *addr;

	if (mb == NULL)
		return;
	name = mailbox_name(mb, max);
	addr = mailbox_addr(mb);
	if (b->len)
		buf_addstr(b, ", ");
	if (name && *name)
		buf_addf(b, "%s <%s>", name, addr ? addr : "");
	else if (addr)
		buf_addstr(b, addr);
	free(name);
	free(addr);
}

/* An address list as "Name <a@b>, c@d", valid UTF-8; NULL when empty. */
static char *
address_list_text(const struct mailimf_address_list *al, size_t max)
{
	struct buf b;
	clistiter *it, *jt;
	struct mailimf_address *ad;
	struct mailimf_group *g;

	if (al == NULL || al->ad_list == NULL)
		return NULL;
	buf_init(&b, max ? max : 0);
	for (it = clist_begin(al->ad_list); it; it = clist_next(it)) {
		ad = clist_content(it);
		if (ad == NULL)
			continue;
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			add_mailbox_text(&b, ad->ad_data.ad_mailbox, max);
			continue;
		}
		g = ad->ad_data.ad_group;
		if (g == NULL || g->grp_mb_list == NULL ||
		    g->grp_mb_list->mb_list == NULL)
			continue;
		for (jt = clist_begin(g->grp_mb_list->mb_list); jt;
		    jt = clist_next(jt))
			add_mailbox_text(&b, clist_content(jt), max);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static char *
msgid_list_text(clist *l, size_t max)
{
	struct buf b;
	clistiter *it;
	const char *id;

	if (l == NULL)
		return NULL;
	buf_init(&b, max ? max : 0);
	for (it = clist_begin(l); it; it = clist_next(it)) {
		id = clist_content(it);
		if (id == NULL)
			continue;
		if (b.len && buf_addc(&b, ' ') == -1)
			break;
		if (buf_addstr(&b, id) == -1)
			break;
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	if (!utf8_valid(b.data, b.len)) {
		char *s = utf8_sanitize(b.data, b.len);

		buf_free(&b);
		return s;
	}
	return buf_steal(&b);
}

/* A Date header's instant, or 0 when it is absurd. */
static time_t
date_value(const struct mailimf_date_time *dt)
{
	struct tm tm;
	time_t t;
	long zone, off;

	if (dt == NULL)
		return 0;
	if (dt->dt_year < 1990 || dt->dt_year > 9999 || dt->dt_month < 1 ||
	    dt->dt_month > 12 || dt->dt_day < 1 || dt->dt_day > 31 ||
	    dt->dt_hour < 0 || dt->dt_hour > 23 || dt->dt_min < 0 ||
	    dt->dt_min > 59 || dt->dt_sec < 0 || dt->dt_sec > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->dt_year - 1900;
	tm.tm_mon = dt->dt_month - 1;
	tm.tm_mday = dt->dt_day;
	tm.tm_hour = dt->dt_hour;
	tm.tm_min = dt->dt_min;
	tm.tm_sec = dt->dt_sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	zone = dt->dt_zone;
	if (zone < -9959 || zone > 9959)
		return 0;
	off = (labs(zone) / 100) * 3600 + (labs(zone) % 100) * 60;
	t -= zone < 0 ? -off : off;
	if (t < 631152000 || t > time(NULL) + 86400)	/* 1990 .. tomorrow */
		return 0;
	return t;
}

static char *
strip_brackets(const char *v)
{
	const char *s, *e;

	if (v == NULL)
		return NULL;
	s = strchr(v, '<');
	e = s ? strchr(s, '>') : NULL;
	if (s && e && e > s + 1)
		return xstrndup(s + 1, (size_t)(e - s - 1));
	while (*v == ' ')
		v++;
	return *v ? xstrdup(v) : NULL;
}

/* From the fields libetpan parsed; NULL fields leave members NULL. */
static void
take_fields(struct walk *w, struct mailimf_fields *f)
{
	struct message *m = w->m;
	struct mailimf_single_fields sf;
	struct mailimf_mailbox *mb;
	size_t max = w->lim->max_header_bytes;

	if (f == NULL)
		return;
	mailimf_single_fields_init(&sf, f);
	if (sf.fld_from && sf.fld_from->frm_mb_list &&
	    sf.fld_from->frm_mb_list->mb_list &&
	    clist_begin(sf.fld_from->frm_mb_list->mb_list)) {
		mb = clist_content(clist_begin(sf.fld_from->frm_mb_list->mb_list));
		m->from_addr = mailbox_addr(mb);
		m->from_name = mailbox_name(mb, max);
	}
	if (sf.fld_reply_to)
		m->reply_to = address_list_text(sf.fld_reply_to->rt_addr_list,
		    max);
	if (sf.fld_to)
		m->to = address_list_text(sf.fld_to->to_addr_list, max);
	if (sf.fld_message_id && sf.fld_message_id->mid_value)
		m->message_id = utf8_sanitize(sf.fld_message_id->mid_value,
		    strlen(sf.fld_message_id->mid_value));
	if (sf.fld_in_reply_to)
		m->in_reply_to = msgid_list_text(sf.fld_in_reply_to->mid_list,
		    max);
	if (sf.fld_references)
		m->references = msgid_list_text(sf.fld_references->mid_list,
		    max);
	if (sf.fld_orig_date)
		m->date = date_value(sf.fld_orig_date->dt_date_time);
}

/* The display name before lt in a decoded From, without its quotes. */
static char *
from_name_part(const char *v, const char *lt)
{
	char *s = unfold(v, (size_t)(lt - v));
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

/*
 * The From address where libetpan's parse has none, from the decoded
 * header.  libetpan reads an encoded word as a display name, or (Q
 * encoding: all atext) as an addr-spec, so a From whose whole `Name
 * <addr>` is inside one RFC 2047 word (malformed, but mailers write it)
 * arrives with no address or with the raw word as one.  Then the decoded
 * value is read as `Name <addr>` or a bare address.  An address libetpan
 * found outside encoded words is kept: a word cannot forge it.
 */
static void
from_fallback(struct message *m)
{
	const char *v, *lt;
	char *s;
	int word = m->from_addr != NULL && strstr(m->from_addr, "=?") != NULL;

	if (m->from_addr != NULL && strchr(m->from_addr, '@') != NULL &&
	    !word)
		return;
	if ((v = message_header(m, "From")) == NULL)
		return;
	lt = strrchr(v, '<');
	s = strip_brackets(lt ? lt : v);
	if (s == NULL || strchr(s, '@') == NULL) {
		free(s);
		if (word) {
			/* no address even decoded: the decoded words are
			 * the name, never the raw =?...?= */
			free(m->from_addr);
			m->from_addr = NULL;
			free(m->from_name);
			m->from_name = xstrdup(v);
		}
		return;
	}
	free(m->from_addr);
	m->from_addr = s;
	if (m->from_name == NULL || strstr(m->from_name, "=?") != NULL ||
	    (lt && lt > v)) {
		free(m->from_name);
		m->from_name = lt && lt > v ? from_name_part(v, lt) : NULL;
	}
}

/*
 * What libetpan could not give, from the raw header list: the subject
 * always (decoded the same way), and a From address or Message-ID when its
 * structured parse failed.
 */
static void
fields_from_headers(struct message *m)
{
	const char *v;

	free(m->subject);
	m->subject = NULL;
	v = message_header(m, "Subject");
	if (v)
		m->subject = xstrdup(v);
	from_fallback(m);
	if (m->from_addr && strchr(m->from_addr, '@') == NULL &&
	    m->from_name == NULL) {
		/* "From: Someone": a name, not an address */
		m->from_name = m->from_addr;
		m->from_addr = NULL;
	}
	if (m->message_id == NULL &&
	    (v = message_header(m, "Message-ID")) != NULL)
		m->message_id = strip_brackets(v);
	if (m->from_name && m->from_name[0] == '\0') {
		free(m->from_name);
		m->from_name = NULL;
	}
}

/* ---- MIME tree --------------------------------------------------------- */

/* "type/subtype" in lower case; caller frees. */
static char *
content_type_str(const struct mailmime_content *ct)
{
	const char *type = "text", *sub;
	char *s;
	const struct mailmime_type *t;

	if (ct == NULL)
		return xstrdup("text/plain");
	t = ct->ct_type;
	if (t && t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    t->tp_data.tp_discrete_type) {
		switch (t->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: type = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: type = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: type = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: type = "video"; break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION:
			type = "application";
			break;
		default:
			type = t->tp_data.tp_discrete_type->dt_extension ?
			    t->tp_data.tp_discrete_type->dt_extension : "x-unknown";
		}
	} else if (t && t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    t->tp_data.tp_composite_type) {
		switch (t->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: type = "message"; break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			type = "multipart";
			break;
		default:
			type = t->tp_data.tp_composite_type->ct_token ?
			    t->tp_data.tp_composite_type->ct_token : "x-unknown";
		}
	}
	sub = ct->ct_subtype ? ct->ct_subtype : "x-unknown";
	s = xasprintf("%s/%s", type, sub);
	lower(s);
	if (!utf8_valid(s, strlen(s))) {
		char *t2 = utf8_sanitize(s, strlen(s));

		free(s);
		s = t2;
	}
	return s;
}

/*
 * Decoded body bytes of a single part (transfer encoding undone); the
 * result is an MMAPString buffer released with mmap_string_unref().
 */
/*
 * Whether text labelled base64 looks like base64: no line has a space
 * inside it and nearly every byte is in the alphabet.  Some senders label
 * plain text base64; decoding it would turn readable words into noise.
 * Looks at the first 64 KiB only.
 */
static int
looks_like_base64(const char *s, size_t n)
{
	size_t i, bad = 0, inner_ws = 0, lines = 0;
	int seen = 0, ws = 0;

	if (n > 65536)
		n = 65536;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r') {
			if (seen)
				lines++;
			seen = ws = 0;
		} else if (c == ' ' || c == '\t') {
			ws = seen;
		} else {
			if (ws)
				inner_ws++;
			ws = 0;
			seen = 1;
			if (!isalnum(c) && c != '+' && c != '/' && c != '=')
				bad++;
		}
	}
	return inner_ws * 2 <= lines + 1 && bad * 100 <= n;
}

static char *
part_decode(const struct mailmime *mm, size_t *outlen, int *mislabelled)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	char *out = NULL;
	size_t idx = 0;
	int enc = MAILMIME_MECHANISM_8BIT;

	*outlen = 0;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL)
		return NULL;
	if (mm->mm_mime_fields)
		enc = mailmime_transfer_encoding_get(mm->mm_mime_fields);
	if (enc != MAILMIME_MECHANISM_BASE64 &&
	    enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		enc = MAILMIME_MECHANISM_8BIT;
	if (mislabelled && enc == MAILMIME_MECHANISM_BASE64 &&
	    !looks_like_base64(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length)) {
		*mislabelled = 1;
		enc = MAILMIME_MECHANISM_8BIT;
	}
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, enc, &out, outlen) !=
	    MAILIMF_NO_ERROR || out == NULL) {
		*outlen = 0;
		return NULL;
	}
	return out;
}

static size_t
part_encoded_len(const struct mailmime *mm)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return 0;
	return d->dt_data.dt_text.dt_length;
}

/* Append UTF-8 text to the body, truncating on a character boundary. */
static void
text_append(struct walk *w, const char *s, size_t n)
{
	size_t room, keep;

	if (n == 0)
		return;
	if (w->text.len && buf_addstr(&w->text, "\n\n") == -1) {
		flag(w->m, MSG_PARSE_LIMIT, "max_text_bytes");
		return;
	}
	if (buf_add(&w->text, s, n) == 0)
		return;
	/* keep what fits, cut on a character boundary: look at the byte
	 * after the cut in s itself (a copy cut at room bytes would already
	 * have lost the continuation bytes that show a split character) */
	flag(w->m, MSG_PARSE_LIMIT, "max_text_bytes");
	room = w->text.max - w->text.len;
	keep = n < room ? n : room;
	while (keep > 0 && keep < n && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	buf_add(&w->text, s, keep);
}

/* CRLF and lone CR to LF, in place; returns the new length. */
static size_t
normalise_eol(char *s, size_t n)
{
	const char *cr = memchr(s, '\r', n);
	size_t i, o;

	/* the bytes before the first CR stay where they are */
	i = o = cr ? (size_t)(cr - s) : n;
	for (; i < n; i++) {
		if (s[i] == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			s[o++] = '\n';
			continue;
		}
		s[o++] = s[i];
	}
	s[o] = '\0';
	return o;
}

static void
add_text_part(struct walk *w, const struct mailmime *mm, int html)
{
	const struct parse_limits *lim = w->lim;
	char *raw, *u, *t;
	size_t rawlen, ulen, tlen, enclen, keep, cap;
	const char *cs = NULL;
	int mislabelled = 0;

	raw = part_decode(mm, &rawlen, &mislabelled);
	if (raw == NULL)
		return;
	if (mislabelled)
		flag(w->m, MSG_PARSE_PARTIAL, "text labelled base64 is not");
	/*
	 * Never feed charconv much more than the text cap (it allocates 6x
	 * its input); HTML gets 4x the cap since its markup falls away.
	 */
	cap = lim->max_text_bytes;
	if (html && cap < SIZE_MAX / 8)
		cap *= 4;
	keep = rawlen;
	if (keep > cap + 16) {
		keep = cap + 16;
		flag(w->m, MSG_PARSE_LIMIT, "max_text_bytes");
	}
	if (mm->mm_content_type)
		cs = mailmime_content_charset_get(mm->mm_content_type);
	u = to_utf8(cs, raw, keep);
	mmap_string_unref(raw);
	ulen = normalise_eol(u, strlen(u));
	enclen = part_encoded_len(mm);
	if (lim->max_decode_ratio > 0 && ulen > 4096 &&
	    ulen / (size_t)lim->max_decode_ratio > enclen) {
		flag(w->m, MSG_PARSE_LIMIT, "max_decode_ratio");
		free(u);
		return;
	}
	if (html) {
		/* one byte over the cap, so text_append sees the cut */
		t = html_to_text(u, ulen, lim->max_text_bytes + 1, &tlen);
		free(u);
		if (t == NULL)
			return;
		w->any_html = 1;
		text_append(w, t, tlen);
		free(t);
	} else {
		w->any_plain = 1;
		text_append(w, u, ulen);
		free(u);
	}
}

/* The bytes of the attachment asked for (parse_limits.want_attachment):
 * a single part decoded, an embedded message as it is. */
static void
keep_attachment_data(struct attachment *a, const struct mailmime *mm)
{
	char *d;
	size_t n;

	if (mm->mm_type == MAILMIME_SINGLE) {
		if ((d = part_decode(mm, &n, NULL)) == NULL)
			return;
		a->data = xmalloc(n + 1);
		memcpy(a->data, d, n);
		a->data_len = n;
		mmap_string_unref(d);
	} else if (mm->mm_mime_start != NULL) {
		a->data = xmalloc(mm->mm_length + 1);
		memcpy(a->data, mm->mm_mime_start, mm->mm_length);
		a->data_len = mm->mm_length;
	}
}

/* Takes ownership of filename (UTF-8 or NULL). */
static void
add_attachment(struct walk *w, const struct mailmime *mm, char *filename,
    const char *ctype, size_t size)
{
	struct message *m = w->m;
	struct attachment *a;

	if (m->nattachments == w->attcap) {
		w->attcap = w->attcap ? w->attcap * 2 : 8;
		m->attachments = xreallocarray(m->attachments, w->attcap,
		    sizeof(*m->attachments));
	}
	a = &m->attachments[m->nattachments++];
	memset(a, 0, sizeof(*a));
	a->filename = filename;
	a->content_type = xstrdup(ctype);
	a->size = size;
	if (w->lim->want_attachment > 0 &&
	    (size_t)w->lim->want_attachment == m->nattachments)
		keep_attachment_data(a, mm);
}

#define RFC2231_SECTIONS	64

struct param {
	const char	*name;
	const char	*value;
};

/* The parameters of a part's Content-Disposition (0) or Content-Type (1). */
static size_t
part_params(const struct mailmime *mm, const struct mailmime_single_fields *sf,
    int which, struct param *out, size_t max)
{
	clistiter *it;
	size_t n = 0;

	if (which == 0) {
		if (sf->fld_disposition == NULL ||
		    sf->fld_disposition->dsp_parms == NULL)
			return 0;
		for (it = clist_begin(sf->fld_disposition->dsp_parms);
		    it && n < max; it = clist_next(it)) {
			struct mailmime_disposition_parm *dp = clist_content(it);

			if (dp && dp->pa_type ==
			    MAILMIME_DISPOSITION_PARM_PARAMETER &&
			    dp->pa_data.pa_parameter &&
			    dp->pa_data.pa_parameter->pa_name &&
			    dp->pa_data.pa_parameter->pa_value) {
				out[n].name = dp->pa_data.pa_parameter->pa_name;
				out[n++].value = dp->pa_data.pa_parameter->pa_value;
			}
		}
		return n;
	}
	if (mm->mm_content_type == NULL ||
	    mm->mm_content_type->ct_parameters == NULL)
		return 0;
	for (it = clist_begin(mm->mm_content_type->ct_parameters);
	    it && n < max; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);

		if (p && p->pa_name && p->pa_value) {
			out[n].name = p->pa_name;
			out[n++].value = p->pa_value;
		}
	}
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
pct_decode_append(struct buf *b, const char *s)
{
	int hi, lo;

	for (; *s; s++) {
		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			buf_addc(b, (char)(hi * 16 + lo));
			s += 2;
		} else
			buf_addc(b, *s);
	}
}

/*
 * RFC 2231 parameter value (name*=charset'lang'%XX, or name*0*=, name*1=
 * sections) as UTF-8, or NULL.  libetpan 1.9.4 leaves these undecoded.
 */
static char *
rfc2231_value(const struct param *p, size_t n, const char *base)
{
	const char *sec[RFC2231_SECTIONS];
	int ext[RFC2231_SECTIONS];
	const char *v, *q;
	char cs[64] = "us-ascii", *res;
	size_t blen = strlen(base), i, k;
	unsigned long num;
	struct buf b;
	char *end;

	memset(sec, 0, sizeof(sec));
	for (i = 0; i < n; i++) {
		if (strncasecmp(p[i].name, base, blen) != 0 ||
		    p[i].name[blen] != '*')
			continue;
		q = p[i].name + blen + 1;
		if (*q == '\0') {
			sec[0] = p[i].value;
			ext[0] = 1;
			break;
		}
		if (!isdigit((unsigned char)*q))
			continue;
		num = strtoul(q, &end, 10);
		if (num >= RFC2231_SECTIONS || (*end != '\0' &&
		    strcmp(end, "*") != 0))
			continue;
		sec[num] = p[i].value;
		ext[num] = *end == '*';
	}
	if (sec[0] == NULL)
		return NULL;
	buf_init(&b, 4096);
	for (k = 0; k < RFC2231_SECTIONS && sec[k]; k++) {
		v = sec[k];
		if (k == 0 && ext[0]) {
			q = strchr(v, '\'');
			if (q && (size_t)(q - v) < sizeof(cs)) {
				memcpy(cs, v, (size_t)(q - v));
				cs[q - v] = '\0';
				v = strchr(q + 1, '\'');
				v = v ? v + 1 : q + 1;
			}
		}
		if (ext[k])
			pct_decode_append(&b, v);
		else
			buf_addstr(&b, v);
	}
	res = to_utf8(cs, b.data ? b.data : "", b.len);
	buf_free(&b);
	return res;
}

/* A part's file name as UTF-8 (caller frees), or NULL. */
static char *
part_filename(const struct mailmime *mm, const struct mailmime_single_fields *sf)
{
	struct param p[32];
	size_t n;
	char *r;

	if (sf->fld_disposition_filename)
		return decode_header(sf->fld_disposition_filename,
		    strlen(sf->fld_disposition_filename), 255);
	n = part_params(mm, sf, 0, p, NELEM(p));
	if ((r = rfc2231_value(p, n, "filename")) != NULL)
		return r;
	if (sf->fld_content_name)
		return decode_header(sf->fld_content_name,
		    strlen(sf->fld_content_name), 255);
	n = part_params(mm, sf, 1, p, NELEM(p));
	return rfc2231_value(p, n, "name");
}

/*
 * The size libetpan's base64 decoder gives, without decoding: it skips
 * every byte outside the alphabet ('=' included) and turns a final group
 * of 2 or 3 symbols into 1 or 2 bytes (a lone symbol into 1).
 */
static size_t
base64_decoded_size(const char *s, size_t n)
{
	/* 1 for the 64 symbols of the alphabet (bytes >= 0x80: 0) */
	static const unsigned char sym[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	};
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += sym[(unsigned char)s[i]];
	return k / 4 * 3 + (k % 4 == 0 ? 0 : k % 4 == 3 ? 2 : 1);
}

/*
 * An attachment's decoded size.  Decoding a 300 KB attachment only to
 * measure it was a tenth of ingesting; base64 and 8-bit are counted the
 * way libetpan decodes them (test_attachment_size_matches_libetpan in
 * tests/unit/test_message.c holds that), quoted-printable is decoded.
 */
static size_t
decoded_size(const struct mailmime *mm)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	const char *s;
	char *out;
	size_t n;
	int enc = MAILMIME_MECHANISM_8BIT;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL)
		return 0;
	s = d->dt_data.dt_text.dt_data;
	n = d->dt_data.dt_text.dt_length;
	if (mm->mm_mime_fields)
		enc = mailmime_transfer_encoding_get(mm->mm_mime_fields);
	if (enc == MAILMIME_MECHANISM_BASE64)
		return base64_decoded_size(s, n);
	if (enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		return n;	/* libetpan copies an 8-bit body as it is */
	out = part_decode(mm, &n, NULL);
	if (out)
		mmap_string_unref(out);
	return n;
}

/*
 * A multipart in which libetpan found no part (boundary missing or
 * broken): show its raw body so a human still sees the words.
 */
static void
raw_body_text(struct walk *w, const struct mailmime_data *d)
{
	char *t;
	size_t n;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL ||
	    d->dt_data.dt_text.dt_length == 0)
		return;
	flag(w->m, MSG_PARSE_PARTIAL, "multipart without parts");
	n = d->dt_data.dt_text.dt_length;
	if (n > w->lim->max_text_bytes)
		n = w->lim->max_text_bytes;
	t = to_utf8(NULL, d->dt_data.dt_text.dt_data, n);
	n = normalise_eol(t, strlen(t));
	text_append(w, t, n);
	free(t);
}

static void
single_part(struct walk *w, struct mailmime *mm, int depth)
{
	struct mailmime_single_fields sf;
	char *ct;
	char *fname;
	int attach, plain, html;

	memset(&sf, 0, sizeof(sf));
	if (mm->mm_mime_fields || mm->mm_content_type)
		mailmime_single_fields_init(&sf, mm->mm_mime_fields,
		    mm->mm_content_type);
	ct = content_type_str(mm->mm_content_type);
	fname = part_filename(mm, &sf);
	attach = fname != NULL || (sf.fld_disposition &&
	    sf.fld_disposition->dsp_type &&
	    sf.fld_disposition->dsp_type->dsp_type ==
	    MAILMIME_DISPOSITION_TYPE_ATTACHMENT);
	plain = strcmp(ct, "text/plain") == 0;
	html = strcmp(ct, "text/html") == 0;
	/* a multipart libetpan could not split (no boundary): show it raw */
	if (strncmp(ct, "multipart/", 10) == 0) {
		raw_body_text(w, mm->mm_data.mm_single);
		free(fname);
		free(ct);
		return;
	}
	/* a message that is one named text part is still read as text */
	if ((plain || html) && (!attach || depth == 0))
		add_text_part(w, mm, html);
	if (!(plain || html) || attach)
		add_attachment(w, mm, fname, ct, decoded_size(mm));
	else
		free(fname);
	free(ct);
}

static void	walk_mime(struct walk *, struct mailmime *, int);


static int
is_subtype(const struct mailmime *mm, const char *sub)
{
	return mm->mm_content_type && mm->mm_content_type->ct_subtype &&
	    strcasecmp(mm->mm_content_type->ct_subtype, sub) == 0;
}

static int
is_text_subtype(const struct mailmime *mm, const char *sub)
{
	const struct mailmime_type *t;

	if (mm == NULL || mm->mm_type != MAILMIME_SINGLE)
		return 0;
	if (mm->mm_content_type == NULL)
		return strcmp(sub, "plain") == 0;
	t = mm->mm_content_type->ct_type;
	return t && t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    t->tp_data.tp_discrete_type &&
	    t->tp_data.tp_discrete_type->dt_type ==
	    MAILMIME_DISCRETE_TYPE_TEXT && is_subtype(mm, sub);
}

/* A single part whose (encoded) body is empty or only white space. */
static int
part_blank(const struct mailmime *mm)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	size_t i;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL)
		return 1;
	for (i = 0; i < d->dt_data.dt_text.dt_length; i++)
		if (!isspace((unsigned char)d->dt_data.dt_text.dt_data[i]))
			return 0;
	return 1;
}

/*
 * multipart/alternative: one child stands for the whole.  text/plain
 * first (it is what the sender typed), else a nested multipart (often
 * related: HTML plus images), else HTML, else the last child.
 */
static struct mailmime *
choose_alternative(struct mailmime *mm)
{
	clistiter *it;
	struct mailmime *c, *multi = NULL, *html = NULL, *last = NULL;

	for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it;
	    it = clist_next(it)) {
		c = clist_content(it);
		if (c == NULL)
			continue;
		if (is_text_subtype(c, "plain") && !part_blank(c))
			return c;
		if (c->mm_type == MAILMIME_MULTIPLE && multi == NULL)
			multi = c;
		if (is_text_subtype(c, "html") && html == NULL)
			html = c;
		last = c;
	}
	if (multi)
		return multi;
	return html ? html : last;
}

static void
embedded_message(struct walk *w, struct mailmime *mm, int depth)
{
	struct mailimf_single_fields sf;
	char *s;
	struct buf hdr;

	add_attachment(w, mm, NULL, "message/rfc822", mm->mm_length);
	buf_init(&hdr, 4096);
	buf_addstr(&hdr, "---- attached message ----");
	if (mm->mm_data.mm_message.mm_fields) {
		mailimf_single_fields_init(&sf, mm->mm_data.mm_message.mm_fields);
		if (sf.fld_from && sf.fld_from->frm_mb_list &&
		    sf.fld_from->frm_mb_list->mb_list &&
		    clist_begin(sf.fld_from->frm_mb_list->mb_list)) {
			struct buf b;

			buf_init(&b, 1024);
			add_mailbox_text(&b, clist_content(clist_begin(
			    sf.fld_from->frm_mb_list->mb_list)), 512);
			if (b.len)
				buf_addf(&hdr, "\nFrom: %s", b.data);
			buf_free(&b);
		}
		if (sf.fld_subject && sf.fld_subject->sbj_value) {
			s = decode_header(sf.fld_subject->sbj_value,
			    strlen(sf.fld_subject->sbj_value), 1024);
			buf_addf(&hdr, "\nSubject: %s", s);
			free(s);
		}
	}
	if (hdr.len)
		text_append(w, hdr.data, hdr.len);
	buf_free(&hdr);
	if (mm->mm_data.mm_message.mm_msg_mime)
		walk_mime(w, mm->mm_data.mm_message.mm_msg_mime, depth + 1);
}

static void
walk_mime(struct walk *w, struct mailmime *mm, int depth)
{
	clistiter *it;
	struct mailmime *c;

	if (mm == NULL)
		return;
	if (depth > w->lim->max_depth) {
		flag(w->m, MSG_PARSE_LIMIT, "max_depth");
		return;
	}
	if (++w->nparts > w->lim->max_parts) {
		flag(w->m, MSG_PARSE_LIMIT, "max_parts");
		return;
	}
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		single_part(w, mm, depth);
		break;
	case MAILMIME_MULTIPLE:
		if (mm->mm_data.mm_multipart.mm_mp_list == NULL ||
		    clist_isempty(mm->mm_data.mm_multipart.mm_mp_list)) {
			raw_body_text(w, mm->mm_body);
			break;
		}
		if (is_subtype(mm, "alternative")) {
			walk_mime(w, choose_alternative(mm), depth + 1);
			break;
		}
		for (it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it;
		    it = clist_next(it)) {
			c = clist_content(it);
			walk_mime(w, c, depth + 1);
		}
		break;
	case MAILMIME_MESSAGE:
		embedded_message(w, mm, depth);
		break;
	default:
		break;
	}
}

/* ---- entry points ------------------------------------------------------ */

static void
top_content_type(struct walk *w, struct mailmime *body)
{
	struct message *m = w->m;
	char *rt;

	m->content_type = content_type_str(body ? body->mm_content_type : NULL);
	if (body && body->mm_content_type &&
	    strcmp(m->content_type, "multipart/report") == 0) {
		rt = mailmime_content_param_get(body->mm_content_type,
		    "report-type");
		if (rt) {
			m->report_type = utf8_sanitize(rt, strlen(rt));
			lower(m->report_type);
		}
	}
}

/*
 * The record of a message we do not hand to libetpan (or that it
 * refused): headers as far as mailimf_fields_parse reads them, and the raw
 * body as text so a human can read it.
 */
static void
fallback(struct walk *w, const char *raw, size_t len, size_t hstart,
    size_t hlen, size_t bstart)
{
	struct mailimf_fields *f = NULL;
	size_t idx = 0, n;
	char *t;

	/* libetpan holds every field in memory: give it a bounded block */
	if (hlen > FALLBACK_HEADER_BYTES) {
		const char *cut = memrchr(raw + hstart, '\n',
		    FALLBACK_HEADER_BYTES);

		hlen = cut ? (size_t)(cut - (raw + hstart)) + 1 :
		    FALLBACK_HEADER_BYTES;
	}
	if (hlen > 0 && mailimf_fields_parse(raw + hstart, hlen, &idx, &f) ==
	    MAILIMF_NO_ERROR && f != NULL) {
		take_fields(w, f);
		mailimf_fields_free(f);
	}
	fields_from_headers(w->m);
	n = len - bstart;
	if (n > w->lim->max_text_bytes)
		n = w->lim->max_text_bytes;
	t = utf8_sanitize(raw + bstart, n);
	n = normalise_eol(t, strlen(t));
	text_append(w, t, n);
	free(t);
}

/*
 * Nothing readable came out of a message that has a body and no
 * attachment: libetpan lost its structure, so show the raw body.
 */
static void
raw_text_if_any(struct walk *w, const char *body, size_t n)
{
	size_t i;
	char *t;

	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)body[i]))
			break;
	if (i == n)
		return;
	flag(w->m, MSG_PARSE_PARTIAL, "no text part found");
	if (n > w->lim->max_text_bytes)
		n = w->lim->max_text_bytes;
	t = to_utf8(NULL, body, n);
	n = normalise_eol(t, strlen(t));
	text_append(w, t, n);
	free(t);
}

static void
finish(struct walk *w)
{
	struct message *m = w->m;

	m->text_from_html = w->any_html && !w->any_plain;
	if (w->text.data == NULL)
		buf_add(&w->text, "", 0);
	m->text_len = w->text.len;
	m->text = buf_steal(&w->text);
	if (m->content_type == NULL)
		m->content_type = xstrdup("text/plain");
}

/*
 * libetpan 1.9.4's quoted-printable decoder reads up to two bytes past a
 * part that ends in a cut escape ("=" or "=0" as the message's last bytes;
 * found by tests/fuzz/fuzz_mime, an ASan heap-buffer-overflow in
 * mailmime_part_parse): hand libetpan a copy followed by zeroed padding, so
 * those reads stay in our buffer and see NULs.  Caller frees.
 */
#define LIBETPAN_PAD	16

static char *
libetpan_copy(const char *s, size_t n)
{
	char *p = xmalloc(n + LIBETPAN_PAD);

	memcpy(p, s, n);
	memset(p + n, 0, LIBETPAN_PAD);
	return p;
}

int
message_parse(const char *raw, size_t len, const struct parse_limits *limits,
    struct message *out)
{
	struct parse_limits deflim;
	struct walk w;
	struct mailmime *mime = NULL;
	size_t hstart, hlen, bstart, idx = 0, plen, nfields;
	char *padded = NULL;
	int r, delims;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (limits == NULL) {
		parse_limits_default(&deflim);
		limits = &deflim;
	}
	memset(&w, 0, sizeof(w));
	w.lim = limits;
	w.m = out;
	buf_init(&w.text, limits->max_text_bytes);
	if (raw == NULL || len == 0) {
		flag(out, MSG_PARSE_ERROR, "empty message");
		finish(&w);
		return -1;
	}
	hstart = skip_from_line(raw, len);
	bstart = header_block_end(raw, len, hstart, &hlen);
	nfields = scan_headers(&w, raw + hstart, hlen);

	plen = len - hstart;
	if (len > limits->max_message_bytes) {
		flag(out, MSG_PARSE_LIMIT, "max_message_bytes");
		fallback(&w, raw, len, hstart, hlen, bstart);
	} else if (nfields > HEADERS_PER_MAX * (size_t)limits->max_headers ||
	    hlen / HEADER_BLOCK_PER_FIELD > limits->max_header_bytes) {
		flag(out, MSG_PARSE_LIMIT, "max_headers");
		fallback(&w, raw, len, hstart, hlen, bstart);
	} else if (has_bad_boundary(raw, len)) {
		flag(out, MSG_PARSE_ERROR, "invalid boundary parameter");
		fallback(&w, raw, len, hstart, hlen, bstart);
	} else if (count_containers(raw, len, &delims) > limits->max_parts ||
	    delims > DELIMS_PER_PART * limits->max_parts) {
		flag(out, MSG_PARSE_LIMIT, "max_parts");
		fallback(&w, raw, len, hstart, hlen, bstart);
	} else if ((padded = libetpan_copy(raw + hstart, plen)) == NULL ||
	    (r = mailmime_parse(padded, plen, &idx, &mime)) !=
	    MAILIMF_NO_ERROR || mime == NULL) {
		flag(out, MSG_PARSE_ERROR, "mime parse failed");
		fallback(&w, raw, len, hstart, hlen, bstart);
	} else {
		if (mime->mm_type == MAILMIME_MESSAGE) {
			take_fields(&w, mime->mm_data.mm_message.mm_fields);
			top_content_type(&w, mime->mm_data.mm_message.mm_msg_mime);
			walk_mime(&w, mime->mm_data.mm_message.mm_msg_mime, 0);
		} else {
			top_content_type(&w, mime);
			walk_mime(&w, mime, 0);
		}
		fields_from_headers(out);
		mailmime_free(mime);
		if (w.text.len == 0 && out->nattachments == 0 &&
		    !w.any_plain && !w.any_html)
			raw_text_if_any(&w, raw + bstart, len - bstart);
	}
	free(padded);
	finish(&w);
	return (out->status == MSG_PARSE_OK ||
	    out->status == MSG_PARSE_PARTIAL) ? 0 : -1;
}

void
message_free(struct message *m)
{
	size_t i;

	if (m == NULL)
		return;
	free(m->message_id);
	free(m->from_addr);
	free(m->from_name);
	free(m->reply_to);
	free(m->to);
	free(m->subject);
	free(m->in_reply_to);
	free(m->references);
	free(m->content_type);
	free(m->report_type);
	free(m->text);
	for (i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	for (i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
		free(m->attachments[i].data);
	}
	free(m->attachments);
	free(m->parse_error);
	memset(m, 0, sizeof(*m));
}
