/* SPDX-License-Identifier: MIT */
/*
 * cmd_ticket.c: `intake show N` (one ticket with its messages, attachments
 * and events) and `intake list` (tickets, newest first).  Read-only.
 * Everything that came in a message is passed through
 * fmt_terminal_safe() before it reaches the terminal: a subject can
 * carry escape sequences.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "calltype.h"
#include "cli.h"
#include "fmt.h"
#include "report.h"
#include "util.h"

#define LIST_WIDTH	100

/* Print a message-derived string safely; NULL prints `none`. */
static void
put_safe(const char *s, int keep_newlines, const char *none)
{
	char *safe;

	if (s == NULL) {
		fputs(none, stdout);
		return;
	}
	safe = fmt_terminal_safe(s, keep_newlines);
	fputs(safe, stdout);
	free(safe);
}

static const char *
col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void
fmt_iso(sqlite3_stmt *s, int i, char *out, size_t outlen)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		snprintf(out, outlen, "-");
	else
		iso8601_local((time_t)sqlite3_column_int64(s, i), out, outlen);
}

static json_t *
j_time(sqlite3_stmt *s, int i)
{
	char iso[40];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	iso8601_local((time_t)sqlite3_column_int64(s, i), iso, sizeof(iso));
	return json_string(iso);
}

static json_t *
j_text(sqlite3_stmt *s, int i)
{
	const char *t = col(s, i);
	char *clean;
	json_t *j;

	if (t == NULL)
		return json_null();
	clean = utf8_sanitize(t, (size_t)sqlite3_column_bytes(s, i));
	j = json_string(clean);
	free(clean);
	return j ? j : json_null();
}

/* A stored JSON column, parsed (or null when it does not parse). */
static json_t *
j_stored(sqlite3_stmt *s, int i)
{
	json_error_t err;
	json_t *j;

	if (col(s, i) == NULL)
		return json_null();
	j = json_loads(col(s, i), 0, &err);
	return j ? j : json_null();
}

/* How a column becomes a JSON value. */
enum j_kind {
	J_INT,		/* integer */
	J_INT_OR_NULL,
	J_TEXT,		/* j_text() */
	J_BOOL,		/* 0/1 as false/true */
	J_BOOL_OR_NULL,	/* like J_BOOL, SQL NULL as null */
	J_TIME,		/* j_time() */
	J_STORED,	/* j_stored() */
};

struct j_field {
	const char	*key;
	int		 col;
	enum j_kind	 kind;
};

static json_t *
j_value(sqlite3_stmt *s, int i, enum j_kind kind)
{
	switch (kind) {
	case J_INT_OR_NULL:
		if (sqlite3_column_type(s, i) == SQLITE_NULL)
			return json_null();
		/* FALLTHROUGH */
	case J_INT:
		return json_integer(sqlite3_column_int64(s, i));
	case J_TEXT:
		return j_text(s, i);
	case J_BOOL_OR_NULL:
		if (sqlite3_column_type(s, i) == SQLITE_NULL)
			return json_null();
		/* FALLTHROUGH */
	case J_BOOL:
		return json_boolean(sqlite3_column_int(s, i));
	case J_TIME:
		return j_time(s, i);
	case J_STORED:
		return j_stored(s, i);
	}
	return json_null();
}

/* One object with the fields in table order.  New reference. */
static json_t *
j_row(sqlite3_stmt *s, const struct j_field *f, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, f[i].key,
		    j_value(s, f[i].col, f[i].kind));
	return o;
}

/* ---- show ------------------------------------------------------------ */

#define TICKET_COLS "id, status, disposition, type, urgency, minor, danger, " \
	"automated, needs_interpreter, needs_human, lang, rationale, " \
	"received_at, in_business_hours, response_due, breach_at, " \
	"acknowledged_at, acknowledged_by, sla_met, closed_at, assignee, " \
	"sender, subject, created_at, updated_at"
