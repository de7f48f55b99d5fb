/* SPDX-License-Identifier: MIT */
/*
 * parsechild.h: untrusted messages are parsed in a separate, long-lived
 * child process (OpenSMTPD's privilege separation, scaled down): no
 * database, no network, no descriptors but its socketpair, rlimits, no_new_privs
 * and a seccomp filter.  The parent sends raw bytes and receives the parsed
 * message in a small length-prefixed format.  A crash or timeout of the
 * child turns that one message into a parse error and the child is
 * restarted.
 */
#ifndef INTAKE_PARSECHILD_H
#define INTAKE_PARSECHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "message.h"

struct parsechild;

/*
 * A fresh child after this many messages bounds what libetpan leaks (it
 * does, tens of bytes in mailimf_fields_parse on some malformed headers)
 * and heap fragmentation.  A start costs 7-10 ms of CPU (exec, dynamic
 * linking, the pinned converters): every 10000 messages, under 1 us each.
 */
#define PARSECHILD_MAX_MESSAGES	10000

/* Fork the child.  NULL with *err (caller frees) when it cannot start. */
struct parsechild *parsechild_start(char **err);
void	 parsechild_stop(struct parsechild *);
/*
 * An ingest_parse_fn (ingest.h): arg is the struct parsechild.  Always fills
 * *out; when the child crashes, times out (limits->timeout_ms) or answers
 * garbage, *out is an MSG_PARSE_ERROR message ("parser crashed", "parser
 * timed out", "parser reply invalid") and the child is restarted on the
 * next call.
 */
int	 parsechild_parse(void *arg, const char *raw, size_t len,
	    const struct parse_limits *, struct message *out);
/* Where the parse's time goes (issue 19), summed since start, in ns on
 * CLOCK_MONOTONIC: sending the request, waiting for the reply (the child's
 * parse and the hand-off), reading and decoding it; and the CPU time the
 * children used (the running one's CPU clock plus the reaped ones').  n:
 * exchanges. */
struct parsechild_times {
	long long	 send_ns, wait_ns, recv_ns, child_cpu_ns;
	long		 n;
};
void	 parsechild_times(const struct parsechild *, struct parsechild_times *);
/* 1 when the child runs under seccomp and RLIMIT_AS, 0 when the sandbox
 * is off: built with a sanitizer, -DINTAKE_NO_SECCOMP, or run with
 * INTAKE_SANITIZER=1 in the environment. */
int	 parsechild_sandboxed(const struct parsechild *);

#endif
