/* SPDX-License-Identifier: MIT */
/*
 * triage_model.c: the learned half of triage.  Hashed word 1-2 grams and
 * character 2-5 grams within words, TF-IDF weighted, into two
 * liblinear logistic regressions (the type, one against the rest; urgent or
 * not).  The rules stay decisive where they are good: machine headers,
 * languages the lexicon does not read, a self-identifying victim; the
 * flags (minor, danger, interpreter) are theirs.  Model file format and the
 * combination: doc/interfaces.md, "the triage model".
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <linear.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calltype.h"
#include "message.h"
#include "triage.h"
#include "triage_p.h"
#include "util.h"

#define NBUCKET		(1u << 18)
#define NTYPE		7		/* CT_CRISIS .. CT_AUTOMATED */
#define NW		(NTYPE + 1)	/* + urgent */
#define COL_URGENT	NTYPE
#define MIN_DF		2		/* a feature two training messages share */
#define DEFAULT_C	10.0		/* the baseline's */
#define MAX_WORDS	4000
#define MAX_GRAM_CP	32		/* longer words: no character grams */
/* combine()'s knobs when the trainer has too few sets to choose them */
#define DEFAULT_KNOBS	{ 0.25, 1.01, 0.5, 1, 0 }
#define TOP_FEATURES	3
#define FALSE_URGENT_PCT 4		/* knobs keep false urgents under */
#define MODEL_MAGIC	"intake-triage-model 1"
/*
 * "Enough training data" for a language the lexicon does not read fully:
 * this many labeled human messages (any type but automated) detected as
 * that language in the training sets.  Below it the rules decide alone
 * (needs_interpreter, urgent crisis); at or above it the model decides
 * as for en and es.  Fifteen is about two messages of each human type:
 * fewer, and a type has no example in that language's words.
 */
#define LANG_MIN_TRAIN	15
#define MAX_LANGS	64		/* counted languages in a model file */

enum block { B_WORD, B_CHAR, B_META, B__COUNT };

/* How rules and model combine (combine()); in the model file. */
struct knobs {
	double	 floor;		/* the rules' crisis kept at model crisis >= */
	double	 auto_gate;	/* decisive rules lose to model automated >= */
	double	 urgent_at;	/* urgent at model urgent >= */
	int	 danger_urgent;	/* the rules' danger makes a tip urgent */
	double	 crisis_gate;	/* the model's crisis alone needs crisis >= */
};

struct triage_model {
	int32_t		*row;		/* NBUCKET: row or -1 */
	uint64_t	*known;		/* NBUCKET bits: row[b] >= 0 (32 KB,
					 * read for every gram of a text) */
	float		*idf;		/* nrows */
	float		*w;		/* nrows * NW */
	float		 bias[NW];
	struct knobs	 knobs;
	uint32_t	 nrows;
	struct langcount {
		char	 code[4];
		unsigned n;		/* labeled human training messages */
	}		 langs[MAX_LANGS];	/* not read fully by the lexicon */
	size_t		 nlangs;
	unsigned	 lang_min;	/* the model decides at n >= lang_min */
};

/* ---- features ----------------------------------------------------------- */

/*
 * Features of one message, accumulated by bucket: an open-addressing table
 * of (bucket + 1) << 32 | entry, the entries in the order they came.  The
 * table's slot order is the order the scores are summed in (float sums:
 * the same order, the same bits), so its sizes and probing are fixed:
 * from 1024 slots, doubled when half full, linear probing.
 */
struct facc {
	uint64_t	*tab;		/* cap slots, 0 free */
	size_t		 cap, n;
	uint32_t	*key;		/* per entry: bucket + 1 */
	float		*tf;
	unsigned char	*blk;
	const char	**s;		/* first occurrence, for the rationale */
	uint32_t	*len;
	size_t		 ecap;		/* entries allocated */
	const struct triage_model *filter;	/* keep known buckets only */
};

static uint32_t
fnv1a(char kind, const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	h = (h ^ (unsigned char)kind) * 16777619u;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h & (NBUCKET - 1);
}

uint32_t
triage_model_bucket(char kind, const char *s, size_t len)
{
	return fnv1a(kind, s, len);
}

static void
facc_init(struct facc *a, const struct triage_model *filter)
{
	memset(a, 0, sizeof(*a));
	a->filter = filter;
}

static void
facc_free(struct facc *a)
{
	free(a->tab);
	free(a->key);
	free(a->tf);
	free(a->blk);
	free(a->s);
	free(a->len);
	memset(a, 0, sizeof(*a));
}

static void
facc_grow(struct facc *a)
{
	uint64_t *tab;
	size_t cap = a->cap ? a->cap * 2 : 1024, i, j;

	tab = xcalloc(cap, sizeof(*tab));
	/* in the old slots' order */
	for (i = 0; i < a->cap; i++) {
		uint32_t k = (uint32_t)(a->tab[i] >> 32);

		if (k == 0)
			continue;
		for (j = (k * 2654435761u) & (cap - 1); tab[j];
		    j = (j + 1) & (cap - 1))
			;
		tab[j] = a->tab[i];
	}
	free(a->tab);
	a->tab = tab;
	a->cap = cap;
}

/* The slot of key k (bucket + 1): its own or the free one it would take. */
static size_t
facc_slot(const struct facc *a, uint32_t k)
{
	size_t j;

	for (j = (k * 2654435761u) & (a->cap - 1); a->tab[j] &&
	    (uint32_t)(a->tab[j] >> 32) != k; j = (j + 1) & (a->cap - 1))
		;
	return j;
}

static void
facc_insert(struct facc *a, size_t j, uint32_t k, enum block blk,
    const char *s, size_t len)
{
	size_t e = a->n++;

	if (e == a->ecap) {
		a->ecap = a->ecap ? a->ecap * 2 : 512;
		a->key = xreallocarray(a->key, a->ecap, sizeof(*a->key));
		a->tf = xreallocarray(a->tf, a->ecap, sizeof(*a->tf));
		a->blk = xreallocarray(a->blk, a->ecap, sizeof(*a->blk));
		a->s = xreallocarray(a->s, a->ecap, sizeof(*a->s));
		a->len = xreallocarray(a->len, a->ecap, sizeof(*a->len));
	}
	a->key[e] = k;
	a->tf[e] = 0;
	a->blk[e] = (unsigned char)blk;
	a->s[e] = s;
	a->len[e] = (uint32_t)len;
	a->tab[j] = (uint64_t)k << 32 | e;
}

/* The entries in slot order (the summing order); n of them. */
static uint32_t *
facc_order(const struct facc *a)
{
	uint32_t *ord = xreallocarray(NULL, a->n + 1, sizeof(*ord));
	size_t i, r = 0;

	for (i = 0; i < a->cap; i++)
		if (a->tab[i])
			ord[r++] = (uint32_t)a->tab[i];
	return ord;
}

static int
model_knows(const struct triage_model *m, uint32_t h)
{
	return (int)((m->known[h >> 6] >> (h & 63)) & 1);
}

/* The count of bucket h + 1; its entry, or -1 when the filter drops it. */
static long
facc_add_h(struct facc *a, uint32_t h, enum block blk, const char *s,
    size_t len)
{
	uint32_t k = h + 1, e;
	size_t j;

	if (a->filter != NULL && !model_knows(a->filter, h))
		return -1;
	if (2 * (a->n + 1) > a->cap)
		facc_grow(a);
	j = facc_slot(a, k);
	if (a->tab[j] == 0)
		facc_insert(a, j, k, blk, s, len);
	e = (uint32_t)a->tab[j];
	a->tf[e] += 1.0f;
	return e;
}

static void
facc_add(struct facc *a, char kind, enum block blk, const char *s, size_t len)
{
	facc_add_h(a, fnv1a(kind, s, len), blk, s, len);
}

static int
word_byte(unsigned char c)
{
	return c >= 0x80 || isalnum(c);
}

