/* SPDX-License-Identifier: MIT */
/*
 * test_triage.c: the classifier on hand-written messages (wording of our
 * own, not the development set's), the lexicon loader's errors, and the
 * time a huge body takes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "message.h"
#include "triage.h"
#include "util.h"

#include "triagelib.h"

START_TEST(test_crisis_self_en)
{
	struct triage_result r;

	classify("please", "I need help. My boss took my passport when I "
	    "arrived and says I owe him $8000 for the trip. I am not allowed "
	    "to go anywhere alone and I am scared.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_str_eq(r.lang, "en");
	ck_assert_int_eq(r.needs_interpreter, 0);
	ck_assert_int_eq(r.automated, 0);
	ck_assert(has_rationale(&r, "crisis: \"took my passport\" (control)"));
	triage_result_free(&r);
}
END_TEST

START_TEST(test_crisis_behalf_danger)
{
	struct triage_result r;

	classify("my cousin", "My cousin just called me crying. The man she "
	    "works for keeps her locked in the back of the salon at night and "
	    "hits her when she asks for her pay. She wants to get out tonight.",
	    &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.danger, 1);
	ck_assert_int_eq(r.minor, 0);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_tip_routine)
{
	struct triage_result r;

	classify("restaurant on Elm", "I do deliveries to a restaurant on Elm "
	    "St. The cooks seem to live upstairs and the owner drives them to "
	    "and from work in his van. One of them said they still owe money "
	    "for getting here. I'm not sure if this is trafficking.", &r);
	EXPECT(r, CT_TIP, URG_ROUTINE);
	ck_assert_int_eq(r.danger, 0);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_tip_urgent_minor)
{
	struct triage_result r;

	classify("truck stop", "At the truck stop on I-40 tonight I noticed a "
	    "man walking a girl who looked about 14 from truck to truck. She "
	    "seemed scared.", &r);
	EXPECT(r, CT_TIP, URG_URGENT);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_tta)
{
	struct triage_result r;

	classify("Training request", "Our hospital would like to schedule a "
	    "training for the emergency department nurses on recognizing "
	    "trafficking victims. Could someone present in the spring? No "
	    "rush on this.", &r);
	EXPECT(r, CT_TTA, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_referral)
{
	struct triage_result r;

	classify("resources", "I am a social worker looking for a shelter "
	    "that accepts male survivors in Ohio, and an immigration attorney "
	    "who can help one of them with a T visa.", &r);
	EXPECT(r, CT_REFERRAL, URG_ROUTINE);
	triage_result_free(&r);

	classify("bed tonight", "A survivor I work with is safe but lost her "
	    "room today and has nowhere to sleep tonight. Is there a shelter "
	    "bed in Reno?", &r);
	EXPECT(r, CT_REFERRAL, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_info)
{
	struct triage_result r;

	classify("question", "How many labor trafficking cases were reported "
	    "in Texas last year? I'm writing a paper for my sociology class.",
	    &r);
	EXPECT(r, CT_INFO, URG_ROUTINE);
	ck_assert_int_eq(r.minor, 0);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_related)
{
	struct triage_result r;

	classify("deposit", "My landlord won't return my security deposit "
	    "after I moved out. What can I do?", &r);
	EXPECT(r, CT_RELATED, URG_ROUTINE);
	triage_result_free(&r);

	classify("help", "My husband yells at me and pushed me last week. "
	    "I want to know about a protective order.", &r);
	EXPECT(r, CT_RELATED, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_negation)
{
	struct triage_result r;

	classify("question", "I'm not in danger and nobody is holding me. I "
	    "have a question about what the law says about recruitment fees.",
	    &r);
	ck_assert_int_eq(r.danger, 0);
	ck_assert_int_ne(r.type, CT_CRISIS);
	triage_result_free(&r);

	classify("mi hermana", "Mi hermana ya salió de esa casa y está a "
	    "salvo, no está en peligro. Buscamos un abogado que hable español.",
	    &r);
	ck_assert_int_eq(r.danger, 0);
	ck_assert_str_eq(r.lang, "es");
	EXPECT(r, CT_REFERRAL, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_spanish)
{
	struct triage_result r;

	classify("ayuda", "Ayúdenme por favor, el patrón me quitó el "
	    "pasaporte y no me deja salir de la casa. Tengo miedo.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_str_eq(r.lang, "es");
	ck_assert_int_eq(r.needs_interpreter, 0);
	triage_result_free(&r);

	classify("mi sobrina", "Mi sobrina tiene 15 años y un hombre mayor la "
	    "lleva a fiestas donde la obligan a estar con hombres.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	classify("capacitación", "Somos una clínica comunitaria y quisiéramos "
	    "una capacitación para nuestro personal. No es urgente.", &r);
	EXPECT(r, CT_TTA, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_ages)
{
	static const char *const minors[] = {
		"She is 15 and her boyfriend posts ads of her online.",
		"A 15-year-old girl is being sold to men by her boyfriend.",
		"The girl is 15 yo and he makes her see men for money.",
		"She is underage and he sells her to men.",
		"My niece, who is in high school, is being sold to men.",
		"La niña es menor de edad y la obligan a estar con hombres.",
		"La nina tiene 12 anos y la obligan a estar con hombres.",
		"La niña tiene 12 años y la obligan a estar con hombres.",
		"She's 16 and a 30-year-old sets up dates for her with his friends.",
		"He posts ads of a girl, 14yo, for men.",
	};
	struct triage_result r;
	size_t i;

	for (i = 0; i < NELEM(minors); i++) {
		classify("", minors[i], &r);
		ck_assert_msg(r.minor == 1, "not minor: %s", minors[i]);
		triage_result_free(&r);
	}
	classify("", "My daughter is 19 years old and her boyfriend makes her "
	    "see men for money. She looks like a young girl.", &r);
	ck_assert_int_eq(r.minor, 0);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
	classify("", "My sister has the mental age of a 10-year-old; she is "
	    "25 and a couple takes her benefits and sells her to men.", &r);
	ck_assert_int_eq(r.minor, 0);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_automated_headers)
{
	struct triage_result r;
	const char *body = "Thank you for your message. I will reply soon.";

	classify_h("Re: hi", body, "Auto-Submitted", "auto-replied", NULL, NULL,
	    NULL, &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	ck_assert_int_eq(r.automated, 1);
	ck_assert(has_rationale(&r, "Auto-Submitted"));
	triage_result_free(&r);

	classify_h("Re: hi", body, "Auto-Submitted", "no", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.automated, 0);
	triage_result_free(&r);

	classify_h("Delivery failure", "The message could not be delivered.",
	    NULL, NULL, NULL, NULL, "multipart/report", &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	triage_result_free(&r);

	/* a newsletter full of crisis words is still a newsletter */
	classify_h("Monthly update", "Our coalition helped 40 survivors of "
	    "trafficking. If someone is in danger, call 911. Victims are often "
	    "locked in and beaten.", "List-Id", "<news.example.org>",
	    "Precedence", "bulk", NULL, &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	ck_assert_int_eq(r.danger, 0);
	ck_assert_int_eq(r.minor, 0);
	triage_result_free(&r);

	classify_h("x", body, "X-Autoreply", "yes", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.automated, 1);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_automated_human_wins)
{
	struct triage_result r;

	/* a person writing through a list: a first-person plea wins */
	classify_h("please help", "Please help me. My boss took my passport "
	    "and locks me in the room at night. He beats me if I talk. I want "
	    "to escape tonight.", "List-Id", "<group.example.org>", NULL, NULL,
	    NULL, &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.automated, 0);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_automated_content)
{
	struct triage_result r;

	classify("Away", "I am out of the office until Monday and will have "
	    "limited access to email. For urgent matters call the front desk.",
	    &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	triage_result_free(&r);

	classify("Your mailbox is full", "Your mailbox is full. Verify your "
	    "account by clicking here to avoid suspension of service.", &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	triage_result_free(&r);

	classify("Big sale", "Limited time offer! 40% off every product. Use "
	    "promo code SPRING. Unsubscribe from these emails.", &r);
	EXPECT(r, CT_AUTOMATED, URG_NONE);
	triage_result_free(&r);

	/* a person who mentions being away is not an auto-reply */
	classify("my boss", "I was away from my desk when my boss took my "
	    "passport. He says I owe him for the visa. Please help me.", &r);
	ck_assert_int_eq(r.automated, 0);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_subject_vs_body)
{
	struct triage_result r;

	classify("URGENT help please", "What is the legal definition of "
	    "human trafficking under federal law? It is for a school report.",
	    &r);
	EXPECT(r, CT_INFO, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_other_languages)
{
	struct triage_result r;

	classify("救命", "救命！老板拿走了我的护照，不让我离开。", &r);
	ck_assert_str_eq(r.lang, "zh");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	classify("помогите", "Помогите, хозяин забрал мой паспорт и не "
	    "выпускают из дома.", &r);
	ck_assert_str_eq(r.lang, "ru");
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	classify("socorro", "Socorro, meu patrão pegou meu passaporte e não "
	    "posso sair da casa. Estou com medo.", &r);
	ck_assert_str_eq(r.lang, "pt");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	/* no lexicon at all: a person must read it now */
	classify("aide", "Bonjour, je suis enfermée dans une maison et je "
	    "travaille sans être payée. Aidez-moi.", &r);
	ck_assert_str_eq(r.lang, "fr");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	classify("", "أرجوكم ساعدوني، أخذوا جواز سفري", &r);
	ck_assert_str_eq(r.lang, "ar");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	/* a small lexicon that clearly reads a service request */
	classify("luật sư", "Tôi đã an toàn rồi. Tôi muốn tìm luật sư và tổ "
	    "chức giúp đỡ, có văn phòng nào nói tiếng Việt không?", &r);
	ck_assert_str_eq(r.lang, "vi");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_REFERRAL, URG_URGENT);
	triage_result_free(&r);

	classify("도와주세요", "도와주세요. 사장이 여권을 가져갔어요. 나갈 수 "
	    "없어요.", &r);
	ck_assert_str_eq(r.lang, "ko");
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_empty_and_hostile)
{
	struct triage_result r;
	struct message m;
	static const char junk[] = "\xff\xfe\x00" "abc\xc3";

	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(triage_classify(lex, &m, &r), 0);
	ck_assert_str_eq(r.lang, "und");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	m.text = (char *)junk;
	m.text_len = sizeof(junk) - 1;
	ck_assert_int_eq(triage_classify(lex, &m, &r), 0);
	triage_result_free(&r);
	ck_assert_int_eq(triage_classify(NULL, &m, &r), -1);
}
END_TEST

static char *
write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/test_triage_XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(test_lexicon_errors)
{
	char err[512], *p, want[128];
	struct lexicon *l;

	p = write_tmp("version = 1;\nlanguages = ( { code = \"en\"; } );\n"
	    "rules = (\n  { signal = \"crisis\";\n    regex = [ \"(unclosed\" ]; }\n);\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_ptr_null(l);
	snprintf(want, sizeof(want), "%s:5: bad pattern", p);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	unlink(p);
	free(p);

	p = write_tmp("version = 1;\nlanguages = ( { code = \"en\"; } );\n"
	    "rules = (\n  { signal = \"nonsense\"; phrases = [ \"x\" ]; }\n);\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, ":4: unknown signal") != NULL, "%s", err);
	unlink(p);
	free(p);

	p = write_tmp("version = 1;\nlanguages = ( { code = \"en\"; } );\n"
	    "rules = (\n  { signal = \"tip\";\n phrases = [ \"(a|b\" ]; }\n);\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, ":5: unbalanced") != NULL, "%s", err);
	unlink(p);
	free(p);

	p = write_tmp("version = 1;\nrules = ( ;\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, ":2: ") != NULL, "%s", err);
	unlink(p);
	free(p);

	/* the shipped file loads */
	p = xasprintf("%s/conf/triage.conf", getenv("INTAKE_TOP") ?
	    getenv("INTAKE_TOP") : ".");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	lexicon_free(l);
	free(p);
}
END_TEST

START_TEST(test_own_lexicon)
{
	char err[512], *p;
	struct lexicon *l;
	struct triage_result r;
	struct message m;

	p = write_tmp("version = 1;\nlanguages = ( { code = \"en\"; full = true;"
	    " stopwords = [ \"the\" ]; } );\n"
	    "rules = ( { signal = \"tta\"; weight = 5; lang = \"en\";"
	    " phrases = [ \"(lunch|dinner) and learn\" ]; } );\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	memset(&m, 0, sizeof(m));
	m.text = (char *)"Could the team do a Lunch   and\nLearn for us?";
	m.text_len = strlen(m.text);
	ck_assert_int_eq(triage_classify(l, &m, &r), 0);
	EXPECT(r, CT_TTA, URG_ROUTINE);
	ck_assert(has_rationale(&r, "tta: \"lunch and learn\" (tta)"));
	triage_result_free(&r);
	lexicon_free(l);
	unlink(p);
	free(p);
}
END_TEST

/* Classify text with lexicon l; the type. */
static enum call_type
own_type(struct lexicon *l, const char *text)
{
	struct triage_result r;
	struct message m;
	enum call_type t;

	memset(&m, 0, sizeof(m));
	m.text = (char *)text;
	m.text_len = strlen(text);
	ck_assert_int_eq(triage_classify(l, &m, &r), 0);
	t = r.type;
	triage_result_free(&r);
	return t;
}

/*
 * The matcher's shortcuts must not change what a phrase matches:
 * alternatives merged by first letter (took|taken|tok*), the best-word
 * check over the phrase's span of words (a gap of up to four words, "_"
 * joining two tokens into one PCRE2 word), the second-word check, and
 * `second` on regex rules.
 */
START_TEST(test_matcher_equivalence)
{
	char err[512], *p;
	struct lexicon *l;

	p = write_tmp("version = 1;\nlanguages = ( { code = \"en\"; full = true;"
	    " stopwords = [ \"the\", \"he\", \"she\", \"they\", \"a\", \"my\","
	    " \"what\", \"it\", \"of\", \"our\", \"have\", \"was\" ]; } );\n"
	    "rules = (\n"
	    " { signal = \"tta\"; weight = 5; lang = \"en\"; phrases = [ "
	    "\"(took|taken|tok*|the) ... (passport|papers)\" ]; },\n"
	    " { signal = \"info\"; weight = 5; lang = \"en\"; phrases = [ "
	    "\"(what|how) (is|s) (the|a)? (definition|meaning)\" ]; },\n"
	    " { signal = \"referral\"; weight = 5; lang = \"any\";"
	    " first = \"(she|he)\"; second = \"(is|s|was)\";"
	    " regex = [ \"\\\\b(?:she|he)(?:\\\\s*'s|\\\\s+(?:is|was))\\\\s+"
	    "(?:lost)\" ]; }\n);\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	/* every alternative, with the gap from 0 to 4 words */
	ck_assert_int_eq(own_type(l, "he took my passport"), CT_TTA);
	ck_assert_int_eq(own_type(l, "they have taken all of our papers"), CT_TTA);
	ck_assert_int_eq(own_type(l, "a token of a b c passport"), CT_TTA);
	ck_assert_int_eq(own_type(l, "the passport"), CT_TTA);
	/* five words in the gap: no match; nor a word that only starts so */
	ck_assert_int_eq(own_type(l, "he took one two three four five passport"),
	    CT_RELATED);
	ck_assert_int_eq(own_type(l, "he mistook my passports"), CT_RELATED);
	/* "a_b" is one word for PCRE2: four gap words, not five */
	ck_assert_int_eq(own_type(l, "he took snake_case one two three passport"),
	    CT_TTA);
	/* the best word far away, then near */
	ck_assert_int_eq(own_type(l, "the one two three four five six seven "
	    "eight nine passport, the x passport"), CT_TTA);
	/* second word: "what's" is what + s */
	ck_assert_int_eq(own_type(l, "What's the definition?"), CT_INFO);
	ck_assert_int_eq(own_type(l, "what was the definition"), CT_RELATED);
	/* `second` on a regex rule */
	ck_assert_int_eq(own_type(l, "The dog: she's lost."), CT_REFERRAL);
	ck_assert_int_eq(own_type(l, "he was lost"), CT_REFERRAL);
	ck_assert_int_eq(own_type(l, "she lost it"), CT_RELATED);
	lexicon_free(l);
	unlink(p);
	free(p);

	/* `second` needs `first` */
	p = write_tmp("version = 1;\nlanguages = ( { code = \"en\"; } );\n"
	    "rules = ( { signal = \"tip\"; second = \"(is)\";"
	    " regex = [ \"x\" ]; } );\n");
	l = lexicon_load(p, err, sizeof(err));
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err, "bad 'second'") != NULL, "%s", err);
	unlink(p);
	free(p);
}
END_TEST

START_TEST(test_huge_body)
{
	struct triage_result r;
	struct message m;
	size_t n = 10 * 1024 * 1024, i;
	char *text = xmalloc(n + 1);
	struct timespec t0, t1;
	double secs;

	/* worst-ish case: long words of prefix-key letters, no spaces */
	for (i = 0; i < n; i++)
		text[i] = "passport owe debt help me "[i % 26];
	memcpy(text + n - 40, " they took my passport and I owe.   ", 36);
	text[n] = '\0';
	memset(&m, 0, sizeof(m));
	m.text = text;
	m.text_len = n;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(triage_classify(lex, &m, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("info: 10 MB body classified in %.3f s\n", secs);
	ck_assert_msg(secs < 2.0, "10 MB took %.2f s", secs);
	triage_result_free(&r);
	free(text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("triage");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_crisis_self_en);
	tcase_add_test(tc, test_crisis_behalf_danger);
	tcase_add_test(tc, test_tip_routine);
	tcase_add_test(tc, test_tip_urgent_minor);
	tcase_add_test(tc, test_tta);
	tcase_add_test(tc, test_referral);
	tcase_add_test(tc, test_info);
	tcase_add_test(tc, test_related);
	tcase_add_test(tc, test_negation);
	tcase_add_test(tc, test_spanish);
	tcase_add_test(tc, test_ages);
	tcase_add_test(tc, test_automated_headers);
	tcase_add_test(tc, test_automated_human_wins);
	tcase_add_test(tc, test_automated_content);
	tcase_add_test(tc, test_subject_vs_body);
	tcase_add_test(tc, test_other_languages);
	tcase_add_test(tc, test_empty_and_hostile);
	tcase_add_test(tc, test_lexicon_errors);
	tcase_add_test(tc, test_own_lexicon);
	tcase_add_test(tc, test_matcher_equivalence);
	tcase_add_test(tc, test_huge_body);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
