/* SPDX-License-Identifier: MIT */
/* The logger: no control character from a message reaches the journal or
 * a terminal raw (issue 12 item 19), and journald gets its <N> prefix. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void
clean(const char *in, const char *want)
{
	char out[256];

	log_sanitize(in, out, sizeof(out));
	ck_assert_str_eq(out, want);
}

START_TEST(test_controls_escaped)
{
	clean("plain text, tab\tkept", "plain text, tab\tkept");
	clean("new\nline forged", "new line forged");
	clean("esc \033]0;owned\007 title", "esc \\x1b]0;owned\\x07 title");
	clean("del \177", "del \\x7f");
	/* C1 CSI (U+009B) and NEL (U+0085) as UTF-8 */
	clean("c1 \xc2\x9b" "2J \xc2\x85", "c1 \\u009b2J \\u0085");
	/* RLO U+202E, LRI U+2066, PDI U+2069 */
	clean("file \xe2\x80\xae" "fdp.exe", "file \\u202efdp.exe");
	clean("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069");
	/* ordinary non-ASCII stays */
	clean("ni\xc3\xb1" "a \xe2\x80\x94 ok", "ni\xc3\xb1" "a \xe2\x80\x94 ok");
}
END_TEST

START_TEST(test_truncates_whole_escapes)
{
	char out[8];

	log_sanitize("ab\033\033\033", out, sizeof(out));
	/* "ab\x1b" fits (6 bytes), a second escape would not */
	ck_assert_str_eq(out, "ab\\x1b");
}
END_TEST

/* stderr to a file (not a tty): one line, <N>name: prefix, escaped */
START_TEST(test_journal_line)
{
	char path[] = "/tmp/intake-logtest-XXXXXX", buf[512];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	log_init("intaked", LOG_PRI_INFO);
	log_msg(LOG_PRI_ERR, "maildir: %s", "cur/x\n<3>intaked: forged\033[2J");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf,
	    "<3>intaked: maildir: cur/x <3>intaked: forged\\x1b[2J\n");
	ck_assert_ptr_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
}
END_TEST

/* a library's own fprintf(stderr) line gets the prefix, ours do not */
START_TEST(test_stray_lines)
{
	char path[] = "/tmp/intake-logtest-XXXXXX", buf[512];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f, *orig = stderr;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	log_init("intaked", LOG_PRI_INFO);
	ck_assert_int_eq(log_capture_stray(), 0);
	fprintf(stderr, "GnuTLS error: %s\n", "The TLS connection was non-properly terminated.");
	log_msg(LOG_PRI_ERR, "ours");
	fprintf(stderr, "two\nlines\033[1m\n");
	fprintf(stderr, "no newline at exit");
	fclose(stderr);
	stderr = orig;
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "<4>intaked: GnuTLS error: The TLS connection was non-properly terminated.\n");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "<3>intaked: ours\n");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "<4>intaked: two\n");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "<4>intaked: lines\\x1b[1m\n");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "<4>intaked: no newline at exit\n");
	fclose(f);
	unlink(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_controls_escaped);
	tcase_add_test(tc, test_truncates_whole_escapes);
	tcase_add_test(tc, test_journal_line);
	tcase_add_test(tc, test_stray_lines);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
