/* SPDX-License-Identifier: MIT */
/*
 * parseloop: the cost of parsing in the sandboxed child against parsing
 * in process, on the same messages, in the same run.  Built and run by
 * tests/bench/parsechild.sh (linked with build/libintake.a, so the parser
 * child is a copy of this program).
 *
 *	parseloop ROUNDS FILE...
 *
 * PARSELOOP_ONLY=inproc or =child in the environment runs one mode only
 * (for a profiler: perf record, strace -c).
 *
 * Loads every FILE, then ROUNDS times: parses all of them in process
 * (message_parse) and all of them through one long-lived child
 * (parsechild_parse), alternating which mode goes first.  For each mode
 * it keeps the best round of: wall time, CPU of this process, CPU of the
 * child (clock_getcpuclockid on the running child plus RUSAGE_CHILDREN for
 * children recycled during the round).  The parent's and the child's CPU
 * are read with nanosecond clocks, which the shared machine's load moves
 * far less than the wall clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "message.h"
#include "parsechild.h"
#include "util.h"

#include "../../daemon/parsechild_p.h"

struct msgs {
	char	**raw;
	size_t	 *len;
	size_t	  n;
};

struct cost {
	double	wall;		/* seconds */
	double	self;		/* CPU of this process */
	double	child;		/* CPU of the parser child */
};

static double
ts_sec(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double
clock_sec(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) == -1)
		return 0;
	return ts_sec(&ts);
}

