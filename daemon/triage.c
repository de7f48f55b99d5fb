/* SPDX-License-Identifier: MIT */
/*
 * triage.c: a parsed message -> call type, urgency, flags, language and a
 * rationale, driven by the lexicon (conf/triage.conf, see
 * doc/interfaces.md "intake classify and the triage lexicon").
 *
 * Text is first normalised (lower case, Latin accents stripped, Cyrillic
 * lower-cased, typographic quotes and dashes made ASCII, white space
 * collapsed, quoted reply lines dropped) so that lexicon phrases are written
 * once in folded form.  Phrases are translated to PCRE2 patterns (UTF, UCP,
 * caseless, no JIT: systemd's MemoryDenyWriteExecute forbids it) with match
 * and depth limits.  Each phrase also yields a short literal key; a bitmap
 * of the token prefixes of the message lets most phrases be skipped without
 * running the regex at all, which keeps classification fast.
 *
 * Rules feed signals (the six human types plus cues such as "indicator",
 * "self", "observer", "danger"); triage_decide() combines them with the
 * hotline's bias: between crisis and anything else, crisis; between urgent
 * and routine, urgent.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>
#include <pcre2.h>

#include "phrase.h"
#include "triage.h"
#include "triage_p.h"
#include "util.h"

/* Signals; the first six are enum call_type's human types, in order. */
enum sig {
	SIG_CRISIS, SIG_TIP, SIG_TTA, SIG_REFERRAL, SIG_INFO, SIG_RELATED,
	SIG_INDICATOR,	/* trafficking indicator: crisis from/for, tip by observer */
	SIG_SELF,	/* the writer is the person in trouble */
	SIG_BEHALF,	/* writing for a specific person they are in contact with */
	SIG_OBSERVER,	/* reporting strangers, places, patterns */
	SIG_MINOR,
	SIG_DANGER,
	SIG_SAFE,	/* stated to be safe / out: cancels danger */
	SIG_URGENT,
	SIG_NOTURGENT,	/* "no rush": cancels urgent cues */
	SIG_AUTOMATED,	/* auto-reply, bounce, marketing, phishing wording */
	SIG_BULK,	/* a bulk-mail footer: like a List-Unsubscribe header */
	SIG_AGE,	/* regex with group 1 = an age in years */
	SIG_MASK,	/* blanked out before other rules ("level of a 12-year-old") */
	SIG__COUNT
};

static const char *const sig_names[SIG__COUNT] = {
	"crisis", "tip", "tta", "referral", "info", "related", "indicator",
	"self", "behalf", "observer", "minor", "danger", "safe", "urgent",
	"not-urgent", "automated", "bulk", "age", "mask",
};

#define LEX_MAX_LANGS		32
#define LEX_MAX_KEYS		64
#define KEY_SPACE		(37u * 37u * 37u)
#define KEY_HASH		0x80000000u	/* a whole word longer than 3 */
#define BITMAP_BITS		(KEY_SPACE + 65536)
#define RATIONALE_MAX		16
#define RATIONALE_QUOTE		60
#define NEG_WINDOW		48
#define MATCH_TRIES		16

enum script {
	SCR_LATIN, SCR_HAN, SCR_KANA, SCR_HANGUL, SCR_THAI, SCR_CYRILLIC,
	SCR_ARABIC, SCR_HEBREW, SCR_DEVANAGARI, SCR_ETHIOPIC, SCR_GREEK,
	SCR_OTHER, SCR__COUNT
};

static const char *const script_names[SCR__COUNT] = {
	"latin", "han", "kana", "hangul", "thai", "cyrillic", "arabic",
	"hebrew", "devanagari", "ethiopic", "greek", "other",
};

/* ISO 639-1 guess for a script no lexicon language claims. */
static const char *const script_lang[SCR__COUNT] = {
	"und", "zh", "ja", "ko", "th", "ru", "ar", "he", "hi", "am", "el", "und",
};

struct litset;

struct pattern {
	/* hot fields first: the prefilter reads nkeys and kbits of every
	 * pattern for every text, and the arrays make this struct 1 KB */
	int		 nkeys;			/* 0: no prefilter */
	int		 anchored;		/* tried only at fkeys tokens */
	int		 nfkeys;
	int		 nskeys;		/* 0: no second-word check */
	int		 span;			/* most text tokens it covers */
	int		 keys_first;		/* keys are its fkeys */
	uint64_t	 sbloom;		/* bit (key & 63) of each skey */
	pcre2_code	*re;
	struct phrase	*ph;		/* the same regex, matched by phrase.c */
	char		**lits;		/* raw regex: one must occur (owned) */
	size_t		*litlens;
	int		 nlits;		/* 0: no such filter */
	struct litset	*prefix;	/* raw regex tried at tokens: a match
					 * starts with one of these (owned) */
	uint32_t	 kbits[LEX_MAX_KEYS];	/* keys' bits in a text's bitmap */
	uint32_t	 keys[LEX_MAX_KEYS];	/* token keys, any one must occur */
	uint32_t	 fkeys[LEX_MAX_KEYS];	/* keys of the first word */
	uint32_t	 skeys[LEX_MAX_KEYS];	/* keys of the word after it */
};

struct rule {
	enum sig	 sig;
	int		 weight;
	int		 lang;		/* index in langs, -1: any */
	int		 negatable;
	char		*label;
	struct pattern	*pats;
	size_t		 npats;
};

struct lang {
	char		 code[4];
	int		 full;		/* reads well enough: no interpreter */
	enum script	 script;
	char		**stop;		/* folded, sorted */
	size_t		 nstop;
};

/* Every stop word once, with the languages it belongs to. */
struct stopword {
	char		*word;
	uint32_t	 langs;		/* bit i: lex->langs[i] */
};

struct lexicon {
	struct stopword	*stops;		/* sorted by word */
	size_t		 nstops;
	uint32_t	*stopslot;	/* open addressing: index + 1, 0 free */
	uint32_t	 stopmask;	/* slots - 1 */
	struct rule	*rules;
	size_t		 nrules;
	struct lang	 langs[LEX_MAX_LANGS];
	size_t		 nlangs;
	pcre2_code	*negator;
	pcre2_match_context *mctx;
	size_t		 max_text;
	struct triage_model *model;	/* NULL: the rules alone */
};

/* ---- normalisation ---------------------------------------------------- */

/* Latin letters to lower-case ASCII (NFD base letter; generated with
 * Python's unicodedata; "" = not folded). U+00C0..U+024F and U+1E00..U+1EFF. */
