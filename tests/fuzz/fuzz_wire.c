/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: message_deserialize, the parent's reader of the parser
 * child's replies (a compromised child controls every byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "parsechild.h"
#include "util.h"

#include "../../daemon/parsechild_p.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message m;
	char *ser;
	size_t slen;

	if (message_deserialize((const char *)data, size, &m) == 0) {
		/* what was accepted must keep the struct's promises */
		if (m.text == NULL || !utf8_valid(m.text, m.text_len) ||
		    m.status > MSG_PARSE_LIMIT)
			abort();
		if (message_serialize(&m, &ser, &slen) != 0 || slen != size ||
		    memcmp(ser, data, size) != 0)
			abort();
		free(ser);
		message_free(&m);
	}
	return 0;
}