enum {
	TC_ID, TC_STATUS, TC_DISP, TC_TYPE, TC_URG, TC_MINOR, TC_DANGER,
	TC_AUTO, TC_INTERP, TC_HUMAN, TC_LANG, TC_RAT, TC_RECV, TC_INHOURS,
	TC_DUE, TC_BREACH, TC_ACK, TC_ACKBY, TC_MET, TC_CLOSED, TC_ASSIGNEE,
	TC_SENDER, TC_SUBJECT, TC_CREATED, TC_UPDATED
};

#define MSG_COLS "id, source, message_id, received_at, date_header, " \
	"from_addr, from_name, to_addr, subject, parse_status, parse_error, " \
	"attachments, text, size, responded_at, (direction = 'in' AND " \
	"responded_at IS NULL AND (SELECT automated FROM tickets WHERE " \
	"tickets.id = ticket_id) = 0), received_claimed, recipient, direction, " \
	"carrier_keyword, segments"
enum {
	MC_ID, MC_SOURCE, MC_MSGID, MC_RECV, MC_DATE, MC_FROM, MC_NAME, MC_TO,
	MC_SUBJECT, MC_STATUS, MC_ERROR, MC_ATTS, MC_TEXT, MC_SIZE,
	MC_RESPONDED, MC_UNANSWERED, MC_CLAIMED, MC_RCPT, MC_DIRECTION, MC_KEYWORD,
	MC_SEGMENTS
};
/* The other deliveries of one message (message_copies: the same message
 * to several hotline addresses, or by two sources), oldest first. */
#define COPY_SQL "SELECT source, recipient, received_at FROM message_copies " \
	"WHERE message = ? ORDER BY received_at, id"

static void
show_ticket_text(sqlite3_stmt *t)
{
	char a[40], b[40];
	json_t *rat;
	size_t i;
	struct report_row r;
	char flags[96];

	memset(&r, 0, sizeof(r));
	r.minor = sqlite3_column_int(t, TC_MINOR);
	r.danger = sqlite3_column_int(t, TC_DANGER);
	r.needs_interpreter = sqlite3_column_int(t, TC_INTERP);
	r.needs_human = sqlite3_column_int(t, TC_HUMAN);
	r.automated = sqlite3_column_int(t, TC_AUTO);
	report_flags(&r, flags, sizeof(flags));
	printf("Ticket #%lld  %s  %s / %s%s%s\n", sqlite3_column_int64(t, TC_ID),
	    col(t, TC_STATUS), col(t, TC_TYPE), col(t, TC_URG), *flags ? "  " : "",
	    flags);
	fmt_iso(t, TC_RECV, a, sizeof(a));
	printf("Received:      %s (%s business hours)\n", a,
	    sqlite3_column_int(t, TC_INHOURS) ? "in" : "outside");
	fmt_iso(t, TC_DUE, a, sizeof(a));
	printf("Response due:  %s\n", a);
	fmt_iso(t, TC_BREACH, a, sizeof(a));
	printf("Breach at:     %s\n", a);
	if (sqlite3_column_type(t, TC_ACK) != SQLITE_NULL) {
		fmt_iso(t, TC_ACK, a, sizeof(a));
		printf("Acknowledged:  %s by ", a);
		put_safe(col(t, TC_ACKBY), 0, "?");
		printf(" (%s)\n", sqlite3_column_type(t, TC_MET) == SQLITE_NULL ?
		    "no deadline" : sqlite3_column_int(t, TC_MET) ? "SLA met" :
		    "SLA breached");
	} else
		printf("Acknowledged:  not yet\n");
	if (sqlite3_column_type(t, TC_CLOSED) != SQLITE_NULL) {
		fmt_iso(t, TC_CLOSED, b, sizeof(b));
		printf("Closed:        %s (%s)\n", b, col(t, TC_DISP) ?
		    col(t, TC_DISP) : "-");
	}
	printf("Assignee:      ");
	put_safe(col(t, TC_ASSIGNEE), 0, "-");
	printf("\nSender:        ");
	put_safe(col(t, TC_SENDER), 0, "-");
	printf("\nSubject:       ");
	put_safe(col(t, TC_SUBJECT), 0, "-");
	printf("\nLanguage:      %s\n", col(t, TC_LANG) ? col(t, TC_LANG) : "und");
	printf("Why:");
	rat = j_stored(t, TC_RAT);
	if (json_array_size(rat) == 0)
		printf("           -\n");
	for (i = 0; i < json_array_size(rat); i++) {
		printf("%s- ", i ? "               " : "           ");
		put_safe(json_string_value(json_array_get(rat, i)), 0, "?");
		putchar('\n');
	}
	json_decref(rat);
}

