/* SPDX-License-Identifier: MIT */
/*
 * report.c: the follow-up list: one query, four renderings.  The rows are
 * read once into memory (the list is what staff must act on today, so it
 * is short) and every renderer walks the same array, so the text, CSV,
 * JSON and HTML of one run always agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "report.h"
#include "report_p.h"
#include "util.h"

#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 */
#define DEFAULT_WIDTH	100
#define INDENT		"           "	/* under the ticket number */

#define ANSI_RESET	"\033[0m"
#define ANSI_BOLD	"\033[1m"
#define ANSI_RED	"\033[1;31m"
#define ANSI_YELLOW	"\033[1;33m"
#define ANSI_DIM	"\033[2m"

static const char *const group_titles[RG__COUNT] = {
	"Breached", "Due today", "Due next business day", "Later",
	"No deadline", "Acknowledged, still open"
};
static const char *const group_names[RG__COUNT] = {
	"breached", "due_today", "due_next_business_day", "later",
	"no_deadline", "acknowledged"
};

const char *
report_group_title(enum report_group g)
{
	return g < RG__COUNT ? group_titles[g] : "?";
}

/* Its machine name: "breached", "due_today", "due_next_business_day",
 * "later", "no_deadline", "acknowledged". */
static const char *
report_group_name(enum report_group g)
{
	return g < RG__COUNT ? group_names[g] : "?";
}

void
report_filter_init(struct report_filter *f, time_t now)
{
	memset(f, 0, sizeof(*f));
	f->scope = REPORT_DEFAULT;
	f->now = now;
}

void
report_opts_init(struct report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->width = DEFAULT_WIDTH;
}

void
report_time_left(const struct report_row *r, time_t now, char *out,
    size_t outlen)
{
	char d[32];
	time_t due = r->response_due ? r->response_due : r->breach_at;

	if (r->answered) {
		snprintf(out, outlen, "acknowledged");
		return;
	}
	if (due == 0) {
		snprintf(out, outlen, "-");
		return;
	}
	fmt_duration((long long)(due - now), d, sizeof(d));
	if (due <= now)
		snprintf(out, outlen, "overdue by %s", d);
	else
		snprintf(out, outlen, "%s left", d);
}

#define REPORT_NFLAGS	5

/* The names of the row's flags, in display order, into names[]; returns
 * how many.  Text, CSV, HTML and JSON all list them from here. */
static size_t
flag_names(const struct report_row *r, const char *names[REPORT_NFLAGS])
{
	size_t n = 0;

	if (r->minor)
		names[n++] = "MINOR";
	if (r->danger)
		names[n++] = "DANGER";
	if (r->needs_interpreter)
		names[n++] = "INTERPRETER";
	if (r->needs_human)
		names[n++] = "HUMAN";
	if (r->automated)
		names[n++] = "AUTOMATED";
	return n;
}

void
report_flags(const struct report_row *r, char *out, size_t outlen)
{
	const char *names[REPORT_NFLAGS];
	struct buf b;
	size_t i, n;

	n = flag_names(r, names);
	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&b, ' ');
		buf_addstr(&b, names[i]);
	}
	snprintf(out, outlen, "%s", b.data);
	buf_free(&b);
}

/* "Mon 11-30 09:30" in the office zone, or "-". */
static void
fmt_short(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, "%a %m-%d %H:%M", &tm);
}

/* "2026-11-30 09:30" in the office zone (spreadsheets read it), or "". */
static void
fmt_sheet(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	strftime(out, outlen, "%Y-%m-%d %H:%M", &tm);
}

