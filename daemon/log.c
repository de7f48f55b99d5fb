/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/*
 * The logger's settings are process-wide by nature (stderr is); they are set
 * once at start-up and on reload, never from a signal handler.
 */
static const char *log_name = "intake";
static int log_max = LOG_PRI_INFO;

void
log_init(const char *name, int max_pri)
{
	log_name = name;
	log_max = max_pri;
}

void
log_set_level(int max_pri)
{
	log_max = max_pri;
}

int
log_level(void)
{
	return log_max;
}

/* U+0080-U+009F (C1) and the bidi embeddings/overrides/isolates, which
 * reorder or hide the rest of a terminal line, as UTF-8: their length. */
static size_t
invisible_utf8(const unsigned char *p)
{
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	return 0;
}

/*
 * A logged string may come from a message (a file name, a header): no
 * control character may reach the journal or a terminal raw, where ESC
 * or OSC sequences could rewrite the screen and a newline forge a line.
 * Newlines become spaces (one event, one line), other controls \xNN,
 * C1 and bidi controls \uNNNN.
 */
void
log_sanitize(const char *in, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, n;
	char esc[8];

	if (outsz == 0)
		return;
	while (*p && o + 1 < outsz) {
		if (*p == '\n' || *p == '\r') {
			out[o++] = ' ';
			p++;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *p), n = 1;
		else if ((n = invisible_utf8(p)) == 2)
			snprintf(esc, sizeof(esc), "\\u%04x", p[1]);
		else if (n == 3)
			snprintf(esc, sizeof(esc), "\\u%02x%02x", 0x20,
			    (p[1] & 0x3f) << 6 | (p[2] & 0x3f));
		else {
			out[o++] = (char)*p++;
			continue;
		}
		if (o + strlen(esc) >= outsz)
			break;
		memcpy(out + o, esc, strlen(esc));
		o += strlen(esc);
		p += n;
	}
	out[o] = '\0';
}

/* "FILE:LINE: ..." (a configuration error) stands on its own. */
static int
starts_with_location(const char *s)
{
	const char *c = strchr(s, ':'), *sp = strchr(s, ' ');

	return c != NULL && c > s && c[1] >= '0' && c[1] <= '9' &&
	    (sp == NULL || sp > c);
}

static void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char raw[2048], line[2048 * 6];
	int saved = errno;

	if (pri > log_max)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_sanitize(raw, line, sizeof(line));
	/* journald reads <N>; a person at a terminal reads the message */
	if (!isatty(STDERR_FILENO))
		fprintf(stderr, "<%d>%s: %s\n", pri, log_name, line);
	else if (starts_with_location(line))
		fprintf(stderr, "%s\n", line);
	else
		fprintf(stderr, "%s: %s\n", log_name, line);
	errno = saved;
}

/*
 * Libraries write to stderr on their own (libetpan's TLS code prints
 * "GnuTLS error: ..." with fprintf): journald would file such a line at
 * the default priority with its text unescaped.  The daemon's stderr is
 * therefore a stream that passes our own "<N>..." lines as they are and
 * gives every other line a warning prefix and the same cleaning.
 */
static char stray[2048];
static size_t stray_len;

static void
stray_flush(void)
{
	char line[sizeof(stray) * 6];
	const char *p = stray;
	int ours;

	stray[stray_len] = '\0';
	ours = stray[0] == '<' && stray[1] >= '0' && stray[1] <= '7' &&
	    stray[2] == '>';
	if (ours)
		dprintf(STDERR_FILENO, "%s\n", p);
	else {
		log_sanitize(p, line, sizeof(line));
		dprintf(STDERR_FILENO, "<%d>%s: %s\n", LOG_PRI_WARNING,
		    log_name, line);
	}
	stray_len = 0;
}

static ssize_t
stray_write(void *cookie, const char *buf, size_t n)
{
	size_t i;

	(void)cookie;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || stray_len == sizeof(stray) - 1)
			stray_flush();
		if (buf[i] != '\n')
			stray[stray_len++] = buf[i];
	}
	return (ssize_t)n;
}

static int
stray_close(void *cookie)
{
	(void)cookie;
	if (stray_len > 0)
		stray_flush();
	return 0;
}

int
log_capture_stray(void)
{
	cookie_io_functions_t io = { NULL, stray_write, NULL, stray_close };
	FILE *f;

	if (isatty(STDERR_FILENO))
		return 0;	/* a person reads it: leave the terminal be */
	if ((f = fopencookie(NULL, "w", io)) == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	stderr = f;
	return 0;
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap);
	va_end(ap);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_PRI_ERR, fmt, ap);
	va_end(ap);
	exit(code);
}
