/* SPDX-License-Identifier: MIT */
/*
 * config.c: libconfig -> struct config.  libconfig ignores unknown keys and
 * reports only syntax errors, so every group is walked against a key table
 * here and every value is checked; all problems are collected as
 * "FILE:LINE: message" lines so one run reports every mistake.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "conftab.h"
#include "log.h"
#include "net.h"
#include "notify.h"
#include "oauth.h"
#include "store.h"
#include "tokencmd.h"
#include "util.h"

struct cfgctx {
	const char	*file;
	const char	*dir;
	struct buf	 errors;
	int		 nerrors;
	int		 secrets;	/* check secret files (CONFIG_SECRETS) */
};

static void cfg_error(struct cfgctx *, const config_setting_t *, const char *,
    ...) ATTR_PRINTF(3, 4);

static void
cfg_error(struct cfgctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	const char *file = NULL;
	int line = 0;

	if (s != NULL) {
		file = config_setting_source_file(s);
		line = (int)config_setting_source_line(s);
	}
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	buf_addf(&c->errors, "%s:%d: %s\n", file ? file : c->file, line, msg);
	free(msg);
	c->nerrors++;
}

/* A setting's dotted path, for messages ("sources.[0].port" style). */
static char *
setting_path(const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const config_setting_t *p = config_setting_parent(s);
	char *parent, *out;

	if (p == NULL || config_setting_is_root(p)) {
		if (name)
			return xstrdup(name);
		return xasprintf("[%d]", config_setting_index(s));
	}
	parent = setting_path(p);
	if (name)
		out = xasprintf("%s.%s", parent, name);
	else
		out = xasprintf("%s[%d]", parent, config_setting_index(s));
	free(parent);
	return out;
}

/* Is name a key of section in the table?  At the top level the name of
 * a group or list of keys ("limits", "sources") is one too. */
static int
known_key(const char *section, const char *name)
{
	size_t i, n = strlen(name);

	if (conf_key_find(section, name) != NULL)
		return 1;
	if (*section != '\0')
		return 0;
	for (i = 0; i < conf_nkeys; i++)
		if (strncmp(conf_keys[i].section, name, n) == 0 &&
		    (conf_keys[i].section[n] == '\0' ||
		    conf_keys[i].section[n] == '.'))
			return 1;
	return 0;
}

/* Report every member of group that is not a key of section. */
static void
check_keys(struct cfgctx *c, const config_setting_t *group,
    const char *section)
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);

		if (name == NULL || !known_key(section, name)) {
			char *p = setting_path(m);

			cfg_error(c, m, "unknown setting '%s'", p);
			free(p);
		}
	}
}

static const config_setting_t *
member(const config_setting_t *g, const char *name)
{
	if (g == NULL)
		return NULL;
	return config_setting_get_member(g, name);
}

static void
type_error(struct cfgctx *c, const config_setting_t *s, const char *want)
{
	char *p = setting_path(s);

	cfg_error(c, s, "%s must be %s", p, want);
	free(p);
}

/* A group's common checks: present, a group, only known keys.  0 when
 * the caller should read it. */
static int
open_group(struct cfgctx *c, const config_setting_t *g,
    const char *section)
{
	if (g == NULL)
		return -1;
	if (!config_setting_is_group(g)) {
		type_error(c, g, "a group { ... }");
		return -1;
	}
	check_keys(c, g, section);
	return 0;
}

/* Optional string: replaces *dst (freed) when present. */
static const config_setting_t *
get_string(struct cfgctx *c, const config_setting_t *g, const char *name,
    char **dst)
{
	const config_setting_t *s = member(g, name);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		type_error(c, s, "a string");
		return NULL;
	}
	free(*dst);
	*dst = xstrdup(config_setting_get_string(s));
	return s;
}

static const config_setting_t *
get_int(struct cfgctx *c, const config_setting_t *g, const char *name,
    long long min, long long max, long long *dst)
{
	const config_setting_t *s = member(g, name);
	long long v;

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		type_error(c, s, "an integer");
		return NULL;
	}
	if (v < min || v > max) {
		char *p = setting_path(s);

		cfg_error(c, s, "%s must be between %lld and %lld", p, min, max);
		free(p);
		return NULL;
	}
	*dst = v;
	return s;
}

static const config_setting_t *
get_bool(struct cfgctx *c, const config_setting_t *g, const char *name,
    int *dst)
{
	const config_setting_t *s = member(g, name);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		type_error(c, s, "true or false");
		return NULL;
	}
	*dst = config_setting_get_bool(s);
	return s;
}

/* Optional array/list of strings; replaces *dst when present. */
static const config_setting_t *
get_strings(struct cfgctx *c, const config_setting_t *g, const char *name,
    char ***dst, size_t *n)
{
	const config_setting_t *s = member(g, name);
	int i, len;
	size_t k;

	if (s == NULL)
		return NULL;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		type_error(c, s, "a list of strings [\"...\", ...]");
		return NULL;
	}
	for (k = 0; k < *n; k++)
		free((*dst)[k]);
	free(*dst);
	*dst = NULL;
	*n = 0;
	len = config_setting_length(s);
	*dst = xcalloc((size_t)len + 1, sizeof(char *));
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			type_error(c, s, "a list of strings [\"...\", ...]");
			continue;
		}
		(*dst)[(*n)++] = xstrdup(config_setting_get_string(e));
	}
	return s;
}

/*
 * The table's row section.name, read from g into base (the struct of the
 * section): its type, its range, its offset.  The setting, or NULL when
 * absent or refused (the default stays).
 */
static const config_setting_t *
get_key(struct cfgctx *c, const config_setting_t *g, const char *section,
    const char *name, void *base)
{
	const struct conf_key *k = conf_key_find(section, name);
	const config_setting_t *s = NULL;
	char *b = base;
	long long v;

	if (k == NULL || k->off == CONF_NOFF)
		abort();	/* a key config.c reads is in the table */
	switch (k->type) {
	case CT_INT:
		if ((s = get_int(c, g, name, k->min, k->max, &v)) != NULL)
			*(int *)(b + k->off) = (int)v;
		break;
	case CT_SIZE:
		if ((s = get_int(c, g, name, k->min, k->max, &v)) != NULL)
			*(size_t *)(b + k->off) = (size_t)v;
		break;
	case CT_BOOL:
		s = get_bool(c, g, name, (int *)(b + k->off));
		break;
	case CT_STRING:
	case CT_PATH:
	case CT_SECRET_FILE:
	case CT_SECRET_COMMAND:
		s = get_string(c, g, name, (char **)(b + k->off));
		break;
	case CT_STRLIST:
		s = get_strings(c, g, name, (char ***)(b + k->off),
		    (size_t *)(b + k->off_n));
		break;
	case CT_ENUM:
	case CT_SPECIAL:
		abort();	/* get_enum(); code of its own */
	}
	return s;
}

