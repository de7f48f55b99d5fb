/* SPDX-License-Identifier: MIT */
/*
 * cmd_ticket.c: `intake show N` (one ticket with its messages, attachments
 * and events) and `intake list` (tickets, newest first).  Read-only.
 * Everything that came in a message is passed through
 * fmt_terminal_safe() before it reaches the terminal: a subject can
 * carry escape sequences.  On the store's statement API (both drivers).
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
col(struct stmt *s, int i)
{
	return store_col_text(s, i, NULL);
}

static int
col_int(struct stmt *s, int i)
{
	return (int)store_col_int64(s, i);
}

static void
fmt_iso(struct stmt *s, int i, char *out, size_t outlen)
{
	if (store_col_null(s, i))
		snprintf(out, outlen, "-");
	else
		iso8601_local((time_t)store_col_int64(s, i), out, outlen);
}

static json_t *
j_time(struct stmt *s, int i)
{
	char iso[40];

	if (store_col_null(s, i))
		return json_null();
	iso8601_local((time_t)store_col_int64(s, i), iso, sizeof(iso));
	return json_string(iso);
}

static json_t *
j_text(struct stmt *s, int i)
{
	size_t len;
	const char *t = store_col_text(s, i, &len);
	char *clean;
	json_t *j;

	if (t == NULL)
		return json_null();
	clean = utf8_sanitize(t, len);
	j = json_string(clean);
	free(clean);
	return j ? j : json_null();
}

/* A stored JSON column, parsed (or null when it does not parse). */
static json_t *
j_stored(struct stmt *s, int i)
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
j_value(struct stmt *s, int i, enum j_kind kind)
{
	switch (kind) {
	case J_INT_OR_NULL:
		if (store_col_null(s, i))
			return json_null();
		/* FALLTHROUGH */
	case J_INT:
		return json_integer(store_col_int64(s, i));
	case J_TEXT:
		return j_text(s, i);
	case J_BOOL_OR_NULL:
		if (store_col_null(s, i))
			return json_null();
		/* FALLTHROUGH */
	case J_BOOL:
		return json_boolean(store_col_int64(s, i) != 0);
	case J_TIME:
		return j_time(s, i);
	case J_STORED:
		return j_stored(s, i);
	}
	return json_null();
}

/* One object with the fields in table order.  New reference. */
static json_t *
j_row(struct stmt *s, const struct j_field *f, size_t n)
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
static const struct query q_copies = {
	"SELECT source, recipient, received_at FROM message_copies "
	"WHERE message = ? ORDER BY received_at, id", NULL };
static const struct query q_ticket = {
	"SELECT " TICKET_COLS " FROM tickets WHERE id = ?", NULL };
static const struct query q_messages = {
	"SELECT " MSG_COLS " FROM messages WHERE ticket_id = ? "
	"ORDER BY received_at, id", NULL };
static const struct query q_events = {
	"SELECT at, actor, kind, detail FROM events WHERE ticket_id = ? "
	"ORDER BY at, id", NULL };
static const struct query q_nmessages = {
	"SELECT count(*) FROM messages WHERE ticket_id = ?", NULL };
static const struct query q_nevents = {
	"SELECT count(*) FROM events WHERE ticket_id = ?", NULL };

