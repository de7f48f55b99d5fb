/* SPDX-License-Identifier: MIT */
/*
 * test_triage_model.c: the triage model's loader (its errors name the file
 * and the line), the built-in model, and how rules and model combine: the
 * rules' safety override beats any model, the model decides the rest, and
 * the rationale names the model's features.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"
#include "triage.h"
#include "util.h"

#include "triagelib.h"
#include "../../daemon/triage_p.h"

/* A model with no features whose biases say "info" whatever the text. */
#define ALWAYS_INFO \
	"intake-triage-model 1\nbuckets 262144\n" \
	"classes crisis tip tta referral info related automated urgent\n" \
	"bias -20 -20 -20 -20 20 -20 -20 -20\ncombine 0.25 1.01 0.5 1\nrows 0\nend\n"

static struct triage_model *
text_model(const char *text, char *err, size_t errlen)
{
	return triage_model_from_text(text, "t.model", err, errlen);
}

START_TEST(test_load_good)
{
	char err[256] = "";
	struct triage_model *m = text_model(ALWAYS_INFO, err, sizeof(err));

	ck_assert_msg(m != NULL, "%s", err);
	triage_model_free(m);
}
END_TEST

START_TEST(test_load_errors)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "", "t.model:1: not an intake triage model" },
		{ "hello\n", "t.model:1: not an intake triage model" },
		{ "intake-triage-model 1\nbuckets 12\n", "t.model:2: expected "
		    "\"buckets 262144\"" },
		{ "intake-triage-model 1\nbuckets 262144\nclasses crisis tip "
		    "tta referral info related automated urgent\nbias 1 2\n",
		    "t.model:4: expected \"bias\"" },
		{ "intake-triage-model 1\nbuckets 262144\nclasses crisis tip "
		    "tta referral info related automated urgent\nbias 0 0 0 0 0 "
		    "0 0 0\ncombine 0.25 1.01 0.5 1\nrows 2\n5 1 0 0 0 0 0 0 0 "
		    "0\n", "t.model:7: truncated" },
		{ "intake-triage-model 1\nbuckets 262144\nclasses crisis tip "
		    "tta referral info related automated urgent\nbias 0 0 0 0 0 "
		    "0 0 0\ncombine 0.25 1.01 0.5 1\nrows 1\n5 1 0 0 0 0 nan 0 0 "
		    "0\nend\n", "t.model:7: bad row" },
		{ "intake-triage-model 1\nbuckets 262144\nclasses crisis tip "
		    "tta referral info related automated urgent\nbias 0 0 0 0 0 "
		    "0 0 0\ncombine 0.25 1.01 0.5 1\nrows 1\n5 1 0 0 0 0 0 0 0 "
		    "0\nextra\n", "t.model:8: expected \"end\"" },
		{ "intake-triage-model 1\nbuckets 262144\nclasses crisis tip "
		    "tta referral info related automated urgent\nbias 0 0 0 0 0 "
		    "0 0 0\ncombine 0.25 1.01 2 1\n", "t.model:5: expected "
		    "\"combine" },
	};
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		char err[256] = "";
		struct triage_model *m = text_model(cases[i].text, err,
		    sizeof(err));

		ck_assert_msg(m == NULL, "case %zu loaded", i);
		ck_assert_msg(strstr(err, cases[i].want) != NULL,
		    "case %zu: '%s', wanted '%s'", i, err, cases[i].want);
	}
}
END_TEST

