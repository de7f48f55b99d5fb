/* SPDX-License-Identifier: MIT */
/*
 * tlsverify: chain, host name (DNS and IP SANs), pin, tls_verify = false,
 * against fixture certificates (tests/fixtures/tls, valid until 2126):
 * ca.pem signs server.der (SAN DNS:mail.example.org, IP:127.0.0.1);
 * other-ca.pem is unrelated.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsverify.h"
#include "util.h"

#define PIN "907dabaa9a9c0da625364e54aa05d86d931509e04436bd3e709212bb6ae335b7"

static char *der;
static size_t derlen;
static char ca[4096], other[4096];

static void
setup(void)
{
	const char *top = getenv("INTAKE_TOP");
	char path[4096];

	if (top == NULL)
		top = ".";
	snprintf(path, sizeof(path), "%s/tests/fixtures/tls/server.der", top);
	ck_assert_int_eq(read_file(path, 1 << 20, &der, &derlen), 0);
	snprintf(ca, sizeof(ca), "%s/tests/fixtures/tls/ca.pem", top);
	snprintf(other, sizeof(other), "%s/tests/fixtures/tls/other-ca.pem", top);
}

static void
teardown(void)
{
	free(der);
}

/* 0 or -1; the error, if any, must mention want. */
static int
verify(const char *host, const char *cafile, const char *pin, int on,
    const char *want)
{
	struct tlsverify_opts o = { host, cafile, pin, on };
	struct tlsverify_cert c = { (const unsigned char *)der, derlen };
	char *err = NULL;
	int rc;

	rc = tlsverify_chain(&o, &c, 1, &err);
	if (rc == -1) {
		ck_assert_ptr_nonnull(err);
		if (want)
			ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	} else
		ck_assert_ptr_null(err);
	free(err);
	return rc;
}

START_TEST(test_dns_name)
{
	ck_assert_int_eq(verify("mail.example.org", ca, NULL, 1, NULL), 0);
	ck_assert_int_eq(verify("MAIL.example.org.", ca, NULL, 1, NULL), 0);
	ck_assert_int_eq(verify("imap.example.org", ca, NULL, 1,
	    "does not match"), -1);
	ck_assert_int_eq(verify("example.org", ca, NULL, 1, "does not match"), -1);
}
END_TEST

START_TEST(test_ip_san)
{
	ck_assert_int_eq(verify("127.0.0.1", ca, NULL, 1, NULL), 0);
	ck_assert_int_eq(verify("127.0.0.2", ca, NULL, 1, "does not match"), -1);
	ck_assert_int_eq(verify("::1", ca, NULL, 1, "does not match"), -1);
}
END_TEST

START_TEST(test_untrusted)
{
	ck_assert_int_eq(verify("mail.example.org", other, NULL, 1,
	    "NOT trusted"), -1);
	/* The system store does not know the fixture CA. */
	ck_assert_int_eq(verify("mail.example.org", NULL, NULL, 1,
	    "NOT trusted"), -1);
	ck_assert_int_eq(verify("mail.example.org", "/nonexistent.pem", NULL, 1,
	    "ca_file"), -1);
}
END_TEST

START_TEST(test_pin)
{
	char upper[65];
	size_t i;

	ck_assert_int_eq(verify("mail.example.org", ca, PIN, 1, NULL), 0);
	for (i = 0; i < 64; i++)
		upper[i] = (char)(PIN[i] >= 'a' ? PIN[i] - 32 : PIN[i]);
	upper[64] = '\0';
	ck_assert_int_eq(verify("mail.example.org", ca, upper, 1, NULL), 0);
	ck_assert_int_eq(verify("mail.example.org", ca,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    1, "pin mismatch"), -1);
	/* The pin is the trust decision: no CA, no name needed. */
	ck_assert_int_eq(verify("other.example", other, PIN, 1, NULL), 0);
	ck_assert_int_eq(verify("mail.example.org", NULL,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    1, "pin mismatch"), -1);
}
END_TEST

START_TEST(test_verify_off)
{
	ck_assert_int_eq(verify("wrong.example", other, NULL, 0, NULL), 0);
	/* ... but a configured pin still does. */
	ck_assert_int_eq(verify("wrong.example", other,
	    "1111111111111111111111111111111111111111111111111111111111111111",
	    0, "pin mismatch"), -1);
	ck_assert_int_eq(verify("wrong.example", other, PIN, 0, NULL), 0);
}
END_TEST

START_TEST(test_bad_input)
{
	struct tlsverify_opts o = { "mail.example.org", NULL, NULL, 1 };
	struct tlsverify_cert junk = { (const unsigned char *)"junk", 4 };
	char *err = NULL, *h;

	ck_assert_int_eq(tlsverify_chain(&o, NULL, 0, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no certificate"));
	free(err);
	o.ca_file = ca;
	ck_assert_int_eq(tlsverify_chain(&o, &junk, 1, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unreadable"));
	free(err);
	h = tlsverify_hostname("imap.example.org.");
	ck_assert_str_eq(h, "imap.example.org");
	free(h);
	h = tlsverify_hostname(".");
	ck_assert_str_eq(h, ".");
	free(h);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tlsverify");
	TCase *tc = tcase_create("tlsverify");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dns_name);
	tcase_add_test(tc, test_ip_san);
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_pin);
	tcase_add_test(tc, test_verify_off);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