/* Every row of section that is no more than its type says, in table
 * order (the order of the messages). */
static void
get_section(struct cfgctx *c, const config_setting_t *g, const char *section,
    void *base)
{
	size_t i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].section, section) == 0)
			get_key(c, g, section, conf_keys[i].name, base);
}

/*
 * A CT_ENUM row: a string, one of its choices.  who: the source the key
 * belongs to ("source 'x': tls must be \"a\" or \"b\""), or NULL ("log_level
 * must be one of a, b").
 */
static const config_setting_t *
get_enum(struct cfgctx *c, const config_setting_t *g, const char *section,
    const char *name, const char *who, void *base)
{
	const struct conf_key *k = conf_key_find(section, name);
	const config_setting_t *s;
	char *v = NULL, *doc;
	const char *choice;
	struct buf list;
	size_t len;
	int i, n;

	if (k == NULL || k->type != CT_ENUM)
		abort();
	if ((s = get_string(c, g, name, &v)) == NULL)
		return NULL;
	if ((i = conf_enum_index(k, v)) >= 0) {
		*(int *)((char *)base + k->off) = (int)k->min + i;
		free(v);
		return s;
	}
	free(v);
	buf_init(&list, 0);
	for (n = 0; conf_enum_name(k, n, &len) != NULL; n++)
		;
	for (i = 0; (choice = conf_enum_name(k, i, &len)) != NULL; i++) {
		if (who)
			buf_addf(&list, "%s\"%.*s\"", i == 0 ? "" : i + 1 == n ?
			    " or " : ", ", (int)len, choice);
		else
			buf_addf(&list, "%s%.*s", i ? ", " : "", (int)len, choice);
	}
	buf_addc(&list, '\0');
	doc = conf_key_docname(k);
	if (who)
		cfg_error(c, s, "source '%s': %s must be %s", who, doc, list.data);
	else
		cfg_error(c, s, "%s must be one of %s", doc, list.data);
	free(doc);
	buf_free(&list);
	return NULL;
}

/* Relative paths are relative to the configuration file's directory. */
static void
resolve_path(struct cfgctx *c, char **p)
{
	char *abs;

	if (*p == NULL || **p == '\0' || **p == '/' || c->dir == NULL)
		return;
	abs = xasprintf("%s/%s", c->dir, *p);
	free(*p);
	*p = abs;
}

static int
valid_date(const char *s)
{
	time_t t;
	char *iso;
	int rc;

	if (strlen(s) != 10)
		return 0;
	iso = xasprintf("%sT00:00:00Z", s);
	rc = iso8601_parse(iso, &t);
	free(iso);
	return rc == 0;
}

static const char *const day_keys[7] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

static void
load_business_hours(struct cfgctx *c, const config_setting_t *g,
    struct config *cfg)
{
	int d;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		type_error(c, g, "a group { mon = [\"09:00\",\"19:00\"]; ... }");
		return;
	}
	check_keys(c, g, "business_hours");
	/* Given at all: a day left out is closed. */
	for (d = 0; d < 7; d++) {
		const config_setting_t *s = member(g, day_keys[d]);
		const config_setting_t *e0, *e1;
		int open, close;

		cfg->week[d].open = cfg->week[d].close = 0;
		if (s == NULL)
			continue;
		if ((!config_setting_is_array(s) && !config_setting_is_list(s)) ||
		    config_setting_length(s) != 2) {
			type_error(c, s, "[\"HH:MM\", \"HH:MM\"]");
			continue;
		}
		e0 = config_setting_get_elem(s, 0);
		e1 = config_setting_get_elem(s, 1);
		if (config_setting_type(e0) != CONFIG_TYPE_STRING ||
		    config_setting_type(e1) != CONFIG_TYPE_STRING ||
		    parse_hhmm(config_setting_get_string(e0), &open) == -1 ||
		    parse_hhmm(config_setting_get_string(e1), &close) == -1) {
			char *p = setting_path(s);

			cfg_error(c, s, "%s: bad time (want \"HH:MM\", 00:00-24:00)", p);
			free(p);
			continue;
		}
		if (close <= open) {
			char *p = setting_path(s);

			/* calendar.c knows no hours past midnight: the day
			 * would silently be closed. */
			cfg_error(c, s, "%s: closes at or before it opens (hours "
			    "past midnight are not supported; leave a closed day "
			    "out)", p);
			free(p);
			continue;
		}
		cfg->week[d].open = open;
		cfg->week[d].close = close;
	}
}

/*
 * A zone that is not Area/City ("EST", "UTC", "Etc/GMT+5", "EST5EDT") is a
 * fixed offset or a legacy rule, not the office's local time: deadlines
 * would be an hour off for half the year.  Only with allow_fixed_zone.
 */
static void
check_zone_kind(struct cfgctx *c, const config_setting_t *root,
    const config_setting_t *s, const char *zone, struct config *cfg)
{
	int allow = 0;

	get_key(c, root, "", "allow_fixed_zone", cfg);
	allow = cfg->allow_fixed_zone;
	if (allow || (strchr(zone, '/') != NULL &&
	    strncmp(zone, "Etc/", 4) != 0))
		return;
	cfg_error(c, s, "timezone '%s' is not an Area/City zone (a fixed "
	    "offset has no daylight saving time): use e.g. "
	    "\"America/New_York\", or set allow_fixed_zone = true", zone);
}

static void
load_holidays(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	const config_setting_t *s;
	size_t i;

	if (open_group(c, g, "holidays") == -1)
		return;
	get_key(c, g, "holidays", "federal", cfg);
	s = get_key(c, g, "holidays", "extra", cfg);
	for (i = 0; i < cfg->holidays_nextra; i++)
		if (!valid_date(cfg->holidays_extra[i]))
			cfg_error(c, s, "holidays.extra: '%s' is not a date "
			    "YYYY-MM-DD", cfg->holidays_extra[i]);
	s = get_key(c, g, "holidays", "ics", cfg);
	if (cfg->holidays_ics && *cfg->holidays_ics == '\0') {
		free(cfg->holidays_ics);
		cfg->holidays_ics = NULL;
	}
	resolve_path(c, &cfg->holidays_ics);
	if (s && cfg->holidays_ics && access(cfg->holidays_ics, R_OK) == -1)
		cfg_error(c, s, "holidays.ics: cannot read %s: %s",
		    cfg->holidays_ics, strerror(errno));
}

