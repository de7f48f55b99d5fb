/* SPDX-License-Identifier: MIT */
/*
 * The parse limits of the message and mime fuzz targets, shared with the
 * regression test (tests/unit/test_fuzz_regress.c) so the crashers kept
 * there are replayed exactly as the fuzzer found them.  Needs "message.h".
 */
#ifndef INTAKE_FUZZ_LIMITS_H
#define INTAKE_FUZZ_LIMITS_H

/* Small limits, so the fuzzer reaches them. */
static inline void
fuzz_parse_limits(struct parse_limits *lim)
{
	parse_limits_default(lim);
	lim->max_depth = 8;
	lim->max_parts = 64;
	lim->max_headers = 64;
	lim->max_header_bytes = 2048;
	lim->max_text_bytes = 65536;
}

#endif
