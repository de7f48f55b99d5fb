/* SPDX-License-Identifier: MIT */
/*
 * triage_phrase.c: the phrase compiler.  A lexicon phrase is translated
 * to a regex (PCRE2 syntax) with its token keys (phrase_to_regex(), at the
 * end), and that regex, of a small subset, to the anchored backtracking
 * matcher below (phrase_compile(), phrase_match(); triage_p.h).  The search
 * order is PCRE2's: alternatives left to right, greedy quantifiers longest
 * first, possessive ones never given back, so the first match found ends
 * where PCRE2's does.  Character classes are PCRE2's without UTF or UCP:
 * \w is [A-Za-z0-9_] (the default tables, built for the C locale), every
 * other byte is \W.  tests/unit/test_phrase.c compares it with PCRE2 on
 * generated patterns and texts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "triage_p.h"
#include "util.h"

/* Work bound of one attempt: far above what a lexicon phrase needs on any
 * text (its gaps and alternatives are few), far below PCRE2's limits. */
#define PHRASE_STEPS	20000
#define PHRASE_DEPTH	250		/* nested groups (PCRE2's default) */

enum pnode_type {
	PN_LIT,		/* bytes */
	PN_WORD,	/* \w run */
	PN_NONWORD,	/* \W run */
	PN_GROUP,	/* (?:alt|alt...) with {min,max} */
	PN_LITSET,	/* a group of literals only: one of strs, in order */
	PN_GAP,		/* (?:\W++\w++){0,max}: up to max other words */
	PN_NOT_BEFORE,	/* (?<![\w']) */
	PN_NOT_AFTER,	/* (?![\w']) */
};

struct pseq;

struct pnode {
	enum pnode_type	 type;
	int		 min, max;	/* runs and groups; max -1: unbounded */
	int		 possessive;	/* runs */
	char		*lit;		/* PN_LIT, owned */
	size_t		 len;
	struct pseq	*alts;		/* PN_GROUP, owned */
	int		 nalts;
	char		**strs;		/* PN_LITSET, owned; may be "" */
	size_t		*lens;
	unsigned char	*firsts;	/* strs[i][0], 0 for "" */
	int		 nstrs;
};

struct pseq {
	struct pnode	*items;		/* owned */
	int		 n;
	/* the bytes a match can start with, unless it can be empty: an
	 * alternative is tried only when the text's next byte is one */
	unsigned char	 first[32];
	int		 nullable;
};

/*
 * Everything of a phrase lives in its arena: a few chunks instead of
 * hundreds of small allocations (compiling 600 phrases was mostly malloc
 * and free), and the nodes a match visits lie together in memory.  What
 * compiling discards stays there as garbage until phrase_free().
 */
struct achunk {
	struct achunk	*next;
	size_t		 pad;		/* (keeps what follows 16-aligned) */
};

struct arena {
	struct achunk	*head;
	char		*p;
	size_t		 left;
	size_t		 next;		/* size of the next chunk */
};

/* n zeroed bytes, 16-aligned. */
static void *
ar_alloc(struct arena *a, size_t n)
{
	struct achunk *c;
	size_t sz;
	void *r;

	n = (n + 15) & ~(size_t)15;
	if (n > a->left) {
		if (a->next < 512)
			a->next = 512;
		sz = n > a->next ? n : a->next;
		if (a->next < 4096)
			a->next *= 2;
		c = xmalloc(sizeof(*c) + sz);
		c->next = a->head;
		a->head = c;
		a->p = (char *)(c + 1);
		a->left = sz;
	}
	r = a->p;
	a->p += n;
	a->left -= n;
	memset(r, 0, n);
	return r;
}

/* old (oldn bytes) copied into a new allocation of newn bytes. */
static void *
ar_grow(struct arena *a, const void *old, size_t oldn, size_t newn)
{
	void *r = ar_alloc(a, newn);

	if (oldn > 0)
		memcpy(r, old, oldn < newn ? oldn : newn);
	return r;
}

/* Room for element n of an array (elements of size sz) that grows one
 * at a time: doubled when n is 0 or a power of two. */
static void *
ar_push(struct arena *a, void *arr, size_t n, size_t sz)
{
	if (n == 0 || (n & (n - 1)) == 0)
		arr = ar_grow(a, arr, n * sz, (n ? 2 * n : 1) * sz);
	return arr;
}

