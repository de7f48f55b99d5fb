/* SPDX-License-Identifier: MIT */
/*
 * test_triage_lexicon.c: rules of the built-in lexicon (conf/triage.conf)
 * added after the third hold-out set (tests/fixtures/triage-blind3), on
 * wording of our own: small-language control signals, negation that must
 * not swallow them, uncovered Latin-script languages, minors without an
 * age, broken English, mailing lists and newsletters.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "triage.h"
#include "util.h"

#include "triagelib.h"

/* A control or confinement signal read in the language itself, not the
 * needs_interpreter fallback ("no clear other type"). */
static void
expect_signal(const char *lang, const char *text, const char *label)
{
	struct triage_result r;

	classify("", text, &r);
	ck_assert_msg(strcmp(r.lang, lang) == 0, "lang %s, wanted %s", r.lang,
	    lang);
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_msg(has_rationale(&r, label), "%s: no %s rule fired", lang,
	    label);
	ck_assert_msg(!has_rationale(&r, "not read well"),
	    "%s: crisis only by the fallback", lang);
	triage_result_free(&r);
}

START_TEST(test_small_languages)
{
	expect_signal("pt", "Socorro, a patroa não me deixa sair de casa.",
	    "(control)");
	expect_signal("ht", "Tanpri ede m, patwon an pa kite m soti nan kay la.",
	    "(control)");
	expect_signal("tl", "Tulungan nyo po ako, hindi po ako pinapayagang "
	    "lumabas ng bahay.", "(confinement)");
	expect_signal("vi", "Xin hãy giúp tôi, họ không cho tôi ra ngoài.",
	    "(control)");
	expect_signal("zh", "救命，我出不去，门被锁了。", "(control)");
	expect_signal("ko", "도와주세요. 외출 금지라고 해요.", "(control)");
	expect_signal("ru", "Помогите, выходить нельзя, мы на замок закрыты.",
	    "(control)");
	expect_signal("th", "ช่วยด้วย ฉันออกไปไหนไม่ได้", "(control)");
}
END_TEST

/* A neighbour's report read clearly enough to be a tip, still urgent
 * (needs_interpreter). */