static const char *const fold_latin[0x24f - 0xc0 + 1] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "",
	"o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a",
	"a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u",
	"u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c",
	"c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e",
	"e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
	"g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i",
	"i", "i", "i", "i", "i", "i", "ij", "ij", "j", "j", "k", "k",
	"k", "l", "l", "l", "l", "l", "l", "", "", "l", "l", "n",
	"n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
	"o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s",
	"s", "s", "s", "s", "s", "s", "t", "t", "t", "t", "t", "t",
	"u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
	"w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
	"b", "", "", "b", "", "", "", "", "c", "", "", "",
	"", "", "", "", "", "", "f", "", "", "", "", "",
	"", "k", "", "", "", "", "", "", "o", "o", "", "",
	"", "p", "", "", "", "", "", "", "", "", "", "u",
	"u", "", "", "", "y", "", "z", "", "", "", "", "",
	"", "", "", "", "", "", "", "", "dz", "dz", "dz", "lj",
	"lj", "lj", "nj", "nj", "nj", "a", "a", "i", "i", "o", "o", "u",
	"u", "u", "u", "u", "u", "u", "u", "u", "u", "", "a", "a",
	"a", "a", "", "", "g", "g", "g", "g", "k", "k", "o", "o",
	"o", "o", "", "", "j", "dz", "dz", "dz", "g", "g", "", "",
	"n", "n", "a", "a", "", "", "", "", "a", "a", "a", "a",
	"e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o",
	"r", "r", "r", "r", "u", "u", "u", "u", "s", "s", "t", "t",
	"", "", "h", "h", "", "", "", "", "", "", "a", "a",
	"e", "e", "o", "o", "o", "o", "o", "o", "o", "o", "y", "y",
	"", "", "", "", "", "", "", "", "", "", "", "",
	"", "", "", "", "", "", "", "", "", "", "", "",
	"", "", "", "",
};
static const char *const fold_latin_ext_add[0x1eff - 0x1e00 + 1] = {
	"a", "a", "b", "b", "b", "b", "b", "b", "c", "c", "d", "d",
	"d", "d", "d", "d", "d", "d", "d", "d", "e", "e", "e", "e",
	"e", "e", "e", "e", "e", "e", "f", "f", "g", "g", "h", "h",
	"h", "h", "h", "h", "h", "h", "h", "h", "i", "i", "i", "i",
	"k", "k", "k", "k", "k", "k", "l", "l", "l", "l", "l", "l",
	"l", "l", "m", "m", "m", "m", "m", "m", "n", "n", "n", "n",
	"n", "n", "n", "n", "o", "o", "o", "o", "o", "o", "o", "o",
	"p", "p", "p", "p", "r", "r", "r", "r", "r", "r", "r", "r",
	"s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t",
	"t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u",
	"u", "u", "u", "u", "v", "v", "v", "v", "w", "w", "w", "w",
	"w", "w", "w", "w", "w", "w", "x", "x", "x", "x", "y", "y",
	"z", "z", "z", "z", "z", "z", "h", "t", "w", "y", "", "",
	"", "", "", "", "a", "a", "a", "a", "a", "a", "a", "a",
	"a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
	"a", "a", "a", "a", "e", "e", "e", "e", "e", "e", "e", "e",
	"e", "e", "e", "e", "e", "e", "e", "e", "i", "i", "i", "i",
	"o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o",
	"o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o",
	"u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
	"u", "u", "y", "y", "y", "y", "y", "y", "y", "y", "", "",
	"", "", "", "",
};

static int
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return -1;
	if ((size_t)n > len)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

/*
 * The normaliser's output: never longer than its input plus one byte
 * (every fold maps a character to at most as many bytes), so it is
 * allocated once and written without checks.
 */
struct out {
	char	*p;
	size_t	 n;
};

static void
out_cp(struct out *o, uint32_t c)
{
	if (c < 0x80) {
		o->p[o->n++] = (char)c;
	} else if (c < 0x800) {
		o->p[o->n++] = (char)(0xc0 | (c >> 6));
		o->p[o->n++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		o->p[o->n++] = (char)(0xe0 | (c >> 12));
		o->p[o->n++] = (char)(0x80 | ((c >> 6) & 0x3f));
		o->p[o->n++] = (char)(0x80 | (c & 0x3f));
	} else {
		o->p[o->n++] = (char)(0xf0 | (c >> 18));
		o->p[o->n++] = (char)(0x80 | ((c >> 12) & 0x3f));
		o->p[o->n++] = (char)(0x80 | ((c >> 6) & 0x3f));
		o->p[o->n++] = (char)(0x80 | (c & 0x3f));
	}
}

static int
is_space_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v' || c == 0xa0 || c == 0x2028 || c == 0x2029 ||
	    (c >= 0x2000 && c <= 0x200b) || c == 0x3000 || c == 0xfeff;
}

/* Folded form of code point c appended to b (a lower-case ASCII string for
 * Latin letters). */
static void
fold_cp(struct out *b, uint32_t c)
{
	const char *f = NULL;

	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c < 0x80) {
		b->p[b->n++] = (char)c;
		return;
	}
	if (c >= 0xc0 && c <= 0x24f)
		f = fold_latin[c - 0xc0];
	else if (c >= 0x1e00 && c <= 0x1eff)
		f = fold_latin_ext_add[c - 0x1e00];
	if (f != NULL && *f != '\0') {
		while (*f != '\0')
			b->p[b->n++] = *f++;
		return;
	}
	switch (c) {
	case 0x2018: case 0x2019: case 0x201b: case 0x2032: case 0x02bc:
		b->p[b->n++] = '\'';
		return;
	case 0x201c: case 0x201d: case 0x201e: case 0x00ab: case 0x00bb:
		b->p[b->n++] = '"';
		return;
	case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
	case 0x2212:
		b->p[b->n++] = '-';
		return;
	case 0x0401:
		c = 0x0435;	/* Ё -> е */
		break;
	case 0x0451:
		c = 0x0435;
		break;
	default:
		if (c >= 0x0410 && c <= 0x042f)
			c += 0x20;
		else if (c >= 0x0400 && c <= 0x040f)
			c += 0x50;
		else if (c >= 0xff21 && c <= 0xff3a)	/* fullwidth A-Z */
			c = c - 0xff21 + 'a';
		else if (c >= 0xff41 && c <= 0xff5a)
			c = c - 0xff41 + 'a';
		else if (c >= 0xff10 && c <= 0xff19)
			c = c - 0xff10 + '0';
		break;
	}
	if (c < 0x80)
		b->p[b->n++] = (char)c;
	else
		out_cp(b, c);
}

/*
 * Normalise at most max input bytes of s into valid UTF-8: folded, white
 * space collapsed to one space, lines starting with '>' (quoted replies)
 * dropped when drop_quoted.  Invalid bytes become spaces.
 */
static void
normalise(struct buf *b, const char *s, size_t len, size_t max, int drop_quoted)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int at_bol = 1, space = 1;
	uint32_t c;
	int n;
	struct out o;

	if (len > max)
		len = max;
	o.p = xmalloc(len + 8);
	o.n = 0;
	while (i < len) {
		/* fast path: a run of plain ASCII letters, digits or
		 * punctuation */
		if (!at_bol && p[i] > 0x20 && p[i] < 0x7f) {
			/* (locals: stores through o.p could alias o.n) */
			char *w = o.p + o.n;
			size_t k = i;

			do {
				*w++ = (char)(p[k] >= 'A' && p[k] <= 'Z' ?
				    p[k] + ('a' - 'A') : p[k]);
				k++;
			} while (k < len && p[k] > 0x20 && p[k] < 0x7f);
			o.n += k - i;
			i = k;
			space = 0;
			continue;
		}
		/* and a blank within a line (what the slow path does) */
		if (!at_bol && (p[i] == ' ' || p[i] == '\t')) {
			if (!space)
				o.p[o.n++] = ' ';
			space = 1;
			i++;
			continue;
		}
		if (at_bol && drop_quoted) {
			size_t j = i;

			while (j < len && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j < len && p[j] == '>') {
				while (j < len && p[j] != '\n')
					j++;
				i = j;
				continue;
			}
		}
		at_bol = 0;
		n = utf8_decode(p + i, len - i, &c);
		if (n < 0) {
			c = ' ';
			n = 1;
		}
		i += (size_t)n;
		if (c == '\n')
			at_bol = 1;
		if (c == 0 || is_space_cp(c) || (c < 0x20) ||
		    (c >= 0x7f && c < 0xa0) || c == 0xad || c == 0x200d ||
		    c == 0xfffd) {
			if (c == 0xad || c == 0x200d)
				continue;	/* soft hyphen, ZWJ: invisible */
			if (!space)
				o.p[o.n++] = ' ';
			space = 1;
			continue;
		}
		fold_cp(&o, c);
		space = 0;
	}
	while (o.n > 0 && o.p[o.n - 1] == ' ')
		o.n--;
	o.p[o.n] = '\0';
	/* hand the bytes to the (empty) buffer */
	buf_free(b);
	b->data = o.p;
	b->len = o.n;
	b->cap = len + 8;
	b->max = 0;
}

