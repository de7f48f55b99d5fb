/* SPDX-License-Identifier: MIT */
/* notify.c mail building and backoff, ack.c decisions, remind.c slots and
 * rendering.  The network paths are covered by tests/it/. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ack.h"
#include "calendar.h"
#include "notify.h"
#include "../../daemon/notify_p.h"
#include "remind.h"
#include "util.h"

START_TEST(test_rfc2047)
{
	char *s, *p, long_s[61];
	int i;

	s = notify_rfc2047("[intake #12] URGENT crisis ticket");
	ck_assert_str_eq(s, "[intake #12] URGENT crisis ticket");
	free(s);
	s = notify_rfc2047("[intake] Reminder \xe2\x80\x94 2 tickets");
	ck_assert_str_eq(s, "=?UTF-8?B?W2ludGFrZV0gUmVtaW5kZXIg4oCUIDIgdGlja2V0cw==?=");
	free(s);
	/* 30 x U+00F1 (60 bytes): split on a character boundary at 44
	 * bytes, every word within RFC 2047's 75 columns, folded. */
	for (i = 0; i < 30; i++)
		memcpy(long_s + 2 * i, "\xc3\xb1", 2);
	long_s[60] = '\0';
	s = notify_rfc2047(long_s);
	p = strstr(s, "\r\n ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq((int)(p - s), 10 + 60 + 2);
	ck_assert_int_le((int)strlen(p + 3), 75);
	ck_assert_ptr_null(strstr(p + 3, "\r\n"));
	free(s);
	/* Control characters are not "plain": encoded, never raw. */
	s = notify_rfc2047("a\tb");
	ck_assert(strncmp(s, "=?UTF-8?B?", 10) == 0);
	free(s);
}
END_TEST

START_TEST(test_base64_lines)
{
	struct buf b;
	char in[58];

	buf_init(&b, 0);
	notify_base64_lines(&b, "Man", 3);
	notify_base64_lines(&b, "Ma", 2);
	notify_base64_lines(&b, "M", 1);
	ck_assert_str_eq(b.data, "TWFu\r\nTWE=\r\nTQ==\r\n");
	buf_reset(&b);
	memset(in, 'x', sizeof(in));
	notify_base64_lines(&b, in, sizeof(in));
	ck_assert_int_eq((int)(strstr(b.data, "\r\n") - b.data), 76);
	ck_assert_str_eq(b.data + 78, "eA==\r\n");
	buf_free(&b);
}
END_TEST

START_TEST(test_headers)
{
	char *a, *err = NULL, *to[] = { "a@example.org", "B <b@example.org>" };
	struct buf b;

	ck_assert(notify_header_ok("plain value"));
	ck_assert(!notify_header_ok("x\r\nBcc: evil@example.com"));
	ck_assert(!notify_header_ok("x\nBcc: y"));
	a = notify_addr_spec("Intake <intake@example.org>");
	ck_assert_str_eq(a, "intake@example.org");
	free(a);
	a = notify_addr_spec("bo@example.net");
	ck_assert_str_eq(a, "bo@example.net");
	free(a);
	ck_assert_ptr_null(notify_addr_spec("no address"));
	ck_assert_ptr_null(notify_addr_spec("a@b@c"));
	ck_assert_ptr_null(notify_addr_spec("<a b@c>"));
	ck_assert_ptr_null(notify_addr_spec("x@y\r\nRCPT TO:<z@w>"));
	ck_assert_ptr_null(notify_addr_spec(NULL));

	buf_init(&b, 0);
	ck_assert_int_eq(notify_mail_head(&b, "Intake <intake@example.org>", to,
	    2, "[intake #3] niña", "auto-replied", "m1@example.net", 0, &err), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "From: Intake <intake@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "To: a@example.org,\r\n B <b@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "Subject: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nDate: "));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nMessage-ID: <intake."));
	ck_assert_ptr_nonnull(strstr(b.data, "@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nAuto-Submitted: auto-replied\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nIn-Reply-To: <m1@example.net>\r\n"));
	buf_reset(&b);
	/* Header injection through the subject or a recipient is refused. */
	ck_assert_int_eq(notify_mail_head(&b, "i@example.org", to, 1,
	    "hi\r\nBcc: evil@example.com", "auto-generated", NULL, 0, &err), -1);
	ck_assert_ptr_nonnull(err);
	free(err);
	to[0] = "a@example.org\r\nBcc: evil@example.com";
	ck_assert_int_eq(notify_mail_head(&b, "i@example.org", to, 1, "hi",
	    "auto-generated", NULL, 0, &err), -1);
	free(err);
	ck_assert_int_eq(notify_mail_head(&b, "no address", to + 1, 1, "hi",
	    "auto-generated", NULL, 0, &err), -1);
	free(err);
	buf_free(&b);
	a = notify_crlf("a\nb\r\nc\n");
	ck_assert_str_eq(a, "a\r\nb\r\nc\r\n");
	free(a);
}
END_TEST

