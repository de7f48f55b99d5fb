/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calltype.h"
#include "util.h"

START_TEST(test_buf_max)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_addstr(&b, "12345678"), 0);
	ck_assert_int_eq(buf_addc(&b, 'x'), -1);
	ck_assert_str_eq(b.data, "12345678");
	buf_free(&b);
}
END_TEST

START_TEST(test_parse_uint)
{
	unsigned long long v;

	ck_assert_int_eq(parse_uint("42", 0, 100, &v), 0);
	ck_assert_int_eq((int)v, 42);
	ck_assert_int_eq(parse_uint("101", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("4x", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("99999999999999999999999", 0, ULLONG_MAX, &v), -1);
}
END_TEST

START_TEST(test_hhmm)
{
	int m;

	ck_assert_int_eq(parse_hhmm("09:30", &m), 0);
	ck_assert_int_eq(m, 570);
	ck_assert_int_eq(parse_hhmm("24:00", &m), 0);
	ck_assert_int_eq(parse_hhmm("24:01", &m), -1);
	ck_assert_int_eq(parse_hhmm("9:30", &m), -1);
	ck_assert_int_eq(parse_hhmm("09:60", &m), -1);
}
END_TEST

START_TEST(test_utf8)
{
	char *s;

	ck_assert(utf8_valid("caf\xc3\xa9", 5));
	ck_assert(!utf8_valid("caf\xe9", 4));
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	/* the word-at-a-time ASCII path: NUL, high bytes and a cut sequence
	 * at every offset of a long run */
	{
		char t[40];
		size_t i;

		memset(t, 'a', sizeof(t));
		ck_assert(utf8_valid(t, sizeof(t)));
		for (i = 0; i < sizeof(t); i++) {
			memset(t, 'a', sizeof(t));
			t[i] = '\0';
			ck_assert_msg(!utf8_valid(t, sizeof(t)), "NUL at %zu", i);
			t[i] = (char)0xe9;
			ck_assert_msg(!utf8_valid(t, sizeof(t)), "0xe9 at %zu", i);
			t[i] = 0x7f;
			ck_assert(utf8_valid(t, sizeof(t)));
			if (i + 1 < sizeof(t)) {
				t[i] = (char)0xc3;
				t[i + 1] = (char)0xa9;
				ck_assert_msg(utf8_valid(t, sizeof(t)),
				    "e-acute at %zu", i);
				ck_assert(!utf8_valid(t, i + 1));
			}
		}
	}
	s = utf8_sanitize("a\xe9" "b\0c", 5);
	ck_assert_str_eq(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
	free(s);
	s = utf8_truncate("\xc3\xa9\xc3\xa9", 3);
	ck_assert_str_eq(s, "\xc3\xa9");
	free(s);
}
END_TEST

/* utf8_valid's fast path gives utf8_sanitize's answer (which keeps a
 * string unchanged exactly when it is valid): all 1- and 2-byte strings,
 * 3- and 4-byte ones led by 0xc0-0xff with the later bytes on each side
 * of every boundary. */
static int
sanitize_keeps(const unsigned char *p, size_t n)
{
	char *s = utf8_sanitize((const char *)p, n);
	int same = strlen(s) == n && memcmp(s, p, n) == 0;

	free(s);
	return same;
}

START_TEST(test_utf8_valid_matches_sanitize)
{
	static const unsigned char tail[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
	    0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff };
	unsigned char p[4];
	unsigned a, b, c, d;

	for (a = 0; a < 256; a++) {
		p[0] = (unsigned char)a;
		ck_assert_int_eq(utf8_valid((char *)p, 1), sanitize_keeps(p, 1));
		for (b = 0; b < 256; b++) {
			p[1] = (unsigned char)b;
			ck_assert_int_eq(utf8_valid((char *)p, 2),
			    sanitize_keeps(p, 2));
			if (a < 0xc0)
				continue;
			for (c = 0; c < sizeof(tail); c++) {
				p[2] = tail[c];
				ck_assert_int_eq(utf8_valid((char *)p, 3),
				    sanitize_keeps(p, 3));
			}
			if (a < 0xf0)
				continue;
			for (c = 0; c < sizeof(tail); c++)
				for (d = 0; d < sizeof(tail); d++) {
					p[2] = tail[c];
					p[3] = tail[d];
					ck_assert_int_eq(utf8_valid((char *)p, 4),
					    sanitize_keeps(p, 4));
				}
		}
	}
	/* long strings (the word path, the 16-byte steps): pieces of valid
	 * and invalid UTF-8 and ASCII runs glued at random */
	{
		static const char *const piece[] = { "a", "abcdefgh",
		    "0123456789abcdef", "\xc3\xa9", "\xe2\x82\xac",
		    "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
		    "\xc3", "\xe2\x82", "\x80", "\xed\xa0\x80", "\xc0\xaf",
		    "\xf4\x90\x80\x80", "\xff", "" };
		unsigned char buf[24 * 16];
		uint32_t seed = 1;
		size_t len, k;
		int i, j, npieces, valid = 0;

		for (i = 0; i < 20000; i++) {
			len = 0;
			npieces = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 24;
			for (j = 0; j < npieces; j++) {
				seed = seed * 1103515245u + 12345u;
				/* mostly valid pieces, so that some strings are */
				k = (seed >> 16) % 100 < 97 ? (seed >> 8) % 8 :
				    (seed >> 8) % (sizeof(piece) / sizeof(piece[0]));
				memcpy(buf + len, piece[k], strlen(piece[k]));
				len += strlen(piece[k]);
			}
			ck_assert_int_eq(utf8_valid((char *)buf, len),
			    sanitize_keeps(buf, len));
			valid += sanitize_keeps(buf, len);
		}
		/* both kinds were seen */
		ck_assert_int_gt(valid, 1000);
		ck_assert_int_lt(valid, 19000);
	}
}
END_TEST

START_TEST(test_sha256)
{
	char hex[65];

	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_iso8601)
{
	time_t t;
	char out[40];

	ck_assert_int_eq(iso8601_parse("2026-11-27T20:00:00-05:00", &t), 0);
	ck_assert_int_eq((long)t, 1795827600L);
	ck_assert_int_eq(iso8601_parse("2026-11-28T01:00:00Z", &t), 0);
	ck_assert_int_eq((long)t, 1795827600L);
	ck_assert_int_eq(iso8601_parse("2026-11-28T01:00:00.999Z", &t), 0);
	ck_assert_int_eq((long)t, 1795827600L);
	ck_assert_int_eq(iso8601_parse("2026-11-28T01:00:00", &t), -1);
	ck_assert_int_eq(iso8601_parse("2026-02-30T01:00:00Z", &t), -1);
	ck_assert_int_eq(iso8601_parse("2026-11-28T01:00:00+5:00", &t), -1);
	ck_assert_int_eq(iso8601_parse("2026-11-28T01:00:00Zjunk", &t), -1);
	setenv("TZ", "America/New_York", 1);
	tzset();
	iso8601_local(1795827600L, out, sizeof(out));
	ck_assert_str_eq(out, "2026-11-27T20:00:00-05:00");
	iso8601_utc(1795827600L, out, sizeof(out));
	ck_assert_str_eq(out, "2026-11-28T01:00:00Z");
}
END_TEST

START_TEST(test_escape)
{
	char *s = str_escape("a\nb\x1b[31m", 100);

	ck_assert_str_eq(s, "a\\x0ab\\x1b[31m");
	free(s);
}
END_TEST

START_TEST(test_calltype)
{
	enum call_type t;

	ck_assert_int_eq(call_type_parse("referral", &t), 0);
	ck_assert_int_eq(t, CT_REFERRAL);
	ck_assert_int_eq(call_type_parse("bogus", &t), -1);
	ck_assert_int_eq(urgency_effective(CT_CRISIS, URG_ROUTINE), URG_URGENT);
	ck_assert_int_eq(urgency_effective(CT_INFO, URG_URGENT), URG_ROUTINE);
	ck_assert_int_eq(urgency_effective(CT_TIP, URG_URGENT), URG_URGENT);
	ck_assert_int_eq(urgency_effective(CT_AUTOMATED, URG_URGENT), URG_NONE);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	/* the UTF-8 comparisons take a second or two under ASan */
	tcase_set_timeout(tc, 60);

	tcase_add_test(tc, test_buf_max);
	tcase_add_test(tc, test_parse_uint);
	tcase_add_test(tc, test_hhmm);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_utf8_valid_matches_sanitize);
	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_iso8601);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_calltype);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
