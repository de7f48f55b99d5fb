/* SPDX-License-Identifier: MIT */
/*
 * cmd_sla.c: `intake sla` (deadlines of one contact, or a batch on standard
 * input) and `intake holidays` (the closed dates of a range of years).
 * Formats in doc/interfaces.md, "intake sla / intake holidays".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "calltype.h"
#include "cli.h"
#include "sla.h"
#include "util.h"

#define BATCH_MAX_LINE	1024
#define YEAR_FIRST	1000
#define YEAR_LAST	9999
/* Received instants outside these years are refused (1900-01-01, 9000-01-01). */
#define RECEIVED_MIN	((time_t)-2208988800LL)
#define RECEIVED_MAX	((time_t)221845392000LL)

/* The types a staff member may ask about: not automated/unclassified. */
static int
parse_type(const char *s, enum call_type *t)
{
	if (call_type_parse(s, t) == -1 || *t == CT_AUTOMATED ||
	    *t == CT_UNCLASSIFIED)
		return -1;
	return 0;
}

static int
parse_urgency(const char *s, enum urgency *u)
{
	if (urgency_parse(s, u) == -1 || *u == URG_NONE)
		return -1;
	return 0;
}

static int
urgency_optional(enum call_type t)
{
	return t == CT_CRISIS || t == CT_INFO || t == CT_RELATED;
}

static int
parse_received(const char *s, time_t *t)
{
	if (iso8601_parse(s, t) == -1)
		return -1;
	if (*t < RECEIVED_MIN || *t >= RECEIVED_MAX)
		return -1;
	return 0;
}

/* One result line; key order as documented (jansson keeps insertion order). */
static int
print_deadlines(const struct calendar *cal, enum call_type t, time_t received,
    const struct deadlines *d)
{
	char rec[40], due[40], breach[40];
	json_t *o;
	char *s;

	calendar_format(cal, received, rec, sizeof(rec));
	calendar_format(cal, d->response_due, due, sizeof(due));
	calendar_format(cal, d->breach_at, breach, sizeof(breach));
	o = json_object();
	json_object_set_new(o, "type", json_string(call_type_name(t)));
	json_object_set_new(o, "urgency", json_string(urgency_name(d->urgency)));
	json_object_set_new(o, "received", json_string(rec));
	json_object_set_new(o, "in_business_hours",
	    json_boolean(d->in_business_hours));
	json_object_set_new(o, "response_due", json_string(due));
	json_object_set_new(o, "breach_at", json_string(breach));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return -1;
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
	return 0;
}

