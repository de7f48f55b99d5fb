/* SPDX-License-Identifier: MIT */
/*
 * html.c is linear in its input for every construct (issue 12 item 1: a
 * page of unclosed <title> was quadratic, 1 MB took 44 s).  Each
 * pathological pattern is parsed at 1, 2, 4 and 8 MB and the process CPU
 * time (never wall time: a busy machine slows both ends alike) must grow
 * like the size: 8 MB may cost at most LINEAR_SLACK (4) times 8 x the 1 MB
 * cost; a quadratic construct costs 64 x.  Each pattern runs in a child
 * under RLIMIT_CPU, only so that a quadratic parser fails in seconds
 * instead of running for an hour; the limit is far above what the linear
 * parser needs even under ASan on a loaded machine.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "message.h"
#include "util.h"

#define MB		(1024 * 1024)
#define NSIZES		4		/* 1, 2, 4, 8 MB */
#define REPEAT		3		/* the minimum of three runs */
#define LINEAR_SLACK	4.0
#define CHILD_CPU_S	40
#define MIN_SAMPLE_S	0.03

struct pattern {
	const char	*name;
	const char	*head;		/* once, in front */
	const char	*unit;		/* repeated up to the size */
	size_t		 max;		/* html_to_text's output cap (0 = none) */
};

static const struct pattern patterns[] = {
	{ "unclosed-title", "", "<title>", 0 },
	{ "unclosed-title-text", "", "<TiTlE>x ", 0 },
	{ "unclosed-title-capped", "", "<title>words ", 4096 },
	{ "title-near-miss", "", "<title></titl ", 0 },
	{ "unclosed-script", "", "<script>", 0 },
	{ "unclosed-style", "", "<style>a", 0 },
	{ "noscript-template-xml", "", "<noscript><template><xml>", 0 },
	{ "unclosed-comment", "", "<!--", 0 },
	{ "comment-near-miss", "<!--", "-- ->", 0 },
	{ "closed-comments", "", "<!-- c -->", 0 },
	{ "bang-unclosed", "", "<!x", 0 },
	{ "pi-unclosed", "", "<?x", 0 },
	{ "lone-lt", "", "<", 0 },
	{ "lone-close", "", "</", 0 },
	{ "unclosed-tag-attrs", "<p", " a=b c d='e'", 0 },
	{ "unclosed-quote", "<a href=\"", "http://x/", 0 },
	{ "many-links", "", "<a href=\"https://example.org/xxxxxxxxxxxxxxx\">", 0 },
	{ "links-closed", "", "<a href=http://e.x/>t</a>", 0 },
	{ "long-href", "<a href=\"https://e.x/", "aaaaaaaa", 0 },
	{ "amp", "", "&", 0 },
	{ "numeric-refs", "", "&#x1111111111111111", 0 },
	{ "named-no-semicolon", "", "&amp", 0 },
	{ "long-entity-names", "", "&abcdefghijklmnopqrstuvwxyzabcdefghij", 0 },
	{ "br", "", "<br>", 0 },
	{ "pre-space", "<pre>", " \n\r\t", 0 },
	{ "long-tag-name", "<", "a", 0 },
	{ "mixed", "", "<<&&<a <!-<title><tr><li>x</td>&#1", 0 },
	{ "bytes", "", "\xff\xc3\x01", 0 },
};

static char *
build(const struct pattern *p, size_t size, size_t *len)
{
	size_t hl = strlen(p->head), ul = strlen(p->unit), n = 0;
	char *s;

	s = malloc(size);
	ck_assert_ptr_nonnull(s);
	memcpy(s, p->head, hl);
	n = hl;
	while (n + ul <= size) {
		memcpy(s + n, p->unit, ul);
		n += ul;
	}
	*len = n;
	return s;
}

static double
cpu_now(void)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * CPU time of one parse of size bytes of p: the least of REPEAT averages,
 * each over as many parses as fill MIN_SAMPLE_S (the process CPU clock may
 * tick in milliseconds, coarser than a small parse).
 */
static double
cost(const struct pattern *p, size_t size)
{
	double best = -1, t0, t;
	size_t len, outlen, runs;
	char *s = build(p, size, &len), *out;
	int r;

	for (r = 0; r < REPEAT; r++) {
		t0 = cpu_now();
		runs = 0;
		do {
			out = html_to_text(s, len, p->max, &outlen);
			ck_assert_ptr_nonnull(out);
			ck_assert(utf8_valid(out, outlen));
			free(out);
			runs++;
			t = cpu_now() - t0;
		} while (t < MIN_SAMPLE_S);
		t /= (double)runs;
		if (best < 0 || t < best)
			best = t;
	}
	free(s);
	return best;
}

/* Parse the sizes in a child under RLIMIT_CPU; costs come back by pipe. */
static int
measure(const struct pattern *p, double costs[NSIZES])
{
	struct rlimit rl = { CHILD_CPU_S, CHILD_CPU_S + 5 };
	int fd[2], status, k;
	pid_t pid;
	ssize_t got;

	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(fd[0]);
		if (setrlimit(RLIMIT_CPU, &rl) == -1)
			_exit(3);
		for (k = 0; k < NSIZES; k++)
			costs[k] = cost(p, (size_t)MB << k);
		_exit(write(fd[1], costs, sizeof(double) * NSIZES) ==
		    (ssize_t)(sizeof(double) * NSIZES) ? 0 : 4);
	}
	close(fd[1]);
	do
		got = read(fd[0], costs, sizeof(double) * NSIZES);
	while (got == -1 && errno == EINTR);
	close(fd[0]);
	while (waitpid(pid, &status, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return got == (ssize_t)(sizeof(double) * NSIZES) &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

START_TEST(test_html_linear)
{
	const struct pattern *p = &patterns[_i];
	double c[NSIZES];
	int rc = measure(p, c);

	ck_assert_msg(rc != -SIGXCPU, "%s: over %d s of CPU for 1..8 MB: "
	    "not linear", p->name, CHILD_CPU_S);
	ck_assert_msg(rc == 0, "%s: measuring child failed (%d)", p->name, rc);
	fprintf(stderr, "info: html %s: 1/2/4/8 MB: %.5f %.5f %.5f %.5f s\n",
	    p->name, c[0], c[1], c[2], c[3]);
	ck_assert_msg(c[3] <= LINEAR_SLACK * 8 * c[0],
	    "%s: 8 MB cost %.4f s, 1 MB %.4f s: grows faster than the input",
	    p->name, c[3], c[0]);
	ck_assert_msg(c[2] <= LINEAR_SLACK * 4 * c[0],
	    "%s: 4 MB cost %.4f s, 1 MB %.4f s: grows faster than the input",
	    p->name, c[2], c[0]);
}
END_TEST

/* The fix keeps what an unclosed <title> meant: it hides nothing. */
START_TEST(test_html_unclosed_title_shows_text)
{
	static const char in[] = "<title>a <title>b <TITLE>c";
	size_t n;
	char *t = html_to_text(in, strlen(in), 0, &n);

	ck_assert_str_eq(t, "a b c");
	free(t);
	t = html_to_text("<title>x</title>y <title>z", 26, 0, &n);
	ck_assert_str_eq(t, "y z");
	free(t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("html_linear");
	TCase *tc = tcase_create("linear");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_html_linear, 0, (int)NELEM(patterns));
	tcase_add_test(tc, test_html_unclosed_title_shows_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
