/* SPDX-License-Identifier: MIT */
/*
 * triage_match.c: the lexicon's rules run over a normalised text: a
 * bitmap and an index of the text's token keys (triage_p.h) let most
 * patterns be skipped or tried only where their first word starts;
 * negation, ages, masks; the signal sums and the hits go in struct scan
 * for the decision (triage.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "triage_p.h"
#include "util.h"

/* ---- token index -------------------------------------------------------- */

/*
 * Where each token key occurs: (key, offset) entries chained per hash slot
 * in text order, so an anchored phrase is tried only where its first word
 * can start.
 */
struct tokpos {
	uint32_t	key;
	uint32_t	pos;
	uint32_t	ord;	/* word number: PCRE2's \w+ runs */
	int32_t		next;	/* next entry in the slot's chain, -1 */
};

struct tokindex {
	struct tokpos	*v;
	size_t		 n;
	int32_t		*head;	/* per slot: first entry, -1 */
	unsigned	 bits;
};

static uint32_t
tokindex_slot(const struct tokindex *ti, uint32_t key)
{
	return (key * 2654435761u) >> (32 - ti->bits);
}

static void
tokindex_build(struct tokindex *ti, unsigned char *bm, const char *s,
    size_t len)
{
	/* locals, not ti's fields: byte stores into bm could alias those */
	struct tokpos *v, *t;
	size_t i = 0, j, cap, k, n = 0;
	uint32_t ord = 0, k1, k2, k3, slot;
	int32_t *head;
	unsigned bits;
	int joined = 0;

	/* about 0.7 entries a byte in prose: rarely grown */
	cap = len - len / 4 + 16;
	v = xreallocarray(NULL, cap, sizeof(*v));
	while (i < len) {
		if (!key_char((unsigned char)s[i])) {
			i++;
			continue;
		}
		for (j = i; j < len && key_char((unsigned char)s[j]); j++)
			;
		/* "a_b" is one \w+ word for PCRE2, two tokens here */
		for (k = i, joined = n > 0; joined && k > 0 &&
		    !key_char((unsigned char)s[k - 1]); k--)
			if (s[k - 1] != '_')
				joined = 0;
		if (n > 0 && !joined)
			ord++;
		if (n + 4 > cap) {
			cap *= 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		/* the keys of its 1-, 2- and 3-character prefixes (key_of()) */
		k1 = (uint32_t)key_char((unsigned char)s[i]) * 37 * 37;
		k2 = j - i >= 2 ? k1 + (uint32_t)key_char((unsigned char)s[i + 1]) *
		    37 : k1;
		k3 = j - i >= 3 ? k2 + (uint32_t)key_char((unsigned char)s[i + 2]) :
		    k2;
		t = &v[n++];
		t->key = k1;
		t->ord = ord;
		t->pos = (uint32_t)i;
		bitmap_set(bm, k1);
		if (j - i >= 2) {
			t = &v[n++];
			t->key = k2;
			t->ord = ord;
			t->pos = (uint32_t)i;
			bitmap_set(bm, k2);
		}
		if (j - i >= 3) {
			t = &v[n++];
			t->key = k3;
			t->ord = ord;
			t->pos = (uint32_t)i;
			bitmap_set(bm, k3);
		}
		/* whole words too: "i" is not "in", "they" not "there" (a
		 * short one shares its prefix's bit) */
		t = &v[n++];
		if (j - i <= 3)
			t->key = KEY_SPACE + k3;
		else {
			t->key = word_hash(s + i, j - i);
			bitmap_set(bm, t->key);
		}
		t->ord = ord;
		t->pos = (uint32_t)i;
		i = j;
	}
	for (bits = 8; ((size_t)1 << bits) < 2 * n && bits < 24; bits++)
		;
	head = xreallocarray(NULL, (size_t)1 << bits, sizeof(int32_t));
	memset(head, 0xff, ((size_t)1 << bits) * sizeof(int32_t));
	ti->v = v;
	ti->n = n;
	ti->head = head;
	ti->bits = bits;
	/* backwards, so that each chain runs in text order */
	for (i = n; i-- > 0;) {
		slot = tokindex_slot(ti, v[i].key);
		v[i].next = head[slot];
		head[slot] = (int32_t)i;
	}
}

static void
tokindex_free(struct tokindex *ti)
{
	free(ti->v);
	free(ti->head);
}

/* From entry e (-1: the start of key's chain), the next entry with that
 * key, or -1. */
static int32_t
tokindex_next(const struct tokindex *ti, uint32_t key, int32_t e)
{
	e = e < 0 ? ti->head[tokindex_slot(ti, key)] : ti->v[e].next;
	while (e >= 0 && ti->v[e].key != key)
		e = ti->v[e].next;
	return e;
}


/* ---- matching ----------------------------------------------------------- */


static int
negated(const struct lexicon *lex, pcre2_match_data *md, const char *s,
    size_t start)
{
	size_t from = start > NEG_WINDOW ? start - NEG_WINDOW : 0, i, words = 0;
	int inword = 0, wordy = 0;

	if (lex->negator == NULL)
		return 0;
	/* A negation is at most two words followed by at most two words:
	 * start at the fifth last word (a run without spaces that has a
	 * letter or digit) rather than searching the whole window. */
	for (i = start; i > from; i--) {
		unsigned char c = (unsigned char)s[i - 1];

		if (c == ' ') {
			if (inword && wordy && ++words == 5)
				break;
			inword = wordy = 0;
			continue;
		}
		inword = 1;
		if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			wordy = 1;
	}
	from = i;
	while (from < start && ((unsigned char)s[from] & 0xc0) == 0x80)
		from++;
	return pcre2_match(lex->negator, (PCRE2_SPTR)(s + from), start - from, 0,
	    PCRE2_NO_UTF_CHECK, md, lex->mctx) >= 0;
}

static int
pattern_may_match(const struct pattern *pat, const unsigned char *bm)
{
	int i;

	if (pat->nkeys == 0)
		return 1;
	for (i = 0; i < pat->nkeys; i++)
		if ((bm[pat->kbits[i] >> 3] >> (pat->kbits[i] & 7)) & 1)
			return 1;
	return 0;
}

static void
note_age(struct scan *sc, const char *s, pcre2_match_data *md)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	unsigned long long v;
	char num[8];
	size_t n;

	if (ov[2] == PCRE2_UNSET || ov[3] <= ov[2])
		return;
	n = ov[3] - ov[2];
	if (n >= sizeof(num))
		return;
	memcpy(num, s + ov[2], n);
	num[n] = '\0';
	if (parse_uint(num, 0, 120, &v) < 0)
		return;
	if (sc->min_age < 0 || (int)v < sc->min_age)
		sc->min_age = (int)v;
	if ((int)v > sc->max_age)
		sc->max_age = (int)v;
}