/* Local midnight that ends t's office-local date. */
static time_t
end_of_local_day(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return t;
	tm.tm_mday += 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* ---- the query ------------------------------------------------------- */

/* "a; b; c" from the JSON array, cut on a word boundary. */
static char *
rationale_words(const char *json)
{
	json_t *a;
	json_error_t jerr;
	struct buf b;
	size_t i, cut;
	char *out;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	a = json ? json_loads(json, 0, &jerr) : NULL;
	if (json_is_array(a)) {
		for (i = 0; i < json_array_size(a) && b.len < 4 *
		    REPORT_RATIONALE_MAX; i++) {
			const char *s = json_string_value(json_array_get(a, i));

			if (s == NULL)
				continue;
			if (b.len)
				buf_addstr(&b, "; ");
			buf_addstr(&b, s);
		}
	} else if (json)
		buf_addstr(&b, json);
	json_decref(a);
	if (b.len <= REPORT_RATIONALE_MAX)
		return buf_steal(&b);
	/* Cut at the last space that leaves room for the ellipsis. */
	out = utf8_truncate(b.data, REPORT_RATIONALE_MAX - strlen(ELLIPSIS));
	cut = strlen(out);
	while (cut > REPORT_RATIONALE_MAX / 2 && out[cut - 1] != ' ')
		cut--;
	if (cut > REPORT_RATIONALE_MAX / 2)
		out[cut - 1] = '\0';
	buf_free(&b);
	buf_init(&b, 0);
	buf_addstr(&b, out);
	buf_addstr(&b, ELLIPSIS);
	free(out);
	return buf_steal(&b);
}

static char *
col_text(struct stmt *s, int i)
{
	size_t len;
	const char *t = store_col_text(s, i, &len);

	if (t == NULL)
		return NULL;
	/* The database holds UTF-8, but a hand-edited row must not break
	 * the JSON and HTML writers. */
	return utf8_sanitize(t, len);
}

static enum report_group
row_group(const struct report_row *r, time_t now, time_t end_today,
    time_t end_next)
{
	time_t due = r->response_due ? r->response_due : r->breach_at;

	if (r->answered)
		return RG_ACKNOWLEDGED;
	if (due == 0)
		return RG_NO_DEADLINE;
	if (r->breach_at && r->breach_at <= now)
		return RG_BREACHED;
	if (due < end_today)
		return RG_DUE_TODAY;
	if (due < end_next)
		return RG_DUE_NEXT;
	return RG_LATER;
}

/*
 * The query, built from the filter: the same words for both engines, with
 * its parameters numbered in order (?N for SQLite, $N for PostgreSQL) and
 * their values kept to bind.  Every value is bound, never written in; the
 * store prepares each distinct text once.
 */
#define REPORT_MAXPARAMS	8

struct qbuild {
	struct buf	 sql, pg;
	int		 n;
	struct {
		const char	*text;	/* NULL: the integer */
		long long	 i;
	} v[REPORT_MAXPARAMS];
};

static void
q_add(struct qbuild *q, const char *sqlite, const char *pg)
{
	buf_addstr(&q->sql, sqlite);
	buf_addstr(&q->pg, pg ? pg : sqlite);
}

static void
q_param(struct qbuild *q, const char *text, long long i)
{
	if (q->n == REPORT_MAXPARAMS)
		abort();	/* the filters below use at most 7 */
	q->v[q->n].text = text;
	q->v[q->n].i = i;
	q->n++;
	buf_addf(&q->sql, "?%d", q->n);
	buf_addf(&q->pg, "$%d", q->n);
}

/* Not acknowledged, or a contact message came after the acknowledgement
 * and nobody answered it yet. */
#define UNANSWERED	" AND (acknowledged_at IS NULL OR awaiting_since IS " \
			    "NOT NULL)"

/* The WHERE clause of a scope. */
static void
scope_add(struct qbuild *q, enum report_scope scope, time_t now,
    time_t until)
{
	switch (scope) {
	case REPORT_OVERDUE:
		q_add(q, UNANSWERED " AND (response_due <= ", NULL);
		q_param(q, NULL, (long long)now);
		q_add(q, " OR breach_at <= ", NULL);
		q_param(q, NULL, (long long)now);
		q_add(q, ")", NULL);
		break;
	case REPORT_DUE_BEFORE:
		q_add(q, UNANSWERED " AND (response_due < ", NULL);
		q_param(q, NULL, (long long)until);
		q_add(q, " OR breach_at < ", NULL);
		q_param(q, NULL, (long long)until);
		q_add(q, ")", NULL);
		break;
	case REPORT_ALL_OPEN:
		break;
	case REPORT_DEFAULT:
	default:
		q_add(q, UNANSWERED " AND (response_due < ", NULL);
		q_param(q, NULL, (long long)until);
		q_add(q, " OR breach_at < ", NULL);
		q_param(q, NULL, (long long)until);
		q_add(q, " OR (response_due IS NULL AND breach_at IS NULL))",
		    NULL);
		break;
	}
}

static int
cmp_rows(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	/* Within a group the query's order stands: the id tie-break keeps
	 * it, since ids and the query order agree for equal keys. */
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->breached != y->breached)
		return x->breached ? -1 : 1;
	if ((x->breach_at == 0) != (y->breach_at == 0))
		return x->breach_at == 0 ? 1 : -1;
	if (x->breach_at != y->breach_at)
		return x->breach_at < y->breach_at ? -1 : 1;
	if ((x->response_due == 0) != (y->response_due == 0))
		return x->response_due == 0 ? 1 : -1;
	if (x->response_due != y->response_due)
		return x->response_due < y->response_due ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
read_row(struct stmt *s, struct report_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = store_col_int64(s, 0);
	r->type = col_text(s, 1);
	r->urgency = col_text(s, 2);
	r->minor = (int)store_col_int64(s, 3);
	r->danger = (int)store_col_int64(s, 4);
	r->needs_interpreter = (int)store_col_int64(s, 5);
	r->needs_human = (int)store_col_int64(s, 6);
	r->automated = (int)store_col_int64(s, 7);
	r->received_at = (time_t)store_col_int64(s, 8);
	r->response_due = (time_t)store_col_int64(s, 9);
	r->breach_at = (time_t)store_col_int64(s, 10);
	r->acknowledged_at = (time_t)store_col_int64(s, 11);
	r->assignee = col_text(s, 12);
	r->sender = col_text(s, 13);
	r->subject = col_text(s, 14);
	r->rationale = rationale_words(store_col_text(s, 15, NULL));
	r->answered = r->acknowledged_at && store_col_null(s, 16);
	if (r->acknowledged_at && !r->answered)
		r->wrote_again = (time_t)store_col_int64(s, 16);
}

/* Build the query of f into q. */
static void
build_query(struct qbuild *q, const struct report_filter *f, time_t until)
{
	q_add(q, "SELECT id, type, urgency, minor, danger, "
	    "needs_interpreter, needs_human, automated, received_at, "
	    "response_due, breach_at, acknowledged_at, assignee, sender, "
	    "subject, rationale, awaiting_since FROM tickets "
	    "WHERE status = 'open'", NULL);
	if (!f->include_automated)
		q_add(q, " AND automated = 0", NULL);
	if (f->type) {
		q_add(q, " AND type = ", NULL);
		q_param(q, f->type, 0);
	}
	if (f->urgent_only)
		q_add(q, " AND urgency = 'urgent'", NULL);
	if (f->assignee) {
		q_add(q, " AND assignee = ", NULL);
		q_param(q, f->assignee, 0);
	}
	scope_add(q, f->scope, f->now, until);
	/* SQLite sorts NULL first, PostgreSQL last: say it, so that a
	 * LIMIT keeps the same rows on both */
	q_add(q, " ORDER BY breach_at IS NULL, breach_at, response_due, id",
	    " ORDER BY breach_at IS NULL, breach_at, response_due NULLS FIRST,"
	    " id");
	if (f->limit) {
		q_add(q, " LIMIT ", NULL);
		q_param(q, NULL, (long long)f->limit);
	}
}

/* Prepare and bind q. */
static struct stmt *
prepare_query(struct store *st, const struct qbuild *q, int *rc)
{
	struct query query = { q->sql.data, q->pg.data };
	struct stmt *s;
	int i;

	if ((s = store_prepare(st, &query, rc)) == NULL)
		return NULL;
	for (i = 0; i < q->n; i++) {
		*rc = q->v[i].text ? store_bind_text(s, i + 1, q->v[i].text,
		    (size_t)-1) : store_bind_int64(s, i + 1, q->v[i].i);
		if (*rc != STORE_OK) {
			store_done(s);
			return NULL;
		}
	}
	return s;
}

int
report_query(struct store *st, const struct calendar *cal,
    const struct report_filter *f, struct report_rows *out)
{
	struct stmt *s;
	struct qbuild q;
	time_t until, end_today, end_next;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->now = f->now;
	end_today = end_of_local_day(f->now);
	end_next = cal ? calendar_end_of_next_business_day(cal, f->now) :
	    (time_t)-1;
	if (end_next == (time_t)-1)
		end_next = end_today + 86400;
	until = f->scope == REPORT_DUE_BEFORE ? f->due_before : end_next;

	memset(&q, 0, sizeof(q));
	buf_init(&q.sql, 0);
	buf_init(&q.pg, 0);
	build_query(&q, f, until);
	s = prepare_query(st, &q, &rc);
	buf_free(&q.sql);
	buf_free(&q.pg);
	if (s == NULL)
		return rc;

	while ((rc = store_step(s)) == STORE_ROW) {
		struct report_row *r;

		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->v = xreallocarray(out->v, cap, sizeof(*out->v));
		}
		r = &out->v[out->n++];
		read_row(s, r);
		r->breached = r->breach_at && r->breach_at <= f->now &&
		    !r->answered;
		r->overdue = r->response_due && r->response_due <= f->now &&
		    !r->answered;
		r->group = row_group(r, f->now, end_today, end_next);
	}
	store_done(s);
	if (rc != STORE_DONE) {
		report_rows_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_rows);
	return STORE_OK;
}

