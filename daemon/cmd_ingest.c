/* SPDX-License-Identifier: MIT */
/*
 * intake ingest: pipe delivery from an MTA (as rt-mailgate).  Every
 * failure but bad input (an empty or over-1-GiB message) exits 75: Postfix
 * and Exim bounce any other code back to the person who wrote in, quoting
 * our error, while 75 keeps the mail queued until the admin fixes the cause
 * that stderr (the MTA's log) names.
 */
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
#include "source.h"
#include "remind.h"
#include "rota.h"
#include "util.h"

/* Beyond max_message_bytes the message is still stored whole (nothing else
 * keeps it) and flagged for a human; past this hard cap it is refused. */
#define INGEST_HARD_CAP	((size_t)1 << 30)

/* The one message read from standard input: a one-message driver of the
 * source engine (source.h), which does the transaction and the rest. */
struct stdin_msg {
	const char	*data;
	size_t		 len;
	time_t		 received_at;
	int		 stored;	/* res is set (printed once committed) */
	struct ingest_result res;
};

static int
stdin_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	(void)src;
	(void)run;
	(void)cur;
	(void)err;
	source_listing_add(out, NULL, NULL);	/* no key: no source_key */
	return SRC_OK;
}

static int
stdin_fetch(struct source *src, struct source_run *run, struct source_item *it,
    struct source_msg *m, char **err)
{
	const struct stdin_msg *in = src->priv;

	(void)run;
	(void)it;
	(void)err;
	m->raw.data = in->data;
	m->raw.len = in->len;
	m->raw.received_at = in->received_at;
	return FETCH_OK;
}

static const struct source_driver stdin_driver = {
	.type = "stdin",
	.list_new = stdin_list_new,
	.fetch = stdin_fetch,
};

static void
print_result(const struct ingest_result *r)
{
	json_t *o = json_object();
	char iso[40];
	char *s;

	json_object_set_new(o, "ticket", r->purged ? json_null() :
	    json_integer(r->ticket));
	json_object_set_new(o, "message", r->purged ? json_null() :
	    json_integer(r->message));
	json_object_set_new(o, "duplicate", json_boolean(r->duplicate));
	if (r->purged)
		json_object_set_new(o, "purged", json_true());
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

static void
stored(void *arg, const struct ingest_result *r)
{
	struct stdin_msg *in = arg;

	in->stored = 1;
	in->res = *r;
}

/* Usage and options in intake.c's table: a bad command line exits 75
 * there too (usage_rc), so the MTA keeps the message. */
int
cmd_ingest(struct cmd_ctx *ctx)
{
	struct parsechild *parser = NULL;
	char *perr = NULL;
	int no_sandbox = getenv("INTAKE_NO_SANDBOX") != NULL ||
	    cmd_opt(ctx, 'S') != NULL;
	const char *source = cmd_opt(ctx, 's') ? cmd_opt(ctx, 's') : "stdin";
	struct cli_env *envp = &ctx->env;
	static const volatile sig_atomic_t never;
	struct ingest_ctx ictx;
	struct rota *rota;
	struct source_config sc;
	struct source_stats stats;
	struct source_run run;
	struct source src;
	struct stdin_msg in;
	char *data = NULL, *err = NULL;
	size_t len = 0;
	int rc;

	if (ctx->argc != 0)
		return cmd_usage_error(ctx);
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
	if ((rc = cmd_open(ctx)) != 0) {
		/* cli_env_open said why; the message stays with the MTA */
		fprintf(stderr, "intake ingest: not stored (exit %d would bounce "
		    "it): deferred, exit 75\n", rc);
		free(data);
		return EX_TEMPFAIL;
	}
	ingest_ctx_init(&ictx, &envp->cfg, envp->cal, envp->lex, envp->store);
	ictx.actor = "intake-ingest";
	ictx.rota = rota = cli_rota(&envp->cfg, "ingest");
	/* mail from the MTA is as hostile as mail from IMAP */
	if (!no_sandbox) {
		if ((parser = parsechild_start(&perr)) == NULL) {
			fprintf(stderr, "intake ingest: %s\n", perr);
			free(perr);
			free(data);
			return EX_TEMPFAIL;
		}
		ictx.parse = parsechild_parse;
		ictx.parse_arg = parser;
	}
	memset(&in, 0, sizeof(in));
	in.data = data;
	in.len = len;
	in.received_at = remind_now();	/* INTAKE_NOW: test hook only */
	memset(&sc, 0, sizeof(sc));
	sc.name = (char *)source;
	memset(&src, 0, sizeof(src));
	src.cfg = &sc;
	source_set_driver(&src, &stdin_driver, &in);
	memset(&run, 0, sizeof(run));
	memset(&stats, 0, sizeof(stats));
	run.ictx = &ictx;
	run.stop = &never;
	run.batch = 1;
	run.once = 1;
	run.stored = stored;
	run.stored_arg = &in;
	rc = source_engine_poll(&src, &run, &stats, &err);
	source_close(&src);
	parsechild_stop(parser);
	rota_free(rota);
	if (rc != SRC_OK || !in.stored) {
		fprintf(stderr, "intake ingest: not stored: %s%s\n",
		    rc == SRC_OK && err ? err : store_errmsg(envp->store),
		    rc == SRC_STORE ? " (temporary: retry later)" : "");
		free(err);
		free(data);
		/* Anything but bad input: the MTA keeps the message and retries. */
		return EX_TEMPFAIL;
	}
	free(err);
	print_result(&in.res);
	free(data);
	return 0;
}