/* Numbered across the ticket (*k): `intake attachment N PART` takes it. */
static void
show_attachments_text(const char *json, int *k)
{
	json_error_t err;
	json_t *a, *o;
	size_t i;

	a = json ? json_loads(json, 0, &err) : NULL;
	if (json_array_size(a) == 0) {
		json_decref(a);
		return;
	}
	printf("Attachments:\n");
	json_array_foreach(a, i, o) {
		printf("  %d. ", ++*k);
		put_safe(json_string_value(json_object_get(o, "filename")), 0,
		    "(no name)");
		printf(" (");
		put_safe(json_string_value(json_object_get(o, "content_type")), 0,
		    "?");
		printf(", %lld bytes)\n", (long long)json_integer_value(
		    json_object_get(o, "size")));
	}
	json_decref(a);
}

static void
delivered_line(int first, const char *addr, const char *how, const char *src)
{
	printf("%s", first ? "Delivered: " : "           ");
	put_safe(addr, 0, "-");
	printf(" (%s", how);
	put_safe(src, 0, "?");
	printf(")\n");
}

/* "Delivered: ADDR (source)" and a line a copy (message_copies); nothing
 * when neither a delivery address nor a copy is known. */
static void
show_recipients_text(sqlite3_stmt *m, sqlite3_stmt *c)
{
	int n = 0;

	if (col(m, MC_RCPT))
		delivered_line(n++ == 0, col(m, MC_RCPT), "", col(m, MC_SOURCE));
	sqlite3_reset(c);
	sqlite3_bind_int64(c, 1, sqlite3_column_int64(m, MC_ID));
	while (sqlite3_step(c) == SQLITE_ROW) {
		if (n == 0)
			delivered_line(n++ == 0, NULL, "", col(m, MC_SOURCE));
		delivered_line(0, col(c, 1), "copy via ", col(c, 0));
	}
}

static json_t *
copies_json(sqlite3_stmt *m, sqlite3_stmt *c)
{
	json_t *a = json_array();

	sqlite3_reset(c);
	sqlite3_bind_int64(c, 1, sqlite3_column_int64(m, MC_ID));
	while (sqlite3_step(c) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "source",
		    j_text(c, 0), "recipient", j_text(c, 1), "received",
		    j_time(c, 2)));
	return a;
}