void
report_row_free(struct report_row *r)
{
	free(r->type);
	free(r->urgency);
	free(r->assignee);
	free(r->sender);
	free(r->subject);
	free(r->rationale);
}

void
report_rows_free(struct report_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++)
		report_row_free(&rows->v[i]);
	free(rows->v);
	memset(rows, 0, sizeof(*rows));
}

/* ---- text ------------------------------------------------------------ */

/* Append one line: the safe form of text clipped to width, then "\n";
 * colour codes (zero width) wrap it when given. */
static int
text_line(struct buf *b, const char *text, size_t width, const char *color)
{
	char *safe = fmt_terminal_safe(text, 0);
	int rc = 0;

	if (color)
		rc |= buf_addstr(b, color);
	rc |= fmt_add_clipped(b, safe, width);
	if (color)
		rc |= buf_addstr(b, ANSI_RESET);
	rc |= buf_addc(b, '\n');
	free(safe);
	return rc ? -1 : 0;
}

/* "#12", or "[intake #12]" with opts->intake_tags. */
static void
row_id(const struct report_row *r, const struct report_opts *o, char *out,
    size_t len)
{
	if (o->intake_tags)
		snprintf(out, len, "[intake #%lld]", r->id);
	else
		snprintf(out, len, "#%lld", r->id);
}

