/* SPDX-License-Identifier: MIT */
/*
 * config.h: the one configuration file (libconfig), parsed once into a
 * validated, typed struct.  Every error is reported as "FILE:LINE: what is
 * wrong"; parsing goes on to report all of them.  Unknown keys are errors.
 * Relative paths are resolved against the configuration file's directory.
 * Reload (SIGHUP) = config_load() into a new struct, swap only on success.
 */
#ifndef INTAKE_CONFIG_H
#define INTAKE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH	"/etc/intake/intake.conf"
#define EX_CONFIG_CODE		78

/* Minutes after local midnight; open >= close means closed. */
struct day_hours {
	int	open;
	int	close;
};

struct tip_meeting {
	int	wday;		/* 0 = Sunday, as struct tm */
	int	minute;		/* minutes after midnight */
};

enum source_type { SOURCE_MAILDIR, SOURCE_IMAP, SOURCE_HTTP, SOURCE_STDIN,
	/* push channels, served by the webhook listener (listen.h) */
	SOURCE_TWILIO, SOURCE_WHATSAPP, SOURCE_WEBHOOK };
#define SOURCE_IS_PUSH(t)	((t) == SOURCE_TWILIO || (t) == SOURCE_WHATSAPP || \
				 (t) == SOURCE_WEBHOOK)
enum imap_tls { IMAP_TLS_IMPLICIT, IMAP_TLS_STARTTLS, IMAP_TLS_NONE };
enum imap_auth { IMAP_AUTH_LOGIN, IMAP_AUTH_XOAUTH2, IMAP_AUTH_OAUTHBEARER };
enum imap_after { IMAP_AFTER_SEEN, IMAP_AFTER_MOVE };

struct oauth_config;

struct source_config {
	char		*name;
	enum source_type type;
	char		*path;		/* maildir */
	/* imap */
	char		*host;
	int		 port;
	enum imap_tls	 tls;
	char		*ca_file;	/* NULL: system trust store */
	int		 tls_verify;	/* 1 unless explicitly false */
	char		*pin_sha256;	/* hex SHA-256 of the leaf, or NULL */
	char		*user;
	enum imap_auth	 auth;
	char		*password_file;
	char		*token_file;	/* xoauth2 (imap) or bearer (http) */
	char		*token_command;
	struct oauth_config *oauth;	/* oauth = { ... } (oauth.h), or NULL */
	char		*mailbox;
	enum imap_after	 after;
	char		*move_to;	/* after = "move:FOLDER" */
	int		 idle;
	int		 poll_interval;	/* seconds */
	int		 timeout;	/* seconds, per network read */
	/* http */
	char		*url;
	/* push channels (twilio, whatsapp, webhook); path is the URL path */
	char		*secret_file;
	char		*public_url;	/* twilio: the URL Twilio signs */
	char		*verify_token_file;	/* whatsapp: GET handshake */
	/* direction = "outbound": staff replies (a Sent folder), reply.h */
	int		 outbound;
	char		*staff;		/* the staff name its replies ack as */
	int		 line;		/* where it was defined, for messages */
};

/* One step of the 24/7 escalation (escalation = ( ... ) in intake.conf). */
enum esc_after {
	ESC_AFTER_RESPONSE_DUE = 1,	/* at response_due */
	ESC_AFTER_BREACH = 2,		/* at breach_at */
	ESC_REPEAT = 3,			/* every repeat_minutes after the
					   step before it */
};
#define ESC_NOTIFY_ONCALL	1	/* "oncall": whoever the rota has on
					   shift (rota.h), else alerts.to */
#define ESC_NOTIFY_ESCALATION	2	/* "escalation": the addresses the
					   steps list, else alerts.to */
struct escalation_step {
	enum esc_after	 after;
	int		 repeat_minutes;	/* ESC_REPEAT only */
	int		 notify;		/* ESC_NOTIFY_* bits */
	char		**to;			/* a list of addresses given */
	size_t		 nto;
};

/* One person the on-call rota may name (oncall.people). */
struct oncall_person {
	char		*name;
	char		*email;		/* NULL: paged by webhook only */
	char		*webhook;	/* NULL: by mail only */
	char		*login;		/* the Unix login; NULL: the name */
};

struct config {
	char		*path;		/* the file read, or NULL for defaults */
	char		*dir;		/* its directory */
	char		*database;
	char		*database_group;	/* NULL: 0600 */
	char		*database_password_file;	/* PostgreSQL's, 0600 */
	char		*tag_key_file;	/* NULL: beside the SQLite file */
	char		*timezone;
	int		 allow_fixed_zone;	/* timezone need not be Area/City */
	struct day_hours week[7];	/* index 0 = Sunday */
	int		 holidays_federal;
	char		**holidays_extra;	/* "YYYY-MM-DD" */
	size_t		 holidays_nextra;
	char		*holidays_ics;		/* NULL when none */

