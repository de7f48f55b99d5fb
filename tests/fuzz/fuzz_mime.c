/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: message_parse alone (what runs in the parser child), with
 * small limits, ten times faster than fuzz_message, whose triage step
 * dominates its run time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_limits lim;
	struct message m;

	parse_limits_default(&lim);
	lim.max_depth = 8;
	lim.max_parts = 64;
	lim.max_headers = 64;
	lim.max_header_bytes = 2048;
	lim.max_text_bytes = 65536;
	message_parse((const char *)data, size, &lim, &m);
	if (m.text == NULL || m.text_len != strlen(m.text) ||
	    !utf8_valid(m.text, m.text_len))
		abort();
	if (m.subject && !utf8_valid(m.subject, strlen(m.subject)))
		abort();
	message_free(&m);
	return 0;
}
