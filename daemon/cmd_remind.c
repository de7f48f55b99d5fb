/* SPDX-License-Identifier: MIT */
/*
 * intake remind: the reminder report, run by cron or the systemd timer
 * every 15 minutes (remind.h says when it actually sends).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "remind.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: intake remind [--dry-run] [-c FILE]\n"
	    "Sends the reminder report of the current remind.at slot (office\n"
	    "zone, business days; the first run at or after each time sends it)\n"
	    "to remind.to by SMTP and/or remind.webhook as JSON.\n"
	    "  -n, --dry-run     print the report instead of sending it\n"
	    "  -c, --config FILE configuration file\n"
	    "Exit: 0 sent or nothing to send, 75 the server failed (nothing\n"
	    "recorded: the next run sends it), 78 configuration.\n");
}

int
cmd_remind(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfg_path = NULL;
	struct cli_env env;
	int c, rc, dry_run = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "nc:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = 1;
			break;
		case 'c':
			cfg_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	rc = cli_env_open(&env, cfg_path, CLI_NEED_STORE | CLI_NEED_CALENDAR |
	    CLI_NEED_SECRETS);
	if (rc != 0)
		return rc;
	rc = remind_run(env.store, env.cal, &env.cfg, remind_now(), dry_run);
	cli_env_close(&env);
	return rc;
}