/*
 * A cursor over the matches of one pattern in s: an anchored pattern is
 * tried at each start of a token carrying one of its first-word keys,
 * another is searched left to right.  At most MATCH_TRIES attempts.
 */
struct cursor {
	const struct pattern	*pat;
	const struct tokindex	*ti;
	const unsigned char	*bm;
	const char		*s;
	size_t			 len;
	int			 key;		/* anchored: current key */
	int32_t			 at;		/* anchored: entry in ti, -1 */
	PCRE2_SIZE		 start;		/* unanchored: next offset */
	int			 tries;
	const uint32_t		*mark;		/* words where its best word is */
	uint32_t		 stamp;		/* (mark[word] == stamp) */
	uint32_t		 nord;
	int			 best;		/* checked */
	int			 dead;		/* its best word is absent */
	size_t			 m0, m1;	/* the match found */
	int			 by_pcre2;	/* in md too (groups) */
	size_t			 nx[LIT_MAX];	/* unanchored: regex_search()'s
						 * (not cleared by cursor_init) */
};


/*
 * When a phrase's first word is common ("i", "my") but a later word is
 * not, an attempt only makes sense where that later word follows closely:
 * mark the words where it occurs once (in the scan's mark array).
 */
static void
cursor_best(struct cursor *c, struct scan *sc)
{
	const struct pattern *pat = c->pat;
	size_t n = 0;
	int32_t e;
	int k;

	if (!pat->anchored || pat->nkeys == 0 || pat->span <= 0 ||
	    pat->keys_first)
		return;
	sc->stamp++;
	for (k = 0; k < pat->nkeys; k++) {
		if (!bitmap_has(c->bm, pat->keys[k]))
			continue;
		for (e = tokindex_next(c->ti, pat->keys[k], -1); e >= 0;
		    e = tokindex_next(c->ti, pat->keys[k], e)) {
			sc->mark[c->ti->v[e].ord] = sc->stamp;
			n++;
		}
	}
	if (n == 0) {
		c->dead = 1;
		return;
	}
	c->mark = sc->mark;
	c->stamp = sc->stamp;
	c->nord = sc->nord;
	c->best = 1;
}

