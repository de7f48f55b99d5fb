/* SPDX-License-Identifier: MIT */
/*
 * cmd_workflow.c: `intake ack | assign | note | reclassify | close |
 * reopen`: the command lines of workflow.c's actions.  They share one
 * option parser; each command accepts only its own options.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calltype.h"
#include "cli.h"
#include "util.h"
#include "workflow.h"

enum action { A_ACK, A_ASSIGN, A_NOTE, A_RECLASSIFY, A_CLOSE, A_REOPEN };

/* Options, as a bit each, so a command can refuse the others'. */
#define O_BY		(1 << 0)
#define O_TYPE		(1 << 1)
#define O_URGENCY	(1 << 2)
#define O_MINOR		(1 << 3)
#define O_DANGER	(1 << 4)
#define O_DISP		(1 << 5)
#define O_CLEAR		(1 << 6)

struct action_spec {
	const char	*name;
	int		 allowed;
	const char	*usage;
};

static const struct action_spec specs[] = {
	[A_ACK] = { "ack", O_BY, "intake ack N [--by NAME] [-c FILE]\n"
	    "Records the first response: acknowledged_at/by, and sla_met = 1 "
	    "when at or\nbefore breach_at, else 0.  A second ack changes "
	    "nothing (exit 0)." },
	[A_ASSIGN] = { "assign", O_BY | O_CLEAR,
	    "intake assign N NAME [--by NAME] [-c FILE]\n"
	    "       intake assign N --clear [--by NAME] [-c FILE]" },
	[A_NOTE] = { "note", O_BY, "intake note N TEXT... [--by NAME] [-c FILE]\n"
	    "Use -- before a TEXT that starts with '-'." },
	[A_RECLASSIFY] = { "reclassify", O_BY | O_TYPE | O_URGENCY | O_MINOR |
	    O_DANGER, "intake reclassify N --type T [--urgency U] [--minor 0|1] "
	    "[--danger 0|1]\n         [--by NAME] [-c FILE]\n"
	    "  T: crisis tip tta referral info related automated unclassified\n"
	    "  U: urgent routine (crisis is always urgent; info, related "
	    "routine)\nDeadlines are recomputed from the received time; a ticket "
	    "that becomes urgent\nis alerted." },
	[A_CLOSE] = { "close", O_BY | O_DISP, "intake close N --disposition "
	    "referred|resolved|duplicate|no-action|automated\n"
	    "         [--by NAME] [-c FILE]" },
	[A_REOPEN] = { "reopen", O_BY, "intake reopen N [--by NAME] [-c FILE]" },
};

struct action_args {
	long long	 ticket;
	const char	*by;
	const char	*cfg_path;
	struct workflow_class cls;
	int		 have_type;
	const char	*disposition;
	int		 clear;
	char		*text;		/* assign NAME or note TEXT; owned */
};

static void
action_usage(enum action a, FILE *f)
{
	fprintf(f, "usage: %s\nExit 0 done, 64 usage, 65 unknown ticket or "
	    "wrong state, 75 database busy,\n78 configuration.\n", specs[a].usage);
}

/* "N" or "#N": 0 or -1. */
static int
parse_ticket(const char *s, long long *id)
{
	unsigned long long v;

	if (*s == '#')
		s++;
	if (parse_uint(s, 1, (unsigned long long)1 << 62, &v) == -1)
		return -1;
	*id = (long long)v;
	return 0;
}

static int
parse_flag(const char *s, int *v)
{
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "no") == 0)
		*v = 0;
	else if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "yes") == 0)
		*v = 1;
	else
		return -1;
	return 0;
}

static char *
join_args(int argc, char **argv)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (i = 0; i < argc; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_addstr(&b, argv[i]);
	}
	return buf_steal(&b);
}

