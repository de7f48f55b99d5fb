/* SPDX-License-Identifier: MIT */
/*
 * cmd_changes.c: `intake changes [--since T] [--until T] [--format ...]`:
 * the shift handover.  What happened to which ticket since T (default: the
 * start of the current shift of the on-call rota, else the last 12 hours),
 * read from the events table: arrived (created), wrote
 * again (message), acknowledged, assigned, escalated (raise), reclassified,
 * closed, reopened, noted.  Grouped by ticket, oldest first.  Read-only.
 * On the store's statement API (both drivers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "fmt.h"
#include "remind.h"
#include "report.h"
#include "rota.h"
#include "util.h"

#define CHANGES_DEFAULT_SECS	(12 * 3600)
#define CHANGES_WIDTH		100

enum fmt { FMT_TEXT, FMT_CSV, FMT_JSON, FMT_HTML };

/* The event kinds a handover shows, in summary order, with their words. */
static const struct kind {
	const char	*kind;		/* events.kind */
	const char	*name;		/* machine name (JSON, CSV) */
	const char	*words;		/* summary */
} kinds[] = {
	{ "created", "arrived", "arrived" },
	{ "message", "wrote_again", "wrote again" },
	{ "ack", "acknowledged", "acknowledged" },
	{ "assign", "assigned", "assigned" },
	{ "raise", "escalated", "escalated" },
	{ "reclassify", "reclassified", "reclassified" },
	{ "close", "closed", "closed" },
	{ "reopen", "reopened", "reopened" },
	{ "note", "noted", "noted" },
};

struct change {
	time_t		 at;
	const struct kind *k;
	char		*actor;
	char		*what;		/* one line, message-derived parts raw */
	json_t		*detail;	/* the event's detail, parsed */
};

struct tgroup {
	long long	 id;
	char		*type, *urgency, *status, *disposition;
	char		*assignee, *sender, *subject;
	struct change	*c;
	size_t		 n, cap;
};

struct changes {
	time_t		 since, until;
	char		*shift;		/* whose shift since is the start of;
					   NULL: --since or the last 12 h */
	struct tgroup	*g;
	size_t		 n, cap;
	size_t		 count[NELEM(kinds)];
};

static const struct kind *
kind_of(const char *k)
{
	size_t i;

	for (i = 0; k && i < NELEM(kinds); i++)
		if (strcmp(k, kinds[i].kind) == 0)
			return &kinds[i];
	return NULL;
}

