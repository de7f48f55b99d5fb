/* SPDX-License-Identifier: MIT */
/*
 * parsechild.c against a hostile (compromised) parser child: the parent's
 * end of the socketpair is swapped for one whose peer is a fake child of
 * ours that answers as told (too long, too short, more than announced,
 * late, a byte at a time under a storm of signals, not at all).  Every lie
 * must cost that one message and the child, never the parent, and a late
 * or damaged reply must never become another message's result.  Also: the
 * real child around the 1 MiB buffer-keeping boundary and, under the
 * seccomp filter, through allocations big enough for glibc's mmap, mremap
 * and trim paths (the malloc tuning of the long-lived child).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "message.h"
#include "parsechild.h"
#include "util.h"

#include "../../daemon/parsechild_p.h"

/* parsechild.c lets a reply buffer up to this size live on (RXBUF_KEEP) */
#define KEEP	((size_t)1 << 20)

static const char simple[] =
    "From: Ana <ana@example.org>\n"
    "Subject: hola\n"
    "Message-ID: <x1@example.org>\n\n"
    "necesito ayuda\n";

/* ---- a fake child ------------------------------------------------------ */

static void
le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t r;

	while (n > 0) {
		r = write(fd, c, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One request frame, discarded: 0, or -1 at EOF. */
static int
fake_read_request(int fd)
{
	unsigned char h[8];
	uint64_t n, i;
	char b[4096];

	if (read_all(fd, h, 8) == -1)
		return -1;
	for (n = 0, i = 8; i > 0; i--)
		n = (n << 8) | h[i - 1];
	while (n > 0) {
		i = n > sizeof(b) ? sizeof(b) : n;
		if (read_all(fd, b, (size_t)i) == -1)
			return -1;
		n -= i;
	}
	return 0;
}

/* Until the parent closes its end (it does when it gives up on us). */
static void
fake_wait_eof(int fd)
{
	char b[4096];

	while (read(fd, b, sizeof(b)) > 0 || errno == EINTR)
		;
}

/* A valid reply frame whose message text is len bytes of c (caller
 * frees); *flen gets the frame's length. */
static unsigned char *
reply_frame(char c, size_t len, size_t *flen)
{
	struct message m;
	unsigned char *f;
	char *ser;
	size_t slen;

	memset(&m, 0, sizeof(m));
	m.text = xmalloc(len + 1);
	memset(m.text, c, len);
	m.text[len] = '\0';
	m.text_len = len;
	m.content_type = xstrdup("text/plain");
	m.subject = xstrdup("fake");
	ck_assert_int_eq(message_serialize(&m, &ser, &slen), 0);
	message_free(&m);
	f = xmalloc(slen + 8);
	le64(f, slen);
	memcpy(f + 8, ser, slen);
	free(ser);
	*flen = slen + 8;
	return f;
}

/* The frame's payload length for a text of 0 bytes. */
static size_t
reply_base(void)
{
	unsigned char *f;
	size_t n;

	f = reply_frame('a', 0, &n);
	free(f);
	return n - 8;
}

struct fake {
	int	 fd;		/* the parent end's number, as parsechild uses it */
	pid_t	 pid;		/* our fake child */
};

/*
 * Start a parser child and put a fake one behind its descriptor.  The
 * descriptor is the lowest free one before the start (socketpair takes the
 * two lowest, the child's end is closed); the real child sees EOF and exits,
 * and is reaped by parsechild like any failed child.
 */
static struct parsechild *
start_with_fake(struct fake *fk, void (*serve)(int))
{
	struct parsechild *pc;
	struct stat st;
	char *err = NULL;
	int sp[2], probe, fl;

	probe = dup(0);
	ck_assert_int_ge(probe, 0);
	close(probe);
	pc = parsechild_start(&err);
	ck_assert_msg(pc != NULL, "%s", err ? err : "");
	ck_assert_int_eq(fstat(probe, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	fl = fcntl(probe, F_GETFL);
	ck_assert(fl != -1 && (fl & O_NONBLOCK));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	fk->pid = fork();
	ck_assert_int_ne(fk->pid, -1);
	if (fk->pid == 0) {
		close(sp[0]);
		close(probe);
		signal(SIGPIPE, SIG_DFL);
		serve(sp[1]);
		_exit(0);
	}
	close(sp[1]);
	ck_assert_int_eq(dup2(sp[0], probe), probe);
	close(sp[0]);
	ck_assert_int_eq(fcntl(probe, F_SETFD, FD_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(probe, F_SETFL, fl), 0);
	fk->fd = probe;
	return pc;
}

/* The fake child ends once the parent let go of it: no zombie, no hang. */
static void
fake_done(struct fake *fk)
{
	int status;

	ck_assert_int_eq(waitpid(fk->pid, &status, 0), fk->pid);
}

/* After a lie: that message failed with why, the next one gets a new,
 * real child and its own result. */
static void
assert_refused_then_fine(struct parsechild *pc, int rc, struct message *m,
    const char *why)
{
	struct message ok;

	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(m->status, MSG_PARSE_ERROR);
	ck_assert_str_eq(m->parse_error, why);
	ck_assert_ptr_null(m->subject);
	ck_assert_uint_eq(m->text_len, 0);
	message_free(m);
	ck_assert_int_eq(parsechild_pid(pc), -1);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL,
	    &ok), 0);
	ck_assert_str_eq(ok.subject, "hola");
	ck_assert_ptr_null(strstr(ok.text, "SECRET"));
	message_free(&ok);
}

/* One message answered by serve (a fake child's lie): refused with why,
 * then a real child takes over. */
static void
expect_refused(void (*serve)(int), const char *why)
{
	struct parsechild *pc;
	struct message m;
	struct fake fk;
	int rc;

	pc = start_with_fake(&fk, serve);
	rc = parsechild_parse(pc, simple, strlen(simple), NULL, &m);
	assert_refused_then_fine(pc, rc, &m, why);
	fake_done(&fk);
	parsechild_stop(pc);
}

/* ---- the lies ---------------------------------------------------------- */

static void
serve_huge_length(int fd)
{
	unsigned char h[8];

	if (fake_read_request(fd) == -1)
		return;
	le64(h, (uint64_t)1 << 40);
	(void)write_all(fd, h, 8);
	fake_wait_eof(fd);
}

START_TEST(test_announced_length_too_large)
{
	expect_refused(serve_huge_length, "parser reply invalid");
}
END_TEST

static void
serve_more_than_announced(int fd)
{
	unsigned char *f;
	size_t n;

	if (fake_read_request(fd) == -1)
		return;
	f = reply_frame('x', 100, &n);
	f = xrealloc(f, n + 16);
	memcpy(f + n, "SECRET-SECRET-SE", 16);	/* the next "frame" */
	(void)write_all(fd, f, n + 16);
	free(f);
	fake_wait_eof(fd);
}

START_TEST(test_reply_longer_than_announced)
{
	expect_refused(serve_more_than_announced, "parser reply invalid");
}
END_TEST

static void
serve_partial_then_eof(int fd)
{
	unsigned char *f;
	size_t n;

	if (fake_read_request(fd) == -1)
		return;
	f = reply_frame('x', 1000, &n);
	(void)write_all(fd, f, n / 2);
	free(f);
	/* and die: EOF */
}

START_TEST(test_partial_reply_then_eof)
{
	expect_refused(serve_partial_then_eof, "parser crashed");
}
END_TEST

/* A frame that validates as a frame but whose message does not. */
static void
serve_garbage_payload(int fd)
{
	unsigned char *f;
	size_t n;

	if (fake_read_request(fd) == -1)
		return;
	f = reply_frame('x', 10, &n);
	f[8] ^= 0xff;	/* the magic */
	(void)write_all(fd, f, n);
	free(f);
	fake_wait_eof(fd);
}

START_TEST(test_garbage_payload)
{
	expect_refused(serve_garbage_payload, "parser reply invalid");
}
END_TEST

static void
serve_stall(int fd)
{
	if (fake_read_request(fd) == -1)
		return;
	fake_wait_eof(fd);
}

START_TEST(test_stalled_child_times_out)
{
	struct parsechild *pc;
	struct parse_limits lim;
	struct message m;
	struct fake fk;
	int rc;

	pc = start_with_fake(&fk, serve_stall);
	parse_limits_default(&lim);
	lim.timeout_ms = 200;
	rc = parsechild_parse(pc, simple, strlen(simple), &lim, &m);
	assert_refused_then_fine(pc, rc, &m, "parser timed out");
	fake_done(&fk);
	parsechild_stop(pc);
}
END_TEST

/* Never reads: a request larger than the socket buffers blocks the
 * parent's send, and the deadline must hold there too. */
static void
serve_never_read(int fd)
{
	pause();
	(void)fd;
}

START_TEST(test_child_not_reading_times_out)
{
	struct parsechild *pc;
	struct parse_limits lim;
	struct message m;
	struct fake fk;
	struct buf big;
	int rc, i;

	buf_init(&big, 0);
	buf_addstr(&big, "Subject: big\n\n");
	for (i = 0; i < 200000; i++)
		buf_addstr(&big, "0123456789012345678901234567890123456789\n");
	pc = start_with_fake(&fk, serve_never_read);
	parse_limits_default(&lim);
	lim.max_message_bytes = 64 << 20;
	lim.timeout_ms = 300;
	rc = parsechild_parse(pc, big.data, big.len, &lim, &m);
	buf_free(&big);
	kill(fk.pid, SIGKILL);	/* pause() does not see EOF */
	assert_refused_then_fine(pc, rc, &m, "parser timed out");
	fake_done(&fk);
	parsechild_stop(pc);
}
END_TEST

/* The reply comes, whole and valid, after the parent's deadline. */
static void
serve_late(int fd)
{
	unsigned char *f;
	size_t n;

	if (fake_read_request(fd) == -1)
		return;
	usleep(500 * 1000);
	f = reply_frame('S', 64, &n);
	memcpy(memmem(f, n, "SSSSSS", 6), "SECRET", 6);
	(void)write_all(fd, f, n);
	free(f);
	fake_wait_eof(fd);
}

START_TEST(test_late_reply_never_used)
{
	struct parsechild *pc;
	struct parse_limits lim;
	struct message m;
	struct fake fk;
	int rc;

	pc = start_with_fake(&fk, serve_late);
	parse_limits_default(&lim);
	lim.timeout_ms = 100;
	rc = parsechild_parse(pc, simple, strlen(simple), &lim, &m);
	/* the late reply may not be taken for the next message either */
	usleep(600 * 1000);
	assert_refused_then_fine(pc, rc, &m, "parser timed out");
	fake_done(&fk);
	parsechild_stop(pc);
}
END_TEST

/* A valid reply, one byte per write. */
static void
serve_trickle(int fd)
{
	unsigned char *f;
	size_t n, i;

	while (fake_read_request(fd) == 0) {
		f = reply_frame('t', 300, &n);
		for (i = 0; i < n; i++) {
			if (write_all(fd, f + i, 1) == -1)
				_exit(1);
			if (i % 16 == 0)
				usleep(1000);
		}
		free(f);
	}
}

static volatile sig_atomic_t nalarms;

static void
on_alarm(int sig)
{
	(void)sig;
	nalarms++;
}

START_TEST(test_trickled_reply_under_signals)
{
	struct parsechild *pc;
	struct sigaction sa;
	struct itimerval it;
	struct message m;
	struct fake fk;
	size_t i;

	pc = start_with_fake(&fk, serve_trickle);
	/* a signal every millisecond, without SA_RESTART: EINTR everywhere */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_usec = 1000;
	it.it_value.tv_usec = 1000;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL,
	    &m), 0);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	ck_assert_int_gt(nalarms, 5);
	ck_assert_str_eq(m.subject, "fake");
	ck_assert_uint_eq(m.text_len, 300);
	for (i = 0; i < m.text_len; i++)
		ck_assert_int_eq(m.text[i], 't');
	message_free(&m);
	parsechild_stop(pc);
	fake_done(&fk);
}
END_TEST

/* Reads a little of the request, then closes: the parent is still
 * sending and must get EPIPE, not SIGPIPE. */
static void
serve_hang_up(int fd)
{
	char b[8];

	(void)read_all(fd, b, sizeof(b));
}

START_TEST(test_hang_up_mid_request_no_sigpipe)
{
	struct parsechild *pc;
	struct parse_limits lim;
	struct message m;
	struct fake fk;
	struct buf big;
	int rc, i;

	signal(SIGPIPE, SIG_DFL);
	buf_init(&big, 0);
	buf_addstr(&big, "Subject: big\n\n");
	for (i = 0; i < 200000; i++)
		buf_addstr(&big, "0123456789012345678901234567890123456789\n");
	pc = start_with_fake(&fk, serve_hang_up);
	parse_limits_default(&lim);
	lim.max_message_bytes = 64 << 20;
	rc = parsechild_parse(pc, big.data, big.len, &lim, &m);
	buf_free(&big);
	assert_refused_then_fine(pc, rc, &m, "parser crashed");
	fake_done(&fk);
	parsechild_stop(pc);
}
END_TEST

/* Replies whose frames straddle the size at which the parent keeps its
 * buffer, each followed by a short one: every message gets exactly its
 * own text, nothing of the one before. */
static void
serve_sizes(int fd)
{
	static const long delta[] = { -10, -9, -8, -1, 0, 1, 100 };
	unsigned char *f;
	size_t n, base = reply_base(), i = 0, len;

	while (fake_read_request(fd) == 0) {
		if (i % 2 == 0)
			len = KEEP - 9 - base + (size_t)delta[(i / 2) %
			    (sizeof(delta) / sizeof(delta[0]))];
		else
			len = 5;
		f = reply_frame((char)('a' + i % 26), len, &n);
		if (write_all(fd, f, n) == -1)
			_exit(1);
		free(f);
		i++;
	}
}

START_TEST(test_reply_sizes_at_keep_boundary)
{
	struct parsechild *pc;
	struct message m;
	struct fake fk;
	size_t base = reply_base(), i, j, want;
	static const long delta[] = { -10, -9, -8, -1, 0, 1, 100 };

	pc = start_with_fake(&fk, serve_sizes);
	for (i = 0; i < 2 * (sizeof(delta) / sizeof(delta[0])); i++) {
		ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple),
		    NULL, &m), 0);
		want = i % 2 == 0 ? KEEP - 9 - base + (size_t)delta[i / 2] : 5;
		ck_assert_uint_eq(m.text_len, want);
		ck_assert_uint_eq(strlen(m.text), want);
		for (j = 0; j < m.text_len; j++)
			ck_assert_int_eq(m.text[j], 'a' + (int)(i % 26));
		message_free(&m);
	}
	parsechild_stop(pc);
	fake_done(&fk);
}
END_TEST

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Lies, timeouts, hang-ups and idle deaths, again and again: no
 * descriptor and no child (running or zombie) outlives parsechild_stop. */