/* Parse; 0, or the exit code (64 usage, or -1 for --help done). */
static int
parse_action(enum action a, int argc, char **argv, struct action_args *x)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "type", required_argument, NULL, 't' },
		{ "urgency", required_argument, NULL, 'u' },
		{ "minor", required_argument, NULL, 'm' },
		{ "danger", required_argument, NULL, 'd' },
		{ "disposition", required_argument, NULL, 'D' },
		{ "clear", no_argument, NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *me = specs[a].name;
	enum urgency u;
	int ch, seen = 0, nargs;

	memset(x, 0, sizeof(*x));
	x->cls.urgency = x->cls.minor = x->cls.danger = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			seen |= O_BY;
			x->by = optarg;
			break;
		case 't':
			seen |= O_TYPE;
			if (call_type_parse(optarg, &x->cls.type) == -1)
				goto bad_value;
			x->have_type = 1;
			break;
		case 'u':
			seen |= O_URGENCY;
			if (urgency_parse(optarg, &u) == -1 || u == URG_NONE)
				goto bad_value;
			x->cls.urgency = (int)u;
			break;
		case 'm':
			seen |= O_MINOR;
			if (parse_flag(optarg, &x->cls.minor) == -1)
				goto bad_value;
			break;
		case 'd':
			seen |= O_DANGER;
			if (parse_flag(optarg, &x->cls.danger) == -1)
				goto bad_value;
			break;
		case 'D':
			seen |= O_DISP;
			if (!workflow_disposition_valid(optarg))
				goto bad_value;
			x->disposition = optarg;
			break;
		case 'C':
			seen |= O_CLEAR;
			x->clear = 1;
			break;
		case 'c':
			x->cfg_path = optarg;
			break;
		case 'h':
			action_usage(a, stdout);
			return -1;
		default:
			action_usage(a, stderr);
			return EX_USAGE;
		}
	}
	if (seen & ~specs[a].allowed) {
		fprintf(stderr, "intake %s: option not accepted here\n", me);
		action_usage(a, stderr);
		return EX_USAGE;
	}
	nargs = argc - optind;
	if (nargs < 1 || parse_ticket(argv[optind], &x->ticket) == -1) {
		fprintf(stderr, "intake %s: %s\n", me, nargs < 1 ?
		    "which ticket? (a number)" : "the ticket is a number");
		action_usage(a, stderr);
		return EX_USAGE;
	}
	optind++;
	nargs--;
	switch (a) {
	case A_ASSIGN:
		if ((x->clear && nargs != 0) || (!x->clear && nargs != 1) ||
		    (!x->clear && argv[optind][0] == '\0')) {
			fprintf(stderr, "intake assign: give one NAME or --clear\n");
			return EX_USAGE;
		}
		if (!x->clear)
			x->text = xstrdup(argv[optind]);
		return 0;
	case A_NOTE:
		if (nargs < 1) {
			fprintf(stderr, "intake note: the note's TEXT is missing\n");
			return EX_USAGE;
		}
		x->text = join_args(nargs, argv + optind);
		if (x->text[0] == '\0') {
			free(x->text);
			x->text = NULL;
			fprintf(stderr, "intake note: the note is empty\n");
			return EX_USAGE;
		}
		return 0;
	case A_RECLASSIFY:
		if (!x->have_type) {
			fprintf(stderr, "intake reclassify: --type is required\n");
			return EX_USAGE;
		}
		/* The contract fixes some types' urgency: asking another is
		 * a mistake to name, not "nothing changed". */
		if (x->cls.urgency >= 0 && urgency_effective(x->cls.type,
		    (enum urgency)x->cls.urgency) != (enum urgency)x->cls.urgency) {
			enum urgency fixed = urgency_effective(x->cls.type,
			    (enum urgency)x->cls.urgency);

			if (fixed == URG_NONE)
				fprintf(stderr, "intake reclassify: %s has no "
				    "urgency (no deadlines); drop --urgency\n",
				    call_type_name(x->cls.type));
			else
				fprintf(stderr, "intake reclassify: %s is always "
				    "%s\n", call_type_name(x->cls.type),
				    urgency_name(fixed));
			return EX_USAGE;
		}
		break;
	case A_CLOSE:
		if (x->disposition == NULL) {
			fprintf(stderr, "intake close: --disposition is required\n");
			return EX_USAGE;
		}
		break;
	default:
		break;
	}
	return cli_no_operands(me, argc, argv, optind);

bad_value:
	fprintf(stderr, "intake %s: bad value '%s'\n", me, optarg);
	action_usage(a, stderr);
	return EX_USAGE;
}

/* The exit code of a workflow result; prints what went wrong. */
static int
report_rc(const char *me, long long id, int rc, struct store *st)
{
	if (rc == WF_OK)
		return 0;
	if (rc == WF_NOTFOUND) {
		fprintf(stderr, "intake %s: no ticket #%lld\n", me, id);
		return EX_DATAERR;
	}
	fprintf(stderr, "intake %s: ticket #%lld: %s\n", me, id,
	    rc == STORE_TEMP ? "database busy, try again" : store_errmsg(st));
	return rc == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
}

static int
do_ack(struct cli_env *env, const struct action_args *x, const char *actor,
    time_t now)
{
	char iso[40];
	time_t prev_at;
	char *prev_by;
	int rc, met;

	rc = workflow_ack(env->store, x->ticket, actor, now, &met, &prev_at,
	    &prev_by);
	if (rc == WF_NOCHANGE) {
		iso8601_local(prev_at, iso, sizeof(iso));
		fprintf(stderr, "intake ack: ticket #%lld was already acknowledged "
		    "at %s by %s; nothing changed\n", x->ticket, iso,
		    prev_by ? prev_by : "?");
		free(prev_by);
		return 0;
	}
	if (rc == WF_OK) {
		iso8601_local(now, iso, sizeof(iso));
		printf("ticket #%lld acknowledged by %s at %s: %s\n", x->ticket,
		    actor, iso, met < 0 ? "no deadline" : met ? "SLA met" :
		    "SLA breached");
	}
	return report_rc("ack", x->ticket, rc, env->store);
}