static const char *
jstr(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/* The words for one event, from its detail. */
static char *
describe(const struct kind *k, json_t *d)
{
	json_t *from, *to, *met;

	if (strcmp(k->kind, "created") == 0)
		return xasprintf("arrived as %s/%s via %s", jstr(d, "type", "?"),
		    jstr(d, "urgency", "?"), jstr(d, "source", "?"));
	if (strcmp(k->kind, "message") == 0)
		return xasprintf("the contact wrote again (via %s)",
		    jstr(d, "source", "?"));
	if (strcmp(k->kind, "ack") == 0) {
		met = json_object_get(d, "sla_met");
		return xasprintf("acknowledged%s", json_is_true(met) ?
		    " (SLA met)" : json_is_false(met) ? " (SLA breached)" : "");
	}
	if (strcmp(k->kind, "assign") == 0)
		return json_string_value(json_object_get(d, "to")) ?
		    xasprintf("assigned to %s", jstr(d, "to", "?")) :
		    xstrdup("unassigned");
	if (strcmp(k->kind, "raise") == 0)
		return xasprintf("escalated to %s/%s (was %s/%s)",
		    jstr(d, "to_type", "?"), jstr(d, "to_urgency", "?"),
		    jstr(d, "from_type", "?"), jstr(d, "from_urgency", "?"));
	if (strcmp(k->kind, "reclassify") == 0) {
		from = json_object_get(d, "from");
		to = json_object_get(d, "to");
		return xasprintf("reclassified %s/%s -> %s/%s%s",
		    jstr(from, "type", "?"), jstr(from, "urgency", "?"),
		    jstr(to, "type", "?"), jstr(to, "urgency", "?"),
		    json_is_true(json_object_get(d, "reopened")) ?
		    ", reopened" : "");
	}
	if (strcmp(k->kind, "close") == 0)
		return xasprintf("closed (%s)", jstr(d, "disposition", "?"));
	if (strcmp(k->kind, "reopen") == 0)
		return json_object_get(d, "why") ? xasprintf("reopened: %s",
		    jstr(d, "why", "")) : xstrdup("reopened");
	return xasprintf("note: %s", jstr(d, "text", ""));
}

static char *
dup_col(struct stmt *s, int i)
{
	size_t len;
	const char *t = store_col_text(s, i, &len);

	return t ? utf8_sanitize(t, len) : NULL;
}

static struct tgroup *
group_for(struct changes *ch, struct stmt *s)
{
	struct tgroup *g;
	long long id = store_col_int64(s, 0);

	if (ch->n > 0 && ch->g[ch->n - 1].id == id)
		return &ch->g[ch->n - 1];
	if (ch->n == ch->cap) {
		ch->cap = ch->cap ? ch->cap * 2 : 16;
		ch->g = xreallocarray(ch->g, ch->cap, sizeof(*ch->g));
	}
	g = &ch->g[ch->n++];
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->type = dup_col(s, 1);
	g->urgency = dup_col(s, 2);
	g->status = dup_col(s, 3);
	g->disposition = dup_col(s, 4);
	g->assignee = dup_col(s, 5);
	g->sender = dup_col(s, 6);
	g->subject = dup_col(s, 7);
	return g;
}

/* Tickets in the order their first change in the window happened. */
static const struct query q_window = {
	"SELECT t.id, t.type, t.urgency, t.status, t.disposition, t.assignee, "
	"t.sender, t.subject, e.at, e.kind, e.actor, e.detail FROM events e "
	"JOIN tickets t ON t.id = e.ticket_id JOIN (SELECT ticket_id, "
	"min(at) AS first, min(id) AS fid FROM events WHERE at >= ?1 AND "
	"at < ?2 GROUP BY ticket_id) f ON f.ticket_id = e.ticket_id "
	"WHERE e.at >= ?1 AND e.at < ?2 "
	"ORDER BY f.first, f.fid, e.at, e.id", NULL };

static int
load(struct store *st, struct changes *ch)
{
	struct stmt *s;
	struct tgroup *g;
	struct change *c;
	const struct kind *k;
	json_error_t err;
	const char *detail;
	int rc;

	if ((s = store_prepare(st, &q_window, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)ch->since)) != STORE_OK ||
	    (rc = store_bind_int64(s, 2, (long long)ch->until)) != STORE_OK) {
		store_done(s);
		return rc;
	}
	while ((rc = store_step(s)) == STORE_ROW) {
		if ((k = kind_of(store_col_text(s, 9, NULL))) == NULL)
			continue;	/* alerts: the daemon's, not staff work */
		g = group_for(ch, s);
		if (g->n == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 4;
			g->c = xreallocarray(g->c, g->cap, sizeof(*g->c));
		}
		c = &g->c[g->n++];
		c->at = (time_t)store_col_int64(s, 8);
		c->k = k;
		c->actor = dup_col(s, 10);
		detail = store_col_text(s, 11, NULL);
		c->detail = detail ? json_loads(detail, 0, &err) : NULL;
		if (c->detail == NULL)
			c->detail = json_object();
		c->what = describe(k, c->detail);
		ch->count[k - kinds]++;
	}
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

static void
changes_free(struct changes *ch)
{
	size_t i, j;
	struct tgroup *g;

	for (i = 0; i < ch->n; i++) {
		g = &ch->g[i];
		for (j = 0; j < g->n; j++) {
			free(g->c[j].actor);
			free(g->c[j].what);
			json_decref(g->c[j].detail);
		}
		free(g->c);
		free(g->type);
		free(g->urgency);
		free(g->status);
		free(g->disposition);
		free(g->assignee);
		free(g->sender);
		free(g->subject);
	}
	free(ch->g);
	free(ch->shift);
}

/*
 * The default start of the window: the start of the current shift of the
 * on-call rota (oncall.rota): the caller's own when their login
 * (oncall.people) is on call now, else the earliest of the shifts on at
 * now, so nothing anyone on call now saw is left out; with no
 * rota, nobody on call (a gap) or a rota refused (said on stderr), the
 * last 12 hours.
 */
static void
default_since(const struct config *cfg, time_t now, struct changes *ch)
{
	struct rota_shift *v;
	struct rota *r;
	const struct oncall_person *me;
	size_t n, i, first = 0;
	char *err, login[256];

	ch->since = now - CHANGES_DEFAULT_SECS;
	if (cfg->oncall_rota == NULL)
		return;
	if ((r = rota_load(cfg, &err)) == NULL) {
		fprintf(stderr, "%s\nintake changes: oncall.rota refused: since "
		    "12 hours ago\n", err);
		free(err);
		return;
	}
	me = rota_person(cfg, cli_login(login, sizeof(login)));
	if ((n = rota_on_call(r, now, &v)) > 0) {
		/* Your own shift when you are on call (oncall.people login),
		 * else the earliest of those on now. */
		for (i = 0; me && i < n; i++)
			if (strcasecmp(v[i].name, me->name) == 0)
				break;
		if (me && i < n)
			first = i;
		else
			me = NULL;
		for (i = 1; i < n; i++)
			if (v[i].start < v[first].start && (me == NULL ||
			    strcasecmp(v[i].name, me->name) == 0))
				first = i;
		ch->since = v[first].start;
		ch->shift = xstrdup(v[first].name);
		free(v);
	}
	rota_free(r);
}

static void
hhmm(time_t t, const char *fmt, char *out, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, len, fmt, &tm) == 0)
		snprintf(out, len, "?");
}

