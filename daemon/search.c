/* SPDX-License-Identifier: MIT */
/*
 * search.c: the query side of full-text search (sql/005_search.sql holds
 * the indexes and the triggers that feed them) and intake_digits(), the
 * phone-number rule both sides share.
 *
 * What a person types is never handed to FTS5 as query syntax: every word
 * is quoted, so a stray quote, colon or "NEAR(" is just text and can
 * neither fail the query nor reach another column.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "search.h"

/* Digit groups looked at in one run: bounds the windows of a hostile
 * "1-2-3-4-..." line to a few hundred bytes. */
#define DIGITS_MAX_GROUPS	16

static int
phone_sep(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' ||
	    c == '/' || c == '+';
}

struct digit_run {
	size_t	 start, end;			/* bytes of s: first, past last digit */
	size_t	 gs[DIGITS_MAX_GROUPS], ge[DIGITS_MAX_GROUPS];
	int	 ng;
	size_t	 ndigits;
};

/* The run of digit groups starting at the digit s[i]. */
static void
digit_run(const char *s, size_t n, size_t i, struct digit_run *r)
{
	size_t j = i, k;

	memset(r, 0, sizeof(*r));
	r->start = r->end = i;
	while (j < n && r->ng < DIGITS_MAX_GROUPS) {
		for (k = j; k < n && isdigit((unsigned char)s[k]); k++)
			;
		r->gs[r->ng] = j;
		r->ge[r->ng] = k;
		r->ng++;
		r->ndigits += k - j;
		r->end = k;
		/* at most two separators, then a digit */
		for (j = k; j < n && j - k < 2 && phone_sep(s[j]); j++)
			;
		if (j == k || j >= n || !isdigit((unsigned char)s[j]))
			break;
	}
}

static void
add_groups(struct buf *out, const char *s, const struct digit_run *r, int a,
    int b, size_t skip)
{
	int g;
	size_t len;

	if (out->len > 0)
		buf_addc(out, ' ');
	for (g = a; g <= b; g++) {
		len = r->ge[g] - r->gs[g];
		if (skip >= len) {
			skip -= len;
			continue;
		}
		buf_add(out, s + r->gs[g] + skip, len - skip);
		skip = 0;
	}
}

/*
 * Append to out, space-separated, the digit strings of every phone-like
 * run in s (digits joined by at most two of " -.()/+"): with `windows`, every
 * run of consecutive digit groups holding 7 to 15 digits and the last 7 and
 * 10 digits of each (what the index holds); without, each whole run of 7
 * to 15 digits (what a query asks).  *rest, when not NULL, gets a copy of s
 * with those runs blanked (caller frees).
 */
static void
search_digits(const char *s, struct buf *out, int windows, char **rest)
{
	struct digit_run r;
	size_t i = 0, n = s ? strlen(s) : 0, len, k;
	int a, b;

	if (rest)
		*rest = xstrdup(s ? s : "");
	while (i < n) {
		if (!isdigit((unsigned char)s[i])) {
			i++;
			continue;
		}
		digit_run(s, n, i, &r);
		if (windows) {
			for (a = 0; a < r.ng; a++) {
				len = 0;
				for (b = a; b < r.ng; b++) {
					len += r.ge[b] - r.gs[b];
					if (len > SEARCH_DIGITS_MAX)
						break;
					if (len < SEARCH_DIGITS_MIN)
						continue;
					add_groups(out, s, &r, a, b, 0);
					if (len > 10)
						add_groups(out, s, &r, a, b, len - 10);
					if (len > 7)
						add_groups(out, s, &r, a, b, len - 7);
				}
			}
		} else if (r.ndigits >= SEARCH_DIGITS_MIN &&
		    r.ndigits <= SEARCH_DIGITS_MAX) {
			add_groups(out, s, &r, 0, r.ng - 1, 0);
			if (rest) {
				k = r.start;
				if (k > 0 && phone_sep(s[k - 1]))
					k--;
				memset(*rest + k, ' ', r.end - k);
			}
		}
		i = r.end;
	}
}

static void
digits_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *s;
	struct buf b;

	(void)argc;
	s = (const char *)sqlite3_value_text(argv[0]);
	buf_init(&b, 0);
	search_digits(s, &b, 1, NULL);
	sqlite3_result_text(ctx, b.data ? b.data : "", (int)b.len,
	    SQLITE_TRANSIENT);
	buf_free(&b);
}

/* The "filename"s of messages.attachments, space-separated ("" when the
 * column is not the JSON array ingest writes). */
