/* SPDX-License-Identifier: MIT */
/*
 * intake: the staff and cron tool.  One table of subcommands (tmux's
 * cmd_entry, smtpctl's table): each entry names its usage (the synopsis of
 * doc/intake.1, word for word), options, --format values and what it
 * needs; the dispatcher below parses the command line, prints the usage,
 * opens the configuration and the database, and checks standard output,
 * so every subcommand does these the same way.  A handler gets the parsed
 * options and returns a sysexits.h exit code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

static int cmd_help(struct cmd_ctx *);

static const char *const fmt_text_json[] = { "text", "json", NULL };

static const struct option remind_opts[] = {
	{ "dry-run", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};
static const char remind_help[] =
    "Sends the reminder report of the current remind.at slot (office\n"
    "zone, business days; the first run at or after each time sends it)\n"
    "to remind.to by SMTP and/or remind.webhook as JSON.\n"
    "  -n, --dry-run     print the report instead of sending it\n"
    "  -c, --config FILE configuration file\n"
    "Exit: 0 sent or nothing to send, 75 the server failed (nothing\n"
    "recorded: the next run sends it), 78 configuration.\n";

#define RO	CLI_NEED_STORE_RO
#define RW	CLI_NEED_STORE
#define CAL	CLI_NEED_CALENDAR

static const struct cmd_entry commands[] = {
	{ "help", "this list, or the usage of COMMAND",
	  "help [command]", NULL, "", NULL, 0, NULL, CMD_NO_CONFIG, 0,
	  cmd_help, NULL },
	{ "ingest", "store one message read on standard input",
	  "ingest [--source name] [--no-sandbox]", NULL, "", NULL, 0, NULL,
	  CMD_NO_OUTCHECK, 0, NULL, cmd_ingest },
	{ "sla", "deadlines of a contact (or --batch on stdin)",
	  "sla --type T [--urgency U] --received instant\nsla --batch", NULL,
	  "", NULL, 0, NULL, 0, 0, NULL, cmd_sla },
	{ "holidays", "closed dates of a range of years",
	  "holidays from_year [to_year]", NULL, "", NULL, 0, NULL, 0, 0, NULL,
	  cmd_holidays },
	{ "classify", "triage message files, one JSON line each",
	  "classify [file...]", NULL, "", NULL, 0, NULL, 0, 0, NULL,
	  cmd_classify },
	{ "triage train", "build the triage model from labeled sets",
	  "triage train [-o FILE] DIR...", NULL, "", NULL, 0, NULL, 0, 0,
	  NULL, cmd_triage },
	{ "remind", "send the reminder report of the current slot",
	  "remind [-n|--dry-run]", remind_help, "n", remind_opts,
	  RW | CAL | CLI_NEED_SECRETS, NULL, 0, 0, cmd_remind, NULL },
	{ "followups", "open tickets by deadline (text, csv, json, html)",
	  "followups [--overdue | --due-before instant | --all-open] "
	  "[--type T] [--urgent] [--assignee name] [--include-automated] "
	  "[--format fmt]", NULL, "", NULL, 0, NULL, 0, 0, NULL,
	  cmd_followups },
	{ "list", "tickets, newest first",
	  "list [--status status] [--type T] [--assignee name|me] "
	  "[--sender addr] [--since date] [--limit n] [--format text|json]",
	  NULL, "", NULL, 0, NULL, 0, 0, NULL, cmd_list },
	{ "show", "one ticket: messages, attachments, events",
	  "show N [--format text|json]",
	  "The ticket, its messages as decoded text, attachments, events.\n"
	  "Exit 0, 64 usage, 65 no such ticket.\n", "", NULL, RO,
	  fmt_text_json, 0, 0, cmd_show, NULL },
	{ "ack", "record the first response to a ticket",
	  "ack N [--by name]", NULL, "", NULL, 0, NULL, 0, 0, NULL, cmd_ack },
	{ "assign", "assign a ticket to a staff member",
	  "assign N name|--clear [--by name]", NULL, "", NULL, 0, NULL, 0, 0,
	  NULL, cmd_assign },
	{ "note", "add a note to a ticket",
	  "note N text... [--by name]", NULL, "", NULL, 0, NULL, 0, 0, NULL,
	  cmd_note },
	{ "reclassify", "correct type, urgency, flags; new deadlines",
	  "reclassify N --type T [--urgency U] [--minor 0|1] [--danger 0|1] "
	  "[--by name]", NULL, "", NULL, 0, NULL, 0, 0, NULL, cmd_reclassify },
	{ "close", "close a ticket with a disposition",
	  "close N --disposition disposition [--by name]", NULL, "", NULL, 0,
	  NULL, 0, 0, NULL, cmd_close },
	{ "reopen", "reopen a closed ticket",
	  "reopen N [--by name]", NULL, "", NULL, 0, NULL, 0, 0, NULL,
	  cmd_reopen },
	{ "status", "sources, outbox; non-zero when unhealthy",
	  "status [--format text|json]",
	  "Exit 0 healthy, 1 a source is stale or the outbox is stuck, 75 "
	  "database\nbusy, 78 configuration.\n", "", NULL, RO, fmt_text_json,
	  0, 0, cmd_status, NULL },
	{ "purge", "delete closed tickets past retention",
	  "purge [--closed-before date] [-n|--dry-run] [--by name]", NULL, "",
	  NULL, 0, NULL, 0, 0, NULL, cmd_purge },
	{ "search", "tickets whose messages or notes hold words",
	  "search QUERY [--type T] [--status open|closed|all] [--since DATE] "
	  "[--until DATE] [--assignee NAME] [--sender ADDR] "
	  "[--format text|csv|json|html] [--limit N]", NULL, "", NULL, 0, NULL,
	  0, 0, NULL, cmd_search },
	{ "changes", "the shift handover: what happened, by ticket",
	  "changes [--since T] [--until T] [--format text|csv|json|html]",
	  NULL, "", NULL, 0, NULL, 0, 0, NULL, cmd_changes },
	{ "attachment", "save a ticket's attachments to files",
	  "attachment N [PART] [-o FILE | --dir DIR]", NULL, "", NULL, 0, NULL,
	  0, 0, NULL, cmd_attachment },
	{ "db copy", "move the SQLite database to PostgreSQL",
	  "db copy --from sqlite-path --to conninfo [--verify]", NULL, "", NULL,
	  0, NULL, CMD_NO_CONFIG, 0, NULL, cmd_db },
	{ "db verify", "compare the SQLite and PostgreSQL databases",
	  "db verify --from sqlite-path --to conninfo", NULL, "", NULL, 0, NULL,
	  CMD_NO_CONFIG, 0, NULL, cmd_db },
	{ "oncall", "who is on call now and the next shifts",
	  "oncall [--at ISO8601] [--next N] [--format text|json]", NULL, "",
	  NULL, 0, NULL, 0, 0, NULL, cmd_oncall },
};

/* The number of words of argv[0..argc) that name entry e (1 or 2), or 0. */
static int
entry_matches(const struct cmd_entry *e, int argc, char **argv)
{
	const char *sp = strchr(e->name, ' ');
	size_t n;

	if (argc < 1)
		return 0;
	if (sp == NULL)
		return strcmp(argv[0], e->name) == 0;
	n = (size_t)(sp - e->name);
	if (strlen(argv[0]) != n || strncmp(argv[0], e->name, n) != 0)
		return 0;
	return argc >= 2 && strcmp(argv[1], sp + 1) == 0 ? 2 : 0;
}

