/* SPDX-License-Identifier: MIT */
/*
 * test_report.c: the follow-up list: selection and order over a real
 * database, and the four formats (CSV quoting, JSON validity, text width,
 * HTML escaping), plus the workflow actions that feed it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "calendar.h"
#include "config.h"
#include "fmt.h"
#include "report.h"
#include "sla.h"
#include "store.h"
#include "util.h"
#include "workflow.h"

#include "../../daemon/report_p.h"

#define HOUR	3600

static char dir[] = "/tmp/intake-reporttest-XXXXXX";
static struct config cfg;
static struct calendar *cal;
static struct store *st;
static time_t now;

/* Wed 2026-12-02 12:00 in New York (EST, -05:00). */
#define NOW_ISO	"2026-12-02T12:00:00-05:00"

static void
global_setup(void)
{
	char err[256];

	if (mkdtemp(dir) == NULL || calendar_set_zone("America/New_York", err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "test_report: set-up failed\n");
		exit(1);
	}
}

static void
setup(void)
{
	char err[256], *serr = NULL, *path;
	static int n;

	config_defaults(&cfg);
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(cal);
	path = xasprintf("%s/r%d-%d.db", dir, (int)getpid(), n++);
	ck_assert_msg(store_open(path, NULL, 1000, &st, &serr) == STORE_OK,
	    "%s", serr);
	free(path);
	ck_assert_int_eq(iso8601_parse(NOW_ISO, &now), 0);
}

static void
teardown(void)
{
	store_close(st);
	calendar_free(cal);
	config_free(&cfg);
}

/* Insert a ticket; due/breach 0 = NULL.  Returns its id. */
static long long
add_ticket(const char *type, const char *urgency, const char *status,
    time_t due, time_t breach, int automated, time_t acked,
    const char *assignee, const char *sender, const char *subject,
    const char *rationale)
{
	sqlite3_stmt *s;
	long long id;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "INSERT INTO tickets "
	    "(type, urgency, status, automated, received_at, response_due, "
	    "breach_at, acknowledged_at, assignee, sender, subject, rationale, "
	    "created_at, updated_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, urgency, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, automated);
	sqlite3_bind_int64(s, 5, now - 6 * HOUR);
	if (due)
		sqlite3_bind_int64(s, 6, due);
	if (breach)
		sqlite3_bind_int64(s, 7, breach);
	if (acked)
		sqlite3_bind_int64(s, 8, acked);
	if (assignee)
		sqlite3_bind_text(s, 9, assignee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, sender ? sender : "someone@example.net", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 11, subject ? subject : "a subject", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 12, rationale ? rationale : "[\"tip: \\\"x\\\"\"]",
	    -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 13, now - 6 * HOUR);
	sqlite3_bind_int64(s, 14, now - 6 * HOUR);
	if (strcmp(status, "closed") == 0)
		sqlite3_bind_int64(s, 15, now - HOUR);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	id = sqlite3_last_insert_rowid(store_db(st));
	return id;
}

/* The fixture of the ordering tests; ids in the comments. */
static void
add_fixture(void)
{
	time_t fri;

	ck_assert_int_eq(iso8601_parse("2026-12-04T15:00:00-05:00", &fri), 0);
	add_ticket("tip", "urgent", "open", now - 2 * HOUR, now - 1 * HOUR,
	    0, 0, "alice", NULL, NULL, NULL);				/* 1 */
	add_ticket("crisis", "urgent", "open", now - 5 * HOUR, now - 4 * HOUR,
	    0, 0, NULL, NULL, NULL, NULL);				/* 2 */
	add_ticket("tta", "routine", "open", now - 1 * HOUR, now + 3 * HOUR,
	    0, 0, NULL, NULL, NULL, NULL);				/* 3 */
	add_ticket("info", "routine", "open", now + 2 * HOUR, now + 4 * HOUR,
	    0, 0, "bob", NULL, NULL, NULL);				/* 4 */
	add_ticket("referral", "routine", "open", now + 22 * HOUR,
	    now + 26 * HOUR, 0, 0, NULL, NULL, NULL, NULL);		/* 5 */
	add_ticket("related", "routine", "open", fri, fri + 24 * HOUR, 0, 0,
	    NULL, NULL, NULL, NULL);					/* 6 */
	add_ticket("automated", "none", "open", now + HOUR, now + 2 * HOUR,
	    1, 0, NULL, NULL, NULL, NULL);				/* 7 */
	add_ticket("tip", "routine", "open", now + HOUR, now + 2 * HOUR, 0,
	    now - HOUR, NULL, NULL, NULL, NULL);			/* 8 */
	add_ticket("crisis", "urgent", "closed", now - HOUR, now - HOUR / 2,
	    0, 0, NULL, NULL, NULL, NULL);				/* 9 */
	add_ticket("unclassified", "none", "open", 0, 0, 0, 0, NULL, NULL,
	    NULL, NULL);						/* 10 */
}

