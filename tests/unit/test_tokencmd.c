/* SPDX-License-Identifier: MIT */
/* tokencmd.c: token_command's split rule (tokencmd.h) and the run without a
 * shell: shell syntax passed literally, stdout's first line, exit status,
 * stderr counted but never shown, stdin /dev/null, no inherited
 * descriptor, the timeout. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokencmd.h"
#include "util.h"

/* The words of cmd joined by '|', or "ERR:<reason>". */
static char *
split_str(const char *cmd)
{
	char **v, *err = NULL;
	struct buf b;
	size_t i;

	if ((v = tokencmd_split(cmd, &err)) == NULL) {
		char *s = xasprintf("ERR:%s", err);

		free(err);
		return s;
	}
	ck_assert_ptr_null(err);
	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (i = 0; v[i]; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", v[i]);
	tokencmd_argv_free(v);
	return buf_steal(&b);
}

static void
split_is(const char *cmd, const char *want)
{
	char *got = split_str(cmd);

	ck_assert_msg(strcmp(got, want) == 0, "split(%s): got [%s], want [%s]",
	    cmd, got, want);
	free(got);
}

START_TEST(test_split_words_and_quotes)
{
	split_is("oauth2ms --encode-xoauth2", "oauth2ms|--encode-xoauth2");
	split_is("  a   b\tc\n", "a|b|c");
	split_is("python3 /etc/intake/mutt_oauth2.py '/var/lib/intake/token file'",
	    "python3|/etc/intake/mutt_oauth2.py|/var/lib/intake/token file");
	split_is("a\"b c\"d", "ab cd");
	split_is("\"a\\\"b\\\\c\\d\"", "a\"b\\c\\d");	/* \" \\ only */
	split_is("a\\ b \\'x", "a b|'x");
	split_is("'a\\b' 'it\"s'", "a\\b|it\"s");
	split_is("x '' \"\"", "x||");
	split_is("a'b'\"c\"", "abc");
}
END_TEST

START_TEST(test_split_no_shell_syntax)
{
	/* Everything sh would interpret is a plain character. */
	split_is("tok $(touch X) `id` ;rm -rf / | cat > f < g & *.py ~ $HOME",
	    "tok|$(touch|X)|`id`|;rm|-rf|/|||cat|>|f|<|g|&|*.py|~|$HOME");
	split_is("printf %s \"$(id)\" ';' X", "printf|%s|$(id)|;|X");
}
END_TEST

START_TEST(test_split_refused)
{
	struct buf b;
	int i;

	split_is("a 'b", "ERR:unterminated single quote");
	split_is("a \"b\\\"", "ERR:unterminated double quote");
	split_is("a\\", "ERR:a backslash at the end");
	split_is("", "ERR:no command");
	split_is(" \t ", "ERR:no command");
	buf_init(&b, 0);
	for (i = 0; i < TOKENCMD_MAX_WORDS + 1; i++)
		buf_addstr(&b, "w ");
	split_is(b.data, "ERR:more than 256 words");
	buf_free(&b);
}
END_TEST

/* Run cmd in a fresh directory (the cwd); the token or "ERR:<err>". */
static char *
run_in(const char *dir, const char *cmd, int timeout)
{
	char *tok = NULL, *err = NULL, *s;

	ck_assert_int_eq(chdir(dir), 0);
	if (tokencmd_run(cmd, timeout, &tok, &err) == -1) {
		ck_assert_ptr_null(tok);
		ck_assert_ptr_nonnull(err);
		s = xasprintf("ERR:%s", err);
		free(err);
		return s;
	}
	ck_assert_ptr_null(err);
	return tok;
}

static char *
tmpdir(void)
{
	char *d = xstrdup("/tmp/intake-tokencmd.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static int
exists(const char *dir, const char *name)
{
	struct stat st;
	char *p = xasprintf("%s/%s", dir, name);
	int r = lstat(p, &st) == 0;

	unlink(p);
	free(p);
	return r;
}

START_TEST(test_run_metacharacters_literal)
{
	char *d = tmpdir(), *t;

	/* With sh -c this would print the output of id and run touch. */
	t = run_in(d, "printf %s \"$(id)\" ';touch' X '|' `id`", 5);
	ck_assert_str_eq(t, "$(id);touchX|`id`");
	free(t);
	ck_assert(!exists(d, "X"));
	/* touch gets the words as file names: the files have those names,
	 * and nothing else was run. */
	t = run_in(d, "touch '$(touch X)' ';touch' Y", 5);
	ck_assert_str_eq(t, "ERR:token_command printed no token");
	free(t);
	ck_assert(!exists(d, "X"));
	ck_assert(exists(d, "$(touch X)"));
	ck_assert(exists(d, ";touch"));
	ck_assert(exists(d, "Y"));
	rmdir(d);
	free(d);
}
END_TEST

START_TEST(test_run_token_and_status)
{
	char *d = tmpdir(), *t;

	t = run_in(d, "printf 'tok-1\\r\\nsecond-line\\n'", 5);
	ck_assert_str_eq(t, "tok-1");
	free(t);
	t = run_in(d, "false", 5);
	ck_assert_str_eq(t, "ERR:token_command failed (status 1)");
	free(t);
	t = run_in(d, "/nonexistent/intake-token", 5);
	ck_assert_str_eq(t, "ERR:token_command: cannot run "
	    "/nonexistent/intake-token: No such file or directory");
	free(t);
	/* stdin is /dev/null, not ours */
	t = run_in(d, "cat", 5);
	ck_assert_str_eq(t, "ERR:token_command printed no token");
	free(t);
	t = run_in(d, "a 'b", 5);
	ck_assert_str_eq(t, "ERR:token_command: unterminated single quote");
	free(t);
	rmdir(d);
	free(d);
}
END_TEST

START_TEST(test_run_stderr_not_shown)
{
	char *d = tmpdir(), *t;

	/* sh here is the command itself, named in argv, not a wrapper. */
	t = run_in(d, "sh -c 'echo hunter2-secret >&2; exit 3'", 5);
	ck_assert_str_eq(t, "ERR:token_command failed (status 3) (15 bytes "
	    "on stderr, not logged)");
	ck_assert_ptr_null(strstr(t, "hunter2"));
	free(t);
	t = run_in(d, "sh -c 'echo noise >&2; echo tok-2'", 5);
	ck_assert_str_eq(t, "tok-2");
	free(t);
	rmdir(d);
	free(d);
}
END_TEST

START_TEST(test_run_no_inherited_fd)
{
	char *d = tmpdir(), *t, *cmd;
	int fd = open("/dev/null", O_RDONLY);	/* not O_CLOEXEC */

	ck_assert_int_ge(fd, 3);
	cmd = xasprintf("readlink /proc/self/fd/%d", fd);
	t = run_in(d, cmd, 5);
	ck_assert_str_eq(t, "ERR:token_command failed (status 1)");
	free(t);
	free(cmd);
	close(fd);
	rmdir(d);
	free(d);
}
END_TEST

START_TEST(test_run_timeout)
{
	char *d = tmpdir(), *t;

	t = run_in(d, "sleep 60", 1);
	ck_assert_str_eq(t, "ERR:token_command timed out after 1 s");
	free(t);
	/* what it started is in its process group: killed too, so the
	 * pipe closes and this returns. */
	t = run_in(d, "sh -c 'sleep 60 & sleep 60'", 1);
	ck_assert_str_eq(t, "ERR:token_command timed out after 1 s");
	free(t);
	/* its output closed, still running: the timeout holds too */
	t = run_in(d, "sh -c 'exec >/dev/null 2>&1; sleep 60'", 1);
	ck_assert_str_eq(t, "ERR:token_command timed out after 1 s");
	free(t);
	rmdir(d);
	free(d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tokencmd");
	TCase *tc = tcase_create("tokencmd");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_split_words_and_quotes);
	tcase_add_test(tc, test_split_no_shell_syntax);
	tcase_add_test(tc, test_split_refused);
	tcase_add_test(tc, test_run_metacharacters_literal);
	tcase_add_test(tc, test_run_token_and_status);
	tcase_add_test(tc, test_run_stderr_not_shown);
	tcase_add_test(tc, test_run_no_inherited_fd);
	tcase_add_test(tc, test_run_timeout);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
