/* SPDX-License-Identifier: MIT */
/*
 * cmd_workflow.c: `intake ack | assign | note | reclassify | close |
 * reopen`: the command lines of workflow.c's actions.  They share one
 * option parser; each command accepts only its own options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calltype.h"
#include "cli.h"
#include "rota.h"
#include "util.h"
#include "workflow.h"

enum action { A_ACK, A_ASSIGN, A_NOTE, A_RECLASSIFY, A_CLOSE, A_REOPEN };

/* The name in messages; usage and options: intake.c's table (each
 * command there lists only the options it accepts). */
static const char *const names[] = {
	[A_ACK] = "ack", [A_ASSIGN] = "assign", [A_NOTE] = "note",
	[A_RECLASSIFY] = "reclassify", [A_CLOSE] = "close",
	[A_REOPEN] = "reopen",
};

struct action_args {
	long long	 ticket;
	const char	*by;
	struct workflow_class cls;
	int		 have_type;
	const char	*disposition;
	int		 clear;
	char		*text;		/* assign NAME or note TEXT; owned */
};

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

/* Parse; 0, or the exit code (64 usage). */
static int
parse_action(enum action a, struct cmd_ctx *ctx, struct action_args *x)
{
	const char *me = names[a], *arg = NULL;
	char **argv = ctx->argv;
	enum urgency u;
	size_t i;
	int nargs, first = 0, argc = ctx->argc;

	memset(x, 0, sizeof(*x));
	x->cls.urgency = x->cls.minor = x->cls.danger = -1;
	for (i = 0; i < ctx->nopts; i++) {
		arg = ctx->opts[i].arg;
		switch (ctx->opts[i].id) {
		case 'b':
			x->by = arg;
			break;
		case 't':
			if (call_type_parse(arg, &x->cls.type) == -1)
				goto bad_value;
			x->have_type = 1;
			break;
		case 'u':
			if (urgency_parse(arg, &u) == -1 || u == URG_NONE)
				goto bad_value;
			x->cls.urgency = (int)u;
			break;
		case 'm':
			if (parse_flag(arg, &x->cls.minor) == -1)
				goto bad_value;
			break;
		case 'd':
			if (parse_flag(arg, &x->cls.danger) == -1)
				goto bad_value;
			break;
		case 'D':
			if (!workflow_disposition_valid(arg))
				goto bad_value;
			x->disposition = arg;
			break;
		case 'C':
			x->clear = 1;
			break;
		}
	}
	nargs = argc - first;
	if (nargs < 1 || parse_ticket(argv[first], &x->ticket) == -1) {
		fprintf(stderr, "intake %s: %s\n", me, nargs < 1 ?
		    "which ticket? (a number)" : "the ticket is a number");
		return cmd_usage_error(ctx);
	}
	first++;
	nargs--;
	switch (a) {
	case A_ASSIGN:
		if ((x->clear && nargs != 0) || (!x->clear && nargs != 1) ||
		    (!x->clear && argv[first][0] == '\0')) {
			fprintf(stderr, "intake assign: give one NAME or --clear\n");
			return EX_USAGE;
		}
		if (!x->clear)
			x->text = xstrdup(argv[first]);
		return 0;
	case A_NOTE:
		if (nargs < 1) {
			fprintf(stderr, "intake note: the note's TEXT is missing\n");
			return EX_USAGE;
		}
		x->text = join_args(nargs, argv + first);
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
	return cli_no_operands(me, argc, argv, first);

bad_value:
	fprintf(stderr, "intake %s: bad value '%s'\n", me, arg);
	return cmd_usage_error(ctx);
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
	struct rota *rota = cli_rota(&env->cfg, "reclassify");
	int rc, alerted;

	rc = workflow_reclassify(env->store, &env->cfg, env->cal, rota,
	    x->ticket, &x->cls, actor, now, &alerted);
	rota_free(rota);
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
run_action(enum action a, struct cmd_ctx *ctx)
{
	struct action_args x;
	struct cli_env *envp = &ctx->env;
	const char *actor, *me = names[a];
	const char *who;
	char abuf[512], nbuf[256];
	time_t now = time(NULL);
	int rc;

	if ((rc = parse_action(a, ctx, &x)) != 0 || (rc = cmd_open(ctx)) != 0) {
		free(x.text);
		return rc;
	}
	actor = cli_actor(envp->store, x.by, abuf, sizeof(abuf));
	switch (a) {
	case A_ACK:
		rc = do_ack(envp, &x, actor, now);
		break;
	case A_RECLASSIFY:
		rc = do_reclassify(envp, &x, actor, now);
		break;
	case A_ASSIGN:
		who = cli_person(&envp->cfg, cli_assignee(x.text, nbuf,
		    sizeof(nbuf)));
		rc = workflow_assign(envp->store, x.ticket, who, actor, now);
		if (rc == WF_NOCHANGE) {
			fprintf(stderr, "intake assign: ticket #%lld: no change\n",
			    x.ticket);
			rc = 0;
		} else if (rc == WF_OK)
			printf("ticket #%lld %s%s\n", x.ticket, who ?
			    "assigned to " : "unassigned", who ? who : "");
		rc = report_rc(me, x.ticket, rc, envp->store);
		break;
	case A_NOTE:
		rc = workflow_note(envp->store, x.ticket, x.text, actor, now);
		if (rc == WF_OK)
			printf("ticket #%lld: note added\n", x.ticket);
		rc = report_rc(me, x.ticket, rc, envp->store);
		break;
	case A_CLOSE:
		rc = workflow_close(envp->store, x.ticket, x.disposition, actor, now);
		if (rc == WF_NOCHANGE) {
			fprintf(stderr, "intake close: ticket #%lld is already "
			    "closed (reopen it first)\n", x.ticket);
			rc = EX_DATAERR;
			break;
		}
		if (rc == WF_OK)
			printf("ticket #%lld closed (%s)\n", x.ticket,
			    x.disposition);
		rc = report_rc(me, x.ticket, rc, envp->store);
		break;
	case A_REOPEN:
		rc = workflow_reopen(envp->store, x.ticket, actor, now);
		if (rc == WF_NOCHANGE) {
			fprintf(stderr, "intake reopen: ticket #%lld is open\n",
			    x.ticket);
			rc = EX_DATAERR;
			break;
		}
		if (rc == WF_OK)
			printf("ticket #%lld reopened\n", x.ticket);
		rc = report_rc(me, x.ticket, rc, envp->store);
		break;
	}
	free(x.text);
	return rc;
}

int
cmd_ack(struct cmd_ctx *ctx)
{
	return run_action(A_ACK, ctx);
}

int
cmd_assign(struct cmd_ctx *ctx)
{
	return run_action(A_ASSIGN, ctx);
}

int
cmd_note(struct cmd_ctx *ctx)
{
	return run_action(A_NOTE, ctx);
}

int
cmd_reclassify(struct cmd_ctx *ctx)
{
	return run_action(A_RECLASSIFY, ctx);
}

int
cmd_close(struct cmd_ctx *ctx)
{
	return run_action(A_CLOSE, ctx);
}

int
cmd_reopen(struct cmd_ctx *ctx)
{
	return run_action(A_REOPEN, ctx);
}