static void
ar_free(struct arena *a)
{
	struct achunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

struct phrase {
	struct pseq	 top;
	struct arena	 ar;		/* owns everything below top */
};

/* ---- compiling ---------------------------------------------------------- */

struct pcomp {
	const char	*p;
	int		 depth;
	int		 bad;
	struct arena	*ar;
};

static struct pnode *
seq_push(struct arena *ar, struct pseq *q, enum pnode_type type)
{
	struct pnode *n;

	q->items = ar_push(ar, q->items, (size_t)q->n, sizeof(*q->items));
	n = &q->items[q->n++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->min = n->max = 1;
	return n;
}

/* Literal bytes, merged into a preceding literal. */
static void
seq_lit(struct arena *ar, struct pseq *q, const char *c, size_t len)
{
	struct pnode *n;

	if (q->n > 0 && q->items[q->n - 1].type == PN_LIT)
		n = &q->items[q->n - 1];
	else
		n = seq_push(ar, q, PN_LIT);
	n->lit = ar_grow(ar, n->lit, n->len, n->len + len);
	memcpy(n->lit + n->len, c, len);
	n->len += len;
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int	comp_alts(struct pcomp *, struct pnode *);

/* A \w or \W run: "\w*", "\w++", "\W+", "\W++" (p after the letter). */
static void
comp_run(struct pcomp *pc, struct pseq *q, enum pnode_type type)
{
	struct pnode *n = seq_push(pc->ar, q, type);

	if (*pc->p == '*') {
		n->min = 0;
		n->max = -1;
	} else if (*pc->p == '+') {
		n->max = -1;
	} else {
		pc->bad = 1;
		return;
	}
	pc->p++;
	if (*pc->p == '+') {
		n->possessive = 1;
		pc->p++;
	}
	if (*pc->p == '?' || *pc->p == '+' || *pc->p == '*' || *pc->p == '{')
		pc->bad = 1;	/* lazy, or quantified twice */
}

/* A sequence up to '|', ')' or the end. */
static void
comp_seq(struct pcomp *pc, struct pseq *q)
{
	static const char nb[] = "(?<![\\w'])", na[] = "(?![\\w'])";

	while (!pc->bad && *pc->p != '\0' && *pc->p != '|' && *pc->p != ')') {
		unsigned char c = (unsigned char)*pc->p;

		if (strncmp(pc->p, nb, sizeof(nb) - 1) == 0) {
			seq_push(pc->ar, q, PN_NOT_BEFORE);
			pc->p += sizeof(nb) - 1;
		} else if (strncmp(pc->p, na, sizeof(na) - 1) == 0) {
			seq_push(pc->ar, q, PN_NOT_AFTER);
			pc->p += sizeof(na) - 1;
		} else if (strncmp(pc->p, "(?:", 3) == 0) {
			struct pnode *n = seq_push(pc->ar, q, PN_GROUP);

			pc->p += 3;
			if (comp_alts(pc, n) < 0)
				return;
		} else if (c == '\\') {
			c = (unsigned char)pc->p[1];
			pc->p += 2;
			if (c == 'w')
				comp_run(pc, q, PN_WORD);
			else if (c == 'W')
				comp_run(pc, q, PN_NONWORD);
			else if (c == '\0' || c >= 0x80 || is_alnum(c))
				pc->bad = 1;	/* an escape with a meaning */
			else
				seq_lit(pc->ar, q, pc->p - 1, 1);
		} else if (strchr("()[]{}.^$*+?|", c) != NULL) {
			pc->bad = 1;
		} else {
			size_t n = strcspn(pc->p, "()[]{}.^$*+?|\\");

			seq_lit(pc->ar, q, pc->p, n);
			pc->p += n;
		}
	}
}

/* Alternatives after "(?:" up to ")" and its quantifier, into group n. */
static int
comp_alts(struct pcomp *pc, struct pnode *n)
{
	if (++pc->depth > PHRASE_DEPTH) {
		pc->bad = 1;
		return -1;
	}
	for (;;) {
		n->alts = ar_push(pc->ar, n->alts, (size_t)n->nalts,
		    sizeof(*n->alts));
		memset(&n->alts[n->nalts], 0, sizeof(n->alts[0]));
		comp_seq(pc, &n->alts[n->nalts++]);
		if (pc->bad)
			return -1;
		if (*pc->p == '|') {
			pc->p++;
			continue;
		}
		if (*pc->p != ')') {
			pc->bad = 1;
			return -1;
		}
		pc->p++;
		break;
	}
	pc->depth--;
	if (*pc->p == '?') {
		n->min = 0;
		pc->p++;
	} else if (strncmp(pc->p, "{0,4}", 5) == 0) {
		n->min = 0;
		n->max = 4;
		pc->p += 5;
	}
	if (*pc->p == '?' || *pc->p == '+' || *pc->p == '*' || *pc->p == '{') {
		pc->bad = 1;
		return -1;
	}
	return 0;
}

static void
bm_set(unsigned char *bm, unsigned char c)
{
	bm[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int
bm_has(const unsigned char *bm, unsigned char c)
{
	return (bm[c >> 3] >> (c & 7)) & 1;
}


/* \w as a byte bitmap: 0-9, A-Z, _, a-z. */
static const unsigned char word_bm[32] = {
	0, 0, 0, 0, 0, 0, 0xff, 0x03, 0xfe, 0xff, 0xff, 0x87, 0xfe, 0xff, 0xff,
	0x07,
};

/* The bytes of a run's class added to bm. */
static void
bm_class(unsigned char *bm, enum pnode_type type)
{
	int i;

	for (i = 0; i < 32; i++)
		bm[i] |= type == PN_WORD ? word_bm[i] :
		    (unsigned char)~word_bm[i];
}

static void	seq_prepare(struct pseq *);

/*
 * First bytes of items i.. of q added to bm; 1 when they can match
 * nothing at all (then what follows q matters too).  Lookarounds are
 * ignored: they only narrow.
 */
static int
seq_first(const struct pseq *q, int i, unsigned char *bm)
{
	const struct pnode *n;
	int a, empty;

	for (; i < q->n; i++) {
		n = &q->items[i];
		switch (n->type) {
		case PN_LIT:
			bm_set(bm, (unsigned char)n->lit[0]);
			return 0;
		case PN_LITSET:
			for (a = 0, empty = 0; a < n->nstrs; a++)
				if (n->lens[a] == 0)
					empty = 1;
				else
					bm_set(bm, (unsigned char)n->strs[a][0]);
			if (!empty)
				return 0;
			break;
		case PN_GAP:
			bm_class(bm, PN_NONWORD);
			break;
		case PN_WORD:
		case PN_NONWORD:
			bm_class(bm, n->type);
			if (n->min > 0)
				return 0;
			break;
		case PN_GROUP:
			for (a = 0, empty = n->min == 0; a < n->nalts; a++)
				if (seq_first(&n->alts[a], 0, bm))
					empty = 1;
			if (!empty)
				return 0;
			break;
		case PN_NOT_BEFORE:
		case PN_NOT_AFTER:
			break;
		}
	}
	return 1;
}

/*
 * Alternatives' first bytes, and PCRE2's auto-possessification: a greedy
 * run followed by something that cannot start with a byte of its class
 * never gives anything back (e.g. \W+ before a word), so it need not try.
 */
static void
seq_prepare(struct pseq *q)
{
	unsigned char bm[32], cls[32];
	int i, a, c, overlap;

	memset(q->first, 0, sizeof(q->first));
	q->nullable = seq_first(q, 0, q->first);
	for (i = 0; i < q->n; i++) {
		struct pnode *n = &q->items[i];

		if (n->type == PN_GROUP)
			for (a = 0; a < n->nalts; a++)
				seq_prepare(&n->alts[a]);
		if ((n->type != PN_WORD && n->type != PN_NONWORD) ||
		    n->possessive || i + 1 == q->n)
			continue;
		memset(bm, 0, sizeof(bm));
		memset(cls, 0, sizeof(cls));
		if (seq_first(q, i + 1, bm))
			continue;
		bm_class(cls, n->type);
		for (c = 0, overlap = 0; c < 32; c++)
			if (bm[c] & cls[c])
				overlap = 1;
		if (!overlap)
			n->possessive = 1;
	}
}

/*
 * Simplification, each step keeping PCRE2's order of attempts:
 * a group of one alternative without quantifier is spliced into its
 * sequence; a group whose alternatives are all literals or literal sets
 * (after simplifying them) becomes one literal set, expanded in the order
 * PCRE2 tries them ("t(?:ook|aken)" = "took", "taken"; a repeated string
 * is dropped, it would fail the same way twice); the gap group becomes a
 * PN_GAP.  triage.c's first-letter factoring of alternatives helps PCRE2
 * but costs a group level per letter here: this undoes it.
 */
#define LITSET_MAX	256
#define GAP_MAX		8

/* The strings a sequence of LIT and LITSET items matches, in order; -1
 * when it has another item or too many strings. */
static int
seq_strings(struct arena *ar, const struct pseq *q, char ***strs,
    size_t **lens, int *n)
{
	char **s, **t;
	size_t *l, *tl;
	int ns = 1, i, a, b, nt;

	for (i = 0; i < q->n; i++)
		if (q->items[i].type != PN_LIT && q->items[i].type != PN_LITSET)
			return -1;
	s = ar_alloc(ar, sizeof(*s));
	l = ar_alloc(ar, sizeof(*l));
	s[0] = ar_alloc(ar, 1);
	for (i = 0; i < q->n; i++) {
		const struct pnode *it = &q->items[i];
		int nopt = it->type == PN_LIT ? 1 : it->nstrs;

		if ((long)ns * nopt > LITSET_MAX)
			return -1;
		t = ar_alloc(ar, (size_t)ns * (size_t)nopt * sizeof(*t));
		tl = ar_alloc(ar, (size_t)ns * (size_t)nopt * sizeof(*tl));
		for (a = 0, nt = 0; a < ns; a++) {
			for (b = 0; b < nopt; b++) {
				const char *add = it->type == PN_LIT ? it->lit :
				    it->strs[b];
				size_t alen = it->type == PN_LIT ? it->len :
				    it->lens[b];

				t[nt] = ar_alloc(ar, l[a] + alen + 1);
				memcpy(t[nt], s[a], l[a]);
				memcpy(t[nt] + l[a], add, alen);
				tl[nt++] = l[a] + alen;
			}
		}
		s = t;
		l = tl;
		ns = nt;
	}
	*strs = s;
	*lens = l;
	*n = ns;
	return 0;
}

/* Group n as a literal set, if all its alternatives are literal: worked
 * out in the scratch arena, the result copied into ar. */
static void
group_to_litset(struct arena *ar, struct arena *scratch, struct pnode *n)
{
	char **all = NULL, **s;
	size_t *alll = NULL, *l;
	int nall = 0, a, i, j, ns, dup;

	if (n->min != 1 || n->max != 1)
		return;
	for (a = 0; a < n->nalts; a++) {
		if (seq_strings(scratch, &n->alts[a], &s, &l, &ns) < 0 ||
		    nall + ns > LITSET_MAX)
			return;
		all = ar_grow(scratch, all, (size_t)nall * sizeof(*all),
		    (size_t)(nall + ns) * sizeof(*all));
		alll = ar_grow(scratch, alll, (size_t)nall * sizeof(*alll),
		    (size_t)(nall + ns) * sizeof(*alll));
		for (i = 0; i < ns; i++) {
			for (j = 0, dup = 0; j < nall && !dup; j++)
				dup = alll[j] == l[i] &&
				    memcmp(all[j], s[i], l[i]) == 0;
			if (dup)
				continue;
			all[nall] = s[i];
			alll[nall++] = l[i];
		}
	}
	n->alts = NULL;
	n->nalts = 0;
	n->type = PN_LITSET;
	n->strs = ar_alloc(ar, (size_t)nall * sizeof(*n->strs));
	n->lens = ar_grow(ar, alll, (size_t)nall * sizeof(*alll),
	    (size_t)nall * sizeof(*alll));
	n->nstrs = nall;
	n->firsts = ar_alloc(ar, (size_t)nall + 1);
	for (i = 0; i < nall; i++) {
		n->strs[i] = ar_grow(ar, all[i], alll[i] + 1, alll[i] + 1);
		n->firsts[i] = (unsigned char)all[i][0];
	}
}

static int
is_gap(const struct pnode *n)
{
	const struct pseq *q = &n->alts[0];

	return n->type == PN_GROUP && n->nalts == 1 && n->min == 0 &&
	    n->max > 0 && n->max <= GAP_MAX && q->n == 2 &&
	    q->items[0].type == PN_NONWORD && q->items[0].possessive &&
	    q->items[0].min == 1 && q->items[0].max == -1 &&
	    q->items[1].type == PN_WORD && q->items[1].possessive &&
	    q->items[1].min == 1 && q->items[1].max == -1;
}

static void
seq_simplify(struct arena *ar, struct arena *scratch, struct pseq *q)
{
	int i, a;

	for (i = 0; i < q->n; i++) {
		struct pnode *n = &q->items[i];

		if (n->type != PN_GROUP)
			continue;
		for (a = 0; a < n->nalts; a++)
			seq_simplify(ar, scratch, &n->alts[a]);
		if (is_gap(n)) {
			n->alts = NULL;
			n->nalts = 0;
			n->type = PN_GAP;
			continue;
		}
		if (n->nalts == 1 && n->min == 1 && n->max == 1) {
			struct pseq in = n->alts[0];

			/* splice: items i+1.. move after in's items */
			q->items = ar_grow(ar, q->items, (size_t)q->n *
			    sizeof(*q->items), (size_t)(q->n + in.n) *
			    sizeof(*q->items));
			memmove(q->items + i + in.n, q->items + i + 1,
			    (size_t)(q->n - i - 1) * sizeof(*q->items));
			if (in.n > 0)
				memcpy(q->items + i, in.items,
				    (size_t)in.n * sizeof(*q->items));
			q->n += in.n - 1;
			i--;	/* look at the spliced items again */
			continue;
		}
		group_to_litset(ar, scratch, n);
	}
	/* adjacent literals: one */
	for (i = 0; i + 1 < q->n; i++) {
		struct pnode *n = &q->items[i], *m = &q->items[i + 1];

		if (n->type != PN_LIT || m->type != PN_LIT)
			continue;
		n->lit = ar_grow(ar, n->lit, n->len, n->len + m->len);
		memcpy(n->lit + n->len, m->lit, m->len);
		n->len += m->len;
		memmove(m, m + 1, (size_t)(q->n - i - 2) * sizeof(*m));
		q->n--;
		i--;
	}
}

static void	seq_copy(struct arena *, struct pseq *, const struct pseq *);

/* The finished tree copied into ar at its exact size, depth first (the
 * order a match visits it). */
static void
node_copy(struct arena *ar, struct pnode *d, const struct pnode *n)
{
	int i;

	*d = *n;
	if (n->lit != NULL)
		d->lit = ar_grow(ar, n->lit, n->len, n->len);
	if (n->nalts > 0) {
		d->alts = ar_alloc(ar, (size_t)n->nalts * sizeof(*d->alts));
		for (i = 0; i < n->nalts; i++)
			seq_copy(ar, &d->alts[i], &n->alts[i]);
	}
	if (n->type == PN_LITSET) {
		d->firsts = ar_grow(ar, n->firsts, (size_t)n->nstrs + 1,
		    (size_t)n->nstrs + 1);
		d->lens = ar_grow(ar, n->lens, (size_t)n->nstrs *
		    sizeof(*n->lens), (size_t)n->nstrs * sizeof(*n->lens));
		d->strs = ar_alloc(ar, (size_t)n->nstrs * sizeof(*d->strs));
		for (i = 0; i < n->nstrs; i++)
			d->strs[i] = ar_grow(ar, n->strs[i], n->lens[i] + 1,
			    n->lens[i] + 1);
	}
}

static void
seq_copy(struct arena *ar, struct pseq *d, const struct pseq *q)
{
	int i;

	*d = *q;
	d->items = ar_alloc(ar, (size_t)q->n * sizeof(*d->items));
	for (i = 0; i < q->n; i++)
		node_copy(ar, &d->items[i], &q->items[i]);
}

struct phrase *
phrase_compile(const char *re)
{
	struct phrase *ph;
	struct arena work, scratch;
	struct pseq top;
	struct pcomp pc;

	/* built and simplified in work (and scratch), then copied */
	memset(&work, 0, sizeof(work));
	memset(&scratch, 0, sizeof(scratch));
	memset(&top, 0, sizeof(top));
	memset(&pc, 0, sizeof(pc));
	pc.p = re;
	pc.ar = &work;
	comp_seq(&pc, &top);
	if (pc.bad || *pc.p != '\0') {
		ar_free(&work);
		return NULL;
	}
	seq_simplify(&work, &scratch, &top);
	seq_prepare(&top);
	ph = xcalloc(1, sizeof(*ph));
	seq_copy(&ph->ar, &ph->top, &top);
	ar_free(&scratch);
	ar_free(&work);
	return ph;
}

void
phrase_free(struct phrase *ph)
{
	if (ph == NULL)
		return;
	ar_free(&ph->ar);
	free(ph);
}

/* ---- matching ----------------------------------------------------------- */

/* What to match after the current item: the rest of a sequence, or the
 * next iteration of a group. */
struct kont {
	const struct pseq	*q;	/* rest of q from item i */
	int			 i;
	const struct pnode	*g;	/* or: group g after iteration count */
	int			 count;
	size_t			 from;	/* where that iteration started */
	const struct kont	*next;
};

struct pmatch {
	const unsigned char	*s;
	size_t			 len;
	long			 steps;
};

#define NOMATCH		(-1L)
#define ABORTED		(-2L)

static int
is_word(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

/* Words are short: a loop beats a call to memcmp(). */
static int
bytes_eq(const unsigned char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != (unsigned char)b[i])
			return 0;
	return 1;
}

static long	m_seq(struct pmatch *, const struct pseq *, int, size_t,
		    const struct kont *);
static long	m_rep(struct pmatch *, const struct pnode *, int, size_t,
		    const struct kont *);

static long
m_kont(struct pmatch *m, const struct kont *k, size_t pos)
{
	if (k == NULL)
		return (long)pos;
	if (k->g == NULL)
		return m_seq(m, k->q, k->i, pos, k->next);
	/* PCRE2 ends a repetition at an iteration that matched nothing */
	if (pos == k->from)
		return m_kont(m, k->next, pos);
	return m_rep(m, k->g, k->count, pos, k->next);
}

/* Iterations count.. of group g at pos, greedy: one more first. */
static long
m_rep(struct pmatch *m, const struct pnode *g, int count, size_t pos,
    const struct kont *k)
{
	struct kont kr;
	long r;
	int a;

	if (g->max < 0 || count < g->max) {
		kr.q = NULL;
		kr.i = 0;
		kr.g = g;
		kr.count = count + 1;
		kr.from = pos;
		kr.next = k;
		for (a = 0; a < g->nalts; a++) {
			const struct pseq *q = &g->alts[a];

			if (!q->nullable && (pos == m->len ||
			    !bm_has(q->first, m->s[pos])))
				continue;
			if ((r = m_seq(m, q, 0, pos, &kr)) != NOMATCH)
				return r;
		}
	}
	if (count >= g->min)
		return m_kont(m, k, pos);
	return NOMATCH;
}

static long
m_seq(struct pmatch *m, const struct pseq *q, int i, size_t pos,
    const struct kont *k)
{
	const struct pnode *n;
	struct kont kq;
	size_t run, lim, gap[GAP_MAX + 1];
	long r;
	int j;
	unsigned char c;

	for (;;) {
		if (++m->steps > PHRASE_STEPS)
			return ABORTED;
		if (i == q->n)
			return m_kont(m, k, pos);
		n = &q->items[i];
		switch (n->type) {
		case PN_LIT:
			if (m->len - pos < n->len ||
			    !bytes_eq(m->s + pos, n->lit, n->len))
				return NOMATCH;
			pos += n->len;
			i++;
			continue;
		case PN_NOT_BEFORE:
			if (pos > 0 && (is_word(m->s[pos - 1]) ||
			    m->s[pos - 1] == '\''))
				return NOMATCH;
			i++;
			continue;
		case PN_NOT_AFTER:
			if (pos < m->len && (is_word(m->s[pos]) ||
			    m->s[pos] == '\''))
				return NOMATCH;
			i++;
			continue;
		case PN_WORD:
		case PN_NONWORD:
			lim = n->max < 0 ? m->len - pos : (size_t)n->max;
			for (run = 0; run < lim && pos + run < m->len &&
			    is_word(m->s[pos + run]) == (n->type == PN_WORD);
			    run++)
				;
			if (run < (size_t)n->min)
				return NOMATCH;
			if (n->possessive || run == (size_t)n->min) {
				pos += run;
				i++;
				continue;
			}
			/* greedy: the longest run first, then give back */
			for (;; run--) {
				r = m_seq(m, q, i + 1, pos + run, k);
				if (r != NOMATCH || run == (size_t)n->min)
					return r;
			}
		case PN_LITSET:
			c = pos < m->len ? m->s[pos] : 0;
			for (j = 0; j < n->nstrs; j++) {
				/* the first byte (or "") first, in a tight loop */
				if (n->firsts[j] != c && n->firsts[j] != 0)
					continue;
				if (m->len - pos < n->lens[j] ||
				    !bytes_eq(m->s + pos + 1, n->strs[j] + 1,
				    n->lens[j] > 0 ? n->lens[j] - 1 : 0))
					continue;
				r = m_seq(m, q, i + 1, pos + n->lens[j], k);
				if (r != NOMATCH)
					return r;
			}
			return NOMATCH;
		case PN_GAP:
			/* where 0..max words end; then the most words first */
			gap[0] = pos;
			for (j = 0; j < n->max && j < GAP_MAX; j++) {
				run = gap[j];
				while (run < m->len && !is_word(m->s[run]))
					run++;
				if (run == gap[j] || run == m->len)
					break;
				while (run < m->len && is_word(m->s[run]))
					run++;
				gap[j + 1] = run;
			}
			for (; j >= 0; j--) {
				r = m_seq(m, q, i + 1, gap[j], k);
				if (r != NOMATCH)
					return r;
			}
			return NOMATCH;
		case PN_GROUP:
			kq.q = q;
			kq.i = i + 1;
			kq.g = NULL;
			kq.count = 0;
			kq.from = 0;
			kq.next = k;
			return m_rep(m, n, 0, pos, &kq);
		}
		return NOMATCH;
	}
}

int
phrase_match(const struct phrase *ph, const char *s, size_t len,
    size_t start, size_t *end)
{
	struct pmatch m;
	long r;

	if (start > len)
		return 0;
	m.s = (const unsigned char *)s;
	m.len = len;
	m.steps = 0;
	r = m_seq(&m, &ph->top, 0, start, NULL);
	if (r == ABORTED)
		return -1;
	if (r == NOMATCH)
		return 0;
	*end = (size_t)r;
	return 1;
}

/* ---- phrase -> regex ---------------------------------------------------- */

/*
 * Phrase syntax (folded text): items separated by spaces; an item is a word
 * ("word", "word*" = prefix), a group "(seq|seq|...)" of alternatives, each
 * a sequence itself, "..." (up to four other words), and a trailing "?"
 * makes a word or group optional.  Translated to PCRE2; separators between
 * items match any run of non-word characters.
 *
 * The prefilter: every phrase needs at least one of its "keys" (the first
 * 1-3 ASCII letters of a word) among the message's token prefixes.  A
 * sequence's keys are those of its most selective mandatory item; a group's
 * the union of its alternatives' keys.
 */
struct keyset {
	uint32_t	 keys[LEX_MAX_KEYS];
	int		 n;		/* -1: unusable (no key) */
	int		 quality;	/* shortest key length */
};

struct pparse {
	const char	*p;
	struct buf	*re;
	const char	*why;
	int		 depth;
	int		 simple;	/* last item: one plain word (or group of) */
	int		 nitems;	/* items of the last sequence parsed */
	int		 first_simple;	/* top level: first item is simple */
	int		 span;		/* last item or sequence: most words */
	struct keyset	 second;	/* top level: second item's first keys */
};

/* a += b; unusable when either is, or when too many. */
static void
keyset_union(struct keyset *a, const struct keyset *b)
{
	if (b->n < 0 || a->n < 0 || a->n + b->n > LEX_MAX_KEYS) {
		a->n = -1;
		a->quality = 0;
		return;
	}
	memcpy(a->keys + a->n, b->keys, (size_t)b->n * sizeof(b->keys[0]));
	a->n += b->n;
	if (b->quality < a->quality)
		a->quality = b->quality;
}

static int
is_special(char c)
{
	return c == ' ' || c == '(' || c == ')' || c == '|' || c == '?' ||
	    c == '\0';
}

static int parse_seq(struct pparse *, struct keyset *, struct keyset *);

static int
factor_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * Emit the alternatives alts[0..n) (regex text) with those that start with
 * the same letter merged: "took|taken|keep" becomes "t(?:ook|aken)|keep".
 * PCRE2's interpreter tries alternatives one by one, each a backtracking
 * frame; at one position only the branch of the right first letter can
 * match, so this keeps the matches (and which one is found first: the
 * order within a letter is kept) and saves most of the tries.
 */
static void
factor_alts(struct buf *out, char **alts, size_t n)
{
	char **sub;
	size_t i, j, m;
	int *used, any = 0;

	used = xcalloc(n + 1, sizeof(*used));
	sub = xcalloc(n + 1, sizeof(*sub));
	for (i = 0; i < n; i++) {
		if (used[i])
			continue;
		if (any++)
			buf_addc(out, '|');
		used[i] = 1;
		if (!factor_char(alts[i][0])) {
			buf_addstr(out, alts[i]);
			continue;
		}
		sub[0] = alts[i] + 1;
		for (j = i + 1, m = 1; j < n; j++)
			if (!used[j] && alts[j][0] == alts[i][0]) {
				used[j] = 1;
				sub[m++] = alts[j] + 1;
			}
		if (m == 1) {
			buf_addstr(out, alts[i]);
			continue;
		}
		buf_addc(out, alts[i][0]);
		buf_addstr(out, "(?:");
		{
			char **copy = xcalloc(m, sizeof(*copy));

			memcpy(copy, sub, m * sizeof(*copy));
			factor_alts(out, copy, m);
			free(copy);
		}
		buf_addc(out, ')');
	}
	free(sub);
	free(used);
}

static int
parse_word(struct pparse *pp, struct keyset *ks)
{
	const char *w = pp->p;
	size_t len, i;
	int star = 0, nkey = 0;

	while (!is_special(*pp->p))
		pp->p++;
	len = (size_t)(pp->p - w);
	if (len > 0 && w[len - 1] == '*') {
		star = 1;
		len--;
	}
	for (i = 0, pp->simple = 1; i < len; i++)
		if (!key_char((unsigned char)w[i]))
			pp->simple = 0;
	if (len == 0) {
		pp->why = "empty word";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];

		if (nkey == (int)i && key_char(c))
			nkey++;
		if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			buf_addc(pp->re, '\\');
		buf_addc(pp->re, (char)c);
	}
	if (star)
		buf_addstr(pp->re, "\\w*");
	/* words of text it can cover: its letter runs, one more for "*" */
	for (i = 0, pp->span = star; i < len; i++)
		if (key_char((unsigned char)w[i]) && (i == 0 ||
		    !key_char((unsigned char)w[i - 1])))
			pp->span++;
	if (pp->span == 0)
		pp->span = 1;
	if (nkey > 3)
		nkey = 3;
	ks->n = nkey > 0 ? 1 : -1;
	ks->quality = nkey;
	if (nkey > 0)
		ks->keys[0] = key_of(w, nkey);
	for (i = 0; i < len && key_char((unsigned char)w[i]); i++)
		;
	/* The whole text token ("i" of "i'm", "can" of "can't"): exact. */
	if (i <= 3 && i > 0 && (i < len || !star)) {
		ks->keys[0] = KEY_SPACE + key_of(w, (int)i);
		ks->quality = 3;
	} else if (i > 3 && (i < len || !star)) {
		ks->keys[0] = word_hash(w, i);
		ks->quality = 4;
	}
	return 0;
}

static int
parse_group(struct pparse *pp, struct keyset *ks, struct keyset *first)
{
	struct keyset alt, altfirst;
	int simple, span = 0;
	size_t gstart, astart, nalts = 0, i;
	size_t *aoff = NULL;
	char **alts;

	if (++pp->depth > 4) {
		pp->why = "groups nested too deep";
		return -1;
	}
	pp->p++;	/* '(' */
	buf_addstr(pp->re, "(?:");
	gstart = astart = pp->re->len;
	ks->n = first->n = 0;
	ks->quality = first->quality = 4;	/* the union: its weakest key */
	simple = 1;
	for (;;) {
		if (parse_seq(pp, &alt, &altfirst) < 0) {
			free(aoff);
			return -1;
		}
		aoff = xreallocarray(aoff, nalts + 1, 2 * sizeof(*aoff));
		aoff[2 * nalts] = astart;
		aoff[2 * nalts++ + 1] = pp->re->len;
		if (pp->nitems != 1 || !pp->simple)
			simple = 0;
		if (pp->span > span)
			span = pp->span;
		keyset_union(ks, &alt);
		keyset_union(first, &altfirst);
		if (*pp->p == '|') {
			pp->p++;
			buf_addc(pp->re, '|');
			astart = pp->re->len;
			continue;
		}
		if (*pp->p != ')') {
			free(aoff);
			pp->why = "unbalanced ( )";
			return -1;
		}
		pp->p++;
		break;
	}
	alts = xcalloc(nalts, sizeof(*alts));
	for (i = 0; i < nalts; i++)
		alts[i] = xstrndup(pp->re->data + aoff[2 * i],
		    aoff[2 * i + 1] - aoff[2 * i]);
	pp->re->len = gstart;
	factor_alts(pp->re, alts, nalts);
	for (i = 0; i < nalts; i++)
		free(alts[i]);
	free(alts);
	free(aoff);
	buf_addc(pp->re, ')');
	if (ks->n <= 0) {
		ks->n = -1;
		ks->quality = 0;
	}
	if (first->n <= 0) {
		first->n = -1;
		first->quality = 0;
	}
	pp->depth--;
	pp->simple = simple;
	pp->span = span;
	return 0;
}

/* A sequence of items up to ')', '|' or the end. */
static int
parse_seq(struct pparse *pp, struct keyset *ks, struct keyset *firstks)
{
	int first = 1, items = 0, gap = 0, depth = pp->depth, span = 0;

	ks->n = firstks->n = -1;
	ks->quality = firstks->quality = 0;
	for (;;) {
		struct keyset item, itemfirst;
		int optional = 0, bare;

		while (*pp->p == ' ')
			pp->p++;
		if (*pp->p == '\0' || *pp->p == ')' || *pp->p == '|')
			break;
		if (strncmp(pp->p, "...", 3) == 0 && is_special(pp->p[3])) {
			pp->p += 3;
			buf_addstr(pp->re, "(?:\\W++\\w++){0,4}");
			gap = 1;
			span += 4;
			continue;
		}
		/* a leading word needs no group: "took|taken" can then be
		 * merged by its first letter (factor_alts()) */
		bare = first && *pp->p != '(';
		if (!bare)
			buf_addstr(pp->re, first ? "(?:" : "(?:\\W+");
		if (*pp->p == '(') {
			if (parse_group(pp, &item, &itemfirst) < 0)
				return -1;
			if (*pp->p == '*') {
				pp->p++;
				buf_addstr(pp->re, "\\w*");
				pp->simple = 0;
				pp->span++;
			}
		} else if (parse_word(pp, &item) < 0)
			return -1;
		else
			itemfirst = item;
		if (*pp->p == '?') {
			if (first) {
				pp->why = "the first item cannot be optional";
				return -1;
			}
			optional = 1;
			pp->p++;
		}
		if (!bare)
			buf_addstr(pp->re, optional ? ")?" : ")");
		span += pp->span;
		if (first)
			*firstks = itemfirst;
		/* what must follow the first word, for a cheap check */
		if (depth == 0 && first)
			pp->first_simple = pp->simple;
		if (depth == 0 && items == 1 && !gap && !optional)
			pp->second = itemfirst;
		items++;
		if (!optional && item.n > 0 && (ks->n < 0 ||
		    item.quality > ks->quality ||
		    (item.quality == ks->quality && item.n < ks->n)))
			*ks = item;
		first = 0;
	}
	if (first) {
		pp->why = "empty phrase or alternative";
		return -1;
	}
	pp->nitems = items;
	pp->span = span;
	return 0;
}

/* Translate a folded phrase; fill pat's keys.  -1 with *why on error. */
int
phrase_to_regex(const char *ph, struct buf *re, struct pattern *pat,
    const char **why)
{
	struct pparse pp;
	struct keyset ks, first;
	const char *q = ph;
	size_t n = strlen(ph);

	while (*q == ' ' || *q == '(')
		q++;
	if (key_char((unsigned char)*q) || *q == '\'')
		buf_addstr(re, "(?<![\\w'])");
	memset(&pp, 0, sizeof(pp));
	pp.p = ph;
	pp.re = re;
	pp.second.n = -1;
	if (parse_seq(&pp, &ks, &first) < 0 || *pp.p != '\0') {
		*why = pp.why ? pp.why : "unbalanced ( )";
		return -1;
	}
	while (n > 0 && (ph[n - 1] == ' ' || ph[n - 1] == ')' ||
	    ph[n - 1] == '?'))
		n--;
	if (n > 0 && (key_char((unsigned char)ph[n - 1]) || ph[n - 1] == '*'))
		buf_addstr(re, "(?![\\w'])");
	/* The most selective keys decide whether to try the pattern at all;
	 * the keys of the first word, where (anchored). */
	pat->nkeys = ks.n > 0 ? ks.n : 0;
	if (ks.n > 0)
		memcpy(pat->keys, ks.keys, (size_t)ks.n * sizeof(ks.keys[0]));
	pat->anchored = first.n > 0;
	pat->span = pp.span;
	pat->nskeys = 0;
	if (pat->anchored && pp.first_simple && pp.second.n > 0) {
		pat->nskeys = pp.second.n;
		memcpy(pat->skeys, pp.second.keys,
		    (size_t)pp.second.n * sizeof(pp.second.keys[0]));
	}
	pat->nfkeys = first.n > 0 ? first.n : 0;
	if (first.n > 0)
		memcpy(pat->fkeys, first.keys,
		    (size_t)first.n * sizeof(first.keys[0]));
	return 0;
}