/* ---- token prefix keys -------------------------------------------------- */

static int
key_char(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 1;
	if (c >= '0' && c <= '9')
		return c - '0' + 27;
	return 0;
}

/* Key of the first n (1..3) characters of s (all key chars). */
static uint16_t
key_of(const char *s, int n)
{
	int k[3] = { 0, 0, 0 }, i;

	for (i = 0; i < n && i < 3; i++)
		k[i] = key_char((unsigned char)s[i]);
	return (uint16_t)(k[0] * 37 * 37 + k[1] * 37 + k[2]);
}

/* Key of a whole word (FNV-1a of its characters), tagged KEY_HASH. */
static uint32_t
word_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return KEY_HASH | (h & 0x7fffffffu);
}

/* Bit of a key: prefixes first, then 64K bits of whole-word hashes; an
 * exact short word shares its prefix's bit. */
static uint32_t
bitmap_bit(uint32_t k)
{
	if (k & KEY_HASH)
		return KEY_SPACE + (k & 0xffff);
	if (k >= KEY_SPACE)
		return k - KEY_SPACE;
	return k;
}

static void
bitmap_set(unsigned char *bm, uint32_t k)
{
	k = bitmap_bit(k);
	bm[k >> 3] |= (unsigned char)(1u << (k & 7));
}

static int
bitmap_has(const unsigned char *bm, uint32_t k)
{
	k = bitmap_bit(k);
	return (bm[k >> 3] >> (k & 7)) & 1;
}

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
static int
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
#define LIT_MAX		32

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

static void
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
static void
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
static int
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

/* Fill pat->lits from src (compiled with options); none when unsure. */
static void
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
static int
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

/* ---- loading ------------------------------------------------------------ */

/*
 * Raw regexes: UTF, Unicode properties, caseless.  Phrases match text that
 * is already folded (lower case, Latin letters ASCII), so they are compiled
 * without UCP and caseless matching: ASCII \w, several times faster in the
 * interpreter.  Neither uses the JIT.
 */
#define RE_OPTIONS	(PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NO_UTF_CHECK)
#define PHRASE_OPTIONS	0

/*
 * A raw regex in lower-case ASCII (the age and time patterns) needs
 * neither UTF, Unicode properties nor caseless matching on folded text:
 * like phrases it runs byte-wise, several times faster.
 */
static uint32_t
regex_options(const char *src)
{
	const unsigned char *p;

	for (p = (const unsigned char *)src; *p != '\0'; p++)
		if (*p >= 0x80 || (*p >= 'A' && *p <= 'Z' && (p == (const
		    unsigned char *)src || p[-1] != '\\')))
			return RE_OPTIONS;
	return PHRASE_OPTIONS;
}

static pcre2_code *
compile(const char *src, uint32_t options, char *msg, size_t msglen)
{
	pcre2_code *re;
	int code;
	PCRE2_SIZE off;

	re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, options,
	    &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR m[160];

		pcre2_get_error_message(code, m, sizeof(m));
		snprintf(msg, msglen, "bad pattern at offset %zu: %s", (size_t)off,
		    (char *)m);
	}
	return re;
}

static int
sig_parse(const char *s, enum sig *out)
{
	int i;

	for (i = 0; i < SIG__COUNT; i++)
		if (strcmp(s, sig_names[i]) == 0) {
			*out = (enum sig)i;
			return 0;
		}
	return -1;
}

static void
set_err(char *err, size_t errlen, const char *file, int line, const char *fmt,
    const char *arg)
{
	char what[256];

	snprintf(what, sizeof(what), fmt, arg ? arg : "");
	snprintf(err, errlen, "%s:%d: %s", file, line, what);
}

static char *
fold_str(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	normalise(&b, s, strlen(s), SIZE_MAX, 0);
	return buf_steal(&b);
}

static int
stop_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
lang_find(const struct lexicon *lex, const char *code)
{
	size_t i;

	for (i = 0; i < lex->nlangs; i++)
		if (strcmp(lex->langs[i].code, code) == 0)
			return (int)i;
	return -1;
}

static int
stopword_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stopword *)a)->word,
	    ((const struct stopword *)b)->word);
}

/* One sorted table of every language's stop words (one lookup a token). */
static void
stops_merge(struct lexicon *lex)
{
	size_t i, j, n = 0, total = 0;

	for (i = 0; i < lex->nlangs; i++)
		total += lex->langs[i].nstop;
	lex->stops = xcalloc(total + 1, sizeof(*lex->stops));
	for (i = 0; i < lex->nlangs; i++)
		for (j = 0; j < lex->langs[i].nstop; j++) {
			lex->stops[n].word = lex->langs[i].stop[j];
			lex->stops[n++].langs = 1u << i;
		}
	qsort(lex->stops, n, sizeof(*lex->stops), stopword_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && strcmp(lex->stops[j - 1].word, lex->stops[i].word) == 0)
			lex->stops[j - 1].langs |= lex->stops[i].langs;
		else
			lex->stops[j++] = lex->stops[i];
	}
	lex->nstops = j;
	/* a hash table over them: detect_lang() looks up 150 words a text */
	for (n = 16; n < 2 * lex->nstops; n *= 2)
		;
	lex->stopmask = (uint32_t)n - 1;
	lex->stopslot = xcalloc(n, sizeof(*lex->stopslot));
	for (i = 0; i < lex->nstops; i++) {
		const char *w = lex->stops[i].word;
		uint32_t h = word_hash(w, strlen(w)) & lex->stopmask;

		while (lex->stopslot[h] != 0)
			h = (h + 1) & lex->stopmask;
		lex->stopslot[h] = (uint32_t)i + 1;
	}
}

/* The stop word w (n bytes, NUL-terminated), or NULL. */
static const struct stopword *
stop_find(const struct lexicon *lex, const char *w, size_t n)
{
	uint32_t h = word_hash(w, n) & lex->stopmask, k;

	while ((k = lex->stopslot[h]) != 0) {
		if (strcmp(lex->stops[k - 1].word, w) == 0)
			return &lex->stops[k - 1];
		h = (h + 1) & lex->stopmask;
	}
	return NULL;
}

static int
load_langs(struct lexicon *lex, config_t *cf, const char *file, char *err,
    size_t errlen)
{
	config_setting_t *ls = config_lookup(cf, "languages"), *l, *sw;
	int i, n, j;

	if (ls == NULL || !config_setting_is_list(ls)) {
		set_err(err, errlen, file, ls ? config_setting_source_line(ls) : 1,
		    "'languages' must be a list%s", NULL);
		return -1;
	}
	n = config_setting_length(ls);
	for (i = 0; i < n; i++) {
		struct lang *lg;
		const char *code = NULL, *script = "latin";
		int full = 0, k;

		l = config_setting_get_elem(ls, (unsigned)i);
		if ((size_t)i >= LEX_MAX_LANGS || i >= 32) {
			set_err(err, errlen, file, config_setting_source_line(l),
			    "too many languages%s", NULL);
			return -1;
		}
		if (!config_setting_lookup_string(l, "code", &code) ||
		    strlen(code) < 2 || strlen(code) > 3) {
			set_err(err, errlen, file, config_setting_source_line(l),
			    "language needs a 2-letter 'code'%s", NULL);
			return -1;
		}
		config_setting_lookup_string(l, "script", &script);
		config_setting_lookup_bool(l, "full", &full);
		lg = &lex->langs[lex->nlangs];
		snprintf(lg->code, sizeof(lg->code), "%s", code);
		lg->full = full;
		for (k = 0; k < SCR__COUNT; k++)
			if (strcmp(script, script_names[k]) == 0)
				break;
		if (k == SCR__COUNT) {
			set_err(err, errlen, file, config_setting_source_line(l),
			    "unknown script '%s'", script);
			return -1;
		}
		lg->script = (enum script)k;
		lex->nlangs++;
		sw = config_setting_get_member(l, "stopwords");
		if (sw == NULL)
			continue;
		lg->nstop = (size_t)config_setting_length(sw);
		lg->stop = xcalloc(lg->nstop, sizeof(char *));
		for (j = 0; j < (int)lg->nstop; j++) {
			const char *w = config_setting_get_string_elem(sw, (unsigned)j);

			if (w == NULL) {
				set_err(err, errlen, file,
				    config_setting_source_line(sw),
				    "stopwords must be strings%s", NULL);
				lg->nstop = (size_t)j;
				return -1;
			}
			lg->stop[j] = fold_str(w);
		}
		qsort(lg->stop, lg->nstop, sizeof(char *), stop_cmp);
	}
	stops_merge(lex);
	return 0;
}

