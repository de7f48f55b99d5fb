/* SPDX-License-Identifier: MIT */
/*
 * intake ingest: pipe delivery from an MTA (as rt-mailgate).  Exit codes
 * follow sysexits.h so the MTA retries (75) rather than drops mail.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "ingest.h"
#include "log.h"
#include "parsechild.h"
#include "remind.h"
#include "util.h"

/* Beyond max_message_bytes the message is still stored whole (nothing else
 * keeps it) and flagged for a human; past this hard cap it is refused. */
#define INGEST_HARD_CAP	((size_t)1 << 30)

static void
usage(FILE *f)
{
	fprintf(f, "usage: intake ingest [--source NAME] [-c FILE] [--no-sandbox]\n"
	    "Reads one RFC 5322 message on standard input, stores it as a ticket\n"
	    "and prints the ticket as JSON.  Exit 0 stored or duplicate, 65 empty\n"
	    "input, 75 database busy/full/unwritable (retry), 78 configuration.\n"
	    "The message is parsed in a sandboxed child unless --no-sandbox or\n"
	    "INTAKE_NO_SANDBOX is set (sanitizer and valgrind runs).\n");
}

static void
print_result(const struct ingest_result *r)
{
	json_t *o = json_object();
	char iso[40];
	char *s;

	json_object_set_new(o, "ticket", json_integer(r->ticket));
	json_object_set_new(o, "message", json_integer(r->message));
	json_object_set_new(o, "duplicate", json_boolean(r->duplicate));
	if (!r->duplicate) {
		json_object_set_new(o, "appended", json_boolean(r->appended));
		json_object_set_new(o, "type", json_string(call_type_name(r->type)));
		json_object_set_new(o, "urgency",
		    json_string(urgency_name(r->urgency)));
		json_object_set_new(o, "parse_status", json_string(
		    r->parse_status == MSG_PARSE_OK ? "ok" :
		    r->parse_status == MSG_PARSE_PARTIAL ? "partial" :
		    r->parse_status == MSG_PARSE_LIMIT ? "limit" : "error"));
		if (r->response_due) {
			iso8601_local(r->response_due, iso, sizeof(iso));
			json_object_set_new(o, "response_due", json_string(iso));
			iso8601_local(r->breach_at, iso, sizeof(iso));
			json_object_set_new(o, "breach_at", json_string(iso));
		} else {
			json_object_set_new(o, "response_due", json_null());
			json_object_set_new(o, "breach_at", json_null());
		}
		json_object_set_new(o, "alerted", json_boolean(r->alerted));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

int
cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct parsechild *parser = NULL;
	char *perr = NULL;
	int no_sandbox = getenv("INTAKE_NO_SANDBOX") != NULL;
	const char *cfg_path = NULL, *source = "stdin";
	struct cli_env env;
	struct ingest_ctx ctx;
	struct ingest_result res;
	struct raw_input raw;
	char *data = NULL;
	size_t len = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			source = optarg;
			break;
		case 'c':
			cfg_path = optarg;
			break;
		case 'S':
			no_sandbox = 1;
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
	/* Read first: a message on a pipe must be taken even if the
	 * database then turns out to be busy (the MTA keeps it and retries). */
	if (read_fd(STDIN_FILENO, INGEST_HARD_CAP, &data, &len) == -1) {
		fprintf(stderr, "intake ingest: reading standard input: %s\n",
		    errno == EFBIG ? "message larger than 1 GiB" : strerror(errno));
		return errno == EFBIG ? EX_DATAERR : EX_TEMPFAIL;
	}
	if (len == 0) {
		fprintf(stderr, "intake ingest: empty input: nothing stored\n");
		free(data);
		return EX_DATAERR;
	}
	rc = cli_env_open(&env, cfg_path, CLI_NEED_STORE | CLI_NEED_CALENDAR |
	    CLI_NEED_LEXICON);
	if (rc != 0) {
		free(data);
		return rc;
	}
	ingest_ctx_init(&ctx, &env.cfg, env.cal, env.lex, env.store);
	ctx.actor = "intake-ingest";
	/* mail from the MTA is as hostile as mail from IMAP */
	if (!no_sandbox) {
		if ((parser = parsechild_start(&perr)) == NULL) {
			fprintf(stderr, "intake ingest: %s\n", perr);
			free(perr);
			cli_env_close(&env);
			free(data);
			return EX_TEMPFAIL;
		}
		ctx.parse = parsechild_parse;
		ctx.parse_arg = parser;
	}
	memset(&raw, 0, sizeof(raw));
	raw.data = data;
	raw.len = len;
	raw.source = source;
	raw.received_at = remind_now();	/* INTAKE_NOW: test hook only */
	rc = store_begin(env.store);
	if (rc == STORE_OK) {
		rc = ingest_raw(&ctx, &raw, &res);
		if (rc == STORE_OK)
			rc = store_commit(env.store);
		else
			store_rollback(env.store);
	}
	parsechild_stop(parser);
	if (rc != STORE_OK) {
		fprintf(stderr, "intake ingest: not stored: %s%s\n",
		    store_errmsg(env.store), rc == STORE_TEMP ?
		    " (temporary: retry later)" : "");
		cli_env_close(&env);
		free(data);
		/* Anything but bad input: the MTA keeps the message and retries. */
		return EX_TEMPFAIL;
	}
	print_result(&res);
	cli_env_close(&env);
	free(data);
	return 0;
}