/*
 * What facc_add_h() does to a table before counting a bucket it already
 * holds: grow when half full.  The table grows at the first count after
 * it is half full, and its size decides the slot order, so a count that
 * is deferred (wcache) still makes this check in its place; between two
 * insertions the check is idempotent.
 */
static void
facc_check(struct facc *a)
{
	if (2 * (a->n + 1) > a->cap)
		facc_grow(a);
}

/*
 * The distinct words of one message with the entries (in a; entries never
 * move) of the word and of its character grams, those a's filter kept, in
 * facc_add_h() order.  A word seen again is only counted (rep); its grams'
 * counts get rep at the end (wcache_flush(): counts are whole numbers in
 * floats, exact in any order).  Hashing every gram of every word, the
 * filter's look-ups and the probes were most of the model's time.
 */
struct wcache {
	const char	**w;
	uint32_t	 *wl;
	uint32_t	 *hw;		/* fnv1a('w', word) */
	int32_t		 *ew;		/* the word's entry, -1: none */
	uint32_t	 *first;	/* its grams: grams[first..first+ngr) */
	uint32_t	 *ngr;
	uint32_t	 *rep;		/* times seen again */
	uint32_t	 *slot;		/* open addressing: index + 1, 0 free */
	size_t		  n, cap;	/* cap: slots, a power of two */
	uint32_t	 *grams;
	size_t		  ngrams, gcap;
};

static void
wcache_free(struct wcache *c)
{
	free(c->w);
	free(c->wl);
	free(c->hw);
	free(c->ew);
	free(c->first);
	free(c->ngr);
	free(c->rep);
	free(c->slot);
	free(c->grams);
	memset(c, 0, sizeof(*c));
}

static size_t
wcache_home(const struct wcache *c, uint32_t hw)
{
	return (hw * 2654435761u >> 8) & (c->cap - 1);
}

static void
wcache_grow(struct wcache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 256, i, j;

	free(c->slot);
	c->slot = xcalloc(cap, sizeof(*c->slot));
	c->cap = cap;
	c->w = xreallocarray(c->w, cap / 2, sizeof(*c->w));
	c->wl = xreallocarray(c->wl, cap / 2, sizeof(*c->wl));
	c->hw = xreallocarray(c->hw, cap / 2, sizeof(*c->hw));
	c->ew = xreallocarray(c->ew, cap / 2, sizeof(*c->ew));
	c->first = xreallocarray(c->first, cap / 2, sizeof(*c->first));
	c->ngr = xreallocarray(c->ngr, cap / 2, sizeof(*c->ngr));
	c->rep = xreallocarray(c->rep, cap / 2, sizeof(*c->rep));
	for (i = 0; i < c->n; i++) {
		for (j = wcache_home(c, c->hw[i]); c->slot[j];
		    j = (j + 1) & (cap - 1))
			;
		c->slot[j] = (uint32_t)i + 1;
	}
}

/* The word's index, or -1 with *slotp where it would go. */
static long
wcache_find(const struct wcache *c, const char *w, size_t wl, uint32_t hw,
    size_t *slotp)
{
	size_t j;

	for (j = wcache_home(c, hw); c->slot[j]; j = (j + 1) & (c->cap - 1)) {
		uint32_t e = c->slot[j] - 1;

		if (c->hw[e] == hw && c->wl[e] == wl &&
		    memcmp(c->w[e], w, wl) == 0)
			return (long)e;
	}
	*slotp = j;
	return -1;
}

static void
wcache_gram(struct wcache *c, uint32_t e)
{
	if (c->ngrams == c->gcap) {
		c->gcap = c->gcap ? c->gcap * 2 : 1024;
		c->grams = xreallocarray(c->grams, c->gcap, sizeof(*c->grams));
	}
	c->grams[c->ngrams++] = e;
}

/* The deferred counts of the grams of words seen again. */
static void
wcache_flush(struct wcache *c, struct facc *a)
{
	size_t i, g;

	for (i = 0; i < c->n; i++)
		if (c->rep[i] > 0)
			for (g = 0; g < c->ngr[i]; g++)
				a->tf[c->grams[c->first[i] + g]] +=
				    (float)c->rep[i];
}

/* Character 2-5 grams of " word " (code points), hashed with the padding;
 * the quoted string (for the rationale) is the part inside the word.  The
 * entries of those a kept go to c. */
static void
char_grams(struct facc *a, const char *w, size_t wl, struct wcache *c)
{
	size_t cp[MAX_GRAM_CP + 3], ncp = 1, i, n, k, plen = wl + 2;
	uint32_t hv[MAX_GRAM_CP + 3][4];	/* [start][n - 2] */
	unsigned char buf[4 * (MAX_GRAM_CP + 2)], *pad = buf;

	/* " word ": at most MAX_GRAM_CP + 2 code points, or no grams */
	cp[0] = 0;
	for (i = 0; i < wl && ncp <= MAX_GRAM_CP + 1; i++)
		if (((unsigned char)w[i] & 0xc0) != 0x80)
			cp[ncp++] = i + 1;
	if (ncp <= MAX_GRAM_CP + 1)
		cp[ncp++] = wl + 1;
	if (ncp > MAX_GRAM_CP + 1)
		return;
	cp[ncp] = plen;
	if (plen > sizeof(buf))		/* not UTF-8 (normalised text is) */
		pad = xmalloc(plen);
	pad[0] = ' ';
	memcpy(pad + 1, w, wl);
	pad[wl + 1] = ' ';
	/* fnv1a('c', gram) of the grams starting at cp[i], each one the
	 * one before extended by a code point */
	for (i = 0; i + 2 <= ncp; i++) {
		uint32_t h = (2166136261u ^ (unsigned char)'c') * 16777619u;

		for (n = 1, k = cp[i]; n <= 5 && i + n <= ncp; n++) {
			for (; k < cp[i + n]; k++)
				h = (h ^ pad[k]) * 16777619u;
			if (n >= 2)
				hv[i][n - 2] = h & (NBUCKET - 1);
		}
	}
	for (n = 2; n <= 5; n++)
		for (i = 0; i + n <= ncp; i++) {
			size_t from = cp[i], to = cp[i + n];
			size_t qs = from ? from - 1 : 0;
			size_t qe = to - 1 > wl ? wl : to - 1;
			long e = facc_add_h(a, hv[i][n - 2], B_CHAR, w + qs,
			    qe > qs ? qe - qs : 0);

			if (e >= 0)
				wcache_gram(c, (uint32_t)e);
		}
	if (pad != buf)
		free(pad);
}

/* Words, word pairs and character grams of text; the strings point into
 * it (for the rationale). */
