/* SPDX-License-Identifier: MIT */
/*
 * conftab.c: the table of configuration keys (conftab.h) and the dump of
 * an effective configuration.  A section's rows are in the order
 * config.c reads them (get_section()), so errors come out in the order
 * they always did; a source's rows are in the order of the dump (its keys
 * are read by the code of its type).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conftab.h"
#include "log.h"
#include "oauth.h"
#include "store.h"
#include "tag.h"
#include "util.h"

#define C(f)	offsetof(struct config, f)
#define S(f)	offsetof(struct source_config, f)
#define E(f)	offsetof(struct escalation_step, f)
#define P(f)	offsetof(struct oncall_person, f)
#define O(f)	offsetof(struct oauth_config, f)
#define NO	CONF_NOFF

#define INT(sec, name, off, lo, hi, def, doc) \
	{ sec, name, CT_INT, off, 0, lo, hi, NULL, def, 0, 0, doc }
#define SIZE(sec, name, off, lo, hi, def, doc) \
	{ sec, name, CT_SIZE, off, 0, lo, hi, NULL, def, 0, 0, doc }
#define BOOL(sec, name, off, def, doc) \
	{ sec, name, CT_BOOL, off, 0, 0, 1, NULL, def, 0, 0, doc }
#define STR(sec, name, type, off, def, doc) \
	{ sec, name, type, off, 0, 0, 0, NULL, def, 0, 0, doc }
#define LIST(sec, name, off, off_n, doc) \
	{ sec, name, CT_STRLIST, off, off_n, 0, 0, NULL, NULL, 0, 0, doc }
#define SPECIAL(sec, name, flags, doc) \
	{ sec, name, CT_SPECIAL, NO, 0, 0, 0, NULL, NULL, 0, flags, doc }
/* a key of a source: its types, and its default */
#define SRC(name, type, off, lo, hi, choices, def, types, doc) \
	{ "sources", name, type, off, 0, lo, hi, choices, def, types, 0, doc }

#define IMAP	ST(SOURCE_IMAP)
#define HTTP	ST(SOURCE_HTTP)
#define POLLED	(ST(SOURCE_MAILDIR) | IMAP | HTTP)

