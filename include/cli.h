/* SPDX-License-Identifier: MIT */
/*
 * cli.h: what the `intake` subcommands share: exit codes (sysexits.h), the
 * configuration and database set-up, the actor name, and the command
 * table.  Each subcommand is a handler `int cmd_NAME(struct cmd_ctx *)`
 * listed in intake.c's table with its usage, options and needs; the
 * dispatcher parses the command line and the handler returns the process
 * exit code.
 */
#ifndef INTAKE_CLI_H
#define INTAKE_CLI_H

#include <getopt.h>
#include <sysexits.h>

#include "calendar.h"
#include "config.h"
#include "store.h"
#include "triage.h"

/* Everything a subcommand may need; fields it did not ask for stay NULL. */
struct cli_env {
	struct config	 cfg;
	struct calendar	*cal;
	struct lexicon	*lex;
	struct store	*store;
};

enum cli_need {
	CLI_NEED_CONFIG_OPTIONAL = 0,	/* built-in defaults when no file */
	CLI_NEED_CONFIG = 1 << 0,	/* exit 78 when the file is missing */
	CLI_NEED_CALENDAR = 1 << 1,
	CLI_NEED_LEXICON = 1 << 2,
	CLI_NEED_STORE = 1 << 3,	/* read-write, migrates; implies CONFIG */
	CLI_NEED_STORE_RO = 1 << 4,	/* read-only, no lock; implies CONFIG */
	CLI_NEED_SECRETS = 1 << 5,	/* check password/token files too */
};

/*
 * Load what `need` asks for, from -c FILE (cfg_path, may be NULL),
 * $INTAKE_CONFIG or the default path.  Prints errors on stderr and returns
 * the exit code to use (EX_CONFIG 78, EX_NOPERM 77, EX_TEMPFAIL 75,
 * EX_SOFTWARE 70), or 0.  Secret files are not touched unless
 * CLI_NEED_SECRETS: a command reads a secret only where it uses it.
 * Sets the process time zone to the office zone.
 */
int	 cli_env_open(struct cli_env *, const char *cfg_path, int need);
void	 cli_env_close(struct cli_env *);
/* The exit code of a store_open*() result: 0, 75, 77, 78 or 70. */
int	 cli_store_exit(int store_rc);
/* The Unix user of the real uid (root under sudo: $SUDO_USER), into buf. */
const char *cli_login(char *buf, size_t len);
/* The actor an event records: who the store authenticated (PostgreSQL's
 * database role, store_actor()) or, on SQLite (st NULL or no role), the
 * login; "BY (that)" when --by names someone else (a display name beside
 * it, never instead of it). */
struct store;
const char *cli_actor(struct store *st, const char *by, char *buf,
	    size_t len);
/* --status open|closed|all (all: *status NULL) and --type NAME (*type the
 * canonical name): 0, or EX_USAGE after "intake CMD: ..." on stderr. */
int	 cli_opt_status(const char *cmd, const char *arg, const char **status);
int	 cli_opt_type(const char *cmd, const char *arg, const char **type);
/* --assignee ARG: "me" is the login (into buf); anything else is ARG. */
const char *cli_assignee(const char *arg, char *buf, size_t len);
/* The name an assignee is recorded and matched as: a login (or name) of
 * oncall.people is that person's name (rota_person()); anything else,
 * and NULL, as it is.  After cli_env_open (it needs the configuration). */
const char *cli_person(const struct config *, const char *who);
/* The rota of oncall.rota for a first alert (outbox_queue_alert): NULL
 * when none is configured, or when it is refused (said on stderr, naming
 * cmd: the alert then pages alerts.to only, as intaked does).  Free with
 * rota_free(). */
struct rota *cli_rota(const struct config *, const char *cmd);
/* 0 when argv has nothing left at `first` (getopt's optind), else EX_USAGE
 * after "intake CMD: unexpected argument 'X'" on stderr. */
int	 cli_no_operands(const char *cmd, int argc, char **argv, int first);

/*
 * The command table (intake.c, tmux's cmd_entry): what a subcommand needs,
 * its usage and options.  The dispatcher parses the options (getopt_long,
 * plus -c/--config, -h/--help and --format), prints the usage (--help:
 * stdout, exit 0; a bad option: stderr, the entry's usage code), checks
 * --format, opens what `need` says at cmd_open(), closes it, and checks
 * standard output once the handler returns.
 */