static int
load_negation(struct lexicon *lex, config_t *cf, const char *file, char *err,
    size_t errlen)
{
	config_setting_t *ns = config_lookup(cf, "negation");
	struct buf re, ph;
	struct pattern dummy;
	const char *why = NULL;
	char msg[200];
	int i, n;

	if (ns == NULL)
		return 0;
	if (!config_setting_is_array(ns) && !config_setting_is_list(ns)) {
		set_err(err, errlen, file, config_setting_source_line(ns),
		    "'negation' must be a list of words%s", NULL);
		return -1;
	}
	n = config_setting_length(ns);
	if (n == 0)
		return 0;
	/* one phrase "(w1|w2|...)": its words merged by first letter */
	buf_init(&ph, 0);
	buf_addc(&ph, '(');
	for (i = 0; i < n; i++) {
		const char *w = config_setting_get_string_elem(ns, (unsigned)i);
		char *f;

		if (w == NULL || *w == '\0' || strpbrk(w, "()|?") != NULL) {
			set_err(err, errlen, file, config_setting_source_line(ns),
			    "negation words must be plain words%s", NULL);
			buf_free(&ph);
			return -1;
		}
		f = fold_str(w);
		if (i > 0)
			buf_addc(&ph, '|');
		buf_addstr(&ph, f);
		free(f);
	}
	buf_addc(&ph, ')');
	buf_init(&re, 0);
	if (phrase_to_regex(ph.data, &re, &dummy, &why) < 0) {
		set_err(err, errlen, file, config_setting_source_line(ns), "%s",
		    why);
		buf_free(&ph);
		buf_free(&re);
		return -1;
	}
	buf_free(&ph);
	/* the negator, then at most two words, then the end of the window */
	buf_addstr(&re, "(?:\\W++\\w++){0,2}\\W*$");
	lex->negator = compile(re.data, PHRASE_OPTIONS, msg, sizeof(msg));
	buf_free(&re);
	if (lex->negator == NULL) {
		set_err(err, errlen, file, config_setting_source_line(ns), "%s", msg);
		return -1;
	}
	return 0;
}

static int
load_rule(struct lexicon *lex, config_setting_t *r, const char *file,
    char *err, size_t errlen)
{
	struct rule *ru = &lex->rules[lex->nrules];
	config_setting_t *ph, *rx;
	const char *s = NULL, *lang = NULL, *label = NULL, *fs = NULL, *ss = NULL;
	int line = config_setting_source_line(r), i, n, neg;
	struct pattern first, second;
	size_t total;

	memset(ru, 0, sizeof(*ru));
	if (!config_setting_lookup_string(r, "signal", &s)) {
		set_err(err, errlen, file, line, "rule needs a 'signal'%s", NULL);
		return -1;
	}
	if (sig_parse(s, &ru->sig) < 0) {
		set_err(err, errlen, file, line, "unknown signal '%s'", s);
		return -1;
	}
	if (!config_setting_lookup_int(r, "weight", &ru->weight))
		ru->weight = 1;
	if (ru->weight < 0 || ru->weight > 100) {
		set_err(err, errlen, file, line, "weight must be 0..100%s", NULL);
		return -1;
	}
	ru->lang = -1;
	if (config_setting_lookup_string(r, "lang", &lang) &&
	    strcmp(lang, "any") != 0) {
		ru->lang = lang_find(lex, lang);
		if (ru->lang < 0) {
			set_err(err, errlen, file, line,
			    "language '%s' not in 'languages'", lang);
			return -1;
		}
	}
	/* Danger, urgency and trafficking cues are negatable by default. */
	neg = ru->sig == SIG_DANGER || ru->sig == SIG_URGENT ||
	    ru->sig == SIG_INDICATOR || ru->sig == SIG_CRISIS ||
	    ru->sig == SIG_MINOR || ru->sig == SIG_SELF;
	config_setting_lookup_bool(r, "negatable", &neg);
	ru->negatable = neg;
	config_setting_lookup_string(r, "label", &label);
	ru->label = xstrdup(label ? label : sig_names[ru->sig]);
	ph = config_setting_get_member(r, "phrases");
	rx = config_setting_get_member(r, "regex");
	total = (size_t)(ph ? config_setting_length(ph) : 0) +
	    (size_t)(rx ? config_setting_length(rx) : 0);
	if (total == 0) {
		set_err(err, errlen, file, line,
		    "rule has no 'phrases' and no 'regex'%s", NULL);
		free(ru->label);
		return -1;
	}
	ru->pats = xcalloc(total, sizeof(*ru->pats));
	lex->nrules++;	/* from here lexicon_free() cleans up */
	n = ph ? config_setting_length(ph) : 0;
	for (i = 0; i < n; i++) {
		const char *p = config_setting_get_string_elem(ph, (unsigned)i);
		int pl = config_setting_source_line(ph);
		struct pattern *pat = &ru->pats[ru->npats];
		const char *why = NULL;
		char msg[200], *f;
		struct buf re;

		if (p == NULL) {
			set_err(err, errlen, file, pl, "phrases must be strings%s",
			    NULL);
			return -1;
		}
		f = fold_str(p);
		buf_init(&re, 0);
		if (phrase_to_regex(f, &re, pat, &why) < 0) {
			snprintf(msg, sizeof(msg), "%s: \"%.80s\"", why, p);
			set_err(err, errlen, file, pl, "%s", msg);
			free(f);
			buf_free(&re);
			return -1;
		}
		free(f);
		pat->re = compile(re.data, PHRASE_OPTIONS, msg, sizeof(msg));
		/* PCRE2 still checks the phrase; phrase.c does the matching */
		if (pat->re != NULL)
			pat->ph = phrase_compile(re.data);
		buf_free(&re);
		if (pat->re == NULL) {
			set_err(err, errlen, file, pl, "%s", msg);
			return -1;
		}
		ru->npats++;
	}
	/* "first": a phrase-syntax word or group every regex of the rule
	 * starts with, so the regexes are tried only at such tokens. */
	first.nkeys = first.nfkeys = 0;
	if (config_setting_lookup_string(r, "first", &fs)) {
		const char *why = NULL;
		char *f = fold_str(fs);
		struct buf dummy;

		buf_init(&dummy, 0);
		if (phrase_to_regex(f, &dummy, &first, &why) < 0 ||
		    !first.anchored) {
			set_err(err, errlen, file, line, "bad 'first': %s",
			    why ? why : "no word keys");
			free(f);
			buf_free(&dummy);
			return -1;
		}
		free(f);
		buf_free(&dummy);
	}
	/* "second": a word or group the token after the first must be (one
	 * byte test per try instead of a regex run) */
	second.nfkeys = 0;
	if (config_setting_lookup_string(r, "second", &ss)) {
		const char *why = NULL;
		char *f = fold_str(ss);
		struct buf dummy;

		buf_init(&dummy, 0);
		if (first.nfkeys == 0 || phrase_to_regex(f, &dummy, &second,
		    &why) < 0 || !second.anchored) {
			set_err(err, errlen, file, line, "bad 'second': %s",
			    why ? why : "needs 'first' and word keys");
			free(f);
			buf_free(&dummy);
			return -1;
		}
		free(f);
		buf_free(&dummy);
	}
	n = rx ? config_setting_length(rx) : 0;
	for (i = 0; i < n; i++) {
		const char *p = config_setting_get_string_elem(rx, (unsigned)i);
		int pl = config_setting_source_line(rx);
		struct pattern *pat = &ru->pats[ru->npats];
		char msg[200];
		uint32_t ncap = 0;

		if (p == NULL) {
			set_err(err, errlen, file, pl, "regex must be strings%s",
			    NULL);
			return -1;
		}
		pat->re = compile(p, regex_options(p), msg, sizeof(msg));
		if (pat->re == NULL) {
			set_err(err, errlen, file, pl, "%s", msg);
			return -1;
		}
		/* searched through the whole text: worth a literal check
		 * (one tried at `first` tokens only is cheap enough) */
		if (first.nfkeys == 0)
			regex_literals(pat, p, regex_options(p));
		else
			regex_prefix(pat, p, regex_options(p));
		if (first.nfkeys > 0) {
			memcpy(pat->fkeys, first.fkeys, sizeof(pat->fkeys));
			pat->nfkeys = first.nfkeys;
			memcpy(pat->keys, first.fkeys, sizeof(pat->keys));
			pat->nkeys = first.nfkeys;
			pat->anchored = 1;
		}
		if (second.nfkeys > 0) {
			memcpy(pat->skeys, second.fkeys, sizeof(pat->skeys));
			pat->nskeys = second.nfkeys;
		}
		ru->npats++;
		pcre2_pattern_info(pat->re, PCRE2_INFO_CAPTURECOUNT, &ncap);
		if (ru->sig == SIG_AGE && ncap < 1) {
			set_err(err, errlen, file, pl,
			    "an age regex needs a group capturing the number%s",
			    NULL);
			return -1;
		}
	}
	for (i = 0; i < (int)ru->npats; i++) {
		struct pattern *pat = &ru->pats[i];
		int k;

		for (k = 0; k < pat->nkeys; k++)
			pat->kbits[k] = bitmap_bit(pat->keys[k]);
		for (k = 0, pat->sbloom = 0; k < pat->nskeys; k++)
			pat->sbloom |= (uint64_t)1 << (pat->skeys[k] & 63);
		pat->keys_first = pat->nkeys == pat->nfkeys &&
		    memcmp(pat->keys, pat->fkeys, (size_t)pat->nkeys *
		    sizeof(pat->keys[0])) == 0;
	}
	return 0;
}