static int
parse_meeting(const char *s, struct tip_meeting *m)
{
	int d;

	if (strlen(s) != 9 || s[3] != ' ')
		return -1;
	for (d = 0; d < 7; d++)
		if (strncasecmp(s, day_keys[d], 3) == 0)
			break;
	if (d == 7 || parse_hhmm(s + 4, &m->minute) == -1 || m->minute >= 1440)
		return -1;
	m->wday = d;
	return 0;
}

static void
load_sla(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	const config_setting_t *s;
	char **list = NULL;
	size_t n = 0, i;

	if (open_group(c, g, "sla") == -1)
		return;
	get_key(c, g, "sla", "urgent_response_minutes", cfg);
	get_key(c, g, "sla", "urgent_breach_minutes", cfg);
	get_key(c, g, "sla", "in_hours_response_business_minutes", cfg);
	get_key(c, g, "sla", "in_hours_breach_business_minutes", cfg);
	if (cfg->urgent_breach_minutes < cfg->urgent_response_minutes)
		cfg_error(c, g, "sla.urgent_breach_minutes must not be less "
		    "than sla.urgent_response_minutes");
	if (cfg->in_hours_breach_business_minutes <
	    cfg->in_hours_response_business_minutes)
		cfg_error(c, g, "sla.in_hours_breach_business_minutes must not "
		    "be less than sla.in_hours_response_business_minutes");
	s = get_strings(c, g, "tip_meetings", &list, &n);
	if (s == NULL)
		return;
	if (n == 0)
		cfg_error(c, s, "sla.tip_meetings must name at least one meeting");
	free(cfg->tip_meetings);
	cfg->tip_meetings = xcalloc(n ? n : 1, sizeof(*cfg->tip_meetings));
	cfg->ntip_meetings = 0;
	for (i = 0; i < n; i++) {
		if (parse_meeting(list[i], &cfg->tip_meetings[cfg->ntip_meetings]) == 0)
			cfg->ntip_meetings++;
		else
			cfg_error(c, s, "sla.tip_meetings: '%s' is not \"ddd HH:MM\" "
			    "(e.g. \"mon 10:00\")", list[i]);
		free(list[i]);
	}
	free(list);
}

/* The file must exist and be readable now; secrecy is checked on use. */
static void
check_readable(struct cfgctx *c, const config_setting_t *s, const char *what,
    const char *path)
{
	if (path && access(path, R_OK) == -1)
		cfg_error(c, s, "%s: cannot read %s: %s", what, path,
		    strerror(errno));
}

/* Secret files are checked only for the programs that read them (the
 * daemon, --check-config): staff commands must work without access. */
static void
check_secret(struct cfgctx *c, const config_setting_t *s, const char *what,
    const char *path)
{
	if (c->secrets)
		check_readable(c, s, what, path);
}

/* oauth = { token_url; client_id; client_secret_file; refresh_token_file;
 * scope; } (oauth.h): intake refreshes the access token itself. */
/* token_command is split into words here (tokencmd.h: no shell), so a
 * quote left open is a FILE:LINE error at load, not a failed login later. */
static void
check_token_command(struct cfgctx *c, const config_setting_t *s,
    const struct source_config *src)
{
	char **argv, *why = NULL;

	if (src->token_command == NULL)
		return;
	if ((argv = tokencmd_split(src->token_command, &why)) == NULL) {
		cfg_error(c, s, "source '%s': token_command: %s (it is run "
		    "without a shell; see intake.conf(5))", src->name, why);
		free(why);
		return;
	}
	tokencmd_argv_free(argv);
}

static void
load_source_oauth(struct cfgctx *c, const config_setting_t *g,
    struct source_config *src)
{
	struct oauth_config *o;

	if (open_group(c, g, "sources.oauth") == -1)
		return;
	o = src->oauth = xcalloc(1, sizeof(*o));
	get_key(c, g, "sources.oauth", "token_url", o);
	get_key(c, g, "sources.oauth", "client_id", o);
	get_key(c, g, "sources.oauth", "client_secret_file", o);
	get_key(c, g, "sources.oauth", "refresh_token_file", o);
	get_key(c, g, "sources.oauth", "scope", o);
	resolve_path(c, &o->client_secret_file);
	resolve_path(c, &o->refresh_token_file);
	if (o->token_url == NULL || o->client_id == NULL)
		cfg_error(c, g, "source '%s': oauth needs token_url and "
		    "client_id", src->name);
	else if (strncmp(o->token_url, "https://", 8) != 0 &&
	    (strncmp(o->token_url, "http://", 7) != 0 ||
	    !notify_url_is_loopback(o->token_url)))
		cfg_error(c, member(g, "token_url"), "source '%s': token_url "
		    "must be https:// (plain http only to loopback)", src->name);
	if (o->refresh_token_file == NULL && o->client_secret_file == NULL)
		cfg_error(c, g, "source '%s': oauth needs refresh_token_file "
		    "or (client credentials) client_secret_file", src->name);
	check_secret(c, member(g, "client_secret_file"), "client_secret_file",
	    o->client_secret_file);
	check_secret(c, member(g, "refresh_token_file"), "refresh_token_file",
	    o->refresh_token_file);
}

static void
load_source_imap(struct cfgctx *c, const config_setting_t *g,
    struct source_config *src)
{
	const config_setting_t *s;
	char *after = NULL;
	int port_given;

