/* SPDX-License-Identifier: MIT */
/* libFuzzer: iso8601_parse, parse_hhmm and parse_uint (util.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, buf[64];
	time_t t, t2;
	int min;
	unsigned long long v;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (iso8601_parse(s, &t) == 0) {
		/* what parses must format and parse back to the same instant */
		iso8601_utc(t, buf, sizeof(buf));
		if (buf[0] != '\0' && (iso8601_parse(buf, &t2) != 0 ||
		    t2 != t))
			abort();
	}
	if (parse_hhmm(s, &min) == 0 && (min < 0 || min > 1440))
		abort();
	if (parse_uint(s, 1, 1000, &v) == 0 && (v < 1 || v > 1000))
		abort();
	free(s);
	return 0;
}
