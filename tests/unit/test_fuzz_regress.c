/* SPDX-License-Identifier: MIT */
/*
 * Every input the fuzzers (tests/fuzz) ever crashed on, and the inputs
 * known to crash libetpan 1.9.4, kept under tests/fixtures/fuzz-regress/
 * TARGET/ and run through the same code as the fuzz target.  Check forks
 * each test, so a crash is this test's failure; under `make check-asan`
 * a memory error aborts it.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "message.h"
#include "parsechild.h"
#include "triage.h"
#include "util.h"

#include "../fuzz/fuzz_limits.h"
#include "testlib.h"
#include "../../daemon/parsechild_p.h"

/* The HTTP source's reader is static: compiled in here, as in its fuzzer. */
#include "../../daemon/source_http.c"

typedef void (*run_fn)(const char *, size_t);

/*
 * Under LeakSanitizer (make check-asan): libetpan 1.9.4 leaks inside
 * mailimf_fields_parse on one kept input (see tests/fuzz/lsan.supp, the
 * same suppression the fuzzers use); our own leaks are still reported.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libetpan.so\n";
}

static void
run_message(const char *data, size_t len)
{
	static struct lexicon *lex;
	struct parse_limits lim;
	struct message m, back;
	struct triage_result tr;
	char *ser, *exact;
	size_t slen;

	if (lex == NULL)
		lex = lexicon_builtin();
	/* the fuzz targets' limits, so their crashers reproduce */
	fuzz_parse_limits(&lim);
	/* an exact-size copy, so ASan sees a read past the end */
	exact = xmalloc(len ? len : 1);
	memcpy(exact, data, len);
	message_parse(exact, len, &lim, &m);
	free(exact);
	ck_assert_ptr_nonnull(m.text);
	ck_assert_uint_eq(m.text_len, strlen(m.text));
	ck_assert(utf8_valid(m.text, m.text_len));
	triage_classify(lex, &m, &tr);
	triage_result_free(&tr);
	ck_assert_int_eq(message_serialize(&m, &ser, &slen), 0);
	ck_assert_int_eq(message_deserialize(ser, slen, &back), 0);
	message_free(&back);
	free(ser);
	message_free(&m);
}

static void
run_wire(const char *data, size_t len)
{
	struct message m;

	if (message_deserialize(data, len, &m) == 0)
		message_free(&m);
}

static void
run_iso8601(const char *data, size_t len)
{
	char *s = xstrndup(data, len), buf[64];
	time_t t, t2;
	int min;

	/* as the fuzz target: what parses is written back and parses again */
	if (iso8601_parse(s, &t) == 0) {
		iso8601_utc(t, buf, sizeof(buf));
		ck_assert_int_eq(iso8601_parse(buf, &t2), 0);
		ck_assert(t2 == t);
	}
	(void)parse_hhmm(s, &min);
	free(s);
}

static void
run_ics(const char *data, size_t len)
{
	char path[] = "/tmp/intake-regress-XXXXXX";
	struct config cfg;
	struct calendar *cal;
	char err[512];
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	config_defaults(&cfg);
	cfg.holidays_ics = xstrdup(path);
	cal = calendar_new(&cfg, err, sizeof(err));
	calendar_free(cal);
	config_free(&cfg);
	unlink(path);
}

static void
run_http_json(const char *data, size_t len)
{
	struct http_reply r;
	char *err = NULL;

	if (parse_reply(data, len, 4096, &r, &err) == -1)
		ck_assert_ptr_nonnull(err);
	reply_free(&r);
	free(err);
}

static const struct {
	const char	*dir;
	run_fn		 fn;
} targets[] = {
	{ "message", run_message },
	{ "wire", run_wire },
	{ "iso8601", run_iso8601 },
	{ "ics", run_ics },
	{ "http_json", run_http_json },
};

/* Runs every file of one target's directory; returns how many. */
static int
run_dir(const char *name, run_fn fn)
{
	char *dir, *path, *data;
	DIR *d;
	struct dirent *e;
	size_t len;
	int n = 0;

	dir = xasprintf("%s/tests/fixtures/fuzz-regress/%s", test_top(), name);
	d = opendir(dir);
	if (d == NULL) {
		free(dir);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		ck_assert_int_eq(read_file(path, 1 << 26, &data, &len), 0);
		fn(data, len);
		free(data);
		free(path);
		n++;
	}
	closedir(d);
	free(dir);
	return n;
}

START_TEST(test_regress)
{
	run_dir(targets[_i].dir, targets[_i].fn);
}
END_TEST

/* The message crashers through the sandboxed child too. */
START_TEST(test_regress_in_child)
{
	struct parsechild *pc;
	char *err = NULL, *dir, *path, *data;
	DIR *d;
	struct dirent *e;
	struct message m;
	size_t len;
	int n = 0;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	dir = xasprintf("%s/tests/fixtures/fuzz-regress/message", test_top());
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		ck_assert_int_eq(read_file(path, 1 << 26, &data, &len), 0);
		parsechild_parse(pc, data, len, NULL, &m);
		/* handled by our pre-scans or libetpan: never a crash */
		ck_assert_msg(m.parse_error == NULL ||
		    strcmp(m.parse_error, "parser crashed") != 0, "%s", path);
		message_free(&m);
		free(data);
		free(path);
		n++;
	}
	closedir(d);
	free(dir);
	ck_assert_int_ge(n, 3);
	parsechild_stop(pc);
}
END_TEST

static Suite *
regress_suite(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_regress, 0,
	    (int)(sizeof(targets) / sizeof(targets[0])));
	tcase_add_test(tc, test_regress_in_child);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(regress_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
