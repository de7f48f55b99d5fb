/* SPDX-License-Identifier: MIT */
/*
 * resolve.c: a numeric host resolves; a name the DNS server says does not
 * exist fails at once with the resolver's reason; a server that never
 * answers costs the caller its timeout, not resolv.conf's, and a signal
 * (the daemon's SIGTERM) ends the wait at once; the lookup left running
 * refuses the next one on the same slot until it ends, after which the
 * slot is freed.  No network: the DNS server is a UDP socket of ours on a
 * 127/8 address, put in a private /etc/resolv.conf (a mount namespace of
 * the test's own process; tests run as root).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resolve.h"
#include "util.h"

START_TEST(test_numeric_host)
{
	struct resolve_left *left = NULL;
	struct addrinfo *res = NULL;
	struct sockaddr_in *sin;
	char *err = NULL;

	ck_assert_int_eq(resolve_tcp("127.0.0.1", 993, 2, &left, &res, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_ptr_null(left);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(res->ai_family, AF_INET);
	ck_assert_int_eq(res->ai_socktype, SOCK_STREAM);
	sin = (struct sockaddr_in *)(void *)res->ai_addr;
	ck_assert_int_eq(ntohs(sin->sin_port), 993);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	freeaddrinfo(res);
	/* the slot is reused as often as one likes */
	ck_assert_int_eq(resolve_tcp("127.0.0.1", 143, 2, &left, &res, &err), 0);
	freeaddrinfo(res);
	resolve_left_free(&left, 0);
	ck_assert_ptr_null(left);
}
END_TEST

/* ---- a DNS server of our own ------------------------------------------- */

struct dns {
	pid_t	 pid;
	int	 queries[2];	/* a byte per query received */
};

/*
 * Serve UDP DNS on a 127/8 address made the only nameserver of this
 * process (private mount namespace, /etc/resolv.conf bound over): answer
 * every query with NXDOMAIN, or never answer (silent).  resolv.conf waits
 * wait_s for an answer, once.
 */
static void
dns_start(struct dns *d, int silent, int wait_s)
{
	struct sockaddr_in sin;
	char path[] = "/tmp/test_resolve.XXXXXX", conf[128], addr[32];
	unsigned char q[512];
	ssize_t n;
	int s, fd;

	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s (needs root)",
	    strerror(errno));
	ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(addr, sizeof(addr), "127.78.%d.%d", (int)(getpid() % 250) + 1,
	    (int)(getpid() / 250 % 250) + 1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	snprintf(conf, sizeof(conf), "nameserver %s\noptions timeout:%d "
	    "attempts:1\n", addr, wait_s);
	ck_assert_int_eq(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
	close(fd);
	ck_assert_int_eq(mount(path, "/etc/resolv.conf", "none", MS_BIND, NULL), 0);
	unlink(path);
	ck_assert_int_eq(pipe(d->queries), 0);
	d->pid = fork();
	ck_assert_int_ne(d->pid, -1);
	if (d->pid == 0) {
		struct sockaddr_in from;
		socklen_t fl;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			fl = sizeof(from);
			n = recvfrom(s, q, sizeof(q), 0,
			    (struct sockaddr *)&from, &fl);
			if (n < 12)
				continue;
			(void)!write(d->queries[1], "q", 1);
			if (silent)
				continue;
			q[2] |= 0x80;		/* a response, RD kept */
			q[3] = 0x83;		/* RA, NXDOMAIN */
			(void)sendto(s, q, (size_t)n, 0,
			    (struct sockaddr *)&from, fl);
		}
	}
	close(s);
	close(d->queries[1]);
}

/* How many queries reached the server so far. */
static int
dns_queries(struct dns *d)
{
	char b[64];
	ssize_t n;
	int total = 0;

	(void)fcntl(d->queries[0], F_SETFL, O_NONBLOCK);
	while ((n = read(d->queries[0], b, sizeof(b))) > 0)
		total += (int)n;
	return total;
}

static void
dns_stop(struct dns *d)
{
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	close(d->queries[0]);
}

START_TEST(test_unknown_host)
{
	struct resolve_left *left = NULL;
	struct addrinfo *res = NULL;
	struct dns d;
	char *err = NULL;
	int n;

	dns_start(&d, 0, 5);
	ck_assert_int_eq(resolve_tcp("no-such-host.example.invalid", 993, 3,
	    &left, &res, &err), -1);
	n = dns_queries(&d);
	ck_assert_msg(n >= 1, "the lookup did not reach our server (nsswitch "
	    "without dns?)");
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strncmp(err, "resolving no-such-host.example.invalid: ",
	    40) == 0, "%s", err);
	/* the server's answer, not the deadline */
	ck_assert_ptr_null(strstr(err, "no answer within"));
	ck_assert_ptr_null(res);
	ck_assert_ptr_null(left);
	free(err);
	dns_stop(&d);
}
END_TEST

