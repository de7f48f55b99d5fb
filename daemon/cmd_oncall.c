/* SPDX-License-Identifier: MIT */
/*
 * cmd_oncall.c: intake oncall [--at ISO8601] [--next N] [--format
 * text|json]: who the rota (rota.h) has on call at an instant (default
 * now) and the next N shifts that start after it, in the office zone.
 * Without a rota, or in a gap, it says alerts.to is paged.  Exit 78 when
 * oncall.rota is refused (FILE:LINE on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "remind.h"
#include "rota.h"
#include "util.h"

#define NEXT_MAX	1000
#define LOOKAHEAD	(366L * 86400)	/* the next shifts: within a year */

static json_t *
shift_json(const struct rota_shift *v)
{
	char a[40], b[40];

	iso8601_local(v->start, a, sizeof(a));
	iso8601_local(v->end, b, sizeof(b));
	return json_pack("{s:s,s:s?,s:s,s:s,s:i}", "name", v->name, "email",
	    v->email, "start", a, "end", b, "line", v->line);
}

static void
print_shift(const struct rota_shift *v)
{
	char a[40], b[40], *name = str_escape(v->name, 200);
	char *mail = v->email ? str_escape(v->email, 200) : NULL;

	iso8601_local(v->start, a, sizeof(a));
	iso8601_local(v->end, b, sizeof(b));
	printf("  %s .. %s  %s%s%s%s\n", a, b, name, mail ? " (" : "",
	    mail ? mail : "", mail ? ")" : "");
	free(name);
	free(mail);
}

static void
fallback_text(const struct config *cfg)
{
	size_t i;

	printf("  nobody: alerts.to is paged (");
	for (i = 0; i < cfg->alerts_nto; i++) {
		char *e = str_escape(cfg->alerts_to[i], 200);

		printf("%s%s", i ? ", " : "", e);
		free(e);
	}
	printf("%s)\n", cfg->alerts_nto ? "" : "empty");
}

static int
oncall_output(const struct config *cfg, const struct rota *r, time_t at,
    unsigned long long next, int json)
{
	struct rota_shift *now = NULL, *up = NULL;
	size_t nnow, nup = 0, i, k;
	char iso[40];
	json_t *o, *a, *fb;

	nnow = r ? rota_on_call(r, at, &now) : 0;
	if (r && next) {
		/* the shifts that start after at (those on now are shown) */
		nup = rota_shifts(r, at + 1, at + LOOKAHEAD, (size_t)-1, &up);
		for (i = k = 0; i < nup; i++)
			if (up[i].start > at && k < next)
				up[k++] = up[i];
		nup = k;
	}
	iso8601_local(at, iso, sizeof(iso));
	if (json) {
		o = json_pack("{s:s,s:s,s:s?}", "at", iso, "zone",
		    cfg->timezone, "rota", cfg->oncall_rota);
		a = json_array();
		for (i = 0; i < nnow; i++)
			json_array_append_new(a, shift_json(&now[i]));
		json_object_set_new(o, "oncall", a);
		fb = json_array();
		for (i = 0; nnow == 0 && i < cfg->alerts_nto; i++)
			json_array_append_new(fb, json_string(cfg->alerts_to[i]));
		json_object_set_new(o, "fallback", fb);
		a = json_array();
		for (i = 0; i < nup; i++)
			json_array_append_new(a, shift_json(&up[i]));
		json_object_set_new(o, "next", a);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("on call at %s (%s):\n", iso, cfg->timezone);
		for (i = 0; i < nnow; i++)
			print_shift(&now[i]);
		if (nnow == 0)
			fallback_text(cfg);
		if (r == NULL)
			printf("no rota (oncall.rota): \"oncall\" always pages "
			    "alerts.to\n");
		else if (next) {
			printf("next %zu shift%s:\n", nup, nup == 1 ? "" : "s");
			for (i = 0; i < nup; i++)
				print_shift(&up[i]);
		}
	}
	free(now);
	free(up);
	return 0;
}

int
cmd_oncall(struct cmd_ctx *ctx)
{
	const char *atarg = cmd_opt(ctx, 'a');
	unsigned long long next = 0;
	struct rota *r = NULL;
	char *err = NULL;
	size_t i;
	time_t at;
	int rc;

	for (i = 0; i < ctx->nopts; i++)
		if (ctx->opts[i].id == 'n' && parse_uint(ctx->opts[i].arg, 0,
		    NEXT_MAX, &next) == -1) {
			fprintf(stderr, "intake oncall: --next is 0-%d\n",
			    NEXT_MAX);
			return EX_USAGE;
		}
	if ((rc = cli_no_operands("oncall", ctx->argc, ctx->argv, 0)) != 0)
		return rc;
	at = remind_now();
	if (atarg && iso8601_parse(atarg, &at) == -1) {
		fprintf(stderr, "intake oncall: --at wants an ISO 8601 instant "
		    "with its offset, e.g. 2026-12-05T02:00:00-05:00\n");
		return EX_USAGE;
	}
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	if (ctx->env.cfg.oncall_rota &&
	    (r = rota_load(&ctx->env.cfg, &err)) == NULL) {
		fprintf(stderr, "%s\nintake oncall: oncall.rota refused\n", err);
		free(err);
		return EX_CONFIG;
	}
	rc = oncall_output(&ctx->env.cfg, r, at, next, ctx->format == 1);
	rota_free(r);
	return rc;
}