START_TEST(test_load_missing_file)
{
	char err[256] = "";

	ck_assert_ptr_null(triage_model_load("/nonexistent/x.model", err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "/nonexistent/x.model: cannot read") != NULL,
	    "%s", err);
	/* attach: -1, and the lexicon keeps the rules alone */
	ck_assert_int_eq(triage_model_attach(lex, "/nonexistent/x.model", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(triage_model_attach(lex, "none", err, sizeof(err)), 0);
}
END_TEST

/* The rules' safety override: a self-identifying victim in danger stays
 * crisis whatever the model says; without it the model's type wins. */
START_TEST(test_rules_override_model)
{
	char err[256] = "";
	struct triage_result r;

	lexicon_set_model(lex, text_model(ALWAYS_INFO, err, sizeof(err)));
	classify("please help", "I need help. My boss took my passport and "
	    "locks me in the room at night. I am scared he will hurt me.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert(has_rationale(&r, "model: info 1.00"));
	ck_assert(has_rationale(&r, "crisis kept: the rules say crisis"));
	triage_result_free(&r);

	classify("restaurant on Elm", "I do deliveries to a restaurant on Elm "
	    "St. The cooks seem to live upstairs and the owner drives them to "
	    "and from work in his van.", &r);
	EXPECT(r, CT_INFO, URG_ROUTINE);
	ck_assert(has_rationale(&r, "model over rules: info, not tip"));
	triage_result_free(&r);

	/* machine headers: the rules decide, the model is not asked */
	classify_h("Automatic reply: away", "I am out of the office.",
	    "Auto-Submitted", "auto-replied", NULL, NULL, NULL, &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	ck_assert(has_rationale(&r, "model: not asked"));
	triage_result_free(&r);
}
END_TEST

/* The shipped model: loads, decides, and names its strongest features. */
START_TEST(test_builtin_model_rationale)
{
	char err[256] = "";
	struct triage_model *m = triage_model_builtin(err, sizeof(err));
	struct triage_result r;
	size_t i;
	int found = 0;

	ck_assert_msg(m != NULL, "%s", err);
	lexicon_set_model(lex, m);
	classify("training request", "Could your team run a two-hour training "
	    "for our school counselors on recognizing trafficking? We are "
	    "flexible on dates this spring.", &r);
	EXPECT(r, CT_TTA, URG_ROUTINE);
	for (i = 0; i < r.nrationale; i++)
		if (strncmp(r.rationale[i], "model: tta ", 11) == 0 &&
		    strchr(r.rationale[i], '\'') != NULL &&
		    strstr(r.rationale[i], " +") != NULL)
			found = 1;
	ck_assert_msg(found, "no \"model: tta P ('feature' +W ...)\" line");
	triage_result_free(&r);
}
END_TEST

/* Feature buckets are fixed by the text alone (FNV-1a), so a model file
 * means the same on every machine. */
START_TEST(test_bucket_deterministic)
{
	ck_assert_uint_eq(triage_model_bucket('w', "tonight", 7),
	    triage_model_bucket('w', "tonight", 7));
	ck_assert_uint_ne(triage_model_bucket('w', "tonight", 7),
	    triage_model_bucket('c', "tonight", 7));
	ck_assert_uint_eq(triage_model_bucket('h', "header: list", 12),
	    triage_model_bucket('h', "header: list", 12));
	ck_assert_uint_lt(triage_model_bucket('h', "header: list", 12), 262144);
	/* FNV-1a of "w" then "tonight", low 18 bits: pins the hash */
	ck_assert_uint_eq(triage_model_bucket('w', "tonight", 7), 0x3d493);
}
END_TEST

/* Mailing-list headers are a model feature of their own: a model whose
 * only feature is that one calls list mail automated, and says why. */
/* The loader's number parser gives strtod()'s double, bit for bit, and
 * stops where strtod() does: on every number of conf/triage.model, on
 * numbers written as the trainer writes them and in other forms, and on
 * odd ones its fast path must leave to strtod(). */
static void
same_as_strtod(const char *text)
{
	char *a = xstrdup(text), *b = xstrdup(text), *ea, *eb;
	double da, db;

	da = strtod(a, &ea);
	db = triage_model_strtod(b, &eb);
	ck_assert_msg(memcmp(&da, &db, sizeof(da)) == 0 && ea - a == eb - b,
	    "\"%s\": strtod %.17g (+%td), loader %.17g (+%td)", text, da,
	    ea - a, db, eb - b);
	free(a);
	free(b);
}

START_TEST(test_model_numbers)
{
	static const char *const odd[] = { "", "-", "+", ".", "-.", ".5",
	    "5.", "-0", "+0.0", "1e", "1e+", "1e-", "1.5e3x", "0x10", "0x1p3",
	    "inf", "-nan", "1e400", "1e-400", "  7", "\t7", " -7 8",
	    "123456789012345678901", "1234567890123456", "123456789012345",
	    "1.5e+22", "1e22", "1e23", "1e-22", "1e-23", "9007199254740993",
	    "00000000000000000001.5", "0.000000000000000000001",
	    "1.00000000000000000000001", "4.9e-324", "1.7976931348623157e308",
	    "1e00001", "1e0000", "12e-5 ", "-2.3904e-05", "7 ", "7\n" };
	char path[4096], *text = NULL, *p, *e;
	const char *top = getenv("INTAKE_TOP");
	size_t len, i, n = 0;
	unsigned int seed = 19;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		same_as_strtod(odd[i]);
	snprintf(path, sizeof(path), "%s/conf/triage.model", top ? top : ".");
	ck_assert_int_eq(read_file(path, 64u << 20, &text, &len), 0);
	/* every field after "bias"/"combine"/a row's bucket */
	for (p = text; (p = strchr(p, ' ')) != NULL; p++) {
		char field[64];

		for (e = p + 1; *e != ' ' && *e != '\n' && *e != '\0'; e++)
			;
		if (e - p - 1 <= 0 || e - p - 1 >= (long)sizeof(field))
			continue;
		memcpy(field, p + 1, (size_t)(e - p - 1));
		field[e - p - 1] = '\0';
		if ((field[0] >= '0' && field[0] <= '9') || field[0] == '-') {
			same_as_strtod(field);
			n++;
		}
	}
	ck_assert_uint_gt(n, 1000);
	free(text);
	for (i = 0; i < 200000; i++) {
		static const char *const fmt[] = { "%.5g", "%.9g", "%.15g",
		    "%.17g", "%g", "%e", "%.3f", "%.20f" };
		char buf[128];
		double v;

		v = (double)rand_r(&seed) / RAND_MAX - 0.5;
		v = ldexp(v, rand_r(&seed) % 120 - 80);
		snprintf(buf, sizeof(buf), fmt[i % 8], v);
		same_as_strtod(buf);
	}
}
END_TEST

START_TEST(test_list_header_feature)
{
	char err[256] = "", *text;
	struct triage_result r;
	struct triage_model *m;

	text = xasprintf("intake-triage-model 1\nbuckets 262144\n"
	    "classes crisis tip tta referral info related automated urgent\n"
	    "bias -20 -20 -20 -20 5 -20 -20 -20\ncombine 0.25 1.01 0.5 1\n"
	    "rows 1\n%u 1 0 0 0 0 0 0 40 0\nend\n",
	    triage_model_bucket('h', "header: list", 12));
	m = text_model(text, err, sizeof(err));
	free(text);
	ck_assert_msg(m != NULL, "%s", err);
	lexicon_set_model(lex, m);
	classify("statistics", "How many people are trafficked in Ohio each "
	    "year? I need figures for a report.", &r);
	EXPECT(r, CT_INFO, URG_ROUTINE);
	triage_result_free(&r);
	classify_h("statistics", "How many people are trafficked in Ohio each "
	    "year? I need figures for a report.", "List-Id",
	    "<news.example.org>", NULL, NULL, NULL, &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	ck_assert(has_rationale(&r, "model: automated "));
	ck_assert(has_rationale(&r, "('header: list' +"));
	triage_result_free(&r);
}
END_TEST

/* The model alone (the rules do not say crisis) makes a crisis only at
 * crisis >= the file's gate; below it, its next best type. */
START_TEST(test_crisis_gate)
{
	/* crisis sigmoid(0) = .5 and tip sigmoid(-.5) = .38: crisis 0.57 */
	static const char *const fmt = "intake-triage-model 1\nbuckets "
	    "262144\nclasses crisis tip tta referral info related automated "
	    "urgent\nbias 0 -0.5 -20 -20 -20 -20 -20 -20\n"
	    "combine 0.25 1.01 0.5 1 %s\nrows 0\nend\n";
	const char *body = "How many people are trafficked in Ohio each year? "
	    "I need figures for a report.";
	char err[256] = "", *text;
	struct triage_result r;

	text = xasprintf(fmt, "0.6");
	lexicon_set_model(lex, text_model(text, err, sizeof(err)));
	free(text);
	ck_assert_msg(lexicon_model(lex) != NULL, "%s", err);
	classify("statistics", body, &r);
	EXPECT(r, CT_TIP, URG_ROUTINE);
	ck_assert(has_rationale(&r, "model crisis 0.57 below 0.60 and the "
	    "rules do not say crisis: tip"));
	triage_result_free(&r);

	text = xasprintf(fmt, "0");
	lexicon_set_model(lex, text_model(text, err, sizeof(err)));
	free(text);
	ck_assert_msg(lexicon_model(lex) != NULL, "%s", err);
	classify("statistics", body, &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

/* A language the lexicon does not read fully: the rules alone (urgent,
 * needs_interpreter) unless the model file says it was trained on
 * enough of it; then the model decides the type, the interpreter flag
 * stays, and urgency is forced only by a rule safety cue. */
START_TEST(test_language_threshold)
{
	static const char *const fmt = "intake-triage-model 1\nbuckets "
	    "262144\nclasses crisis tip tta referral info related automated "
	    "urgent\nbias -20 %s -20 -20 %s -20 -20 -20\n"
	    "combine 0.25 1.01 0.9 0 0\n%srows 0\nend\n";
	const char *ask = "Tôi đã an toàn rồi. Tôi muốn tìm luật sư và tổ "
	    "chức giúp đỡ, có văn phòng nào nói tiếng Việt không?";
	const char *child = "Tôi muốn báo cáo: con gái nhà bên cạnh 14 tuổi, "
	    "không đi học, bị đánh đập và phải làm việc ở tiệm.";
	char err[256] = "", *text;
	struct triage_result r;

	/* too little text in Vietnamese, or no languages line: the rules */
	text = xasprintf(fmt, "-20", "20", "languages 15 vi:14\n");
	lexicon_set_model(lex, text_model(text, err, sizeof(err)));
	free(text);
	ck_assert_msg(lexicon_model(lex) != NULL, "%s", err);
	classify("luật sư", ask, &r);
	ck_assert_str_eq(r.lang, "vi");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_REFERRAL, URG_URGENT);
	ck_assert(has_rationale(&r, "model: not used for language 'vi' (too "
	    "little training text: 14 messages, 15 needed"));
	triage_result_free(&r);
	text = xasprintf(fmt, "-20", "20", "");
	lexicon_set_model(lex, text_model(text, err, sizeof(err)));
	free(text);
	ck_assert_msg(lexicon_model(lex) != NULL, "%s", err);
	classify("luật sư", ask, &r);
	EXPECT(r, CT_REFERRAL, URG_URGENT);
	triage_result_free(&r);

	/* enough: the model's info, routine; still needs an interpreter */
	text = xasprintf(fmt, "-20", "20", "languages 15 ar:3 vi:15\n");
	lexicon_set_model(lex, text_model(text, err, sizeof(err)));
	free(text);
	ck_assert_msg(lexicon_model(lex) != NULL, "%s", err);
	classify("luật sư", ask, &r);
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_INFO, URG_ROUTINE);
	ck_assert(has_rationale(&r, "model: decides language 'vi' (15 "
	    "training messages"));
	triage_result_free(&r);

	/* a model tip with no urgency: a minor in danger still pages */
	text = xasprintf(fmt, "20", "-20", "languages 15 vi:15\n");
	lexicon_set_model(lex, text_model(text, err, sizeof(err)));
	free(text);
	ck_assert_msg(lexicon_model(lex) != NULL, "%s", err);
	classify("báo cáo", child, &r);
	ck_assert_int_eq(r.needs_interpreter, 1);
	ck_assert_int_eq(r.minor, 1);
	EXPECT(r, CT_TIP, URG_URGENT);
	ck_assert(has_rationale(&r, "urgent: language 'vi' and a safety "
	    "cue"));
	triage_result_free(&r);
	classify("luật sư", ask, &r);
	EXPECT(r, CT_TIP, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_languages_line_errors)
{
	static const char *const bad[] = { "languages x\n",
	    "languages 15 v:3\n", "languages 15 vi=3\n", "languages 15 vi:\n",
	    "languages 15 vi:3 \n" };
	char err[256] = "";
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = xasprintf("intake-triage-model 1\nbuckets 262144\n"
		    "classes crisis tip tta referral info related automated "
		    "urgent\nbias 0 0 0 0 0 0 0 0\ncombine 0.25 1.01 0.5 1 0\n"
		    "%srows 0\nend\n", bad[i]);
		struct triage_model *m = text_model(text, err, sizeof(err));

		ck_assert_msg(m == NULL, "accepted %s", bad[i]);
		ck_assert_msg(strstr(err, "t.model:6: expected \"languages") !=
		    NULL, "%s", err);
		free(text);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("triage_model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_rules_override_model);
	tcase_add_test(tc, test_builtin_model_rationale);
	tcase_add_test(tc, test_bucket_deterministic);
	tcase_add_test(tc, test_model_numbers);
	tcase_add_test(tc, test_list_header_feature);
	tcase_add_test(tc, test_crisis_gate);
	tcase_add_test(tc, test_language_threshold);
	tcase_add_test(tc, test_languages_line_errors);
	/* test_model_numbers reads every number of conf/triage.model (half
	 * a second of CPU): room for a loaded machine */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
