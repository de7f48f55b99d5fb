/* SPDX-License-Identifier: MIT */
/*
 * triage_lexicon.c: the lexicon loader (conf/triage.conf, libconfig; or
 * its built-in copy): languages and stop words, the negation pattern, the
 * rules, each phrase compiled (triage_phrase.c) and each raw regex with
 * its filters (triage_regex.c).  Format: doc/interfaces.md, "intake
 * classify and the triage lexicon".
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>
#include <pcre2.h>

#include "triage.h"
#include "triage_p.h"
#include "util.h"

static const char *const script_names[SCR__COUNT] = {
	"latin", "han", "kana", "hangul", "thai", "cyrillic", "arabic",
	"hebrew", "devanagari", "ethiopic", "greek", "other",
};

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
uint32_t
regex_options(const char *src)
{
	const unsigned char *p;

	for (p = (const unsigned char *)src; *p != '\0'; p++)
		if (*p >= 0x80 || (*p >= 'A' && *p <= 'Z' && (p == (const
		    unsigned char *)src || p[-1] != '\\')))
			return RE_OPTIONS;
	return PHRASE_OPTIONS;
}

pcre2_code *
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
const struct stopword *
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
		 * (one tried at `first` tokens only is cheap enough), and
		 * searched from its prefixes (regex_search()) */
		if (first.nfkeys == 0)
			regex_literals(pat, p, regex_options(p));
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
