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

#include "message.h"

struct parsechild;

/* Fork the child.  NULL with *err (caller frees) when it cannot start. */
struct parsechild *parsechild_start(char **err);
void	 parsechild_stop(struct parsechild *);
/* An ingest_parse_fn (ingest.h): arg is the struct parsechild. */
int	 parsechild_parse(void *arg, const char *raw, size_t len,
	    const struct parse_limits *, struct message *out);

/* The wire format, exposed for tests and the fuzzer. */
int	 message_serialize(const struct message *, char **out, size_t *outlen);
int	 message_deserialize(const char *, size_t, struct message *);

#endif
