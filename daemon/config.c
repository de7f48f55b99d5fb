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
#include "log.h"
#include "net.h"
#include "notify.h"
#include "oauth.h"
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

/* Report every member of group whose name is not in keys (NULL-ended). */
static void
check_keys(struct cfgctx *c, const config_setting_t *group,
    const char *const *keys)
{
	int i, n = config_setting_length(group);
	size_t k;

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		int known = 0;

		for (k = 0; keys[k] != NULL; k++)
			if (name && strcmp(name, keys[k]) == 0)
				known = 1;
		if (!known) {
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
    const char *const *keys)
{
	if (g == NULL)
		return -1;
	if (!config_setting_is_group(g)) {
		type_error(c, g, "a group { ... }");
		return -1;
	}
	check_keys(c, g, keys);
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

static void
get_intv(struct cfgctx *c, const config_setting_t *g, const char *name,
    long long min, long long max, int *dst)
{
	long long v;

	if (get_int(c, g, name, min, max, &v))
		*dst = (int)v;
}

static void
get_sizev(struct cfgctx *c, const config_setting_t *g, const char *name,
    long long min, long long max, size_t *dst)
{
	long long v;

	if (get_int(c, g, name, min, max, &v))
		*dst = (size_t)v;
}

static void
get_bool(struct cfgctx *c, const config_setting_t *g, const char *name,
    int *dst)
{
	const config_setting_t *s = member(g, name);

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		type_error(c, s, "true or false");
		return;
	}
	*dst = config_setting_get_bool(s);
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
	static const char *const keys[] = { "sun", "mon", "tue", "wed", "thu",
	    "fri", "sat", NULL };
	int d;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		type_error(c, g, "a group { mon = [\"09:00\",\"19:00\"]; ... }");
		return;
	}
	check_keys(c, g, keys);
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
    const config_setting_t *s, const char *zone)
{
	int allow = 0;

	get_bool(c, root, "allow_fixed_zone", &allow);
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
	static const char *const keys[] = { "federal", "extra", "ics", NULL };
	const config_setting_t *s;
	size_t i;

	if (open_group(c, g, keys) == -1)
		return;
	get_bool(c, g, "federal", &cfg->holidays_federal);
	s = get_strings(c, g, "extra", &cfg->holidays_extra,
	    &cfg->holidays_nextra);
	for (i = 0; i < cfg->holidays_nextra; i++)
		if (!valid_date(cfg->holidays_extra[i]))
			cfg_error(c, s, "holidays.extra: '%s' is not a date "
			    "YYYY-MM-DD", cfg->holidays_extra[i]);
	s = get_string(c, g, "ics", &cfg->holidays_ics);
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
	static const char *const keys[] = { "urgent_response_minutes",
	    "urgent_breach_minutes", "in_hours_response_business_minutes",
	    "in_hours_breach_business_minutes", "tip_meetings", NULL };
	const config_setting_t *s;
	char **list = NULL;
	size_t n = 0, i;

	if (open_group(c, g, keys) == -1)
		return;
	get_intv(c, g, "urgent_response_minutes", 1, 100000,
	    &cfg->urgent_response_minutes);
	get_intv(c, g, "urgent_breach_minutes", 1, 100000,
	    &cfg->urgent_breach_minutes);
	get_intv(c, g, "in_hours_response_business_minutes", 1, 1000000,
	    &cfg->in_hours_response_business_minutes);
	get_intv(c, g, "in_hours_breach_business_minutes", 1, 1000000,
	    &cfg->in_hours_breach_business_minutes);
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
static void
load_source_oauth(struct cfgctx *c, const config_setting_t *g,
    struct source_config *src)
{
	static const char *const keys[] = { "token_url", "client_id",
	    "client_secret_file", "refresh_token_file", "scope", NULL };
	struct oauth_config *o;

	if (open_group(c, g, keys) == -1)
		return;
	o = src->oauth = xcalloc(1, sizeof(*o));
	get_string(c, g, "token_url", &o->token_url);
	get_string(c, g, "client_id", &o->client_id);
	get_string(c, g, "client_secret_file", &o->client_secret_file);
	get_string(c, g, "refresh_token_file", &o->refresh_token_file);
	get_string(c, g, "scope", &o->scope);
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
	char *tls = NULL, *auth = NULL, *after = NULL;
	int port_given;

	s = get_string(c, g, "host", &src->host);
	if (src->host == NULL || *src->host == '\0')
		cfg_error(c, g, "source '%s': imap needs host", src->name);
	get_string(c, g, "tls", &tls);
	if (tls == NULL || strcmp(tls, "implicit") == 0)
		src->tls = IMAP_TLS_IMPLICIT;
	else if (strcmp(tls, "starttls") == 0)
		src->tls = IMAP_TLS_STARTTLS;
	else if (strcmp(tls, "none") == 0)
		src->tls = IMAP_TLS_NONE;
	else
		cfg_error(c, member(g, "tls"), "source '%s': tls must be "
		    "\"implicit\", \"starttls\" or \"none\"", src->name);
	if (src->tls == IMAP_TLS_NONE && src->host &&
	    !host_is_loopback(src->host))
		cfg_error(c, member(g, "tls"), "source '%s': tls = \"none\" is "
		    "only allowed to 127.0.0.1, ::1 or another loopback "
		    "address (a name only if it resolves to loopback alone)",
		    src->name);
	port_given = member(g, "port") != NULL;
	get_intv(c, g, "port", 1, 65535, &src->port);
	if (!port_given)
		src->port = src->tls == IMAP_TLS_IMPLICIT ? 993 : 143;
	get_string(c, g, "ca_file", &src->ca_file);
	resolve_path(c, &src->ca_file);
	check_readable(c, member(g, "ca_file"), "ca_file", src->ca_file);
	get_bool(c, g, "tls_verify", &src->tls_verify);
	get_string(c, g, "pin_sha256", &src->pin_sha256);
	if (src->pin_sha256 && strlen(src->pin_sha256) != 64)
		cfg_error(c, member(g, "pin_sha256"), "source '%s': pin_sha256 "
		    "must be 64 hex digits", src->name);
	get_string(c, g, "user", &src->user);
	if (src->user == NULL)
		cfg_error(c, g, "source '%s': imap needs user", src->name);
	get_string(c, g, "auth", &auth);
	if (auth == NULL || strcmp(auth, "login") == 0)
		src->auth = IMAP_AUTH_LOGIN;
	else if (strcmp(auth, "xoauth2") == 0)
		src->auth = IMAP_AUTH_XOAUTH2;
	else if (strcmp(auth, "oauthbearer") == 0)
		src->auth = IMAP_AUTH_OAUTHBEARER;
	else
		cfg_error(c, member(g, "auth"), "source '%s': auth must be "
		    "\"login\", \"xoauth2\" or \"oauthbearer\"", src->name);
	get_string(c, g, "password_file", &src->password_file);
	get_string(c, g, "token_file", &src->token_file);
	get_string(c, g, "token_command", &src->token_command);
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
		    "token_command or oauth", src->name, auth);
	check_secret(c, member(g, "password_file"), "password_file",
	    src->password_file);
	check_secret(c, member(g, "token_file"), "token_file", src->token_file);
	get_string(c, g, "mailbox", &src->mailbox);
	get_string(c, g, "after", &after);
	if (after == NULL || strcmp(after, "seen") == 0)
		src->after = IMAP_AFTER_SEEN;
	else if (strncmp(after, "move:", 5) == 0 && after[5] != '\0') {
		src->after = IMAP_AFTER_MOVE;
		src->move_to = xstrdup(after + 5);
	} else
		cfg_error(c, member(g, "after"), "source '%s': after must be "
		    "\"seen\" or \"move:FOLDER\"", src->name);
	get_bool(c, g, "idle", &src->idle);
	(void)s;
	free(tls);
	free(auth);
	free(after);
}

