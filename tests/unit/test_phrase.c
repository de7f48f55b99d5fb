/* SPDX-License-Identifier: MIT */
/*
 * test_phrase.c: the phrase matcher (daemon/triage_phrase.c) against PCRE2,
 * which it replaces for lexicon phrases.  Differential: (1) random patterns
 * of the generated subset on random texts over a tiny alphabet (so that
 * partial matches, backtracking and word edges are frequent), at every
 * start; (2) every phrase of the built-in lexicon (conf/triage.conf) at
 * every word start of the development fixtures and of a word salad made of
 * the lexicon's own words.  Same match or not, same match end.  Nothing here
 * pins a lexicon's content: an edited lexicon is checked the same way.  (3)
 * The required-literal filter of raw regexes (triage_regex.c) and the prefix
 * check of those tried at tokens: they never turn away a text (an offset)
 * that PCRE2 matches, on random regexes with groups, classes, quantifiers,
 * lookarounds, caseless letters and CJK; and a search tried only where
 * such a prefix occurs finds PCRE2's matches, one after the other.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <check.h>
#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/triage_p.h"
#include "triage.h"
#include "util.h"

/* Deterministic: a failure can be replayed. */
static unsigned long long rng_state;

/* Append s to the string in buf (size bytes), truncating. */
static void
append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s", s);
}

static unsigned
rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng_state >> 33) % n);
}

static const char *const words[] = {
	"a", "b", "ab", "ba", "aa", "a\\'b", "b\\-a", "_a", "\xc3\xa9",
};

static void gen_seq(struct buf *, int depth, int top);

/* A word, maybe a prefix (word*), or a group of alternatives. */
static void
gen_item(struct buf *re, int depth)
{
	unsigned k = rnd(depth < 3 ? 10 : 7), i, n;

	if (k < 7) {
		buf_addstr(re, words[rnd(NELEM(words))]);
		if (rnd(4) == 0)
			buf_addstr(re, "\\w*");
		return;
	}
	buf_addstr(re, "(?:");
	for (i = 0, n = 1 + rnd(4); i < n; i++) {
		if (i > 0)
			buf_addc(re, '|');
		if (rnd(6) > 0)
			gen_seq(re, depth + 1, 0);
	}
	buf_addc(re, ')');
	if (k == 9)
		buf_addc(re, '?');
}

/* Items joined the way triage.c joins them: \W+, or a gap of words. */
static void
gen_seq(struct buf *re, int depth, int top)
{
	unsigned i, n = 1 + rnd(depth == 0 ? 4 : 2);

	if (top && rnd(2))
		buf_addstr(re, "(?<![\\w'])");
	for (i = 0; i < n; i++) {
		if (i > 0) {
			switch (rnd(5)) {
			case 0:
				buf_addstr(re, "(?:\\W++\\w++){0,4}");
				/* FALLTHROUGH */
			case 1:
			case 2:
				buf_addstr(re, "(?:\\W+");
				gen_item(re, depth);
				buf_addstr(re, rnd(3) ? ")" : ")?");
				continue;
			default:
				buf_addstr(re, "\\W+");
				break;
			}
		}
		gen_item(re, depth);
	}
	if (top && rnd(2))
		buf_addstr(re, "(?![\\w'])");
}

static const char *const bits[] = {
	"a", "b", "ab", "ba", " ", " ", "'", "_", "-", "\xc3\xa9", "  ", ", ",
};

/* Every start of text: PCRE2 and phrase.c agree.  The number of starts. */
static int
compare(const char *re, const struct phrase *ph, pcre2_code *pc,
    pcre2_match_data *md, pcre2_match_context *mc, const char *text)
{
	size_t len = strlen(text), pos, end;
	int rc, r, n = 0;

	for (pos = 0; pos <= len; pos++, n++) {
		rc = pcre2_match(pc, (PCRE2_SPTR)text, len, pos, PCRE2_ANCHORED,
		    md, mc);
		ck_assert_msg(rc >= 0 || rc == PCRE2_ERROR_NOMATCH,
		    "PCRE2 error %d on /%s/", rc, re);
		r = phrase_match(ph, text, len, pos, &end);
		ck_assert_msg(r >= 0, "step budget on /%s/", re);
		ck_assert_msg((rc >= 0) == (r > 0),
		    "/%s/ on \"%s\" at %zu: PCRE2 %d, phrase %d", re, text, pos,
		    rc, r);
		if (r > 0)
			ck_assert_msg(pcre2_get_ovector_pointer(md)[1] == end,
			    "/%s/ on \"%s\" at %zu: PCRE2 ends at %zu, phrase "
			    "at %zu", re, text, pos,
			    (size_t)pcre2_get_ovector_pointer(md)[1], end);
	}
	return n;
}