static void
text_features(struct facc *a, const char *text, size_t *nwords,
    const char **prev, size_t *prevlen, struct wcache *wc)
{
	const char *p = text;

	while (*p != '\0' && *nwords < MAX_WORDS) {
		const char *w;
		size_t wl, slot = 0;
		uint32_t hw;
		long e;
		int seen;

		while (*p != '\0' && !word_byte((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (word_byte((unsigned char)*p))
			p++;
		wl = (size_t)(p - w);
		(*nwords)++;
		/* the word, the pair, the grams (in that order: it decides
		 * the slots); a word seen before in this message is only
		 * counted again */
		hw = fnv1a('w', w, wl);
		if (2 * (wc->n + 1) > wc->cap)
			wcache_grow(wc);
		e = wcache_find(wc, w, wl, hw, &slot);
		seen = e >= 0;
		if (seen) {
			if (wc->ew[e] >= 0) {
				facc_check(a);
				a->tf[wc->ew[e]] += 1.0f;
			}
		} else {
			e = (long)wc->n++;
			wc->slot[slot] = (uint32_t)e + 1;
			wc->w[e] = w;
			wc->wl[e] = (uint32_t)wl;
			wc->hw[e] = hw;
			wc->ew[e] = (int32_t)facc_add_h(a, hw, B_WORD, w, wl);
			wc->rep[e] = 0;
		}
		if (*prev != NULL && (size_t)(w - *prev) < 64 + *prevlen)
			/* "a b": the bytes from the first word's start */
			facc_add(a, 'b', B_WORD, *prev, (size_t)(w - *prev) + wl);
		*prev = w;
		*prevlen = wl;
		if (seen) {
			if (wc->ngr[e] > 0) {
				facc_check(a);
				wc->rep[e]++;
			}
			continue;
		}
		wc->first[e] = (uint32_t)wc->ngrams;
		char_grams(a, w, wl, wc);
		wc->ngr[e] = (uint32_t)(wc->ngrams - wc->first[e]);
	}
}

/*
 * The model reads the text alone.  The rules' own evidence (signal sums,
 * the rules that fired, their decision) was tried as features and left
 * out: the lexicon was tuned on the very sets the model trains on, so the
 * model learns to trust the rules more than they deserve on a stranger's
 * writing (leave-one-writer-out on labeled2, the set the rules were not
 * tuned on: 68.8% with them, 77.5% without).  The rules act after the
 * model instead, where they are decisive (triage_model_apply()).
 */
static void
features(struct facc *a, const struct triage_evidence *ev)
{
	const char *prev = NULL;
	size_t prevlen = 0, nwords = 0;
	struct wcache wc;

	memset(&wc, 0, sizeof(wc));
	text_features(a, ev->subj, &nwords, &prev, &prevlen, &wc);
	prev = NULL;
	text_features(a, ev->body, &nwords, &prev, &prevlen, &wc);
	wcache_flush(&wc, a);
	wcache_free(&wc);
	/* mailing-list headers (Precedence: bulk, List-Id, List-Unsubscribe):
	 * structure, not wording, so no lexicon tuning leaks in */
	if (ev->hdr == 1)
		facc_add(a, 'h', B_META, "header: list", 12);
}

/* TF-IDF values, each block of unit length; val[r] and idf[r] for the
 * entry ord[r] (slot order). */
static void
weigh(const struct facc *a, const uint32_t *ord, const float *idf,
    float *val)
{
	double norm[B__COUNT] = { 0 };
	size_t r;

	for (r = 0; r < a->n; r++) {
		uint32_t e = ord[r];

		val[r] = (1.0f + logf(a->tf[e])) * idf[r];
		norm[a->blk[e]] += (double)val[r] * val[r];
	}
	for (r = 0; r < B__COUNT; r++)
		norm[r] = norm[r] > 0 ? sqrt(norm[r]) : 1;
	for (r = 0; r < a->n; r++)
		val[r] = (float)(val[r] / norm[a->blk[ord[r]]]);
}

/* ---- loading ------------------------------------------------------------ */

void
triage_model_free(struct triage_model *m)
{
	if (m == NULL)
		return;
	free(m->row);
	free(m->known);
	free(m->idf);
	free(m->w);
	free(m);
}

static int
model_err(char *err, size_t errlen, const char *file, size_t line,
    const char *what)
{
	if (line)
		snprintf(err, errlen, "%s:%zu: %s", file, line, what);
	else
		snprintf(err, errlen, "%s: %s", file, what);
	return -1;
}

/* The next line of *p (NUL-terminated text), or NULL at the end. */
static char *
next_line(char **p, size_t *lineno)
{
	char *s = *p, *e;

	if (*s == '\0')
		return NULL;
	e = strchr(s, '\n');
	if (e != NULL) {
		*e = '\0';
		*p = e + 1;
	} else
		*p = s + strlen(s);
	(*lineno)++;
	return s;
}

/*
 * strtod() for the numbers the trainer writes ("%.5g": "-0.09904",
 * "2.8232e-05"), which are most of a model's load time: [-+]digits[.digits]
 * [e[-+]digits] followed by a space or the end, at most 15 significant
 * digits and a power of ten up to 22 away.  Then the digits (an integer
 * below 2^53) and the power of ten are exact doubles and one
 * multiplication or division gives the correctly rounded value, the one
 * strtod() returns (Clinger's fast path; with double arithmetic in
 * double precision, FLT_EVAL_METHOD 0).  Anything else: strtod().  More
 * digits than 19 wrap m, but then sig > 15 and strtod() decides.
 */
static double
fast_strtod(char *s, char **end)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	    1e19, 1e20, 1e21, 1e22 };
	const char *p = s;
	uint64_t m = 0;
	int neg = 0, digits = 0, sig = 0, frac = 0, ex = 0, eneg = 0, edig = 0;
	double d;

	if (FLT_EVAL_METHOD != 0)
		return strtod(s, end);
	while (*p == ' ')
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		if (m != 0 || *p != '0') {
			m = m * 10 + (uint64_t)(*p - '0');
			sig++;
		}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++, frac++)
			if (m != 0 || *p != '0') {
				m = m * 10 + (uint64_t)(*p - '0');
				sig++;
			}
	if (digits > 0 && (*p == 'e' || *p == 'E')) {
		p++;
		if (*p == '-' || *p == '+')
			eneg = *p++ == '-';
		for (; *p >= '0' && *p <= '9' && edig < 4; p++, edig++)
			ex = ex * 10 + (*p - '0');
		if (edig == 0)
			return strtod(s, end);
	}
	if (digits == 0 || sig > 15 || (*p != ' ' && *p != '\0') ||
	    (*p >= '0' && *p <= '9'))
		return strtod(s, end);
	ex = (eneg ? -ex : ex) - frac;
	if (ex < -22 || ex > 22)
		return strtod(s, end);
	d = ex < 0 ? (double)m / p10[-ex] : (double)m * p10[ex];
	*end = (char *)p;
	return neg ? -d : d;
}

double
triage_model_strtod(char *s, char **end)
{
	return fast_strtod(s, end);
}

static int
parse_floats(char *s, float *out, size_t n)
{
	size_t i;
	char *e;

	for (i = 0; i < n; i++) {
		double d;

		errno = 0;
		d = fast_strtod(s, &e);
		if (e == s || errno != 0 || !isfinite(d) || fabs(d) > 1e6)
			return -1;
		out[i] = (float)d;
		s = e;
	}
	while (*s == ' ')
		s++;
	return *s == '\0' ? 0 : -1;
}

/* "MIN CODE:N ...": the languages line (a file without one: the model
 * decides en and es only, as before). */
static int
parse_langs(struct triage_model *m, char *s)
{
	unsigned long v;
	char *e;
	size_t n;

	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno != 0 || e == s || v > 1000000)
		return -1;
	m->lang_min = (unsigned)v;
	for (s = e; *s == ' '; s = e) {
		s++;
		n = strspn(s, "abcdefghijklmnopqrstuvwxyz");
		if (n < 2 || n > 3 || s[n] != ':' || m->nlangs == MAX_LANGS)
			return -1;
		errno = 0;
		v = strtoul(s + n + 1, &e, 10);
		if (errno != 0 || e == s + n + 1 || v > 1000000 ||
		    (*e != ' ' && *e != '\0'))
			return -1;
		memcpy(m->langs[m->nlangs].code, s, n);
		m->langs[m->nlangs].code[n] = '\0';
		m->langs[m->nlangs++].n = (unsigned)v;
	}
	return *s == '\0' ? 0 : -1;
}

/* Labeled human training messages in lang (not read fully), or -1 when
 * the model was not told of it. */
static long
lang_count(const struct triage_model *m, const char *lang)
{
	size_t i;

	for (i = 0; i < m->nlangs; i++)
		if (strcmp(m->langs[i].code, lang) == 0)
			return (long)m->langs[i].n;
	return -1;
}