static void
expect_ids(const struct report_rows *rows, const long long *ids, size_t n)
{
	size_t i;

	ck_assert_uint_eq(rows->n, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(rows->v[i].id == ids[i], "row %zu: got #%lld, "
		    "expected #%lld", i, rows->v[i].id, ids[i]);
}

START_TEST(test_default_list_order)
{
	static const long long want[] = { 2, 1, 3, 4, 5, 10 };
	struct report_filter f;
	struct report_rows rows;

	add_fixture();
	report_filter_init(&f, now);
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, want, NELEM(want));
	ck_assert_int_eq(rows.v[0].group, RG_BREACHED);
	ck_assert_int_eq(rows.v[1].group, RG_BREACHED);
	ck_assert_int_eq(rows.v[2].group, RG_DUE_TODAY);
	ck_assert(rows.v[2].overdue && !rows.v[2].breached);
	ck_assert_int_eq(rows.v[3].group, RG_DUE_TODAY);
	ck_assert_int_eq(rows.v[4].group, RG_DUE_NEXT);
	ck_assert_int_eq(rows.v[5].group, RG_NO_DEADLINE);
	report_rows_free(&rows);
}
END_TEST

START_TEST(test_filters)
{
	static const long long overdue[] = { 2, 1, 3 };
	static const long long all[] = { 2, 1, 3, 4, 5, 6, 10, 8 };
	static const long long with_auto[] = { 2, 1, 7, 3, 4, 5, 10 };
	static const long long urgent[] = { 2, 1 };
	static const long long bob[] = { 4 };
	static const long long tta[] = { 3 };
	static const long long before[] = { 2, 1, 3 };
	struct report_filter f;
	struct report_rows rows;

	add_fixture();
	report_filter_init(&f, now);
	f.scope = REPORT_OVERDUE;
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, overdue, NELEM(overdue));
	report_rows_free(&rows);

	report_filter_init(&f, now);
	f.scope = REPORT_ALL_OPEN;
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, all, NELEM(all));
	ck_assert_int_eq(rows.v[5].group, RG_LATER);
	ck_assert_int_eq(rows.v[7].group, RG_ACKNOWLEDGED);
	report_rows_free(&rows);

	report_filter_init(&f, now);
	f.include_automated = 1;
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, with_auto, NELEM(with_auto));
	report_rows_free(&rows);

	report_filter_init(&f, now);
	f.urgent_only = 1;
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, urgent, NELEM(urgent));
	report_rows_free(&rows);

	report_filter_init(&f, now);
	f.assignee = "bob";
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, bob, NELEM(bob));
	report_rows_free(&rows);

	report_filter_init(&f, now);
	f.type = "tta";
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, tta, NELEM(tta));
	report_rows_free(&rows);

	/* Before now + 1h: the breached ones and #3 (due an hour ago). */
	report_filter_init(&f, now);
	f.scope = REPORT_DUE_BEFORE;
	f.due_before = now + HOUR;
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	expect_ids(&rows, before, NELEM(before));
	report_rows_free(&rows);
}
END_TEST