START_TEST(test_backoff)
{
	long b;
	int i;

	for (i = 0; i < 50; i++) {
		b = notify_backoff(0);
		ck_assert(b >= 30 && b <= 33);
		b = notify_backoff(3);
		ck_assert(b >= 240 && b <= 264);
		b = notify_backoff(7);
		ck_assert(b >= 3600 && b <= 3960);
		b = notify_backoff(1000);
		ck_assert(b >= 3600 && b <= 3960);
	}
}
END_TEST

START_TEST(test_loopback)
{
	ck_assert(notify_url_is_loopback("http://127.0.0.1:8080/hook"));
	ck_assert(notify_url_is_loopback("http://localhost/x"));
	ck_assert(notify_url_is_loopback("http://[::1]:99/"));
	ck_assert(notify_url_is_loopback("smtp://127.0.0.1:2525"));
	ck_assert(!notify_url_is_loopback("https://hooks.example.org/x"));
	ck_assert(!notify_url_is_loopback("http://127.0.0.1.evil.example/"));
	ck_assert(!notify_url_is_loopback("http://localhost.evil.example/"));
	ck_assert(!notify_url_is_loopback("not a url"));
}
END_TEST

/* ---- ack ---- */

static char dir[] = "/tmp/intake-notifytest-XXXXXX";

static struct store *
open_store(const char *name)
{
	struct store *st;
	char *p, *err = NULL;

	if (dir[strlen(dir) - 1] == 'X')
		ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/%s", dir, name);
	ck_assert_msg(store_open(p, NULL, 1000, &st, &err) == STORE_OK, "%s", err);
	free(p);
	return st;
}

static long long
add_ticket(struct store *st, int automated)
{
	char *q = xasprintf("INSERT INTO tickets (type, urgency, automated, "
	    "received_at, created_at, updated_at) VALUES ('tip', 'routine', %d, "
	    "1, 1, 1)", automated);

	ck_assert_int_eq(sqlite3_exec(store_db(st), q, NULL, NULL, NULL), SQLITE_OK);
	free(q);
	return sqlite3_last_insert_rowid(store_db(st));
}

static int
acks(struct store *st)
{
	sqlite3_stmt *s;
	int n;

	sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM outbox WHERE "
	    "kind = 'ack' AND channel = 'email'", -1, &s, NULL);
	sqlite3_step(s);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

START_TEST(test_ack)
{
	struct config cfg;
	struct message m;
	struct header h[1];
	struct store *st = open_store("ack.db");
	time_t day1 = 1796140800, day2 = day1 + 86400;	/* 2026-12-01/02 */

	config_defaults(&cfg);
	memset(&m, 0, sizeof(m));
	m.from_addr = "Ana@Example.net";
	m.message_id = "m1@example.net";
	m.status = MSG_PARSE_OK;
	/* Off by default: no row. */
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	ck_assert_int_eq(acks(st), 0);
	cfg.ack_enabled = 1;
	/* Enabled but no SMTP: nothing could deliver it. */
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	cfg.smtp_url = xstrdup("smtp://127.0.0.1:25");
	cfg.smtp_from = xstrdup("Hotline <hotline@example.org>");
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 1);
	ck_assert_int_eq(acks(st), 1);
	/* Same sender, same day (any case): no second one; next day: one. */
	m.from_addr = "ana@example.NET";
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day2), 1);
	/* Automated tickets, lists, bounces, no-reply, ourselves: never. */
	m.from_addr = "bo@example.net";
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 1), &m, day1), 0);
	h[0].name = "List-Id";
	h[0].value = "<news.example.com>";
	m.headers = h;
	m.nheaders = 1;
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	h[0].name = "Auto-Submitted";
	h[0].value = "auto-replied";
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	h[0].name = "Precedence";
	h[0].value = "bulk";
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	m.nheaders = 0;
	m.from_addr = "MAILER-DAEMON@example.net";
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	m.from_addr = "hotline@example.org";
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	m.from_addr = "+15550001";	/* an SMS sender */
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	m.from_addr = "bo@example.net";
	m.status = MSG_PARSE_ERROR;
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 0);
	m.status = MSG_PARSE_OK;
	ck_assert_int_eq(ack_maybe_queue(st, &cfg, add_ticket(st, 0), &m, day1), 1);
	ck_assert_int_eq(acks(st), 3);
	store_close(st);
	config_free(&cfg);
}
END_TEST