/* text is modified (lines split).  file names the source in errors. */
static struct triage_model *
model_parse(char *text, const char *file, char *err, size_t errlen)
{
	static const char *const cls = "classes crisis tip tta referral info "
	    "related automated urgent";
	struct triage_model *m;
	char *p = text, *l, *e;
	size_t lineno = 0, i;
	unsigned long nrows, b;

	m = xcalloc(1, sizeof(*m));
	if ((l = next_line(&p, &lineno)) == NULL || strcmp(l, MODEL_MAGIC) != 0) {
		model_err(err, errlen, file, lineno ? lineno : 1, "not an intake "
		    "triage model (first line must be \"" MODEL_MAGIC "\")");
		goto fail;
	}
	if ((l = next_line(&p, &lineno)) == NULL || strcmp(l, "buckets 262144")) {
		model_err(err, errlen, file, lineno, "expected \"buckets 262144\"");
		goto fail;
	}
	if ((l = next_line(&p, &lineno)) == NULL || strcmp(l, cls) != 0) {
		model_err(err, errlen, file, lineno, "expected the classes line");
		goto fail;
	}
	if ((l = next_line(&p, &lineno)) == NULL || strncmp(l, "bias ", 5) ||
	    parse_floats(l + 5, m->bias, NW) != 0) {
		model_err(err, errlen, file, lineno, "expected \"bias\" and 8 "
		    "numbers");
		goto fail;
	}
	{
		float k[5] = { 0 };

		/* CRISIS_GATE is new: a file without it has 0 (off) */
		if ((l = next_line(&p, &lineno)) == NULL ||
		    strncmp(l, "combine ", 8) || (parse_floats(l + 8, k, 5) != 0 &&
		    (k[4] = 0, parse_floats(l + 8, k, 4) != 0)) ||
		    k[0] < 0 || k[1] < 0 || k[2] < 0 || k[2] > 1 ||
		    (k[3] != 0 && k[3] != 1) || k[4] < 0 || k[4] > 1.01f) {
			model_err(err, errlen, file, lineno, "expected \"combine "
			    "FLOOR GATE URGENT DANGER [CRISIS_GATE]\" (3 "
			    "probabilities, 0 or 1, a probability)");
			goto fail;
		}
		m->knobs.floor = k[0];
		m->knobs.auto_gate = k[1];
		m->knobs.urgent_at = k[2];
		m->knobs.danger_urgent = (int)k[3];
		m->knobs.crisis_gate = k[4];
	}
	l = next_line(&p, &lineno);
	if (l != NULL && strncmp(l, "languages ", 10) == 0) {
		if (parse_langs(m, l + 10) != 0) {
			model_err(err, errlen, file, lineno, "expected "
			    "\"languages MIN CODE:N ...\" (at most 64 codes of "
			    "2 or 3 letters)");
			goto fail;
		}
		l = next_line(&p, &lineno);
	}
	if (l == NULL || strncmp(l, "rows ", 5) ||
	    (errno = 0, nrows = strtoul(l + 5, &e, 10), errno != 0) ||
	    *e != '\0' || e == l + 5 || nrows > NBUCKET) {
		model_err(err, errlen, file, lineno, "expected \"rows N\", N at "
		    "most 262144");
		goto fail;
	}
	m->nrows = (uint32_t)nrows;
	m->row = xreallocarray(NULL, NBUCKET, sizeof(*m->row));
	for (i = 0; i < NBUCKET; i++)
		m->row[i] = -1;
	m->known = xcalloc(NBUCKET / 64, sizeof(*m->known));
	m->idf = xcalloc(nrows + 1, sizeof(*m->idf));
	m->w = xcalloc((nrows + 1) * NW, sizeof(*m->w));
	for (i = 0; i < nrows; i++) {
		float f[NW + 1];

		if ((l = next_line(&p, &lineno)) == NULL) {
			model_err(err, errlen, file, lineno, "truncated: fewer "
			    "rows than \"rows\" says");
			goto fail;
		}
		errno = 0;
		b = strtoul(l, &e, 10);
		if (errno != 0 || e == l || *e != ' ' || b >= NBUCKET ||
		    m->row[b] >= 0 || parse_floats(e, f, NW + 1) != 0) {
			model_err(err, errlen, file, lineno, "bad row (bucket "
			    "below 262144, once, then idf and 8 weights)");
			goto fail;
		}
		m->row[b] = (int32_t)i;
		m->known[b >> 6] |= (uint64_t)1 << (b & 63);
		m->idf[i] = f[0];
		memcpy(m->w + i * NW, f + 1, sizeof(float) * NW);
	}
	if ((l = next_line(&p, &lineno)) == NULL || strcmp(l, "end") != 0) {
		model_err(err, errlen, file, lineno + (l == NULL), "expected "
		    "\"end\" (a truncated or overlong file)");
		goto fail;
	}
	return m;
fail:
	triage_model_free(m);
	return NULL;
}

struct triage_model *
triage_model_load(const char *path, char *err, size_t errlen)
{
	struct triage_model *m;
	char *raw = NULL;
	size_t len = 0;

	if (read_file(path, 64u << 20, &raw, &len) != 0) {
		model_err(err, errlen, path, 0, "cannot read the triage model "
		    "(missing, unreadable or over 64 MB)");
		return NULL;
	}
	if (memchr(raw, '\0', len) != NULL) {
		free(raw);
		model_err(err, errlen, path, 0, "not a triage model (NUL bytes)");
		return NULL;
	}
	m = model_parse(raw, path, err, errlen);
	free(raw);
	return m;
}

struct triage_model *
triage_model_from_text(const char *text, const char *name, char *err,
    size_t errlen)
{
	struct triage_model *m;
	char *copy = xstrdup(text);

	m = model_parse(copy, name, err, errlen);
	free(copy);
	return m;
}

/* ---- the decision ------------------------------------------------------- */

struct contrib {
	float		 v;
	const char	*s;
	uint32_t	 len;
};

static void
top_add(struct contrib *top, float v, const char *s, uint32_t len)
{
	int i, j;

	for (i = 0; i < TOP_FEATURES; i++)
		if (top[i].s == NULL || v > top[i].v)
			break;
	if (i == TOP_FEATURES)
		return;
	for (j = TOP_FEATURES - 1; j > i; j--)
		top[j] = top[j - 1];
	top[i].v = v;
	top[i].s = s;
	top[i].len = len;
}

static void
rationale_push(struct triage_result *res, char *s)
{
	res->rationale = xreallocarray(res->rationale, res->nrationale + 1,
	    sizeof(char *));
	res->rationale[res->nrationale++] = s;
}

/* "'drops off' +1.9, 'tonight' +0.8": the top features as one string. */
static char *
top_string(const struct contrib *top)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < TOP_FEATURES && top[i].s != NULL && top[i].v > 0; i++) {
		char *q = utf8_sanitize(top[i].s, top[i].len > 40 ? 40 :
		    top[i].len);
		char *c;

		for (c = q; *c; c++)
			if (*c == '\'' || *c == '"')
				*c = '`';
		buf_addf(&b, "%s'%s' %+.1f", i ? ", " : "", q,
		    (double)top[i].v);
		free(q);
	}
	if (b.len == 0)
		buf_addstr(&b, "no strong feature");
	return buf_steal(&b);
}

/* Decision values of the type classes and urgent; top features of
 * class `want` (or of the best type when want < 0) in top. */
static void
model_scores(const struct triage_model *mod, const struct triage_evidence *ev,
    double *dec, int want_urgent, struct contrib *top,
    int *best_out)
{
	struct facc a;
	float *idf, *val;
	uint32_t *ord;
	int32_t *row;
	size_t i;
	int c, best;

	facc_init(&a, mod);
	features(&a, ev);
	ord = facc_order(&a);
	idf = xreallocarray(NULL, a.n + 1, sizeof(*idf));
	val = xreallocarray(NULL, a.n + 1, sizeof(*val));
	row = xreallocarray(NULL, a.n + 1, sizeof(*row));
	for (i = 0; i < a.n; i++) {
		row[i] = mod->row[a.key[ord[i]] - 1];
		idf[i] = mod->idf[row[i]];
	}
	weigh(&a, ord, idf, val);
	for (c = 0; c < NW; c++)
		dec[c] = mod->bias[c];
	for (i = 0; i < a.n; i++) {
		const float *w = mod->w + (size_t)row[i] * NW;

		for (c = 0; c < NW; c++)
			dec[c] += (double)val[i] * w[c];
	}
	best = 0;
	for (c = 1; c < NTYPE; c++)
		if (dec[c] > dec[best])
			best = c;
	*best_out = best;
	memset(top, 0, sizeof(*top) * TOP_FEATURES * 2);
	for (i = 0; i < a.n; i++) {
		const float *w = mod->w + (size_t)row[i] * NW;
		uint32_t e = ord[i];

		top_add(top, val[i] * w[best], a.s[e], a.len[e]);
		if (want_urgent)
			top_add(top + TOP_FEATURES, val[i] * w[COL_URGENT],
			    a.s[e], a.len[e]);
	}
	free(row);
	free(ord);
	free(idf);
	free(val);
	facc_free(&a);
}