static int
text_row(struct buf *b, const struct report_row *r, time_t now,
    const struct report_opts *o)
{
	char due[32], breach[32], recv[32], left[64], flags[96], id[40];
	char *line;
	size_t width = o->width > 20 ? (size_t)o->width : DEFAULT_WIDTH;
	int rc = 0;
	const char *color = NULL;

	fmt_short(r->response_due, due, sizeof(due));
	fmt_short(r->breach_at, breach, sizeof(breach));
	fmt_short(r->received_at, recv, sizeof(recv));
	report_time_left(r, now, left, sizeof(left));
	report_flags(r, flags, sizeof(flags));
	if (o->color && (r->breached || r->overdue))
		color = ANSI_RED;

	row_id(r, o, id, sizeof(id));
	line = xasprintf("  %-8s %-8s %-7s due %-15s  breach %-15s  %s",
	    id, r->type ? r->type : "?", r->urgency ? r->urgency : "?",
	    due, breach, left);
	rc |= text_line(b, line, width, color);
	free(line);
	line = xasprintf(INDENT "%s%sreceived %s%s%s", flags, *flags ? "  " : "",
	    recv, r->assignee ? "  assignee " : "",
	    r->assignee ? r->assignee : "");
	rc |= text_line(b, line, width, NULL);
	free(line);
	if (r->wrote_again) {
		fmt_short(r->wrote_again, recv, sizeof(recv));
		line = xasprintf(INDENT "contact wrote again %s", recv);
		rc |= text_line(b, line, width, color);
		free(line);
	}
	line = xasprintf(INDENT "%s -- %s", r->sender ? r->sender : "(no sender)",
	    r->subject ? r->subject : "(no subject)");
	rc |= text_line(b, line, width, NULL);
	free(line);
	if (r->rationale && *r->rationale) {
		line = xasprintf(INDENT "why: %s", r->rationale);
		rc |= text_line(b, line, width, o->color ? ANSI_DIM : NULL);
		free(line);
	}
	return rc ? -1 : 0;
}