	s = get_key(c, g, "sources", "host", src);
	if (src->host == NULL || *src->host == '\0')
		cfg_error(c, g, "source '%s': imap needs host", src->name);
	get_enum(c, g, "sources", "tls", src->name, src);
	if (src->tls == IMAP_TLS_NONE && src->host &&
	    !host_is_loopback(src->host))
		cfg_error(c, member(g, "tls"), "source '%s': tls = \"none\" is "
		    "only allowed to 127.0.0.1, ::1 or another loopback "
		    "address (a name only if it resolves to loopback alone)",
		    src->name);
	port_given = member(g, "port") != NULL;
	get_key(c, g, "sources", "port", src);
	if (!port_given)
		src->port = src->tls == IMAP_TLS_IMPLICIT ? 993 : 143;
	get_key(c, g, "sources", "ca_file", src);
	resolve_path(c, &src->ca_file);
	check_readable(c, member(g, "ca_file"), "ca_file", src->ca_file);
	get_key(c, g, "sources", "tls_verify", src);
	get_key(c, g, "sources", "pin_sha256", src);
	if (src->pin_sha256 && strlen(src->pin_sha256) != 64)
		cfg_error(c, member(g, "pin_sha256"), "source '%s': pin_sha256 "
		    "must be 64 hex digits", src->name);
	get_key(c, g, "sources", "user", src);
	if (src->user == NULL)
		cfg_error(c, g, "source '%s': imap needs user", src->name);
	get_enum(c, g, "sources", "auth", src->name, src);
	get_key(c, g, "sources", "password_file", src);
	get_key(c, g, "sources", "token_file", src);
	get_key(c, g, "sources", "token_command", src);
	check_token_command(c, member(g, "token_command"), src);
	resolve_path(c, &src->password_file);
	resolve_path(c, &src->token_file);
	if (member(g, "password"))
		cfg_error(c, member(g, "password"), "source '%s': passwords are "
		    "never inline: use password_file", src->name);
	if (src->auth == IMAP_AUTH_LOGIN && src->password_file == NULL)
		cfg_error(c, g, "source '%s': imap needs password_file", src->name);
	if (member(g, "oauth"))
		load_source_oauth(c, member(g, "oauth"), src);
	if (src->auth != IMAP_AUTH_LOGIN && src->token_file == NULL &&
	    src->token_command == NULL && src->oauth == NULL)
		cfg_error(c, g, "source '%s': auth = \"%s\" needs token_file, "
		    "token_command or oauth", src->name,
		    src->auth == IMAP_AUTH_XOAUTH2 ? "xoauth2" : "oauthbearer");
	check_secret(c, member(g, "password_file"), "password_file",
	    src->password_file);
	check_secret(c, member(g, "token_file"), "token_file", src->token_file);
	get_key(c, g, "sources", "mailbox", src);
	get_string(c, g, "after", &after);
	if (after == NULL || strcmp(after, "seen") == 0)
		src->after = IMAP_AFTER_SEEN;
	else if (strncmp(after, "move:", 5) == 0 && after[5] != '\0') {
		src->after = IMAP_AFTER_MOVE;
		src->move_to = xstrdup(after + 5);
	} else
		cfg_error(c, member(g, "after"), "source '%s': after must be "
		    "\"seen\" or \"move:FOLDER\"", src->name);
	get_key(c, g, "sources", "idle", src);
	(void)s;
	free(after);
}

/* A push channel (listen.h): a path the listener serves and the secret
 * its requests are signed with. */
static void
load_source_push(struct cfgctx *c, const config_setting_t *g,
    struct source_config *src)
{
	get_key(c, g, "sources", "path", src);
	if (src->path == NULL || src->path[0] != '/' ||
	    strpbrk(src->path, "?# \t\r\n") != NULL)
		cfg_error(c, g, "source '%s': needs a path starting with / "
		    "(no query)", src->name);
	get_key(c, g, "sources", "secret_file", src);
	resolve_path(c, &src->secret_file);
	if (src->secret_file == NULL)
		cfg_error(c, g, "source '%s': needs secret_file", src->name);
	check_secret(c, member(g, "secret_file"), "secret_file",
	    src->secret_file);
	get_key(c, g, "sources", "public_url", src);
	if (src->type == SOURCE_TWILIO && (src->public_url == NULL ||
	    (strncmp(src->public_url, "https://", 8) != 0 &&
	    strncmp(src->public_url, "http://", 7) != 0)))
		cfg_error(c, g, "source '%s': twilio needs public_url, the "
		    "http(s):// URL Twilio requests", src->name);
	get_key(c, g, "sources", "verify_token_file", src);
	resolve_path(c, &src->verify_token_file);
	if (src->type == SOURCE_WHATSAPP && src->verify_token_file == NULL)
		cfg_error(c, g, "source '%s': whatsapp needs verify_token_file",
		    src->name);
	check_secret(c, member(g, "verify_token_file"), "verify_token_file",
	    src->verify_token_file);
}

static void
load_source(struct cfgctx *c, const config_setting_t *g,
    struct source_config *src)
{
	char *type = NULL;

	memset(src, 0, sizeof(*src));
	conf_defaults("sources", src);
	src->line = (int)config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		type_error(c, g, "a group { name = ...; type = ...; }");
		src->name = xstrdup("?");
		return;
	}
	check_keys(c, g, "sources");
	get_key(c, g, "sources", "name", src);
	if (src->name == NULL || *src->name == '\0') {
		cfg_error(c, g, "a source needs a name");
		free(src->name);
		src->name = xstrdup("?");
	}
	get_key(c, g, "sources", "poll_interval", src);
	get_key(c, g, "sources", "timeout", src);
	get_enum(c, g, "sources", "direction", src->name, src);
	get_key(c, g, "sources", "staff", src);
	get_string(c, g, "type", &type);
	if (type == NULL) {
		cfg_error(c, g, "source '%s' needs a type (maildir, imap, http)",
		    src->name);
	} else if (strcmp(type, "maildir") == 0) {
		src->type = SOURCE_MAILDIR;
		get_key(c, g, "sources", "path", src);
		resolve_path(c, &src->path);
		if (src->path == NULL)
			cfg_error(c, g, "source '%s': maildir needs path", src->name);
	} else if (strcmp(type, "imap") == 0) {
		src->type = SOURCE_IMAP;
		load_source_imap(c, g, src);
	} else if (strcmp(type, "http") == 0) {
		src->type = SOURCE_HTTP;
		get_key(c, g, "sources", "url", src);
		get_key(c, g, "sources", "token_file", src);
		get_key(c, g, "sources", "ca_file", src);
		resolve_path(c, &src->token_file);
		resolve_path(c, &src->ca_file);
		check_secret(c, member(g, "token_file"), "token_file",
		    src->token_file);
		check_readable(c, member(g, "ca_file"), "ca_file", src->ca_file);
		if (src->url == NULL)
			cfg_error(c, g, "source '%s': http needs url", src->name);
		else if (strncmp(src->url, "https://", 8) != 0 &&
		    (strncmp(src->url, "http://", 7) != 0 ||
		    !notify_url_is_loopback(src->url)))
			cfg_error(c, member(g, "url"), "source '%s': url must be "
			    "https:// (plain http only to loopback)", src->name);
	} else if (strcmp(type, "twilio") == 0 ||
	    strcmp(type, "whatsapp") == 0 || strcmp(type, "webhook") == 0) {
		src->type = strcmp(type, "twilio") == 0 ? SOURCE_TWILIO :
		    strcmp(type, "whatsapp") == 0 ? SOURCE_WHATSAPP :
		    SOURCE_WEBHOOK;
		load_source_push(c, g, src);
	} else {
		cfg_error(c, member(g, "type"), "source '%s': unknown type '%s' "
		    "(maildir, imap, http, twilio, whatsapp, webhook)",
		    src->name, type);
	}
	free(type);
}