/* "3 arrived, 1 wrote again, ..." or "nothing". */
static void
summary(const struct changes *ch, struct buf *b)
{
	size_t i, any = 0;

	for (i = 0; i < NELEM(kinds); i++) {
		if (ch->count[i] == 0)
			continue;
		buf_addf(b, "%s%zu %s", any++ ? ", " : "", ch->count[i],
		    kinds[i].words);
	}
	if (!any)
		buf_addstr(b, "nothing");
}

static void
add_line(struct buf *b, const char *raw)
{
	char *safe = fmt_terminal_safe(raw, 0);

	fmt_add_clipped(b, safe, CHANGES_WIDTH);
	buf_addc(b, '\n');
	free(safe);
}

static void
render_text(const struct changes *ch, struct buf *b)
{
	char from[32], to[32], at[32], *line;
	size_t i, j;
	const struct tgroup *g;

	hhmm(ch->since, "%Y-%m-%d %H:%M", from, sizeof(from));
	hhmm(ch->until, "%Y-%m-%d %H:%M", to, sizeof(to));
	if (ch->shift) {
		line = xasprintf("Changes %s to %s (since the start of %s's "
		    "shift): %zu ticket%s", from, to, ch->shift, ch->n,
		    ch->n == 1 ? "" : "s");
		add_line(b, line);
		free(line);
	} else
		buf_addf(b, "Changes %s to %s: %zu ticket%s\n", from, to, ch->n,
		    ch->n == 1 ? "" : "s");
	summary(ch, b);
	buf_addc(b, '\n');
	for (i = 0; i < ch->n; i++) {
		g = &ch->g[i];
		line = xasprintf("#%lld %s/%s %s%s%s  %s  %s", g->id,
		    g->type ? g->type : "?", g->urgency ? g->urgency : "?",
		    g->status ? g->status : "?", g->disposition ? " " : "",
		    g->disposition ? g->disposition : "",
		    g->sender ? g->sender : "-",
		    g->subject ? g->subject : "(no subject)");
		buf_addc(b, '\n');
		add_line(b, line);
		free(line);
		for (j = 0; j < g->n; j++) {
			hhmm(g->c[j].at, "%m-%d %H:%M", at, sizeof(at));
			line = xasprintf("  %s  %-13.13s %s", at,
			    g->c[j].actor ? g->c[j].actor : "?", g->c[j].what);
			add_line(b, line);
			free(line);
		}
	}
}