static size_t
group_count(const struct report_rows *rows, enum report_group g)
{
	size_t i, n = 0;

	for (i = 0; i < rows->n; i++)
		n += rows->v[i].group == g;
	return n;
}

/* The list's "now" as its heading shows it ("Mon 2026-03-02 09:00 EST"). */
static void
heading_time(time_t now, char *out, size_t outlen)
{
	struct tm tm;

	if (localtime_r(&now, &tm) != NULL)
		strftime(out, outlen, "%a %Y-%m-%d %H:%M %Z", &tm);
	else
		snprintf(out, outlen, "?");
}

int
report_render_text(const struct report_rows *rows, struct buf *b,
    const struct report_opts *o)
{
	char at[40];
	char *line;
	size_t i, n, width = o->width > 20 ? (size_t)o->width : DEFAULT_WIDTH;
	int g, rc = 0;

	heading_time(rows->now, at, sizeof(at));
	line = xasprintf("%s at %s: %zu ticket%s", o->title ? o->title :
	    "Follow-ups", at, rows->n, rows->n == 1 ? "" : "s");
	rc |= text_line(b, line, width, o->color ? ANSI_BOLD : NULL);
	free(line);
	for (g = 0; g < RG__COUNT; g++) {
		const char *color = NULL;

		if ((n = group_count(rows, (enum report_group)g)) == 0)
			continue;
		if (o->color)
			color = g == RG_BREACHED ? ANSI_RED : g == RG_DUE_TODAY ?
			    ANSI_YELLOW : ANSI_BOLD;
		rc |= buf_addc(b, '\n');
		line = xasprintf("%s (%zu)", report_group_title((enum report_group)g), n);
		rc |= text_line(b, line, width, color);
		free(line);
		for (i = 0; i < rows->n; i++)
			if (rows->v[i].group == (enum report_group)g)
				rc |= text_row(b, &rows->v[i], rows->now, o);
	}
	if (rows->n == 0)
		rc |= text_line(b, "Nothing to follow up.", width, NULL);
	return rc ? -1 : 0;
}

/* ---- CSV ------------------------------------------------------------- */