#define CMD_MAXOPTS	64
#define CMD_OPT_FORMAT	256	/* the id of --format (long only) */

struct cmd_opt {
	int		 id;		/* getopt's value: 'x' or a long-only id */
	const char	*arg;		/* its argument, or NULL */
};

struct cmd_ctx;

struct cmd_entry {
	const char	*name;		/* "list", "triage train" */
	const char	*summary;	/* one line for `intake help` */
	const char	*usage;		/* the synopsis lines of intake(1), '\n'
					 * between forms, without "intake " */
	const char	*help;		/* what --help adds below the usage */
	const char	*shortopts;	/* beyond "c:h" */
	const struct option *longopts;	/* beyond config, help, format */
	int		 need;		/* CLI_NEED_* */
	const char *const *formats;	/* --format values (first: default) */
	int		 flags;
#define CMD_NO_CONFIG	(1 << 0)	/* no -c: reads no configuration */
#define CMD_NO_OUTCHECK	(1 << 1)	/* stdout failure is not an error */
	int		 usage_rc;	/* exit code of a bad command line (0: 64) */
	int		(*exec)(struct cmd_ctx *);
};

struct cmd_ctx {
	const struct cmd_entry *cmd;
	const char	*config;	/* -c FILE (or `intake -c FILE`), or NULL */
	int		 format;	/* index into cmd->formats */
	int		 argc;		/* the operands, after the options */
	char		**argv;
	size_t		 nopts;		/* the options, in command-line order */
	struct cmd_opt	 opts[CMD_MAXOPTS];
	int		 opened;
	struct cli_env	 env;		/* after cmd_open() */
};

/* Opens what the entry's `need` asks for into ctx->env (closed by the
 * dispatcher): 0, or the exit code after the reason on stderr. */
int	 cmd_open(struct cmd_ctx *);
/* The usage on stderr; returns the entry's usage exit code (64). */
int	 cmd_usage_error(struct cmd_ctx *);
/* "intake CMD: <store error>" on stderr; the exit code of store_rc. */
int	 cmd_store_fail(struct cmd_ctx *, int store_rc);
/* The last value of option id, or NULL. */
const char *cmd_opt(const struct cmd_ctx *, int id);

/* The handlers of intake.c's table (each in its own file). */
int	 cmd_ingest(struct cmd_ctx *);		/* cmd_ingest.c */
int	 cmd_sla(struct cmd_ctx *);		/* cmd_sla.c */
int	 cmd_holidays(struct cmd_ctx *);	/* cmd_sla.c */
int	 cmd_classify(struct cmd_ctx *);	/* cmd_classify.c */
int	 cmd_triage_train(struct cmd_ctx *);	/* cmd_triage.c */
int	 cmd_remind(struct cmd_ctx *);		/* cmd_remind.c */
int	 cmd_followups(struct cmd_ctx *);	/* cmd_followups.c */
int	 cmd_show(struct cmd_ctx *);		/* cmd_ticket.c */
int	 cmd_list(struct cmd_ctx *);		/* cmd_ticket.c */
int	 cmd_ack(struct cmd_ctx *);		/* cmd_workflow.c */
int	 cmd_assign(struct cmd_ctx *);		/* cmd_workflow.c */
int	 cmd_note(struct cmd_ctx *);		/* cmd_workflow.c */
int	 cmd_reclassify(struct cmd_ctx *);	/* cmd_workflow.c */
int	 cmd_close(struct cmd_ctx *);		/* cmd_workflow.c */
int	 cmd_reopen(struct cmd_ctx *);		/* cmd_workflow.c */
int	 cmd_status(struct cmd_ctx *);		/* cmd_status.c */
int	 cmd_purge(struct cmd_ctx *);		/* cmd_purge.c */
int	 cmd_search(struct cmd_ctx *);		/* cmd_search.c */
int	 cmd_changes(struct cmd_ctx *);		/* cmd_changes.c */
int	 cmd_attachment(struct cmd_ctx *);	/* cmd_attachment.c */
int	 cmd_db_copy(struct cmd_ctx *);		/* cmd_db.c (libpq) */
int	 cmd_db_verify(struct cmd_ctx *);	/* cmd_db.c (libpq) */
int	 cmd_oncall(struct cmd_ctx *);		/* cmd_oncall.c */

#endif
