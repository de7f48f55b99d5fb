/* SPDX-License-Identifier: MIT */
/*
 * signal_events.h: the reader of signal-cli's event stream, for a future
 * `type = "signal"` source (issue 17).  PARSER ONLY: there is no driver
 * yet, because signal-cli (a separately installed Java program, neither a
 * Debian package nor on npm) cannot be run here to test one against; this
 * is unit-tested and fuzzed on its own.
 *
 * `signal-cli daemon --http=127.0.0.1:PORT` serves GET /api/v1/events as
 * server-sent events: for each incoming envelope "event:receive", an
 * optional "id:", and one "data:" line holding
 * {"account":"+1...","envelope":{...}} (plus "exception" when it could not
 * be decrypted); ":" lines are keep-alives.  The JSON-RPC notification of
 * its socket mode, {"jsonrpc":"2.0","method":"receive","params":{...}}, is
 * accepted as the same data.  A message's idempotency key is
 * "<sourceUuid>:<timestamp>" (the sender's timestamp, in ms).
 */
#ifndef INTAKE_SIGNAL_EVENTS_H
#define INTAKE_SIGNAL_EVENTS_H

#include <stddef.h>
#include <time.h>

/* ---- server-sent events (WHATWG HTML, "Server-sent events") --------------- */

struct sse_event {
	const char	*type;		/* "message" unless an event: field */
	const char	*id;		/* the last event id; "" when none */
	const char	*data;		/* the data lines joined by \n */
	size_t		 data_len;
	int		 oversize;	/* over the cap: data is NULL */
};

/* Called for each complete event; nonzero stops sse_feed (returned). */
typedef int (*sse_cb)(void *arg, const struct sse_event *);

struct sse_parser;

/* An incremental reader: no event's data may exceed max bytes (such an
 * event is dispatched with oversize set and no data; the stream goes on). */
struct sse_parser *sse_new(size_t max);
/* Bytes as they arrive, in any pieces: lines may end in CRLF, LF or CR,
 * split anywhere.  0, or the callback's nonzero. */
int	 sse_feed(struct sse_parser *, const char *, size_t, sse_cb, void *arg);
void	 sse_free(struct sse_parser *);

/* ---- signal-cli's receive events ----------------------------------------- */

enum signal_kind {
	SIGNAL_MESSAGE,		/* a text and/or attachments for a human */
	SIGNAL_IGNORED,		/* receipt, typing, sync, call, story, a
				   reaction or a deletion: nothing to store */
	SIGNAL_BAD,		/* not readable as an event: why says what;
				   a driver records it for a human */
};

struct signal_msg {
	enum signal_kind kind;
	const char	*why;		/* SIGNAL_BAD/IGNORED: static text */
	char		*key;		/* "<sourceUuid>:<timestamp>"; NULL when
					   the event has neither */
	char		*account;	/* the hotline's own number */
	char		*source_uuid;	/* the sender's ACI */
	char		*source_number;	/* E.164, when shared; else NULL */
	char		*source_name;	/* profile/contact name; may be NULL */
	long long	 timestamp;	/* the sender's, ms since the epoch */
	time_t		 received_at;	/* the server's receipt, else timestamp */
	char		*text;		/* dataMessage.message; may be NULL */
	size_t		 text_len;
	char		*group_id;	/* a group message; NULL: direct */
	int		 attachments;	/* how many */
	long long	 edit_of;	/* an edit: the timestamp it replaces */
	int		 undecryptable;	/* "exception": the sender is known,
					   the content is not */
};

/* One event's data (len bytes, need not be NUL-terminated); at most
 * max_text bytes of text.  Always fills *out (free with
 * signal_msg_free). */
void	 signal_event_parse(const char *data, size_t len, size_t max_text,
	    struct signal_msg *out);
void	 signal_msg_free(struct signal_msg *);

#endif