static void
load_sources(struct cfgctx *c, const config_setting_t *s, struct config *cfg)
{
	int i, n;
	size_t j, k;

	if (s == NULL)
		return;
	if (!config_setting_is_list(s)) {
		type_error(c, s, "a list of groups ( { ... }, { ... } )");
		return;
	}
	n = config_setting_length(s);
	cfg->sources = xcalloc((size_t)n + 1, sizeof(*cfg->sources));
	for (i = 0; i < n; i++) {
		load_source(c, config_setting_get_elem(s, (unsigned)i),
		    &cfg->sources[cfg->nsources]);
		cfg->nsources++;
	}
	for (j = 0; j < cfg->nsources; j++)
		for (k = j + 1; k < cfg->nsources; k++)
			if (strcmp(cfg->sources[j].name, cfg->sources[k].name) == 0)
				cfg_error(c, config_setting_get_elem(s, (unsigned)k),
				    "source name '%s' used twice", cfg->sources[k].name);
	for (j = 0; j < cfg->nsources; j++)
		for (k = j + 1; k < cfg->nsources; k++)
			if (SOURCE_IS_PUSH(cfg->sources[j].type) &&
			    SOURCE_IS_PUSH(cfg->sources[k].type) &&
			    cfg->sources[j].path && cfg->sources[k].path &&
			    strcmp(cfg->sources[j].path, cfg->sources[k].path) == 0)
				cfg_error(c, config_setting_get_elem(s, (unsigned)k),
				    "source '%s': path %s used twice",
				    cfg->sources[k].name, cfg->sources[k].path);
}

/* listen = ( { address = "127.0.0.1"; port = 8025; } ): one listener. */
static void
load_listen(struct cfgctx *c, const config_setting_t *s, struct config *cfg)
{
	const config_setting_t *g, *m;
	unsigned char a[16];
	char *mode = NULL, *end;
	unsigned long v;

	if (s == NULL)
		return;
	if (!config_setting_is_list(s)) {
		type_error(c, s, "a list of groups ( { address = ...; port = ...; } )");
		return;
	}
	if (config_setting_length(s) == 0)
		return;
	if (config_setting_length(s) > 1)
		cfg_error(c, s, "listen: only one address is served");
	g = config_setting_get_elem(s, 0);
	if (open_group(c, g, "listen") == -1)
		return;
	get_key(c, g, "listen", "address", cfg);
	if (cfg->listen_address && inet_pton(AF_INET, cfg->listen_address, a) != 1 &&
	    inet_pton(AF_INET6, cfg->listen_address, a) != 1)
		cfg_error(c, member(g, "address"), "listen.address '%s' is not "
		    "an IPv4 or IPv6 address", cfg->listen_address);
	/* a unix socket, for a reverse proxy on the same machine */
	get_key(c, g, "listen", "socket", cfg);
	if ((m = member(g, "socket")) != NULL) {
		if (cfg->listen_socket[0] != '/' ||
		    strlen(cfg->listen_socket) >= 108)
			cfg_error(c, m, "listen.socket must be an absolute path "
			    "of fewer than 108 bytes");
		if (member(g, "port") || member(g, "address"))
			cfg_error(c, m, "listen: socket, or address and port, "
			    "not both");
	} else if (member(g, "socket_mode") || member(g, "socket_group"))
		cfg_error(c, g, "listen.socket_mode and socket_group need "
		    "listen.socket");
	if ((m = get_string(c, g, "socket_mode", &mode)) != NULL) {
		errno = 0;
		v = strtoul(mode, &end, 8);
		if (errno || *mode == '\0' || *end != '\0' || v > 0777)
			cfg_error(c, m, "listen.socket_mode '%s' is not an octal "
			    "mode such as \"0660\"", mode);
		else
			cfg->listen_socket_mode = (int)v;
		free(mode);
	}
	get_key(c, g, "listen", "socket_group", cfg);
	if (cfg->listen_socket == NULL) {
		if (member(g, "port") == NULL)
			cfg_error(c, g, "listen needs port (or socket)");
		get_key(c, g, "listen", "port", cfg);
	}
	get_key(c, g, "listen", "max_body_bytes", cfg);
	get_key(c, g, "listen", "timeout", cfg);
	get_key(c, g, "listen", "max_connections", cfg);
	get_key(c, g, "listen", "refusal_burst", cfg);
	get_key(c, g, "listen", "refusal_window", cfg);
}

static void
load_limits(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	if (open_group(c, g, "limits") == 0)
		get_section(c, g, "limits", cfg);
}

static void
load_alerts(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	if (open_group(c, g, "alerts") == 0)
		get_section(c, g, "alerts", cfg);
}

static void
free_escalation(struct config *cfg)
{
	size_t i, k;

	for (i = 0; i < cfg->nescalation; i++) {
		for (k = 0; k < cfg->escalation[i].nto; k++)
			free(cfg->escalation[i].to[k]);
		free(cfg->escalation[i].to);
	}
	free(cfg->escalation);
	cfg->escalation = NULL;
	cfg->nescalation = 0;
}

/* notify = "oncall" | "escalation" | "oncall+escalation" | ["a@b", ...] */
static void
load_esc_notify(struct cfgctx *c, const config_setting_t *g,
    struct escalation_step *st)
{
	const config_setting_t *s = member(g, "notify");
	const char *v;

	if (s == NULL) {
		cfg_error(c, g, "escalation: a step needs notify");
		return;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		if (strcmp(v, "oncall") == 0)
			st->notify = ESC_NOTIFY_ONCALL;
		else if (strcmp(v, "escalation") == 0)
			st->notify = ESC_NOTIFY_ESCALATION;
		else if (strcmp(v, "oncall+escalation") == 0)
			st->notify = ESC_NOTIFY_ONCALL | ESC_NOTIFY_ESCALATION;
		else
			cfg_error(c, s, "escalation: notify '%s' is not "
			    "\"oncall\", \"escalation\", \"oncall+escalation\" "
			    "or a list of addresses", v);
		return;
	}
	/* A list of addresses: this step pages them; they are the
	 * "escalation" targets of the other steps. */
	get_strings(c, g, "notify", &st->to, &st->nto);
	if (st->nto == 0)
		cfg_error(c, s, "escalation: notify lists no address");
}