/* Is the token after the one the attempt starts at one of the phrase's
 * second words? */
static int
cursor_second_ok(const struct cursor *c)
{
	const struct tokindex *ti = c->ti;
	size_t e = (size_t)c->at;
	uint32_t pos = ti->v[e].pos;
	int a;

	/* a token's keys are consecutive entries: skip to the next token's */
	while (e < ti->n && ti->v[e].pos == pos)
		e++;
	if (e >= ti->n)
		return 0;
	for (pos = ti->v[e].pos; e < ti->n && ti->v[e].pos == pos; e++) {
		if (!((c->pat->sbloom >> (ti->v[e].key & 63)) & 1))
			continue;	/* none of the skeys, surely */
		for (a = 0; a < c->pat->nskeys; a++)
			if (c->pat->skeys[a] == ti->v[e].key)
				return 1;
	}
	return 0;
}

/* Does a best word start within the pattern's span of words from word
 * ord (where an attempt starts)? */
static int
cursor_best_near(const struct cursor *c, uint32_t ord)
{
	uint32_t o, end = ord + (uint32_t)c->pat->span;

	for (o = ord; o < end && o < c->nord; o++)
		if (c->mark[o] == c->stamp)
			return 1;
	return 0;
}

static void
cursor_init(struct cursor *c, const struct pattern *pat,
    const struct tokindex *ti, const unsigned char *bm, const char *s,
    size_t len)
{
	memset(c, 0, offsetof(struct cursor, nx));
	c->pat = pat;
	c->ti = ti;
	c->bm = bm;
	c->s = s;
	c->len = len;
	c->key = -1;
}

/*
 * pcre2_match() of pat's regex in s from start, unanchored, with the same
 * result.  With known prefixes (a match starts with one of them, e.g. the
 * Chinese or Korean alternations, which PCRE2 would otherwise try at every
 * character: 0.6 M instructions for a 4 KB text) it is tried anchored at
 * each place one occurs, in order: PCRE2 does the same at every position
 * (each attempt with its own match and depth limits), and an attempt where
 * no prefix starts fails at its first character.  nx: prefix_next()'s.
 */
int
regex_search(const struct pattern *pat, const char *s, size_t len,
    size_t start, size_t *nx, pcre2_match_data *md,
    pcre2_match_context *mctx)
{
	size_t p = start;
	int rc;

	if (prefix_count(pat) == 0)
		return pcre2_match(pat->re, (PCRE2_SPTR)s, len, start,
		    PCRE2_NO_UTF_CHECK, md, mctx);
	for (;;) {
		if ((p = prefix_next(pat, s, len, p, nx)) > len)
			return PCRE2_ERROR_NOMATCH;
		rc = pcre2_match(pat->re, (PCRE2_SPTR)s, len, p,
		    PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, md, mctx);
		if (rc != PCRE2_ERROR_NOMATCH)
			return rc;
		p++;
	}
}

