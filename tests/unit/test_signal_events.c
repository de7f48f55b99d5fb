/* SPDX-License-Identifier: MIT */
/* signal_events.c (parser only; no driver, signal-cli not installable
 * here): the server-sent-events reader (line ends, pieces, comments,
 * multi-line data, ids, the cap) and signal-cli's receive events (the
 * key, texts, groups, attachments, edits, what is ignored, what is bad).
 * The event shapes follow signal-cli's JsonMessageEnvelope /
 * JsonDataMessage and ServerSentEventSender (event:receive, id:, data:). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "signal_events.h"
#include "util.h"

/* Every event as "TYPE|ID|DATA" (or "TYPE|ID|OVERSIZE"), ';'-separated. */
static int
collect(void *arg, const struct sse_event *ev)
{
	struct buf *b = arg;

	buf_addf(b, "%s%s|%s|", b->len ? ";" : "", ev->type, ev->id);
	if (ev->oversize)
		buf_addstr(b, "OVERSIZE");
	else
		buf_add(b, ev->data, ev->data_len);
	return 0;
}

/* The stream fed whole, and one byte at a time: the same events. */
static void
sse_is(const char *stream, size_t max, const char *want)
{
	struct sse_parser *p;
	struct buf b;
	size_t i, n = strlen(stream);
	int pass;

	for (pass = 0; pass < 2; pass++) {
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		p = sse_new(max);
		if (pass == 0)
			ck_assert_int_eq(sse_feed(p, stream, n, collect, &b), 0);
		else
			for (i = 0; i < n; i++)
				ck_assert_int_eq(sse_feed(p, stream + i, 1,
				    collect, &b), 0);
		ck_assert_msg(strcmp(b.data, want) == 0, "pass %d: got [%s], "
		    "want [%s]", pass, b.data, want);
		sse_free(p);
		buf_free(&b);
	}
}

START_TEST(test_sse_framing)
{
	/* signal-cli's own shape, and its keep-alive */
	sse_is(":\nid:1700000000000-1\nevent:receive\ndata:{\"a\":1}\n\n:\n",
	    1024, "receive|1700000000000-1|{\"a\":1}");
	/* CRLF, CR and LF line ends; one leading space dropped, only one */
	sse_is("data: x\r\n\r\ndata:  y\r\rdata:z\n\n", 1024,
	    "message||x;message|| y;message||z");
	/* several data lines are one event, joined by \n */
	sse_is("data:a\ndata\ndata:b\n\n", 1024, "message||a\n\nb");
	/* no data: no event; a stream cut mid-event: no event */
	sse_is("event:receive\n\ndata:half", 1024, "");
	/* the id lasts until another; an id with a NUL-free value only */
	sse_is("id:7\ndata:a\n\ndata:b\n\nid\ndata:c\n\n", 1024,
	    "message|7|a;message|7|b;message||c");
	/* a leading BOM is not part of the first field; unknown fields and
	 * retry are ignored; the event type is reset after each event */
	sse_is("\xef\xbb\xbf" "event:x\nretry:10\nfoo:bar\ndata:1\n\ndata:2\n\n",
	    1024, "x||1;message||2");
}
END_TEST

START_TEST(test_sse_cap)
{
	/* over the cap: reported, no data, and the next event is whole */
	sse_is("data:0123456789\n\ndata:ok\n\n", 8, "message||OVERSIZE;message||ok");
	sse_is("data:0123\ndata:4567\n\ndata:ok\n\n", 8,
	    "message||OVERSIZE;message||ok");
	/* a line far over the cap, with no event field at all */
	sse_is("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\n"
	    "data:ok\n\n", 8, "message||OVERSIZE;message||ok");
}
END_TEST

static int
stop_at_first(void *arg, const struct sse_event *ev)
{
	(void)ev;
	++*(int *)arg;
	return 42;
}

START_TEST(test_sse_stop)
{
	struct sse_parser *p = sse_new(64);
	int n = 0;
	const char *s = "data:a\n\ndata:b\n\n";

	ck_assert_int_eq(sse_feed(p, s, strlen(s), stop_at_first, &n), 42);
	ck_assert_int_eq(n, 1);
	sse_free(p);
}
END_TEST

