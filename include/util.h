/* SPDX-License-Identifier: MIT */
/*
 * util.h: allocation that never fails (it aborts on OOM, so call sites stay
 * linear), a bounded growable buffer, bounded number parsing, UTF-8 repair,
 * hashing and small file helpers.  No module state.
 */
#ifndef INTAKE_UTIL_H
#define INTAKE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <time.h>

#define ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) ATTR_PRINTF(1, 2);
char	*xvasprintf(const char *, va_list) ATTR_PRINTF(1, 0);

/*
 * A growable byte buffer, always NUL-terminated after buf_* calls.  `max`
 * (0 = unlimited) bounds it: an append that would pass it fails with -1 and
 * leaves the buffer as it was, so hostile input cannot grow it without end.
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};
void	 buf_init(struct buf *, size_t max);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_addstr(struct buf *, const char *);
int	 buf_addc(struct buf *, char);
int	 buf_addf(struct buf *, const char *, ...) ATTR_PRINTF(2, 3);
char	*buf_steal(struct buf *);	/* caller frees; buffer is reset */
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);

/* Whole-string unsigned parse within [min, max]: 0, or -1 (junk, range). */
int	 parse_uint(const char *, unsigned long long min, unsigned long long max,
	    unsigned long long *out);
/* "HH:MM" (00:00-24:00) into minutes after midnight: 0 or -1. */
int	 parse_hhmm(const char *, int *minutes);

int	 utf8_valid(const char *, size_t);
/* Copy of s with invalid UTF-8 and NUL bytes replaced by U+FFFD; caller frees. */
char	*utf8_sanitize(const char *s, size_t len);
/* Copy of s truncated to at most max bytes on a character boundary. */
char	*utf8_truncate(const char *s, size_t max);

/* Lower-case hex SHA-256 of the bytes into out (65 bytes with the NUL). */
void	 sha256_hex(const void *, size_t, char out[65]);

/*
 * Read a whole file of at most max bytes.  0 on success (*out NUL-terminated,
 * caller frees), -1 with errno set (EFBIG when larger than max).
 */
int	 read_file(const char *path, size_t max, char **out, size_t *outlen);
/* Read all of a file descriptor, same contract as read_file. */
int	 read_fd(int fd, size_t max, char **out, size_t *outlen);

/*
 * Escape untrusted text for a log line or terminal: control bytes become
 * \xNN, at most max bytes of input are shown.  Caller frees.
 */
char	*str_escape(const char *, size_t max);

/* ISO 8601 / RFC 3339 instants. */
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)"; offset mandatory.
 * Fractional seconds are truncated.  0, or -1 when malformed. */
int	 iso8601_parse(const char *, time_t *out);
/* Format t in the process's local zone (the office zone) with its offset,
 * e.g. 2026-11-30T19:00:00-05:00, into out (at least 26 bytes). */
void	 iso8601_local(time_t, char *out, size_t outlen);
/* Format t in UTC with Z. */
void	 iso8601_utc(time_t, char *out, size_t outlen);

/* Day numbers: days since 1970-01-01 in the proleptic Gregorian calendar,
 * no time zone (calendar.c, ics.c). */
long	 days_from_civil(int y, int m, int d);
void	 civil_from_days(long dn, int *y, int *m, int *d);
/* 1 when y-m-d is a real date (month 1-12, day within the month). */
int	 civil_valid(int y, int m, int d);

/* Monotonic milliseconds, for timeouts and benchmarks. */
uint64_t now_ms_monotonic(void);

#endif