START_TEST(test_durations)
{
	struct report_row r;
	char out[64];

	fmt_duration(3 * HOUR + 20 * 60 + 59, out, sizeof(out));
	ck_assert_str_eq(out, "3h 20m");
	fmt_duration(45 * 60, out, sizeof(out));
	ck_assert_str_eq(out, "45m");
	fmt_duration(0, out, sizeof(out));
	ck_assert_str_eq(out, "0m");
	fmt_duration(2 * 86400 + 4 * HOUR + 59 * 60, out, sizeof(out));
	ck_assert_str_eq(out, "2d 4h");
	fmt_duration(-(3 * HOUR + 20 * 60), out, sizeof(out));
	ck_assert_str_eq(out, "3h 20m");

	memset(&r, 0, sizeof(r));
	r.response_due = now - (3 * HOUR + 20 * 60);
	r.breach_at = now + HOUR;
	report_time_left(&r, now, out, sizeof(out));
	ck_assert_str_eq(out, "overdue by 3h 20m");
	r.response_due = now + 90 * 60;
	report_time_left(&r, now, out, sizeof(out));
	ck_assert_str_eq(out, "1h 30m left");
	r.acknowledged_at = now;
	r.answered = 1;
	report_time_left(&r, now, out, sizeof(out));
	ck_assert_str_eq(out, "acknowledged");
	memset(&r, 0, sizeof(r));
	report_time_left(&r, now, out, sizeof(out));
	ck_assert_str_eq(out, "-");
}
END_TEST

/* ---- CSV ------------------------------------------------------------- */

/*
 * A strict RFC 4180 reader for the test: returns the number of records,
 * fills fields[rec][field] (at most 16 x 16), fails the test on a bare
 * quote inside an unquoted field or a record not ended by CRLF.
 */
static char *csvf[16][16];
static int csvn[16];