/* ---- remind ---- */

START_TEST(test_remind_slots)
{
	struct config cfg;
	struct calendar *cal;
	struct remind_report r;
	struct store *st = open_store("remind.db");
	const char *why;
	char err[256];
	time_t t;

	config_defaults(&cfg);
	ck_assert_int_eq(calendar_set_zone(cfg.timezone, err, sizeof(err)), 0);
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(cal);
	/* Saturday. */
	ck_assert_int_eq(iso8601_parse("2026-12-05T09:00:00-05:00", &t), 0);
	ck_assert_int_eq(remind_collect(st, cal, &cfg, t, &r, &why), REMIND_NOTHING);
	ck_assert_str_eq(why, "not a business day");
	/* Thanksgiving (federal holiday), Thursday 2026-11-26. */
	ck_assert_int_eq(iso8601_parse("2026-11-26T09:00:00-05:00", &t), 0);
	ck_assert_int_eq(remind_collect(st, cal, &cfg, t, &r, &why), REMIND_NOTHING);
	ck_assert_str_eq(why, "not a business day");
	/* Tuesday before 08:30. */
	ck_assert_int_eq(iso8601_parse("2026-12-01T08:29:00-05:00", &t), 0);
	ck_assert_int_eq(remind_collect(st, cal, &cfg, t, &r, &why), REMIND_NOTHING);
	ck_assert_str_eq(r.slot, "");
	/* 08:30 slot, nothing due: the slot is named, and once recorded it
	 * is done. */
	ck_assert_int_eq(iso8601_parse("2026-12-01T08:30:00-05:00", &t), 0);
	ck_assert_int_eq(remind_collect(st, cal, &cfg, t, &r, &why), REMIND_NOTHING);
	ck_assert_str_eq(r.slot, "2026-12-01 08:30");
	ck_assert_int_eq(remind_record(st, &r), STORE_OK);
	ck_assert_int_eq(remind_collect(st, cal, &cfg, t + 600, &r, &why),
	    REMIND_NOTHING);
	ck_assert_str_eq(r.slot, "");
	/* The evening slot is another one; in UTC this is the next day. */
	ck_assert_int_eq(iso8601_parse("2026-12-01T19:59:00-05:00", &t), 0);
	ck_assert_int_eq(remind_collect(st, cal, &cfg, t, &r, &why), REMIND_NOTHING);
	ck_assert_str_eq(r.slot, "2026-12-01 17:00");
	calendar_free(cal);
	store_close(st);
	config_free(&cfg);
}
END_TEST

START_TEST(test_remind_render)
{
	struct report_row row;
	struct remind_report r;
	char *html, *text, *json;

	memset(&r, 0, sizeof(r));
	memset(&row, 0, sizeof(row));
	ck_assert_int_eq(iso8601_parse("2026-12-01T08:40:00-05:00", &r.now), 0);
	snprintf(r.slot, sizeof(r.slot), "2026-12-01 08:30");
	row.id = 7;
	row.type = "crisis";
	row.urgency = "urgent";
	row.danger = 1;
	row.received_at = r.now - 7200;
	row.response_due = r.now - 3600;
	row.breach_at = r.now - 1200;
	row.breached = row.overdue = 1;
	row.group = RG_BREACHED;
	row.sender = "\"<img src=x onerror=alert(1)>\" <a@b.c>";
	row.subject = "<script>alert('x')</script> & \"more\"\r\nBcc: z";
	row.rationale = "crisis: \"</td><script>\"";
	r.rows.v = &row;
	r.rows.n = 1;
	r.rows.now = r.now;
	html = remind_html(&r);
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "<img"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "[intake #7]"));
	ck_assert_ptr_nonnull(strstr(html, "Intake reminder (2026-12-01 08:30)"));
	text = remind_text(&r);
	ck_assert_ptr_nonnull(strstr(text, "[intake #7]"));
	ck_assert_ptr_nonnull(strstr(text, "Breached (1)"));
	ck_assert_ptr_null(strchr(text, '\r'));
	json = remind_json(&r);
	ck_assert_ptr_nonnull(strstr(json, "\"ticket\":7,\"state\":\"breached\""));
	ck_assert_ptr_null(strstr(json, "script"));
	free(html);
	free(text);
	free(json);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_test(tc, test_rfc2047);
	tcase_add_test(tc, test_base64_lines);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_ack);
	tcase_add_test(tc, test_remind_slots);
	tcase_add_test(tc, test_remind_render);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return nf == 0 ? 0 : 1;
}