int
report_render_csv(const struct report_rows *rows, struct buf *b,
    const struct report_opts *o)
{
	char id[32], recv[32], due[32], breach[32], left[64], flags[96];
	size_t i;
	int rc = 0;

	(void)o;
	rc |= buf_addstr(b, "id,group,type,urgency,flags,received,response_due,"
	    "breach_at,time_left,assignee,sender,subject,rationale\r\n");
	for (i = 0; i < rows->n; i++) {
		const struct report_row *r = &rows->v[i];

		snprintf(id, sizeof(id), "%lld", r->id);
		fmt_sheet(r->received_at, recv, sizeof(recv));
		fmt_sheet(r->response_due, due, sizeof(due));
		fmt_sheet(r->breach_at, breach, sizeof(breach));
		report_time_left(r, rows->now, left, sizeof(left));
		report_flags(r, flags, sizeof(flags));
		rc |= fmt_csv_field(b, id, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, report_group_name(r->group), 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, r->type, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, r->urgency, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, flags, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, recv, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, due, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, breach, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, left, 0);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, r->assignee, 1);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, r->sender, 1);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, r->subject, 1);
		rc |= buf_addc(b, ',');
		rc |= fmt_csv_field(b, r->rationale, 1);
		rc |= buf_addstr(b, "\r\n");
	}
	return rc ? -1 : 0;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *
row_json(const struct report_row *r, time_t now)
{
	json_t *o = json_object(), *flags = json_array();
	const char *names[REPORT_NFLAGS];
	char left[64];
	time_t due = r->response_due ? r->response_due : r->breach_at;
	size_t i, n;

	report_time_left(r, now, left, sizeof(left));
	n = flag_names(r, names);
	for (i = 0; i < n; i++)
		json_array_append_new(flags, json_string(names[i]));
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "group", json_string(report_group_name(r->group)));
	json_object_set_new(o, "type", fmt_json_str(r->type));
	json_object_set_new(o, "urgency", fmt_json_str(r->urgency));
	json_object_set_new(o, "minor", json_boolean(r->minor));
	json_object_set_new(o, "danger", json_boolean(r->danger));
	json_object_set_new(o, "needs_interpreter",
	    json_boolean(r->needs_interpreter));
	json_object_set_new(o, "needs_human", json_boolean(r->needs_human));
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "received", fmt_json_time(r->received_at));
	json_object_set_new(o, "response_due",
	    fmt_json_time(r->response_due));
	json_object_set_new(o, "breach_at", fmt_json_time(r->breach_at));
	json_object_set_new(o, "acknowledged_at",
	    fmt_json_time(r->acknowledged_at));
	json_object_set_new(o, "breached", json_boolean(r->breached));
	json_object_set_new(o, "overdue", json_boolean(r->overdue));
	json_object_set_new(o, "wrote_again", fmt_json_time(r->wrote_again));
	json_object_set_new(o, "seconds_left", due && !r->answered ?
	    json_integer((json_int_t)(due - now)) : json_null());
	json_object_set_new(o, "time_left", json_string(left));
	json_object_set_new(o, "assignee", fmt_json_str(r->assignee));
	json_object_set_new(o, "sender", fmt_json_str(r->sender));
	json_object_set_new(o, "subject", fmt_json_str(r->subject));
	json_object_set_new(o, "rationale", fmt_json_str(r->rationale));
	return o;
}

int
report_render_json(const struct report_rows *rows, struct buf *b,
    const struct report_opts *o)
{
	json_t *a = json_array();
	char *text;
	size_t i;
	int rc;

	(void)o;
	for (i = 0; i < rows->n; i++)
		json_array_append_new(a, row_json(&rows->v[i], rows->now));
	text = fmt_json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(a);
	if (text == NULL)
		return -1;
	rc = buf_addstr(b, text);
	free(text);
	if (rc == 0)
		rc = buf_addc(b, '\n');
	return rc;
}

/* ---- HTML ------------------------------------------------------------ */

/* Styles are attributes, not a <style> block: several mail clients drop
 * the document head. */
#define CSS_BODY	"font-family:Arial,Helvetica,sans-serif;font-size:14px;" \
			"color:#222;background:#fff;margin:16px"
/* Inside 1280 px and the window: the table takes the width it is given,
 * and a long word or URL (a subject, a sender) breaks anywhere instead of
 * widening its column. */
#define CSS_TABLE	"border-collapse:collapse;width:100%;max-width:1280px;" \
			"margin-bottom:18px"
