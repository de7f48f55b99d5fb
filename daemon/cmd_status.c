/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c: `intake status`, for people and for monitoring: per
 * configured source the last successful poll, the last error, messages
 * waiting, tickets created and parse errors today; the outbox backlog.
 * Exit 1 when a source is stale or the outbox is stuck, so a monitoring
 * system (or cron's mail) notices that mail has stopped flowing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "fmt.h"
#include "util.h"

/* An undelivered outbox row this old, or retried this often, is stuck. */
#define OUTBOX_STUCK_SECONDS	(15 * 60)
#define OUTBOX_STUCK_ATTEMPTS	5
#define STATUS_UNHEALTHY	1
/* Unmatched staff replies listed per outbound source, and their fields'
 * bytes (UTF-8, cut on a character). */
#define STATUS_UNMATCHED_SHOWN	10
#define STATUS_FIELD_MAX	121

struct source_status {
	const char	*name;
	const char	*type;
	int		 known;		/* a source_state row exists */
	time_t		 last_poll, last_success, last_error_at;
	char		*last_error;
	int		 failures;
	long long	 waiting;	/* -1 unknown */
	long long	 tickets_today, parse_errors_today;
	int		 stale;
	long long	 refused;	/* push sources: requests refused */
	time_t		 refused_at;
	/* outbound sources: staff replies that threaded to no ticket
	 * (reply.h), how many and the newest few */
	int		 outbound;
	long long	 unmatched;
	size_t		 nshown;
	struct unmatched_row {
		long long	 id;
		time_t		 at;
		char		 to[STATUS_FIELD_MAX];
		char		 subject[STATUS_FIELD_MAX];
	}		 shown[STATUS_UNMATCHED_SHOWN];
};

struct outbox_status {
	long long	 undelivered;
	time_t		 oldest;	/* created_at of the oldest, or 0 */
	long long	 max_attempts;
	long long	 stuck_rows;
	int		 stuck;
};

static const char *
source_type_name(enum source_type t)
{
	switch (t) {
	case SOURCE_MAILDIR:
		return "maildir";
	case SOURCE_IMAP:
		return "imap";
	case SOURCE_HTTP:
		return "http";
	case SOURCE_TWILIO:
		return "twilio";
	case SOURCE_WHATSAPP:
		return "whatsapp";
	case SOURCE_WEBHOOK:
		return "webhook";
	default:
		return "stdin";
	}
}

static time_t
start_of_local_day(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return t - t % 86400;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* On the store's statement API (both drivers); one text serves both but
 * where PostgreSQL sums no booleans. */
static const struct query q_tickets_today = {
	"SELECT count(*) FROM messages m WHERE m.source = ?1 "
	"AND m.created_at >= ?2 AND m.id = (SELECT min(id) FROM messages "
	"WHERE ticket_id = m.ticket_id)", NULL
};

static const struct query q_parse_errors_today = {
	"SELECT count(*) FROM messages WHERE source = ?1 "
	"AND created_at >= ?2 AND parse_status IN ('error', 'limit')", NULL
};

static const struct query q_unmatched = {
	"SELECT id, received_at, to_addr, subject, count(*) OVER () "
	"FROM unmatched_replies WHERE source = ?1 "
	"AND attached_message IS NULL ORDER BY id DESC LIMIT ?2", NULL
};

static const struct query q_source = {
	"SELECT last_poll_at, last_success_at, last_error, last_error_at, "
	"consecutive_failures, messages_waiting, refused, refused_at "
	"FROM source_state WHERE source = ?1", NULL
};

static const struct query q_outbox = {
	"SELECT count(*), min(created_at), max(attempts), "
	"sum(created_at <= ?1 OR attempts >= ?2) FROM outbox "
	"WHERE delivered_at IS NULL",
	"SELECT count(*), min(created_at), max(attempts), "
	"count(*) FILTER (WHERE created_at <= $1 OR attempts >= $2) "
	"FROM outbox WHERE delivered_at IS NULL"
};

static int
one_count(struct store *st, const struct query *q, const char *source,
    time_t since, long long *out)
{
	struct stmt *s;
	int rc;

	*out = 0;
	if ((s = store_prepare(st, q, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)since)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW)
		*out = store_col_int64(s, 0);
	store_done(s);
	return rc == STORE_ROW ? STORE_OK : rc == STORE_DONE ? STORE_ERR : rc;
}

/* A stored string, sanitized (caller frees), or NULL. */
static char *
col_clean(struct stmt *s, int i)
{
	size_t len;
	const char *t = store_col_text(s, i, &len);

	return t ? utf8_sanitize(t, len) : NULL;
}

/* Copy a stored string into a fixed field, cut on a UTF-8 character. */
static void
copy_field(char *dst, struct stmt *s, int i)
{
	char *clean, *cut;

	*dst = '\0';
	if ((clean = col_clean(s, i)) == NULL)
		return;
	cut = utf8_truncate(clean, STATUS_FIELD_MAX - 1);
	snprintf(dst, STATUS_FIELD_MAX, "%s", cut);
	free(cut);
	free(clean);
}

/* An outbound source's unmatched replies: the count and the newest. */
static int
load_unmatched(struct store *st, const struct source_config *src,
    struct source_status *ss)
{
	struct stmt *s;
	int rc;

	ss->outbound = 1;
	if ((s = store_prepare(st, &q_unmatched, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, src->name, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, STATUS_UNMATCHED_SHOWN)) == STORE_OK)
		while ((rc = store_step(s)) == STORE_ROW &&
		    ss->nshown < STATUS_UNMATCHED_SHOWN) {
			struct unmatched_row *u = &ss->shown[ss->nshown++];

			u->id = store_col_int64(s, 0);
			u->at = (time_t)store_col_int64(s, 1);
			copy_field(u->to, s, 2);
			copy_field(u->subject, s, 3);
			ss->unmatched = store_col_int64(s, 4);
		}
	store_done(s);
	return rc == STORE_DONE || rc == STORE_ROW ? STORE_OK : rc;
}

static int
load_source(struct store *st, const struct source_config *src, time_t now,
    time_t today, int stale_minutes, struct source_status *ss)
{
	struct stmt *s;
	int rc;

	memset(ss, 0, sizeof(*ss));
	ss->name = src->name;
	ss->type = source_type_name(src->type);
	ss->waiting = -1;
	if ((s = store_prepare(st, &q_source, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, src->name, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		ss->known = 1;
		ss->last_poll = (time_t)store_col_int64(s, 0);
		ss->last_success = (time_t)store_col_int64(s, 1);
		ss->last_error = col_clean(s, 2);
		ss->last_error_at = (time_t)store_col_int64(s, 3);
		ss->failures = (int)store_col_int64(s, 4);
		if (!store_col_null(s, 5))
			ss->waiting = store_col_int64(s, 5);
		ss->refused = store_col_int64(s, 6);
		ss->refused_at = (time_t)store_col_int64(s, 7);
	}
	store_done(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return rc;
	/* Never polled counts as stale: a daemon that never ran is news. */
	ss->stale = ss->last_success == 0 ||
	    now - ss->last_success > (time_t)stale_minutes * 60;
	/* A ticket is this source's when its first message came from it. */
	rc = one_count(st, &q_tickets_today, src->name, today,
	    &ss->tickets_today);
	if (rc == STORE_OK)
		rc = one_count(st, &q_parse_errors_today, src->name, today,
		    &ss->parse_errors_today);
	if (rc == STORE_OK && src->outbound)
		rc = load_unmatched(st, src, ss);
	return rc;
}

static int
load_outbox(struct store *st, time_t now, struct outbox_status *o)
{
	struct stmt *s;
	int rc;

	memset(o, 0, sizeof(*o));
	if ((s = store_prepare(st, &q_outbox, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)(now -
	    OUTBOX_STUCK_SECONDS))) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, OUTBOX_STUCK_ATTEMPTS)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		o->undelivered = store_col_int64(s, 0);
		o->oldest = (time_t)store_col_int64(s, 1);
		o->max_attempts = store_col_int64(s, 2);
		o->stuck_rows = store_col_int64(s, 3);
	}
	store_done(s);
	o->stuck = o->stuck_rows > 0;
	return rc == STORE_ROW ? STORE_OK : rc == STORE_DONE ? STORE_ERR : rc;
}

/* {"count": N, "newest": [{"id","received","to","subject"}, ...]} */
static json_t *
unmatched_json(const struct source_status *ss)
{
	json_t *o = json_object(), *a = json_array(), *u;
	size_t k;

	for (k = 0; k < ss->nshown; k++) {
		u = json_object();
		json_object_set_new(u, "id", json_integer(ss->shown[k].id));
		json_object_set_new(u, "received", fmt_json_time(ss->shown[k].at));
		json_object_set_new(u, "to", *ss->shown[k].to ?
		    json_string(ss->shown[k].to) : json_null());
		json_object_set_new(u, "subject", *ss->shown[k].subject ?
		    json_string(ss->shown[k].subject) : json_null());
		json_array_append_new(a, u);
	}
	json_object_set_new(o, "count", json_integer(ss->unmatched));
	json_object_set_new(o, "newest", a);
	return o;
}

static void
print_json(const struct source_status *ss, size_t n,
    const struct outbox_status *o, time_t now, int healthy)
{
	json_t *root = json_object(), *arr = json_array(), *j;
	char *text;
	size_t i;

	for (i = 0; i < n; i++) {
		j = json_object();
		json_object_set_new(j, "name", json_string(ss[i].name));
		json_object_set_new(j, "type", json_string(ss[i].type));
		json_object_set_new(j, "last_poll",
		    fmt_json_time(ss[i].last_poll));
		json_object_set_new(j, "last_success",
		    fmt_json_time(ss[i].last_success));
		json_object_set_new(j, "last_error", ss[i].last_error ?
		    json_string(ss[i].last_error) : json_null());
		json_object_set_new(j, "last_error_at",
		    fmt_json_time(ss[i].last_error_at));
		json_object_set_new(j, "consecutive_failures",
		    json_integer(ss[i].failures));
		json_object_set_new(j, "messages_waiting", ss[i].waiting < 0 ?
		    json_null() : json_integer(ss[i].waiting));
		json_object_set_new(j, "tickets_today",
		    json_integer(ss[i].tickets_today));
		json_object_set_new(j, "parse_errors_today",
		    json_integer(ss[i].parse_errors_today));
		json_object_set_new(j, "stale", json_boolean(ss[i].stale));
		json_object_set_new(j, "refused", json_integer(ss[i].refused));
		json_object_set_new(j, "refused_at",
		    fmt_json_time(ss[i].refused_at));
		if (ss[i].outbound)
			json_object_set_new(j, "unmatched_replies",
			    unmatched_json(&ss[i]));
		json_array_append_new(arr, j);
	}
	json_object_set_new(root, "at", fmt_json_time(now));
	json_object_set_new(root, "healthy", json_boolean(healthy));
	json_object_set_new(root, "sources", arr);
	j = json_object();
	json_object_set_new(j, "undelivered", json_integer(o->undelivered));
	json_object_set_new(j, "oldest_age_seconds", o->undelivered ?
	    json_integer((json_int_t)(now - o->oldest)) : json_null());
	json_object_set_new(j, "max_attempts", json_integer(o->max_attempts));
	json_object_set_new(j, "stuck", json_boolean(o->stuck));
	json_object_set_new(root, "outbox", j);
	text = fmt_json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text)
		puts(text);
	free(text);
}

static void
print_when(const char *label, time_t t, time_t now)
{
	char iso[40], ago[32];

	if (t == 0) {
		printf("  %-20s never\n", label);
		return;
	}
	iso8601_local(t, iso, sizeof(iso));
	fmt_duration((long long)(now - t), ago, sizeof(ago));
	printf("  %-20s %s (%s ago)\n", label, iso, ago);
}

/* Staff replies kept because they threaded to no ticket (reply.h). */
static void
print_unmatched(const struct source_status *ss)
{
	char iso[40], *to, *subj;
	size_t k;

	printf("  %-20s %lld\n", "unmatched replies:", ss->unmatched);
	for (k = 0; k < ss->nshown; k++) {
		iso8601_local(ss->shown[k].at, iso, sizeof(iso));
		to = fmt_terminal_safe(*ss->shown[k].to ? ss->shown[k].to : "-", 0);
		subj = fmt_terminal_safe(*ss->shown[k].subject ?
		    ss->shown[k].subject : "-", 0);
		printf("  %-20s unmatched #%lld %s to %s: %s\n", "", ss->shown[k].id,
		    iso, to, subj);
		free(to);
		free(subj);
	}
}

static void
print_text(const struct source_status *ss, size_t n,
    const struct outbox_status *o, time_t now, int stale_minutes)
{
	char age[32], *safe;
	size_t i;

	if (n == 0)
		printf("no sources configured\n");
	for (i = 0; i < n; i++) {
		printf("source %s (%s): %s\n", ss[i].name, ss[i].type, ss[i].stale ?
		    "STALE" : "ok");
		print_when("last poll:", ss[i].last_poll, now);
		print_when("last success:", ss[i].last_success, now);
		if (ss[i].last_error) {
			safe = fmt_terminal_safe(ss[i].last_error, 0);
			print_when("last error:", ss[i].last_error_at, now);
			printf("  %-20s %s (%d failure%s in a row)\n", "", safe,
			    ss[i].failures, ss[i].failures == 1 ? "" : "s");
			free(safe);
		} else
			printf("  %-20s none\n", "last error:");
		if (ss[i].waiting < 0)
			printf("  %-20s unknown\n", "messages waiting:");
		else
			printf("  %-20s %lld\n", "messages waiting:", ss[i].waiting);
		printf("  %-20s %lld\n", "tickets today:", ss[i].tickets_today);
		printf("  %-20s %lld\n", "parse errors today:",
		    ss[i].parse_errors_today);
		if (ss[i].refused) {
			printf("  %-20s %lld\n", "requests refused:",
			    ss[i].refused);
			print_when("last refused:", ss[i].refused_at, now);
		}
		if (ss[i].outbound)
			print_unmatched(&ss[i]);
	}
	printf("outbox: %s\n", o->stuck ? "STUCK" : "ok");
	printf("  %-20s %lld\n", "undelivered:", o->undelivered);
	if (o->undelivered) {
		fmt_duration((long long)(now - o->oldest), age, sizeof(age));
		printf("  %-20s %s\n", "oldest:", age);
		printf("  %-20s %lld\n", "most attempts:", o->max_attempts);
	}
	printf("stale after %d minutes without a successful poll; outbox stuck "
	    "after %d minutes or %d attempts\n", stale_minutes,
	    OUTBOX_STUCK_SECONDS / 60, OUTBOX_STUCK_ATTEMPTS);
}

int
cmd_status(struct cmd_ctx *ctx)
{
	struct source_status *ss;
	struct outbox_status ob;
	const struct cli_env *env = &ctx->env;
	time_t now = time(NULL), today;
	size_t i;
	int rc = STORE_OK, json = ctx->format == 1, healthy;

	if ((rc = cli_no_operands("status", ctx->argc, ctx->argv, 0)) != 0)
		return rc;
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	today = start_of_local_day(now);
	ss = xcalloc(env->cfg.nsources ? env->cfg.nsources : 1, sizeof(*ss));
	for (i = 0; i < env->cfg.nsources && rc == STORE_OK; i++)
		rc = load_source(env->store, &env->cfg.sources[i], now, today,
		    env->cfg.alerts_source_stale_minutes, &ss[i]);
	if (rc == STORE_OK)
		rc = load_outbox(env->store, now, &ob);
	if (rc != STORE_OK)
		rc = cmd_store_fail(ctx, rc);
	else {
		healthy = !ob.stuck;
		for (i = 0; i < env->cfg.nsources; i++)
			healthy &= !ss[i].stale;
		if (json)
			print_json(ss, env->cfg.nsources, &ob, now, healthy);
		else
			print_text(ss, env->cfg.nsources, &ob, now,
			    env->cfg.alerts_source_stale_minutes);
		rc = healthy ? 0 : STATUS_UNHEALTHY;
	}
	for (i = 0; i < env->cfg.nsources; i++)
		free(ss[i].last_error);
	free(ss);
	return rc;
}