/* A push channel (listen.h): a path the listener serves and the secret
 * its requests are signed with. */
static void
load_source_push(struct cfgctx *c, const config_setting_t *g,
    struct source_config *src)
{
	get_string(c, g, "path", &src->path);
	if (src->path == NULL || src->path[0] != '/' ||
	    strpbrk(src->path, "?# \t\r\n") != NULL)
		cfg_error(c, g, "source '%s': needs a path starting with / "
		    "(no query)", src->name);
	get_string(c, g, "secret_file", &src->secret_file);
	resolve_path(c, &src->secret_file);
	if (src->secret_file == NULL)
		cfg_error(c, g, "source '%s': needs secret_file", src->name);
	check_secret(c, member(g, "secret_file"), "secret_file",
	    src->secret_file);
	get_string(c, g, "public_url", &src->public_url);
	if (src->type == SOURCE_TWILIO && (src->public_url == NULL ||
	    (strncmp(src->public_url, "https://", 8) != 0 &&
	    strncmp(src->public_url, "http://", 7) != 0)))
		cfg_error(c, g, "source '%s': twilio needs public_url, the "
		    "http(s):// URL Twilio requests", src->name);
	get_string(c, g, "verify_token_file", &src->verify_token_file);
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
	static const char *const keys[] = { "name", "type", "path", "host",
	    "port", "tls", "ca_file", "tls_verify", "pin_sha256", "user",
	    "auth", "password_file", "token_file", "token_command", "mailbox",
	    "after", "idle", "poll_interval", "timeout", "url", "secret_file",
	    "public_url", "verify_token_file", "oauth", NULL };
	char *type = NULL;