static struct lexicon *
lexicon_from_config(config_t *cf, const char *file, char *err, size_t errlen)
{
	struct lexicon *lex = xcalloc(1, sizeof(*lex));
	config_setting_t *rules;
	int i, n, v, version = 0;

	lex->max_text = 65536;
	if (!config_lookup_int(cf, "version", &version) || version != 1) {
		set_err(err, errlen, file, 1, "'version = 1;' expected%s", NULL);
		goto fail;
	}
	if (config_lookup_int(cf, "max_text", &v)) {
		if (v < 1024 || v > 16 * 1024 * 1024) {
			set_err(err, errlen, file,
			    config_setting_source_line(config_lookup(cf, "max_text")),
			    "max_text must be 1024..16777216%s", NULL);
			goto fail;
		}
		lex->max_text = (size_t)v;
	}
	lex->mctx = pcre2_match_context_create(NULL);
	if (lex->mctx == NULL) {
		set_err(err, errlen, file, 1, "out of memory%s", NULL);
		goto fail;
	}
	/* Bounded backtracking: a pathological message fails one pattern,
	 * not the classification. */
	pcre2_set_match_limit(lex->mctx, 200000);
	pcre2_set_depth_limit(lex->mctx, 2000);
	if (load_langs(lex, cf, file, err, errlen) < 0 ||
	    load_negation(lex, cf, file, err, errlen) < 0)
		goto fail;
	rules = config_lookup(cf, "rules");
	if (rules == NULL || !config_setting_is_list(rules)) {
		set_err(err, errlen, file, rules ? config_setting_source_line(rules) : 1,
		    "'rules' must be a list ( {...}, ... )%s", NULL);
		goto fail;
	}
	n = config_setting_length(rules);
	lex->rules = xcalloc((size_t)n + 1, sizeof(*lex->rules));
	for (i = 0; i < n; i++)
		if (load_rule(lex, config_setting_get_elem(rules, (unsigned)i),
		    file, err, errlen) < 0)
			goto fail;
	return lex;
fail:
	lexicon_free(lex);
	return NULL;
}

struct lexicon *
lexicon_load(const char *path, char *err, size_t errlen)
{
	struct lexicon *lex;
	config_t cf;

	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&cf);

		snprintf(err, errlen, "%s:%d: %s", f ? f : path,
		    config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return NULL;
	}
	lex = lexicon_from_config(&cf, path, err, errlen);
	config_destroy(&cf);
	return lex;
}

/* Generated at build time from conf/triage.conf (tools/file2c.sh). */
extern const char lexicon_builtin_text[];

struct lexicon *
lexicon_builtin(void)
{
	struct lexicon *lex;
	config_t cf;
	char err[512];

	config_init(&cf);
	if (config_read_string(&cf, lexicon_builtin_text) != CONFIG_TRUE) {
		config_destroy(&cf);
		return NULL;
	}
	lex = lexicon_from_config(&cf, "(built-in triage.conf)", err,
	    sizeof(err));
	config_destroy(&cf);
	return lex;
}

void
lexicon_free(struct lexicon *lex)
{
	size_t i, j;

	if (lex == NULL)
		return;
	triage_model_free(lex->model);
	for (i = 0; i < lex->nrules; i++) {
		for (j = 0; j < lex->rules[i].npats; j++) {
			struct pattern *pat = &lex->rules[i].pats[j];

			pcre2_code_free(pat->re);
			phrase_free(pat->ph);
			lits_free(pat);
		}
		free(lex->rules[i].pats);
		free(lex->rules[i].label);
	}
	free(lex->rules);
	free(lex->stops);	/* the words belong to langs[] */
	free(lex->stopslot);
	for (i = 0; i < lex->nlangs; i++) {
		for (j = 0; j < lex->langs[i].nstop; j++)
			free(lex->langs[i].stop[j]);
		free(lex->langs[i].stop);
	}
	pcre2_code_free(lex->negator);
	pcre2_match_context_free(lex->mctx);
	free(lex);
}

/* ---- language ----------------------------------------------------------- */

static enum script
script_of(uint32_t c)
{
	if (c < 0x250 || (c >= 0x1e00 && c <= 0x1eff))
		return SCR_LATIN;
	if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0xf900 && c <= 0xfaff))
		return SCR_HAN;
	if (c >= 0x3040 && c <= 0x30ff)
		return SCR_KANA;
	if ((c >= 0xac00 && c <= 0xd7af) || (c >= 0x1100 && c <= 0x11ff) ||
	    (c >= 0x3130 && c <= 0x318f))
		return SCR_HANGUL;
	if (c >= 0x0e00 && c <= 0x0e7f)
		return SCR_THAI;
	if (c >= 0x0400 && c <= 0x04ff)
		return SCR_CYRILLIC;
	if ((c >= 0x0600 && c <= 0x06ff) || (c >= 0x0750 && c <= 0x077f))
		return SCR_ARABIC;
	if (c >= 0x0590 && c <= 0x05ff)
		return SCR_HEBREW;
	if (c >= 0x0900 && c <= 0x097f)
		return SCR_DEVANAGARI;
	if (c >= 0x1200 && c <= 0x137f)
		return SCR_ETHIOPIC;
	if (c >= 0x0370 && c <= 0x03ff)
		return SCR_GREEK;
	return SCR_OTHER;
}

