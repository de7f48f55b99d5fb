/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the iCalendar holiday reader (calendar.c), through
 * calendar_new with holidays.ics pointing at a temporary file holding the
 * input (the reader takes a path, not a buffer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct config cfg;
	struct calendar *cal;
	struct holiday *h = NULL;
	char err[512] = "";
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_ics.%d.ics", (int)getpid());
	f = fopen(path, "w");
	if (f == NULL)
		return 0;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	config_defaults(&cfg);
	cfg.holidays_ics = xstrdup(path);
	cal = calendar_new(&cfg, err, sizeof(err));
	if (cal != NULL) {
		(void)calendar_holidays(cal, 2025, 2027, &h);
		free(h);
		(void)calendar_is_business_day(cal, 2026, 12, 25);
		calendar_free(cal);
	} else if (err[0] == '\0')
		abort();	/* an error must say what is wrong */
	config_free(&cfg);
	return 0;
}