#define UUID	"7ccae375-cd51-4c82-8b1e-7be3280aa485"
#define ENV(x)	"{\"account\":\"+15550000000\",\"envelope\":{\"source\":\"+15550001111\"," \
	"\"sourceNumber\":\"+15550001111\",\"sourceUuid\":\"" UUID "\",\"sourceName\":\"Ana\"," \
	"\"sourceDevice\":1,\"timestamp\":1745372297238,\"serverReceivedTimestamp\":1745372294830," \
	"\"serverDeliveredTimestamp\":1745372294831" x "}}"

static void
parse(const char *s, struct signal_msg *m)
{
	signal_event_parse(s, strlen(s), 4096, m);
}

START_TEST(test_signal_message)
{
	struct signal_msg m;

	parse(ENV(",\"dataMessage\":{\"timestamp\":1745372297238,"
	    "\"message\":\"they took my passport\",\"expiresInSeconds\":0,"
	    "\"viewOnce\":false}"), &m);
	ck_assert_int_eq(m.kind, SIGNAL_MESSAGE);
	ck_assert_str_eq(m.key, UUID ":1745372297238");
	ck_assert_str_eq(m.account, "+15550000000");
	ck_assert_str_eq(m.source_uuid, UUID);
	ck_assert_str_eq(m.source_number, "+15550001111");
	ck_assert_str_eq(m.source_name, "Ana");
	ck_assert_str_eq(m.text, "they took my passport");
	ck_assert_uint_eq(m.text_len, 21);
	ck_assert_int_eq((long long)m.received_at, 1745372294LL);
	ck_assert_ptr_null(m.group_id);
	ck_assert_int_eq(m.attachments, 0);
	signal_msg_free(&m);
}
END_TEST

START_TEST(test_signal_jsonrpc_group_attachment_edit)
{
	struct signal_msg m;

	/* the JSON-RPC notification of the socket mode: the same params;
	 * a number not shared; a group; an attachment with no text */
	parse("{\"jsonrpc\":\"2.0\",\"method\":\"receive\",\"params\":"
	    "{\"envelope\":{\"sourceUuid\":\"" UUID "\",\"sourceNumber\":null,"
	    "\"timestamp\":5,\"dataMessage\":{\"timestamp\":5,\"message\":null,"
	    "\"groupInfo\":{\"groupId\":\"Zm9vYmFy\",\"type\":\"DELIVER\"},"
	    "\"attachments\":[{\"contentType\":\"image/jpeg\",\"id\":\"x\"}]}},"
	    "\"account\":\"+15550000000\"}}", &m);
	ck_assert_int_eq(m.kind, SIGNAL_MESSAGE);
	ck_assert_str_eq(m.key, UUID ":5");
	ck_assert_ptr_null(m.source_number);
	ck_assert_ptr_null(m.text);
	ck_assert_str_eq(m.group_id, "Zm9vYmFy");
	ck_assert_int_eq(m.attachments, 1);
	ck_assert_int_eq((long long)m.received_at, 0);
	signal_msg_free(&m);
	/* an edit: a message of its own (its own timestamp), naming the
	 * one it replaces */
	parse(ENV(",\"editMessage\":{\"targetSentTimestamp\":1745372000000,"
	    "\"dataMessage\":{\"timestamp\":1745372297238,\"message\":\"fixed\"}}"),
	    &m);
	ck_assert_int_eq(m.kind, SIGNAL_MESSAGE);
	ck_assert_str_eq(m.text, "fixed");
	ck_assert_int_eq(m.edit_of, 1745372000000LL);
	signal_msg_free(&m);
}
END_TEST

START_TEST(test_signal_ignored)
{
	static const char *const v[] = {
		ENV(",\"typingMessage\":{\"action\":\"STARTED\",\"timestamp\":1}"),
		ENV(",\"receiptMessage\":{\"when\":1,\"isDelivery\":true,"
		    "\"timestamps\":[1]}"),
		ENV(",\"syncMessage\":{}"),
		ENV(",\"dataMessage\":{\"timestamp\":1,\"message\":null,"
		    "\"reaction\":{\"emoji\":\"x\"}}"),
		"{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":{}}",
	};
	struct signal_msg m;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		parse(v[i], &m);
		ck_assert_msg(m.kind == SIGNAL_IGNORED, "event %zu: kind %d",
		    i, m.kind);
		ck_assert_ptr_nonnull(m.why);
		signal_msg_free(&m);
	}
}
END_TEST

