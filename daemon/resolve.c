/* SPDX-License-Identifier: MIT */
/*
 * Host name lookup with a deadline, on glibc's getaddrinfo_a().
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolve.h"
#include "util.h"

/* Everything glibc's lookup thread may touch lives here, on the heap. */
struct resolve_left {
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		 service[16];
	char		*host;
};

static struct resolve_left *
request_new(const char *host, int port)
{
	struct resolve_left *r = xcalloc(1, sizeof(*r));

	r->host = xstrdup(host);
	snprintf(r->service, sizeof(r->service), "%d", port);
	r->hints.ai_socktype = SOCK_STREAM;
	r->cb.ar_name = r->host;
	r->cb.ar_service = r->service;
	r->cb.ar_request = &r->hints;
	return r;
}

static void
request_free(struct resolve_left *r)
{
	if (r->cb.ar_result != NULL)
		freeaddrinfo(r->cb.ar_result);
	free(r->host);
	free(r);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for r until deadline_ms (monotonic); 0 when finished, -1 if not. */
static int
wait_until(struct resolve_left *r, long long deadline_ms)
{
	const struct gaicb *list[1] = { &r->cb };
	struct timespec ts;
	long long left_ms;

	while (gai_error(&r->cb) == EAI_INPROGRESS) {
		if ((left_ms = deadline_ms - now_ms()) <= 0)
			return -1;
		ts.tv_sec = (time_t)(left_ms / 1000);
		ts.tv_nsec = (long)(left_ms % 1000) * 1000000;
		/* EAI_AGAIN (time out), EAI_INTR (a signal) or done:
		 * the loop's test decides. */
		(void)gai_suspend(list, 1, &ts);
	}
	return 0;
}

void
resolve_left_free(struct resolve_left **left, int wait_ms)
{
	struct resolve_left *r = *left;

	if (r == NULL)
		return;
	if (wait_until(r, now_ms() + wait_ms) == -1 &&
	    gai_cancel(&r->cb) == EAI_NOTCANCELED)
		return;		/* still glibc's: kept for the process's life */
	request_free(r);
	*left = NULL;
}

int
resolve_tcp(const char *host, int port, int timeout,
    struct resolve_left **left, struct addrinfo **res, char **err)
{
	struct gaicb *list[1];
	struct resolve_left *r;
	int rc;

	*res = NULL;
	if (*left != NULL) {
		if (gai_error(&(*left)->cb) == EAI_INPROGRESS) {
			*err = xasprintf("resolving %s: an earlier lookup of %s "
			    "is still running", host, (*left)->host);
			return -1;
		}
		request_free(*left);
		*left = NULL;
	}
	r = request_new(host, port);
	list[0] = &r->cb;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		*err = xasprintf("resolving %s: %s", host, gai_strerror(rc));
		request_free(r);
		return -1;
	}
	if (wait_until(r, now_ms() + (long long)timeout * 1000) == -1) {
		*err = xasprintf("resolving %s: no answer within %d s", host,
		    timeout);
		if (gai_cancel(&r->cb) == EAI_NOTCANCELED)
			*left = r;
		else
			request_free(r);
		return -1;
	}
	if ((rc = gai_error(&r->cb)) != 0) {
		*err = xasprintf("resolving %s: %s", host, gai_strerror(rc));
		request_free(r);
		return -1;
	}
	*res = r->cb.ar_result;
	r->cb.ar_result = NULL;
	request_free(r);
	return 0;
}