START_TEST(test_no_fd_or_child_left)
{
	static void (*const serve[])(int) = { serve_garbage_payload,
	    serve_partial_then_eof, serve_stall, serve_huge_length };
	struct parsechild *pc;
	/* fast: the fakes stall; real: a fresh child (exec, seccomp, ASan
	 * start-up on a busy machine) gets the default limit, never 100 ms */
	struct parse_limits lim, real;
	struct message m;
	struct fake fk;
	int before, i, status;
	siginfo_t si;
	pid_t pid;

	parse_limits_default(&lim);
	lim.timeout_ms = 100;
	parse_limits_default(&real);
	before = count_fds();
	for (i = 0; i < 8; i++) {
		pc = start_with_fake(&fk, serve[i % 4]);
		ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple),
		    &lim, &m), -1);
		message_free(&m);
		fake_done(&fk);
		/* a real child now, killed while idle: restarted unnoticed */
		ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple),
		    &real, &m), 0);
		message_free(&m);
		pid = parsechild_pid(pc);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		/* dead, not dying: its socket closed (as in a real idle
		 * death, long before the next message) */
		ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED |
		    WNOWAIT), 0);
		ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple),
		    &real, &m), 0);
		message_free(&m);
		ck_assert_int_ne(parsechild_pid(pc), pid);
		parsechild_stop(pc);
		ck_assert_int_eq(count_fds(), before);
		ck_assert_int_eq(waitpid(-1, &status, WNOHANG), -1);
		ck_assert_int_eq(errno, ECHILD);
	}
}
END_TEST