static void
attachment_names_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *s, *name;
	json_error_t err;
	json_t *a, *o;
	struct buf b;
	size_t i;

	(void)argc;
	s = (const char *)sqlite3_value_text(argv[0]);
	a = s ? json_loads(s, 0, &err) : NULL;
	buf_init(&b, 0);
	buf_addstr(&b, "");
	json_array_foreach(a, i, o) {
		name = json_string_value(json_object_get(o, "filename"));
		if (name == NULL)
			continue;
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_addstr(&b, name);
	}
	json_decref(a);
	sqlite3_result_text(ctx, b.data, (int)b.len, SQLITE_TRANSIENT);
	buf_free(&b);
}

int
search_register(sqlite3 *db)
{
	int rc;

	rc = sqlite3_create_function(db, "intake_digits", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, digits_fn, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "intake_attachment_names", 1,
		    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
		    attachment_names_fn, NULL, NULL);
	return rc;
}

/* A word worth searching: a letter or digit, or any non-ASCII byte. */
static int
searchable(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (isalnum((unsigned char)w[i]) || (unsigned char)w[i] >= 0x80)
			return 1;
	return 0;
}

static void
add_phrase(struct buf *b, const char *w, size_t n, int prefix)
{
	size_t i;

	if (b->len > 0)
		buf_addc(b, ' ');
	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		if (w[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, w[i]);
	}
	buf_addc(b, '"');
	if (prefix)
		buf_addc(b, '*');
}

char *
search_match_expr(const char *query)
{
	struct buf digits, expr;
	char *rest, *p, *w;
	size_t n;
	int prefix;

	buf_init(&digits, 0);
	buf_init(&expr, 0);
	search_digits(query, &digits, 0, &rest);
	for (p = digits.data; p && *p; p += n) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n)
			add_phrase(&expr, p, n, 0);
	}
	for (p = rest; *p; p += n) {
		p += strspn(p, " \t\r\n\f\v");
		w = p;
		n = strcspn(p, " \t\r\n\f\v");
		if (n == 0)
			break;
		prefix = w[n - 1] == '*';
		if (searchable(w, n - (size_t)prefix))
			add_phrase(&expr, w, n - (size_t)prefix, prefix);
	}
	free(rest);
	buf_free(&digits);
	if (expr.len == 0) {
		buf_free(&expr);
		return NULL;
	}
	return buf_steal(&expr);
}

/* ---- the query ------------------------------------------------------- */

/*
 * The best-ranked match of each ticket.  SQLite: FTS5, bm25 weights: a
 * word in the subject or an attachment name says more than one in a long
 * text.  PostgreSQL: the tsvector columns of sql/pg/005_search.sql (words
 * weighted A subject, B sender, C text and attachment names, D digits),
 * the same match text read by websearch_to_tsquery (quoted words stay
 * words; a trailing * is dropped: no prefix search there), ranked by
 * -ts_rank so that lower is better on both; a note's rank a third of a
 * message's (its text is weighted A: bm25's 2.0 against the subject's 6.0).  Column 13 is the score as
 * text with all its digits (the API reads no doubles).
 */
static const struct query q_search = {
    "WITH hits(tid, score, src, rid) AS ("
    " SELECT m.ticket_id, bm25(search_messages, 6.0, 4.0, 1.0, 4.0, 2.0),"
    "  'message', m.id FROM search_messages"
    "  JOIN messages m ON m.id = search_messages.rowid"
    "  WHERE search_messages MATCH ?1"
    " UNION ALL"
    " SELECT e.ticket_id, bm25(search_notes, 2.0, 1.0), 'note', e.id"
    "  FROM search_notes JOIN events e ON e.id = search_notes.rowid"
    "  WHERE search_notes MATCH ?1)"
    " SELECT t.id, t.status, t.type, t.urgency, t.disposition, t.received_at,"
    "  t.assignee, t.sender, t.subject, min(h.score), h.src, h.rid,"
    "  printf('%!.17g', min(h.score))"
    " FROM hits h JOIN tickets t ON t.id = h.tid"
    " WHERE (?2 IS NULL OR t.type = ?2) AND (?3 IS NULL OR t.status = ?3)"
    "  AND t.received_at >= ?4 AND t.received_at < ?5"
    "  AND (?6 IS NULL OR t.assignee = ?6)"
    "  AND (?7 IS NULL OR EXISTS (SELECT 1 FROM messages s"
    "   WHERE s.ticket_id = t.id AND s.from_addr = ?7 COLLATE NOCASE))"
    " GROUP BY t.id ORDER BY 10, t.id DESC LIMIT ?8",
    "WITH q AS (SELECT websearch_to_tsquery('intake_search', $1::text) AS q),"
    " hits(tid, score, src, rid) AS ("
    " SELECT m.ticket_id, -ts_rank(m.search, q.q)::float8, 'message', m.id"
    "  FROM messages m, q WHERE m.search @@ q.q"
    " UNION ALL"
    " SELECT e.ticket_id, -ts_rank(e.search, q.q)::float8 / 3, 'note', e.id"
    "  FROM events e, q WHERE e.kind = 'note' AND e.search @@ q.q),"
    " best AS (SELECT DISTINCT ON (t.id) t.id, t.status, t.type, t.urgency,"
    "  t.disposition, t.received_at, t.assignee, t.sender, t.subject,"
    "  h.score, h.src, h.rid"
    " FROM hits h JOIN tickets t ON t.id = h.tid"
    " WHERE ($2::text IS NULL OR t.type = $2::text)"
    "  AND ($3::text IS NULL OR t.status = $3::text)"
    "  AND t.received_at >= $4::bigint AND t.received_at < $5::bigint"
    "  AND ($6::text IS NULL OR t.assignee = $6::text)"
    "  AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM messages s"
    "   WHERE s.ticket_id = t.id AND lower(s.from_addr) = lower($7::text)))"
    " ORDER BY t.id, h.score, h.src, h.rid)"
    " SELECT id, status, type, urgency, disposition, received_at, assignee,"
    "  sender, subject, score, src, rid, score::text AS score_text"
    " FROM best ORDER BY score, id DESC LIMIT $8::bigint"
};

