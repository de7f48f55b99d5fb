/* SPDX-License-Identifier: MIT */
/* oauth.c: base64 (RFC 4648 test vectors) and the OAUTHBEARER initial
 * response (the example of RFC 7628 section 4.1, and gs2 escaping). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"

static void
b64_is(const char *in, const char *want)
{
	char *got = oauth_base64(in, strlen(in));

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_base64_rfc4648)
{
	b64_is("", "");
	b64_is("f", "Zg==");
	b64_is("fo", "Zm8=");
	b64_is("foo", "Zm9v");
	b64_is("foob", "Zm9vYg==");
	b64_is("fooba", "Zm9vYmE=");
	b64_is("foobar", "Zm9vYmFy");
}
END_TEST

START_TEST(test_bearer_rfc7628_example)
{
	char *ir = oauth_bearer_ir("user@example.com", "server.example.com",
	    143, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");

	ck_assert_str_eq(ir, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1w"
	    "bGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQm"
	    "hiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	free(ir);
}
END_TEST

START_TEST(test_bearer_gs2_escaping)
{
	/* "n,a=a=3Db=2Cc,^Ahost=h^Aport=1^Aauth=Bearer t^A^A" */
	char *ir = oauth_bearer_ir("a=b,c", "h", 1, "t");

	ck_assert_str_eq(ir, "bixhPWE9M0RiPTJDYywBaG9zdD1oAXBvcnQ9MQFhdXRoPUJlYXJl"
	    "ciB0AQE=");
	free(ir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("oauth");
	TCase *tc = tcase_create("oauth");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_base64_rfc4648);
	tcase_add_test(tc, test_bearer_rfc7628_example);
	tcase_add_test(tc, test_bearer_gs2_escaping);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
