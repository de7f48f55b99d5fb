/* SPDX-License-Identifier: MIT */
/*
 * phrase.h: a small backtracking matcher for the regexes that triage.c
 * generates from lexicon phrases (literal bytes, \w* \W+ \W++ \w++,
 * non-capturing groups with alternatives, "?" and "{0,4}", and the
 * (?<![\w']) / (?![\w']) word edges), with PCRE2's semantics (8-bit, no
 * UTF, no caseless, default tables): an anchored attempt gives the same
 * match end as pcre2_match() with PCRE2_ANCHORED.  It exists for speed:
 * an attempt costs tens of instructions where pcre2_match() costs
 * thousands in set-up alone.  Anything outside that subset is refused at
 * compile time and the caller keeps using PCRE2.
 */
#ifndef INTAKE_PHRASE_H
#define INTAKE_PHRASE_H

#include <stddef.h>

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

#endif