/* The entries whose first word is `word` ("db": db copy, db verify). */
static int
group_matches(const struct cmd_entry *e, const char *word)
{
	size_t n = strcspn(e->name, " ");

	return strlen(word) == n && strncmp(word, e->name, n) == 0;
}

static void
usage_lines(FILE *f, const struct cmd_entry *e)
{
	const char *p = e->usage, *nl;
	int first = 1;

	do {
		nl = strchr(p, '\n');
		fprintf(f, "%s intake %.*s%s\n", first ? "usage:" : "      ",
		    (int)(nl ? (size_t)(nl - p) : strlen(p)), p,
		    (e->flags & CMD_NO_CONFIG) ? "" : " [-c FILE]");
		first = 0;
		p = nl + 1;
	} while (nl != NULL);
}

static void
entry_help(FILE *f, const struct cmd_entry *e)
{
	usage_lines(f, e);
	if (e->help)
		fputs(e->help, f);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: intake [-c FILE] COMMAND [ARGS...]\n"
	    "       intake COMMAND --help\n\ncommands:\n");
	for (i = 0; i < NELEM(commands); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\nThe configuration is -c FILE, else $INTAKE_CONFIG, else %s.\n"
	    "See intake(1).\n", CONFIG_DEFAULT_PATH);
}