static int
csv_read(const char *s)
{
	struct buf b;
	int rec = 0, fld = 0, quoted;

	buf_init(&b, 0);
	while (*s) {
		buf_reset(&b);
		buf_add(&b, "", 0);
		quoted = *s == '"';
		if (quoted) {
			s++;
			for (;;) {
				ck_assert_msg(*s != '\0', "unterminated quote");
				if (*s == '"' && s[1] == '"') {
					buf_addc(&b, '"');
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else
					buf_addc(&b, *s++);
			}
		} else {
			while (*s && *s != ',' && *s != '\r' && *s != '\n') {
				ck_assert_msg(*s != '"', "quote in unquoted field");
				buf_addc(&b, *s++);
			}
		}
		ck_assert(rec < 16 && fld < 16);
		csvf[rec][fld++] = xstrdup(b.data);
		if (*s == ',') {
			s++;
			continue;
		}
		ck_assert_msg(s[0] == '\r' && s[1] == '\n', "record not ended "
		    "by CRLF");
		s += 2;
		csvn[rec++] = fld;
		fld = 0;
	}
	buf_free(&b);
	return rec;
}

START_TEST(test_csv_quoting)
{
	static const char subj[] = "Help, \"urgent\"\nsecond line, caf\xc3\xa9 "
	    "\xe4\xbd\xa0\xe5\xa5\xbd";
	struct report_filter f;
	struct report_rows rows;
	struct report_opts o;
	struct buf out, b;
	int n, i;

	add_ticket("tip", "urgent", "open", now + HOUR, now + 2 * HOUR, 0, 0,
	    "ana, maria", "\"Quoted Name\" <q@example.net>", subj,
	    "[\"tip: \\\"comma, here\\\"\"]");
	add_ticket("tip", "urgent", "open", now + HOUR, now + 3 * HOUR, 0, 0,
	    NULL, "=HYPERLINK(\"http://evil.example\")", "+1 call me",
	    NULL);
	report_filter_init(&f, now);
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	ck_assert_uint_eq(rows.n, 2);
	report_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(report_render_csv(&rows, &out, &o), 0);
	n = csv_read(out.data);
	ck_assert_int_eq(n, 3);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(csvn[i], 13);
	ck_assert_str_eq(csvf[0][0], "id");
	ck_assert_str_eq(csvf[0][11], "subject");
	ck_assert_str_eq(csvf[1][0], "1");
	ck_assert_str_eq(csvf[1][9], "ana, maria");
	ck_assert_str_eq(csvf[1][10], "\"Quoted Name\" <q@example.net>");
	ck_assert_str_eq(csvf[1][11], subj);	/* newline, UTF-8 kept */
	ck_assert_str_eq(csvf[1][12], "tip: \"comma, here\"");
	/* Formula-like cells are defused with an apostrophe. */
	ck_assert_str_eq(csvf[2][10], "'=HYPERLINK(\"http://evil.example\")");
	ck_assert_str_eq(csvf[2][11], "'+1 call me");
	ck_assert(utf8_valid(out.data, out.len));

	buf_init(&b, 0);
	fmt_csv_field(&b, "plain", 0);
	ck_assert_str_eq(b.data, "plain");
	buf_reset(&b);
	fmt_csv_field(&b, "a\"b", 0);
	ck_assert_str_eq(b.data, "\"a\"\"b\"");
	buf_reset(&b);
	fmt_csv_field(&b, "-5", 0);
	ck_assert_str_eq(b.data, "-5");
	buf_free(&b);
	buf_free(&out);
	report_rows_free(&rows);
}
END_TEST

/* ---- JSON, text, HTML ------------------------------------------------ */

#define PLANT	"<script>alert('x')</script>"

static void
add_hostile(void)
{
	add_ticket("crisis", "urgent", "open", now - 3 * HOUR - 20 * 60,
	    now - HOUR, 0, 0, "<b>bob</b>", "Evil " PLANT " <e@example.net>",
	    "Subject " PLANT " & \"more\" \x1b[31mred\x1b[0m "
	    "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd"
	    "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd"
	    "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd"
	    " and a long tail of words to pass one hundred columns for sure",
	    "[\"crisis: \\\"" PLANT "\\\" (control)\", \"minor: \\\"she is 15\\\"\"]");
	add_ticket("tip", "routine", "open", now + 2 * HOUR, now + 5 * HOUR, 0, 0,
	    NULL, NULL, NULL, NULL);
}

START_TEST(test_json_valid)
{
	struct report_filter f;
	struct report_rows rows;
	struct report_opts o;
	struct buf out;
	json_error_t err;
	json_t *a, *r;
	time_t t;

	add_hostile();
	report_filter_init(&f, now);
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	report_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(report_render_json(&rows, &out, &o), 0);
	a = json_loads(out.data, 0, &err);
	ck_assert_msg(a != NULL, "invalid JSON: %s", err.text);
	ck_assert(json_is_array(a));
	ck_assert_uint_eq(json_array_size(a), 2);
	r = json_array_get(a, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(r, "group")),
	    "breached");
	ck_assert(json_is_true(json_object_get(r, "breached")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "time_left")),
	    "overdue by 3h 20m");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "seconds_left")),
	    -(3 * HOUR + 20 * 60));
	ck_assert_int_eq(iso8601_parse(json_string_value(json_object_get(r,
	    "breach_at")), &t), 0);
	ck_assert_int_eq(t, now - HOUR);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r,
	    "subject")), PLANT));
	ck_assert(json_is_null(json_object_get(json_array_get(a, 1),
	    "assignee")));
	json_decref(a);
	buf_free(&out);
	report_rows_free(&rows);
}
END_TEST