static int
do_reclassify(struct cli_env *env, const struct action_args *x,
    const char *actor, time_t now)
{
	int rc, alerted;

	rc = workflow_reclassify(env->store, &env->cfg, env->cal, x->ticket,
	    &x->cls, actor, now, &alerted);
	if (rc == WF_NOCHANGE) {
		fprintf(stderr, "intake reclassify: ticket #%lld already has "
		    "that classification; nothing changed\n", x->ticket);
		return 0;
	}
	if (rc == WF_OK)
		printf("ticket #%lld reclassified as %s%s\n", x->ticket,
		    call_type_name(x->cls.type), alerted ? "; urgent alert queued" :
		    "");
	return report_rc("reclassify", x->ticket, rc, env->store);
}

static int
run_action(enum action a, int argc, char **argv)
{
	struct action_args x;
	struct cli_env env;
	const char *actor, *me = specs[a].name;
	const char *who;
	char abuf[512], nbuf[256];
	time_t now = time(NULL);
	int rc, need = CLI_NEED_STORE;

	if ((rc = parse_action(a, argc, argv, &x)) != 0) {
		free(x.text);
		return rc == -1 ? 0 : rc;
	}
	if (a == A_RECLASSIFY)
		need |= CLI_NEED_CALENDAR;
	if ((rc = cli_env_open(&env, x.cfg_path, need)) != 0) {
		free(x.text);
		return rc;
	}
	actor = cli_actor(x.by, abuf, sizeof(abuf));
	switch (a) {
	case A_ACK:
		rc = do_ack(&env, &x, actor, now);
		break;
	case A_RECLASSIFY:
		rc = do_reclassify(&env, &x, actor, now);
		break;
	case A_ASSIGN:
		who = cli_person(&env.cfg, cli_assignee(x.text, nbuf,
		    sizeof(nbuf)));
		rc = workflow_assign(env.store, x.ticket, who, actor, now);
		if (rc == WF_NOCHANGE) {
			fprintf(stderr, "intake assign: ticket #%lld: no change\n",
			    x.ticket);
			rc = 0;
		} else if (rc == WF_OK)
			printf("ticket #%lld %s%s\n", x.ticket, who ?
			    "assigned to " : "unassigned", who ? who : "");
		rc = report_rc(me, x.ticket, rc, env.store);
		break;
	case A_NOTE:
		rc = workflow_note(env.store, x.ticket, x.text, actor, now);
		if (rc == WF_OK)
			printf("ticket #%lld: note added\n", x.ticket);
		rc = report_rc(me, x.ticket, rc, env.store);
		break;
	case A_CLOSE:
		rc = workflow_close(env.store, x.ticket, x.disposition, actor, now);
		if (rc == WF_NOCHANGE) {
			fprintf(stderr, "intake close: ticket #%lld is already "
			    "closed (reopen it first)\n", x.ticket);
			rc = EX_DATAERR;
			break;
		}
		if (rc == WF_OK)
			printf("ticket #%lld closed (%s)\n", x.ticket,
			    x.disposition);
		rc = report_rc(me, x.ticket, rc, env.store);
		break;
	case A_REOPEN:
		rc = workflow_reopen(env.store, x.ticket, actor, now);
		if (rc == WF_NOCHANGE) {
			fprintf(stderr, "intake reopen: ticket #%lld is open\n",
			    x.ticket);
			rc = EX_DATAERR;
			break;
		}
		if (rc == WF_OK)
			printf("ticket #%lld reopened\n", x.ticket);
		rc = report_rc(me, x.ticket, rc, env.store);
		break;
	}
	free(x.text);
	cli_env_close(&env);
	return rc;
}

int
cmd_ack(int argc, char **argv)
{
	return run_action(A_ACK, argc, argv);
}

int
cmd_assign(int argc, char **argv)
{
	return run_action(A_ASSIGN, argc, argv);
}

int
cmd_note(int argc, char **argv)
{
	return run_action(A_NOTE, argc, argv);
}

int
cmd_reclassify(int argc, char **argv)
{
	return run_action(A_RECLASSIFY, argc, argv);
}

int
cmd_close(int argc, char **argv)
{
	return run_action(A_CLOSE, argc, argv);
}

int
cmd_reopen(int argc, char **argv)
{
	return run_action(A_REOPEN, argc, argv);
}
