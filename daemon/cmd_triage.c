/* SPDX-License-Identifier: MIT */
/*
 * cmd_triage.c: `intake triage train [-o FILE] [-c CONFIG] DIR...`: trains
 * the triage model from labeled sets (DIR/labels.tsv and its message
 * files) with the configured lexicon's rules as features, and writes the
 * model file (standard output without -o).  Local only: nothing is sent
 * anywhere.  doc/interfaces.md, "the triage model".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "triage.h"
#include "util.h"

static void
triage_usage(FILE *f)
{
	fprintf(f, "usage: intake triage train [-o FILE] [-c CONFIG] DIR...\n"
	    "  Trains the triage model from labeled sets (DIR/labels.tsv:\n"
	    "  file, type, urgency columns; the messages beside it) and writes\n"
	    "  the model file to FILE (standard output without -o).\n");
}

static int
triage_train_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_env env;
	const char *cfg = NULL, *outp = NULL;
	char err[1024], *tmp = NULL;
	FILE *out = stdout;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfg = optarg; break;
		case 'o': outp = optarg; break;
		case 'h': triage_usage(stdout); return 0;
		default: triage_usage(stderr); return EX_USAGE;
		}
	}
	if (optind == argc) {
		triage_usage(stderr);
		return EX_USAGE;
	}
	if ((rc = cli_env_open(&env, cfg, CLI_NEED_CONFIG_OPTIONAL |
	    CLI_NEED_LEXICON)) != 0)
		return rc;
	/* the features are the rules', never a model's */
	lexicon_set_model(env.lex, NULL);
	if (outp != NULL) {
		/* whole or not at all: a new name, renamed at the end */
		tmp = xasprintf("%s.tmp", outp);
		if ((out = fopen(tmp, "w")) == NULL) {
			fprintf(stderr, "intake triage train: %s: cannot "
			    "create\n", tmp);
			free(tmp);
			cli_env_close(&env);
			return EX_CANTCREAT;
		}
	}
	rc = 0;
	if (triage_train(env.lex, argv + optind, (size_t)(argc - optind), out,
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
	} else if (fflush(stdout) == EOF && rc == 0)
		rc = EX_IOERR;
	cli_env_close(&env);
	return rc;
}

int
cmd_triage(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "train") == 0)
		return triage_train_cmd(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		triage_usage(stdout);
		return 0;
	}
	triage_usage(stderr);
	return EX_USAGE;
}
