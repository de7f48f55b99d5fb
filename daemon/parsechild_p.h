/* SPDX-License-Identifier: MIT */
/*
 * parsechild_p.h: private to parsechild.c and its tests (the unit tests,
 * the fuzzers, the parse benchmark): the wire format between the parent
 * and the sandboxed child, and the child's pid.
 */
#ifndef INTAKE_PARSECHILD_P_H
#define INTAKE_PARSECHILD_P_H

#include <stddef.h>
#include <sys/types.h>

#include "message.h"
#include "parsechild.h"

/* The running child's pid, or -1. */
pid_t	 parsechild_pid(const struct parsechild *);

/* The wire format: a message as the child sends it (what a compromised
 * child could send is what message_deserialize must survive). */
int	 message_serialize(const struct message *, char **out, size_t *outlen);
int	 message_deserialize(const char *, size_t, struct message *);

#endif