struct langinfo {
	int	 best;			/* index in lex->langs, -1 */
	char	 code[4];
	int	 present[LEX_MAX_LANGS];	/* rules of that language may apply */
};

/*
 * Script counts over the original text (letters only), then for Latin text
 * stop-word hits over the folded text.  Vietnamese letters with horn or
 * stroke (ơ ư đ, U+1EA0..) are folded away, so count them here.
 */
static void
detect_lang(const struct lexicon *lex, const char *raw, size_t rawlen,
    const char *folded, size_t flen, struct langinfo *li)
{
	size_t scr[SCR__COUNT] = { 0 }, hits[LEX_MAX_LANGS] = { 0 };
	size_t i, total = 0, viet = 0, n, most = 0, ntok;
	const struct stopword *sw;
	const unsigned char *p = (const unsigned char *)raw;
	int top_latin = -1;
	enum script top = SCR_LATIN;
	int k, len;
	uint32_t c;

	memset(li, 0, sizeof(*li));
	li->best = -1;
	for (i = 0; i < rawlen && i < 16384; i += (size_t)len) {
		if (p[i] < 0x80) {
			/* ASCII letters are Latin, and not Vietnamese */
			size_t end = rawlen < 16384 ? rawlen : 16384, nl = 0;

			for (; i < end && p[i] < 0x80; i++)
				if ((unsigned)((p[i] | 0x20) - 'a') < 26)
					nl++;
			scr[SCR_LATIN] += nl;
			total += nl;
			len = 0;
			continue;
		} else if ((len = utf8_decode(p + i, rawlen - i, &c)) < 0) {
			len = 1;
			continue;
		}
		if (c < 0x80 && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			continue;
		if (c >= 0x80 && c < 0xc0)
			continue;
		if (c >= 0x2000 && c <= 0x2bff)
			continue;	/* punctuation, symbols */
		if (c >= 0x3000 && c <= 0x303f)
			continue;	/* CJK punctuation */
		if (c >= 0xff00 && c <= 0xffef)
			continue;
		scr[script_of(c)]++;
		total++;
		if ((c >= 0x1ea0 && c <= 0x1ef9) || c == 0x1a1 || c == 0x1b0 ||
		    c == 0x111 || c == 0x110 || c == 0x1a0 || c == 0x1af)
			viet++;
	}
	for (k = 0; k < SCR__COUNT; k++)
		if (scr[k] > scr[top])
			top = (enum script)k;
	/* Han with kana is Japanese. */
	if (top == SCR_HAN && scr[SCR_KANA] * 10 > scr[SCR_HAN])
		top = SCR_KANA;
	/* stop words over the first folded ASCII tokens */
	for (i = 0, ntok = 0; i < flen && ntok < 150;) {
		char w[24];

		if (!key_char((unsigned char)folded[i]) && folded[i] != '\'') {
			i++;
			continue;
		}
		for (n = 0; i < flen && (key_char((unsigned char)folded[i]) ||
		    folded[i] == '\''); i++)
			if (n < sizeof(w) - 1)
				w[n++] = folded[i];
		w[n] = '\0';
		if (n > 8)
			continue;	/* no stop word is that long */
		ntok++;
		if (lex->stopslot == NULL ||
		    (sw = stop_find(lex, w, n)) == NULL)
			continue;
		for (k = 0; k < (int)lex->nlangs; k++)
			if ((sw->langs >> k) & 1)
				hits[k]++;
	}
	for (k = 0; k < (int)lex->nlangs; k++) {
		const struct lang *lg = &lex->langs[k];

		if (lg->script != SCR_LATIN)
			li->present[k] = scr[lg->script] > 0 ||
			    (lg->script == SCR_HAN && scr[SCR_KANA] > 0);
		if (strcmp(lg->code, "vi") == 0 && viet > 0)
			hits[k] += viet * 2;
		if (lg->script == SCR_LATIN && (hits[k] > most ||
		    (hits[k] == most && strcmp(lg->code, "en") == 0))) {
			most = hits[k];
			top_latin = k;
		}
	}
	/* Latin-script rules run for the main language and for any other
	 * with a fair share of stop words (mixed messages, Taglish); English
	 * when nothing is recognised. */
	for (k = 0; k < (int)lex->nlangs; k++) {
		const struct lang *lg = &lex->langs[k];

		if (lg->script != SCR_LATIN)
			continue;
		li->present[k] = k == top_latin || (hits[k] >= 2 &&
		    hits[k] * 4 >= most) || (most == 0 &&
		    strcmp(lg->code, "en") == 0);
	}
	snprintf(li->code, sizeof(li->code), "und");
	if (total == 0)
		return;
	if (top == SCR_LATIN) {
		int best = -1;

		for (k = 0; k < (int)lex->nlangs; k++)
			if (lex->langs[k].script == SCR_LATIN && hits[k] > 0 &&
			    (best < 0 || hits[k] > hits[best]))
				best = k;
		if (best >= 0) {
			li->best = best;
			snprintf(li->code, sizeof(li->code), "%s",
			    lex->langs[best].code);
		}
		return;
	}
	for (k = 0; k < (int)lex->nlangs; k++)
		if (lex->langs[k].script == top) {
			li->best = k;
			snprintf(li->code, sizeof(li->code), "%s",
			    lex->langs[k].code);
			return;
		}
	snprintf(li->code, sizeof(li->code), "%s", script_lang[top]);
}

/* ---- matching ----------------------------------------------------------- */

struct hit {
	int	 score;		/* weight, doubled for the body */
	size_t	 off;		/* first match in its text */
	size_t	 len;
	int	 in_body;
};

struct scan {
	const struct lexicon	*lex;
	pcre2_match_data	*md;
	const struct langinfo	*li;
	int			 sig[SIG__COUNT];
	struct hit		*hits;		/* one per rule */
	int			 min_age;	/* youngest stated age, or -1 */
	int			 max_age;
	const char		*body;
	const char		*subj;
	const struct tokindex	*tix;		/* of the text being scanned */
	pcre2_match_data	*md2;		/* for the negation check */
	uint32_t		*mark;		/* per word: stamp of a best word */
	size_t			 mark_cap;	/* owned */
	uint32_t		 nord;		/* words of the text being scanned */
	uint32_t		 stamp;
};

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
	memset(c, 0, sizeof(*c));
	c->pat = pat;
	c->ti = ti;
	c->bm = bm;
	c->s = s;
	c->len = len;
	c->key = -1;
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
		c->tries++;
		if (pcre2_match(c->pat->re, (PCRE2_SPTR)c->s, c->len, c->start,
		    PCRE2_NO_UTF_CHECK, md, lex->mctx) < 0)
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

static void
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

/* ---- decision ----------------------------------------------------------- */

static void
rationale_add(struct triage_result *res, char *s)
{
	if (res->nrationale >= RATIONALE_MAX) {
		free(s);
		return;
	}
	res->rationale = xreallocarray(res->rationale, res->nrationale + 1,
	    sizeof(char *));
	res->rationale[res->nrationale++] = s;
}

static char *
quote(const char *s, size_t len)
{
	char *q, *t;
	size_t i;

	if (len > RATIONALE_QUOTE) {
		len = RATIONALE_QUOTE;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	q = xstrndup(s, len);
	for (i = 0; q[i] != '\0'; i++)
		if (q[i] == '"')
			q[i] = '\'';
	t = utf8_sanitize(q, strlen(q));
	free(q);
	return t;
}

static const char *
header_get(const struct message *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name != NULL &&
		    strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value ? m->headers[i].value : "";
	return NULL;
}

/* 2: machine-made for sure (RFC 3834, reports), 1: list or bulk mail,
 * 0: nothing.  *why names the header. */
static int
automated_headers(const struct message *m, char *why, size_t whylen)
{
	const char *v;

	if ((v = header_get(m, "Auto-Submitted")) != NULL &&
	    strncasecmp(v, "no", 2) != 0) {
		snprintf(why, whylen, "header Auto-Submitted: %.40s", v);
		return 2;
	}
	if (m->content_type != NULL &&
	    strcasecmp(m->content_type, "multipart/report") == 0) {
		snprintf(why, whylen, "multipart/report%s%.40s",
		    m->report_type ? "; report-type=" : "",
		    m->report_type ? m->report_type : "");
		return 2;
	}
	if (m->report_type != NULL && (strcasecmp(m->report_type,
	    "delivery-status") == 0 || strcasecmp(m->report_type,
	    "disposition-notification") == 0)) {
		snprintf(why, whylen, "report-type=%.40s", m->report_type);
		return 2;
	}
	if (header_get(m, "X-Autoreply") != NULL ||
	    header_get(m, "X-Autorespond") != NULL ||
	    header_get(m, "X-Autoresponder") != NULL) {
		snprintf(why, whylen, "header X-Autoreply");
		return 2;
	}
	if (m->from_addr != NULL && (strncasecmp(m->from_addr,
	    "mailer-daemon@", 14) == 0 || strncasecmp(m->from_addr,
	    "postmaster@", 11) == 0)) {
		snprintf(why, whylen, "from %.40s", m->from_addr);
		return 2;
	}
	if ((v = header_get(m, "Precedence")) != NULL &&
	    (strcasecmp(v, "bulk") == 0 || strcasecmp(v, "list") == 0 ||
	    strcasecmp(v, "junk") == 0)) {
		snprintf(why, whylen, "header Precedence: %s", v);
		return 1;
	}
	if (header_get(m, "List-Id") != NULL) {
		snprintf(why, whylen, "header List-Id");
		return 1;
	}
	if (header_get(m, "List-Unsubscribe") != NULL) {
		snprintf(why, whylen, "header List-Unsubscribe");
		return 1;
	}
	return 0;
}

static void
explain_hits(const struct scan *sc, struct triage_result *res, int route)
{
	size_t i;

	for (i = 0; i < sc->lex->nrules; i++) {
		const struct rule *r = &sc->lex->rules[i];
		const struct hit *h = &sc->hits[i];
		const char *name = sig_names[r->sig];
		char *q;

		if (h->score == 0 || r->sig == SIG_AGE)
			continue;
		if (r->sig == SIG_INDICATOR && route >= 0)
			name = call_type_name((enum call_type)route);
		q = quote((h->in_body ? sc->body : sc->subj) + h->off, h->len);
		rationale_add(res, xasprintf("%s: \"%s\" (%s)%s", name, q,
		    r->label, h->in_body ? "" : " [subject]"));
		free(q);
	}
}

static void
decide(struct scan *sc, const struct message *m, struct triage_result *res)
{
	int *s = sc->sig, voice, best, t, hdr, urgent_cues, human, route;
	const struct lang *lg = sc->li->best >= 0 ?
	    &sc->lex->langs[sc->li->best] : NULL;
	char why[128];

	/* Ages: a stated age under 18 is a minor; a stated adult age beats
	 * looks ("young girl") unless several strong cues say otherwise. */
	if (sc->min_age >= 0 && sc->min_age < 18) {
		s[SIG_MINOR] += 6;
		rationale_add(res, xasprintf("minor: stated age %d", sc->min_age));
	} else if (sc->max_age >= 18 && s[SIG_MINOR] < 16) {
		s[SIG_MINOR] = 0;
		rationale_add(res, xasprintf("adult: stated age %d", sc->max_age));
	}

	/* Automated mail.  Machine headers (RFC 3834, reports) always win:
	 * no human sends those.  List and bulk headers, or automated wording
	 * alone, lose to a human voice asking for help: first-person or
	 * on-behalf distress with trafficking or danger cues that outweigh the
	 * automated wording. */
	hdr = automated_headers(m, why, sizeof(why));
	if (hdr == 0 && s[SIG_BULK] >= 8) {
		hdr = 1;
		snprintf(why, sizeof(why), "a bulk-mail footer");
	}
	voice = s[SIG_SELF] + s[SIG_BEHALF];
	human = voice > 0 ? voice + s[SIG_INDICATOR] + s[SIG_DANGER] +
	    s[SIG_CRISIS] : 0;
	if (hdr == 2 || (hdr == 1 && human < 12 + s[SIG_AUTOMATED]) ||
	    (hdr == 0 && s[SIG_AUTOMATED] >= 8 &&
	    s[SIG_AUTOMATED] >= 2 * (human + s[SIG_TIP] + s[SIG_REFERRAL] +
	    s[SIG_TTA] + s[SIG_INFO] + s[SIG_RELATED] + s[SIG_CRISIS] +
	    s[SIG_OBSERVER] + s[SIG_INDICATOR] / 2))) {
		res->type = CT_AUTOMATED;
		res->automated = 1;
		res->urgency = URG_NONE;
		if (hdr)
			rationale_add(res, xasprintf("automated: %s", why));
		explain_hits(sc, res, -1);
		return;
	}
	if (hdr)
		rationale_add(res, xasprintf("not automated despite %s: a person "
		    "asking for help", why));

	/* Trafficking indicators: crisis when the writer is, or writes for,
	 * the person concerned; a tip from an observer.  Danger likewise. */
	route = CT_TIP;
	if (voice > 0 && voice >= s[SIG_OBSERVER])
		route = CT_CRISIS;
	if (route == CT_CRISIS && s[SIG_SAFE] > 0 && s[SIG_DANGER] == 0) {
		/* out and safe now: the indicators are history */
		s[SIG_CRISIS] += s[SIG_INDICATOR] / 3;
	} else if (voice == 0 && s[SIG_OBSERVER] == 0) {
		/* nobody seen and nobody speaking for anyone: a topic */
		s[CT_TIP] += s[SIG_INDICATOR] / 2;
	} else
		s[route] += s[SIG_INDICATOR];
	/* Danger makes trafficking more pressing; violence alone (domestic
	 * violence, assault) is out of scope. */
	if (s[SIG_DANGER] > s[SIG_SAFE] && s[SIG_INDICATOR] >= 6)
		s[route] += s[SIG_DANGER];
	/* An observer reporting danger to someone or a child at risk, with
	 * no trafficking words: still a tip, the definition's "suspicious
	 * behaviour". */
	if (s[SIG_INDICATOR] < 6 && s[SIG_OBSERVER] >= voice) {
		if (s[SIG_DANGER] > s[SIG_SAFE])
			s[CT_TIP] += s[SIG_DANGER];
		if (s[SIG_MINOR] >= 6)
			s[CT_TIP] += 4;
	}
	/* A specific child in an exploitative situation, told by someone
	 * responsible for them, is crisis even without an emergency. */
	if (s[SIG_MINOR] >= 6 && s[SIG_BEHALF] > 0 && s[SIG_INDICATOR] > 0)
		s[SIG_CRISIS] += 4;

	best = CT_RELATED;
	for (t = CT_CRISIS; t <= CT_RELATED; t++)
		if (s[t] > s[best])
			best = t;
	if (s[best] == 0 && voice > 0 && (s[SIG_URGENT] > 0 ||
	    s[SIG_DANGER] > s[SIG_SAFE])) {
		/* nothing typed, but a person in trouble now */
		res->type = CT_CRISIS;
		rationale_add(res, xstrdup("crisis: a person asking for help "
		    "now, nothing else recognised"));
	} else if (s[best] == 0) {
		res->type = CT_RELATED;
		rationale_add(res, xstrdup("related: no rule fired"));
	} else
		res->type = (enum call_type)best;
	/* Bias: a missed crisis is far worse than a false alarm. */
	if (res->type != CT_CRISIS && s[CT_CRISIS] >= 8 &&
	    s[CT_CRISIS] + 3 >= s[best]) {
		rationale_add(res, xasprintf("crisis: close to %s (%d vs %d), "
		    "crisis preferred", call_type_name(res->type), s[CT_CRISIS],
		    s[best]));
		res->type = CT_CRISIS;
	}

	/* Referrals are for trafficking survivors: an out-of-scope topic
	 * (domestic violence, assault, immigration) with no trafficking cue is
	 * related, even when the writer asks for a service. */
	if (res->type == CT_REFERRAL && s[SIG_INDICATOR] == 0 &&
	    s[SIG_SAFE] == 0 && s[CT_RELATED] >= 8) {
		rationale_add(res, xstrdup("related: a service outside "
		    "trafficking"));
		res->type = CT_RELATED;
	}
	/* a tie goes to danger: "I got away last month" does not outweigh
	 * "he is coming to get me tonight" */
	res->danger = s[SIG_DANGER] > 0 && s[SIG_DANGER] >= s[SIG_SAFE];
	res->minor = s[SIG_MINOR] >= 6 && res->type != CT_INFO &&
	    res->type != CT_TTA;

	/* A language no full lexicon reads: a person must read it soon. */
	if (lg == NULL || !lg->full) {
		res->needs_interpreter = 1;
		/* "clearly": a strong score, and a tip needs an observer
		 * (control words alone may be the writer's own story) */
		if (lg == NULL || s[best] < 8 || s[CT_CRISIS] >= s[best] ||
		    (res->type == CT_TIP && s[SIG_OBSERVER] == 0)) {
			if (res->type != CT_CRISIS)
				rationale_add(res, xasprintf("crisis: language "
				    "'%s' not read well, no clear other type",
				    sc->li->code));
			res->type = CT_CRISIS;
		}
	}

	urgent_cues = s[SIG_NOTURGENT] > 0 ? 0 : s[SIG_URGENT];
	switch (res->type) {
	case CT_CRISIS:
		res->urgency = URG_URGENT;
		break;
	case CT_TIP:
		res->urgency = res->danger || res->minor || urgent_cues >= 4 ?
		    URG_URGENT : URG_ROUTINE;
		break;
	case CT_REFERRAL:
		res->urgency = urgent_cues >= 4 || res->danger ? URG_URGENT :
		    URG_ROUTINE;
		break;
	case CT_TTA:
		res->urgency = urgent_cues >= 6 ? URG_URGENT : URG_ROUTINE;
		break;
	default:
		res->urgency = URG_ROUTINE;
		break;
	}
	if (res->needs_interpreter)
		res->urgency = URG_URGENT;
	res->urgency = urgency_effective(res->type, res->urgency);
	explain_hits(sc, res, route);
}

/* What the rules saw, for the model (triage_p.h). */
static void
evidence(const struct scan *sc, const struct triage_result *res,
    const struct message *m, const char **hits, struct triage_evidence *ev)
{
	const int *s = sc->sig;
	char why[128];
	size_t i;

	memset(ev, 0, sizeof(*ev));
	ev->subj = sc->subj;
	ev->body = sc->body;
	ev->sig = sc->sig;
	ev->sig_names = sig_names;
	ev->nsig = SIG_AGE;		/* age and mask are not evidence */
	for (i = 0; i < sc->lex->nrules; i++)
		if (sc->hits[i].score != 0 && sc->lex->rules[i].sig < SIG_AGE)
			hits[ev->nhits++] = sc->lex->rules[i].label;
	ev->hits = hits;
	ev->hdr = automated_headers(m, why, sizeof(why));
	ev->lang_full = sc->li->best >= 0 && sc->lex->langs[sc->li->best].full;
	/* The rules' safety override: a person in danger or confined who
	 * speaks for themselves, or for a child in their care. */
	ev->decisive = res->type == CT_CRISIS && (s[SIG_SELF] > 0 ||
	    (s[SIG_BEHALF] > 0 && s[SIG_MINOR] >= 6)) && (res->danger ||
	    s[SIG_INDICATOR] >= 6);
	ev->rules = res;
}

static int
classify(const struct lexicon *lex, const struct message *m,
    struct triage_result *res,
    void (*cb)(const struct triage_evidence *, void *), void *arg)
{
	struct scan sc;
	struct buf body, subj;
	const char *text = m->text ? m->text : "";
	size_t tlen = m->text ? m->text_len : 0;

	memset(res, 0, sizeof(*res));
	res->type = CT_UNCLASSIFIED;
	snprintf(res->lang, sizeof(res->lang), "und");
	if (lex == NULL)
		return -1;
	memset(&sc, 0, sizeof(sc));
	sc.lex = lex;
	sc.min_age = -1;
	sc.max_age = -1;
	sc.md = pcre2_match_data_create(4, NULL);
	sc.md2 = pcre2_match_data_create(1, NULL);
	if (sc.md == NULL || sc.md2 == NULL) {
		pcre2_match_data_free(sc.md);
		pcre2_match_data_free(sc.md2);
		return -1;
	}
	sc.hits = xcalloc(lex->nrules + 1, sizeof(*sc.hits));
	buf_init(&body, 0);
	buf_init(&subj, 0);
	normalise(&body, text, tlen, lex->max_text, 1);
	normalise(&subj, m->subject ? m->subject : "",
	    m->subject ? strlen(m->subject) : 0, 4096, 0);

	{
		struct langinfo li;
		struct buf raw, both;
		size_t i;

		/* language from the subject and the start of the body */
		buf_init(&raw, 0);
		buf_init(&both, 0);
		buf_addstr(&raw, m->subject ? m->subject : "");
		buf_addc(&raw, '\n');
		buf_add(&raw, text, tlen > 16384 ? 16384 : tlen);
		buf_addstr(&both, subj.data);
		buf_addc(&both, ' ');
		buf_add(&both, body.data, body.len > 16384 ? 16384 : body.len);
		detect_lang(lex, raw.data, raw.len, both.data, both.len, &li);
		buf_free(&raw);
		buf_free(&both);
		sc.li = &li;
		sc.body = body.data;
		sc.subj = subj.data;
		scan_text(&sc, subj.data, subj.len, 0);
		scan_text(&sc, body.data, body.len, 1);
		for (i = 0; i < lex->nrules; i++)
			sc.sig[lex->rules[i].sig] += sc.hits[i].score;
		snprintf(res->lang, sizeof(res->lang), "%s", li.code);
		decide(&sc, m, res);
		if (cb != NULL || lex->model != NULL) {
			struct triage_evidence ev;
			const char **hits = xcalloc(lex->nrules + 1,
			    sizeof(*hits));

			evidence(&sc, res, m, hits, &ev);
			if (cb != NULL)
				cb(&ev, arg);
			else
				triage_model_apply(lex->model, &ev, res);
			free(hits);
		}
		sc.li = NULL;
	}
	buf_free(&body);
	buf_free(&subj);
	free(sc.hits);
	pcre2_match_data_free(sc.md);
	pcre2_match_data_free(sc.md2);
	free(sc.mark);
	return 0;
}

int
triage_classify(const struct lexicon *lex, const struct message *m,
    struct triage_result *res)
{
	return classify(lex, m, res, NULL, NULL);
}

int
triage_evidence_of(const struct lexicon *lex, const struct message *m,
    void (*cb)(const struct triage_evidence *, void *), void *arg)
{
	struct triage_result res;
	int rc;

	rc = classify(lex, m, &res, cb, arg);
	triage_result_free(&res);
	return rc;
}

void
lexicon_set_model(struct lexicon *lex, struct triage_model *model)
{
	triage_model_free(lex->model);
	lex->model = model;
}

const struct triage_model *
lexicon_model(const struct lexicon *lex)
{
	return lex->model;
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

void
triage_result_free(struct triage_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nrationale; i++)
		free(res->rationale[i]);
	free(res->rationale);
	res->rationale = NULL;
	res->nrationale = 0;
}
