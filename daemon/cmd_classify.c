/* SPDX-License-Identifier: MIT */
/*
 * cmd_classify.c: `intake classify [FILE...] [-c FILE]`: triage each
 * message file (standard input when none, or "-") and print one JSON object
 * per line.  No database.  Format in doc/interfaces.md, "intake classify and
 * the triage lexicon".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calltype.h"
#include "cli.h"
#include "fmt.h"
#include "message.h"
#include "triage.h"
#include "util.h"

/* The JSON line for one result; caller frees. */
static char *
result_json(const char *file, const struct triage_result *res)
{
	json_t *o, *r;
	char *s, *t;
	size_t i;

	o = json_object();
	r = json_array();
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "type", json_string(call_type_name(res->type)));
	json_object_set_new(o, "urgency", json_string(urgency_name(res->urgency)));
	json_object_set_new(o, "minor", json_boolean(res->minor));
	json_object_set_new(o, "danger", json_boolean(res->danger));
	json_object_set_new(o, "automated", json_boolean(res->automated));
	json_object_set_new(o, "lang", json_string(res->lang));
	json_object_set_new(o, "needs_interpreter",
	    json_boolean(res->needs_interpreter));
	for (i = 0; i < res->nrationale; i++) {
		/* rationale strings are valid UTF-8 (quotes are sanitised) */
		t = utf8_sanitize(res->rationale[i], strlen(res->rationale[i]));
		json_array_append_new(r, json_string(t));
		free(t);
	}
	json_object_set_new(o, "rationale", r);
	s = fmt_json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	return s;
}

/* 0, or an exit code. */
static int
classify_one(const struct lexicon *lex, const char *path,
    const struct parse_limits *lim)
{
	struct message m;
	struct triage_result res;
	char *raw = NULL, *line, *name;
	size_t len = 0;
	int rc;

	if (strcmp(path, "-") == 0)
		rc = read_fd(STDIN_FILENO, lim->max_message_bytes, &raw, &len);
	else
		rc = read_file(path, lim->max_message_bytes, &raw, &len);
	if (rc != 0) {
		fprintf(stderr, "intake classify: %s: cannot read (missing, "
		    "unreadable or larger than max_message_bytes)\n", path);
		return EX_NOINPUT;
	}
	message_parse(raw, len, lim, &m);
	free(raw);
	if (triage_classify(lex, &m, &res) != 0) {
		message_free(&m);
		fprintf(stderr, "intake classify: %s: classification failed\n",
		    path);
		return EX_SOFTWARE;
	}
	name = utf8_sanitize(path, strlen(path));
	line = result_json(name, &res);
	free(name);
	triage_result_free(&res);
	message_free(&m);
	if (line == NULL) {
		fprintf(stderr, "intake classify: %s: cannot encode\n", path);
		return EX_SOFTWARE;
	}
	printf("%s\n", line);
	free(line);
	return 0;
}

int
cmd_classify(struct cmd_ctx *ctx)
{
	struct parse_limits lim;
	const struct config *cfg = &ctx->env.cfg;
	int rc, worst = 0, i;

	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	parse_limits_default(&lim);
	lim.max_message_bytes = cfg->max_message_bytes;
	lim.max_depth = cfg->max_mime_depth;
	lim.max_parts = cfg->max_mime_parts;
	lim.max_headers = cfg->max_headers;
	lim.max_header_bytes = cfg->max_header_bytes;
	lim.max_text_bytes = cfg->max_text_bytes;
	lim.max_decode_ratio = cfg->max_decode_ratio;
	if (ctx->argc == 0)
		worst = classify_one(ctx->env.lex, "-", &lim);
	for (i = 0; i < ctx->argc; i++) {
		rc = classify_one(ctx->env.lex, ctx->argv[i], &lim);
		if (rc != 0 && worst == 0)
			worst = rc;
	}
	return worst;
}