/* Usage of every entry of the group `word` on f; 0 when there is none. */
static int
group_usage(FILE *f, const char *word)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NELEM(commands); i++)
		if (group_matches(&commands[i], word)) {
			entry_help(f, &commands[i]);
			n++;
		}
	return n;
}

/* intake help [COMMAND...] */
static int
cmd_help(struct cmd_ctx *ctx)
{
	size_t i;

	if (ctx->argc == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < NELEM(commands); i++)
		if (entry_matches(&commands[i], ctx->argc, ctx->argv) ==
		    ctx->argc) {
			entry_help(stdout, &commands[i]);
			return 0;
		}
	if (ctx->argc == 1 && group_usage(stdout, ctx->argv[0]))
		return 0;
	fprintf(stderr, "intake help: unknown command '%s'; try 'intake "
	    "--help'\n", ctx->argv[0]);
	return EX_USAGE;
}

int
cmd_usage_error(struct cmd_ctx *ctx)
{
	usage_lines(stderr, ctx->cmd);
	return ctx->cmd->usage_rc ? ctx->cmd->usage_rc : EX_USAGE;
}

int
cmd_open(struct cmd_ctx *ctx)
{
	int rc;

	if (ctx->opened)
		return 0;
	if ((rc = cli_env_open(&ctx->env, ctx->config, ctx->cmd->need)) != 0)
		return rc;
	ctx->opened = 1;
	return 0;
}

int
cmd_store_fail(struct cmd_ctx *ctx, int store_rc)
{
	fprintf(stderr, "intake %s: %s\n", ctx->cmd->name,
	    ctx->opened ? store_errmsg(ctx->env.store) : "database error");
	return cli_store_exit(store_rc);
}

const char *
cmd_opt(const struct cmd_ctx *ctx, int id)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < ctx->nopts; i++)
		if (ctx->opts[i].id == id)
			v = ctx->opts[i].arg ? ctx->opts[i].arg : "";
	return v;
}

/* "--format must be text, csv, json or html" */
static int
check_format(struct cmd_ctx *ctx, const char *arg)
{
	const char *const *f = ctx->cmd->formats;
	size_t i, n;

	for (n = 0; f[n] != NULL; n++)
		if (strcmp(arg, f[n]) == 0) {
			ctx->format = (int)n;
			return 0;
		}
	fprintf(stderr, "intake %s: --format must be ", ctx->cmd->name);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
		    f[i]);
	fputc('\n', stderr);
	return EX_USAGE;
}

/*
 * The options of the entry, with -c/--config (unless CMD_NO_CONFIG),
 * -h/--help and --format (when it has formats).  Returns 0, -1 for
 * --help (printed), or an exit code after the usage on stderr.
 */