/* ---- the real child ---------------------------------------------------- */

static char *
plain_message(size_t total, char c)
{
	static const char head[] = "Subject: s\nContent-Type: text/plain\n\n";
	char *p = xmalloc(total + 1);
	size_t i;

	ck_assert_uint_gt(total, sizeof(head) + 2);
	memcpy(p, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < total; i++)
		p[i] = (i % 64 == 63) ? '\n' : c;
	p[total] = '\0';
	return p;
}

static void
assert_child_as_in_process(struct parsechild *pc, const char *raw,
    size_t len, const struct parse_limits *lim)
{
	struct message a, b;

	message_parse(raw, len, lim, &a);
	parsechild_parse(pc, raw, len, lim, &b);
	ck_assert_int_eq(a.status, b.status);
	ck_assert_uint_eq(a.text_len, b.text_len);
	ck_assert_mem_eq(a.text, b.text, a.text_len);
	message_free(&a);
	message_free(&b);
}

/* Requests (8 + 56 + len, plus the NUL) on each side of 1 MiB, each
 * followed by a short one, all in one child. */
START_TEST(test_requests_at_keep_boundary)
{
	static const long delta[] = { -66, -65, -64, -63, 0, 1, 4096 };
	struct parsechild *pc;
	struct parse_limits lim;
	char *err = NULL, *raw, *small;
	size_t i, len;
	pid_t pid;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	pid = parsechild_pid(pc);
	parse_limits_default(&lim);
	lim.max_text_bytes = 4 << 20;
	small = plain_message(200, 'z');
	for (i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
		len = (size_t)((long)KEEP + delta[i]);
		raw = plain_message(len, (char)('a' + i));
		assert_child_as_in_process(pc, raw, len, &lim);
		assert_child_as_in_process(pc, small, strlen(small), &lim);
		free(raw);
	}
	ck_assert_int_eq(parsechild_pid(pc), pid);
	free(small);
	parsechild_stop(pc);
}
END_TEST

