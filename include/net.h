/* SPDX-License-Identifier: MIT */
/*
 * net.h: the one answer to "is this host loopback?", asked wherever a
 * secret may go out in clear (IMAP tls = "none", plain http:// sources and
 * alert URLs).  By address only: a name is loopback when every address it
 * resolves to is (so "127.mail.example.net" is not, unless DNS says so),
 * and "localhost" always is (RFC 6761).
 */
#ifndef INTAKE_NET_H
#define INTAKE_NET_H

#include <sys/socket.h>

/* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104. */
int	 net_addr_is_loopback(const struct sockaddr *);

/* host: an IPv4 or IPv6 address (IPv6 may be in brackets) or a name,
 * looked up with a deadline of a few seconds.  1 or 0; a name that does
 * not resolve is not loopback. */
int	 host_is_loopback(const char *host);

/* Only the literal part: 1 loopback address or "localhost", 0 another
 * address, -1 a name (needs a lookup).  For tests and for callers that
 * must not block. */
int	 host_is_loopback_literal(const char *host);

#endif