START_TEST(test_signal_bad)
{
	struct signal_msg m;
	struct buf b;
	const char *big;
	int i;

	parse("{\"envelope\":", &m);
	ck_assert_int_eq(m.kind, SIGNAL_BAD);
	ck_assert_ptr_null(m.key);
	signal_msg_free(&m);
	/* a NUL in the text (\u0000): not read at all */
	parse(ENV(",\"dataMessage\":{\"message\":\"a\\u0000b\"}"), &m);
	ck_assert_int_eq(m.kind, SIGNAL_BAD);
	ck_assert_str_eq(m.why, "not a JSON object (or not UTF-8, or a NUL)");
	signal_msg_free(&m);
	/* no uuid: no key, so it cannot be stored exactly once by itself */
	parse("{\"envelope\":{\"sourceUuid\":\"not-a-uuid\",\"timestamp\":1,"
	    "\"dataMessage\":{\"message\":\"hi\"}}}", &m);
	ck_assert_int_eq(m.kind, SIGNAL_BAD);
	ck_assert_str_eq(m.why, "no sourceUuid and timestamp to key it by");
	ck_assert_ptr_null(m.key);
	ck_assert_ptr_null(m.source_uuid);
	signal_msg_free(&m);
	/* could not be decrypted: bad, but the sender is known */
	parse("{\"account\":\"+15550000000\",\"exception\":{\"message\":\"x\","
	    "\"type\":\"UntrustedIdentityException\"},\"envelope\":"
	    "{\"sourceUuid\":\"" UUID "\",\"timestamp\":9}}", &m);
	ck_assert_int_eq(m.kind, SIGNAL_BAD);
	ck_assert_int_eq(m.undecryptable, 1);
	ck_assert_str_eq(m.key, UUID ":9");
	signal_msg_free(&m);
	/* a sender's name with a line break, a number that is not E.164:
	 * not kept, the message still is */
	parse("{\"envelope\":{\"sourceUuid\":\"" UUID "\",\"timestamp\":3,"
	    "\"sourceName\":\"a\\r\\nb\",\"sourceNumber\":\"555\","
	    "\"dataMessage\":{\"message\":\"hi\"}}}", &m);
	ck_assert_int_eq(m.kind, SIGNAL_MESSAGE);
	ck_assert_ptr_null(m.source_name);
	ck_assert_ptr_null(m.source_number);
	signal_msg_free(&m);
	/* text over the limit (the same event under it is a message) */
	buf_init(&b, 0);
	buf_addstr(&b, "{\"envelope\":{\"sourceUuid\":\"" UUID "\","
	    "\"timestamp\":3,\"dataMessage\":{\"message\":\"");
	for (i = 0; i < 4097; i++)
		buf_addc(&b, 'x');
	buf_addstr(&b, "\"}}}");
	signal_event_parse(b.data, b.len, 4097, &m);
	ck_assert_int_eq(m.kind, SIGNAL_MESSAGE);
	ck_assert_uint_eq(m.text_len, 4097);
	signal_msg_free(&m);
	big = b.data;
	parse(big, &m);
	ck_assert_int_eq(m.kind, SIGNAL_BAD);
	ck_assert_str_eq(m.why, "text larger than the limit");
	ck_assert_ptr_null(m.text);
	signal_msg_free(&m);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("signal_events");
	TCase *tc = tcase_create("signal_events");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_sse_framing);
	tcase_add_test(tc, test_sse_cap);
	tcase_add_test(tc, test_sse_stop);
	tcase_add_test(tc, test_signal_message);
	tcase_add_test(tc, test_signal_jsonrpc_group_attachment_edit);
	tcase_add_test(tc, test_signal_ignored);
	tcase_add_test(tc, test_signal_bad);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