static void
render_csv(const struct changes *ch, struct buf *b)
{
	char at[32];
	size_t i, j;
	const struct tgroup *g;

	buf_addstr(b, "ticket,type,urgency,status,sender,subject,at,actor,"
	    "change,what\r\n");
	for (i = 0; i < ch->n; i++) {
		g = &ch->g[i];
		for (j = 0; j < g->n; j++) {
			hhmm(g->c[j].at, "%Y-%m-%d %H:%M", at, sizeof(at));
			buf_addf(b, "%lld,", g->id);
			fmt_csv_field(b, g->type, 0);
			buf_addc(b, ',');
			fmt_csv_field(b, g->urgency, 0);
			buf_addc(b, ',');
			fmt_csv_field(b, g->status, 0);
			buf_addc(b, ',');
			fmt_csv_field(b, g->sender, 1);
			buf_addc(b, ',');
			fmt_csv_field(b, g->subject, 1);
			buf_addc(b, ',');
			fmt_csv_field(b, at, 0);
			buf_addc(b, ',');
			fmt_csv_field(b, g->c[j].actor, 1);
			buf_addc(b, ',');
			fmt_csv_field(b, g->c[j].k->name, 0);
			buf_addc(b, ',');
			fmt_csv_field(b, g->c[j].what, 1);
			buf_addstr(b, "\r\n");
		}
	}
}

static void
render_json(const struct changes *ch, struct buf *b)
{
	json_t *root, *sum, *arr, *o, *cs, *c;
	size_t i, j;
	const struct tgroup *g;
	char *text;

	root = json_object();
	json_object_set_new(root, "since", fmt_json_time(ch->since));
	json_object_set_new(root, "until", fmt_json_time(ch->until));
	json_object_set_new(root, "shift", ch->shift ?
	    json_string(ch->shift) : json_null());
	sum = json_object();
	for (i = 0; i < NELEM(kinds); i++)
		json_object_set_new(sum, kinds[i].name,
		    json_integer((json_int_t)ch->count[i]));
	json_object_set_new(root, "summary", sum);
	arr = json_array();
	for (i = 0; i < ch->n; i++) {
		g = &ch->g[i];
		o = json_object();
		json_object_set_new(o, "id", json_integer(g->id));
		json_object_set_new(o, "type", fmt_json_str(g->type));
		json_object_set_new(o, "urgency", fmt_json_str(g->urgency));
		json_object_set_new(o, "status", fmt_json_str(g->status));
		json_object_set_new(o, "disposition",
		    fmt_json_str(g->disposition));
		json_object_set_new(o, "assignee", fmt_json_str(g->assignee));
		json_object_set_new(o, "sender", fmt_json_str(g->sender));
		json_object_set_new(o, "subject", fmt_json_str(g->subject));
		cs = json_array();
		for (j = 0; j < g->n; j++) {
			c = json_object();
			json_object_set_new(c, "at", fmt_json_time(g->c[j].at));
			json_object_set_new(c, "actor",
			    fmt_json_str(g->c[j].actor));
			json_object_set_new(c, "change",
			    json_string(g->c[j].k->name));
			json_object_set_new(c, "what", fmt_json_str(g->c[j].what));
			json_object_set(c, "detail", g->c[j].detail);
			json_array_append_new(cs, c);
		}
		json_object_set_new(o, "changes", cs);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "tickets", arr);
	text = fmt_json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text) {
		buf_addstr(b, text);
		buf_addc(b, '\n');
	}
	free(text);
}