/* Body first (what people read), then the columns a word can hide in.
 * PostgreSQL: ts_headline over the same columns, its start when no word
 * of the query is in it (no ellipsis). */
#define PG_HEADLINE(col) "ts_headline('intake_search', " col ", q.q, " \
    "'StartSel=' || chr(2) || ', StopSel=' || chr(3) || " \
    "', MaxWords=16, MinWords=6, ShortWord=0')"

static const struct query q_snippet_msg = {
    "SELECT snippet(search_messages, 2, char(2), char(3), '…', 16),"
    " snippet(search_messages, 0, char(2), char(3), '…', 16),"
    " snippet(search_messages, 3, char(2), char(3), '…', 16),"
    " snippet(search_messages, 1, char(2), char(3), '…', 16)"
    " FROM search_messages WHERE search_messages MATCH ?1 AND rowid = ?2",
    "WITH q AS (SELECT websearch_to_tsquery('intake_search', $1::text) AS q)"
    " SELECT " PG_HEADLINE("left(coalesce(m.text, ''), 200000)") ","
    " " PG_HEADLINE("coalesce(m.subject, '')") ","
    " " PG_HEADLINE("intake_attachment_names(m.attachments)") ","
    " " PG_HEADLINE("trim(coalesce(m.from_name, '') || ' ' ||"
    " coalesce(m.from_addr, ''))")
    " FROM messages m, q WHERE m.id = $2"
};

static const struct query q_snippet_note = {
    "SELECT snippet(search_notes, 0, char(2), char(3), '…', 16)"
    " FROM search_notes WHERE search_notes MATCH ?1 AND rowid = ?2",
    "WITH q AS (SELECT websearch_to_tsquery('intake_search', $1::text) AS q)"
    " SELECT " PG_HEADLINE("left(intake_note_text(e.detail), 200000)")
    " FROM events e, q WHERE e.id = $2"
};

static char *
dup_col(struct stmt *s, int i)
{
	size_t len;
	const char *t = store_col_text(s, i, &len);

	return t ? utf8_sanitize(t, len) : NULL;
}