static double
sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* What the combination needs of the rules' decision. */
struct rview {
	int	 type;
	int	 urgent;
	int	 danger;
	int	 decisive;
	int	 force_urgent;	/* interpreter language, a safety cue fired */
};

struct verdict {
	int	 type;
	int	 urgent;
	int	 kept;		/* the rules' crisis kept over the model */
	int	 demoted;	/* the model's crisis alone, too weak */
	int	 danger_up;	/* urgent because the rules see danger */
	int	 forced;	/* urgent by an interpreter language's cue */
};

/* Probabilities of the types (one against the rest, normalised as
 * liblinear's) and of urgent, from the decision values. */
static void
probabilities(const double *dec, double *p, double *pu)
{
	double sum = 0;
	int c;

	for (c = 0; c < NTYPE; c++)
		sum += p[c] = sigmoid(dec[c]);
	for (c = 0; c < NTYPE; c++)
		p[c] /= sum;
	*pu = sigmoid(dec[COL_URGENT]);
}

/*
 * Rules and model.  The model's type, except that what the rules call
 * crisis stays crisis when they are sure (a person in danger or confined
 * speaking for themselves, or for a child: decisive) unless the model is
 * sure it is machine mail, or when the model does not rule crisis out.
 * Urgency: crisis always; a tip, referral or training request when the
 * urgency model says so, or (a knob) a tip the rules see danger in.  The
 * knobs are chosen by the trainer, on its own training writers only.
 */
static void
combine(const struct knobs *k, const double *p, double pu,
    const struct rview *rv, struct verdict *v)
{
	int c, best = 0;

	for (c = 1; c < NTYPE; c++)
		if (p[c] > p[best])
			best = c;
	memset(v, 0, sizeof(*v));
	/* A crisis pages someone at night: the model alone (the rules do not
	 * say crisis) makes one only when sure; else its next best type. */
	if (best == CT_CRISIS && rv->type != CT_CRISIS &&
	    p[CT_CRISIS] < k->crisis_gate) {
		best = CT_CRISIS == 0 ? 1 : 0;
		for (c = 0; c < NTYPE; c++)
			if (c != CT_CRISIS && p[c] > p[best])
				best = c;
		v->demoted = 1;
	}
	v->type = best;
	if (rv->type == CT_CRISIS && best != CT_CRISIS &&
	    ((rv->decisive && p[CT_AUTOMATED] < k->auto_gate) ||
	    p[CT_CRISIS] >= k->floor)) {
		v->type = CT_CRISIS;
		v->kept = 1;
	}
	switch (v->type) {
	case CT_CRISIS:
		v->urgent = 1;
		break;
	case CT_TIP:
	case CT_REFERRAL:
	case CT_TTA:
		v->urgent = pu >= k->urgent_at;
		if (!v->urgent && k->danger_urgent && v->type == CT_TIP &&
		    rv->danger && rv->urgent)
			v->urgent = v->danger_up = 1;
		break;
	default:
		v->urgent = 0;
		break;
	}
	if (!v->urgent && rv->force_urgent && (v->type == CT_TIP ||
	    v->type == CT_REFERRAL || v->type == CT_TTA))
		v->urgent = v->forced = 1;
}

/*
 * The rules' view for combine().  In a language the lexicon reads
 * fully, their decision.  In one it does not (the model has enough
 * training text in it), their decision after the interpreter forcing
 * (crisis unless the small lexicon was sure of another type), so that
 * combine() keeps that crisis unless the model rules it out (crisis
 * below FLOOR) or the rules are decisive; urgency from their decision
 * before the forcing, and forced only where a safety cue fired.
 */
static void
rules_view(const struct triage_evidence *ev, struct rview *rv)
{
	memset(rv, 0, sizeof(*rv));
	rv->danger = ev->rules->danger;
	if (ev->lang_full) {
		rv->type = (int)ev->rules->type;
		rv->urgent = ev->rules->urgency == URG_URGENT;
		rv->decisive = ev->decisive;
		return;
	}
	rv->decisive = ev->decisive;
	rv->type = (int)ev->rules->type;
	rv->urgent = ev->decisive || ev->plain_urgent;
	rv->force_urgent = ev->safety;
}

void
triage_model_apply(const struct triage_model *mod,
    const struct triage_evidence *ev, struct triage_result *res)
{
	struct contrib top[2 * TOP_FEATURES];
	struct rview rv;
	struct verdict v;
	double dec[NW], p[NTYPE], pu;
	enum call_type rules_type = res->type, type;
	char *ts;
	int best;

	if (ev->hdr == 2) {
		rationale_push(res, xstrdup("model: not asked (machine "
		    "headers decide)"));
		return;
	}
	if (!ev->lang_full) {
		long n = lang_count(mod, res->lang);

		if (n < 0 || n < (long)mod->lang_min ||
		    strcmp(res->lang, "und") == 0) {
			rationale_push(res, xasprintf("model: not used for "
			    "language '%s' (too little training text: %ld "
			    "messages, %u needed; the rules decide)", res->lang,
			    n < 0 ? 0 : n, mod->lang_min));
			return;
		}
		rationale_push(res, xasprintf("model: decides language '%s' "
		    "(%ld training messages; an interpreter is still needed)",
		    res->lang, n));
	}
	model_scores(mod, ev, dec, 1, top, &best);
	probabilities(dec, p, &pu);
	ts = top_string(top);
	rationale_push(res, xasprintf("model: %s %.2f (%s)",
	    call_type_name((enum call_type)best), p[best], ts));
	free(ts);
	rules_view(ev, &rv);
	rules_type = (enum call_type)rv.type;
	combine(&mod->knobs, p, pu, &rv, &v);
	type = (enum call_type)v.type;
	if (v.demoted)
		rationale_push(res, xasprintf("model crisis %.2f below %.2f "
		    "and the rules do not say crisis: %s", p[CT_CRISIS],
		    mod->knobs.crisis_gate, call_type_name(type)));
	if (v.kept)
		rationale_push(res, xasprintf("crisis kept: the rules say "
		    "crisis (%s; model crisis %.2f)", ev->decisive ?
		    "a person in danger speaking for themselves or a child" :
		    "not ruled out", p[CT_CRISIS]));
	else if (type != rules_type)
		rationale_push(res, xasprintf("model over rules: %s, not %s",
		    call_type_name(type), call_type_name(rules_type)));
	res->type = type;
	res->automated = type == CT_AUTOMATED;
	if (res->automated) {
		res->minor = res->danger = 0;
		res->urgency = URG_NONE;
		return;
	}
	if (type == CT_INFO || type == CT_TTA)
		res->minor = 0;
	if (v.danger_up)
		rationale_push(res, xstrdup("urgent: the rules see danger in "
		    "a tip"));
	if (v.forced)
		rationale_push(res, xasprintf("urgent: language '%s' and a "
		    "safety cue (a person in danger or confined, a minor, "
		    "danger)", res->lang));
	if (type == CT_TIP || type == CT_REFERRAL || type == CT_TTA) {
		ts = top_string(top + TOP_FEATURES);
		rationale_push(res, xasprintf("model: urgent %.2f (%s)", pu, ts));
		free(ts);
	}
	res->urgency = urgency_effective(type, v.urgent ? URG_URGENT :
	    URG_ROUTINE);
}

