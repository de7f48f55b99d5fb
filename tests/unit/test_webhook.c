/* SPDX-License-Identifier: MIT */
/*
 * test_webhook: the push channels' signature schemes against the values
 * their providers publish (not values we computed ourselves), the checks
 * a request passes before it is parsed, and the mapping to messages.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "webhook.h"

/* Twilio's webhook-security documentation: the worked example. */
#define TW_URL	"https://mycompany.com/myapp.php?foo=1&bar=2"
#define TW_FORM	"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&" \
		"From=%2B12349013030&To=%2B18005551212"
#define TW_SIG	"0/KCTR6DLpKmkAf8muzZqo1nDgQ="

/* Twilio's JSON variant (bodySHA256): the test vector of Twilio's own
 * helper library (twilio-node, spec/validation.spec.js). */
#define TWJ_BODY	"{\"property\": \"value\", \"boolean\": true}"
#define TWJ_HASH	"0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
#define TWJ_URL		TW_URL "&bodySHA256=" TWJ_HASH
#define TWJ_SIG		"a9nBmqA0ju/hNViExpshrM61xv4="

/* The Standard Webhooks specification's example. */
#define SW_SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID		"msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS		"1614265330"
#define SW_BODY		"{\"test\": 2432232314}"
#define SW_SIG		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

/* What a case hands wh_check, wh_parse and wh_raw_record. */
struct fixture {
	struct source_config	 sc;
	struct wh_secrets	 sec;
	struct wh_request	 rq;
	struct wh_batch		 b;
	const char		*why;
};

static void
set_body(struct fixture *f, const char *body)
{
	f->rq.body = body;
	f->rq.body_len = strlen(body);
}

/* A POST of body to a source of this type, at the path of Twilio's
 * published example and with its token (wh_parse reads neither). */
static void
fixture(struct fixture *f, enum source_type type, const char *body)
{
	memset(f, 0, sizeof(*f));
	f->sc.type = type;
	f->sc.public_url = (char *)"https://mycompany.com/myapp.php";
	f->sec.key = (unsigned char *)"12345";
	f->sec.keylen = 5;
	f->rq.method = "POST";
	set_body(f, body);
}

static int
check(struct fixture *f)
{
	return wh_check(&f->sc, &f->sec, &f->rq, 0, &f->why);
}

static int
parse(struct fixture *f)
{
	return wh_parse(f->sc.type, &f->rq, 1 << 20, &f->b, &f->why);
}

START_TEST(test_twilio_published_example)
{
	char out[29];
	/* the same parameters in another order sign the same */
	const char *shuffled = "To=%2B18005551212&Digits=1234&From=%2B12349013030"
	    "&Caller=%2B12349013030&CallSid=CA1234567890ABCDE";

	ck_assert_int_eq(wh_twilio_sign((const unsigned char *)"12345", 5,
	    TW_URL, TW_FORM, strlen(TW_FORM), out), 0);
	ck_assert_str_eq(out, TW_SIG);
	ck_assert(wh_twilio_verify((const unsigned char *)"12345", 5, TW_URL,
	    shuffled, strlen(shuffled), TW_SIG));
	/* another token, another URL, a changed parameter: refused */
	ck_assert(!wh_twilio_verify((const unsigned char *)"12346", 5, TW_URL,
	    TW_FORM, strlen(TW_FORM), TW_SIG));
	ck_assert(!wh_twilio_verify((const unsigned char *)"12345", 5,
	    "https://mycompany.com/myapp.php?foo=1&bar=3", TW_FORM,
	    strlen(TW_FORM), TW_SIG));
	ck_assert(!wh_twilio_verify((const unsigned char *)"12345", 5, TW_URL,
	    "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1235&"
	    "From=%2B12349013030&To=%2B18005551212", strlen(TW_FORM), TW_SIG));
	ck_assert(!wh_twilio_verify((const unsigned char *)"12345", 5, TW_URL,
	    TW_FORM, strlen(TW_FORM), NULL));
	ck_assert(!wh_twilio_verify((const unsigned char *)"12345", 5, TW_URL,
	    TW_FORM, strlen(TW_FORM), "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
}
END_TEST

START_TEST(test_standard_webhooks_published_example)
{
	unsigned char *key;
	size_t klen;
	time_t now = 1614265330;

	ck_assert_int_eq(wh_std_key(SW_SECRET, &key, &klen), 0);
	ck_assert_uint_eq(klen, 24);
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS, SW_BODY,
	    strlen(SW_BODY), SW_SIG, now), WH_OK);
	/* several signatures (key rotation): one good one suffices */
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS, SW_BODY,
	    strlen(SW_BODY), "v1,Zm9vYmFy v2,xyz " SW_SIG, now), WH_OK);
	/* the window: 5 minutes either way */
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS, SW_BODY,
	    strlen(SW_BODY), SW_SIG, now + 300), WH_OK);
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS, SW_BODY,
	    strlen(SW_BODY), SW_SIG, now + 301), WH_STALE);
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS, SW_BODY,
	    strlen(SW_BODY), SW_SIG, now - 301), WH_STALE);
	/* one byte of the body, the id or the timestamp changed */
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS,
	    "{\"test\": 2432232315}", strlen(SW_BODY), SW_SIG, now), WH_BADSIG);
	ck_assert_int_eq(wh_std_verify(key, klen, "msg_p5jXN8AQM9LWM0D4loKWxJeK",
	    SW_TS, SW_BODY, strlen(SW_BODY), SW_SIG, now), WH_BADSIG);
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, "1614265331", SW_BODY,
	    strlen(SW_BODY), SW_SIG, now), WH_BADSIG);
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, SW_TS, SW_BODY,
	    strlen(SW_BODY), "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    now), WH_BADSIG);
	ck_assert_int_eq(wh_std_verify(key, klen, NULL, SW_TS, SW_BODY,
	    strlen(SW_BODY), SW_SIG, now), WH_NOSIG);
	ck_assert_int_eq(wh_std_verify(key, klen, SW_ID, "soon", SW_BODY,
	    strlen(SW_BODY), SW_SIG, now), WH_NOSIG);
	free(key);
	ck_assert_int_eq(wh_std_key("whsec_!!!!", &key, &klen), -1);
}
END_TEST