static int
parse(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *e = ctx->cmd;
	struct option lo[CMD_MAXOPTS + 4];
	char so[64];
	size_t n = 0;
	int ch, rc;

	for (; e->longopts && e->longopts[n].name; n++)
		lo[n] = e->longopts[n];
	if (!(e->flags & CMD_NO_CONFIG))
		lo[n++] = (struct option){ "config", required_argument, NULL,
		    'c' };
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	if (e->formats)
		lo[n++] = (struct option){ "format", required_argument, NULL,
		    CMD_OPT_FORMAT };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	snprintf(so, sizeof(so), "%sh%s", (e->flags & CMD_NO_CONFIG) ? "" :
	    "c:", e->shortopts ? e->shortopts : "");
	optind = 1;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (ch) {
		case 'h':
			entry_help(stdout, e);
			return -1;
		case 'c':
			if (!(e->flags & CMD_NO_CONFIG)) {
				ctx->config = optarg;
				continue;
			}
			break;
		case CMD_OPT_FORMAT:
			if ((rc = check_format(ctx, optarg)) != 0)
				return rc;
			continue;
		case '?':
		case ':':
			return cmd_usage_error(ctx);
		}
		if (ctx->nopts == CMD_MAXOPTS) {
			fprintf(stderr, "intake %s: too many options\n", e->name);
			return cmd_usage_error(ctx);
		}
		ctx->opts[ctx->nopts].id = ch;
		ctx->opts[ctx->nopts++].arg = optarg;
	}
	ctx->argc = argc - optind;
	ctx->argv = argv + optind;
	return 0;
}

/*
 * A list written to a full disk or a closed pipe is a list nobody read:
 * say so and exit 74, never 0 (stdio only reports it at the flush).
 * ingest is the exception (CMD_NO_OUTCHECK): its message is stored, and
 * the MTA reads only the exit code, where 74 would bounce it.
 */
static int
output_checked(const struct cmd_entry *e, int rc)
{
	int bad, e_no;

	errno = 0;
	bad = fflush(stdout) == EOF || ferror(stdout);
	e_no = errno;
	if (fclose(stdout) == EOF && !bad) {
		bad = 1;
		e_no = errno;
	}
	/* a command that failed has said why already */
	if (!bad || rc != 0 || (e->flags & CMD_NO_OUTCHECK))
		return rc;
	fprintf(stderr, "intake %s: writing standard output: %s\n", e->name,
	    e_no ? strerror(e_no) : "write error");
	return EX_IOERR;
}

/* argv[0] is the entry's last word. */
static int
run(const struct cmd_entry *e, const char *config, int argc, char **argv)
{
	struct cmd_ctx *ctx;
	int rc;

	ctx = xcalloc(1, sizeof(*ctx));
	ctx->cmd = e;
	ctx->config = config;
	rc = parse(ctx, argc, argv);
	if (rc == 0)
		rc = e->exec(ctx);
	else if (rc == -1)
		rc = 0;
	if (ctx->opened)
		cli_env_close(&ctx->env);
	free(ctx);
	return output_checked(e, rc);
}

int
main(int argc, char **argv)
{
	const char *config = NULL;
	size_t i;
	int n;

	/* libetpan and libcurl write to sockets with plain send(). */
	signal(SIGPIPE, SIG_IGN);
	log_init("intake", LOG_PRI_WARNING);
	/* "intake -c FILE COMMAND ...": the same as COMMAND -c FILE. */
	if (argc >= 3 && (strcmp(argv[1], "-c") == 0 ||
	    strcmp(argv[1], "--config") == 0)) {
		setenv("INTAKE_CONFIG", argv[2], 1);
		config = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("intake %s\n", INTAKE_VERSION);
		return 0;
	}
	for (i = 0; i < NELEM(commands); i++)
		if ((n = entry_matches(&commands[i], argc - 1, argv + 1)) > 0) {
			if (commands[i].legacy)
				return output_checked(&commands[i],
				    commands[i].legacy(argc - 1, argv + 1));
			return run(&commands[i], config, argc - n, argv + n);
		}
	/* "intake db --help", "intake db", "intake triage bogus" */
	if (argc >= 3 && (strcmp(argv[2], "--help") == 0 ||
	    strcmp(argv[2], "-h") == 0) && group_usage(stdout, argv[1]))
		return 0;
	if (group_usage(stderr, argv[1]) == 0)
		fprintf(stderr, "intake: unknown command '%s'; try 'intake "
		    "--help'\n", argv[1]);
	return EX_USAGE;
}
