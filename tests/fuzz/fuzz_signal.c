/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: signal-cli's event stream (daemon/signal_events.c; parser
 * only, no driver).  The input is fed to the SSE reader in pieces whose
 * sizes come from its first byte (the socket may split anywhere), and each
 * event's data goes through signal_event_parse; every event must come out
 * the same as when the input is fed whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signal_events.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX	4096

struct acc {
	struct buf	all;	/* every event, framed */
};

static int
on_event(void *arg, const struct sse_event *ev)
{
	struct acc *a = arg;
	struct signal_msg m;

	if (ev->oversize) {
		if (ev->data != NULL)
			abort();
		buf_addstr(&a->all, "|O");
		return 0;
	}
	if (ev->data == NULL || ev->data_len > MAX || ev->type == NULL ||
	    ev->id == NULL)
		abort();
	buf_addf(&a->all, "|%s|%s|%zu|", ev->type, ev->id, ev->data_len);
	buf_add(&a->all, ev->data, ev->data_len);
	signal_event_parse(ev->data, ev->data_len, 1024, &m);
	if (m.kind == SIGNAL_MESSAGE && (m.key == NULL ||
	    m.source_uuid == NULL || m.text_len > 1024 ||
	    (m.text == NULL && m.attachments == 0)))
		abort();
	if (m.kind != SIGNAL_MESSAGE && m.why == NULL)
		abort();
	if (m.source_name && strpbrk(m.source_name, "\r\n"))
		abort();
	signal_msg_free(&m);
	return 0;
}

static void
run(const uint8_t *d, size_t n, size_t step, struct acc *a)
{
	struct sse_parser *p = sse_new(MAX);
	size_t i, k;

	buf_init(&a->all, 0);
	buf_add(&a->all, "", 0);
	for (i = 0; i < n; i += k) {
		k = step ? step : n - i;
		if (k > n - i)
			k = n - i;
		sse_feed(p, (const char *)d + i, k, on_event, a);
	}
	sse_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc whole, pieces;

	if (size < 1)
		return 0;
	run(data + 1, size - 1, 0, &whole);
	run(data + 1, size - 1, (size_t)data[0] % 7 + 1, &pieces);
	if (whole.all.len != pieces.all.len ||
	    memcmp(whole.all.data, pieces.all.data, whole.all.len) != 0)
		abort();
	buf_free(&whole.all);
	buf_free(&pieces.all);
	return 0;
}
