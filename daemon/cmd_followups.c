/* SPDX-License-Identifier: MIT */
/*
 * cmd_followups.c: `intake followups`, the morning list of open tickets by
 * deadline.  The query and the formats are report.c's (shared with
 * `intake remind`); this file is only the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calltype.h"
#include "cli.h"
#include "fmt.h"
#include "report.h"
#include "util.h"

enum fmt { FMT_TEXT, FMT_CSV, FMT_JSON, FMT_HTML };

static int
render(const struct report_rows *rows, enum fmt fmt, struct buf *out)
{
	struct report_opts o;
	const char *nc = getenv("NO_COLOR");

	report_opts_init(&o);
	/* https://no-color.org: any non-empty NO_COLOR disables colour. */
	o.color = fmt == FMT_TEXT && isatty(STDOUT_FILENO) &&
	    (nc == NULL || *nc == '\0');
	switch (fmt) {
	case FMT_CSV:
		return report_render_csv(rows, out, &o);
	case FMT_JSON:
		return report_render_json(rows, out, &o);
	case FMT_HTML:
		return report_render_html(rows, out, &o);
	case FMT_TEXT:
	default:
		return report_render_text(rows, out, &o);
	}
}

int
cmd_followups(struct cmd_ctx *ctx)
{
	char me[256];
	struct report_filter f;
	struct report_rows rows;
	struct buf out;
	enum fmt fmt = (enum fmt)ctx->format;
	const char *due_before = NULL;
	const struct cmd_opt *o;
	size_t i;
	int rc, scopes = 0;

	report_filter_init(&f, time(NULL));
	for (i = 0; i < ctx->nopts; i++) {
		o = &ctx->opts[i];
		switch (o->id) {
		case 'o':
			f.scope = REPORT_OVERDUE;
			scopes++;
			break;
		case 'd':
			due_before = o->arg;	/* parsed in the office zone */
			f.scope = REPORT_DUE_BEFORE;
			scopes++;
			break;
		case 'a':
			f.scope = REPORT_ALL_OPEN;
			scopes++;
			break;
		case 't':
			if ((rc = cli_opt_type("followups", o->arg,
			    &f.type)) != 0)
				return rc;
			break;
		case 'u':
			f.urgent_only = 1;
			break;
		case 'A':
			f.assignee = cli_assignee(o->arg, me, sizeof(me));
			break;
		case 'I':
			f.include_automated = 1;
			break;
		}
	}
	if (ctx->argc != 0 || scopes > 1) {
		if (scopes > 1)
			fprintf(stderr, "intake followups: --overdue, --due-before "
			    "and --all-open exclude each other\n");
		return cmd_usage_error(ctx);
	}
	if (f.type && strcmp(f.type, "automated") == 0)
		f.include_automated = 1;
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	f.assignee = cli_person(&ctx->env.cfg, f.assignee);	/* oncall.people */
	if (due_before && fmt_parse_date(due_before, &f.due_before) == -1) {
		fprintf(stderr, "intake followups: --due-before: '%s' is not an "
		    "ISO 8601 instant or a date (YYYY-MM-DD)\n", due_before);
		return EX_USAGE;
	}
	rc = report_query(ctx->env.store, ctx->env.cal, &f, &rows);
	if (rc != STORE_OK)
		return cmd_store_fail(ctx, rc);
	/* a write failure is the dispatcher's (exit 74) */
	buf_init(&out, 0);
	rc = render(&rows, fmt, &out);
	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	report_rows_free(&rows);
	if (rc != 0) {
		fprintf(stderr, "intake followups: cannot write the list\n");
		return EX_IOERR;
	}
	return 0;
}