START_TEST(test_random_patterns)
{
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	int p, t, i, n, matched = 0;

	rng_state = 20261128;
	pcre2_set_match_limit(mc, 200000);
	pcre2_set_depth_limit(mc, 2000);
	for (p = 0; p < 3000; p++) {
		struct buf re;
		struct phrase *ph;
		pcre2_code *pc;
		int code;
		PCRE2_SIZE off;

		buf_init(&re, 0);
		gen_seq(&re, 0, 1);
		pc = pcre2_compile((PCRE2_SPTR)re.data, PCRE2_ZERO_TERMINATED, 0,
		    &code, &off, NULL);
		ck_assert_msg(pc != NULL, "bad test pattern /%s/", re.data);
		ph = phrase_compile(re.data);
		ck_assert_msg(ph != NULL, "refused /%s/", re.data);
		for (t = 0; t < 40; t++) {
			struct buf text;
			size_t end;

			buf_init(&text, 0);
			buf_addstr(&text, "");
			for (i = 0, n = (int)rnd(14); i < n; i++)
				buf_addstr(&text, bits[rnd(NELEM(bits))]);
			compare(re.data, ph, pc, md, mc, text.data);
			if (phrase_match(ph, text.data, text.len, 0, &end) > 0)
				matched++;
			buf_free(&text);
		}
		phrase_free(ph);
		pcre2_code_free(pc);
		buf_free(&re);
	}
	/* the texts do exercise matches, not only failures */
	ck_assert_int_gt(matched, 3000);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
}
END_TEST

START_TEST(test_hand_picked)
{
	static const struct {
		const char *re, *text;
		long end;	/* -1: no match at 0 */
	} c[] = {
		/* the gap is greedy: the most words that still let the rest
		 * match */
		{ "a(?:\\W++\\w++){0,4}\\W+b", "a x b y b", 9 },
		{ "a(?:\\W++\\w++){0,4}\\W+b", "a 1 2 3 4 5 b", -1 },
		{ "a(?:\\W+(?:x|x y))?\\W+y", "a x y", 5 },
		/* first alternative that lets the rest match */
		{ "(?:ab|a)(?:\\W+c)?", "ab c", 4 },
		{ "(?:a|ab)(?![\\w'])", "ab", 2 },
		{ "t(?:ook|aken)\\W+it", "taken it", 8 },
		{ "(?<![\\w'])a", "a", 1 },
		{ "x\\w*(?![\\w'])", "xyz'", -1 },
		{ "\\$\\w*", "$12", 3 },
		{ "a(?:|s|ing)(?![\\w'])", "asing", -1 },
	};
	size_t i, end;

	for (i = 0; i < NELEM(c); i++) {
		struct phrase *ph = phrase_compile(c[i].re);
		int r;

		ck_assert_msg(ph != NULL, "refused %s", c[i].re);
		r = phrase_match(ph, c[i].text, strlen(c[i].text), 0, &end);
		if (c[i].end < 0)
			ck_assert_msg(r == 0, "/%s/ matched \"%s\"", c[i].re,
			    c[i].text);
		else
			ck_assert_msg(r == 1 && end == (size_t)c[i].end,
			    "/%s/ on \"%s\": %d, end %zu", c[i].re, c[i].text,
			    r, end);
		phrase_free(ph);
	}
	/* outside the subset: PCRE2 keeps those */
	ck_assert_ptr_null(phrase_compile("\\d+"));
	ck_assert_ptr_null(phrase_compile("(a)"));
	ck_assert_ptr_null(phrase_compile("a.b"));
	ck_assert_ptr_null(phrase_compile("a\\w*?"));
	ck_assert_ptr_null(phrase_compile("(?:a"));
	ck_assert_ptr_null(phrase_compile("a)"));
}
END_TEST

/*
 * A phrase whose attempts explode (seven words with six gaps, on a run of
 * the same word) exceeds phrase.c's step budget: phrase_match() says so,
 * and triage hands that attempt to PCRE2 (whose limits then decide).  In
 * the text below only the first word starts a match (seven "a", "b", then
 * more "a"), and only PCRE2 finds it within its limit: without the
 * hand-over the message would not be classified tta.
 */