static void
show_message_text(sqlite3_stmt *m, sqlite3_stmt *c, int n, int total,
    int *natt)
{
	char a[40];

	/* A contact message nobody has answered yet (doc/sla.md); what
	 * staff wrote (an outbound source, reply.h). */
	printf("\n--- message %d of %d (#%lld, ", n, total,
	    sqlite3_column_int64(m, MC_ID));
	put_safe(col(m, MC_SOURCE), 0, "?");
	printf(")%s%s ---\n", col(m, MC_DIRECTION) &&
	    strcmp(col(m, MC_DIRECTION), "out") == 0 ? " STAFF REPLY" : "",
	    sqlite3_column_int(m, MC_UNANSWERED) ? " UNANSWERED" : "");
	printf("From:     ");
	if (col(m, MC_NAME)) {
		put_safe(col(m, MC_NAME), 0, "");
		printf(" <");
		put_safe(col(m, MC_FROM), 0, "");
		printf(">");
	} else
		put_safe(col(m, MC_FROM), 0, "-");
	printf("\nTo:       ");
	put_safe(col(m, MC_TO), 0, "-");
	putchar('\n');
	show_recipients_text(m, c);
	fmt_iso(m, MC_DATE, a, sizeof(a));
	printf("Date:     %s\n", a);
	fmt_iso(m, MC_RECV, a, sizeof(a));
	printf("Received: %s", a);
	/* The source's own received time, not believed (ingest.h). */
	if (sqlite3_column_type(m, MC_CLAIMED) != SQLITE_NULL) {
		fmt_iso(m, MC_CLAIMED, a, sizeof(a));
		printf(" (the source said %s, in the future)", a);
	}
	putchar('\n');
	printf("Subject:  ");
	put_safe(col(m, MC_SUBJECT), 0, "-");
	printf("\nParse:    %s", col(m, MC_STATUS));
	if (col(m, MC_ERROR)) {
		printf(" (");
		put_safe(col(m, MC_ERROR), 0, "");
		printf(")");
	}
	printf(", %lld bytes", sqlite3_column_int64(m, MC_SIZE));
	if (sqlite3_column_type(m, MC_SEGMENTS) != SQLITE_NULL)
		printf(", %d SMS segments joined",
		    sqlite3_column_int(m, MC_SEGMENTS));
	putchar('\n');
	/* STOP, HELP...: the contact may have opted out at the carrier; intake
	 * never replies to a texting contact anyway (webhook.h). */
	if (col(m, MC_KEYWORD)) {
		printf("Keyword:  ");
		put_safe(col(m, MC_KEYWORD), 0, "");
		printf(" (a carrier keyword)\n");
	}
	show_attachments_text(col(m, MC_ATTS), natt);
	putchar('\n');
	put_safe(col(m, MC_TEXT), 1, "(no text)");
	putchar('\n');
}

