/* SPDX-License-Identifier: MIT */
/*
 * intake remind: the reminder report, run by cron or the systemd timer
 * every 15 minutes (remind.h says when it actually sends).
 */
#include <stdio.h>

#include "cli.h"
#include "remind.h"

/* Usage and options: intake.c's table. */
int
cmd_remind(struct cmd_ctx *ctx)
{
	int rc, dry_run = cmd_opt(ctx, 'n') != NULL;

	if (ctx->argc != 0)
		return cmd_usage_error(ctx);
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	return remind_run(ctx->env.store, ctx->env.cal, &ctx->env.cfg,
	    remind_now(), dry_run);
}