START_TEST(test_step_budget)
{
	char re[1024] = "a", text[512] = "", path[] = "/tmp/test_phrase.XXXXXX";
	const char *conf = "version = 1;\nlanguages = ( { code = \"en\"; "
	    "full = true; stopwords = [ \"a\" ]; } );\nrules = ( { signal = "
	    "\"tta\"; weight = 5; lang = \"any\"; phrases = [ \"a ... a ... a "
	    "... a ... a ... a ... a b\" ]; } );\n";
	struct triage_result res;
	struct message m;
	struct lexicon *lex;
	struct phrase *ph;
	char err[256];
	size_t end;
	int i, fd;

	for (i = 0; i < 6; i++)
		append(re, sizeof(re), "(?:\\W++\\w++){0,4}\\W+a");
	append(re, sizeof(re), "\\W+b");
	for (i = 0; i < 60; i++)
		append(text, sizeof(text), "a ");
	ph = phrase_compile(re);
	ck_assert_ptr_nonnull(ph);
	ck_assert_int_eq(phrase_match(ph, text, strlen(text), 0, &end), -1);
	phrase_free(ph);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, conf, strlen(conf)), (int)strlen(conf));
	close(fd);
	lex = lexicon_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(lex != NULL, "%s", err);
	text[0] = '\0';
	for (i = 0; i < 7; i++)
		append(text, sizeof(text), "a ");
	append(text, sizeof(text), "b");
	for (i = 0; i < 35; i++)
		append(text, sizeof(text), " a");
	memset(&m, 0, sizeof(m));
	m.text = text;
	m.text_len = strlen(text);
	m.subject = (char *)"x";
	ck_assert_int_eq(triage_classify(lex, &m, &res), 0);
	ck_assert_int_eq(res.type, CT_TTA);
	triage_result_free(&res);
	lexicon_free(lex);
}
END_TEST

static const char *
top_dir(void)
{
	const char *t = getenv("INTAKE_TOP");

	return t ? t : ".";
}

/* The lexicon's own words in a shuffled salad, with varied separators. */
static char *
word_salad(const char *conf, size_t nwords)
{
	struct buf out, w;
	char **v = NULL, *text;
	size_t n = 0, i, len;
	const char *p;
	static const char *const sep[] = { " ", " ", " ", ", ", "'", "_", " - ",
	    ". " };

	ck_assert_int_eq(read_file(conf, 1 << 20, &text, &len), 0);
	buf_init(&w, 0);
	for (p = text; ; p++) {
		if ((*p >= 'a' && *p <= 'z') || *p == '\'') {
			buf_addc(&w, *p);
			continue;
		}
		if (w.len > 0) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n++] = buf_steal(&w);
		}
		if (*p == '\0')
			break;
	}
	buf_free(&w);
	free(text);
	buf_init(&out, 0);
	for (i = 0; i < nwords; i++) {
		buf_addstr(&out, v[rnd((unsigned)n)]);
		buf_addstr(&out, sep[rnd(NELEM(sep))]);
	}
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return buf_steal(&out);
}

static size_t
check_text(const struct lexicon *lex, const char *text, size_t len,
    const char *what)
{
	size_t tries, bad;

	bad = lexicon_check_phrases(lex, text, len, &tries);
	ck_assert_msg(bad == 0, "%zu disagreements on %s", bad, what);
	return tries;
}

static void
check_lexicon(const struct lexicon *lex)
{
	char path[4096], *text, *salad;
	size_t len, tries = 0;
	struct dirent *de;
	DIR *d;
	int files = 0;

	snprintf(path, sizeof(path), "%s/conf/triage.conf", top_dir());
	rng_state = 4;
	salad = word_salad(path, 3000);
	tries += check_text(lex, salad, strlen(salad), "the word salad");
	free(salad);
	snprintf(path, sizeof(path), "%s/tests/fixtures/labeled", top_dir());
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL && files < 40) {
		char f[4096 + 512];

		if (strstr(de->d_name, ".eml") == NULL)
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		ck_assert_int_eq(read_file(f, 1 << 20, &text, &len), 0);
		tries += check_text(lex, text, len, de->d_name);
		free(text);
		files++;
	}
	closedir(d);
	ck_assert_int_gt(files, 10);
	ck_assert_int_gt(tries, 100000);
}

START_TEST(test_lexicon_builtin)
{
	struct lexicon *lex = lexicon_builtin();

	ck_assert_ptr_nonnull(lex);
	check_lexicon(lex);
	lexicon_free(lex);
}
END_TEST

static const char *const ratoms[] = {
	"a", "b", "x", "A", "k", "\xe6\x8a\xa4", "\xe7\x85\xa7",
	"\xec\x97\xac", "\xe0\xb8\x81", "\xc3\xa9", " ", "-", "\\.",
	"\\d", "\\s", "\\w", "\\b", "[ab]", "[^a]", "[0-9]", ".", "(?<=a)",
	"(?<!b)", "^", "$",
};
static const char *const rquants[] = {
	"?", "*", "+", "{0,2}", "{1,3}", "+?", "*+", "{2}",
};