/* ---- training ----------------------------------------------------------- */

struct doc {
	uint32_t	*b;		/* buckets, ascending */
	float		*tf;
	unsigned char	*blk;
	size_t		 n;
	int		 type;		/* the label: 0..NTYPE-1 */
	int		 urgent;	/* the label */
	int		 writer;	/* which set */
	int		 rules_only;	/* machine headers, or a language the
					 * lexicon does not read and the
					 * model has too little text in */
	int		 machine;	/* machine headers */
	int		 lang_full;	/* a language the lexicon reads */
	char		 lang[4];	/* detected */
	struct rview	 rv;		/* the rules' decision */
	struct rview	 rvm;		/* the rules' view for combine() */
};

static int
u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One message's features as (bucket, tf, block), ascending bucket, and
 * what the rules decided. */
static void
extract_cb(const struct triage_evidence *ev, void *arg)
{
	struct doc *d = arg;
	struct facc a;
	uint64_t *pairs;
	size_t i, k = 0;

	facc_init(&a, NULL);
	features(&a, ev);
	pairs = xcalloc(a.n + 1, sizeof(*pairs));
	for (i = 0; i < a.n; i++)
		pairs[k++] = ((uint64_t)(a.key[i] - 1) << 32) | i;
	qsort(pairs, k, sizeof(*pairs), u64cmp);
	d->b = xcalloc(k + 1, sizeof(*d->b));
	d->tf = xcalloc(k + 1, sizeof(*d->tf));
	d->blk = xcalloc(k + 1, sizeof(*d->blk));
	for (i = 0; i < k; i++) {
		size_t e = (size_t)(pairs[i] & 0xffffffffu);

		d->b[i] = (uint32_t)(pairs[i] >> 32);
		d->tf[i] = a.tf[e];
		d->blk[i] = a.blk[e];
	}
	d->n = k;
	d->machine = ev->hdr == 2;
	d->lang_full = ev->lang_full;
	snprintf(d->lang, sizeof(d->lang), "%s", ev->rules->lang);
	d->rv.type = (int)ev->rules->type;
	d->rv.urgent = ev->rules->urgency == URG_URGENT;
	d->rv.danger = ev->rules->danger;
	d->rv.decisive = ev->decisive;
	rules_view(ev, &d->rvm);
	free(pairs);
	facc_free(&a);
}

struct corpus {
	struct doc	*docs;
	size_t		 n, cap;
};

static void
corpus_free(struct corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->docs[i].b);
		free(c->docs[i].tf);
		free(c->docs[i].blk);
	}
	free(c->docs);
	memset(c, 0, sizeof(*c));
}

/* Column index of name in a tab-separated header, or -1. */
static int
tsv_col(const char *head, const char *name)
{
	const char *p = head;
	size_t nl = strlen(name);
	int i = 0;

	for (;;) {
		const char *e = p + strcspn(p, "\t\r\n");

		if ((size_t)(e - p) == nl && strncmp(p, name, nl) == 0)
			return i;
		if (*e != '\t')
			return -1;
		p = e + 1;
		i++;
	}
}