static void
render_html(const struct changes *ch, struct buf *b)
{
	char from[32], to[32], at[32], head[64];
	size_t i, j;
	const struct tgroup *g;
	struct buf s;

	hhmm(ch->since, "%Y-%m-%d %H:%M", from, sizeof(from));
	hhmm(ch->until, "%Y-%m-%d %H:%M", to, sizeof(to));
	buf_addf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1\"><title>Changes %s to %s</title>"
	    "</head>\n<body style=\"font-family:sans-serif;font-size:14px;"
	    "margin:12px;max-width:1280px;color:#222\">\n<h1 style=\"font-size:"
	    "20px;margin:0 0 4px\">Changes %s to %s</h1>\n<p style=\"color:#555;"
	    "margin:0 0 12px\">", from, to, from, to);
	if (ch->shift) {
		buf_addstr(b, "Since the start of ");
		fmt_html_escape(b, ch->shift);
		buf_addstr(b, "'s shift. ");
	}
	buf_init(&s, 0);
	summary(ch, &s);
	fmt_html_escape(b, s.data);
	buf_free(&s);
	buf_addstr(b, "</p>\n");
	for (i = 0; i < ch->n; i++) {
		g = &ch->g[i];
		snprintf(head, sizeof(head), "#%lld ", g->id);
		buf_addf(b, "<h2 style=\"font-size:16px;margin:16px 0 4px;"
		    "overflow-wrap:anywhere;%s\">", g->urgency &&
		    strcmp(g->urgency, "urgent") == 0 ? "color:#b00020" : "");
		fmt_html_escape(b, head);
		fmt_html_escape(b, g->subject ? g->subject : "(no subject)");
		buf_addstr(b, " <span style=\"font-weight:normal;color:#555;"
		    "font-size:13px\">");
		fmt_html_escape(b, g->type ? g->type : "?");
		buf_addc(b, '/');
		fmt_html_escape(b, g->urgency ? g->urgency : "?");
		buf_addc(b, ' ');
		fmt_html_escape(b, g->status ? g->status : "?");
		buf_addstr(b, ", ");
		fmt_html_escape(b, g->sender ? g->sender : "-");
		buf_addstr(b, "</span></h2>\n<table style=\"border-collapse:"
		    "collapse;width:100%;table-layout:fixed\"><colgroup><col "
		    "style=\"width:8em\"><col style=\"width:10em\"><col>"
		    "</colgroup>\n");
		for (j = 0; j < g->n; j++) {
			hhmm(g->c[j].at, "%m-%d %H:%M", at, sizeof(at));
			buf_addstr(b, "<tr>");
			fmt_html_cell(b, at, FMT_CSS_CELL, "white-space:nowrap",
			    NULL);
			fmt_html_cell(b, g->c[j].actor ? g->c[j].actor : "?",
			    FMT_CSS_CELL, NULL, NULL);
			fmt_html_cell(b, g->c[j].what, FMT_CSS_CELL, NULL, NULL);
			buf_addstr(b, "</tr>\n");
		}
		buf_addstr(b, "</table>\n");
	}
	buf_addstr(b, "</body></html>\n");
}

int
cmd_changes(struct cmd_ctx *ctx)
{
	const char *since_arg = cmd_opt(ctx, 'S'), *until_arg = cmd_opt(ctx, 'U');
	struct changes ch;
	enum fmt fmt = (enum fmt)ctx->format;
	struct buf out;
	int rc;

	if ((rc = cli_no_operands("changes", ctx->argc, ctx->argv, 0)) != 0)
		return rc;
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	memset(&ch, 0, sizeof(ch));
	ch.until = remind_now() + 1;
	if (since_arg == NULL)
		default_since(&ctx->env.cfg, ch.until - 1, &ch);
	if ((since_arg && fmt_parse_date(since_arg, &ch.since) == -1) ||
	    (until_arg && fmt_parse_date(until_arg, &ch.until) == -1)) {
		fprintf(stderr, "intake changes: --since/--until: not a date "
		    "(YYYY-MM-DD) or ISO 8601 instant\n");
		return EX_USAGE;
	}
	if ((rc = load(ctx->env.store, &ch)) != STORE_OK) {
		changes_free(&ch);
		return cmd_store_fail(ctx, rc);
	}
	buf_init(&out, 0);
	if (fmt == FMT_TEXT)
		render_text(&ch, &out);
	else if (fmt == FMT_CSV)
		render_csv(&ch, &out);
	else if (fmt == FMT_JSON)
		render_json(&ch, &out);
	else
		render_html(&ch, &out);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	changes_free(&ch);
	return 0;
}
