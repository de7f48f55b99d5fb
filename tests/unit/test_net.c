/* SPDX-License-Identifier: MIT */
/* net.c: the one loopback check (issue 13; issue 12 item 18). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

static const struct {
	const char	*host;
	int		 literal;	/* host_is_loopback_literal() */
	int		 loopback;	/* host_is_loopback() */
} cases[] = {
	{ "127.0.0.1", 1, 1 },
	{ "127.1.2.3", 1, 1 },
	{ "::1", 1, 1 },
	{ "[::1]", 1, 1 },
	{ "::ffff:127.0.0.1", 1, 1 },
	{ "localhost", 1, 1 },
	{ "LOCALHOST.", 1, 1 },
	{ "128.0.0.1", 0, 0 },
	{ "10.0.0.1", 0, 0 },
	{ "::2", 0, 0 },
	{ "::ffff:10.0.0.1", 0, 0 },
	{ "[127.example.net]", 0, 0 },
	{ "", 0, 0 },
	/* Names that merely look like loopback: only what they resolve to
	 * counts, and these resolve to nothing (reserved names). */
	{ "127.example.net", -1, 0 },
	{ "127.mail.example.net", -1, 0 },
	{ "127.0.0.1.invalid", -1, 0 },
	{ "localhost.example.net", -1, 0 },
};

START_TEST(test_hosts)
{
	ck_assert_msg(host_is_loopback_literal(cases[_i].host) ==
	    cases[_i].literal, "%s: literal", cases[_i].host);
	ck_assert_msg(host_is_loopback(cases[_i].host) == cases[_i].loopback,
	    "%s: loopback", cases[_i].host);
}
END_TEST

START_TEST(test_sockaddr)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.53", &s4.sin_addr), 1);
	ck_assert_int_eq(net_addr_is_loopback((struct sockaddr *)&s4), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr), 1);
	ck_assert_int_eq(net_addr_is_loopback((struct sockaddr *)&s4), 0);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::1", &s6.sin6_addr), 1);
	ck_assert_int_eq(net_addr_is_loopback((struct sockaddr *)&s6), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr), 1);
	ck_assert_int_eq(net_addr_is_loopback((struct sockaddr *)&s6), 0);
	ck_assert_int_eq(net_addr_is_loopback(NULL), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("loopback");
	SRunner *sr;
	int nf;

	/* A lookup may wait for an unreachable DNS server (5 s each). */
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_hosts, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_sockaddr);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
