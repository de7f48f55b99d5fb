/* SPDX-License-Identifier: MIT */
/*
 * cmd_followups.c: `intake followups`, the morning list of open tickets by
 * deadline.  The query and the formats are report.c's (shared with
 * `intake remind`); this file is only the command line.
 */
#include <getopt.h>
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

static void
followups_usage(FILE *f)
{
	fprintf(f, "usage: intake followups [--overdue | --due-before ISO8601 | "
	    "--all-open]\n"
	    "         [--type T] [--urgent] [--assignee NAME] "
	    "[--include-automated]\n"
	    "         [--format text|csv|json|html] [-c FILE]\n"
	    "Open tickets by deadline.  Default: unacknowledged tickets due "
	    "(response or\nbreach) before the end of the next business day, "
	    "everything overdue, and open\ntickets without a deadline.  Exit 0, "
	    "64 usage, 75 database busy, 78 configuration.\n");
}

static int
parse_format(const char *s, enum fmt *f)
{
	if (strcmp(s, "text") == 0)
		*f = FMT_TEXT;
	else if (strcmp(s, "csv") == 0)
		*f = FMT_CSV;
	else if (strcmp(s, "json") == 0)
		*f = FMT_JSON;
	else if (strcmp(s, "html") == 0)
		*f = FMT_HTML;
	else
		return -1;
	return 0;
}

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
cmd_followups(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "overdue", no_argument, NULL, 'o' },
		{ "due-before", required_argument, NULL, 'd' },
		{ "all-open", no_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "urgent", no_argument, NULL, 'u' },
		{ "assignee", required_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'f' },
		{ "include-automated", no_argument, NULL, 'I' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char me[256];
	struct report_filter f;
	struct report_rows rows;
	struct cli_env env;
	struct buf out;
	enum fmt fmt = FMT_TEXT;
	const char *cfg_path = NULL, *due_before = NULL;
	int ch, rc, scopes = 0;

	report_filter_init(&f, time(NULL));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			f.scope = REPORT_OVERDUE;
			scopes++;
			break;
		case 'd':
			due_before = optarg;	/* parsed in the office zone */
			f.scope = REPORT_DUE_BEFORE;
			scopes++;
			break;
		case 'a':
			f.scope = REPORT_ALL_OPEN;
			scopes++;
			break;
		case 't':
			if ((rc = cli_opt_type("followups", optarg,
			    &f.type)) != 0)
				return rc;
			break;
		case 'u':
			f.urgent_only = 1;
			break;
		case 'A':
			f.assignee = cli_assignee(optarg, me, sizeof(me));
			break;
		case 'f':
			if (parse_format(optarg, &fmt) == -1) {
				fprintf(stderr, "intake followups: --format must "
				    "be text, csv, json or html\n");
				return EX_USAGE;
			}
			break;
		case 'I':
			f.include_automated = 1;
			break;
		case 'c':
			cfg_path = optarg;
			break;
		case 'h':
			followups_usage(stdout);
			return 0;
		default:
			followups_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc || scopes > 1) {
		if (scopes > 1)
			fprintf(stderr, "intake followups: --overdue, --due-before "
			    "and --all-open exclude each other\n");
		followups_usage(stderr);
		return EX_USAGE;
	}
	if (f.type && strcmp(f.type, "automated") == 0)
		f.include_automated = 1;
	if ((rc = cli_env_open(&env, cfg_path, CLI_NEED_STORE_RO |
	    CLI_NEED_CALENDAR)) != 0)
		return rc;
	f.assignee = cli_person(&env.cfg, f.assignee);	/* oncall.people */
	if (due_before && fmt_parse_date(due_before, &f.due_before) == -1) {
		fprintf(stderr, "intake followups: --due-before: '%s' is not an "
		    "ISO 8601 instant or a date (YYYY-MM-DD)\n", due_before);
		cli_env_close(&env);
		return EX_USAGE;
	}
	rc = report_query(env.store, env.cal, &f, &rows);
	if (rc != STORE_OK) {
		fprintf(stderr, "intake followups: %s\n", store_errmsg(env.store));
		cli_env_close(&env);
		return rc == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	buf_init(&out, 0);
	rc = render(&rows, fmt, &out);
	if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = -1;
	if (fflush(stdout) == EOF)
		rc = -1;
	buf_free(&out);
	report_rows_free(&rows);
	cli_env_close(&env);
	if (rc != 0) {
		fprintf(stderr, "intake followups: cannot write the list\n");
		return EX_IOERR;
	}
	return 0;
}