static int
count_rows(struct store *st, const char *sql, long long id)
{
	sqlite3_stmt *s;
	int n = 0;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static json_t *
ticket_json(sqlite3_stmt *t)
{
	static const struct j_field f[] = {
		{ "id", TC_ID, J_INT },
		{ "status", TC_STATUS, J_TEXT },
		{ "disposition", TC_DISP, J_TEXT },
		{ "type", TC_TYPE, J_TEXT },
		{ "urgency", TC_URG, J_TEXT },
		{ "minor", TC_MINOR, J_BOOL },
		{ "danger", TC_DANGER, J_BOOL },
		{ "automated", TC_AUTO, J_BOOL },
		{ "needs_interpreter", TC_INTERP, J_BOOL },
		{ "needs_human", TC_HUMAN, J_BOOL },
		{ "lang", TC_LANG, J_TEXT },
		{ "rationale", TC_RAT, J_STORED },
		{ "received", TC_RECV, J_TIME },
		{ "in_business_hours", TC_INHOURS, J_BOOL },
		{ "response_due", TC_DUE, J_TIME },
		{ "breach_at", TC_BREACH, J_TIME },
		{ "acknowledged_at", TC_ACK, J_TIME },
		{ "acknowledged_by", TC_ACKBY, J_TEXT },
		{ "sla_met", TC_MET, J_BOOL_OR_NULL },
		{ "closed_at", TC_CLOSED, J_TIME },
		{ "assignee", TC_ASSIGNEE, J_TEXT },
		{ "sender", TC_SENDER, J_TEXT },
		{ "subject", TC_SUBJECT, J_TEXT },
		{ "created_at", TC_CREATED, J_TIME },
		{ "updated_at", TC_UPDATED, J_TIME },
	};

	return j_row(t, f, sizeof(f) / sizeof(f[0]));
}

static json_t *
message_json(sqlite3_stmt *m)
{
	static const struct j_field f[] = {
		{ "id", MC_ID, J_INT },
		{ "source", MC_SOURCE, J_TEXT },
		{ "message_id", MC_MSGID, J_TEXT },
		{ "received", MC_RECV, J_TIME },
		{ "date", MC_DATE, J_TIME },
		{ "from_addr", MC_FROM, J_TEXT },
		{ "from_name", MC_NAME, J_TEXT },
		{ "to", MC_TO, J_TEXT },
		{ "subject", MC_SUBJECT, J_TEXT },
		{ "parse_status", MC_STATUS, J_TEXT },
		{ "parse_error", MC_ERROR, J_TEXT },
		{ "size", MC_SIZE, J_INT },
		{ "attachments", MC_ATTS, J_STORED },
		{ "text", MC_TEXT, J_TEXT },
		{ "responded_at", MC_RESPONDED, J_TIME },
		{ "unanswered", MC_UNANSWERED, J_BOOL },
		{ "received_claimed", MC_CLAIMED, J_TIME },
		{ "recipient", MC_RCPT, J_TEXT },
		{ "direction", MC_DIRECTION, J_TEXT },
		{ "carrier_keyword", MC_KEYWORD, J_TEXT },
		{ "segments", MC_SEGMENTS, J_INT_OR_NULL },
	};

	return j_row(m, f, sizeof(f) / sizeof(f[0]));
}

static json_t *
event_json(sqlite3_stmt *e)
{
	static const struct j_field f[] = {
		{ "at", 0, J_TIME },
		{ "actor", 1, J_TEXT },
		{ "kind", 2, J_TEXT },
		{ "detail", 3, J_STORED },
	};

	return j_row(e, f, sizeof(f) / sizeof(f[0]));
}

/* Prints the ticket; 0, EX_DATAERR when it does not exist, or an error. */
static int
show(struct store *st, long long id, int json)
{
	sqlite3_stmt *t = NULL, *m = NULL, *e = NULL, *c = NULL;
	json_t *mj;
	json_t *out = NULL, *msgs = NULL, *evs = NULL;
	int rc, n = 0, total, natt = 0;
	char a[40];
	char *text;

	rc = sqlite3_prepare_v2(store_db(st), "SELECT " TICKET_COLS
	    " FROM tickets WHERE id = ?", -1, &t, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store_db(st), "SELECT " MSG_COLS
		    " FROM messages WHERE ticket_id = ? ORDER BY received_at, id",
		    -1, &m, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store_db(st), "SELECT at, actor, kind, "
		    "detail FROM events WHERE ticket_id = ? ORDER BY at, id", -1,
		    &e, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(store_db(st), COPY_SQL, -1, &c, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(t, 1, id);
	sqlite3_bind_int64(m, 1, id);
	sqlite3_bind_int64(e, 1, id);
	rc = sqlite3_step(t);
	if (rc == SQLITE_DONE) {
		fprintf(stderr, "intake show: no ticket #%lld\n", id);
		rc = EX_DATAERR;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	total = count_rows(st, "SELECT count(*) FROM messages WHERE ticket_id = ?",
	    id);
	if (json) {
		out = ticket_json(t);
		msgs = json_array();
		evs = json_array();
	} else {
		show_ticket_text(t);
		printf("\nMessages (%d)\n", total);
	}
	while ((rc = sqlite3_step(m)) == SQLITE_ROW) {
		if (json) {
			mj = message_json(m);
			json_object_set_new(mj, "copies", copies_json(m, c));
			json_array_append_new(msgs, mj);
		} else
			show_message_text(m, c, ++n, total, &natt);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	if (!json)
		printf("\nEvents (%d)\n", count_rows(st, "SELECT count(*) FROM "
		    "events WHERE ticket_id = ?", id));
	while ((rc = sqlite3_step(e)) == SQLITE_ROW) {
		if (json) {
			json_array_append_new(evs, event_json(e));
			continue;
		}
		fmt_iso(e, 0, a, sizeof(a));
		printf("  %s  ", a);
		put_safe(col(e, 1), 0, "?");
		printf("  %s  ", col(e, 2));
		put_safe(col(e, 3), 0, "{}");
		putchar('\n');
	}
	if (rc != SQLITE_DONE)
		goto fail;
	if (json) {
		json_object_set_new(out, "messages", msgs);
		json_object_set_new(out, "events", evs);
		msgs = evs = NULL;
		text = fmt_json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			puts(text);
		free(text);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "intake show: %s\n", store_errmsg(st));
	rc = store_classify(rc) == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
out:
	json_decref(out);
	json_decref(msgs);
	json_decref(evs);
	sqlite3_finalize(t);
	sqlite3_finalize(m);
	sqlite3_finalize(e);
	sqlite3_finalize(c);
	return rc;
}

int
cmd_show(struct cmd_ctx *ctx)
{
	unsigned long long id;
	const char *arg;
	int rc;

	if (ctx->argc != 1)
		return cmd_usage_error(ctx);
	arg = ctx->argv[0][0] == '#' ? ctx->argv[0] + 1 : ctx->argv[0];
	if (parse_uint(arg, 1, (unsigned long long)1 << 62, &id) == -1) {
		fprintf(stderr, "intake show: the ticket is a number\n");
		return EX_USAGE;
	}
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	return show(ctx->env.store, (long long)id, ctx->format == 1);
}

/* ---- list ------------------------------------------------------------ */

static void
list_text_row(sqlite3_stmt *s, struct buf *b)
{
	char recv[32], due[32], *line, *safe;
	const char *st;
	time_t t;
	struct tm tm;

	t = (time_t)sqlite3_column_int64(s, 5);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(recv, sizeof(recv), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(recv, sizeof(recv), "?");
	t = (time_t)sqlite3_column_int64(s, 6);
	if (sqlite3_column_type(s, 6) == SQLITE_NULL ||
	    localtime_r(&t, &tm) == NULL ||
	    strftime(due, sizeof(due), "%m-%d %H:%M", &tm) == 0)
		snprintf(due, sizeof(due), "-");
	/* a closed ticket shows how it was closed; the JSON has both */
	st = col(s, 1);
	if (st && strcmp(st, "closed") == 0 && col(s, 4))
		st = col(s, 4);
	line = xasprintf("%-7lld %-9s %-9s %-7s %-16s %-11s %-10.10s %s",
	    sqlite3_column_int64(s, 0), st ? st : "?", col(s, 2), col(s, 3), recv,
	    due, col(s, 7) ? col(s, 7) : "-",
	    col(s, 8) ? col(s, 8) : "(no subject)");
	safe = fmt_terminal_safe(line, 0);
	fmt_add_clipped(b, safe, LIST_WIDTH);
	buf_addc(b, '\n');
	free(safe);
	free(line);
}

static json_t *
list_json_row(sqlite3_stmt *s)
{
	static const struct j_field f[] = {
		{ "id", 0, J_INT },
		{ "status", 1, J_TEXT },
		{ "type", 2, J_TEXT },
		{ "urgency", 3, J_TEXT },
		{ "disposition", 4, J_TEXT },
		{ "received", 5, J_TIME },
		{ "response_due", 6, J_TIME },
		{ "assignee", 7, J_TEXT },
		{ "subject", 8, J_TEXT },
		{ "sender", 9, J_TEXT },
		{ "breach_at", 10, J_TIME },
		{ "acknowledged_at", 11, J_TIME },
	};

	return j_row(s, f, sizeof(f) / sizeof(f[0]));
}

/* What `intake list` selects; NULL fields do not filter. */
struct list_filter {
	const char	*status;
	const char	*type;
	const char	*assignee;
	const char	*sender;
	time_t		 since;
	long long	 limit;
};

static int
list(struct store *st, const struct list_filter *f, int json)
{
	sqlite3_stmt *s;
	struct buf b;
	json_t *arr = NULL;
	char *text;
	int rc;

	rc = sqlite3_prepare_v2(store_db(st), "SELECT id, status, type, urgency, "
	    "disposition, received_at, response_due, assignee, subject, sender, "
	    "breach_at, acknowledged_at FROM tickets t "
	    "WHERE (?1 IS NULL OR status = ?1) AND received_at >= ?2 "
	    "AND (?4 IS NULL OR type = ?4) AND (?5 IS NULL OR assignee = ?5) "
	    "AND (?6 IS NULL OR sender = ?6 COLLATE NOCASE OR EXISTS (SELECT 1 "
	    "FROM messages m WHERE m.ticket_id = t.id AND m.from_addr = ?6 "
	    "COLLATE NOCASE)) "
	    "ORDER BY received_at DESC, id DESC LIMIT ?3", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "intake list: %s\n", store_errmsg(st));
		return EX_SOFTWARE;
	}
	if (f->status)
		sqlite3_bind_text(s, 1, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)f->since);
	sqlite3_bind_int64(s, 3, f->limit > 0 ? f->limit : -1);
	if (f->type)
		sqlite3_bind_text(s, 4, f->type, -1, SQLITE_STATIC);
	if (f->assignee)
		sqlite3_bind_text(s, 5, f->assignee, -1, SQLITE_STATIC);
	if (f->sender)
		sqlite3_bind_text(s, 6, f->sender, -1, SQLITE_STATIC);
	buf_init(&b, 0);
	if (json)
		arr = json_array();
	else
		buf_addstr(&b, "ID      STATUS    TYPE      URGENCY RECEIVED         "
		    "DUE         ASSIGNEE   SUBJECT\n");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (json)
			json_array_append_new(arr, list_json_row(s));
		else
			list_text_row(s, &b);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "intake list: %s\n", store_errmsg(st));
		json_decref(arr);
		buf_free(&b);
		return store_classify(rc) == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	if (json) {
		text = fmt_json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(arr);
		if (text)
			puts(text);
		free(text);
	} else
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return 0;
}

int
cmd_list(struct cmd_ctx *ctx)
{
	const char *since_arg = NULL;
	const struct cmd_opt *o;
	struct list_filter f;
	unsigned long long limit = 0;
	char me[256];
	size_t i;
	int rc;

	memset(&f, 0, sizeof(f));
	f.since = (time_t)-((long long)1 << 40);
	for (i = 0; i < ctx->nopts; i++) {
		o = &ctx->opts[i];
		switch (o->id) {
		case 's':
			if ((rc = cli_opt_status("list", o->arg,
			    &f.status)) != 0)
				return rc;
			break;
		case 't':
			if ((rc = cli_opt_type("list", o->arg, &f.type)) != 0)
				return rc;
			break;
		case 'a':
			f.assignee = cli_assignee(o->arg, me, sizeof(me));
			break;
		case 'r':
			f.sender = o->arg;
			break;
		case 'S':
			since_arg = o->arg;
			break;
		case 'l':
			if (parse_uint(o->arg, 1, 100000000, &limit) == -1) {
				fprintf(stderr, "intake list: bad --limit\n");
				return EX_USAGE;
			}
			break;
		}
	}
	f.limit = (long long)limit;
	if ((rc = cli_no_operands("list", ctx->argc, ctx->argv, 0)) != 0)
		return rc;
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	f.assignee = cli_person(&ctx->env.cfg, f.assignee);	/* oncall.people */
	/* After cmd_open: a bare date is midnight in the office zone. */
	if (since_arg && fmt_parse_date(since_arg, &f.since) == -1) {
		fprintf(stderr, "intake list: --since: '%s' is not a date "
		    "(YYYY-MM-DD) or ISO 8601 instant\n", since_arg);
		return EX_USAGE;
	}
	return list(ctx->env.store, &f, ctx->format == 1);
}