	memset(src, 0, sizeof(*src));
	src->tls_verify = 1;
	src->idle = 1;
	src->poll_interval = 60;
	src->timeout = 60;
	src->mailbox = xstrdup("INBOX");
	src->line = (int)config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		type_error(c, g, "a group { name = ...; type = ...; }");
		src->name = xstrdup("?");
		return;
	}
	check_keys(c, g, keys);
	get_string(c, g, "name", &src->name);
	if (src->name == NULL || *src->name == '\0') {
		cfg_error(c, g, "a source needs a name");
		free(src->name);
		src->name = xstrdup("?");
	}
	get_intv(c, g, "poll_interval", 1, 86400, &src->poll_interval);
	get_intv(c, g, "timeout", 1, 3600, &src->timeout);
	get_string(c, g, "type", &type);
	if (type == NULL) {
		cfg_error(c, g, "source '%s' needs a type (maildir, imap, http)",
		    src->name);
	} else if (strcmp(type, "maildir") == 0) {
		src->type = SOURCE_MAILDIR;
		get_string(c, g, "path", &src->path);
		resolve_path(c, &src->path);
		if (src->path == NULL)
			cfg_error(c, g, "source '%s': maildir needs path", src->name);
	} else if (strcmp(type, "imap") == 0) {
		src->type = SOURCE_IMAP;
		load_source_imap(c, g, src);
	} else if (strcmp(type, "http") == 0) {
		src->type = SOURCE_HTTP;
		get_string(c, g, "url", &src->url);
		get_string(c, g, "token_file", &src->token_file);
		get_string(c, g, "ca_file", &src->ca_file);
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
	static const char *const keys[] = { "address", "port",
	    "max_body_bytes", "timeout", "max_connections", NULL };
	const config_setting_t *g;
	unsigned char a[16];

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
	if (open_group(c, g, keys) == -1)
		return;
	get_string(c, g, "address", &cfg->listen_address);
	if (cfg->listen_address && inet_pton(AF_INET, cfg->listen_address, a) != 1 &&
	    inet_pton(AF_INET6, cfg->listen_address, a) != 1)
		cfg_error(c, member(g, "address"), "listen.address '%s' is not "
		    "an IPv4 or IPv6 address", cfg->listen_address);
	if (member(g, "port") == NULL)
		cfg_error(c, g, "listen needs port");
	get_intv(c, g, "port", 1, 65535, &cfg->listen_port);
	get_sizev(c, g, "max_body_bytes", 1024, 1LL << 30, &cfg->listen_max_body);
	get_intv(c, g, "timeout", 1, 3600, &cfg->listen_timeout);
	get_intv(c, g, "max_connections", 1, 10000,
	    &cfg->listen_max_connections);
}