static volatile sig_atomic_t nalarms;

static void
on_alarm(int sig)
{
	(void)sig;
	nalarms++;
}

START_TEST(test_deadline_and_left_lookup)
{
	struct resolve_left *left = NULL;
	struct addrinfo *res = NULL;
	struct dns d;
	char *err = NULL;

	/* resolv.conf would wait 4 s; the caller gives it 1 */
	dns_start(&d, 1, 4);
	ck_assert_int_eq(resolve_tcp("silent.example.invalid", 993, 1, &left,
	    &res, &err), -1);
	ck_assert_str_eq(err, "resolving silent.example.invalid: no answer "
	    "within 1 s");
	free(err);
	err = NULL;
	ck_assert_int_ge(dns_queries(&d), 1);
	/* glibc's thread still runs it: kept in the slot */
	ck_assert_ptr_nonnull(left);
	/* a second lookup is refused at once, even of a numeric host */
	ck_assert_int_eq(resolve_tcp("127.0.0.1", 993, 1, &left, &res, &err),
	    -1);
	ck_assert_str_eq(err, "resolving 127.0.0.1: an earlier lookup of "
	    "silent.example.invalid is still running");
	free(err);
	err = NULL;
	/* glibc gives up after resolv.conf's wait: the slot is freed */
	resolve_left_free(&left, 30000);
	ck_assert_ptr_null(left);
	ck_assert_int_eq(resolve_tcp("127.0.0.1", 993, 1, &left, &res, &err), 0);
	freeaddrinfo(res);
	dns_stop(&d);
}
END_TEST

/*
 * The daemon's SIGTERM and SIGHUP handlers (no SA_RESTART) interrupt the
 * wait: the lookup is left to glibc at once and the caller gets back to
 * its loop, as a signal ends tcp_connect's wait for a connect.  Waiting
 * out the source's timeout (60 s by default) would keep a stopping daemon
 * alive that long.
 */
START_TEST(test_signal_ends_wait)
{
	struct resolve_left *left = NULL;
	struct addrinfo *res = NULL;
	struct sigaction sa;
	struct itimerval it;
	struct dns d;
	char *err = NULL;

	dns_start(&d, 1, 30);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 300000;	/* once */
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	ck_assert_int_eq(resolve_tcp("silent.example.invalid", 993, 20, &left,
	    &res, &err), -1);
	ck_assert_int_eq(nalarms, 1);
	ck_assert_str_eq(err, "resolving silent.example.invalid: interrupted "
	    "by a signal");
	free(err);
	ck_assert_ptr_nonnull(left);
	/* the owner goes (SIGTERM): abandoned to glibc */
	resolve_left_free(&left, 0);
	ck_assert_ptr_nonnull(left);
	dns_stop(&d);
}
END_TEST

/* The owner goes away (a SIGHUP reload frees the source) while the lookup
 * runs: the slot is let go without waiting for glibc, which still owns it,
 * and the process lives on through the lookup's end. */
START_TEST(test_owner_leaves_running_lookup)
{
	struct resolve_left *left = NULL, *kept;
	struct addrinfo *res = NULL;
	struct dns d;
	char *err = NULL;

	dns_start(&d, 1, 2);
	ck_assert_int_eq(resolve_tcp("silent.example.invalid", 993, 1, &left,
	    &res, &err), -1);
	free(err);
	ck_assert_ptr_nonnull(left);
	kept = left;
	resolve_left_free(&left, 10);
	/* still glibc's: not freed, the caller forgets it */
	ck_assert_ptr_eq(left, kept);
	left = NULL;
	sleep(3);	/* glibc ends the lookup, writing into what it owns */
	ck_assert_int_eq(resolve_tcp("127.0.0.1", 993, 1, &left, &res, &err), 0);
	freeaddrinfo(res);
	/* finished now: whoever still holds it may free it (here, so that
	 * LeakSanitizer sees no block glibc has let go of) */
	resolve_left_free(&kept, 0);
	ck_assert_ptr_null(kept);
	dns_stop(&d);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_numeric_host);
	tcase_add_test(tc, test_unknown_host);
	tcase_add_test(tc, test_deadline_and_left_lookup);
	tcase_add_test(tc, test_owner_leaves_running_lookup);
	tcase_add_test(tc, test_signal_ends_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(resolve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