/* X-Hub-Signature-256: Meta documents the scheme, not a worked value;
 * this one is RFC 4231's test case 2 (HMAC-SHA256, key "Jefe"). */
START_TEST(test_hub_signature)
{
	const char *body = "what do ya want for nothing?";
	const char *sig = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739"
	    "839dec58b964ec3843";

	ck_assert(wh_hub_verify((const unsigned char *)"Jefe", 4, body,
	    strlen(body), sig));
	ck_assert(wh_hub_verify((const unsigned char *)"Jefe", 4, body,
	    strlen(body), "sha256=5BDCC146BF60754E6A042426089575C75A003F089D2739"
	    "839DEC58B964EC3843"));
	ck_assert(!wh_hub_verify((const unsigned char *)"Jefe", 4, body,
	    strlen(body) - 1, sig));
	ck_assert(!wh_hub_verify((const unsigned char *)"Jefe", 4, body,
	    strlen(body), sig + 7));
	ck_assert(!wh_hub_verify((const unsigned char *)"Jefe", 4, body,
	    strlen(body), "sha1=5bdcc146bf60754e6a042426089575c75a003f08"));
}
END_TEST

START_TEST(test_twilio_json_published_example)
{
	const unsigned char *tok = (const unsigned char *)"12345";
	struct fixture f;

	ck_assert(wh_twilio_verify_json(tok, 5, TWJ_URL, TWJ_BODY,
	    strlen(TWJ_BODY), TWJ_SIG));
	/* another body: its hash is not the URL's */
	ck_assert(!wh_twilio_verify_json(tok, 5, TWJ_URL, TWJ_BODY,
	    strlen(TWJ_BODY) - 1, TWJ_SIG));
	ck_assert(!wh_twilio_verify_json(tok, 4, TWJ_URL, TWJ_BODY,
	    strlen(TWJ_BODY), TWJ_SIG));
	/* no bodySHA256: not the JSON scheme */
	ck_assert(!wh_twilio_verify_json(tok, 5, TW_URL, TWJ_BODY,
	    strlen(TWJ_BODY), TWJ_SIG));
	/* through the checks, with the query as received */
	fixture(&f, SOURCE_TWILIO, TWJ_BODY);
	f.rq.query = "foo=1&bar=2&bodySHA256=" TWJ_HASH;
	f.rq.content_type = "application/json";
	f.rq.signature = TWJ_SIG;
	ck_assert_int_eq(check(&f), 0);
	set_body(&f, "{\"property\": \"value\", \"boolean\": false}");
	ck_assert_int_eq(check(&f), 401);
}
END_TEST

