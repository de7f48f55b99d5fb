/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;
	size_t i;

	if (pri > log_max)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One event, one line: a stray newline must not forge another. */
	for (i = 0; line[i]; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	fprintf(stderr, "<%d>%s: %s\n", pri, log_name, line);
	errno = saved;
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
