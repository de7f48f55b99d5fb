/* SPDX-License-Identifier: MIT */
/*
 * notify_p.h: private to notify.c and its unit tests: the retry schedule
 * and the header encoding, exported only so the tests can reach them.
 */
#ifndef INTAKE_NOTIFY_P_H
#define INTAKE_NOTIFY_P_H

/* Seconds to wait after a failed attempt: min(2^attempts * 30, 3600) plus
 * up to a tenth of jitter.  attempts counts the failures before this one. */
long	 notify_backoff(int attempts);
/* RFC 2047 encoded words (UTF-8, base64) when s is not plain printable
 * ASCII, else a copy; caller frees. */
char	*notify_rfc2047(const char *s);

#endif