/* The JSON variant's message, and a multi-part SMS Twilio joined. */
START_TEST(test_twilio_json_segments)
{
	struct fixture f;

	fixture(&f, SOURCE_TWILIO, "{\"MessageSid\":\"SMJ1\","
	    "\"From\":\"+15551234567\",\"Body\":\"part one and part two\","
	    "\"NumSegments\":\"2\",\"NumMedia\":0}");
	f.rq.content_type = "application/json";
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_str_eq(f.b.v[0].key, "SMJ1");
	ck_assert_str_eq(f.b.v[0].from, "+15551234567");
	ck_assert_str_eq(f.b.v[0].text, "part one and part two");
	ck_assert_int_eq(f.b.v[0].segments, 2);
	wh_batch_free(&f.b);
	set_body(&f, "[1]");
	ck_assert_int_eq(parse(&f), -1);
	/* an object without MessageSid (found leaking by fuzz_webhook) */
	set_body(&f, "{\"text\":\"e_om\"}");
	ck_assert_int_eq(parse(&f), -1);
	f.rq.content_type = NULL;
	set_body(&f, "MessageSid=SM2&Body=x&NumSegments=1");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_int_eq(f.b.v[0].segments, 0);
	wh_batch_free(&f.b);
	set_body(&f, "MessageSid=SM2&Body=x&NumSegments=3");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_int_eq(f.b.v[0].segments, 3);
	wh_batch_free(&f.b);
}
END_TEST

START_TEST(test_check_order)
{
	struct fixture f;

	fixture(&f, SOURCE_TWILIO, TW_FORM);
	f.rq.query = "foo=1&bar=2";
	f.rq.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	f.rq.signature = TW_SIG;
	ck_assert_int_eq(check(&f), 0);
	f.rq.signature = "1/KCTR6DLpKmkAf8muzZqo1nDgQ=";
	ck_assert_int_eq(check(&f), 401);
	f.rq.signature = NULL;
	ck_assert_int_eq(check(&f), 401);
	f.rq.content_type = "text/plain";
	ck_assert_int_eq(check(&f), 415);
	f.rq.content_type = "application/x-www-form-urlencodedX";
	ck_assert_int_eq(check(&f), 415);
	f.rq.method = "PUT";
	ck_assert_int_eq(check(&f), 405);
}
END_TEST

START_TEST(test_twilio_message)
{
	const char *form = "MessageSid=SM123&From=%2B15551234567&To=%2B15557654321"
	    "&Body=help+me%0D%0Anow%00%FF&NumMedia=1&MediaUrl0=https%3A%2F%2F"
	    "api.twilio.com%2Fm%2F1&MediaContentType0=image%2Fjpeg";
	struct fixture f;

	fixture(&f, SOURCE_TWILIO, form);
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(f.b.n, 1);
	ck_assert_str_eq(f.b.v[0].key, "SM123");
	ck_assert_str_eq(f.b.v[0].from, "+15551234567");
	ck_assert_str_eq(f.b.v[0].to, "+15557654321");
	ck_assert_str_eq(f.b.v[0].subject, "SMS +15551234567");
	/* the NUL and the invalid byte become U+FFFD */
	ck_assert_str_eq(f.b.v[0].text, "help me\r\nnow\xef\xbf\xbd\xef\xbf\xbd"
	    "\n\n[media 0: image/jpeg https://api.twilio.com/m/1]");
	wh_batch_free(&f.b);
	set_body(&f, "From=%2B1555&Body=x");
	ck_assert_int_eq(parse(&f), -1);
	/* CR/LF in From cannot forge a line */
	set_body(&f, "MessageSid=SM1&From=%2B1%0D%0AX-Evil%3A+1&Body=");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_str_eq(f.b.v[0].from, "+1  X-Evil: 1");
	ck_assert_str_eq(f.b.v[0].text, "");
	wh_batch_free(&f.b);
}
END_TEST

START_TEST(test_whatsapp_messages)
{
	const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":"
	    "[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":"
	    "{\"messaging_product\":\"whatsapp\",\"metadata\":"
	    "{\"display_phone_number\":\"15550001111\",\"phone_number_id\":\"9\"},"
	    "\"contacts\":[{\"profile\":{\"name\":\"Ana\"},\"wa_id\":\"15551234567\"}],"
	    "\"messages\":[{\"from\":\"15551234567\",\"id\":\"wamid.A1\","
	    "\"timestamp\":\"1700000000\",\"type\":\"text\",\"text\":{\"body\":"
	    "\"I need help\"}},{\"from\":\"15551234567\",\"id\":\"wamid.A2\","
	    "\"type\":\"image\",\"image\":{\"caption\":\"where I am\",\"id\":\"7\"}}]}}]},"
	    "{\"changes\":[{\"value\":{\"statuses\":[{\"id\":\"wamid.S\"}]}}]}]}";
	struct fixture f;

	fixture(&f, SOURCE_WHATSAPP, body);
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(f.b.n, 2);
	ck_assert_str_eq(f.b.v[0].key, "wamid.A1");
	ck_assert_str_eq(f.b.v[0].from, "+15551234567");
	ck_assert_str_eq(f.b.v[0].name, "Ana");
	ck_assert_str_eq(f.b.v[0].to, "15550001111");
	ck_assert_str_eq(f.b.v[0].text, "I need help");
	ck_assert_str_eq(f.b.v[1].text, "[image message]\n\nwhere I am");
	wh_batch_free(&f.b);
	set_body(&f,
	    "{\"entry\":[{\"changes\":[{\"value\":{\"statuses\":[]}}]}]}");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(f.b.n, 0);
	wh_batch_free(&f.b);
	set_body(&f, "[1,2");
	ck_assert_int_eq(parse(&f), -1);
}
END_TEST