static void
load_limits(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	static const char *const keys[] = { "max_message_bytes",
	    "max_mime_depth", "max_mime_parts", "max_headers",
	    "max_header_bytes", "max_text_bytes", "max_decode_ratio",
	    "parse_timeout", NULL };

	if (open_group(c, g, keys) == -1)
		return;
	get_sizev(c, g, "max_message_bytes", 1024, 1LL << 31,
	    &cfg->max_message_bytes);
	get_intv(c, g, "max_mime_depth", 1, 1000, &cfg->max_mime_depth);
	get_intv(c, g, "max_mime_parts", 1, 100000, &cfg->max_mime_parts);
	get_intv(c, g, "max_headers", 10, 100000, &cfg->max_headers);
	get_sizev(c, g, "max_header_bytes", 256, 1 << 24, &cfg->max_header_bytes);
	get_sizev(c, g, "max_text_bytes", 1024, 1LL << 31, &cfg->max_text_bytes);
	get_intv(c, g, "max_decode_ratio", 1, 1000, &cfg->max_decode_ratio);
	get_intv(c, g, "parse_timeout", 1, 3600, &cfg->parse_timeout);
}

static void
load_alerts(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	static const char *const keys[] = { "webhook", "to",
	    "source_stale_minutes", "parse_error_run", "include_excerpt", NULL };

	if (open_group(c, g, keys) == -1)
		return;
	get_string(c, g, "webhook", &cfg->alerts_webhook);
	get_strings(c, g, "to", &cfg->alerts_to, &cfg->alerts_nto);
	get_intv(c, g, "source_stale_minutes", 1, 100000,
	    &cfg->alerts_source_stale_minutes);
	get_intv(c, g, "parse_error_run", 1, 100000, &cfg->alerts_parse_error_run);
	get_bool(c, g, "include_excerpt", &cfg->alerts_include_excerpt);
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
	static const char *const keys[] = { "after", "repeat_minutes", "notify",
	    NULL };
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

		if (open_group(c, g, keys) == -1)
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
		get_intv(c, g, "repeat_minutes", 1, 10080, &st->repeat_minutes);
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
	static const char *const keys[] = { "name", "email", "webhook", NULL };

	if (open_group(c, g, keys) == -1)
		return;
	get_string(c, g, "name", &p->name);
	get_string(c, g, "email", &p->email);
	get_string(c, g, "webhook", &p->webhook);
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
	static const char *const keys[] = { "rota", "people", "reply_to",
	    NULL };
	const config_setting_t *s;
	int i, n;
	size_t j, k;

	if (open_group(c, g, keys) == -1)
		return;
	s = get_string(c, g, "rota", &cfg->oncall_rota);
	if (cfg->oncall_rota && *cfg->oncall_rota == '\0') {
		free(cfg->oncall_rota);
		cfg->oncall_rota = NULL;
	}
	resolve_path(c, &cfg->oncall_rota);
	if (s)
		cfg->oncall_rota_line = (int)config_setting_source_line(s);
	get_string(c, g, "reply_to", &cfg->oncall_reply_to);
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
	static const char *const keys[] = { "url", "user", "password_file",
	    "from", "ca_file", NULL };

	if (open_group(c, g, keys) == -1)
		return;
	get_string(c, g, "url", &cfg->smtp_url);
	if (cfg->smtp_url && strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0)
		cfg_error(c, member(g, "url"), "smtp.url must start with smtp:// "
		    "or smtps://");
	get_string(c, g, "user", &cfg->smtp_user);
	get_string(c, g, "password_file", &cfg->smtp_password_file);
	resolve_path(c, &cfg->smtp_password_file);
	check_secret(c, member(g, "password_file"), "smtp.password_file",
	    cfg->smtp_password_file);
	get_string(c, g, "from", &cfg->smtp_from);
	get_string(c, g, "ca_file", &cfg->smtp_ca_file);
	resolve_path(c, &cfg->smtp_ca_file);
	check_readable(c, member(g, "ca_file"), "smtp.ca_file", cfg->smtp_ca_file);
}

