/* SPDX-License-Identifier: MIT */
/*
 * triage_p.h: private to the triage_* family: triage.c (the decision and
 * triage_classify()), triage_norm.c (normalisation), triage_phrase.c (the
 * phrase compiler and matcher), triage_regex.c (the filters of raw
 * regexes), triage_lexicon.c (the lexicon loader), triage_lang.c
 * (language detection), triage_match.c (the rules run over a text) and
 * triage_model.c (the learned model); and their unit tests.  The public
 * interface is include/triage.h.
 *
 * What the rules hand the model: the normalised text, the signal sums,
 * the rules' own decision, and whether the language is one the lexicon
 * reads well.
 */
#ifndef INTAKE_TRIAGE_P_H
#define INTAKE_TRIAGE_P_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <stddef.h>
#include <stdint.h>

#include <pcre2.h>

#include "triage.h"

struct buf;
struct fvec;
struct litset;
struct tokindex;

/* ---- the lexicon's types (its loader: triage_lexicon.c) ----------------- */

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

/* ---- token prefix keys (the index of a text: triage_match.c) ------------ */

static inline int
key_char(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 1;
	if (c >= '0' && c <= '9')
		return c - '0' + 27;
	return 0;
}

/* Key of the first n (1..3) characters of s (all key chars). */
static inline uint16_t
key_of(const char *s, int n)
{
	int k[3] = { 0, 0, 0 }, i;

	for (i = 0; i < n && i < 3; i++)
		k[i] = key_char((unsigned char)s[i]);
	return (uint16_t)(k[0] * 37 * 37 + k[1] * 37 + k[2]);
}

/* Key of a whole word (FNV-1a of its characters), tagged KEY_HASH. */
static inline uint32_t
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
static inline uint32_t
bitmap_bit(uint32_t k)
{
	if (k & KEY_HASH)
		return KEY_SPACE + (k & 0xffff);
	if (k >= KEY_SPACE)
		return k - KEY_SPACE;
	return k;
}

static inline void
bitmap_set(unsigned char *bm, uint32_t k)
{
	k = bitmap_bit(k);
	bm[k >> 3] |= (unsigned char)(1u << (k & 7));
}

static inline int
bitmap_has(const unsigned char *bm, uint32_t k)
{
	k = bitmap_bit(k);
	return (bm[k >> 3] >> (k & 7)) & 1;
}

struct langinfo {
	int	 best;			/* index in lex->langs, -1 */
	char	 code[4];
	int	 present[LEX_MAX_LANGS];	/* rules of that language may apply */
};

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
	int			 plain_type;	/* decide(): before the */
	int			 plain_urgent;	/* interpreter forcing */
};

/* The signals' names, in enum sig's order (triage.c). */
extern const char *const sig_names[SIG__COUNT];

/* ---- normalisation (triage_norm.c) -------------------------------------- */

int	 utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
void	 normalise(struct buf *b, const char *s, size_t len, size_t max,
	    int drop_quoted);

/* ---- phrase compiler (triage_phrase.c) ---------------------------------- */

int	 phrase_to_regex(const char *ph, struct buf *re, struct pattern *pat,
	    const char **why);

/*
 * The phrase matcher: a small backtracking matcher for the regexes that
 * phrase_to_regex() generates from lexicon phrases (literal bytes, \w*
 * \W+ \W++ \w++, non-capturing groups with alternatives, "?" and
 * "{0,4}", and the (?<![\w']) / (?![\w']) word edges), with PCRE2's
 * semantics (8-bit, no UTF, no caseless, default tables): an anchored
 * attempt gives the same match end as pcre2_match() with PCRE2_ANCHORED.
 * It exists for speed: an attempt costs tens of instructions where
 * pcre2_match() costs thousands in set-up alone.  Anything outside that subset is refused at
 * compile time and the caller keeps using PCRE2.
 */
struct phrase;

/* The regex re (NUL-terminated) compiled, or NULL when it uses anything
 * outside the subset.  Free with phrase_free(). */
struct phrase	*phrase_compile(const char *re);
void		 phrase_free(struct phrase *);

/*
 * An anchored attempt at s[start..len): 1 with *end = the match end, 0
 * when there is no match, -1 when the attempt took more than its step
 * budget (the caller should then ask PCRE2, whose limits decide).
 */
int	 phrase_match(const struct phrase *, const char *s, size_t len,
	    size_t start, size_t *end);

/* ---- required literals of a raw regex (triage_regex.c) ------------------ */

#define LIT_MAX		32	/* literals of a filter, at most */