static int
snippet(struct store *st, const char *match, struct search_hit *h,
    long long rid)
{
	struct stmt *s;
	int rc, i, ncol;

	ncol = strcmp(h->where, "note") == 0 ? 1 : 4;
	if ((s = store_prepare(st, ncol == 1 ? &q_snippet_note :
	    &q_snippet_msg, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, match, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, rid)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		for (i = 0; i < ncol && h->snippet == NULL; i++) {
			const char *t = store_col_text(s, i, NULL);

			if (t && strchr(t, SEARCH_MARK_ON))
				h->snippet = dup_col(s, i);
		}
		/* matched only as digits (a phone number): the text's start */
		if (h->snippet == NULL)
			h->snippet = dup_col(s, 0);
		rc = STORE_DONE;
	}
	store_done(s);
	if (h->snippet == NULL)
		h->snippet = xstrdup("");
	return rc == STORE_DONE ? STORE_OK : rc;
}

static void
read_hit(struct stmt *s, struct search_hit *h, long long *rid)
{
	const char *score;

	memset(h, 0, sizeof(*h));
	h->id = store_col_int64(s, 0);
	h->status = dup_col(s, 1);
	h->type = dup_col(s, 2);
	h->urgency = dup_col(s, 3);
	h->disposition = dup_col(s, 4);
	h->received_at = (time_t)store_col_int64(s, 5);
	h->assignee = dup_col(s, 6);
	h->sender = dup_col(s, 7);
	h->subject = dup_col(s, 8);
	score = store_col_text(s, 12, NULL);
	h->score = score ? strtod(score, NULL) : 0;
	h->where = dup_col(s, 10);
	*rid = store_col_int64(s, 11);
}

static int
bind_filter(struct stmt *s, const char *match, const struct search_filter *f)
{
	int rc;

	if ((rc = store_bind_text(s, 1, match, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_text(s, 2, f->type, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_text(s, 3, f->status, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_int64(s, 4, (long long)f->since)) != STORE_OK ||
	    (rc = store_bind_int64(s, 5, (long long)f->until)) != STORE_OK ||
	    (rc = store_bind_text(s, 6, f->assignee, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_text(s, 7, f->sender, (size_t)-1)) != STORE_OK)
		return rc;
	return store_bind_int64(s, 8, f->limit > 0 ? f->limit : 50);
}

int
search_run(struct store *st, const char *match, const struct search_filter *f,
    struct search_hits *out)
{
	struct stmt *s;
	long long *rids = NULL;
	size_t cap = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((s = store_prepare(st, &q_search, &rc)) == NULL)
		return rc;
	if ((rc = bind_filter(s, match, f)) == STORE_OK)
		while ((rc = store_step(s)) == STORE_ROW) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				out->v = xreallocarray(out->v, cap,
				    sizeof(*out->v));
				rids = xreallocarray(rids, cap, sizeof(*rids));
			}
			read_hit(s, &out->v[out->n], &rids[out->n]);
			out->n++;
		}
	store_done(s);
	rc = rc == STORE_DONE ? STORE_OK : rc;
	/* snippets for the few hits shown, not for every match */
	for (i = 0; rc == STORE_OK && i < out->n; i++)
		rc = snippet(st, match, &out->v[i], rids[i]);
	free(rids);
	if (rc != STORE_OK)
		search_hits_free(out);
	return rc;
}

void
search_hits_free(struct search_hits *hs)
{
	size_t i;
	struct search_hit *h;

	for (i = 0; i < hs->n; i++) {
		h = &hs->v[i];
		free(h->status);
		free(h->type);
		free(h->urgency);
		free(h->disposition);
		free(h->assignee);
		free(h->sender);
		free(h->subject);
		free(h->where);
		free(h->snippet);
	}
	free(hs->v);
	memset(hs, 0, sizeof(*hs));
}

/* ---- rendering the snippet ------------------------------------------- */

/* lead: a leading blank is kept (the pieces between HTML marks). */
static char *
snippet_plain(const char *sn, int lead)
{
	struct buf b;
	const unsigned char *p;
	int space = 0;

	buf_init(&b, 0);
	buf_addstr(&b, "");
	for (p = (const unsigned char *)(sn ? sn : ""); *p; p++) {
		if (*p == SEARCH_MARK_ON || *p == SEARCH_MARK_OFF) {
			buf_addc(&b, *p == SEARCH_MARK_ON ? '[' : ']');
			space = 0;
		} else if (*p < 0x20 || *p == 0x7f || *p == ' ') {
			if (!space && (b.len > 0 || lead))
				buf_addc(&b, ' ');
			space = 1;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) {
			p++;	/* a C1 control: U+0080..U+009F */
		} else {
			buf_addc(&b, (char)*p);
			space = 0;
		}
	}
	return buf_steal(&b);
}

char *
search_snippet_plain(const char *sn)
{
	return snippet_plain(sn, 0);
}

int
search_snippet_html(struct buf *b, const char *sn)
{
	char *plain;
	const char *p, *q;
	int rc = 0, open = 0;

	/* the plain form has no controls left: split it on the markers the
	 * renderer put there, and balance them (a text may hold its own) */
	plain = xstrdup(sn ? sn : "");
	for (p = plain; *p; p = q) {
		q = p + strcspn(p, "\002\003");
		if (q > p) {
			char *part = xstrndup(p, (size_t)(q - p));
			char *clean = snippet_plain(part, 1);

			rc |= fmt_html_escape(b, clean);
			free(clean);
			free(part);
		}
		if (*q == SEARCH_MARK_ON && !open) {
			rc |= buf_addstr(b, "<mark>");
			open = 1;
		} else if (*q == SEARCH_MARK_OFF && open) {
			rc |= buf_addstr(b, "</mark>");
			open = 0;
		}
		if (*q)
			q++;
	}
	if (open)
		rc |= buf_addstr(b, "</mark>");
	free(plain);
	return rc ? -1 : 0;
}