static void
load_remind(struct cfgctx *c, const config_setting_t *g, struct config *cfg)
{
	static const char *const keys[] = { "at", "lead_minutes", "to",
	    "webhook", NULL };
	const config_setting_t *s;
	char **list = NULL;
	size_t n = 0, i;

	if (open_group(c, g, keys) == -1)
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
	get_intv(c, g, "lead_minutes", 0, 100000, &cfg->remind_lead_minutes);
	get_strings(c, g, "to", &cfg->remind_to, &cfg->remind_nto);
	get_string(c, g, "webhook", &cfg->remind_webhook);
}

static void
load_misc_group(struct cfgctx *c, const config_setting_t *root,
    struct config *cfg)
{
	static const char *const tkeys[] = { "lexicon", "model", NULL };
	static const char *const akeys[] = { "enabled", "from", NULL };
	static const char *const rkeys[] = { "closed_days", NULL };
	const config_setting_t *g;

	g = member(root, "triage");
	if (open_group(c, g, tkeys) == 0) {
		get_string(c, g, "lexicon", &cfg->triage_lexicon);
		resolve_path(c, &cfg->triage_lexicon);
		check_readable(c, member(g, "lexicon"), "triage.lexicon",
		    cfg->triage_lexicon);
		/* not checked here: a bad model means the rules alone */
		get_string(c, g, "model", &cfg->triage_model);
		if (cfg->triage_model && strcmp(cfg->triage_model, "none") != 0)
			resolve_path(c, &cfg->triage_model);
	}
	g = member(root, "ack");
	if (open_group(c, g, akeys) == 0) {
		get_bool(c, g, "enabled", &cfg->ack_enabled);
		get_string(c, g, "from", &cfg->ack_from);
	}
	g = member(root, "retention");
	if (open_group(c, g, rkeys) == 0)
		get_intv(c, g, "closed_days", 0, 100000,
		    &cfg->retention_closed_days);
}

static void
load_log_level(struct cfgctx *c, const config_setting_t *root,
    struct config *cfg)
{
	static const char *const names[] = { "err", "warning", "notice", "info",
	    "debug" };
	char *lvl = NULL;
	size_t i;

	if (get_string(c, root, "log_level", &lvl) == NULL)
		return;
	for (i = 0; i < NELEM(names); i++)
		if (strcmp(lvl, names[i]) == 0)
			cfg->log_level = LOG_PRI_ERR + (int)i;
	if (cfg->log_level < LOG_PRI_ERR || strcmp(lvl, names[cfg->log_level -
	    LOG_PRI_ERR]) != 0)
		cfg_error(c, member(root, "log_level"), "log_level must be one of "
		    "err, warning, notice, info, debug");
	free(lvl);
}