/* 1 with the match in md, or 0 when there is none left. */
static int
cursor_next(struct cursor *c, const struct lexicon *lex, pcre2_match_data *md)
{
	PCRE2_SIZE *ov;
	size_t pos;
	int r;

	if (c->dead)
		return 0;
	while (c->tries < MATCH_TRIES * 4) {
		if (c->pat->anchored) {
			if (c->key >= 0 && c->at >= 0)
				c->at = tokindex_next(c->ti,
				    c->pat->fkeys[c->key], c->at);
			while (c->key < 0 || c->at < 0) {
				if (++c->key >= c->pat->nfkeys)
					return 0;
				c->at = -1;
				if (bitmap_has(c->bm, c->pat->fkeys[c->key]))
					c->at = tokindex_next(c->ti,
					    c->pat->fkeys[c->key], -1);
			}
			if (c->best &&
			    !cursor_best_near(c, c->ti->v[c->at].ord))
				continue;
			if (c->pat->nskeys > 0 &&
			    !cursor_second_ok(c))
				continue;
			c->tries++;
			pos = c->ti->v[c->at].pos;
			if (c->pat->ph != NULL) {
				r = phrase_match(c->pat->ph, c->s, c->len, pos,
				    &c->m1);
				if (r == 0)
					continue;
				if (r > 0) {
					c->m0 = pos;
					c->by_pcre2 = 0;
					return 1;
				}
				/* over its step budget: PCRE2's limits decide */
			} else if (!prefix_present(c->pat, c->s + pos,
			    c->len - pos))
				continue;	/* (what PCRE2 would say) */
			if (pcre2_match(c->pat->re, (PCRE2_SPTR)c->s, c->len,
			    pos, PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, md,
			    lex->mctx) >= 0) {
				ov = pcre2_get_ovector_pointer(md);
				c->m0 = ov[0];
				c->m1 = ov[1];
				c->by_pcre2 = 1;
				return 1;
			}
			continue;
		}
		if (c->start > c->len || c->tries >= MATCH_TRIES)
			return 0;
		if (c->tries++ == 0 && prefix_count(c->pat) > 0)
			memset(c->nx, 0, sizeof(c->nx));
		if (regex_search(c->pat, c->s, c->len, c->start, c->nx, md,
		    lex->mctx) < 0)
			return 0;	/* no match, or a limit: give up */
		ov = pcre2_get_ovector_pointer(md);
		c->m0 = ov[0];
		c->m1 = ov[1];
		c->by_pcre2 = 1;
		c->start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		while (c->start < c->len &&
		    ((unsigned char)c->s[c->start] & 0xc0) == 0x80)
			c->start++;
		return 1;
	}
	return 0;
}

/*
 * How many patterns of rule r have a non-negated match in s (the
 * evidence); off and mlen: the first one found.  Age rules note every
 * age they see.
 */
static int
rule_match(struct scan *sc, const struct rule *r, const char *s, size_t len,
    const unsigned char *bm, size_t *off, size_t *mlen)
{
	struct cursor c;
	size_t i;
	int found = 0;

	for (i = 0; i < r->npats; i++) {
		if (!pattern_may_match(&r->pats[i], bm) ||
		    !literals_present(&r->pats[i], s, len))
			continue;
		cursor_init(&c, &r->pats[i], sc->tix, bm, s, len);
		cursor_best(&c, sc);
		while (cursor_next(&c, sc->lex, sc->md)) {
			if (r->negatable && negated(sc->lex, sc->md2, s, c.m0))
				continue;
			/* (a phrase has no group: only PCRE2 finds an age) */
			if (r->sig == SIG_AGE && c.by_pcre2)
				note_age(sc, s, sc->md);
			if (!found) {
				*off = c.m0;
				*mlen = c.m1 - c.m0;
			}
			if (r->sig != SIG_AGE || !found)
				found++;
			if (r->sig != SIG_AGE)
				break;	/* next pattern */
		}
	}
	return found;
}

/* Blank out every match of mask rules (bytes -> spaces keeps UTF-8 valid
 * because matches are whole characters). */