/*
 * Under the filter: messages and texts far above the child's 8 MiB mmap
 * threshold (mmap, mremap when the text grows, munmap), then between the
 * two (brk, trimming), then small ones.  A system call the filter lacks
 * would kill the child (SIGSYS) and show as a parse error and a new pid.
 */
START_TEST(test_big_allocations_inside_filter)
{
	static const size_t sizes[] = { 20u << 20, 9u << 20, 3u << 20,
	    12u << 20, 4096, 200 };
	struct parsechild *pc;
	struct parse_limits lim;
	char *err = NULL, *raw;
	size_t i;
	pid_t pid;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	pid = parsechild_pid(pc);
	parse_limits_default(&lim);
	lim.max_message_bytes = 64 << 20;
	lim.max_text_bytes = 32 << 20;
	lim.timeout_ms = 60000;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		raw = plain_message(sizes[i], (char)('a' + i));
		assert_child_as_in_process(pc, raw, sizes[i], &lim);
		free(raw);
		ck_assert_int_eq(parsechild_pid(pc), pid);
	}
	parsechild_stop(pc);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("parsechild_hostile");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_announced_length_too_large);
	tcase_add_test(tc, test_reply_longer_than_announced);
	tcase_add_test(tc, test_partial_reply_then_eof);
	tcase_add_test(tc, test_garbage_payload);
	tcase_add_test(tc, test_stalled_child_times_out);
	tcase_add_test(tc, test_child_not_reading_times_out);
	tcase_add_test(tc, test_late_reply_never_used);
	tcase_add_test(tc, test_trickled_reply_under_signals);
	tcase_add_test(tc, test_hang_up_mid_request_no_sigpipe);
	tcase_add_test(tc, test_reply_sizes_at_keep_boundary);
	tcase_add_test(tc, test_no_fd_or_child_left);
	tcase_add_test(tc, test_requests_at_keep_boundary);
	tcase_add_test(tc, test_big_allocations_inside_filter);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(hostile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
