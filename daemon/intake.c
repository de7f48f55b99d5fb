/* SPDX-License-Identifier: MIT */
/*
 * intake: the staff and cron tool.  A table of subcommands; each parses its
 * own options and returns a sysexits.h exit code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static void usage(FILE *);

struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*summary;
};

static int cmd_help(int, char **);

static const struct command commands[] = {
	{ "help", cmd_help, "this list" },
	{ "ingest", cmd_ingest, "store one message read on standard input" },
	{ "sla", cmd_sla, "deadlines of a contact (or --batch on stdin)" },
	{ "holidays", cmd_holidays, "closed dates of a range of years" },
	{ "classify", cmd_classify, "triage message files, one JSON line each" },
	{ "triage", cmd_triage, "triage train DIR...: build the triage model" },
	{ "remind", cmd_remind, "send the reminder report of the current slot" },
	{ "followups", cmd_followups, "open tickets by deadline (text, csv, json, html)" },
	{ "list", cmd_list, "tickets, newest first" },
	{ "show", cmd_show, "one ticket: messages, attachments, events" },
	{ "ack", cmd_ack, "record the first response to a ticket" },
	{ "assign", cmd_assign, "assign a ticket to a staff member" },
	{ "note", cmd_note, "add a note to a ticket" },
	{ "reclassify", cmd_reclassify, "correct type, urgency, flags; new deadlines" },
	{ "close", cmd_close, "close a ticket with a disposition" },
	{ "reopen", cmd_reopen, "reopen a closed ticket" },
	{ "status", cmd_status, "sources, outbox; non-zero when unhealthy" },
	{ "purge", cmd_purge, "delete closed tickets past retention" },
	{ "search", cmd_search, "tickets whose messages or notes hold words" },
	{ "changes", cmd_changes, "the shift handover: what happened, by ticket" },
	{ "attachment", cmd_attachment, "save a ticket's attachments to files" },
	{ "db", cmd_db, "db copy: move the SQLite database to PostgreSQL" },
	{ "oncall", cmd_oncall, "who is on call now and the next shifts" },
};

static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: intake [-c FILE] COMMAND [ARGS...]\n"
	    "       intake COMMAND --help\n\ncommands:\n");
	for (i = 0; i < NELEM(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nThe configuration is -c FILE, else $INTAKE_CONFIG, else %s.\n"
	    "See intake(1).\n", CONFIG_DEFAULT_PATH);
}

/*
 * A list written to a full disk or a closed pipe is a list nobody read:
 * say so and exit 74, never 0 (stdio only reports it at the flush).
 * ingest is the exception: its message is stored, and the MTA reads only
 * the exit code, where 74 would bounce it.
 */
static int
output_checked(const char *cmd, int rc)
{
	int bad, e;

	errno = 0;
	bad = fflush(stdout) == EOF || ferror(stdout);
	e = errno;
	if (fclose(stdout) == EOF && !bad) {
		bad = 1;
		e = errno;
	}
	/* a command that failed has said why already */
	if (!bad || rc != 0 || strcmp(cmd, "ingest") == 0)
		return rc;
	fprintf(stderr, "intake %s: writing standard output: %s\n", cmd,
	    e ? strerror(e) : "write error");
	return EX_IOERR;
}

int
main(int argc, char **argv)
{
	size_t i;

	/* libetpan and libcurl write to sockets with plain send(). */
	signal(SIGPIPE, SIG_IGN);
	log_init("intake", LOG_PRI_WARNING);
	/* "intake -c FILE COMMAND ...": the same as COMMAND -c FILE. */
	if (argc >= 3 && (strcmp(argv[1], "-c") == 0 ||
	    strcmp(argv[1], "--config") == 0)) {
		setenv("INTAKE_CONFIG", argv[2], 1);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("intake %s\n", INTAKE_VERSION);
		return 0;
	}
	for (i = 0; i < NELEM(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return output_checked(commands[i].name,
			    commands[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "intake: unknown command '%s'; try 'intake --help'\n",
	    argv[1]);
	return EX_USAGE;
}