static void
gen_regex(struct buf *re, int depth)
{
	unsigned i, n = 1 + rnd(4), b, nb = 1 + rnd(3);

	for (b = 0; b < nb; b++) {
		if (b > 0)
			buf_addc(re, '|');
		for (i = 0; i < n; i++) {
			unsigned k = rnd(depth < 2 ? 12 : 9);

			if (k < 9)
				buf_addstr(re, ratoms[rnd(NELEM(ratoms))]);
			else {
				static const char *const open[] = { "(", "(?:",
				    "(?=", "(?!" };

				buf_addstr(re, open[rnd(NELEM(open))]);
				gen_regex(re, depth + 1);
				buf_addc(re, ')');
			}
			if (rnd(4) == 0)
				buf_addstr(re, rquants[rnd(NELEM(rquants))]);
		}
	}
}

START_TEST(test_regex_literals)
{
	static const char *const tbits[] = {
		"a", "b", "x", "A", "B", "k", "K", "\xe2\x84\xaa",
		"\xe6\x8a\xa4", "\xe7\x85\xa7", "\xec\x97\xac",
		"\xe0\xb8\x81", "\xc3\xa9", "\xc3\x89", " ", "-", ".", "1",
		"22", "\n",
	};
	static const char *const lexicon_like[] = {
		"(?<![\\w.,$])(\\d{1,2})\\s*(?:(?:-\\s*)?(?:years?|yrs?|y)\\s*"
		"(?:-\\s*)?(?:old|o)|yo|anos(?:\\s+de\\s+edad)?)(?!\\w)",
		"\xe6\x8a\xa4\xe7\x85\xa7.{0,8}(\xe6\x94\xb6|\xe6\x89\xa3)|"
		"(\xe6\x94\xb6|\xe6\x89\xa3).{0,8}\xe6\x8a\xa4\xe7\x85\xa7",
		"hindi (binabayaran|sinasahod)|walang sahod",
		"(?-i)\xe6\x95\x91\xe6\x95\x91\xe6\x88\x91|Help",
	};
	int r, t, i, n, rejected = 0, agreed = 0, prefix_rejected = 0;
	int searched = 0;

	rng_state = 77;
	for (r = 0; r < 4000; r++) {
		struct buf re;

		buf_init(&re, 0);
		if (r < (int)NELEM(lexicon_like))
			buf_addstr(&re, lexicon_like[r]);
		else {
			/* the leading option switches the filter reads */
			if (rnd(4) == 0)
				buf_addstr(&re, rnd(2) ? "(?-i)" : "(?i)");
			gen_regex(&re, 0);
		}
		for (t = 0; t < 30; t++) {
			struct buf text;
			int rc;

			buf_init(&text, 0);
			buf_addstr(&text, "");
			for (i = 0, n = (int)rnd(12); i < n; i++)
				buf_addstr(&text, tbits[rnd(NELEM(tbits))]);
			rc = triage_check_regex_literals(re.data, text.data,
			    text.len);
			ck_assert_msg(rc != 2, "/%s/ matches \"%s\" but its "
			    "literals were not found", re.data, text.data);
			if (rc == 1)
				rejected++;
			rc = triage_check_regex_prefix(re.data, text.data,
			    text.len);
			ck_assert_msg(rc != 2, "/%s/ matches \"%s\" where its "
			    "prefix check said no", re.data, text.data);
			if (rc == 1)
				prefix_rejected++;
			if (rc >= 0)
				agreed++;
			rc = triage_check_regex_search(re.data, text.data,
			    text.len);
			ck_assert_msg(rc != 2, "/%s/ on \"%s\": the search "
			    "from its prefixes found other matches than PCRE2",
			    re.data, text.data);
			if (rc == 1)
				searched++;
			buf_free(&text);
		}
		buf_free(&re);
	}
	/* the filter does turn texts away (it is not vacuous) */
	ck_assert_int_gt(rejected, 5000);
	ck_assert_int_gt(prefix_rejected, 5000);
	ck_assert_int_gt(agreed, 50000);
	ck_assert_int_gt(searched, 500);
	/* and the lexicon's kind of regex gets a filter */
	ck_assert_int_eq(triage_check_regex_literals(lexicon_like[1],
	    "abc", 3), 1);
	ck_assert_int_eq(triage_check_regex_literals(lexicon_like[2],
	    "hindi ko alam", 13), 0);
	ck_assert_int_eq(triage_check_regex_literals(lexicon_like[2],
	    "nothing here", 12), 1);
	ck_assert_int_eq(triage_check_regex_literals(lexicon_like[3],
	    "help", 4), 1);	/* (?-i): "Help" is case-sensitive */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("phrase");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_hand_picked);
	tcase_add_test(tc, test_step_budget);
	tcase_add_test(tc, test_random_patterns);
	tcase_add_test(tc, test_lexicon_builtin);
	tcase_add_test(tc, test_regex_literals);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
