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

#include "fuzz_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_limits lim;
	struct message m;

	fuzz_parse_limits(&lim);
	message_parse((const char *)data, size, &lim, &m);
	if (m.text == NULL || m.text_len != strlen(m.text) ||
	    !utf8_valid(m.text, m.text_len))
		abort();
	if (m.subject && !utf8_valid(m.subject, strlen(m.subject)))
		abort();
	message_free(&m);
	return 0;
}