/* Field i of a tab-separated line, copied into out. */
static int
tsv_field(const char *line, int i, char *out, size_t outlen)
{
	const char *p = line, *e;

	while (i-- > 0) {
		p = strchr(p, '\t');
		if (p == NULL)
			return -1;
		p++;
	}
	e = p + strcspn(p, "\t\r\n");
	if ((size_t)(e - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int
load_dir(struct corpus *c, const struct lexicon *lex, const char *dir,
    int writer, char *err, size_t errlen)
{
	struct parse_limits lim;
	char *tsv = NULL, *p, *line, *path;
	size_t len, lineno = 1;
	int cf, ct, cu, rc = -1;

	parse_limits_default(&lim);
	path = xasprintf("%s/labels.tsv", dir);
	if (read_file(path, 16u << 20, &tsv, &len) != 0) {
		model_err(err, errlen, path, 0, "cannot read");
		free(path);
		return -1;
	}
	p = tsv;
	line = next_line(&p, &lineno);
	lineno = 1;
	if (line == NULL || (cf = tsv_col(line, "file")) < 0 ||
	    (ct = tsv_col(line, "type")) < 0 || (cu = tsv_col(line, "urgency")) < 0) {
		model_err(err, errlen, path, 1, "no file, type and urgency "
		    "columns");
		goto out;
	}
	while ((line = next_line(&p, &lineno)) != NULL) {
		char file[256], type[32], urg[32], *mp, *raw = NULL;
		struct message m;
		enum call_type t;
		struct doc *d;
		size_t rlen;

		if (*line == '\0' || *line == '\r')
			continue;
		if (tsv_field(line, cf, file, sizeof(file)) != 0 ||
		    tsv_field(line, ct, type, sizeof(type)) != 0 ||
		    tsv_field(line, cu, urg, sizeof(urg)) != 0 ||
		    strchr(file, '/') != NULL || call_type_parse(type, &t) != 0 ||
		    t == CT_UNCLASSIFIED) {
			model_err(err, errlen, path, lineno, "bad row (file "
			    "name, a type, an urgency)");
			goto out;
		}
		mp = xasprintf("%s/%s", dir, file);
		if (read_file(mp, lim.max_message_bytes, &raw, &rlen) != 0) {
			model_err(err, errlen, mp, 0, "cannot read");
			free(mp);
			goto out;
		}
		free(mp);
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 256;
			c->docs = xreallocarray(c->docs, c->cap, sizeof(*c->docs));
		}
		d = &c->docs[c->n];
		memset(d, 0, sizeof(*d));
		d->type = (int)t;
		d->writer = writer;
		d->urgent = strcmp(urg, "urgent") == 0;
		message_parse(raw, rlen, &lim, &m);
		free(raw);
		if (triage_evidence_of(lex, &m, extract_cb, d) != 0) {
			message_free(&m);
			model_err(err, errlen, path, lineno, "triage failed");
			goto out;
		}
		message_free(&m);
		c->n++;
	}
	rc = 0;
out:
	free(tsv);
	free(path);
	return rc;
}

static void
quiet(const char *s)
{
	(void)s;
}

/* Row-indexed liblinear problem over the kept buckets. */
struct lproblem {
	struct problem		 prob;
	struct feature_node	*nodes;
	double			*y;
	struct feature_node	**x;
};

static void
build_problem(struct lproblem *lp, const struct corpus *c, const int32_t *row,
    const float *idf, uint32_t nrows, const unsigned char *use, int urgent)
{
	size_t i, j, total = 0, k = 0, nd = 0;
	unsigned char *nblk;

	memset(lp, 0, sizeof(*lp));
	for (i = 0; i < c->n; i++)
		total += c->docs[i].n + 2;
	nblk = xcalloc(total + 1, 1);
	lp->nodes = xcalloc(total + 1, sizeof(*lp->nodes));
	lp->y = xcalloc(c->n + 1, sizeof(*lp->y));
	lp->x = xcalloc(c->n + 1, sizeof(*lp->x));
	for (i = 0; i < c->n; i++) {
		const struct doc *d = &c->docs[i];
		double norm[B__COUNT] = { 0 };
		size_t start = k;

		if (!use[i] || (urgent && d->type == CT_AUTOMATED))
			continue;
		lp->x[nd] = lp->nodes + k;
		lp->y[nd] = urgent ? d->urgent : d->type;
		for (j = 0; j < d->n; j++) {
			int32_t r = row[d->b[j]];
			double v;

			if (r < 0)
				continue;
			v = (1.0f + logf(d->tf[j])) * idf[r];
			v = (float)v;
			norm[d->blk[j]] += v * v;
			nblk[k] = d->blk[j];
			lp->nodes[k].index = r + 1;
			lp->nodes[k].value = v;
			k++;
		}
		for (j = 0; j < B__COUNT; j++)
			norm[j] = norm[j] > 0 ? sqrt(norm[j]) : 1;
		for (j = start; j < k; j++)
			lp->nodes[j].value = (float)(lp->nodes[j].value /
			    norm[nblk[j]]);
		lp->nodes[k].index = (int)nrows + 1;	/* the bias */
		lp->nodes[k].value = 1;
		k++;
		lp->nodes[k].index = -1;
		k++;
		nd++;
	}
	free(nblk);
	lp->prob.l = (int)nd;
	lp->prob.n = (int)nrows + 1;
	lp->prob.y = lp->y;
	lp->prob.x = lp->x;
	lp->prob.bias = 1;
}

static void
lproblem_free(struct lproblem *lp)
{
	free(lp->nodes);
	free(lp->y);
	free(lp->x);
}

/* Train, and copy the weights into cols [col0, col0 + ncols) of w (nrows
 * rows + the bias as row nrows).  Classes absent from the data get a
 * large negative bias. */
static int
train_into(struct lproblem *lp, int ncols, int col0, float *w,
    uint32_t nrows, double C)
{
	struct parameter par;
	struct model *md;
	int label[NTYPE], cnt[NTYPE] = { 0 }, nl = 0, i, j;
	double weight[NTYPE];
	const char *e;

	for (i = 0; i < lp->prob.l; i++)
		cnt[(int)lp->prob.y[i]]++;
	for (i = 0; i < ncols; i++)
		if (cnt[i] > 0) {
			label[nl] = i;
			/* class-balanced, as the baseline */
			weight[nl] = (double)lp->prob.l / (double)(cnt[i]) /
			    (ncols == 1 ? 2 : ncols);
			nl++;
		}
	if (ncols == 1 && cnt[1] > 0) {
		label[nl] = 1;
		weight[nl] = (double)lp->prob.l / cnt[1] / 2;
		nl++;
	}
	memset(&par, 0, sizeof(par));
	par.solver_type = L2R_LR;
	par.eps = 0.01;
	par.C = C;
	par.nr_weight = nl;
	par.weight_label = label;
	par.weight = weight;
	par.p = 0.1;
	if ((e = check_parameter(&lp->prob, &par)) != NULL || nl < 2)
		return -1;
	set_print_string_function(quiet);
	md = train(&lp->prob, &par);
	for (j = 0; j < (ncols == 1 ? 1 : ncols); j++) {
		int k, sign = 1, src = -1;

		if (md->nr_class == 2) {
			/* one weight vector, for label[0] */
			if (ncols == 1)
				sign = md->label[0] == 1 ? 1 : -1, src = 0;
			else if (md->label[0] == j)
				src = 0;
			else if (md->label[1] == j)
				src = 0, sign = -1;
		} else
			for (k = 0; k < md->nr_class; k++)
				if (md->label[k] == j)
					src = k;
		for (i = 0; i <= (int)nrows; i++) {
			double v = 0;

			if (src >= 0)
				v = sign * md->w[(size_t)i * (md->nr_class == 2 ?
				    1 : md->nr_class) + src];
			else if (i == (int)nrows)
				v = -20;
			w[(size_t)i * NW + col0 + j] = (float)v;
		}
	}
	free_and_destroy_model(&md);
	return 0;
}

/* A model trained in memory. */
struct fitted {
	int32_t		*row;		/* NBUCKET */
	float		*idf;
	float		*w;		/* (nrows + 1) * NW, bias last */
	uint32_t	 nrows;
};

static void
fitted_free(struct fitted *f)
{
	free(f->row);
	free(f->idf);
	free(f->w);
	memset(f, 0, sizeof(*f));
}

/* Train on the documents marked in use. */
static int
fit(const struct corpus *c, const unsigned char *use, double C,
    struct fitted *f, char *err, size_t errlen)
{
	struct lproblem lp;
	uint32_t *df, b;
	size_t i, j, n = 0;
	int human = 0;

	memset(f, 0, sizeof(*f));
	df = xcalloc(NBUCKET, sizeof(*df));
	for (i = 0; i < c->n; i++) {
		if (!use[i])
			continue;
		n++;
		for (j = 0; j < c->docs[i].n; j++)
			df[c->docs[i].b[j]]++;
	}
	f->row = xreallocarray(NULL, NBUCKET, sizeof(*f->row));
	for (b = 0; b < NBUCKET; b++)
		f->row[b] = df[b] >= MIN_DF ? (int32_t)f->nrows++ : -1;
	f->idf = xcalloc(f->nrows + 1, sizeof(*f->idf));
	for (b = 0; b < NBUCKET; b++)
		if (f->row[b] >= 0) {
			/* smooth idf, as scikit-learn's; rounded as the file
			 * will carry it, so training sees what loading gives */
			char t[32];

			snprintf(t, sizeof(t), "%.5g",
			    log((1.0 + (double)n) / (1.0 + df[b])) + 1);
			f->idf[f->row[b]] = strtof(t, NULL);
		}
	free(df);
	f->w = xcalloc(((size_t)f->nrows + 1) * NW, sizeof(*f->w));
	build_problem(&lp, c, f->row, f->idf, f->nrows, use, 0);
	if (train_into(&lp, NTYPE, 0, f->w, f->nrows, C) != 0) {
		lproblem_free(&lp);
		snprintf(err, errlen, "triage train: fewer than two types");
		return -1;
	}
	lproblem_free(&lp);
	build_problem(&lp, c, f->row, f->idf, f->nrows, use, 1);
	for (i = 0; i < (size_t)lp.prob.l; i++)
		human += lp.prob.y[i] > 0;
	if (human == 0 || human == lp.prob.l ||
	    train_into(&lp, 1, COL_URGENT, f->w, f->nrows, C) != 0) {
		lproblem_free(&lp);
		snprintf(err, errlen, "triage train: need urgent and "
		    "non-urgent human messages");
		return -1;
	}
	lproblem_free(&lp);
	return 0;
}

/* The decision values of a training document, as the loader's model
 * would give them (weigh()). */
static void
doc_scores(const struct fitted *f, const struct doc *d, double *dec)
{
	double norm[B__COUNT] = { 0 };
	float *val = xcalloc(d->n + 1, sizeof(*val));
	size_t j;
	int c;

	for (j = 0; j < d->n; j++) {
		int32_t r = f->row[d->b[j]];

		if (r < 0)
			continue;
		val[j] = (1.0f + logf(d->tf[j])) * f->idf[r];
		norm[d->blk[j]] += (double)val[j] * val[j];
	}
	for (j = 0; j < B__COUNT; j++)
		norm[j] = norm[j] > 0 ? sqrt(norm[j]) : 1;
	for (c = 0; c < NW; c++)
		dec[c] = f->w[(size_t)f->nrows * NW + c];
	for (j = 0; j < d->n; j++) {
		int32_t r = f->row[d->b[j]];

		if (r < 0)
			continue;
		val[j] = (float)(val[j] / norm[d->blk[j]]);
		for (c = 0; c < NW; c++)
			dec[c] += (double)val[j] * f->w[(size_t)r * NW + c];
	}
	free(val);
}

/*
 * The knobs of combine(), chosen by leave-one-writer-out inside the
 * training sets: for each training writer a model of the others scores
 * that writer's messages, and the knobs with the lowest cost over all of
 * them win (a missed crisis costs 100, a missed urgent 3, a false urgent
 * 2, a wrong type 1; ties: the first in the grid).  The sets being
 * measured never take part: a caller leaving a writer out for a figure
 * leaves it out of dirs.
 */
static const double floors[] = { 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 1.01 };
static const double gates[] = { 0.3, 0.5, 0.7, 0.9, 1.01 };
static const double urgents[] = { 0.3, 0.4, 0.5, 0.6, 0.7 };
/* at most 0.7: the rules miss a crisis now and then on a stranger's
 * writing, and a sure model must still catch it */
static const double cgates[] = { 0, 0.5, 0.6, 0.7 };
static const double costs_c[] = { 1, 10, 100 };	/* liblinear's C */

struct scored {
	double	 p[NTYPE];
	double	 pu;
};

static long
knob_cost(const struct knobs *k, const struct corpus *c,
    const struct scored *sc, int *over)
{
	struct verdict v;
	long cost = 0;
	size_t i, calm = 0, alarms = 0;

	for (i = 0; i < c->n; i++) {
		const struct doc *d = &c->docs[i];
		int type, urgent;

		if (d->rules_only) {
			type = d->rv.type;
			urgent = d->rv.urgent;
		} else {
			combine(k, sc[i].p, sc[i].pu, &d->rvm, &v);
			type = v.type;
			urgent = v.urgent;
		}
		if (d->type == CT_CRISIS && type != CT_CRISIS)
			cost += 100;
		if (d->urgent && !urgent)
			cost += 3;
		if (!d->urgent && urgent)
			cost += 2;
		if (d->type != type)
			cost += 1;
		if (!d->rules_only && !d->urgent && d->type != CT_AUTOMATED) {
			calm++;
			alarms += urgent;
		}
	}
	/* the false-urgent bound, on what the model decides */
	*over = alarms * 100 > calm * FALSE_URGENT_PCT;
	return cost;
}

static int
choose_knobs(const struct corpus *c, int nwriters, struct knobs *best,
    double *best_c, char *err, size_t errlen)
{
	struct scored *sc = xcalloc(c->n + 1, sizeof(*sc));
	unsigned char *use = xcalloc(c->n + 1, 1);
	struct fitted f;
	size_t i, a, b, u, g, ci;
	long cost, best_cost = -1;
	int w, dn, over, best_over = 1;

	for (ci = 0; ci < NELEM(costs_c); ci++) {
		for (w = 0; w < nwriters; w++) {
			for (i = 0; i < c->n; i++)
				use[i] = c->docs[i].writer != w;
			if (fit(c, use, costs_c[ci], &f, err, errlen) != 0) {
				free(sc);
				free(use);
				return -1;
			}
			for (i = 0; i < c->n; i++) {
				double dec[NW];

				if (use[i])
					continue;
				doc_scores(&f, &c->docs[i], dec);
				probabilities(dec, sc[i].p, &sc[i].pu);
			}
			fitted_free(&f);
		}
		for (a = 0; a < NELEM(floors); a++)
		for (b = 0; b < NELEM(gates); b++)
		for (u = 0; u < NELEM(urgents); u++)
		for (dn = 0; dn <= 1; dn++)
		for (g = 0; g < NELEM(cgates); g++) {
			struct knobs k = { floors[a], gates[b], urgents[u], dn,
			    cgates[g] };

			cost = knob_cost(&k, c, sc, &over);
			if (best_cost < 0 || over < best_over ||
			    (over == best_over && cost < best_cost)) {
				best_over = over;
				best_cost = cost;
				*best = k;
				*best_c = costs_c[ci];
			}
		}
	}
	free(sc);
	free(use);
	return 0;
}

static int
langcmp(const void *a, const void *b)
{
	return strcmp(((const struct langcount *)a)->code,
	    ((const struct langcount *)b)->code);
}

/*
 * The labeled human messages of each language the lexicon does not read
 * fully, into lm (sorted by code, so the file's bytes do not depend on
 * the sets' order); then which messages the rules decide alone: machine
 * headers, or a language under LANG_MIN_TRAIN.
 */
static void
count_langs(struct corpus *c, struct triage_model *lm)
{
	size_t i, j;

	memset(lm, 0, sizeof(*lm));
	lm->lang_min = LANG_MIN_TRAIN;
	for (i = 0; i < c->n; i++) {
		const struct doc *d = &c->docs[i];

		if (d->lang_full || strcmp(d->lang, "und") == 0)
			continue;
		for (j = 0; j < lm->nlangs; j++)
			if (strcmp(lm->langs[j].code, d->lang) == 0)
				break;
		if (j == lm->nlangs) {
			if (j == MAX_LANGS)
				continue;
			memcpy(lm->langs[j].code, d->lang, sizeof(d->lang));
			lm->nlangs++;
		}
		lm->langs[j].n += d->type != CT_AUTOMATED;
	}
	qsort(lm->langs, lm->nlangs, sizeof(lm->langs[0]), langcmp);
	for (i = 0; i < c->n; i++) {
		struct doc *d = &c->docs[i];
		long n = lang_count(lm, d->lang);

		d->rules_only = d->machine || (!d->lang_full && (n < 0 ||
		    n < (long)lm->lang_min || strcmp(d->lang, "und") == 0));
	}
}

int
triage_train(const struct lexicon *lex, char *const *dirs, size_t ndirs,
    FILE *out, char *err, size_t errlen)
{
	struct knobs k = DEFAULT_KNOBS;
	double C = DEFAULT_C;
	struct corpus c;
	struct fitted f;
	struct triage_model lm;
	unsigned char *use;
	uint32_t b;
	size_t i, j;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	for (i = 0; i < ndirs; i++)
		if (load_dir(&c, lex, dirs[i], (int)i, err, errlen) != 0)
			goto out;
	if (c.n < 2) {
		snprintf(err, errlen, "triage train: fewer than 2 labeled "
		    "messages");
		goto out;
	}
	count_langs(&c, &lm);
	/* knobs need writers to leave out: three sets at least */
	if (ndirs >= 3 && choose_knobs(&c, (int)ndirs, &k, &C, err,
	    errlen) != 0)
		goto out;
	use = xcalloc(c.n + 1, 1);
	memset(use, 1, c.n);
	j = (size_t)fit(&c, use, C, &f, err, errlen);
	free(use);
	if (j != 0)
		goto out;

	fprintf(out, "%s\nbuckets %u\nclasses crisis tip tta referral info "
	    "related automated urgent\nbias", MODEL_MAGIC, NBUCKET);
	for (j = 0; j < NW; j++)
		fprintf(out, " %.5g", (double)f.w[(size_t)f.nrows * NW + j]);
	fprintf(out, "\ncombine %.2f %.2f %.2f %d %.2f\nlanguages %u", k.floor,
	    k.auto_gate, k.urgent_at, k.danger_urgent, k.crisis_gate,
	    lm.lang_min);
	for (j = 0; j < lm.nlangs; j++)
		fprintf(out, " %s:%u", lm.langs[j].code, lm.langs[j].n);
	fprintf(out, "\nrows %u\n", f.nrows);
	(void)C;
	for (b = 0; b < NBUCKET; b++) {
		if (f.row[b] < 0)
			continue;
		fprintf(out, "%u %.5g", b, (double)f.idf[f.row[b]]);
		for (j = 0; j < NW; j++)
			fprintf(out, " %.5g", (double)f.w[(size_t)f.row[b] * NW +
			    j]);
		fputc('\n', out);
	}
	fprintf(out, "end\n");
	rc = 0;
out:
	fitted_free(&f);
	corpus_free(&c);
	return rc;
}

extern const char triage_model_builtin_text[];

struct triage_model *
triage_model_builtin(char *err, size_t errlen)
{
	if (triage_model_builtin_text[0] == '\0') {
		snprintf(err, errlen, "(built-in model): this build carries no "
		    "triage model");
		return NULL;
	}
	return triage_model_from_text(triage_model_builtin_text,
	    "(built-in model)", err, errlen);
}

int
triage_model_attach(struct lexicon *lex, const char *model, char *err,
    size_t errlen)
{
	struct triage_model *m;

	if (model != NULL && strcmp(model, "none") == 0) {
		lexicon_set_model(lex, NULL);
		return 0;
	}
	m = model ? triage_model_load(model, err, errlen) :
	    triage_model_builtin(err, errlen);
	lexicon_set_model(lex, m);
	return m ? 0 : -1;
}