#define CSS_TH		"text-align:left;border-bottom:2px solid #888;" \
			"padding:4px 6px;font-size:12px;color:#444"
#define CSS_TD		"border-bottom:1px solid #ddd;padding:4px 6px;" \
			"vertical-align:top;overflow-wrap:anywhere;" \
			"word-break:break-word"
#define CSS_H2_BREACHED	"color:#b00020;font-size:17px;margin:18px 0 6px"
#define CSS_H2_TODAY	"color:#a15c00;font-size:17px;margin:18px 0 6px"
#define CSS_H2		"color:#222;font-size:17px;margin:18px 0 6px"
#define CSS_LATE	"color:#b00020;font-weight:bold;white-space:nowrap"
/* An urgent ticket's row: tinted, with a red bar before it. */
#define CSS_URGENT_TR	"background:#fdecea"
#define CSS_URGENT_TD	"border-left:4px solid #b00020"
/*
 * A phone's width (under 760 px): each ticket becomes a block of labelled
 * lines.  A <style> block, since a media query cannot be inline, with
 * !important to win over the inline styles; a mail client that drops it
 * shows the table, which still wraps its long words.
 */
#define CSS_NARROW	"<style>@media (max-width:760px){" \
	"table.fu,table.fu tbody,table.fu tr,table.fu td{display:block" \
	" !important;width:auto !important}" \
	"table.fu thead{display:none !important}" \
	"table.fu tr{border-bottom:2px solid #bbb !important;" \
	"padding:4px 0 !important}" \
	"table.fu td{border:0 !important;padding:1px 6px !important}" \
	"table.fu td[data-l]::before{content:attr(data-l) \": \";" \
	"color:#666;font-weight:normal}}</style>"
#define CSS_FLAG	"color:#fff;background:#b00020;padding:0 3px;" \
			"font-size:11px;border-radius:2px;white-space:nowrap"
#define CSS_WHY		"color:#555;font-size:12px"

/* label: the column's heading, shown before the value on a narrow screen. */
static int
html_cell_l(struct buf *b, const char *text, const char *style,
    const char *label)
{
	return fmt_html_cell(b, text, CSS_TD, style, label);
}

static int
html_cell(struct buf *b, const char *text, const char *style)
{
	return fmt_html_cell(b, text, CSS_TD, style, NULL);
}

static int
html_row(struct buf *b, const struct report_row *r, time_t now,
    const struct report_opts *o)
{
	char id[40], recv[32], due[32], breach[32], left[64], flags[96];
	int rc = 0, urgent;
	char *p, *tok;

	row_id(r, o, id, sizeof(id));
	fmt_short(r->received_at, recv, sizeof(recv));
	fmt_short(r->response_due, due, sizeof(due));
	fmt_short(r->breach_at, breach, sizeof(breach));
	report_time_left(r, now, left, sizeof(left));
	report_flags(r, flags, sizeof(flags));
	urgent = r->urgency && strcmp(r->urgency, "urgent") == 0;
	rc |= buf_addf(b, "<tr%s>", urgent ? " style=\"" CSS_URGENT_TR "\"" : "");
	rc |= html_cell(b, id, urgent ? "white-space:nowrap;font-weight:bold;"
	    CSS_URGENT_TD : "white-space:nowrap;font-weight:bold");
	rc |= html_cell_l(b, r->type, "white-space:nowrap", "Type");
	rc |= html_cell_l(b, r->urgency, urgent ? "color:#b00020;"
	    "font-weight:bold" : NULL, "Urgency");
	rc |= buf_addf(b, "<td style=\"%s\">", CSS_TD);
	/* One badge per flag; the flag words are ours, not the sender's. */
	for (p = flags; *p; p = tok) {
		tok = strchr(p, ' ');
		if (tok)
			*tok++ = '\0';
		else
			tok = p + strlen(p);
		rc |= buf_addf(b, "<span style=\"%s\">", CSS_FLAG);
		rc |= fmt_html_escape(b, p);
		rc |= buf_addstr(b, "</span> ");
	}
	rc |= buf_addstr(b, "</td>");
	if (r->wrote_again) {
		char again[96], at[32];

		fmt_short(r->wrote_again, at, sizeof(at));
		snprintf(again, sizeof(again), "%s; contact wrote again %s",
		    recv, at);
		rc |= html_cell_l(b, again, CSS_LATE, "Received");
	} else
		rc |= html_cell_l(b, recv, "white-space:nowrap", "Received");
	rc |= html_cell_l(b, due, "white-space:nowrap", "Response due");
	rc |= html_cell_l(b, breach, "white-space:nowrap", "Breach at");
	rc |= html_cell_l(b, left, r->overdue || r->breached ? CSS_LATE :
	    "white-space:nowrap", "Time left");
	rc |= html_cell_l(b, r->assignee, NULL, "Assignee");
	/* a long address breaks, but not into a column of letters */
	rc |= html_cell_l(b, r->sender, "min-width:11em", "Sender");
	rc |= buf_addf(b, "<td style=\"%s\">", CSS_TD);
	rc |= fmt_html_escape(b, r->subject ? r->subject : "(no subject)");
	if (r->rationale && *r->rationale) {
		rc |= buf_addf(b, "<br><span style=\"%s\">", CSS_WHY);
		rc |= fmt_html_escape(b, r->rationale);
		rc |= buf_addstr(b, "</span>");
	}
	rc |= buf_addstr(b, "</td></tr>\n");
	return rc;
}