static double
children_sec(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU time of a running process, 0 when it is gone. */
static double
pid_sec(pid_t pid)
{
	clockid_t id;

	if (pid <= 0 || clock_getcpuclockid(pid, &id) != 0)
		return 0;
	return clock_sec(id);
}

static void
round_inproc(const struct msgs *ms, const struct parse_limits *lim,
    struct cost *c)
{
	struct message m;
	double w0, s0;
	size_t i;

	w0 = clock_sec(CLOCK_MONOTONIC);
	s0 = clock_sec(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < ms->n; i++) {
		message_parse(ms->raw[i], ms->len[i], lim, &m);
		message_free(&m);
	}
	c->self = clock_sec(CLOCK_PROCESS_CPUTIME_ID) - s0;
	c->wall = clock_sec(CLOCK_MONOTONIC) - w0;
	c->child = 0;
}

/* 0, or -1 when a message did not come back parsed as in process. */
static int
round_child(struct parsechild *pc, const struct msgs *ms,
    const struct parse_limits *lim, struct cost *c)
{
	struct message m;
	double w0, s0, r0, k0;
	size_t i;
	int bad = 0;

	/* the child running now: what it spent before this round is not ours;
	 * if it is recycled in the round, RUSAGE_CHILDREN gets its total */
	k0 = pid_sec(parsechild_pid(pc));
	r0 = children_sec();
	w0 = clock_sec(CLOCK_MONOTONIC);
	s0 = clock_sec(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < ms->n; i++) {
		parsechild_parse(pc, ms->raw[i], ms->len[i], lim, &m);
		if (m.parse_error && strncmp(m.parse_error, "parser ", 7) == 0)
			bad = -1;
		message_free(&m);
	}
	c->self = clock_sec(CLOCK_PROCESS_CPUTIME_ID) - s0;
	c->wall = clock_sec(CLOCK_MONOTONIC) - w0;
	c->child = children_sec() - r0 + pid_sec(parsechild_pid(pc)) - k0;
	return bad;
}

/*
 * CPU of one child start (exec, converters, filter) and its first, tiny
 * message, parent and child together: best of n.
 */
static double
spawn_cost(int n)
{
	static const char tiny[] = "Subject: x\n\nx\n";
	struct parsechild *pc;
	struct message m;
	double best = -1, s0, r0, c;
	char *err = NULL;
	int i;

	for (i = 0; i < n; i++) {
		s0 = clock_sec(CLOCK_PROCESS_CPUTIME_ID);
		r0 = children_sec();
		if ((pc = parsechild_start(&err)) == NULL) {
			free(err);
			return -1;
		}
		parsechild_parse(pc, tiny, sizeof(tiny) - 1, NULL, &m);
		message_free(&m);
		parsechild_stop(pc);
		c = clock_sec(CLOCK_PROCESS_CPUTIME_ID) - s0 +
		    children_sec() - r0;
		if (best < 0 || c < best)
			best = c;
	}
	return best;
}

static void
keep_best(struct cost *best, const struct cost *c, int first)
{
	if (first || c->wall < best->wall)
		best->wall = c->wall;
	if (first || c->self + c->child < best->self + best->child) {
		best->self = c->self;
		best->child = c->child;
	}
}

int
main(int argc, char **argv)
{
	struct parse_limits lim;
	struct parsechild *pc;
	struct cost in, ch, c;
	struct msgs ms;
	const char *only;
	char *err = NULL;
	long rounds;
	int i, r, k, failed = 0, sandboxed;
	double us_in, us_ch;
	size_t in_bytes = 0, out_bytes = 0;

	if (argc < 3 || (rounds = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: parseloop ROUNDS FILE...\n");
		return 64;
	}
	ms.n = 0;
	ms.raw = xcalloc((size_t)argc, sizeof(*ms.raw));
	ms.len = xcalloc((size_t)argc, sizeof(*ms.len));
	for (i = 2; i < argc; i++) {
		if (read_file(argv[i], (size_t)64 << 20, &ms.raw[ms.n],
		    &ms.len[ms.n]) == -1) {
			fprintf(stderr, "parseloop: %s: %s\n", argv[i],
			    strerror(errno));
			return 66;
		}
		ms.n++;
	}
	parse_limits_default(&lim);
	lim.timeout_ms = 30000;
	/* what crosses the socket: the raw message and the reply */
	for (i = 0; i < (int)ms.n; i++) {
		struct message m;
		char *ser;
		size_t slen;

		in_bytes += ms.len[i];
		message_parse(ms.raw[i], ms.len[i], &lim, &m);
		if (message_serialize(&m, &ser, &slen) == 0) {
			out_bytes += slen;
			free(ser);
		}
		message_free(&m);
	}
	if ((pc = parsechild_start(&err)) == NULL) {
		fprintf(stderr, "parseloop: %s\n", err);
		return 70;
	}
	/* warm both: page cache, iconv, the child's heap */
	round_inproc(&ms, &lim, &c);
	(void)round_child(pc, &ms, &lim, &c);
	memset(&in, 0, sizeof(in));
	memset(&ch, 0, sizeof(ch));
	only = getenv("PARSELOOP_ONLY");
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 2; k++) {
			if (only && strcmp(only, (k + r) % 2 == 0 ?
			    "inproc" : "child") != 0)
				continue;
			if ((k + r) % 2 == 0) {
				round_inproc(&ms, &lim, &c);
				keep_best(&in, &c, r == 0);
			} else {
				if (round_child(pc, &ms, &lim, &c) == -1)
					failed = 1;
				keep_best(&ch, &c, r == 0);
			}
		}
	}
	sandboxed = parsechild_sandboxed(pc);
	parsechild_stop(pc);
	us_in = (in.self) * 1e6 / (double)ms.n;
	us_ch = (ch.self + ch.child) * 1e6 / (double)ms.n;
	printf("parse alone, %zu messages, best of %ld interleaved rounds "
	    "(sandbox %s):\n", ms.n, rounds,
	    sandboxed ? "on" : "off");
	printf("  bytes per message: %zu raw to the child, %zu reply back\n",
	    in_bytes / ms.n, out_bytes / ms.n);
	printf("  in process:   CPU %7.1f us/msg, wall %7.1f us/msg\n",
	    us_in, in.wall * 1e6 / (double)ms.n);
	printf("  parser child: CPU %7.1f us/msg (parent %.1f + child %.1f), "
	    "wall %7.1f us/msg\n", us_ch,
	    ch.self * 1e6 / (double)ms.n, ch.child * 1e6 / (double)ms.n,
	    ch.wall * 1e6 / (double)ms.n);
	if (only == NULL)
		printf("  child's extra: CPU %+.1f us/msg (%+.1f%%), "
		    "wall %+.1f%%\n", us_ch - us_in,
		    (us_ch - us_in) * 100 / us_in,
		    (ch.wall - in.wall) * 100 / in.wall);
	printf("  child start (exec, converters, filter; once per %d "
	    "messages): CPU %.1f ms\n", PARSECHILD_MAX_MESSAGES,
	    spawn_cost(5) * 1e3);
	if (failed)
		printf("  WARNING: some messages failed in the child\n");
	return failed ? 1 : 0;
}