static void
load_escalation(struct cfgctx *c, const config_setting_t *s,
    struct config *cfg)
{
	const char *after = NULL;
	int i, n;

	if (s == NULL)
		return;
	if (!config_setting_is_list(s)) {
		type_error(c, s, "a list of groups ( { ... }, { ... } )");
		return;
	}
	free_escalation(cfg);
	n = config_setting_length(s);
	cfg->escalation = xcalloc((size_t)n + 1, sizeof(*cfg->escalation));
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s,
		    (unsigned)i);
		struct escalation_step *st = &cfg->escalation[cfg->nescalation++];

		if (open_group(c, g, "escalation") == -1)
			continue;
		after = NULL;
		if (config_setting_lookup_string(g, "after", &after) ==
		    CONFIG_TRUE) {
			if (strcmp(after, "response_due") == 0)
				st->after = ESC_AFTER_RESPONSE_DUE;
			else if (strcmp(after, "breach") == 0)
				st->after = ESC_AFTER_BREACH;
			else
				cfg_error(c, g, "escalation: after '%s' is not "
				    "\"response_due\" or \"breach\"", after);
		}
		get_key(c, g, "escalation", "repeat_minutes", st);
		if (st->repeat_minutes && after)
			cfg_error(c, g, "escalation: a step has after or "
			    "repeat_minutes, not both");
		else if (st->repeat_minutes) {
			st->after = ESC_REPEAT;
			if (i == 0)
				cfg_error(c, g, "escalation: a repeat step "
				    "repeats the step before it: not first");
		} else if (after == NULL)
			cfg_error(c, g, "escalation: a step needs after or "
			    "repeat_minutes");
		load_esc_notify(c, g, st);
	}
}

static void
load_person(struct cfgctx *c, const config_setting_t *g,
    struct oncall_person *p)
{
	if (open_group(c, g, "oncall.people") == -1)
		return;
	get_key(c, g, "oncall.people", "name", p);
	get_key(c, g, "oncall.people", "email", p);
	get_key(c, g, "oncall.people", "webhook", p);
	get_key(c, g, "oncall.people", "login", p);
	if (p->login && (*p->login == '\0' || strpbrk(p->login, " \t\r\n:")))
		cfg_error(c, member(g, "login"), "oncall.people: '%s': login "
		    "is not a user name", p->name ? p->name : "?");
	if (p->name == NULL || *p->name == '\0')
		cfg_error(c, g, "oncall.people: a person needs a name");
	if (p->email == NULL && p->webhook == NULL)
		cfg_error(c, g, "oncall.people: '%s' needs an email or a "
		    "webhook", p->name ? p->name : "?");
	if (p->email && (!notify_header_ok(p->email) ||
	    strchr(p->email, '@') == NULL))
		cfg_error(c, member(g, "email"), "oncall.people: '%s': email "
		    "is not an address", p->name ? p->name : "?");
	if (p->webhook && strncmp(p->webhook, "https://", 8) != 0 &&
	    (strncmp(p->webhook, "http://", 7) != 0 ||
	    !notify_url_is_loopback(p->webhook)))
		cfg_error(c, member(g, "webhook"), "oncall.people: '%s': "
		    "webhook must be https:// (plain http only to loopback)",
		    p->name ? p->name : "?");
}

/* oncall = { rota = "FILE.ics"; people = ( { name; email; webhook; } );
 * reply_to = "ADDRESS"; }.  The rota itself is read by rota.c. */
static void
load_oncall(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	const config_setting_t *s;
	int i, n;
	size_t j, k;

	if (open_group(c, g, "oncall") == -1)
		return;
	s = get_key(c, g, "oncall", "rota", cfg);
	if (cfg->oncall_rota && *cfg->oncall_rota == '\0') {
		free(cfg->oncall_rota);
		cfg->oncall_rota = NULL;
	}
	resolve_path(c, &cfg->oncall_rota);
	if (s)
		cfg->oncall_rota_line = (int)config_setting_source_line(s);
	get_key(c, g, "oncall", "reply_to", cfg);
	if (cfg->oncall_reply_to && (!notify_header_ok(cfg->oncall_reply_to) ||
	    strchr(cfg->oncall_reply_to, '@') == NULL))
		cfg_error(c, member(g, "reply_to"), "oncall.reply_to is not an "
		    "address");
	if ((s = member(g, "people")) == NULL)
		return;
	if (!config_setting_is_list(s)) {
		type_error(c, s, "a list of groups ( { name = ...; email = "
		    "...; }, ... )");
		return;
	}
	n = config_setting_length(s);
	cfg->oncall_people = xcalloc((size_t)n + 1, sizeof(*cfg->oncall_people));
	for (i = 0; i < n; i++)
		load_person(c, config_setting_get_elem(s, (unsigned)i),
		    &cfg->oncall_people[cfg->oncall_npeople++]);
	for (j = 0; j < cfg->oncall_npeople; j++)
		for (k = j + 1; k < cfg->oncall_npeople; k++)
			if (cfg->oncall_people[j].name &&
			    cfg->oncall_people[k].name &&
			    strcasecmp(cfg->oncall_people[j].name,
			    cfg->oncall_people[k].name) == 0)
				cfg_error(c, config_setting_get_elem(s,
				    (unsigned)k), "oncall.people: '%s' listed "
				    "twice", cfg->oncall_people[k].name);
}

static void
load_smtp(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	if (open_group(c, g, "smtp") == -1)
		return;
	get_key(c, g, "smtp", "url", cfg);
	if (cfg->smtp_url && strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0)
		cfg_error(c, member(g, "url"), "smtp.url must start with smtp:// "
		    "or smtps://");
	get_key(c, g, "smtp", "user", cfg);
	get_key(c, g, "smtp", "password_file", cfg);
	resolve_path(c, &cfg->smtp_password_file);
	check_secret(c, member(g, "password_file"), "smtp.password_file",
	    cfg->smtp_password_file);
	get_key(c, g, "smtp", "from", cfg);
	get_key(c, g, "smtp", "ca_file", cfg);
	resolve_path(c, &cfg->smtp_ca_file);
	check_readable(c, member(g, "ca_file"), "smtp.ca_file", cfg->smtp_ca_file);
}