START_TEST(test_form_anonymous)
{
	struct fixture f;
	char *rec;
	size_t len;

	fixture(&f, SOURCE_WEBHOOK,
	    "{\"text\":\"they took my passport\",\"from\":\"\"}");
	f.rq.path = "/form";
	f.rq.content_type = "application/json";
	f.rq.wh_id = "msg_1";
	f.rq.wh_timestamp = "1700000000";
	f.rq.signature = "v1,xx";
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(f.b.n, 1);
	ck_assert_str_eq(f.b.v[0].key, "msg_1");
	ck_assert_ptr_null(f.b.v[0].from);
	ck_assert_str_eq(f.b.v[0].subject, "Web form");
	ck_assert_str_eq(f.b.v[0].text, "they took my passport");
	wh_batch_free(&f.b);
	rec = wh_raw_record(SOURCE_WEBHOOK, &f.rq, &len);
	ck_assert_str_eq(rec, "POST /form\r\nContent-Type: application/json\r\n"
	    "webhook-signature: v1,xx\r\nwebhook-id: msg_1\r\n"
	    "webhook-timestamp: 1700000000\r\n\r\n"
	    "{\"text\":\"they took my passport\",\"from\":\"\"}");
	ck_assert_uint_eq(len, strlen(rec));
	free(rec);
	set_body(&f, "{\"from\":\"a@b\"}");
	ck_assert_int_eq(parse(&f), -1);
}
END_TEST

/* Carrier keywords: a whole text that is one, in any case, flagged;
 * a keyword inside a sentence is not one. */
START_TEST(test_carrier_keywords)
{
	static const struct { const char *body, *opt, *want; } t[] = {
		{ "STOP", NULL, "STOP" },
		{ "  stop.\r\n", NULL, "STOP" },
		{ "Unsubscribe!", NULL, "UNSUBSCRIBE" },
		{ "help", NULL, "HELP" },
		{ "Start", NULL, "START" },
		{ "please stop", NULL, NULL },
		{ "help me", NULL, NULL },
		{ "stopp", NULL, NULL },
		{ "", NULL, NULL },
		{ "yes", "START", "START" },
		{ "ok", "BOGUS", NULL },
	};
	struct fixture f;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *k = wh_carrier_keyword(t[i].body, strlen(t[i].body),
		    t[i].opt);

		if (t[i].want == NULL)
			ck_assert_msg(k == NULL, "%s: %s", t[i].body, k);
		else
			ck_assert_msg(k && strcmp(k, t[i].want) == 0, "%s", t[i].body);
	}
	fixture(&f, SOURCE_TWILIO,
	    "MessageSid=SM9&From=%2B15551234567&Body=STOP");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_str_eq(f.b.v[0].keyword, "STOP");
	/* never dropped: the text is kept as sent */
	ck_assert_str_eq(f.b.v[0].text, "STOP");
	wh_batch_free(&f.b);
	set_body(&f, "MessageSid=SM9&From=%2B15551234567&Body=stop+it+now");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert(f.b.v[0].keyword == NULL);
	wh_batch_free(&f.b);
	set_body(&f, "MessageSid=SM9&Body=Yes&OptOutType=START");
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_str_eq(f.b.v[0].keyword, "START");
	wh_batch_free(&f.b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_twilio_published_example);
	tcase_add_test(tc, test_standard_webhooks_published_example);
	tcase_add_test(tc, test_hub_signature);
	tcase_add_test(tc, test_check_order);
	tcase_add_test(tc, test_twilio_message);
	tcase_add_test(tc, test_whatsapp_messages);
	tcase_add_test(tc, test_form_anonymous);
	tcase_add_test(tc, test_carrier_keywords);
	tcase_add_test(tc, test_twilio_json_published_example);
	tcase_add_test(tc, test_twilio_json_segments);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
