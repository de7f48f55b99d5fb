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

/* ctx->format indexes these: the handlers' enum fmt follows the order. */
static const char *const fmt_text_json[] = { "text", "json", NULL };
static const char *const fmt_all[] = { "text", "csv", "json", "html", NULL };

#define END	{ NULL, 0, NULL, 0 }
#define ARG	required_argument
#define NOARG	no_argument

static const struct option ingest_opts[] = {
	{ "source", ARG, NULL, 's' }, { "no-sandbox", NOARG, NULL, 'S' }, END
};
static const struct option sla_opts[] = {
	{ "type", ARG, NULL, 't' }, { "urgency", ARG, NULL, 'u' },
	{ "received", ARG, NULL, 'r' }, { "batch", NOARG, NULL, 'b' }, END
};
static const struct option train_opts[] = {
	{ "output", ARG, NULL, 'o' }, END
};
static const struct option remind_opts[] = {
	{ "dry-run", NOARG, NULL, 'n' }, END
};
static const struct option followups_opts[] = {
	{ "overdue", NOARG, NULL, 'o' }, { "due-before", ARG, NULL, 'd' },
	{ "all-open", NOARG, NULL, 'a' }, { "type", ARG, NULL, 't' },
	{ "urgent", NOARG, NULL, 'u' }, { "assignee", ARG, NULL, 'A' },
	{ "include-automated", NOARG, NULL, 'I' }, END
};
static const struct option list_opts[] = {
	{ "status", ARG, NULL, 's' }, { "type", ARG, NULL, 't' },
	{ "assignee", ARG, NULL, 'a' }, { "sender", ARG, NULL, 'r' },
	{ "since", ARG, NULL, 'S' }, { "limit", ARG, NULL, 'l' }, END
};
static const struct option search_opts[] = {
	{ "type", ARG, NULL, 't' }, { "status", ARG, NULL, 's' },
	{ "since", ARG, NULL, 'S' }, { "until", ARG, NULL, 'U' },
	{ "assignee", ARG, NULL, 'a' }, { "sender", ARG, NULL, 'r' },
	{ "limit", ARG, NULL, 'l' }, END
};
static const struct option changes_opts[] = {
	{ "since", ARG, NULL, 'S' }, { "until", ARG, NULL, 'U' }, END
};
static const struct option by_opts[] = {
	{ "by", ARG, NULL, 'b' }, END
};
static const struct option assign_opts[] = {
	{ "by", ARG, NULL, 'b' }, { "clear", NOARG, NULL, 'C' }, END
};
static const struct option reclassify_opts[] = {
	{ "by", ARG, NULL, 'b' }, { "type", ARG, NULL, 't' },
	{ "urgency", ARG, NULL, 'u' }, { "minor", ARG, NULL, 'm' },
	{ "danger", ARG, NULL, 'd' }, END
};
static const struct option close_opts[] = {
	{ "by", ARG, NULL, 'b' }, { "disposition", ARG, NULL, 'D' }, END
};
static const struct option purge_opts[] = {
	{ "closed-before", ARG, NULL, 'b' }, { "dry-run", NOARG, NULL, 'n' },
	{ "by", ARG, NULL, 'B' }, END
};
static const struct option attachment_opts[] = {
	{ "output", ARG, NULL, 'o' }, { "dir", ARG, NULL, 'd' }, END
};
static const struct option db_opts[] = {
	{ "from", ARG, NULL, 'f' }, { "to", ARG, NULL, 't' },
	{ "verify", NOARG, NULL, 'v' }, END
};
static const struct option oncall_opts[] = {
	{ "at", ARG, NULL, 'a' }, { "next", ARG, NULL, 'n' }, END
};

#define WORKFLOW_EXIT	"Exit 0 done, 64 usage, 65 unknown ticket or wrong " \
	"state, 75 database busy,\n78 configuration.\n"