static void
show_ticket_text(struct stmt *t)
{
	char a[40], b[40];
	json_t *rat;
	size_t i;
	struct report_row r;
	char flags[96];

	memset(&r, 0, sizeof(r));
	r.minor = col_int(t, TC_MINOR);
	r.danger = col_int(t, TC_DANGER);
	r.needs_interpreter = col_int(t, TC_INTERP);
	r.needs_human = col_int(t, TC_HUMAN);
	r.automated = col_int(t, TC_AUTO);
	report_flags(&r, flags, sizeof(flags));
	printf("Ticket #%lld  %s  %s / %s%s%s\n", store_col_int64(t, TC_ID),
	    col(t, TC_STATUS), col(t, TC_TYPE), col(t, TC_URG), *flags ? "  " : "",
	    flags);
	fmt_iso(t, TC_RECV, a, sizeof(a));
	printf("Received:      %s (%s business hours)\n", a,
	    col_int(t, TC_INHOURS) ? "in" : "outside");
	fmt_iso(t, TC_DUE, a, sizeof(a));
	printf("Response due:  %s\n", a);
	fmt_iso(t, TC_BREACH, a, sizeof(a));
	printf("Breach at:     %s\n", a);
	if (!store_col_null(t, TC_ACK)) {
		fmt_iso(t, TC_ACK, a, sizeof(a));
		printf("Acknowledged:  %s by ", a);
		put_safe(col(t, TC_ACKBY), 0, "?");
		printf(" (%s)\n", store_col_null(t, TC_MET) ?
		    "no deadline" : col_int(t, TC_MET) ? "SLA met" :
		    "SLA breached");
	} else
		printf("Acknowledged:  not yet\n");
	if (!store_col_null(t, TC_CLOSED)) {
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
show_recipients_text(struct stmt *m, struct stmt *c)
{
	int n = 0;

	if (col(m, MC_RCPT))
		delivered_line(n++ == 0, col(m, MC_RCPT), "", col(m, MC_SOURCE));
	if (store_bind_int64(c, 1, store_col_int64(m, MC_ID)) == STORE_OK)
		while (store_step(c) == STORE_ROW) {
			if (n == 0)
				delivered_line(n++ == 0, NULL, "",
				    col(m, MC_SOURCE));
			delivered_line(0, col(c, 1), "copy via ", col(c, 0));
		}
	store_done(c);
}

static json_t *
copies_json(struct stmt *m, struct stmt *c)
{
	json_t *a = json_array();

	if (store_bind_int64(c, 1, store_col_int64(m, MC_ID)) == STORE_OK)
		while (store_step(c) == STORE_ROW)
			json_array_append_new(a, json_pack("{s:o,s:o,s:o}",
			    "source", j_text(c, 0), "recipient", j_text(c, 1),
			    "received", j_time(c, 2)));
	store_done(c);
	return a;
}

static void
show_message_text(struct stmt *m, struct stmt *c, int n, int total,
    int *natt)
{
	char a[40];

	/* A contact message nobody has answered yet (doc/sla.md); what
	 * staff wrote (an outbound source, reply.h). */
	printf("\n--- message %d of %d (#%lld, ", n, total,
	    store_col_int64(m, MC_ID));
	put_safe(col(m, MC_SOURCE), 0, "?");
	printf(")%s%s ---\n", col(m, MC_DIRECTION) &&
	    strcmp(col(m, MC_DIRECTION), "out") == 0 ? " STAFF REPLY" : "",
	    col_int(m, MC_UNANSWERED) ? " UNANSWERED" : "");
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
	if (!store_col_null(m, MC_CLAIMED)) {
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
	printf(", %lld bytes", store_col_int64(m, MC_SIZE));
	if (!store_col_null(m, MC_SEGMENTS))
		printf(", %d SMS segments joined",
		    col_int(m, MC_SEGMENTS));
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
count_rows(struct store *st, const struct query *q, long long id)
{
	struct stmt *s;
	int rc, n = 0;

	if ((s = store_prepare(st, q, &rc)) == NULL)
		return 0;
	if (store_bind_int64(s, 1, id) == STORE_OK && store_step(s) == STORE_ROW)
		n = col_int(s, 0);
	store_done(s);
	return n;
}

static json_t *
ticket_json(struct stmt *t)
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
message_json(struct stmt *m)
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
event_json(struct stmt *e)
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
	struct stmt *t = NULL, *m = NULL, *e = NULL, *c = NULL;
	json_t *mj;
	json_t *out = NULL, *msgs = NULL, *evs = NULL;
	int rc, n = 0, total, natt = 0;
	char a[40];
	char *text;

	if ((t = store_prepare(st, &q_ticket, &rc)) == NULL ||
	    (m = store_prepare(st, &q_messages, &rc)) == NULL ||
	    (e = store_prepare(st, &q_events, &rc)) == NULL ||
	    (c = store_prepare(st, &q_copies, &rc)) == NULL)
		goto fail;
	if ((rc = store_bind_int64(t, 1, id)) != STORE_OK ||
	    (rc = store_bind_int64(m, 1, id)) != STORE_OK ||
	    (rc = store_bind_int64(e, 1, id)) != STORE_OK)
		goto fail;
	rc = store_step(t);
	if (rc == STORE_DONE) {
		fprintf(stderr, "intake show: no ticket #%lld\n", id);
		rc = EX_DATAERR;
		goto out;
	}
	if (rc != STORE_ROW)
		goto fail;
	total = count_rows(st, &q_nmessages, id);
	if (json) {
		out = ticket_json(t);
		msgs = json_array();
		evs = json_array();
	} else {
		show_ticket_text(t);
		printf("\nMessages (%d)\n", total);
	}
	while ((rc = store_step(m)) == STORE_ROW) {
		if (json) {
			mj = message_json(m);
			json_object_set_new(mj, "copies", copies_json(m, c));
			json_array_append_new(msgs, mj);
		} else
			show_message_text(m, c, ++n, total, &natt);
	}
	if (rc != STORE_DONE)
		goto fail;
	if (!json)
		printf("\nEvents (%d)\n", count_rows(st, &q_nevents, id));
	while ((rc = store_step(e)) == STORE_ROW) {
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
	if (rc != STORE_DONE)
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
	rc = rc == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
out:
	json_decref(out);
	json_decref(msgs);
	json_decref(evs);
	/* the store owns them: done resets for the next use */
	if (t)
		store_done(t);
	if (m)
		store_done(m);
	if (e)
		store_done(e);
	if (c)
		store_done(c);
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
list_text_row(struct stmt *s, struct buf *b)
{
	char recv[32], due[32], *line, *safe;
	const char *st;
	time_t t;
	struct tm tm;

	t = (time_t)store_col_int64(s, 5);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(recv, sizeof(recv), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(recv, sizeof(recv), "?");
	t = (time_t)store_col_int64(s, 6);
	if (store_col_null(s, 6) ||
	    localtime_r(&t, &tm) == NULL ||
	    strftime(due, sizeof(due), "%m-%d %H:%M", &tm) == 0)
		snprintf(due, sizeof(due), "-");
	/* a closed ticket shows how it was closed; the JSON has both */
	st = col(s, 1);
	if (st && strcmp(st, "closed") == 0 && col(s, 4))
		st = col(s, 4);
	line = xasprintf("%-7lld %-9s %-9s %-7s %-16s %-11s %-10.10s %s",
	    store_col_int64(s, 0), st ? st : "?", col(s, 2), col(s, 3), recv,
	    due, col(s, 7) ? col(s, 7) : "-",
	    col(s, 8) ? col(s, 8) : "(no subject)");
	safe = fmt_terminal_safe(line, 0);
	fmt_add_clipped(b, safe, LIST_WIDTH);
	buf_addc(b, '\n');
	free(safe);
	free(line);
}

static json_t *
list_json_row(struct stmt *s)
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

/* PostgreSQL: a parameter tested for NULL has no type to infer (cast);
 * NOCASE is lower() (SQLite folds ASCII only, PostgreSQL per its locale);
 * a negative LIMIT is an error there, LIMIT NULL is none. */
static const struct query q_list = {
	"SELECT id, status, type, urgency, disposition, received_at, "
	"response_due, assignee, subject, sender, breach_at, acknowledged_at "
	"FROM tickets t WHERE (?1 IS NULL OR status = ?1) AND received_at >= ?2 "
	"AND (?4 IS NULL OR type = ?4) AND (?5 IS NULL OR assignee = ?5) "
	"AND (?6 IS NULL OR sender = ?6 COLLATE NOCASE OR EXISTS (SELECT 1 "
	"FROM messages m WHERE m.ticket_id = t.id AND m.from_addr = ?6 "
	"COLLATE NOCASE)) "
	"ORDER BY received_at DESC, id DESC LIMIT ?3",
	"SELECT id, status, type, urgency, disposition, received_at, "
	"response_due, assignee, subject, sender, breach_at, acknowledged_at "
	"FROM tickets t WHERE ($1::text IS NULL OR status = $1::text) AND "
	"received_at >= $2::bigint AND ($4::text IS NULL OR type = $4::text) "
	"AND ($5::text IS NULL OR assignee = $5::text) AND ($6::text IS NULL "
	"OR lower(sender) = lower($6::text) OR EXISTS (SELECT 1 FROM messages "
	"m WHERE m.ticket_id = t.id AND lower(m.from_addr) = lower($6::text))) "
	"ORDER BY received_at DESC, id DESC "
	"LIMIT CASE WHEN $3::bigint < 0 THEN NULL ELSE $3::bigint END" };

static int
list(struct store *st, const struct list_filter *f, int json)
{
	struct stmt *s;
	struct buf b;
	json_t *arr = NULL;
	char *text;
	int rc;

	if ((s = store_prepare(st, &q_list, &rc)) == NULL) {
		fprintf(stderr, "intake list: %s\n", store_errmsg(st));
		return EX_SOFTWARE;
	}
	if ((rc = store_bind_text(s, 1, f->status, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_int64(s, 2, (long long)f->since)) != STORE_OK ||
	    (rc = store_bind_int64(s, 3, f->limit > 0 ? f->limit : -1)) !=
	    STORE_OK ||
	    (rc = store_bind_text(s, 4, f->type, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_text(s, 5, f->assignee, (size_t)-1)) != STORE_OK ||
	    (rc = store_bind_text(s, 6, f->sender, (size_t)-1)) != STORE_OK) {
		store_done(s);
		fprintf(stderr, "intake list: %s\n", store_errmsg(st));
		return EX_SOFTWARE;
	}
	buf_init(&b, 0);
	if (json)
		arr = json_array();
	else
		buf_addstr(&b, "ID      STATUS    TYPE      URGENCY RECEIVED         "
		    "DUE         ASSIGNEE   SUBJECT\n");
	while ((rc = store_step(s)) == STORE_ROW) {
		if (json)
			json_array_append_new(arr, list_json_row(s));
		else
			list_text_row(s, &b);
	}
	store_done(s);
	if (rc != STORE_DONE) {
		fprintf(stderr, "intake list: %s\n", store_errmsg(st));
		json_decref(arr);
		buf_free(&b);
		return rc == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
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
