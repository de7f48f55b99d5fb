/* SPDX-License-Identifier: MIT */
/*
 * net.c: loopback checks by address (net.h).  Before this module there were
 * three, one of them "starts with 127.", which let a configured
 * "127.mail.example.net" with tls = "none" send the password in clear to
 * whatever that name resolves to.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"
#include "resolve.h"

#define LOOKUP_SECS	5

static int
in4_is_loopback(const struct in_addr *a)
{
	return (ntohl(a->s_addr) >> 24) == 127;
}

static int
in6_is_loopback(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a) ||
	    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

int
net_addr_is_loopback(const struct sockaddr *sa)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	/* Copied out: reading a sockaddr_in through a struct sockaddr is
	 * what strict aliasing forbids. */
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(&s4, sa, sizeof(s4));
		return in4_is_loopback(&s4.sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(&s6, sa, sizeof(s6));
		return in6_is_loopback(&s6.sin6_addr);
	}
	return 0;
}

/* "[::1]" -> "::1" in buf; NULL if it does not fit. */
static const char *
unbracket(const char *h, char *buf, size_t size)
{
	size_t len = strlen(h);

	if (len < 2 || h[0] != '[' || h[len - 1] != ']')
		return h;
	if (len - 2 >= size)
		return NULL;
	memcpy(buf, h + 1, len - 2);
	buf[len - 2] = '\0';
	return buf;
}

int
host_is_loopback_literal(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 1];
	const char *h;

	if (host == NULL || *host == '\0')
		return 0;
	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return 1;
	if ((h = unbracket(host, buf, sizeof(buf))) == NULL)
		return 0;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return in4_is_loopback(&a4);
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return in6_is_loopback(&a6);
	if (h != host)
		return 0;	/* brackets around a name */
	return -1;
}

int
host_is_loopback(const char *host)
{
	struct resolve_left *left = NULL;
	struct addrinfo *res = NULL, *ai;
	char *err = NULL;
	int lit, yes;

	if ((lit = host_is_loopback_literal(host)) >= 0)
		return lit;
	if (resolve_tcp(host, 1, LOOKUP_SECS, &left, &res, &err) == -1) {
		free(err);
		resolve_left_free(&left, 0);
		return 0;
	}
	yes = res != NULL;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (!net_addr_is_loopback(ai->ai_addr))
			yes = 0;
	freeaddrinfo(res);
	resolve_left_free(&left, 0);
	return yes;
}