#define DB_HELP	"copy: applies the PostgreSQL schema and copies every " \
	"table and row of the SQLite\ndatabase into an empty PostgreSQL " \
	"database, in one transaction.  verify (or\ncopy --verify): compares " \
	"the row counts of every table and the SHA-256 of\nevery raw " \
	"message.  CONNINFO: a libpq connection string or postgresql:// URI.\n" \
	"Exit 0; 1 verify found a difference; 64 usage; 65 the target holds " \
	"rows, or a\nvalue PostgreSQL cannot store; 66 no SQLite file; 69 " \
	"PostgreSQL unreachable;\n75 connection lost or database busy " \
	"(nothing written); 77 permission denied;\n78 schema versions differ.\n"

#define RO	CLI_NEED_STORE_RO
#define RW	CLI_NEED_STORE
#define CAL	CLI_NEED_CALENDAR
#define LEX	CLI_NEED_LEXICON
#define OPT	CLI_NEED_CONFIG_OPTIONAL

/* In the order of `intake help`; the usage is intake(1)'s synopsis
 * (tests/it/cli_table.sh checks both ways). */
static const struct cmd_entry commands[] = {
	{ "help", "this list, or the usage of COMMAND",
	  "help [command]", NULL, NULL, NULL, 0, NULL, 0, 0, cmd_help },
	{ "ingest", "store one message read on standard input",
	  "ingest [--source name] [--no-sandbox]",
	  "Reads one RFC 5322 message on standard input, stores it as a ticket\n"
	  "and prints the ticket as JSON.  Exit 0 stored or duplicate, 65 empty\n"
	  "input, 75 anything else (database busy/full/unwritable, a bad\n"
	  "configuration or command line: the MTA retries), never 64 or 78.\n"
	  "The message is parsed in a sandboxed child unless --no-sandbox or\n"
	  "INTAKE_NO_SANDBOX is set (sanitizer and valgrind runs).\n",
	  "s:", ingest_opts, RW | CAL | LEX, NULL, CMD_NO_OUTCHECK,
	  EX_TEMPFAIL, cmd_ingest },
	{ "sla", "deadlines of a contact (or --batch on stdin)",
	  "sla --type T [--urgency U] --received instant\nsla --batch",
	  "  T: crisis, tip, tta, referral, info, related\n"
	  "  U: urgent or routine (may be left out for crisis, info, related)\n"
	  "  instant: YYYY-MM-DDTHH:MM:SS[.fff] with Z or +HH:MM / -HH:MM\n"
	  "  --batch reads lines \"TYPE URGENCY RECEIVED\" on standard input.\n"
	  "Exit 0, 64 usage, 65 a bad instant or batch line, 78 configuration.\n",
	  "t:u:r:b", sla_opts, OPT | CAL, NULL, 0, 0, cmd_sla },
	{ "holidays", "closed dates of a range of years",
	  "holidays from_year [to_year]",
	  "  one closed date per line: YYYY-MM-DD<TAB>Name (years 1000-9999)\n",
	  NULL, NULL, OPT | CAL, NULL, 0, 0, cmd_holidays },
	{ "classify", "triage message files, one JSON line each",
	  "classify [file...]",
	  "  Triages each RFC 5322 message file (standard input when no FILE,\n"
	  "  or \"-\") and prints one JSON object per line:\n"
	  "  {\"file\",\"type\",\"urgency\",\"minor\",\"danger\",\"automated\","
	  "\"lang\",\"needs_interpreter\",\"rationale\"}\n",
	  NULL, NULL, OPT | LEX, NULL, 0, 0, cmd_classify },
	{ "triage train", "build the triage model from labeled sets",
	  "triage train [-o FILE] DIR...",
	  "  Trains the triage model from labeled sets (DIR/labels.tsv:\n"
	  "  file, type, urgency columns; the messages beside it) and writes\n"
	  "  the model file to FILE (standard output without -o).\n"
	  "Exit 0, 64 usage, 65 bad labels, 73 FILE cannot be created.\n",
	  "o:", train_opts, OPT | LEX, NULL, 0, 0, cmd_triage_train },
	{ "remind", "send the reminder report of the current slot",
	  "remind [-n|--dry-run]",
	  "Sends the reminder report of the current remind.at slot (office\n"
	  "zone, business days; the first run at or after each time sends it)\n"
	  "to remind.to by SMTP and/or remind.webhook as JSON.\n"
	  "  -n, --dry-run     print the report instead of sending it\n"
	  "  -c, --config FILE configuration file\n"
	  "Exit: 0 sent or nothing to send, 75 the server failed (nothing\n"
	  "recorded: the next run sends it), 78 configuration.\n",
	  "n", remind_opts, RW | CAL | CLI_NEED_SECRETS, NULL, 0, 0,
	  cmd_remind },
	{ "followups", "open tickets by deadline (text, csv, json, html)",
	  "followups [--overdue | --due-before instant | --all-open] "
	  "[--type T] [--urgent] [--assignee name] [--include-automated] "
	  "[--format fmt]",
	  "Open tickets by deadline.  Default: unacknowledged tickets due "
	  "(response or\nbreach) before the end of the next business day, "
	  "everything overdue, and open\ntickets without a deadline.  fmt: "
	  "text, csv, json or html.\nExit 0, 64 usage, 75 database busy, 78 "
	  "configuration.\n",
	  NULL, followups_opts, RO | CAL, fmt_all, 0, 0, cmd_followups },
	{ "list", "tickets, newest first",
	  "list [--status status] [--type T] [--assignee name|me] "
	  "[--sender addr] [--since date] [--limit n] [--format text|json]",
	  "Tickets received at or after DATE (YYYY-MM-DD, office midnight, or "
	  "ISO 8601),\nnewest first; a closed ticket's status shows its "
	  "disposition.  status: open,\nclosed or all.  Exit 0, 64 usage, 75 "
	  "database busy, 78 configuration.\n",
	  NULL, list_opts, RO, fmt_text_json, 0, 0, cmd_list },
	{ "show", "one ticket: messages, attachments, events",
	  "show N [--format text|json]",
	  "The ticket, its messages as decoded text, attachments, events.\n"
	  "Exit 0, 64 usage, 65 no such ticket, 75 database busy, 78 "
	  "configuration.\n",
	  NULL, NULL, RO, fmt_text_json, 0, 0, cmd_show },
	{ "ack", "record the first response to a ticket",
	  "ack N [--by name]",
	  "Records the first response: acknowledged_at/by, and sla_met = 1 "
	  "when at or\nbefore breach_at, else 0.  A second ack changes "
	  "nothing (exit 0).\n" WORKFLOW_EXIT,
	  NULL, by_opts, RW, NULL, 0, 0, cmd_ack },
	{ "assign", "assign a ticket to a staff member",
	  "assign N name|--clear [--by name]", WORKFLOW_EXIT,
	  NULL, assign_opts, RW, NULL, 0, 0, cmd_assign },
	{ "note", "add a note to a ticket",
	  "note N text... [--by name]",
	  "Use -- before a TEXT that starts with '-'.\n" WORKFLOW_EXIT,
	  NULL, by_opts, RW, NULL, 0, 0, cmd_note },
	{ "reclassify", "correct type, urgency, flags; new deadlines",
	  "reclassify N --type T [--urgency U] [--minor 0|1] [--danger 0|1] "
	  "[--by name]",
	  "  T: crisis tip tta referral info related automated unclassified\n"
	  "  U: urgent routine (crisis is always urgent; info, related "
	  "routine)\nDeadlines are recomputed from the received time; a ticket "
	  "that becomes urgent\nis alerted.\n" WORKFLOW_EXIT,
	  NULL, reclassify_opts, RW | CAL, NULL, 0, 0, cmd_reclassify },
	{ "close", "close a ticket with a disposition",
	  "close N --disposition disposition [--by name]",
	  "  disposition: referred, resolved, duplicate, no-action or "
	  "automated\n" WORKFLOW_EXIT,
	  NULL, close_opts, RW, NULL, 0, 0, cmd_close },
	{ "reopen", "reopen a closed ticket",
	  "reopen N [--by name]", WORKFLOW_EXIT,
	  NULL, by_opts, RW, NULL, 0, 0, cmd_reopen },
	{ "status", "sources, outbox; non-zero when unhealthy",
	  "status [--format text|json]",
	  "Exit 0 healthy, 1 a source is stale or the outbox is stuck, 75 "
	  "database\nbusy, 78 configuration.\n",
	  NULL, NULL, RO, fmt_text_json, 0, 0, cmd_status },
	{ "purge", "delete closed tickets past retention",
	  "purge [--closed-before date] [-n|--dry-run] [--by name]",
	  "Deletes tickets closed before DATE (YYYY-MM-DD, office midnight, "
	  "or ISO 8601),\nwith their messages and events.  Default DATE: now "
	  "minus retention.closed_days\n(0 = keep forever: nothing is "
	  "purged).  Open tickets are never purged.\n"
	  "Exit 0, 64 usage, 75 database busy, 78 configuration.\n",
	  "n", purge_opts, RW, NULL, 0, 0, cmd_purge },
	{ "search", "tickets whose messages or notes hold words",
	  "search QUERY [--type T] [--status open|closed|all] [--since DATE] "
	  "[--until DATE] [--assignee NAME] [--sender ADDR] "
	  "[--format text|csv|json|html] [--limit N]",
	  "Tickets whose messages (subject, sender, text, attachment names) or "
	  "notes\nhold every word, best match first.  Exit 0 (also when "
	  "nothing matches),\n64 usage, 75 database busy, 78 configuration.\n",
	  NULL, search_opts, RO, fmt_all, 0, 0, cmd_search },
	{ "changes", "the shift handover: what happened, by ticket",
	  "changes [--since T] [--until T] [--format text|csv|json|html]",
	  "The shift handover: what arrived, who wrote again, what was "
	  "acknowledged,\nassigned, escalated, reclassified, closed, by "
	  "ticket.  T is YYYY-MM-DD or ISO 8601;\n--since defaults to the start "
	  "of the current on-call shift, else 12 hours ago.\nExit 0, 64 usage, 75 database busy, 78 configuration.\n",
	  NULL, changes_opts, RO, fmt_all, 0, 0, cmd_changes },
	{ "attachment", "save a ticket's attachments to files",
	  "attachment N [PART] [-o FILE | --dir DIR]",
	  "Saves ticket N's attachments (or only PART, numbered as intake show "
	  "lists\nthem) into DIR (default: .) or FILE (- for standard output), "
	  "mode 0600,\nnever overwriting.  Exit 0, 64 usage, 65 no such "
	  "attachment, 73 file exists.\n",
	  "o:", attachment_opts, RW, NULL, 0, 0, cmd_attachment },
	{ "db copy", "move the SQLite database to PostgreSQL",
	  "db copy --from sqlite-path --to conninfo [--verify]", DB_HELP,
	  NULL, db_opts, 0, NULL, CMD_NO_CONFIG, 0, cmd_db_copy },
	{ "db verify", "compare the SQLite and PostgreSQL databases",
	  "db verify --from sqlite-path --to conninfo", DB_HELP,
	  NULL, db_opts, 0, NULL, CMD_NO_CONFIG, 0, cmd_db_verify },
	{ "oncall", "who is on call now and the next shifts",
	  "oncall [--at ISO8601] [--next N] [--format text|json]",
	  "Who the rota (oncall.rota) has on call at ISO8601 (default now) and "
	  "the next N\nshifts (0-1000) that start after it, in the office "
	  "zone.  Exit 0, 64 usage,\n78 the configuration or the rota is "
	  "refused.\n",
	  NULL, oncall_opts, OPT | CAL, fmt_text_json, 0, 0, cmd_oncall },
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

/* Usage of every entry of the group `word` on f (the help too on
 * stdout); 0 when there is none. */
static int
group_usage(FILE *f, const char *word)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NELEM(commands); i++)
		if (group_matches(&commands[i], word)) {
			if (f == stdout)
				entry_help(f, &commands[i]);
			else
				usage_lines(f, &commands[i]);
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
