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
			const struct http_item *it = &r.items[i];

			/* every item has a key and its exact bytes ... */
			if (it->id == NULL || it->raw.p < (const char *)data ||
			    it->raw.p + it->raw.n > (const char *)data + size)
				abort();
			if (it->from && !from_ok(it->from, strlen(it->from)))
				abort();
			/* ... and a good one all ingest relies on */
			if (it->why == NULL && (!id_ok(it->id, strlen(it->id)) ||
			    it->text == NULL || it->text_len > 4096))
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