static void
load_remind(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	const config_setting_t *s;
	char **list = NULL;
	size_t n = 0, i;

	if (open_group(c, g, "remind") == -1)
		return;
	s = get_strings(c, g, "at", &list, &n);
	if (s) {
		free(cfg->remind_at);
		cfg->remind_at = xcalloc(n ? n : 1, sizeof(int));
		cfg->remind_nat = 0;
		for (i = 0; i < n; i++) {
			int m;

			if (parse_hhmm(list[i], &m) == 0 && m < 1440)
				cfg->remind_at[cfg->remind_nat++] = m;
			else
				cfg_error(c, s, "remind.at: '%s' is not \"HH:MM\"",
				    list[i]);
			free(list[i]);
		}
		free(list);
	}
	get_key(c, g, "remind", "lead_minutes", cfg);
	get_key(c, g, "remind", "to", cfg);
	get_key(c, g, "remind", "webhook", cfg);
}

static void
load_misc_group(struct cfgctx *c, const config_setting_t *root,
    struct config *cfg)
{
	const config_setting_t *g;

	g = member(root, "triage");
	if (open_group(c, g, "triage") == 0) {
		get_key(c, g, "triage", "lexicon", cfg);
		resolve_path(c, &cfg->triage_lexicon);
		check_readable(c, member(g, "lexicon"), "triage.lexicon",
		    cfg->triage_lexicon);
		/* not checked here: a bad model means the rules alone */
		get_key(c, g, "triage", "model", cfg);
		if (cfg->triage_model && strcmp(cfg->triage_model, "none") != 0)
			resolve_path(c, &cfg->triage_model);
	}
	g = member(root, "ack");
	if (open_group(c, g, "ack") == 0) {
		get_key(c, g, "ack", "enabled", cfg);
		get_key(c, g, "ack", "from", cfg);
	}
	g = member(root, "retention");
	if (open_group(c, g, "retention") == 0)
		get_key(c, g, "retention", "closed_days", cfg);
}


static void
load_root(struct cfgctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *s;
	char *zone;

	check_keys(c, root, "");
	get_key(c, root, "", "database", cfg);
	/* a libpq URI or connection string is no path (store.h) */
	if (!store_is_postgresql(cfg->database))
		resolve_path(c, &cfg->database);
	get_key(c, root, "", "database_group", cfg);
	get_key(c, root, "", "database_password_file", cfg);
	resolve_path(c, &cfg->database_password_file);
	check_secret(c, member(root, "database_password_file"),
	    "database_password_file", cfg->database_password_file);
	get_key(c, root, "", "tag_key_file", cfg);
	resolve_path(c, &cfg->tag_key_file);
	s = get_key(c, root, "", "timezone", cfg);
	if (s) {
		zone = xasprintf("/usr/share/zoneinfo/%s", cfg->timezone);
		if (strstr(cfg->timezone, "..") || access(zone, R_OK) == -1)
			cfg_error(c, s, "timezone '%s' is not in the tz database",
			    cfg->timezone);
		else
			check_zone_kind(c, root, s, cfg->timezone, cfg);
		free(zone);
	}
	load_business_hours(c, member(root, "business_hours"), cfg);
	load_holidays(c, member(root, "holidays"), cfg);
	load_sla(c, member(root, "sla"), cfg);
	load_sources(c, member(root, "sources"), cfg);
	load_listen(c, member(root, "listen"), cfg);
	/* a push channel nobody listens for would stay silent for ever */
	for (size_t i = 0; i < cfg->nsources && cfg->listen_port == 0 &&
	    cfg->listen_socket == NULL; i++)
		if (SOURCE_IS_PUSH(cfg->sources[i].type))
			cfg_error(c, member(root, "sources"), "source '%s': a push "
			    "channel needs listen = ( { port = ...; } ) (or socket)",
			    cfg->sources[i].name);
	load_limits(c, member(root, "limits"), cfg);
	load_alerts(c, member(root, "alerts"), cfg);
	load_smtp(c, member(root, "smtp"), cfg);
	load_remind(c, member(root, "remind"), cfg);
	load_escalation(c, member(root, "escalation"), cfg);
	load_oncall(c, member(root, "oncall"), cfg);
	load_misc_group(c, root, cfg);
	get_enum(c, root, "", "log_level", NULL, cfg);
	get_key(c, root, "", "busy_timeout_ms", cfg);
	get_key(c, root, "", "conversation_hours", cfg);
}

