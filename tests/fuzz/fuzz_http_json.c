/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the HTTP source's JSON reply reader (parse_reply in
 * daemon/source_http.c, static there: the file is compiled into this
 * target so the reader is fuzzed as it is, without a test-only export).
 */
#include "../../daemon/source_http.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_reply r;
	char *err = NULL;
	size_t i;

	if (parse_reply((const char *)data, size, 4096, &r, &err) == 0) {
		/* what is accepted is what ingest_item relies on */
		if (err != NULL)
			abort();
		for (i = 0; i < r.nitems; i++) {
			if (r.items[i].id == NULL || r.items[i].from == NULL ||
			    r.items[i].text == NULL || r.items[i].text_len > 4096 ||
			    strpbrk(r.items[i].from, "\r\n") != NULL)
				abort();
		}
		if (r.next_cursor && strlen(r.next_cursor) > CURSOR_MAX)
			abort();
	} else if (err == NULL)
		abort();
	reply_free(&r);
	free(err);
	return 0;
}
