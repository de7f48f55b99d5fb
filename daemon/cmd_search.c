/* SPDX-License-Identifier: MIT */
/*
 * cmd_search.c: `intake search QUERY [filters] [--format ...]`: tickets
 * whose messages (subject, sender, text, attachment names) or staff notes
 * hold every word of QUERY, best match first, each with a snippet.
 * Read-only.  Formats: doc/interfaces.md, "intake search".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "fmt.h"
#include "search.h"
#include "util.h"

#define SEARCH_WIDTH	100

enum fmt { FMT_TEXT, FMT_CSV, FMT_JSON, FMT_HTML };

static void
local_minutes(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, len, "-");
}

static const char *
or_dash(const char *s)
{
	return s ? s : "-";
}

static void
render_text(const struct search_hits *hs, const char *query, struct buf *b)
{
	char when[32], *line, *safe, *sn;
	size_t i;
	const struct search_hit *h;

	safe = fmt_terminal_safe(query, 0);
	buf_addf(b, "%zu ticket%s match \"", hs->n, hs->n == 1 ? "" : "s");
	fmt_add_clipped(b, safe, 60);
	buf_addstr(b, "\"\n");
	free(safe);
	for (i = 0; i < hs->n; i++) {
		h = &hs->v[i];
		local_minutes(h->received_at, when, sizeof(when));
		line = xasprintf("\n#%-6lld %-6s %s/%s%s%s  %s  %s  %s", h->id,
		    or_dash(h->status), or_dash(h->type), or_dash(h->urgency),
		    h->disposition ? " " : "", h->disposition ? h->disposition :
		    "", when, or_dash(h->sender),
		    h->subject ? h->subject : "(no subject)");
		safe = fmt_terminal_safe(line, 1);
		fmt_add_clipped(b, safe + 1, SEARCH_WIDTH);
		buf_addc(b, '\n');
		free(safe);
		free(line);
		sn = search_snippet_plain(h->snippet);
		line = xasprintf("        %s%s", strcmp(h->where, "note") == 0 ?
		    "note: " : "", sn);
		safe = fmt_terminal_safe(line, 0);
		fmt_add_clipped(b, safe, SEARCH_WIDTH);
		buf_addc(b, '\n');
		free(safe);
		free(line);
		free(sn);
	}
}

static void
render_csv(const struct search_hits *hs, struct buf *b)
{
	static const char hdr[] = "id,status,type,urgency,disposition,received,"
	    "assignee,sender,subject,score,found_in,snippet\r\n";
	char when[32], num[32], *sn;
	size_t i;
	const struct search_hit *h;

	buf_addstr(b, hdr);
	for (i = 0; i < hs->n; i++) {
		h = &hs->v[i];
		local_minutes(h->received_at, when, sizeof(when));
		sn = search_snippet_plain(h->snippet);
		buf_addf(b, "%lld,", h->id);
		fmt_csv_field(b, h->status, 0);
		buf_addc(b, ',');
		fmt_csv_field(b, h->type, 0);
		buf_addc(b, ',');
		fmt_csv_field(b, h->urgency, 0);
		buf_addc(b, ',');
		fmt_csv_field(b, h->disposition, 0);
		buf_addc(b, ',');
		fmt_csv_field(b, when, 0);
		buf_addc(b, ',');
		fmt_csv_field(b, h->assignee, 1);
		buf_addc(b, ',');
		fmt_csv_field(b, h->sender, 1);
		buf_addc(b, ',');
		fmt_csv_field(b, h->subject, 1);
		snprintf(num, sizeof(num), ",%.3f,", -h->score);
		buf_addstr(b, num);
		fmt_csv_field(b, h->where, 0);
		buf_addc(b, ',');
		fmt_csv_field(b, sn, 1);
		buf_addstr(b, "\r\n");
		free(sn);
	}
}

static void
render_json(const struct search_hits *hs, struct buf *b)
{
	json_t *arr = json_array(), *o;
	char *text, *sn;
	size_t i;
	const struct search_hit *h;

	for (i = 0; i < hs->n; i++) {
		h = &hs->v[i];
		sn = search_snippet_plain(h->snippet);
		o = json_object();
		json_object_set_new(o, "id", json_integer(h->id));
		json_object_set_new(o, "status", fmt_json_str(h->status));
		json_object_set_new(o, "type", fmt_json_str(h->type));
		json_object_set_new(o, "urgency", fmt_json_str(h->urgency));
		json_object_set_new(o, "disposition",
		    fmt_json_str(h->disposition));
		json_object_set_new(o, "received",
		    fmt_json_time(h->received_at));
		json_object_set_new(o, "assignee", fmt_json_str(h->assignee));
		json_object_set_new(o, "sender", fmt_json_str(h->sender));
		json_object_set_new(o, "subject", fmt_json_str(h->subject));
		json_object_set_new(o, "score", json_real(-h->score));
		json_object_set_new(o, "found_in", fmt_json_str(h->where));
		json_object_set_new(o, "snippet", fmt_json_str(sn));
		json_array_append_new(arr, o);
		free(sn);
	}
	text = fmt_json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (text) {
		buf_addstr(b, text);
		buf_addc(b, '\n');
	}
	free(text);
}

static void
render_html(const struct search_hits *hs, const char *query, struct buf *b)
{
	static const char *const cols[] = { "Ticket", "Status", "Type",
	    "Received", "Sender", "Subject and match" };
	char when[32], id[32];
	size_t i;
	const struct search_hit *h;

	buf_addstr(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\"><title>Search: ");
	fmt_html_escape(b, query);
	buf_addstr(b, "</title></head>\n<body style=\"font-family:sans-serif;"
	    "font-size:14px;margin:12px;max-width:1280px;color:#222\">\n"
	    "<h1 style=\"font-size:20px;margin:0 0 8px;overflow-wrap:anywhere\">"
	    "Search: ");
	fmt_html_escape(b, query);
	buf_addf(b, "</h1>\n<p style=\"color:#555;margin:0 0 12px\">%zu ticket%s"
	    "</p>\n", hs->n, hs->n == 1 ? "" : "s");
	buf_addstr(b, "<table style=\"border-collapse:collapse;width:100%;"
	    "table-layout:fixed\"><colgroup><col style=\"width:5em\">"
	    "<col style=\"width:5em\"><col style=\"width:8em\">"
	    "<col style=\"width:9em\"><col style=\"width:16%\"><col>"
	    "</colgroup><thead><tr>");
	for (i = 0; i < NELEM(cols); i++)
		buf_addf(b, "<th style=\"%s;background:#f3f3f3\">%s</th>",
		    FMT_CSS_CELL, cols[i]);
	buf_addstr(b, "</tr></thead><tbody>\n");
	for (i = 0; i < hs->n; i++) {
		h = &hs->v[i];
		snprintf(id, sizeof(id), "#%lld", h->id);
		local_minutes(h->received_at, when, sizeof(when));
		buf_addf(b, "<tr%s>", h->urgency && strcmp(h->urgency,
		    "urgent") == 0 ? " style=\"background:#fdecea\"" : "");
		fmt_html_cell(b, id, FMT_CSS_CELL,
		    "white-space:nowrap;font-weight:bold", NULL);
		fmt_html_cell(b, h->status, FMT_CSS_CELL, NULL, NULL);
		fmt_html_cell(b, h->type, FMT_CSS_CELL, NULL, NULL);
		fmt_html_cell(b, when, FMT_CSS_CELL, NULL, NULL);
		fmt_html_cell(b, h->sender, FMT_CSS_CELL, NULL, NULL);
		buf_addf(b, "<td style=\"%s\">", FMT_CSS_CELL);
		fmt_html_escape(b, h->subject ? h->subject : "(no subject)");
		buf_addstr(b, "<br><span style=\"color:#555\">");
		if (strcmp(h->where, "note") == 0)
			buf_addstr(b, "note: ");
		search_snippet_html(b, h->snippet);
		buf_addstr(b, "</span></td></tr>\n");
	}
	buf_addstr(b, "</tbody></table>\n</body></html>\n");
}

int
cmd_search(struct cmd_ctx *ctx)
{
	char me[256];
	const char *since_arg = NULL, *until_arg = NULL;
	const struct cmd_opt *o;
	struct search_filter f;
	struct search_hits hs;
	unsigned long long limit = 50;
	enum fmt fmt = (enum fmt)ctx->format;
	struct buf out;
	char *match;
	size_t i;
	int rc;

	memset(&f, 0, sizeof(f));
	f.since = (time_t)-((long long)1 << 40);
	f.until = (time_t)((long long)1 << 40);
	for (i = 0; i < ctx->nopts; i++) {
		o = &ctx->opts[i];
		switch (o->id) {
		case 't':
			if ((rc = cli_opt_type("search", o->arg, &f.type)) != 0)
				return rc;
			break;
		case 's':
			if ((rc = cli_opt_status("search", o->arg,
			    &f.status)) != 0)
				return rc;
			break;
		case 'S':
			since_arg = o->arg;
			break;
		case 'U':
			until_arg = o->arg;
			break;
		case 'a':
			f.assignee = cli_assignee(o->arg, me, sizeof(me));
			break;
		case 'r':
			f.sender = o->arg;
			break;
		case 'l':
			if (parse_uint(o->arg, 1, 10000, &limit) == -1) {
				fprintf(stderr, "intake search: --limit is 1 to "
				    "10000\n");
				return EX_USAGE;
			}
			break;
		}
	}
	if (ctx->argc != 1)
		return cmd_usage_error(ctx);
	if ((match = search_match_expr(ctx->argv[0])) == NULL) {
		fprintf(stderr, "intake search: the query has no word to "
		    "search for\n");
		return EX_USAGE;
	}
	f.limit = (long long)limit;
	if ((rc = cmd_open(ctx)) != 0) {
		free(match);
		return rc;
	}
	f.assignee = cli_person(&ctx->env.cfg, f.assignee);	/* oncall.people */
	/* After cmd_open: a bare date is midnight in the office zone. */
	if ((since_arg && fmt_parse_date(since_arg, &f.since) == -1) ||
	    (until_arg && fmt_parse_date(until_arg, &f.until) == -1)) {
		fprintf(stderr, "intake search: --since/--until: not a date "
		    "(YYYY-MM-DD) or ISO 8601 instant\n");
		rc = EX_USAGE;
		goto out;
	}
	rc = search_run(ctx->env.store, match, &f, &hs);
	if (rc != STORE_OK) {
		rc = cmd_store_fail(ctx, rc);
		goto out;
	}
	buf_init(&out, 0);
	switch (fmt) {
	case FMT_TEXT:
		render_text(&hs, ctx->argv[0], &out);
		break;
	case FMT_CSV:
		render_csv(&hs, &out);
		break;
	case FMT_JSON:
		render_json(&hs, &out);
		break;
	case FMT_HTML:
		render_html(&hs, ctx->argv[0], &out);
		break;
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	search_hits_free(&hs);
	rc = 0;
out:
	free(match);
	return rc;
}
