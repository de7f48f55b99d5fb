/* SPDX-License-Identifier: MIT */
/*
 * message.h: raw RFC 5322 bytes -> a parsed, decoded message (libetpan's
 * mailmime/mailimf).  No I/O, no globals, so it can run in a sandboxed child
 * and be fuzzed.  Nothing a message contains may crash it: a message that
 * cannot be parsed still yields a struct with status MSG_PARSE_ERROR and
 * whatever could be read.
 */
#ifndef INTAKE_MESSAGE_H
#define INTAKE_MESSAGE_H

#include <stddef.h>
#include <time.h>

enum parse_status {
	MSG_PARSE_OK,
	MSG_PARSE_PARTIAL,	/* read, but something was dropped or repaired */
	MSG_PARSE_ERROR,	/* could not be parsed: raw bytes are the record */
	MSG_PARSE_LIMIT,	/* a resource limit was hit: flag for a human */
};

struct parse_limits {
	size_t	max_message_bytes;
	int	max_depth;		/* MIME nesting */
	int	max_parts;
	int	max_headers;
	size_t	max_header_bytes;	/* one header's length */
	size_t	max_text_bytes;		/* decoded text kept */
	int	max_decode_ratio;	/* decoded size / encoded size */
	int	timeout_ms;		/* wall clock per message in the parser
					 * child (parsechild.h); 0 = none */
	int	want_attachment;	/* 1-based: keep that attachment's
					 * decoded bytes (intake attachment);
					 * 0 = none */
};

struct header {
	char	*name;		/* as written */
	char	*value;		/* unfolded, RFC 2047 decoded, UTF-8 */
};

struct attachment {
	char	*filename;	/* UTF-8 or NULL */
	char	*content_type;	/* "application/pdf" */
	size_t	 size;		/* decoded bytes */
	char	*data;		/* the decoded bytes, only for
				   parse_limits.want_attachment */
	size_t	 data_len;
};

/* Every string is NUL-terminated valid UTF-8 (or NULL) and owned here. */
struct message {
	char		*message_id;	/* without the angle brackets */
	char		*from_addr;	/* addr-spec */
	char		*from_name;	/* display name */
	char		*reply_to;
	char		*to;
	char		*subject;
	char		*in_reply_to;	/* message ids, space separated, no <> */
	char		*references;
	time_t		 date;		/* Date: header; 0 when missing/absurd */
	char		*content_type;	/* top level, lower case, no params */
	char		*report_type;	/* multipart/report's report-type */
	char		*text;		/* chosen body as text */
	size_t		 text_len;
	int		 text_from_html;
	struct header	*headers;
	size_t		 nheaders;
	struct attachment *attachments;
	size_t		 nattachments;
	enum parse_status status;
	char		*parse_error;	/* short reason, no message text */
};

void	 parse_limits_default(struct parse_limits *);
/* Always fills *out (zeroed first); returns 0 when status is OK/PARTIAL,
 * -1 otherwise.  raw need not be NUL-terminated and may contain NULs. */
int	 message_parse(const char *raw, size_t len, const struct parse_limits *,
	    struct message *out);
void	 message_free(struct message *);
/* First header of that name (case-insensitive), or NULL. */
const char *message_header(const struct message *, const char *name);

/* html.c: HTML to readable text (script/style dropped, line breaks kept,
 * link targets shown as "text <url>", entities decoded).  Output at most
 * max bytes (0 = unlimited); caller frees. */
char	*html_to_text(const char *html, size_t len, size_t max, size_t *outlen);

#endif
