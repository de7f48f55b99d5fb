/* SPDX-License-Identifier: MIT */
/*
 * resolve.h: host name lookup with a deadline.  glibc's getaddrinfo()
 * blocks for as long as resolv.conf lets it (timeout x attempts x servers,
 * for each address family), which would hold the whole daemon while one
 * source's DNS is down.  The lookup runs in glibc's getaddrinfo_a() thread
 * instead and the caller waits at most its timeout.
 */
#ifndef INTAKE_RESOLVE_H
#define INTAKE_RESOLVE_H

#include <netdb.h>

/* A lookup that outlived its deadline and could not be cancelled: glibc
 * still writes into it, so it is kept until it finishes. */
struct resolve_left;

/*
 * Addresses of host for a TCP connection to port, within timeout seconds.
 * 0 and *res (free with freeaddrinfo), or -1 and *err (caller frees).
 * *left is the caller's slot for a lookup left running: a previous one is
 * freed here if it has finished; if it is still running, this lookup is
 * refused at once (so a dead DNS server never piles up threads); a new
 * one that times out is put there.
 */
int	 resolve_tcp(const char *host, int port, int timeout,
	    struct resolve_left **left, struct addrinfo **res, char **err);

/* Free *left, waiting up to wait_ms for it to finish; a lookup still
 * running then is abandoned to the process's exit (glibc owns it). */
void	 resolve_left_free(struct resolve_left **left, int wait_ms);

#endif