int
report_render_html(const struct report_rows *rows, struct buf *b,
    const struct report_opts *o)
{
	static const char *const heads[] = { "Ticket", "Type", "Urgency",
	    "Flags", "Received", "Response due", "Breach at", "Time left",
	    "Assignee", "Sender", "Subject / why" };
	const char *title = o->title ? o->title : "Follow-ups";
	char at[40];
	size_t i, n, k;
	int g, rc = 0;

	heading_time(rows->now, at, sizeof(at));
	rc |= buf_addstr(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    CSS_NARROW "<title>");
	rc |= fmt_html_escape(b, title);
	rc |= buf_addf(b, "</title></head>\n<body style=\"%s\">\n"
	    "<h1 style=\"font-size:20px;margin:0 0 4px\">", CSS_BODY);
	rc |= fmt_html_escape(b, title);
	rc |= buf_addstr(b, "</h1>\n<p style=\"color:#555;margin:0 0 12px\">");
	rc |= fmt_html_escape(b, at);
	rc |= buf_addf(b, ": %zu ticket%s</p>\n", rows->n, rows->n == 1 ? "" : "s");
	for (g = 0; g < RG__COUNT; g++) {
		if ((n = group_count(rows, (enum report_group)g)) == 0)
			continue;
		rc |= buf_addf(b, "<h2 style=\"%s\">%s (%zu)</h2>\n",
		    g == RG_BREACHED ? CSS_H2_BREACHED : g == RG_DUE_TODAY ?
		    CSS_H2_TODAY : CSS_H2,
		    report_group_title((enum report_group)g), n);
		rc |= buf_addf(b, "<table class=\"fu\" style=\"%s\"><thead><tr>",
		    CSS_TABLE);
		for (k = 0; k < NELEM(heads); k++)
			rc |= buf_addf(b, "<th style=\"%s\">%s</th>", CSS_TH,
			    heads[k]);
		rc |= buf_addstr(b, "</tr></thead><tbody>\n");
		for (i = 0; i < rows->n; i++)
			if (rows->v[i].group == (enum report_group)g)
				rc |= html_row(b, &rows->v[i], rows->now, o);
		rc |= buf_addstr(b, "</tbody></table>\n");
	}
	if (rows->n == 0)
		rc |= buf_addstr(b, "<p>Nothing to follow up.</p>\n");
	rc |= buf_addstr(b, "</body></html>\n");
	return rc ? -1 : 0;
}
