/* SPDX-License-Identifier: MIT */
/*
 * triage_lang.c: language detection: the script of the letters of the
 * original text, then for Latin text the lexicon's stop words over the
 * folded text (triage_p.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "triage_p.h"

/* ISO 639-1 guess for a script no lexicon language claims. */
static const char *const script_lang[SCR__COUNT] = {
	"und", "zh", "ja", "ko", "th", "ru", "ar", "he", "hi", "am", "el", "und",
};

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


/*
 * Script counts over the original text (letters only), then for Latin text
 * stop-word hits over the folded text.  Vietnamese letters with horn or
 * stroke (ơ ư đ, U+1EA0..) are folded away, so count them here.
 */
void
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