const struct conf_key conf_keys[] = {
	/* the top level */
	STR("", "database", CT_PATH, C(database), "/var/lib/intake/intake.db",
	    "the SQLite database, or a postgresql:// URI"),
	STR("", "database_group", CT_STRING, C(database_group), NULL,
	    "group of the database file (mode 0660); unset: 0600"),
	STR("", "database_password_file", CT_SECRET_FILE,
	    C(database_password_file), NULL,
	    "PostgreSQL: the file holding the role's password"),
	STR("", "tag_key_file", CT_PATH, C(tag_key_file), NULL,
	    "the subject tags' key; unset: tag.key beside the SQLite file "
	    "(PostgreSQL: " TAG_KEY_PG_DEFAULT ")"),
	STR("", "timezone", CT_STRING, C(timezone), "America/New_York",
	    "office zone (tz database, Area/City)"),
	BOOL("", "allow_fixed_zone", C(allow_fixed_zone), "false",
	    "accept a timezone that is not Area/City"),
	SPECIAL("", "business_hours", 0,
	    "opening hours per weekday; a day left out is closed"),
	SPECIAL("business_hours", "sun", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	SPECIAL("business_hours", "mon", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	SPECIAL("business_hours", "tue", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	SPECIAL("business_hours", "wed", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	SPECIAL("business_hours", "thu", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	SPECIAL("business_hours", "fri", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	SPECIAL("business_hours", "sat", CF_UNDER, "[\"HH:MM\", \"HH:MM\"]"),
	BOOL("holidays", "federal", C(holidays_federal), "true",
	    "US federal holidays on their observed dates"),
	LIST("holidays", "extra", C(holidays_extra), C(holidays_nextra),
	    "further closed days, \"YYYY-MM-DD\""),
	STR("holidays", "ics", CT_PATH, C(holidays_ics), NULL,
	    "iCalendar file of all-day closures"),
	INT("sla", "urgent_response_minutes", C(urgent_response_minutes),
	    1, 100000, "15", "urgent: response due after receipt"),
	INT("sla", "urgent_breach_minutes", C(urgent_breach_minutes),
	    1, 100000, "60", "urgent: breached after receipt"),
	INT("sla", "in_hours_response_business_minutes",
	    C(in_hours_response_business_minutes), 1, 1000000, "600",
	    "routine, received in hours: response due"),
	INT("sla", "in_hours_breach_business_minutes",
	    C(in_hours_breach_business_minutes), 1, 1000000, "1200",
	    "routine, received in hours: breached"),
	SPECIAL("sla", "tip_meetings", 0,
	    "the tip-review meetings, \"ddd HH:MM\""),
	SPECIAL("", "sources", 0, "where messages come from"),
	/* each source (sources = ( { ... } )), in the order they are read */
	SRC("name", CT_STRING, S(name), 0, 0, NULL, NULL, 0,
	    "the source's name, unique"),
	SRC("type", CT_SPECIAL, NO, 0, 0,
	    "maildir|imap|http|twilio|whatsapp|webhook", NULL, 0,
	    "the kind of source"),
	SRC("poll_interval", CT_INT, S(poll_interval), 1, 86400, NULL, "60",
	    0, "seconds between polls"),
	SRC("timeout", CT_INT, S(timeout), 1, 3600, NULL, "60", 0,
	    "seconds per network read"),
	SRC("direction", CT_ENUM, S(outbound), 0, 0, "inbound|outbound",
	    "inbound", 0, "\"outbound\": staff replies (a Sent folder)"),
	SRC("staff", CT_STRING, S(staff), 0, 0, NULL, NULL, 0,
	    "the staff name an outbound source's replies acknowledge as"),
	SRC("path", CT_PATH, S(path), 0, 0, NULL, NULL,
	    ST(SOURCE_MAILDIR) | ST_PUSH,
	    "maildir: the Maildir; push: the URL path served"),
	SRC("host", CT_STRING, S(host), 0, 0, NULL, NULL, IMAP,
	    "the IMAP server"),
	SRC("tls", CT_ENUM, S(tls), IMAP_TLS_IMPLICIT, 0,
	    "implicit|starttls|none", "implicit", IMAP,
	    "implicit, starttls or none (loopback only)"),
	SRC("port", CT_INT, S(port), 1, 65535, NULL, NULL, IMAP,
	    "default 993 with implicit TLS, else 143"),
	SRC("ca_file", CT_PATH, S(ca_file), 0, 0, NULL, NULL, IMAP | HTTP,
	    "PEM certificates to trust instead of the system's"),
	SRC("tls_verify", CT_BOOL, S(tls_verify), 0, 1, NULL, "true", IMAP,
	    "verify the server's certificate"),
	SRC("pin_sha256", CT_STRING, S(pin_sha256), 0, 0, NULL, NULL, IMAP,
	    "SHA-256 of the server's certificate, 64 hex digits"),
	SRC("user", CT_STRING, S(user), 0, 0, NULL, NULL, IMAP,
	    "the login name"),
	SRC("auth", CT_ENUM, S(auth), IMAP_AUTH_LOGIN, 0,
	    "login|xoauth2|oauthbearer", "login", IMAP,
	    "login, xoauth2 or oauthbearer"),
	SRC("password_file", CT_SECRET_FILE, S(password_file), 0, 0, NULL,
	    NULL, IMAP, "the file holding the password"),
	SRC("token_file", CT_SECRET_FILE, S(token_file), 0, 0, NULL, NULL,
	    IMAP | HTTP, "the file holding the OAuth2 or bearer token"),
	SRC("token_command", CT_SECRET_COMMAND, S(token_command), 0, 0, NULL,
	    NULL, IMAP, "a command printing a fresh OAuth2 token"),
	SRC("oauth", CT_SPECIAL, NO, 0, 0, NULL, NULL, IMAP,
	    "intake's own token refresh { token_url; client_id; ... }"),
	{ "sources.oauth", "token_url", CT_STRING, O(token_url), 0, 0, 0, NULL,
	    NULL, 0, CF_UNDER, "the token endpoint, https:// (http to loopback)" },
	{ "sources.oauth", "client_id", CT_STRING, O(client_id), 0, 0, 0, NULL,
	    NULL, 0, CF_UNDER, "the OAuth client id" },
	{ "sources.oauth", "client_secret_file", CT_SECRET_FILE,
	    O(client_secret_file), 0, 0, 0, NULL, NULL, 0, CF_UNDER,
	    "the file holding the client secret" },
	{ "sources.oauth", "refresh_token_file", CT_SECRET_FILE,
	    O(refresh_token_file), 0, 0, 0, NULL, NULL, 0, CF_UNDER,
	    "the file holding the refresh token (rewritten when rotated)" },
	{ "sources.oauth", "scope", CT_STRING, O(scope), 0, 0, 0, NULL, NULL, 0,
	    CF_UNDER, "the scope asked for" },
	SRC("mailbox", CT_STRING, S(mailbox), 0, 0, NULL, "INBOX", IMAP,
	    "the mailbox to read"),
	SRC("after", CT_SPECIAL, NO, 0, 0, NULL, "seen", IMAP,
	    "\"seen\" or \"move:FOLDER\""),
	SRC("idle", CT_BOOL, S(idle), 0, 1, NULL, "true", IMAP,
	    "use IDLE when the server has it"),
	SRC("url", CT_STRING, S(url), 0, 0, NULL, NULL, HTTP,
	    "the message feed, https://"),
	SRC("secret_file", CT_SECRET_FILE, S(secret_file), 0, 0, NULL, NULL,
	    ST_PUSH, "the file holding the signing secret"),
	SRC("public_url", CT_STRING, S(public_url), 0, 0, NULL, NULL,
	    ST(SOURCE_TWILIO), "the URL Twilio signs"),
	SRC("verify_token_file", CT_SECRET_FILE, S(verify_token_file), 0, 0,
	    NULL, NULL, ST(SOURCE_WHATSAPP),
	    "the file holding WhatsApp's hub.verify_token"),
	SPECIAL("", "listen", 0, "the webhook listener of the push channels"),
	STR("listen", "address", CT_STRING, C(listen_address), "127.0.0.1",
	    "an IPv4 or IPv6 address"),
	INT("listen", "port", C(listen_port), 1, 65535, NULL, "required"),
	SIZE("listen", "max_body_bytes", C(listen_max_body), 1024, 1LL << 30,
	    "1048576", "a larger request is refused"),
	INT("listen", "timeout", C(listen_timeout), 1, 3600, "10",
	    "seconds a connection may stay idle"),
	INT("listen", "max_connections", C(listen_max_connections), 1, 10000,
	    "64", "connections served at once"),
	INT("listen", "refusal_burst", C(listen_refusal_burst), 0, 10000, "20",
	    "refused requests in a window that raise a health alert (0: never)"),
	INT("listen", "refusal_window", C(listen_refusal_window), 1, 86400,
	    "300", "the window of refusal_burst, seconds"),
	STR("listen", "socket", CT_STRING, C(listen_socket), NULL,
	    "a unix socket path instead of address and port"),
	SPECIAL("listen", "socket_mode", 0, "the socket's mode, octal (\"0660\")"),
	STR("listen", "socket_group", CT_STRING, C(listen_socket_group), NULL,
	    "the socket's group"),
	SIZE("limits", "max_message_bytes", C(max_message_bytes), 1024,
	    1LL << 31, "52428800", "the largest message fetched and parsed"),
	INT("limits", "max_mime_depth", C(max_mime_depth), 1, 1000, "20",
	    "the deepest nesting of multiparts"),
	INT("limits", "max_mime_parts", C(max_mime_parts), 1, 100000, "500",
	    "the most MIME parts"),
	INT("limits", "max_headers", C(max_headers), 10, 100000, "1000",
	    "the most header fields"),
	SIZE("limits", "max_header_bytes", C(max_header_bytes), 256, 1 << 24,
	    "65536", "the longest header field"),
	SIZE("limits", "max_text_bytes", C(max_text_bytes), 1024, 1LL << 31,
	    "4194304", "the most decoded text kept"),
	INT("limits", "max_decode_ratio", C(max_decode_ratio), 1, 1000, "4",
	    "decoded size / encoded size of a part"),
	INT("limits", "parse_timeout", C(parse_timeout), 1, 3600, "30",
	    "seconds to parse one message"),
	STR("alerts", "webhook", CT_STRING, C(alerts_webhook), NULL,
	    "URL of the JSON POST of alerts"),
	LIST("alerts", "to", C(alerts_to), C(alerts_nto),
	    "addresses that receive alerts"),
	INT("alerts", "source_stale_minutes", C(alerts_source_stale_minutes),
	    1, 100000, "15", "no successful poll for this long: alert"),
	INT("alerts", "parse_error_run", C(alerts_parse_error_run), 1, 100000,
	    "5", "this many parse errors in a row: alert"),
	BOOL("alerts", "include_excerpt", C(alerts_include_excerpt), "false",
	    "put the message's first 280 characters in alerts"),
	STR("smtp", "url", CT_STRING, C(smtp_url), NULL,
	    "smtp:// or smtps:// server"),
	STR("smtp", "user", CT_STRING, C(smtp_user), NULL, "the login name"),
	STR("smtp", "password_file", CT_SECRET_FILE, C(smtp_password_file),
	    NULL, "the file holding the password"),
	STR("smtp", "from", CT_STRING, C(smtp_from), NULL,
	    "sender of alerts, reminders, acknowledgements"),
	STR("smtp", "ca_file", CT_PATH, C(smtp_ca_file), NULL,
	    "PEM certificates to trust"),
	SPECIAL("remind", "at", 0, "times of the reminder reports, \"HH:MM\""),
	INT("remind", "lead_minutes", C(remind_lead_minutes), 0, 100000, "120",
	    "remind when a deadline is less than this away"),
	LIST("remind", "to", C(remind_to), C(remind_nto),
	    "addresses that receive the report"),
	STR("remind", "webhook", CT_STRING, C(remind_webhook), NULL,
	    "URL of the JSON POST of the report"),
	SPECIAL("", "escalation", 0, "the steps of the 24/7 escalation"),
	{ "escalation", "after", CT_SPECIAL, NO, 0, 0, 0,
	    "response_due|breach", NULL, 0, CF_UNDER,
	    "\"response_due\" or \"breach\"" },
	{ "escalation", "repeat_minutes", CT_INT, E(repeat_minutes), 0, 1,
	    10080, NULL, NULL, 0, CF_UNDER,
	    "every N minutes after the step before" },
	SPECIAL("escalation", "notify", CF_UNDER,
	    "\"oncall\", \"escalation\", \"oncall+escalation\" or addresses"),
	STR("oncall", "rota", CT_PATH, C(oncall_rota), NULL,
	    "the on-call rota, an iCalendar file"),
	STR("oncall", "reply_to", CT_STRING, C(oncall_reply_to), NULL,
	    "acknowledging by mail: the Reply-To"),
	SPECIAL("oncall", "people", 0, "whom a rota name pages"),
	{ "oncall.people", "name", CT_STRING, P(name), 0, 0, 0, NULL, NULL,
	    0, CF_UNDER, "the name, unique" },
	{ "oncall.people", "email", CT_STRING, P(email), 0, 0, 0, NULL, NULL,
	    0, CF_UNDER, "an address" },
	{ "oncall.people", "webhook", CT_STRING, P(webhook), 0, 0, 0, NULL,
	    NULL, 0, CF_UNDER, "an https:// URL" },
	{ "oncall.people", "login", CT_STRING, P(login), 0, 0, 0, NULL,
	    NULL, 0, CF_UNDER, "the staff login (default: the name)" },
	STR("triage", "lexicon", CT_PATH, C(triage_lexicon), NULL,
	    "the lexicon file (unset: built in)"),
	STR("triage", "model", CT_STRING, C(triage_model), NULL,
	    "the model file (unset: built in; \"none\": rules only)"),
	BOOL("ack", "enabled", C(ack_enabled), "false",
	    "acknowledge to senders"),
	STR("ack", "from", CT_STRING, C(ack_from), NULL,
	    "sender of acknowledgements"),
	INT("retention", "closed_days", C(retention_closed_days), 0, 100000,
	    "0", "intake purge's default age; 0 keeps for ever"),
	{ "", "log_level", CT_ENUM, C(log_level), 0, LOG_PRI_ERR, 0,
	    "err|warning|notice|info|debug", "info", 0, 0,
	    "the least important messages logged" },
	INT("", "busy_timeout_ms", C(busy_timeout_ms), 0, 3600000, "5000",
	    "SQLite busy timeout"),
	INT("", "conversation_hours", C(conversation_hours), 0, 8760, "72",
	    "push channels: a sender's texts join their last ticket"),
};
const size_t conf_nkeys = NELEM(conf_keys);

const struct conf_key *
conf_key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

char *
conf_key_docname(const struct conf_key *k)
{
	if (*k->section == '\0' || strcmp(k->section, "sources") == 0 ||
	    (k->flags & CF_UNDER))
		return xstrdup(k->name);
	return xasprintf("%s.%s", k->section, k->name);
}

int
conf_enum_index(const struct conf_key *k, const char *value)
{
	const char *p = k->choices;
	size_t len = strlen(value);
	int i = 0;

	while (p != NULL) {
		size_t n = strcspn(p, "|");

		if (n == len && strncmp(p, value, n) == 0)
			return i;
		p = p[n] ? p + n + 1 : NULL;
		i++;
	}
	return -1;
}

const char *
conf_enum_name(const struct conf_key *k, int index, size_t *len)
{
	const char *p = k->choices;
	int i;

	for (i = 0; p != NULL && i < index; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (p == NULL || index < 0)
		return NULL;
	*len = strcspn(p, "|");
	return p;
}

int
conf_in_config(const struct conf_key *k)
{
	return strcmp(k->section, "sources") != 0 &&
	    strcmp(k->section, "escalation") != 0 &&
	    strcmp(k->section, "oncall.people") != 0;
}

void
conf_defaults(const char *section, void *base)
{
	char *b = base;
	size_t i;

	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (section ? strcmp(k->section, section) != 0 :
		    !conf_in_config(k))
			continue;
		if (k->def == NULL || k->off == CONF_NOFF)
			continue;
		switch (k->type) {
		case CT_INT:
			*(int *)(b + k->off) = (int)strtoll(k->def, NULL, 10);
			break;
		case CT_SIZE:
			*(size_t *)(b + k->off) =
			    (size_t)strtoull(k->def, NULL, 10);
			break;
		case CT_BOOL:
			*(int *)(b + k->off) = strcmp(k->def, "true") == 0;
			break;
		case CT_ENUM:
			*(int *)(b + k->off) = (int)k->min +
			    conf_enum_index(k, k->def);
			break;
		case CT_STRING:
		case CT_PATH:
		case CT_SECRET_FILE:
		case CT_SECRET_COMMAND:
			free(*(char **)(b + k->off));
			*(char **)(b + k->off) = xstrdup(k->def);
			break;
		case CT_STRLIST:
		case CT_SPECIAL:
			break;
		}
	}
}

/*
 * The dump.  A libconfig string: every byte outside printable ASCII, the
 * quote and the backslash escaped, so a value with a newline reads back
 * the same and cannot forge a line.
 */
static void
dump_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
dump_strv(FILE *f, char *const *v, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		dump_string(f, v[i]);
	}
	fputc(']', f);
}

static void
dump_hhmm(FILE *f, int minute)
{
	fprintf(f, "\"%02d:%02d\"", minute / 60, minute % 60);
}

/* One row's value at base, as "  name = value;\n"; nothing when unset. */
static void
dump_key(FILE *f, const struct conf_key *k, const void *base,
    const char *indent)
{
	const char *b = base, *name;
	char *s;
	size_t len;

	if (k->off == CONF_NOFF)
		return;
	if (k->type == CT_STRING || k->type == CT_PATH ||
	    k->type == CT_SECRET_FILE || k->type == CT_SECRET_COMMAND) {
		s = *(char *const *)(b + k->off);
		if (s == NULL)
			return;
	}
	fprintf(f, "%s%s = ", indent, k->name);
	switch (k->type) {
	case CT_INT:
		fprintf(f, "%d", *(const int *)(b + k->off));
		break;
	case CT_SIZE:
		/* libconfig reads an integer past 32 bits only with L */
		fprintf(f, "%zu%s", *(const size_t *)(b + k->off),
		    *(const size_t *)(b + k->off) > INT_MAX ? "L" : "");
		break;
	case CT_BOOL:
		fputs(*(const int *)(b + k->off) ? "true" : "false", f);
		break;
	case CT_ENUM:
		name = conf_enum_name(k, *(const int *)(b + k->off) -
		    (int)k->min, &len);
		fprintf(f, "\"%.*s\"", name ? (int)len : 1, name ? name : "?");
		break;
	case CT_STRING:
	case CT_PATH:
		s = *(char *const *)(b + k->off);
		/* a password belongs in database_password_file, never here */
		if (strcmp(k->section, "") == 0 && strcmp(k->name,
		    "database") == 0 && store_has_password(s))
			fputs("\"<connection string with a password>\"", f);
		else
			dump_string(f, s);
		break;
	case CT_SECRET_FILE:
		fputs("\"<file>\"", f);	/* never the path's secret */
		break;
	case CT_SECRET_COMMAND:
		fputs("\"<command>\"", f);	/* may carry a secret */
		break;
	case CT_STRLIST:
		dump_strv(f, *(char **const *)(b + k->off),
		    *(const size_t *)(b + k->off_n));
		break;
	case CT_SPECIAL:
		break;
	}
	fputs(";\n", f);
}

/*
 * Asked about each row of a section before it is dumped: nonzero leaves
 * the row out, because it does not apply to what is at base or because
 * the predicate wrote it itself (a value the table cannot express).
 */
typedef int (*dump_skip_fn)(FILE *, const struct conf_key *, const void *base);

/* Every plain row of section, in table order, but those skip (may be
 * NULL) leaves out. */
static void
dump_section(FILE *f, const char *section, const void *base,
    const char *indent, dump_skip_fn skip)
{
	size_t i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    (skip == NULL || !skip(f, &conf_keys[i], base)))
			dump_key(f, &conf_keys[i], base, indent);
}

static const char *const day_names[7] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

static void
dump_business_hours(FILE *f, const struct config *cfg)
{
	int d;

	fputs("business_hours = {\n", f);
	for (d = 0; d < 7; d++) {
		if (cfg->week[d].open >= cfg->week[d].close)
			continue;	/* closed: left out */
		fprintf(f, "  %s = [", day_names[d]);
		dump_hhmm(f, cfg->week[d].open);
		fputs(", ", f);
		dump_hhmm(f, cfg->week[d].close);
		fputs("];\n", f);
	}
	fputs("};\n", f);
}

static void
dump_sla(FILE *f, const struct config *cfg)
{
	size_t i;

	fputs("sla = {\n", f);
	dump_section(f, "sla", cfg, "  ", NULL);
	fputs("  tip_meetings = [", f);
	for (i = 0; i < cfg->ntip_meetings; i++)
		fprintf(f, "%s\"%s %02d:%02d\"", i ? ", " : "",
		    day_names[cfg->tip_meetings[i].wday],
		    cfg->tip_meetings[i].minute / 60,
		    cfg->tip_meetings[i].minute % 60);
	fputs("];\n};\n", f);
}

static const char *const source_types[] = {
	[SOURCE_MAILDIR] = "maildir", [SOURCE_IMAP] = "imap",
	[SOURCE_HTTP] = "http", [SOURCE_STDIN] = "stdin",
	[SOURCE_TWILIO] = "twilio", [SOURCE_WHATSAPP] = "whatsapp",
	[SOURCE_WEBHOOK] = "webhook",
};

/* A source's rows not of its type are left out; type, after and oauth
 * are written here. */
static int
source_skip(FILE *f, const struct conf_key *k, const void *base)
{
	const struct source_config *src = base;

	if (k->types && !(k->types & ST(src->type)))
		return 1;
	if (strcmp(k->name, "type") == 0)
		fprintf(f, "    type = \"%s\";\n", source_types[src->type]);
	else if (strcmp(k->name, "after") == 0 &&
	    src->after == IMAP_AFTER_MOVE) {
		char *v = xasprintf("move:%s", src->move_to);

		fputs("    after = ", f);
		dump_string(f, v);
		fputs(";\n", f);
		free(v);
	} else if (strcmp(k->name, "after") == 0)
		fputs("    after = \"seen\";\n", f);
	else if (strcmp(k->name, "oauth") == 0) {
		if (src->oauth == NULL)
			return 1;
		fputs("    oauth = {\n", f);
		dump_section(f, "sources.oauth", src->oauth, "      ", NULL);
		fputs("    };\n", f);
	} else
		return 0;
	return 1;
}

/* A source: the rows of its type, in table order. */
static void
dump_source(FILE *f, const struct source_config *src)
{
	fputs("  {\n", f);
	dump_section(f, "sources", src, "    ", source_skip);
	fputs("  }", f);
}

static void
dump_sources(FILE *f, const struct config *cfg)
{
	size_t i;

	fputs("sources = (\n", f);
	for (i = 0; i < cfg->nsources; i++) {
		dump_source(f, &cfg->sources[i]);
		fputs(i + 1 < cfg->nsources ? ",\n" : "\n", f);
	}
	fputs(");\n", f);
}

/* A socket, or address and port: never both. */
static int
listen_skip(FILE *f, const struct conf_key *k, const void *base)
{
	const struct config *cfg = base;

	(void)f;
	return cfg->listen_socket && (strcmp(k->name, "address") == 0 ||
	    strcmp(k->name, "port") == 0);
}

/* Without a port or a socket there is no listener: nothing of it is in
 * effect. */
static void
dump_listen(FILE *f, const struct config *cfg)
{
	if (cfg->listen_port == 0 && cfg->listen_socket == NULL)
		return;
	fputs("listen = (\n  {\n", f);
	dump_section(f, "listen", cfg, "    ", listen_skip);
	if (cfg->listen_socket)
		fprintf(f, "    socket_mode = \"%04o\";\n",
		    (unsigned)cfg->listen_socket_mode);
	fputs("  }\n);\n", f);
}

static void
dump_escalation(FILE *f, const struct config *cfg)
{
	size_t i;

	fputs("escalation = (\n", f);
	for (i = 0; i < cfg->nescalation; i++) {
		const struct escalation_step *st = &cfg->escalation[i];

		fputs("  {\n", f);
		if (st->after == ESC_AFTER_RESPONSE_DUE)
			fputs("    after = \"response_due\";\n", f);
		else if (st->after == ESC_AFTER_BREACH)
			fputs("    after = \"breach\";\n", f);
		else
			dump_key(f, conf_key_find("escalation",
			    "repeat_minutes"), st, "    ");
		fputs("    notify = ", f);
		if (st->nto)
			dump_strv(f, st->to, st->nto);
		else if (st->notify == (ESC_NOTIFY_ONCALL | ESC_NOTIFY_ESCALATION))
			fputs("\"oncall+escalation\"", f);
		else if (st->notify == ESC_NOTIFY_ESCALATION)
			fputs("\"escalation\"", f);
		else
			fputs("\"oncall\"", f);
		fputs(";\n", f);
		fputs(i + 1 < cfg->nescalation ? "  },\n" : "  }\n", f);
	}
	fputs(");\n", f);
}

static void
dump_oncall(FILE *f, const struct config *cfg)
{
	size_t i;

	fputs("oncall = {\n", f);
	dump_section(f, "oncall", cfg, "  ", NULL);
	fputs("  people = (\n", f);
	for (i = 0; i < cfg->oncall_npeople; i++) {
		fputs("    {\n", f);
		dump_section(f, "oncall.people", &cfg->oncall_people[i],
		    "      ", NULL);
		fputs(i + 1 < cfg->oncall_npeople ? "    },\n" : "    }\n", f);
	}
	fputs("  );\n};\n", f);
}

static void
dump_remind(FILE *f, const struct config *cfg)
{
	size_t i;

	fputs("remind = {\n  at = [", f);
	for (i = 0; i < cfg->remind_nat; i++) {
		if (i)
			fputs(", ", f);
		dump_hhmm(f, cfg->remind_at[i]);
	}
	fputs("];\n", f);
	dump_section(f, "remind", cfg, "  ", NULL);
	fputs("};\n", f);
}

static void
dump_group(FILE *f, const char *section, const struct config *cfg)
{
	fprintf(f, "%s = {\n", section);
	dump_section(f, section, cfg, "  ", NULL);
	fputs("};\n", f);
}

int
config_dump(const struct config *cfg, FILE *f)
{
	dump_section(f, "", cfg, "", NULL);
	dump_business_hours(f, cfg);
	dump_group(f, "holidays", cfg);
	dump_sla(f, cfg);
	dump_sources(f, cfg);
	dump_listen(f, cfg);
	dump_group(f, "limits", cfg);
	dump_group(f, "alerts", cfg);
	dump_group(f, "smtp", cfg);
	dump_remind(f, cfg);
	dump_escalation(f, cfg);
	dump_oncall(f, cfg);
	dump_group(f, "triage", cfg);
	dump_group(f, "ack", cfg);
	dump_group(f, "retention", cfg);
	if (fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}

int
config_dump_main(const char *path)
{
	struct config cfg;
	char *errors = NULL, *line, *save = NULL;

	if (config_load(path, 0, &cfg, &errors) == -1) {
		for (line = strtok_r(errors, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			log_err("%s", line);
		free(errors);
		log_err("configuration %s refused", path);
		return EX_CONFIG_CODE;
	}
	if (config_dump(&cfg, stdout) == -1) {
		config_free(&cfg);
		log_err("standard output: cannot write");
		return 74;
	}
	config_free(&cfg);
	return 0;
}
