/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "util.h"

static void __attribute__((noreturn))
oom(void)
{
	static const char msg[] = "<2>out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	size_t need;

	if (n > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + n + 1;
	if (b->max && b->len + n > b->max)
		return -1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	rc = buf_addstr(b, s);
	free(s);
	return rc;
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (ULLONG_MAX - (unsigned)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_hhmm(const char *s, int *minutes)
{
	int h, m;

	if (s == NULL || strlen(s) != 5 || s[2] != ':')
		return -1;
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80)
		return c == 0 ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* 1 when the 8 bytes at p are ASCII other than NUL. */
static int
ascii8(const unsigned char *p)
{
	const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	/* no high bit set, and no zero byte (w - lo sets the high bit of a
	 * byte that was zero; ~w drops bytes that had it set already) */
	return (w & hi) == 0 && ((w - lo) & ~w & hi) == 0;
}

/*
 * utf8_valid: the same answer as utf8_seq over the whole string (no NUL,
 * no overlong form, no surrogate, nothing above U+10FFFF: Unicode's table
 * 3-7), about four times faster on mixed text, which matters because the
 * parent checks every string of every parser child reply.  A "shift DFA":
 * a state is a bit offset (a multiple of 6) into a 64-bit row, and the
 * row of an input byte holds, at each state's offset, the next state; so a
 * byte costs one load and one shift, without branches.
 */
#define U8_ACCEPT	0	/* between characters */
#define U8_REJECT	6	/* absorbing */
#define U8_TAIL1	12	/* one continuation byte (80-BF) to go */
#define U8_TAIL2	18
#define U8_TAIL3	24
#define U8_E0		30	/* after E0: A0-BF, then one */
#define U8_ED		36	/* after ED: 80-9F (no surrogates), then one */
#define U8_F0		42	/* after F0: 90-BF, then two */
#define U8_F4		48	/* after F4: 80-8F (<= U+10FFFF), then two */
/* the next state from accept, tail1..3, e0, ed, f0, f4 (reject stays) */
#define U8_ROW(a, t1, t2, t3, e0, ed, f0, f4)				\
	((uint64_t)(a) | (uint64_t)U8_REJECT << U8_REJECT |		\
	 (uint64_t)(t1) << U8_TAIL1 | (uint64_t)(t2) << U8_TAIL2 |	\
	 (uint64_t)(t3) << U8_TAIL3 | (uint64_t)(e0) << U8_E0 |		\
	 (uint64_t)(ed) << U8_ED | (uint64_t)(f0) << U8_F0 |		\
	 (uint64_t)(f4) << U8_F4)
/* a byte that can only start a character */
#define U8_LEAD(a)	U8_ROW(a, U8_REJECT, U8_REJECT, U8_REJECT,	\
	U8_REJECT, U8_REJECT, U8_REJECT, U8_REJECT)

static const uint64_t utf8_dfa[256] = {
	[0x00] = U8_LEAD(U8_REJECT),
	[0x01 ... 0x7f] = U8_LEAD(U8_ACCEPT),
	[0x80 ... 0x8f] = U8_ROW(U8_REJECT, U8_ACCEPT, U8_TAIL1, U8_TAIL2,
	    U8_REJECT, U8_TAIL1, U8_REJECT, U8_TAIL2),
	[0x90 ... 0x9f] = U8_ROW(U8_REJECT, U8_ACCEPT, U8_TAIL1, U8_TAIL2,
	    U8_REJECT, U8_TAIL1, U8_TAIL2, U8_REJECT),
	[0xa0 ... 0xbf] = U8_ROW(U8_REJECT, U8_ACCEPT, U8_TAIL1, U8_TAIL2,
	    U8_TAIL1, U8_REJECT, U8_TAIL2, U8_REJECT),
	[0xc0 ... 0xc1] = U8_LEAD(U8_REJECT),
	[0xc2 ... 0xdf] = U8_LEAD(U8_TAIL1),
	[0xe0] = U8_LEAD(U8_E0),
	[0xe1 ... 0xec] = U8_LEAD(U8_TAIL2),
	[0xed] = U8_LEAD(U8_ED),
	[0xee ... 0xef] = U8_LEAD(U8_TAIL2),
	[0xf0] = U8_LEAD(U8_F0),
	[0xf1 ... 0xf3] = U8_LEAD(U8_TAIL3),
	[0xf4] = U8_LEAD(U8_F4),
	[0xf5 ... 0xff] = U8_LEAD(U8_REJECT),
};

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t st = U8_ACCEPT;
	size_t i = 0, end;

	while (i < n) {
		/* mail is mostly ASCII: between characters, a word at a time */
		if ((st & 63) == U8_ACCEPT)
			while (n - i >= 8 && ascii8(p + i))
				i += 8;
		/* then up to 16 bytes through the automaton */
		end = n - i > 16 ? i + 16 : n;
		for (; i < end; i++)
			st = utf8_dfa[p[i]] >> (st & 63);
		if ((st & 63) == U8_REJECT)
			return 0;
	}
	return (st & 63) == U8_ACCEPT;
}

char *
utf8_sanitize(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf b;
	size_t i = 0, k, run = 0;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	/* valid sequences are copied in runs, not one by one */
	while (i < n) {
		if (p[i] - 1u < 0x7fu) {	/* ASCII but NUL: the bulk */
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0) {
			buf_add(&b, p + run, i - run);
			buf_add(&b, "\xef\xbf\xbd", 3);
			run = ++i;
		} else
			i += k;
	}
	buf_add(&b, p + run, i - run);
	return buf_steal(&b);
}

char *
utf8_truncate(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return xstrdup(s);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return xstrndup(s, n);
}

void
sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, md) != 0)
		abort();
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int
read_fd(int fd, size_t max, char **out, size_t *outlen)
{
	struct buf b;
	char chunk[65536];
	ssize_t r;

	buf_init(&b, max);
	buf_add(&b, "", 0);
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			buf_free(&b);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		if (buf_add(&b, chunk, (size_t)r) == -1) {
			buf_free(&b);
			errno = EFBIG;
			return -1;
		}
	}
	*outlen = b.len;
	*out = buf_steal(&b);
	return 0;
}

int
read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = read_fd(fd, max, out, outlen);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

char *
str_escape(const char *s, size_t max)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	if (s == NULL)
		return buf_steal(&b);
	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			buf_addf(&b, "\\x%02x", c);
		else
			buf_addc(&b, (char)c);
	}
	if (s[i])
		buf_addstr(&b, "...");
	return buf_steal(&b);
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int
iso8601_parse(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	time_t t;

	if (s == NULL || strlen(s) < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		if (digits(p + 1, 2, &oh) || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		sign = *p == '+' ? 1 : -1;
	} else
		return -1;
	if (sec == 60)
		sec = 59;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -1;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	/* an offset can carry 0000-01-01 or 9999-12-31 out of the years this
	 * format can write back (found by tests/fuzz/fuzz_iso8601) */
	if (t < (time_t)-62167219200LL || t > (time_t)253402300799LL)
		return -1;
	*out = t;
	return 0;
}

void
iso8601_local(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	long off;
	char sign;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff;
	sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, sign, off / 3600, (off % 3600) / 60);
}

void
iso8601_utc(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

uint64_t
now_ms_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- day numbers ------------------------------------------------------ */

/* H. Hinnant's days_from_civil: valid for the whole proleptic calendar. */
long
days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
civil_valid(int y, int m, int d)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12 || d < 1)
		return 0;
	if (m == 2 && leap_year(y))
		return d <= 29;
	return d <= dm[m - 1];
}
