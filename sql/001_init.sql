-- 001_init.sql: the first schema.  Times are INTEGER Unix seconds (UTC).
-- Booleans are INTEGER 0/1.  JSON columns hold compact JSON text.

CREATE TABLE tickets (
	id		INTEGER PRIMARY KEY,
	type		TEXT NOT NULL,		-- crisis tip tta referral info related automated unclassified
	urgency		TEXT NOT NULL,		-- urgent routine none
	minor		INTEGER NOT NULL DEFAULT 0,
	danger		INTEGER NOT NULL DEFAULT 0,
	automated	INTEGER NOT NULL DEFAULT 0,
	needs_interpreter INTEGER NOT NULL DEFAULT 0,
	needs_human	INTEGER NOT NULL DEFAULT 0,	-- parse error, limit hit, oversized
	lang		TEXT NOT NULL DEFAULT 'und',
	rationale	TEXT NOT NULL DEFAULT '[]',	-- JSON array of strings
	status		TEXT NOT NULL DEFAULT 'open',	-- open closed
	disposition	TEXT,				-- referred resolved duplicate no-action automated
	received_at	INTEGER NOT NULL,
	in_business_hours INTEGER NOT NULL DEFAULT 0,
	response_due	INTEGER,
	breach_at	INTEGER,
	acknowledged_at	INTEGER,
	acknowledged_by	TEXT,
	sla_met		INTEGER,			-- 1 met, 0 breached, NULL not acknowledged
	closed_at	INTEGER,
	assignee	TEXT,
	sender		TEXT,				-- from the first message, for lists
	subject		TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX tickets_open_breach ON tickets(status, breach_at);
CREATE INDEX tickets_open_due ON tickets(status, response_due);
CREATE INDEX tickets_created ON tickets(created_at);

CREATE TABLE messages (
	id		INTEGER PRIMARY KEY,
	ticket_id	INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	source		TEXT NOT NULL,
	source_key	TEXT,				-- uidvalidity:uid, maildir unique name, http id
	message_id	TEXT,
	sha256		TEXT NOT NULL,
	raw		BLOB NOT NULL,			-- verbatim bytes as received
	size		INTEGER NOT NULL,
	received_at	INTEGER NOT NULL,
	date_header	INTEGER,
	from_addr	TEXT,
	from_name	TEXT,
	reply_to	TEXT,
	to_addr		TEXT,
	subject		TEXT,
	in_reply_to	TEXT,
	refs		TEXT,
	text		TEXT,
	attachments	TEXT NOT NULL DEFAULT '[]',	-- JSON [{"filename","content_type","size"}]
	parse_status	TEXT NOT NULL,			-- ok partial error limit oversize
	parse_error	TEXT,
	created_at	INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_source_key ON messages(source, source_key) WHERE source_key IS NOT NULL;
CREATE INDEX messages_message_id ON messages(message_id, sha256);
CREATE INDEX messages_sha256 ON messages(sha256);
CREATE INDEX messages_ticket ON messages(ticket_id);

CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
	ticket_id	INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	at		INTEGER NOT NULL,
	actor		TEXT NOT NULL,
	kind		TEXT NOT NULL,			-- created message ack assign note reclassify close reopen raise alert
	detail		TEXT NOT NULL DEFAULT '{}'	-- JSON
);
CREATE INDEX events_ticket ON events(ticket_id);

CREATE TABLE outbox (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL,			-- alert report ack health
	channel		TEXT NOT NULL,			-- webhook email
	ticket_id	INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
	payload		TEXT NOT NULL,			-- JSON
	created_at	INTEGER NOT NULL,
	next_attempt_at	INTEGER NOT NULL,
	attempts	INTEGER NOT NULL DEFAULT 0,
	last_error	TEXT,
	delivered_at	INTEGER
);
CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at);

CREATE TABLE source_state (
	source		TEXT PRIMARY KEY,
	uidvalidity	INTEGER,
	last_uid	INTEGER NOT NULL DEFAULT 0,
	cursor		TEXT,
	last_poll_at	INTEGER,
	last_success_at	INTEGER,
	last_error	TEXT,
	last_error_at	INTEGER,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	messages_waiting INTEGER,
	stale_alerted_at INTEGER
);

CREATE TABLE reminders (
	ticket_id	INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	kind		TEXT NOT NULL,			-- response_due breach_at
	deadline	INTEGER NOT NULL,
	day		TEXT NOT NULL,			-- office-local YYYY-MM-DD it was sent
	sent_at		INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, kind, deadline, day)
);

CREATE TABLE remind_runs (
	slot		TEXT PRIMARY KEY,		-- office-local "YYYY-MM-DD HH:MM"
	sent_at		INTEGER NOT NULL,
	tickets		INTEGER NOT NULL
);

CREATE TABLE acks_sent (
	sender		TEXT NOT NULL,
	day		TEXT NOT NULL,
	ticket_id	INTEGER,
	PRIMARY KEY (sender, day)
);

CREATE TABLE purge_log (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	actor		TEXT NOT NULL,
	closed_before	INTEGER NOT NULL,
	tickets		INTEGER NOT NULL,
	messages	INTEGER NOT NULL,
	events		INTEGER NOT NULL
);