void
config_defaults(struct config *cfg)
{
	static const struct tip_meeting meetings[] = {
		{ 1, 600 }, { 3, 600 }, { 5, 600 }
	};
	static const int remind_at[] = { 510, 1020 };
	int d;

	memset(cfg, 0, sizeof(*cfg));
	/* every key of the table that has a default */
	conf_defaults(NULL, cfg);
	/* and what a row cannot hold: */
	for (d = 1; d <= 5; d++) {
		cfg->week[d].open = 9 * 60;
		cfg->week[d].close = 19 * 60;
	}
	cfg->tip_meetings = xmalloc(sizeof(meetings));
	memcpy(cfg->tip_meetings, meetings, sizeof(meetings));
	cfg->ntip_meetings = NELEM(meetings);
	cfg->remind_at = xmalloc(sizeof(remind_at));
	memcpy(cfg->remind_at, remind_at, sizeof(remind_at));
	cfg->remind_nat = NELEM(remind_at);
	/* escalation: oncall at response_due, escalation at breach, both
	 * every 30 minutes after that */
	cfg->escalation = xcalloc(3, sizeof(*cfg->escalation));
	cfg->escalation[0].after = ESC_AFTER_RESPONSE_DUE;
	cfg->escalation[0].notify = ESC_NOTIFY_ONCALL;
	cfg->escalation[1].after = ESC_AFTER_BREACH;
	cfg->escalation[1].notify = ESC_NOTIFY_ESCALATION;
	cfg->escalation[2].after = ESC_REPEAT;
	cfg->escalation[2].repeat_minutes = 30;
	cfg->escalation[2].notify = ESC_NOTIFY_ONCALL | ESC_NOTIFY_ESCALATION;
	cfg->nescalation = 3;
	cfg->listen_socket_mode = 0660;	/* CT_SPECIAL: not in the table's defaults */
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
source_free(struct source_config *s)
{
	free(s->name);
	free(s->path);
	free(s->host);
	free(s->ca_file);
	free(s->pin_sha256);
	free(s->user);
	free(s->password_file);
	free(s->token_file);
	free(s->token_command);
	oauth_config_free(s->oauth);
	free(s->mailbox);
	free(s->move_to);
	free(s->staff);
	free(s->url);
	free(s->secret_file);
	free(s->public_url);
	free(s->verify_token_file);
}

void
config_free(struct config *cfg)
{
	size_t i;

	free(cfg->path);
	free(cfg->dir);
	free(cfg->database);
	free(cfg->database_group);
	free(cfg->database_password_file);
	free(cfg->tag_key_file);
	free(cfg->timezone);
	free_strv(cfg->holidays_extra, cfg->holidays_nextra);
	free(cfg->holidays_ics);
	free(cfg->tip_meetings);
	for (i = 0; i < cfg->nsources; i++)
		source_free(&cfg->sources[i]);
	free(cfg->sources);
	free(cfg->triage_lexicon);
	free(cfg->triage_model);
	free(cfg->alerts_webhook);
	free_strv(cfg->alerts_to, cfg->alerts_nto);
	free(cfg->smtp_url);
	free(cfg->smtp_user);
	free(cfg->smtp_password_file);
	free(cfg->smtp_from);
	free(cfg->smtp_ca_file);
	free(cfg->remind_at);
	free_strv(cfg->remind_to, cfg->remind_nto);
	free(cfg->remind_webhook);
	free(cfg->ack_from);
	free(cfg->listen_address);
	free(cfg->listen_socket);
	free(cfg->listen_socket_group);
	free_escalation(cfg);
	free(cfg->oncall_rota);
	for (i = 0; i < cfg->oncall_npeople; i++) {
		free(cfg->oncall_people[i].name);
		free(cfg->oncall_people[i].email);
		free(cfg->oncall_people[i].webhook);
		free(cfg->oncall_people[i].login);
	}
	free(cfg->oncall_people);
	free(cfg->oncall_reply_to);
	memset(cfg, 0, sizeof(*cfg));
}

static char *
dir_of(const char *path)
{
	char *copy = xstrdup(path), *d, *abs;

	d = dirname(copy);
	if (*d == '/')
		abs = xstrdup(d);
	else {
		char cwd[4096];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			abs = xstrdup(d);
		else if (strcmp(d, ".") == 0)
			abs = xstrdup(cwd);
		else
			abs = xasprintf("%s/%s", cwd, d);
	}
	free(copy);
	return abs;
}

int
config_load(const char *path, int allow_missing, struct config *out,
    char **errors)
{
	return config_load_flags(path, CONFIG_SECRETS |
	    (allow_missing ? CONFIG_ALLOW_MISSING : 0), out, errors);
}

int
config_load_flags(const char *path, int flags, struct config *out,
    char **errors)
{
	int allow_missing = (flags & CONFIG_ALLOW_MISSING) != 0;
	struct cfgctx c;
	config_t lc;
	struct stat st;

	*errors = NULL;
	config_defaults(out);
	if (stat(path, &st) == -1) {
		if (errno == ENOENT && allow_missing)
			return 0;
		*errors = xasprintf("%s: %s\n", path, strerror(errno));
		config_free(out);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	buf_init(&c.errors, 0);
	c.file = path;
	c.secrets = (flags & CONFIG_SECRETS) != 0;
	out->path = xstrdup(path);
	out->dir = dir_of(path);
	c.dir = out->dir;
	config_init(&lc);
	config_set_include_dir(&lc, out->dir);
	if (config_read_file(&lc, path) == CONFIG_FALSE) {
		const char *f = config_error_file(&lc);

		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			buf_addf(&c.errors, "%s: cannot read: %s\n", path,
			    strerror(errno));
		else
			buf_addf(&c.errors, "%s:%d: %s\n", f ? f : path,
			    config_error_line(&lc), config_error_text(&lc));
		c.nerrors++;
	} else
		load_root(&c, config_root_setting(&lc), out);
	config_destroy(&lc);
	if (c.nerrors) {
		*errors = buf_steal(&c.errors);
		config_free(out);
		return -1;
	}
	buf_free(&c.errors);
	return 0;
}

const char *
config_path_choose(const char *from_cli)
{
	const char *env;

	if (from_cli && *from_cli)
		return from_cli;
	env = getenv("INTAKE_CONFIG");
	if (env && *env)
		return env;
	return CONFIG_DEFAULT_PATH;
}

/* The rule config_read_secret() applies to a secret file's mode (no group
 * write, nothing for others), without reading it.  0, or -1 and *err. */
static int
config_secret_mode(const char *path, char **err)
{
	struct stat st;

	*err = NULL;
	if (stat(path, &st) == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	/* As OpenSMTPD's check_file_secrecy: a secret others can read is
	 * no longer a secret. */
	if (st.st_mode & (S_IWGRP | S_IROTH | S_IWOTH)) {
		*err = xasprintf("%s: must not be writable by the group nor "
		    "readable by others (chmod 0600 or 0640)", path);
		return -1;
	}
	return 0;
}

static void
secret_check(struct buf *b, const char *what, const char *path)
{
	char *err = NULL;

	if (path != NULL && config_secret_mode(path, &err) == -1)
		buf_addf(b, "%s: %s\n", what, err);
	free(err);
}

int
config_check_secrets(const struct config *cfg, char **errors)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < cfg->nsources; i++) {
		const struct source_config *src = &cfg->sources[i];

		if (src->type == SOURCE_IMAP && src->auth == IMAP_AUTH_LOGIN)
			secret_check(&b, "password_file", src->password_file);
		if (src->type == SOURCE_HTTP ||
		    (src->type == SOURCE_IMAP && src->auth == IMAP_AUTH_XOAUTH2))
			secret_check(&b, "token_file", src->token_file);
		if (SOURCE_IS_PUSH(src->type)) {
			secret_check(&b, "secret_file", src->secret_file);
			secret_check(&b, "verify_token_file",
			    src->verify_token_file);
		}
	}
	secret_check(&b, "smtp.password_file", cfg->smtp_password_file);
	secret_check(&b, "database_password_file", cfg->database_password_file);
	if (b.len == 0) {
		buf_free(&b);
		*errors = NULL;
		return 0;
	}
	buf_addc(&b, '\0');
	*errors = buf_steal(&b);
	return -1;
}

int
config_read_secret(const char *path, char **out, char **err)
{
	char *data;
	size_t len, n;

	*out = NULL;
	if (config_secret_mode(path, err) == -1)
		return -1;
	if (read_file(path, 65536, &data, &len) == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	n = strcspn(data, "\r\n");
	data[n] = '\0';
	if (n == 0) {
		free(data);
		*err = xasprintf("%s: empty", path);
		return -1;
	}
	*out = data;
	return 0;
}

const struct source_config *
config_source(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}