	/* sla */
	int		 urgent_response_minutes;
	int		 urgent_breach_minutes;
	int		 in_hours_response_business_minutes;
	int		 in_hours_breach_business_minutes;
	struct tip_meeting *tip_meetings;
	size_t		 ntip_meetings;

	struct source_config *sources;
	size_t		 nsources;

	/* the webhook listener (listen = ( { ... } )); port 0: none */
	char		*listen_address;
	int		 listen_port;
	char		*listen_socket;		/* a unix socket path instead */
	int		 listen_socket_mode;	/* its mode (default 0660) */
	char		*listen_socket_group;	/* its group, or NULL */
	size_t		 listen_max_body;
	int		 listen_timeout;	/* seconds a connection may idle */
	int		 listen_max_connections;
	/* a health alert when this many requests are refused within
	 * listen_refusal_window seconds (0: never), at most one a window */
	int		 listen_refusal_burst;
	int		 listen_refusal_window;
	/* push channels: a sender's texts join their last ticket while it
	 * is open or closed less than this long ago; 0: never */
	int		 conversation_hours;

	/* limits (the hardening issue) */
	size_t		 max_message_bytes;
	int		 max_mime_depth;
	int		 max_mime_parts;
	int		 max_headers;
	size_t		 max_header_bytes;
	size_t		 max_text_bytes;
	int		 max_decode_ratio;	/* decoded/encoded */
	int		 parse_timeout;		/* seconds per message */

	char		*triage_lexicon;	/* NULL: built-in lexicon */
	char		*triage_model;	/* NULL: built-in; "none": rules only */

	/* alerts */
	char		*alerts_webhook;
	char		**alerts_to;
	size_t		 alerts_nto;
	int		 alerts_source_stale_minutes;
	int		 alerts_parse_error_run;
	int		 alerts_include_excerpt;

	/* smtp */
	char		*smtp_url;
	char		*smtp_user;
	char		*smtp_password_file;
	char		*smtp_from;
	char		*smtp_ca_file;

	/* remind */
	int		*remind_at;		/* minutes after midnight */
	size_t		 remind_nat;
	int		 remind_lead_minutes;
	char		**remind_to;
	size_t		 remind_nto;
	char		*remind_webhook;

	/* escalation (intaked, 24/7) */
	struct escalation_step *escalation;
	size_t		 nescalation;

	/* the on-call rota (rota.h); NULL: "oncall" pages alerts.to */
	char		*oncall_rota;
	int		 oncall_rota_line;	/* where it was set */
	struct oncall_person *oncall_people;
	size_t		 oncall_npeople;
	char		*oncall_reply_to;	/* ack by mail; NULL: off */

	/* acknowledgements to senders (off by default) */
	int		 ack_enabled;
	char		*ack_from;

	int		 retention_closed_days;	/* 0 = keep forever */
	int		 log_level;		/* LOG_PRI_* */
	int		 busy_timeout_ms;
};

/*
 * Load and validate path.  On success returns 0 and fills *out.  On failure
 * returns -1 and *errors holds one "FILE:LINE: message" per line (caller
 * frees).  When path does not exist and allow_missing is set, the built-in
 * defaults are used (cfg->path == NULL) and 0 is returned.
 */
int	 config_load(const char *path, int allow_missing, struct config *out,
	    char **errors);
/*
 * config_load() with flags: CONFIG_ALLOW_MISSING as allow_missing above;
 * CONFIG_SECRETS checks that password and token files can be read (the
 * daemon and --check-config; config_load() sets it).  Without it no secret
 * file is touched: staff commands, which never read one, do not need it.
 */
enum { CONFIG_ALLOW_MISSING = 1 << 0, CONFIG_SECRETS = 1 << 1 };
int	 config_load_flags(const char *path, int flags, struct config *out,
	    char **errors);
/* The built-in defaults, as documented in doc/interfaces.md. */
void	 config_defaults(struct config *);
void	 config_free(struct config *);
/* -c FILE, else $INTAKE_CONFIG, else CONFIG_DEFAULT_PATH. */
const char *config_path_choose(const char *from_cli);
/* Read a secret file (password, token): its first line, without newline.
 * Refuses files readable by others.  0, or -1 with *err set (caller frees). */
int	 config_read_secret(const char *path, char **out, char **err);
/* Every secret file cfg names, against config_secret_mode() (for
 * intaked --check-config): 0, or -1 and *errors, one line per file. */
int	 config_check_secrets(const struct config *cfg, char **errors);
const struct source_config *config_source(const struct config *, const char *name);

#endif