void	 lits_free(struct pattern *pat);
void	 regex_literals(struct pattern *pat, const char *src, uint32_t options);
void	 regex_prefix(struct pattern *pat, const char *src, uint32_t options);
int	 literals_present(const struct pattern *pat, const char *s, size_t len);
int	 prefix_present(const struct pattern *pat, const char *s, size_t len);
int	 prefix_count(const struct pattern *pat);
size_t	 prefix_next(const struct pattern *pat, const char *s, size_t len,
	    size_t from, size_t *nx);

/* ---- lexicon loader (triage_lexicon.c) ---------------------------------- */

pcre2_code *compile(const char *src, uint32_t options, char *msg,
	    size_t msglen);
uint32_t regex_options(const char *src);
const struct stopword *stop_find(const struct lexicon *lex, const char *w,
	    size_t n);

/* ---- language (triage_lang.c) ------------------------------------------- */

void	 detect_lang(const struct lexicon *lex, const char *raw, size_t rawlen,
	    const char *folded, size_t flen, struct langinfo *li);

/* ---- matching (triage_match.c) ------------------------------------------ */

void	 scan_text(struct scan *sc, char *s, size_t len, int body);
int	 regex_search(const struct pattern *pat, const char *s, size_t len,
	    size_t start, size_t *nx, pcre2_match_data *md,
	    pcre2_match_context *mctx);

/* ---- the model (triage_model.c) ----------------------------------------- */

struct triage_evidence {
	const char		*subj;		/* normalised */
	const char		*body;		/* normalised, masks applied */
	const int		*sig;		/* signal sums, nsig of them */
	const char *const	*sig_names;
	int			 nsig;
	const char *const	*hits;		/* labels of the rules that fired */
	size_t			 nhits;
	int			 hdr;		/* 2 machine headers, 1 list, 0 */
	int			 lang_full;	/* a language the lexicon reads */
	int			 decisive;	/* a rule safety override: crisis */
	/* For a language no full lexicon reads: the rules' type and urgency
	 * before the interpreter forcing (crisis, urgent), and whether a
	 * safety cue fired (a person in danger or confined speaking for
	 * themselves or for a child, a minor, danger). */
	int			 plain_type;
	int			 plain_urgent;
	int			 safety;
	const struct triage_result *rules;	/* the rules' decision */
};

/* The lexicon's model (NULL: rules only). */
const struct triage_model *lexicon_model(const struct lexicon *);

/* Rules + model: rewrites res (the rules' decision) in place. */
void	 triage_model_apply(const struct triage_model *,
	    const struct triage_evidence *, struct triage_result *res);

/*
 * The rules run over m, the evidence handed to cb (with the rules'
 * decision in ev->rules), no model applied.  For the trainer.
 */
int	 triage_evidence_of(const struct lexicon *, const struct message *,
	    void (*cb)(const struct triage_evidence *, void *), void *arg);

/* Test hook: the model file's bucket of a feature ('w' word, 'b' word
 * pair, 'c' character gram, 'h' header); the same on every machine. */
uint32_t triage_model_bucket(char kind, const char *, size_t);

/* Test hook: the model loader's strtod(): the same value and end as
 * strtod() for any s (a fast path for the trainer's "%.5g" numbers). */
double	 triage_model_strtod(char *s, char **end);


/*
 * For tests: every phrase of the lexicon tried at every word start of text
 * (normalised like a body) both by phrase.c and by PCRE2; the number of
 * attempts where they disagree (match or not, match end).  *tries gets the
 * number of attempts.
 */
size_t	 lexicon_check_phrases(const struct lexicon *, const char *text,
	    size_t len, size_t *tries);

/*
 * For tests: the required-literal filter of a raw lexicon regex against
 * PCRE2 on text (as it is, not normalised): -1 the regex does not compile,
 * 0 the filter lets the text through, 1 it rejects the text and PCRE2
 * finds no match either, 2 it rejects a text PCRE2 matches (a bug).
 */
int	 triage_check_regex_literals(const char *re, const char *text,
	    size_t len);
/* The same for the prefix check of a regex tried at tokens, at every
 * offset of text: 2 when PCRE2 matches at an offset the check refused. */
int	 triage_check_regex_prefix(const char *re, const char *text,
	    size_t len);

/* And the search from prefixes (regex_search()): the matches a cursor
 * walks through text, against PCRE2's unanchored search; 2 when they
 * differ, 1 the same with prefixes, 0 the same without. */
int	 triage_check_regex_search(const char *re, const char *text,
	    size_t len);

#endif