static void
load_root(struct cfgctx *c, const config_setting_t *root, struct config *cfg)
{
	static const char *const keys[] = { "database", "database_group",
	    "timezone", "business_hours", "holidays", "sla", "sources",
	    "limits", "triage", "alerts", "smtp", "remind", "ack", "retention",
	    "log_level", "busy_timeout_ms", "allow_fixed_zone", "escalation",
	    "listen", "conversation_hours", "oncall", NULL };
	const config_setting_t *s;
	char *zone;

	check_keys(c, root, keys);
	get_string(c, root, "database", &cfg->database);
	/* Not yet a path to a file named "postgresql:" (issue 18). */
	if (cfg->database && (strncmp(cfg->database, "postgresql://", 13) == 0
	    || strncmp(cfg->database, "postgres://", 11) == 0))
		cfg_error(c, member(root, "database"), "database: PostgreSQL is "
		    "not supported by intaked and the staff commands yet (only by "
		    "`intake db copy`): give the SQLite file's path");
	resolve_path(c, &cfg->database);
	get_string(c, root, "database_group", &cfg->database_group);
	s = get_string(c, root, "timezone", &cfg->timezone);
	if (s) {
		zone = xasprintf("/usr/share/zoneinfo/%s", cfg->timezone);
		if (strstr(cfg->timezone, "..") || access(zone, R_OK) == -1)
			cfg_error(c, s, "timezone '%s' is not in the tz database",
			    cfg->timezone);
		else
			check_zone_kind(c, root, s, cfg->timezone);
		free(zone);
	}
	load_business_hours(c, member(root, "business_hours"), cfg);
	load_holidays(c, member(root, "holidays"), cfg);
	load_sla(c, member(root, "sla"), cfg);
	load_sources(c, member(root, "sources"), cfg);
	load_listen(c, member(root, "listen"), cfg);
	/* a push channel nobody listens for would stay silent for ever */
	for (size_t i = 0; i < cfg->nsources && cfg->listen_port == 0; i++)
		if (SOURCE_IS_PUSH(cfg->sources[i].type))
			cfg_error(c, member(root, "sources"), "source '%s': a push "
			    "channel needs listen = ( { port = ...; } )",
			    cfg->sources[i].name);
	load_limits(c, member(root, "limits"), cfg);
	load_alerts(c, member(root, "alerts"), cfg);
	load_smtp(c, member(root, "smtp"), cfg);
	load_remind(c, member(root, "remind"), cfg);
	load_escalation(c, member(root, "escalation"), cfg);
	load_oncall(c, member(root, "oncall"), cfg);
	load_misc_group(c, root, cfg);
	load_log_level(c, root, cfg);
	get_intv(c, root, "busy_timeout_ms", 0, 3600000, &cfg->busy_timeout_ms);
	get_intv(c, root, "conversation_hours", 0, 8760,
	    &cfg->conversation_hours);
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
	cfg->database = xstrdup("/var/lib/intake/intake.db");
	cfg->timezone = xstrdup("America/New_York");
	for (d = 1; d <= 5; d++) {
		cfg->week[d].open = 9 * 60;
		cfg->week[d].close = 19 * 60;
	}
	cfg->holidays_federal = 1;
	cfg->urgent_response_minutes = 15;
	cfg->urgent_breach_minutes = 60;
	cfg->in_hours_response_business_minutes = 600;
	cfg->in_hours_breach_business_minutes = 1200;
	cfg->tip_meetings = xmalloc(sizeof(meetings));
	memcpy(cfg->tip_meetings, meetings, sizeof(meetings));
	cfg->ntip_meetings = NELEM(meetings);
	cfg->max_message_bytes = 50u * 1024 * 1024;
	cfg->max_mime_depth = 20;
	cfg->max_mime_parts = 500;
	cfg->max_headers = 1000;
	cfg->max_header_bytes = 65536;
	cfg->max_text_bytes = 4u * 1024 * 1024;
	cfg->max_decode_ratio = 4;
	cfg->parse_timeout = 30;
	cfg->alerts_source_stale_minutes = 15;
	cfg->alerts_parse_error_run = 5;
	cfg->remind_at = xmalloc(sizeof(remind_at));
	memcpy(cfg->remind_at, remind_at, sizeof(remind_at));
	cfg->remind_nat = NELEM(remind_at);
	cfg->remind_lead_minutes = 120;
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
	cfg->log_level = LOG_PRI_INFO;
	cfg->busy_timeout_ms = 5000;
	cfg->listen_max_body = 1u << 20;
	cfg->listen_timeout = 10;
	cfg->listen_max_connections = 64;
	cfg->conversation_hours = 72;
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
	free_escalation(cfg);
	free(cfg->oncall_rota);
	for (i = 0; i < cfg->oncall_npeople; i++) {
		free(cfg->oncall_people[i].name);
		free(cfg->oncall_people[i].email);
		free(cfg->oncall_people[i].webhook);
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

int
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