START_TEST(test_small_language_tips)
{
	struct triage_result r;

	classify("", "Я хочу сообщить о цехе, где рабочих держат взаперти и "
	    "забрали у них паспорта.", &r);
	ck_assert_str_eq(r.lang, "ru");
	ck_assert_int_eq(r.needs_interpreter, 1);
	EXPECT(r, CT_TIP, URG_URGENT);
	triage_result_free(&r);

	classify("", "我想举报一家餐馆，老板拿着工人们的证件，他们从不出门。", &r);
	ck_assert_str_eq(r.lang, "zh");
	EXPECT(r, CT_TIP, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_small_language_minors)
{
	struct triage_result r;

	classify("", "Con gái tôi mới 13 tuổi, xin giúp tôi.", &r);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	classify("", "제 동생은 16세인데 도와주세요.", &r);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	/* short Portuguese that shares "que" and "para" with Spanish: read
	 * as Portuguese (needs_interpreter), not by the Spanish rules */
	classify("", "Sou professora e uma aluna de 13 anos me contou que o "
	    "padrasto a leva para encontrar homens que pagam a ele.", &r);
	ck_assert_str_eq(r.lang, "pt");
	ck_assert_int_eq(r.needs_interpreter, 1);
	ck_assert_int_eq(r.minor, 1);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

/* Negation runs on bytes: a Cyrillic or Han negation word would match
 * inside other words ("мне", "不敢") and drop the control signal. */
START_TEST(test_negation_not_inside_words)
{
	struct triage_result r;

	classify("", "Помогите мне, хозяин забрал паспорт.", &r);
	ck_assert(has_rationale(&r, "(control)"));
	triage_result_free(&r);

	classify("", "我不敢说。老板拿走了我的护照。", &r);
	ck_assert(has_rationale(&r, "(control)"));
	triage_result_free(&r);

	/* Latin-script negation still works */
	classify("", "I am not in danger and nobody took my passport, I just "
	    "have a question about the law.", &r);
	ck_assert(r.type != CT_CRISIS);
	triage_result_free(&r);
}
END_TEST

/* Detected as themselves, not as Spanish read by the Spanish rules. */
START_TEST(test_uncovered_latin_languages)
{
	static const struct {
		const char *lang, *text;
	} c[] = {
		{ "it", "Per favore aiutatemi, sono chiusa in casa e non ho "
		    "soldi, lui ha il mio passaporto." },
		{ "pl", "Prosze o pomoc, jestem zamknieta w domu, szef ma moj "
		    "paszport i nie pozwala mi wyjsc." },
		{ "ro", "Va rog ajutati-ma, sunt inchisa in casa si seful mi-a "
		    "luat pasaportul." },
		{ "id", "Tolong bantu saya, majikan mengambil paspor saya dan "
		    "saya tidak boleh keluar." },
	};
	struct triage_result r;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		classify("", c[i].text, &r);
		ck_assert_str_eq(r.lang, c[i].lang);
		ck_assert_int_eq(r.needs_interpreter, 1);
		EXPECT(r, CT_CRISIS, URG_URGENT);
		triage_result_free(&r);
	}
}
END_TEST

/* Issue 4: non-emergency messages about the exploitation of a minor may
 * be crisis; a school year or "little cousin" says minor without an age. */
START_TEST(test_minor_exploitation_is_crisis)
{
	struct triage_result r;

	classify("a student", "I'm a school nurse. One of our students, a "
	    "seventh grader, says her mother's boyfriend takes her to hotels "
	    "to meet his friends and they give him money.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	classify("my cousin", "My little cousin lives with an older man she "
	    "met on Instagram and grown men come to the apartment at night.",
	    &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	classify("online", "My son (he's 14) chats with a man who sends him "
	    "gifts and wants to meet him at a motel.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	classify("sobrina", "Mi sobrina de 14 años vive con un hombre mucho "
	    "mayor que la lleva a trabajar a un bar y no la deja regresar a "
	    "casa.", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_broken_english)
{
	struct triage_result r;

	classify("hlep", "plz hlep us, boss tak our pasports and nobody can "
	    "leve until the job finish", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);

	classify("", "the door is lock from outside every night and he watch "
	    "us on the camera, i work until i pay", &r);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_ages_im)
{
	struct triage_result r;

	classify("", "im 14 and my boyfriend makes me see his friends for "
	    "money", &r);
	ck_assert_int_eq(r.minor, 1);
	triage_result_free(&r);

	classify("", "im 15 minutes away from the office, can you call me "
	    "about the training?", &r);
	ck_assert_int_eq(r.minor, 0);
	triage_result_free(&r);
}
END_TEST

/* Out of scope: wages alone, an adult's assault, a landlord. */
START_TEST(test_related)
{
	struct triage_result r;

	classify("sueldo", "Mi patrón no me pagó la última semana. Tengo mis "
	    "papeles y puedo trabajar en otro lado. ¿Dónde puedo reclamar?",
	    &r);
	EXPECT(r, CT_RELATED, URG_ROUTINE);
	triage_result_free(&r);

	classify("", "A classmate assaulted me at a party in October. Should "
	    "I report it to the school?", &r);
	EXPECT(r, CT_RELATED, URG_ROUTINE);
	triage_result_free(&r);
}
END_TEST

/* A newsletter's survivor story does not outweigh its list headers and
 * structure; a plea sent through a mailing list (with its footer) does. */
START_TEST(test_lists_and_newsletters)
{
	struct triage_result r;

	classify_h("Spring newsletter", "Spring newsletter. Survivor "
	    "stories: \"They kept my passport and I owed them for "
	    "everything\", says Maria, who escaped a farm. Upcoming events: "
	    "join our webinar. Donate today. Unsubscribe.", "List-Id",
	    "<news.example.org>", "List-Unsubscribe",
	    "<mailto:u@example.org>", NULL, &r);
	ck_assert_int_eq(r.automated, 1);
	triage_result_free(&r);

	classify_h("help", "Please help me, my boss took my passport and I "
	    "cannot leave, he locks the door. You received this message "
	    "because you are subscribed to the group. To unsubscribe send an "
	    "email.", "List-Id", "<volunteers.example.org>", NULL, NULL, NULL,
	    &r);
	ck_assert_int_eq(r.automated, 0);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

/* Machine wording only when it says so; a person's acknowledgement and a
 * voicemail transcript inside a machine notice stay human. */
START_TEST(test_auto_confirmations)
{
	struct triage_result r;

	classify("Request received", "Thank you for contacting us. This is "
	    "an automated confirmation that your request was logged.", &r);
	ck_assert_int_eq(r.automated, 1);
	triage_result_free(&r);

	classify("Re: your client", "Hi, we received your message about the "
	    "client and will get back to you within two days. Could you send "
	    "the release form meanwhile?", &r);
	ck_assert_int_eq(r.automated, 0);
	triage_result_free(&r);

	classify("New voicemail", "You have a new voicemail. Transcription: "
	    "please help me, my boss took my passport and I cannot leave the "
	    "farm. This is an automated message, do not reply.", &r);
	ck_assert_int_eq(r.automated, 0);
	EXPECT(r, CT_CRISIS, URG_URGENT);
	triage_result_free(&r);
}
END_TEST

static Suite *
triage_lexicon_suite(void)
{
	Suite *s = suite_create("triage_lexicon");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_small_languages);
	tcase_add_test(tc, test_small_language_tips);
	tcase_add_test(tc, test_small_language_minors);
	tcase_add_test(tc, test_negation_not_inside_words);
	tcase_add_test(tc, test_uncovered_latin_languages);
	tcase_add_test(tc, test_minor_exploitation_is_crisis);
	tcase_add_test(tc, test_broken_english);
	tcase_add_test(tc, test_ages_im);
	tcase_add_test(tc, test_related);
	tcase_add_test(tc, test_lists_and_newsletters);
	tcase_add_test(tc, test_auto_confirmations);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(triage_lexicon_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