static void
apply_masks(struct scan *sc, char *s, size_t len, const unsigned char *bm)
{
	struct cursor c;
	size_t i, j;

	for (i = 0; i < sc->lex->nrules; i++) {
		const struct rule *r = &sc->lex->rules[i];

		if (r->sig != SIG_MASK)
			continue;
		for (j = 0; j < r->npats; j++) {
			if (!pattern_may_match(&r->pats[j], bm) ||
			    !literals_present(&r->pats[j], s, len))
				continue;
			cursor_init(&c, &r->pats[j], sc->tix, bm, s, len);
			cursor_best(&c, sc);
			while (cursor_next(&c, sc->lex, sc->md))
				memset(s + c.m0, ' ', c.m1 - c.m0);
		}
	}
}

void
scan_text(struct scan *sc, char *s, size_t len, int body)
{
	unsigned char bm[(BITMAP_BITS + 7) / 8];
	struct tokindex ti;
	size_t i, off = 0, mlen = 0;
	int n;

	memset(bm, 0, sizeof(bm));
	tokindex_build(&ti, bm, s, len);
	sc->tix = &ti;
	sc->nord = ti.n > 0 ? ti.v[ti.n - 1].ord + 1 : 0;
	if (sc->nord > sc->mark_cap) {
		sc->mark_cap = sc->nord;
		sc->mark = xreallocarray(sc->mark, sc->mark_cap,
		    sizeof(*sc->mark));
	}
	if (sc->nord > 0)
		memset(sc->mark, 0, sc->nord * sizeof(*sc->mark));
	sc->stamp = 0;
	apply_masks(sc, s, len, bm);
	for (i = 0; i < sc->lex->nrules; i++) {
		const struct rule *r = &sc->lex->rules[i];
		struct hit *h = &sc->hits[i];
		int score;

		if (r->sig == SIG_MASK)
			continue;
		if (r->lang >= 0 && !sc->li->present[r->lang])
			continue;
		if ((n = rule_match(sc, r, s, len, bm, &off, &mlen)) == 0)
			continue;
		/* more phrases of one rule: more evidence, up to two more */
		score = (body ? 2 * r->weight : r->weight) +
		    (n > 3 ? 2 : n - 1) * r->weight;
		if (score > h->score) {
			h->score = score;
			h->off = off;
			h->len = mlen;
			h->in_body = body;
		}
	}
	sc->tix = NULL;
	tokindex_free(&ti);
}


size_t
lexicon_check_phrases(const struct lexicon *lex, const char *text,
    size_t len, size_t *tries)
{
	pcre2_match_data *md;
	struct buf b;
	size_t i, j, pos, end, bad = 0;
	int rc, r;

	*tries = 0;
	md = pcre2_match_data_create(4, NULL);
	if (md == NULL)
		return 1;
	buf_init(&b, 0);
	normalise(&b, text, len, lex->max_text, 1);
	for (i = 0; i < lex->nrules; i++)
		for (j = 0; j < lex->rules[i].npats; j++) {
			const struct pattern *pat = &lex->rules[i].pats[j];

			if (pat->ph == NULL)
				continue;
			for (pos = 0; pos < b.len; pos++) {
				/* a word start: where the cursor tries */
				if (pos > 0 &&
				    key_char((unsigned char)b.data[pos - 1]))
					continue;
				(*tries)++;
				rc = pcre2_match(pat->re, (PCRE2_SPTR)b.data,
				    b.len, pos, PCRE2_ANCHORED |
				    PCRE2_NO_UTF_CHECK, md, lex->mctx);
				r = phrase_match(pat->ph, b.data, b.len, pos,
				    &end);
				if (r < 0)
					continue;	/* PCRE2 decides then */
				if ((rc >= 0) != (r > 0) || (rc >= 0 &&
				    pcre2_get_ovector_pointer(md)[1] != end))
					bad++;
			}
		}
	buf_free(&b);
	pcre2_match_data_free(md);
	return bad;
}