START_TEST(test_text_width)
{
	struct report_filter f;
	struct report_rows rows;
	struct report_opts o;
	struct buf out;
	char *line, *save = NULL;
	int lines = 0;

	add_hostile();
	add_fixture();
	report_filter_init(&f, now);
	f.scope = REPORT_ALL_OPEN;
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	report_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(report_render_text(&rows, &out, &o), 0);
	ck_assert_ptr_null(strchr(out.data, '\x1b'));	/* no colour, no ESC */
	ck_assert_ptr_nonnull(strstr(out.data, "\nBreached ("));
	ck_assert_ptr_nonnull(strstr(out.data, "\nDue today ("));
	ck_assert_ptr_nonnull(strstr(out.data, "\nDue next business day ("));
	ck_assert_ptr_nonnull(strstr(out.data, "overdue by 3h 20m"));
	ck_assert(strstr(out.data, "Breached (") < strstr(out.data, "Due today ("));
	for (line = strtok_r(out.data, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(fmt_display_width(line) <= 100, "%zu columns: %s",
		    fmt_display_width(line), line);
		lines++;
	}
	ck_assert_int_gt(lines, 20);
	buf_free(&out);

	/* With colour: the same text plus escape codes from us only. */
	o.color = 1;
	buf_init(&out, 0);
	ck_assert_int_eq(report_render_text(&rows, &out, &o), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\x1b[1;31m"));
	ck_assert_ptr_null(strstr(out.data, "\x1b[31mred"));
	buf_free(&out);
	report_rows_free(&rows);
}
END_TEST

START_TEST(test_html_escaped)
{
	struct report_filter f;
	struct report_rows rows;
	struct report_opts o;
	struct buf out;

	add_hostile();
	report_filter_init(&f, now);
	ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
	report_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(report_render_html(&rows, &out, &o), 0);
	ck_assert_ptr_null(strcasestr(out.data, "<script"));
	ck_assert_ptr_null(strstr(out.data, "<b>bob"));
	ck_assert_ptr_nonnull(strstr(out.data, "&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(out.data, "&lt;b&gt;bob&lt;/b&gt;"));
	ck_assert_ptr_nonnull(strstr(out.data, "&amp; &quot;more&quot;"));
	ck_assert_ptr_null(strchr(out.data, '\x1b'));
	/* Self-contained: no remote resources, no scripts, one page. */
	ck_assert_ptr_null(strcasestr(out.data, "src="));
	ck_assert_ptr_null(strcasestr(out.data, "href="));
	ck_assert_ptr_null(strcasestr(out.data, "<link"));
	ck_assert_ptr_null(strcasestr(out.data, "url("));
	ck_assert_ptr_null(strcasestr(out.data, "@import"));
	ck_assert_ptr_nonnull(strstr(out.data, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(out.data, "</html>"));
	ck_assert_ptr_nonnull(strstr(out.data, "overdue by 3h 20m"));
	ck_assert(utf8_valid(out.data, out.len));
	buf_free(&out);
	report_rows_free(&rows);
}
END_TEST

START_TEST(test_terminal_safe)
{
	char *s;
	struct buf b;

	s = fmt_terminal_safe("a\x1b[2Jb\x07\tc\n\xc2\x9b" "d\xff", 0);
	ck_assert_str_eq(s, "a\xef\xbf\xbd[2Jb\xef\xbf\xbd c \xef\xbf\xbd"
	    "d\xef\xbf\xbd");
	free(s);
	s = fmt_terminal_safe("line1\nline2\t\xe2\x80\xae" "evil", 1);
	ck_assert_str_eq(s, "line1\nline2\t\xef\xbf\xbd" "evil");
	free(s);
	ck_assert_uint_eq(fmt_display_width("ab\xe4\xbd\xa0"), 4);
	buf_init(&b, 0);
	fmt_add_clipped(&b, "abcdef", 4);
	ck_assert_str_eq(b.data, "abc\xe2\x80\xa6");
	buf_reset(&b);
	fmt_add_clipped(&b, "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0", 4);
	ck_assert_uint_le(fmt_display_width(b.data), 4);
	buf_free(&b);
}
END_TEST

/* issue 12 item 19: CSV and JSON carry no raw C0, DEL, C1 or bidi
 * override/isolate. */
START_TEST(test_csv_json_controls)
{
	static const char hostile[] = "a\x1b]0;x\x07" "b\xc2\x9b" "c\xe2\x80\xae"
	    "d\xe2\x81\xa9" "e\x7f" "f,\"g\"\r\nh\ti";
	json_t *j, *back;
	json_error_t err;
	struct buf b;
	char *text;

	buf_init(&b, 0);
	ck_assert_int_eq(fmt_csv_field(&b, hostile, 1), 0);
	ck_assert_str_eq(b.data, "\"a\xef\xbf\xbd]0;x\xef\xbf\xbd" "b\xef\xbf\xbd"
	    "c\xef\xbf\xbd" "d\xef\xbf\xbd" "e\xef\xbf\xbd" "f,\"\"g\"\"\r\nh\ti\"");
	buf_reset(&b);
	/* a control first: U+FFFD, and no formula either */
	ck_assert_int_eq(fmt_csv_field(&b, "\x1b=cmd", 1), 0);
	ck_assert_str_eq(b.data, "\xef\xbf\xbd=cmd");
	buf_free(&b);

	j = json_pack("{s:s,s:[s]}", "subject", hostile, "list", "\xe2\x80\xaa"
	    "\xe2\x81\xa6\xc2\x80\xc2\x9f ok \xe2\x80\xaf");
	ck_assert_ptr_nonnull(j);
	text = fmt_json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "{\"subject\":\"a\\u001B]0;x\\u0007b\\u009Bc\\u202E"
	    "d\\u2069e\\u007Ff,\\\"g\\\"\\r\\nh\\ti\",\"list\":[\"\\u202A\\u2066"
	    "\\u0080\\u009F ok \xe2\x80\xaf\"]}");
	/* the same JSON: it reads back to the very strings */
	back = json_loads(text, 0, &err);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_equal(j, back));
	json_decref(back);
	json_decref(j);
	free(text);
}
END_TEST

START_TEST(test_parse_date)
{
	time_t t, u;

	ck_assert_int_eq(fmt_parse_date("2026-12-02", &t), 0);
	ck_assert_int_eq(iso8601_parse("2026-12-02T00:00:00-05:00", &u), 0);
	ck_assert_int_eq(t, u);
	ck_assert_int_eq(fmt_parse_date("2026-07-04", &t), 0);
	ck_assert_int_eq(iso8601_parse("2026-07-04T00:00:00-04:00", &u), 0);
	ck_assert_int_eq(t, u);
	ck_assert_int_eq(fmt_parse_date(NOW_ISO, &t), 0);
	ck_assert_int_eq(t, now);
	ck_assert_int_eq(fmt_parse_date("2026-02-30", &t), -1);
	ck_assert_int_eq(fmt_parse_date("yesterday", &t), -1);
	ck_assert_int_eq(fmt_parse_date("2026-12-2", &t), -1);
	ck_assert_int_eq(fmt_parse_date("2026- 1-02", &t), -1);
	ck_assert_int_eq(fmt_parse_date("2026-12-02x", &t), -1);
}
END_TEST

/* ---- workflow -------------------------------------------------------- */

static int
events_of(long long id, const char *kind)
{
	sqlite3_stmt *s;
	int n;

	sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM events WHERE "
	    "ticket_id = ? AND kind = ?", -1, &s, NULL);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_step(s);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static long long
col_int(long long id, const char *column)
{
	sqlite3_stmt *s;
	char *sql = xasprintf("SELECT coalesce(%s, -1) FROM tickets WHERE id = ?",
	    column);
	long long v;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	free(sql);
	return v;
}

START_TEST(test_workflow_ack)
{
	long long a, b;
	time_t prev;
	char *by;
	int met;

	a = add_ticket("tip", "urgent", "open", now - HOUR, now + HOUR, 0, 0,
	    NULL, NULL, NULL, NULL);
	b = add_ticket("tip", "urgent", "open", now - 2 * HOUR, now - HOUR, 0, 0,
	    NULL, NULL, NULL, NULL);
	ck_assert_int_eq(workflow_ack(st, a, "alice", now, &met, &prev, &by),
	    WF_OK);
	ck_assert_int_eq(met, 1);	/* past response_due, before breach */
	ck_assert_int_eq(col_int(a, "sla_met"), 1);
	ck_assert_int_eq(col_int(a, "acknowledged_at"), now);
	ck_assert_int_eq(workflow_ack(st, a, "bob", now + 5, &met, &prev, &by),
	    WF_NOCHANGE);
	ck_assert_int_eq(prev, now);
	ck_assert_str_eq(by, "alice");
	free(by);
	ck_assert_int_eq(events_of(a, "ack"), 1);
	ck_assert_int_eq(workflow_ack(st, b, "alice", now, &met, &prev, &by),
	    WF_OK);
	ck_assert_int_eq(met, 0);
	ck_assert_int_eq(col_int(b, "sla_met"), 0);
	ck_assert_int_eq(workflow_ack(st, 999, "alice", now, &met, &prev, &by),
	    WF_NOTFOUND);
	/* Acknowledged tickets leave the default list. */
	{
		struct report_filter f;
		struct report_rows rows;

		report_filter_init(&f, now);
		ck_assert_int_eq(report_query(st, cal, &f, &rows), STORE_OK);
		ck_assert_uint_eq(rows.n, 0);
		report_rows_free(&rows);
	}
}
END_TEST

START_TEST(test_workflow_reclassify)
{
	struct workflow_class c = { CT_CRISIS, -1, 1, -1 };
	struct deadlines dl;
	long long id;
	time_t received;
	int alerted;

	free(cfg.alerts_webhook);
	cfg.alerts_webhook = xstrdup("http://127.0.0.1:9/");
	id = add_ticket("info", "routine", "open", now + 20 * HOUR,
	    now + 40 * HOUR, 0, 0, NULL, NULL, NULL, NULL);
	received = (time_t)col_int(id, "received_at");
	ck_assert_int_eq(workflow_reclassify(st, &cfg, cal, NULL, id, &c, "carol", now,
	    &alerted), WF_OK);
	ck_assert_int_eq(alerted, 1);
	ck_assert_int_eq(sla_compute(cal, &cfg, CT_CRISIS, URG_URGENT, received,
	    &dl), 0);
	ck_assert_int_eq(col_int(id, "response_due"), dl.response_due);
	ck_assert_int_eq(col_int(id, "breach_at"), dl.breach_at);
	ck_assert_int_eq(col_int(id, "minor"), 1);
	ck_assert_int_eq(events_of(id, "reclassify"), 1);
	/* Same again: nothing changes, no second alert. */
	ck_assert_int_eq(workflow_reclassify(st, &cfg, cal, NULL, id, &c, "carol", now,
	    &alerted), WF_NOCHANGE);
	ck_assert_int_eq(alerted, 0);
	/* Down to automated: no deadlines. */
	c.type = CT_AUTOMATED;
	ck_assert_int_eq(workflow_reclassify(st, &cfg, cal, NULL, id, &c, "carol", now,
	    &alerted), WF_OK);
	ck_assert_int_eq(col_int(id, "response_due"), -1);
	ck_assert_int_eq(col_int(id, "automated"), 1);
	ck_assert_int_eq(alerted, 0);
}
END_TEST

START_TEST(test_workflow_close_reopen)
{
	long long id = add_ticket("tip", "routine", "open", now + HOUR,
	    now + 2 * HOUR, 0, 0, NULL, NULL, NULL, NULL);

	ck_assert_int_eq(workflow_close(st, id, "resolved", "a", now), WF_OK);
	ck_assert_int_eq(workflow_close(st, id, "resolved", "a", now),
	    WF_NOCHANGE);
	ck_assert_int_eq(col_int(id, "closed_at"), now);
	ck_assert_int_eq(workflow_reopen(st, id, "a", now), WF_OK);
	ck_assert_int_eq(col_int(id, "closed_at"), -1);
	ck_assert_int_eq(workflow_reopen(st, id, "a", now), WF_NOCHANGE);
	ck_assert_int_eq(workflow_assign(st, id, "dana", "a", now), WF_OK);
	ck_assert_int_eq(workflow_assign(st, id, "dana", "a", now), WF_NOCHANGE);
	ck_assert_int_eq(workflow_note(st, id, "called \xff back", "a", now),
	    WF_OK);
	ck_assert_int_eq(events_of(id, "close") + events_of(id, "reopen") +
	    events_of(id, "assign") + events_of(id, "note"), 4);
	ck_assert_int_eq(workflow_note(st, 12345, "x", "a", now), WF_NOTFOUND);
	ck_assert(!workflow_disposition_valid("deleted"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	SRunner *sr;
	int nf;

	global_setup();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_default_list_order);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_csv_quoting);
	tcase_add_test(tc, test_json_valid);
	tcase_add_test(tc, test_text_width);
	tcase_add_test(tc, test_html_escaped);
	tcase_add_test(tc, test_terminal_safe);
	tcase_add_test(tc, test_csv_json_controls);
	tcase_add_test(tc, test_parse_date);
	tcase_add_test(tc, test_workflow_ack);
	tcase_add_test(tc, test_workflow_reclassify);
	tcase_add_test(tc, test_workflow_close_reopen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
