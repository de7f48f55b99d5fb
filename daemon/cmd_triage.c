/* SPDX-License-Identifier: MIT */
/*
 * cmd_triage.c: `intake triage train [-o FILE] [-c FILE] DIR...`: trains
 * the triage model from labeled sets (DIR/labels.tsv and its message
 * files) with the configured lexicon's rules as features, and writes the
 * model file (standard output without -o).  Local only: nothing is sent
 * anywhere.  doc/interfaces.md, "the triage model".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "triage.h"
#include "util.h"

/* intake triage train: usage and options in intake.c's table. */
int
cmd_triage_train(struct cmd_ctx *ctx)
{
	const char *outp = cmd_opt(ctx, 'o');
	char err[1024], *tmp = NULL;
	FILE *out = stdout;
	int rc;

	if (ctx->argc == 0)
		return cmd_usage_error(ctx);
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	/* the features are the rules', never a model's */
	lexicon_set_model(ctx->env.lex, NULL);
	if (outp != NULL) {
		/* whole or not at all: a new name, renamed at the end */
		tmp = xasprintf("%s.tmp", outp);
		if ((out = fopen(tmp, "w")) == NULL) {
			fprintf(stderr, "intake triage train: %s: cannot "
			    "create\n", tmp);
			free(tmp);
			return EX_CANTCREAT;
		}
	}
	rc = 0;
	if (triage_train(ctx->env.lex, ctx->argv, (size_t)ctx->argc, out,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "intake triage train: %s\n", err);
		rc = EX_DATAERR;
	}
	if (outp != NULL) {
		if (fclose(out) != 0 && rc == 0) {
			fprintf(stderr, "intake triage train: %s: write "
			    "failed\n", tmp);
			rc = EX_IOERR;
		}
		if (rc == 0 && rename(tmp, outp) != 0) {
			fprintf(stderr, "intake triage train: %s: cannot "
			    "rename into place\n", outp);
			rc = EX_IOERR;
		}
		if (rc != 0)
			unlink(tmp);
		free(tmp);
	}
	return rc;
}