/* {"error": "...", "line": N}, as the issue spells it (with spaces). */
static void
print_batch_error(const char *msg, unsigned long line)
{
	json_t *o;
	char *s;

	o = json_object();
	json_object_set_new(o, "error", json_string(msg));
	json_object_set_new(o, "line", json_integer((json_int_t)line));
	s = json_dumps(o, 0);
	json_decref(o);
	if (s != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

/* Split on blanks into at most max fields; returns the count (max + 1 when
 * there are more). */
static int
split_fields(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return max + 1;
		f[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

/* One batch line: NULL and printed, or the error message. */
static const char *
batch_line(const struct cli_env *env, char *line)
{
	struct deadlines d;
	enum call_type t;
	enum urgency u = URG_ROUTINE;
	char *f[3];
	time_t received;
	int n;

	n = split_fields(line, f, 3);
	if (n < 2 || n > 3)
		return "expected TYPE URGENCY RECEIVED";
	if (parse_type(f[0], &t) == -1)
		return "unknown type (crisis, tip, tta, referral, info, related)";
	if (n == 2 && !urgency_optional(t))
		return "expected TYPE URGENCY RECEIVED";
	if (n == 3 && parse_urgency(f[1], &u) == -1)
		return "unknown urgency (urgent, routine)";
	if (parse_received(f[n - 1], &received) == -1)
		return "bad instant (want YYYY-MM-DDTHH:MM:SS with Z or an offset, "
		    "years 1900-8999)";
	if (sla_compute(env->cal, &env->cfg, t, u, received, &d) == -1)
		return "no deadline: the calendar has no business day in reach";
	if (print_deadlines(env->cal, t, received, &d) == -1)
		return "cannot format the result";
	return NULL;
}

static int
sla_batch(const struct cli_env *env)
{
	char line[BATCH_MAX_LINE + 2];
	const char *msg;
	unsigned long lineno = 0;
	size_t len;
	int bad = 0, c;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		lineno++;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			/* Longer than any valid line: skip the rest of it. */
			while ((c = getchar()) != EOF && c != '\n')
				;
			print_batch_error("line too long", lineno);
			bad = 1;
			continue;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
			continue;
		if ((msg = batch_line(env, line)) != NULL) {
			print_batch_error(msg, lineno);
			bad = 1;
		}
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "intake sla: write error\n");
		return EX_IOERR;
	}
	return bad ? EX_DATAERR : 0;
}

int
cmd_sla(struct cmd_ctx *ctx)
{
	const char *type_s = cmd_opt(ctx, 't'), *urg_s = cmd_opt(ctx, 'u');
	const char *rec_s = cmd_opt(ctx, 'r');
	struct deadlines d;
	enum call_type t = CT_INFO;
	enum urgency u = URG_ROUTINE;
	time_t received = 0;
	int batch = cmd_opt(ctx, 'b') != NULL, rc;

	if (ctx->argc != 0) {
		fprintf(stderr, "intake sla: unexpected argument\n");
		return cmd_usage_error(ctx);
	}
	if (batch && (type_s || urg_s || rec_s)) {
		fprintf(stderr, "intake sla: --batch takes no --type, --urgency "
		    "or --received\n");
		return EX_USAGE;
	}
	if (!batch) {
		if (type_s == NULL || rec_s == NULL) {
			fprintf(stderr, "intake sla: --type and --received are "
			    "required\n");
			return cmd_usage_error(ctx);
		}
		if (parse_type(type_s, &t) == -1) {
			fprintf(stderr, "intake sla: unknown type (crisis, tip, "
			    "tta, referral, info, related)\n");
			return EX_USAGE;
		}
		if (urg_s == NULL && !urgency_optional(t)) {
			fprintf(stderr, "intake sla: --urgency is required for "
			    "%s\n", call_type_name(t));
			return EX_USAGE;
		}
		if (urg_s != NULL && parse_urgency(urg_s, &u) == -1) {
			fprintf(stderr, "intake sla: unknown urgency (urgent, "
			    "routine)\n");
			return EX_USAGE;
		}
		if (parse_received(rec_s, &received) == -1) {
			fprintf(stderr, "intake sla: --received: want "
			    "YYYY-MM-DDTHH:MM:SS with Z or +HH:MM/-HH:MM (a bare "
			    "local time is ambiguous), years 1900-8999\n");
			return EX_DATAERR;
		}
	}
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	if (batch)
		return sla_batch(&ctx->env);
	if (sla_compute(ctx->env.cal, &ctx->env.cfg, t, u, received, &d) == -1) {
		fprintf(stderr, "intake sla: no deadline: the calendar has no "
		    "business day in reach\n");
		return EX_DATAERR;
	}
	if (print_deadlines(ctx->env.cal, t, received, &d) == -1)
		return EX_IOERR;
	return 0;
}

int
cmd_holidays(struct cmd_ctx *ctx)
{
	unsigned long long from, to;
	struct holiday *h;
	size_t i, n;
	int rc;

	if (ctx->argc < 1 || ctx->argc > 2)
		return cmd_usage_error(ctx);
	if (parse_uint(ctx->argv[0], YEAR_FIRST, YEAR_LAST, &from) == -1 ||
	    parse_uint(ctx->argv[ctx->argc - 1], YEAR_FIRST, YEAR_LAST,
	    &to) == -1) {
		fprintf(stderr, "intake holidays: a year is %d-%d\n", YEAR_FIRST,
		    YEAR_LAST);
		return EX_USAGE;
	}
	if (to < from) {
		fprintf(stderr, "intake holidays: TO_YEAR is before FROM_YEAR\n");
		return EX_USAGE;
	}
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	n = calendar_holidays(ctx->env.cal, (int)from, (int)to, &h);
	for (i = 0; i < n; i++)
		printf("%04d-%02d-%02d\t%s\n", h[i].year, h[i].month, h[i].day,
		    h[i].name);
	free(h);
	return 0;
}
