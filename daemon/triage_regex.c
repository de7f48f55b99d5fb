/* SPDX-License-Identifier: MIT */
/*
 * triage_regex.c: what a raw lexicon regex needs before PCRE2 is asked:
 * the literals one of which occurs in every match, the prefixes a match
 * tried at tokens starts with (triage_p.h), and the test hooks that check
 * both against PCRE2.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "triage_p.h"
#include "util.h"

/* ---- required literals of a raw regex ----------------------------------- */

/*
 * A raw regex without `first` is searched through the whole text, which
 * costs PCRE2 tens of instructions per character (e.g. an alternation of
 * Chinese phrases over a Chinese message).  When each top-level branch
 * holds a run of literal characters outside any group and quantifier, one
 * of those runs must occur in any match: a text without them is not
 * searched (PCRE2 would find nothing there).  Conservative: anything this
 * does not understand (inline options, \x{...}, \Q, backreferences...)
 * means no filter.  Under PCRE2_CASELESS only characters without case
 * count (CJK, kana, Hangul, Thai, digits, punctuation): "k" would also
 * match the Kelvin sign.
 */

static int
caseless_cp(uint32_t c)
{
	if (c < 0x80)
		return !((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	return (c >= 0x0e00 && c <= 0x0e7f) || (c >= 0x1100 && c <= 0x11ff) ||
	    (c >= 0x3000 && c <= 0x30ff) || (c >= 0x3130 && c <= 0x318f) ||
	    (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
	    (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff);
}

/* Past a group or class starting at p ('(' or '['), or NULL. */
static const char *
skip_bracketed(const char *p)
{
	int depth = 0;

	if (*p == '[') {
		p++;
		if (*p == '^')
			p++;
		if (*p == ']')
			p++;	/* a literal ']' first */
		for (; *p != '\0' && *p != ']'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '[' && p[1] == ':')
				return NULL;	/* POSIX class: not worth it */
		}
		return *p == ']' ? p + 1 : NULL;
	}
	/* (?x), (*VERB), (?(cond), (?P...: not understood */
	if (p[1] == '*' || (p[1] == '?' && p[2] != ':' && p[2] != '=' &&
	    p[2] != '!' && p[2] != '<' && p[2] != '>' && p[2] != '|'))
		return NULL;
	for (; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '[') {
			if ((p = skip_bracketed(p)) == NULL)
				return NULL;
			p--;
		} else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return NULL;
}

/* Past a quantifier at p ("?", "*", "+", "{m,n}", with a lazy or
 * possessive mark), p itself when there is none, NULL if unsure. */
static const char *
skip_quantifier(const char *p)
{
	if (*p == '?' || *p == '*' || *p == '+')
		p++;
	else if (*p == '{') {
		const char *q = p + 1;

		if (!(*q >= '0' && *q <= '9'))
			return NULL;	/* a literal '{'? not worth it */
		while ((*q >= '0' && *q <= '9') || *q == ',')
			q++;
		if (*q != '}')
			return NULL;
		p = q + 1;
	} else
		return p;
	if (*p == '?' || *p == '+')
		p++;
	return p;
}

static void	litset_free(struct litset *);

void
lits_free(struct pattern *pat)
{
	int k;

	if (pat->prefix != NULL) {
		litset_free(pat->prefix);
		free(pat->prefix);
		pat->prefix = NULL;
	}
	for (k = 0; k < pat->nlits; k++)
		free(pat->lits[k]);
	free(pat->lits);
	free(pat->litlens);
	pat->lits = NULL;
	pat->litlens = NULL;
	pat->nlits = 0;
}

/* A set of literal strings, one of which occurs in every match. */
struct litset {
	char	**s;
	size_t	 *l;
	int	  n;
};

static void
litset_free(struct litset *ls)
{
	int k;

	for (k = 0; k < ls->n; k++)
		free(ls->s[k]);
	free(ls->s);
	free(ls->l);
	memset(ls, 0, sizeof(*ls));
}

static void
litset_add(struct litset *ls, const char *s, size_t l)
{
	ls->s = xreallocarray(ls->s, (size_t)ls->n + 1, sizeof(*ls->s));
	ls->l = xreallocarray(ls->l, (size_t)ls->n + 1, sizeof(*ls->l));
	ls->l[ls->n] = l;
	ls->s[ls->n++] = xstrndup(s, l);
}

/* a += b (b emptied). */
static void
litset_take(struct litset *a, struct litset *b)
{
	int k;

	for (k = 0; k < b->n; k++)
		litset_add(a, b->s[k], b->l[k]);
	litset_free(b);
}

/* The run so far becomes the branch's best if it is longer. */
static void
run_end(struct buf *run, struct buf *best)
{
	if (run->len > best->len) {
		buf_reset(best);
		buf_add(best, run->data, run->len);
	}
	buf_reset(run);
}

#define LITS_UNSURE	(-2)	/* syntax not understood: no filter at all */
#define LITS_NONE	(-1)	/* understood, but a branch has no literal */

/*
 * The alternation at p, up to its ')' or the end: for each branch, its
 * longest run of literal characters outside groups and quantifiers, or
 * else the set of a mandatory plain group inside it.  *endp: where it
 * stopped (')' or NUL).
 */
static int
alt_lits(const char *p, uint32_t options, int depth, struct litset *out,
    const char **endp)
{
	const char *end, *q, *litp;
	struct buf run, best;
	struct litset grp, sub;
	int utf = (options & PCRE2_UTF) != 0;
	int caseless = (options & PCRE2_CASELESS) != 0, r, rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&grp, 0, sizeof(grp));
	buf_init(&run, 0);
	buf_init(&best, 0);
	if (depth > 8) {
		rc = LITS_UNSURE;
		goto done;
	}
	for (;;) {
		uint32_t c = (unsigned char)*p;
		size_t litn = 0;

		if (*p == '|' || *p == '\0' || *p == ')') {
			/* the end of a branch: its longest run, else the
			 * smallest set of a mandatory group */
			run_end(&run, &best);
			if (best.len > 0) {
				litset_add(out, best.data, best.len);
				litset_free(&grp);
			} else if (grp.n > 0)
				litset_take(out, &grp);
			else if (rc == 0)
				rc = LITS_NONE;
			buf_reset(&best);
			if (*p != '|')
				break;
			p++;
			continue;
		}
		/* one atom [p, end); litp/litn: its literal bytes, if any */
		litp = NULL;
		memset(&sub, 0, sizeof(sub));
		r = LITS_NONE;
		if (*p == '(' && (p[1] != '?' || (p[2] == ':'))) {
			/* a plain group: its own literals may serve */
			q = p[1] == '?' ? p + 3 : p + 1;
			r = alt_lits(q, options, depth + 1, &sub, &q);
			if (r == LITS_UNSURE || *q != ')') {
				litset_free(&sub);
				rc = LITS_UNSURE;
				goto done;
			}
			end = q + 1;
		} else if (*p == '(' || *p == '[') {
			if ((end = skip_bracketed(p)) == NULL) {
				rc = LITS_UNSURE;
				goto done;
			}
		} else if (*p == '\\') {
			c = (unsigned char)p[1];
			end = p + 2;
			if (c < 0x80 && c != 0 &&
			    !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
			    !(c >= '0' && c <= '9')) {
				litp = p + 1;	/* an escaped punctuation mark */
				litn = 1;
			} else if (c == 0 || strchr("dDsSwWbBhHvV", (int)c) == NULL) {
				rc = LITS_UNSURE;	/* \x{..}, \p{..}, \1, \Q.. */
				goto done;
			}
		} else if (*p == '.' || *p == '^' || *p == '$') {
			end = p + 1;
		} else if (strchr("?*+{}]", *p) != NULL) {
			rc = LITS_UNSURE;	/* out of place */
			goto done;
		} else {
			litn = 1;
			if (utf && c >= 0x80) {
				int n = utf8_decode((const unsigned char *)p,
				    strlen(p), &c);

				if (n < 0) {
					rc = LITS_UNSURE;
					goto done;
				}
				litn = (size_t)n;
			}
			end = p + litn;
			if (!caseless || caseless_cp(c))
				litp = p;
		}
		if ((q = skip_quantifier(end)) == NULL) {
			litset_free(&sub);
			rc = LITS_UNSURE;
			goto done;
		}
		/* a literal counts unless a quantifier makes it optional; a
		 * group's set if it is mandatory and smaller than the last */
		if (litp != NULL && q == end)
			buf_add(&run, litp, litn);
		else
			run_end(&run, &best);
		if (r == 0 && q == end && sub.n > 0 &&
		    (grp.n == 0 || sub.n < grp.n)) {
			litset_free(&grp);
			grp = sub;
		} else
			litset_free(&sub);
		p = q;
	}
done:
	*endp = p;
	buf_free(&run);
	buf_free(&best);
	litset_free(&grp);
	if (rc != 0)
		litset_free(out);
	return rc;
}

static int	prefix_lits(const char *, uint32_t, int, struct litset *,
		    const char **);

/* The prefixes of the alternation at p (up to its ')' or the end, where
 * *endp is left): each alternative's.  -1 when one has none. */
static int
alt_prefix(const char *p, uint32_t options, int depth, struct litset *out,
    const char **endp)
{
	struct litset sub;
	const char *q = p;

	memset(out, 0, sizeof(*out));
	for (;;) {
		if (prefix_lits(q, options, depth, &sub, &q) < 0) {
			litset_free(out);
			return -1;
		}
		litset_take(out, &sub);
		/* the rest of the alternative is not needed */
		while (*q != '\0' && *q != '|' && *q != ')') {
			if (*q == '\\' && q[1] != '\0')
				q += 2;
			else if (*q == '(' || *q == '[') {
				if ((q = skip_bracketed(q)) == NULL) {
					litset_free(out);
					return -1;
				}
			} else
				q++;
		}
		if (*q != '|')
			break;
		q++;
	}
	*endp = q;
	return out->n > 0 ? 0 : -1;
}

/*
 * The literal runs an anchored match of src must start with: after
 * zero-width atoms (\b, lookarounds), the first atom's literal run, or
 * each alternative's of a first plain group.  0 with the set, -1 when
 * unsure or some alternative does not start with a literal.
 */
static int
prefix_lits(const char *p, uint32_t options, int depth, struct litset *out,
    const char **endp)
{
	int caseless = (options & PCRE2_CASELESS) != 0;
	int utf = (options & PCRE2_UTF) != 0;
	const char *q, *end;
	struct buf run;
	int rc = 0, n;

	memset(out, 0, sizeof(*out));
	if (depth > 8)
		return -1;
	/* zero-width atoms first */
	for (;;) {
		if (p[0] == '\\' && (p[1] == 'b' || p[1] == 'B'))
			p += 2;
		else if (strncmp(p, "(?=", 3) == 0 || strncmp(p, "(?!", 3) == 0 ||
		    strncmp(p, "(?<=", 4) == 0 || strncmp(p, "(?<!", 4) == 0) {
			if ((q = skip_bracketed(p)) == NULL)
				return -1;
			p = q;
		} else
			break;
		if (*p == '?' || *p == '*' || *p == '+' || *p == '{')
			return -1;	/* a quantified assertion: unsure */
	}
	if (*p == '(' && (p[1] != '?' || p[2] == ':')) {
		/* a plain group: each alternative's prefix */
		q = p[1] == '?' ? p + 3 : p + 1;
		if (alt_prefix(q, options, depth + 1, out, &end) < 0)
			return -1;
		if (*end != ')' || ((q = skip_quantifier(end + 1)) == NULL) ||
		    q != end + 1) {
			litset_free(out);	/* unclosed, or quantified */
			return -1;
		}
		*endp = end + 1;
		return 0;
	}
	/* a literal run */
	buf_init(&run, 0);
	for (;;) {
		uint32_t c = (unsigned char)*p;
		size_t clen = 1;
		const char *lp = p;

		if (c == '\\') {
			c = (unsigned char)p[1];
			if (c == 0 || c >= 0x80 || (c | 0x20) - 'a' < 26u ||
			    c - '0' < 10u)
				break;	/* a class or other escape: the run ends */
			lp = p + 1;
			clen = 2;
		} else if (c == 0 || strchr("()[]{}.^$|*+?", (int)c) != NULL)
			break;
		else if (utf && c >= 0x80) {
			if ((n = utf8_decode((const unsigned char *)p, strlen(p),
			    &c)) < 0)
				break;
			clen = (size_t)n;
		}
		if (caseless && !caseless_cp(c))
			break;
		q = skip_quantifier(p + clen);
		if (q == NULL || q != p + clen)
			break;	/* optional or repeated: the run ends before */
		buf_add(&run, lp, c >= 0x80 ? clen : 1);
		p += clen;
	}
	if (run.len > 0)
		litset_add(out, run.data, run.len);
	else
		rc = -1;
	buf_free(&run);
	*endp = p;
	return rc;
}

/*
 * A leading (?-i) or (?i) sets caselessness for the whole regex: applied to
 * *options, the rest of src returned.  Other inline options are left in
 * place (the filters then give up: they may change the syntax).
 */
static const char *
leading_case(const char *src, uint32_t *options)
{
	if (strncmp(src, "(?-i)", 5) == 0) {
		*options &= ~(uint32_t)PCRE2_CASELESS;
		return src + 5;
	}
	if (strncmp(src, "(?i)", 4) == 0) {
		*options |= PCRE2_CASELESS;
		return src + 4;
	}
	return src;
}

/* Fill pat->prefix for a regex tried at tokens; none when unsure. */
void
regex_prefix(struct pattern *pat, const char *src, uint32_t options)
{
	struct litset ls;
	const char *end;

	src = leading_case(src, &options);
	if (alt_prefix(src, options, 0, &ls, &end) < 0 || *end != '\0' ||
	    ls.n > LIT_MAX) {
		litset_free(&ls);
		return;
	}
	pat->prefix = xcalloc(1, sizeof(*pat->prefix));
	*pat->prefix = ls;
}

/* Can a match of pat start at s (len bytes left)? */
int
prefix_present(const struct pattern *pat, const char *s, size_t len)
{
	int k;

	if (pat->prefix == NULL)
		return 1;
	for (k = 0; k < pat->prefix->n; k++)
		if (pat->prefix->l[k] <= len &&
		    memcmp(s, pat->prefix->s[k], pat->prefix->l[k]) == 0)
			return 1;
	return 0;
}

/* How many prefixes pat has (0: none known). */
int
prefix_count(const struct pattern *pat)
{
	return pat->prefix != NULL ? pat->prefix->n : 0;
}

/*
 * The first offset at or after from where one of pat's prefixes occurs in
 * s[0..len), or len + 1.  nx[k] caches prefix k's next occurrence: 0
 * unknown, SIZE_MAX none left, else offset + 1; all 0 to start with, and
 * from never goes back.
 */
size_t
prefix_next(const struct pattern *pat, const char *s, size_t len,
    size_t from, size_t *nx)
{
	const struct litset *ls = pat->prefix;
	size_t best = len + 1;
	int k;

	for (k = 0; k < ls->n; k++) {
		if (nx[k] == 0 || (nx[k] != SIZE_MAX && nx[k] - 1 < from)) {
			const char *f = from < len ? memmem(s + from,
			    len - from, ls->s[k], ls->l[k]) : NULL;

			nx[k] = f != NULL ? (size_t)(f - s) + 1 : SIZE_MAX;
		}
		if (nx[k] != SIZE_MAX && nx[k] - 1 < best)
			best = nx[k] - 1;
	}
	return best;
}

/* Fill pat->lits from src (compiled with options); none when unsure. */
void
regex_literals(struct pattern *pat, const char *src, uint32_t options)
{
	struct litset ls;
	const char *end;

	src = leading_case(src, &options);
	if (alt_lits(src, options, 0, &ls, &end) < 0 || *end != '\0' ||
	    ls.n > LIT_MAX) {
		litset_free(&ls);
		return;
	}
	pat->lits = ls.s;
	pat->litlens = ls.l;
	pat->nlits = ls.n;
}

/* Can a match of pat lie in s[0..len)? (Its literals, if it has some.) */
int
literals_present(const struct pattern *pat, const char *s, size_t len)
{
	int k;

	if (pat->nlits == 0)
		return 1;
	for (k = 0; k < pat->nlits; k++)
		if (memmem(s, len, pat->lits[k], pat->litlens[k]) != NULL)
			return 1;
	return 0;
}


int
triage_check_regex_literals(const char *re, const char *text, size_t len)
{
	struct pattern pat;
	pcre2_match_data *md;
	char msg[200];
	int rc;

	memset(&pat, 0, sizeof(pat));
	if ((pat.re = compile(re, regex_options(re), msg, sizeof(msg))) == NULL)
		return -1;
	regex_literals(&pat, re, regex_options(re));
	rc = 0;
	if (!literals_present(&pat, text, len)) {
		md = pcre2_match_data_create(4, NULL);
		rc = pcre2_match(pat.re, (PCRE2_SPTR)text, len, 0, 0, md,
		    NULL) >= 0 ? 2 : 1;
		pcre2_match_data_free(md);
	}
	lits_free(&pat);
	pcre2_code_free(pat.re);
	return rc;
}

int
triage_check_regex_search(const char *re, const char *text, size_t len)
{
	struct pattern pat;
	pcre2_match_data *md, *md2;
	size_t nx[LIT_MAX], start = 0;
	char msg[200];
	int rc = 0, a, b, k;

	memset(&pat, 0, sizeof(pat));
	memset(nx, 0, sizeof(nx));
	if ((pat.re = compile(re, regex_options(re), msg, sizeof(msg))) == NULL)
		return -1;
	regex_prefix(&pat, re, regex_options(re));
	md = pcre2_match_data_create(4, NULL);
	md2 = pcre2_match_data_create(4, NULL);
	/* the cursor's walk: each match from the end of the one before */
	for (k = 0; k < 64 && start <= len && rc != 2; k++) {
		PCRE2_SIZE *o1, *o2;

		a = pcre2_match(pat.re, (PCRE2_SPTR)text, len, start, 0, md,
		    NULL);
		b = regex_search(&pat, text, len, start, nx, md2, NULL);
		if ((a >= 0) != (b >= 0))
			rc = 2;
		if (a < 0 || rc == 2)
			break;
		o1 = pcre2_get_ovector_pointer(md);
		o2 = pcre2_get_ovector_pointer(md2);
		if (o1[0] != o2[0] || o1[1] != o2[1])
			rc = 2;
		else
			rc = pat.prefix != NULL ? 1 : rc;
		start = o1[1] > o1[0] ? o1[1] : o1[0] + 1;
		while (start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
			start++;
	}
	pcre2_match_data_free(md);
	pcre2_match_data_free(md2);
	lits_free(&pat);
	pcre2_code_free(pat.re);
	return rc;
}

int
triage_check_regex_prefix(const char *re, const char *text, size_t len)
{
	struct pattern pat;
	pcre2_match_data *md;
	char msg[200];
	size_t pos;
	int rc = 0, m;

	memset(&pat, 0, sizeof(pat));
	if ((pat.re = compile(re, regex_options(re), msg, sizeof(msg))) == NULL)
		return -1;
	regex_prefix(&pat, re, regex_options(re));
	md = pcre2_match_data_create(4, NULL);
	for (pos = 0; pos <= len; pos++) {
		if (prefix_present(&pat, text + pos, len - pos))
			continue;
		m = pcre2_match(pat.re, (PCRE2_SPTR)text, len, pos,
		    PCRE2_ANCHORED, md, NULL) >= 0;
		if (m) {
			rc = 2;
			break;
		}
		rc = 1;
	}
	pcre2_match_data_free(md);
	lits_free(&pat);
	pcre2_code_free(pat.re);
	return rc;
}
