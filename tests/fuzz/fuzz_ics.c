/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the iCalendar holiday reader (ics.c), on the input buffer
 * itself.  Every closure it accepts must be one calendar.c can use, and an
 * error must say what is wrong.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ics.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ics_closures c;
	const struct ics_closure *e;
	char err[512] = "";
	size_t i;

	if (ics_parse((const char *)data, size, "fuzz.ics", &c, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || c.n != 0 || c.v != NULL)
			abort();	/* an error must say what is wrong */
		return 0;
	}
	for (i = 0; i < c.n; i++) {
		e = &c.v[i];
		if (e->name == NULL || e->ndays < 1 || e->ndays > 366 ||
		    !utf8_valid(e->name, strlen(e->name)))
			abort();
		if (e->yearly && (e->interval < 1 || e->last_year < 0))
			abort();
	}
	ics_closures_free(&c);
	return 0;
}
