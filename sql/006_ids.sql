-- 006_ids.sql: ids are never reused; purged messages stay recognised;
-- one message delivered twice is one message (issue 12 items 8, 9, 11, 15).
--
-- tickets, messages and outbox get AUTOINCREMENT: their ids leave the
-- database (ticket numbers and [intake #N] tags, the "message" of alert
-- payloads and `intake ingest` output, the webhook Idempotency-Key
-- intake-outbox-N), so an id once given is never given again, even after
-- `intake purge` deleted the highest ones.  events (order within a ticket,
-- the rowid of search_notes), purge_log (never deleted) and the rest keep
-- INTEGER PRIMARY KEY: their ids stay inside the database.
--
-- SQLite cannot add AUTOINCREMENT to a table: each is rebuilt by the
-- documented 12-step procedure (lang_altertable.html#otheralter).  The
-- runner (store.c migrate()) runs this with foreign_keys OFF, so dropping
-- the old tickets cascades to nothing, and runs PRAGMA foreign_key_check
-- before its COMMIT.  Every id is copied, so the FTS5 index of
-- 005_search.sql (rowid = messages.id) stays valid; its view and triggers
-- are dropped first (a rename checks every view) and recreated as 005's.
-- The rebuild copies the raw messages once: it needs free disk space about
-- the size of the database, once.
--
-- sqlite_sequence is seeded at the highest id known anywhere (an id purged
-- before this migration is not reused where a row still names it).
--
-- messages.norm_sha256: the SHA-256 of the normalised message
-- (intake_norm_sha256(), dedup.c; doc/interfaces.md "The same message").
-- messages.recipient: the X-Original-To (else Delivered-To) of its copy.
-- message_copies: every other raw copy of a stored message (another
-- delivery of it: pipe and IMAP, two hotline addresses), by its own sha256,
-- source key and recipient; its bytes are not kept.
-- purged: what `intake purge` removed, as hashes only, so that a rescan
-- (UIDVALIDITY change, a Maildir restored) does not bring it back.

DROP TRIGGER IF EXISTS search_messages_ai;
DROP TRIGGER IF EXISTS search_messages_bd;
DROP TRIGGER IF EXISTS search_messages_bu;
DROP TRIGGER IF EXISTS search_messages_au;
DROP VIEW IF EXISTS search_messages_src;

CREATE TABLE tickets_new (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	type		TEXT NOT NULL,
	urgency		TEXT NOT NULL,
	minor		INTEGER NOT NULL DEFAULT 0,
	danger		INTEGER NOT NULL DEFAULT 0,
	automated	INTEGER NOT NULL DEFAULT 0,
	needs_interpreter INTEGER NOT NULL DEFAULT 0,
	needs_human	INTEGER NOT NULL DEFAULT 0,
	lang		TEXT NOT NULL DEFAULT 'und',
	rationale	TEXT NOT NULL DEFAULT '[]',
	status		TEXT NOT NULL DEFAULT 'open',
	disposition	TEXT,
	received_at	INTEGER NOT NULL,
	in_business_hours INTEGER NOT NULL DEFAULT 0,
	response_due	INTEGER,
	breach_at	INTEGER,
	acknowledged_at	INTEGER,
	acknowledged_by	TEXT,
	sla_met		INTEGER,
	closed_at	INTEGER,
	assignee	TEXT,
	sender		TEXT,
	subject		TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	awaiting_since	INTEGER,
	awaiting_message INTEGER
);
INSERT INTO tickets_new (id, type, urgency, minor, danger, automated,
    needs_interpreter, needs_human, lang, rationale, status, disposition,
    received_at, in_business_hours, response_due, breach_at, acknowledged_at,
    acknowledged_by, sla_met, closed_at, assignee, sender, subject,
    created_at, updated_at, awaiting_since, awaiting_message)
SELECT id, type, urgency, minor, danger, automated,
    needs_interpreter, needs_human, lang, rationale, status, disposition,
    received_at, in_business_hours, response_due, breach_at, acknowledged_at,
    acknowledged_by, sla_met, closed_at, assignee, sender, subject,
    created_at, updated_at, awaiting_since, awaiting_message FROM tickets;
DROP TABLE tickets;
ALTER TABLE tickets_new RENAME TO tickets;
CREATE INDEX tickets_open_breach ON tickets(status, breach_at);
CREATE INDEX tickets_open_due ON tickets(status, response_due);
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX tickets_status_closed ON tickets(status, closed_at);
CREATE INDEX tickets_received ON tickets(received_at);
CREATE INDEX tickets_escalate ON tickets(response_due)
    WHERE status = 'open' AND urgency = 'urgent' AND automated = 0 AND
    awaiting_since IS NOT NULL;

CREATE TABLE messages_new (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	ticket_id	INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	source		TEXT NOT NULL,
	source_key	TEXT,
	message_id	TEXT,
	sha256		TEXT NOT NULL,
	raw		BLOB NOT NULL,
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
	attachments	TEXT NOT NULL DEFAULT '[]',
	parse_status	TEXT NOT NULL,
	parse_error	TEXT,
	created_at	INTEGER NOT NULL,
	direction	TEXT NOT NULL DEFAULT 'in',
	responded_at	INTEGER,
	norm_sha256	TEXT,			-- NULL: a record without the message (fetch_error)
	recipient	TEXT			-- X-Original-To, else Delivered-To, of this copy
);
INSERT INTO messages_new (id, ticket_id, source, source_key, message_id,
    sha256, raw, size, received_at, date_header, from_addr, from_name,
    reply_to, to_addr, subject, in_reply_to, refs, text, attachments,
    parse_status, parse_error, created_at, direction, responded_at,
    norm_sha256, recipient)
SELECT id, ticket_id, source, source_key, message_id,
    sha256, raw, size, received_at, date_header, from_addr, from_name,
    reply_to, to_addr, subject, in_reply_to, refs, text, attachments,
    parse_status, parse_error, created_at, direction, responded_at,
    CASE WHEN length(raw) > 0 THEN intake_norm_sha256(raw) END,
    intake_recipient(raw) FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE UNIQUE INDEX messages_source_key ON messages(source, source_key) WHERE source_key IS NOT NULL;
CREATE INDEX messages_message_id ON messages(message_id, norm_sha256);
CREATE INDEX messages_sha256 ON messages(sha256);
CREATE INDEX messages_ticket ON messages(ticket_id);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX messages_unanswered ON messages(ticket_id)
    WHERE responded_at IS NULL;

CREATE TABLE outbox_new (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	kind		TEXT NOT NULL,
	channel		TEXT NOT NULL,
	ticket_id	INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
	payload		TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	next_attempt_at	INTEGER NOT NULL,
	attempts	INTEGER NOT NULL DEFAULT 0,
	last_error	TEXT,
	delivered_at	INTEGER
);
INSERT INTO outbox_new (id, kind, channel, ticket_id, payload, created_at,
    next_attempt_at, attempts, last_error, delivered_at)
SELECT id, kind, channel, ticket_id, payload, created_at,
    next_attempt_at, attempts, last_error, delivered_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at);
CREATE INDEX outbox_undelivered ON outbox(created_at) WHERE delivered_at IS NULL;

CREATE TABLE message_copies (
	id		INTEGER PRIMARY KEY,
	message		INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	source		TEXT NOT NULL,
	source_key	TEXT,
	sha256		TEXT NOT NULL,
	recipient	TEXT,
	received_at	INTEGER NOT NULL,
	created_at	INTEGER NOT NULL,
	UNIQUE (message, sha256)
);
CREATE UNIQUE INDEX message_copies_source_key ON message_copies(source,
    source_key) WHERE source_key IS NOT NULL;
CREATE INDEX message_copies_sha256 ON message_copies(sha256);

CREATE TABLE purged (
	sha256		TEXT PRIMARY KEY,	-- of a raw copy
	norm_sha256	TEXT,			-- of the normalised message
	msgid_sha256	TEXT,			-- of its Message-ID (not the id itself)
	purged_at	INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX purged_msgid ON purged(msgid_sha256, norm_sha256)
    WHERE msgid_sha256 IS NOT NULL;

-- The highest id anything still names.
DELETE FROM sqlite_sequence WHERE name IN ('tickets', 'messages', 'outbox');
INSERT INTO sqlite_sequence (name, seq) SELECT 'tickets', max(
    (SELECT coalesce(max(id), 0) FROM tickets),
    (SELECT coalesce(max(ticket_id), 0) FROM messages),
    (SELECT coalesce(max(ticket_id), 0) FROM events),
    (SELECT coalesce(max(ticket_id), 0) FROM outbox),
    (SELECT coalesce(max(ticket_id), 0) FROM acks_sent),
    (SELECT coalesce(max(ticket_id), 0) FROM reminders),
    (SELECT coalesce(max(ticket_id), 0) FROM escalations));
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', max(
    (SELECT coalesce(max(id), 0) FROM messages),
    (SELECT coalesce(max(awaiting_message), 0) FROM tickets),
    (SELECT coalesce(max(message_id), 0) FROM escalations),
    (SELECT coalesce(max(CAST(json_extract(detail, '$.message') AS INTEGER)),
	0) FROM events WHERE kind = 'message' AND json_valid(detail)),
    (SELECT coalesce(max(CAST(json_extract(payload, '$.message') AS INTEGER)),
	0) FROM outbox WHERE json_valid(payload)));
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox',
    (SELECT coalesce(max(id), 0) FROM outbox);

CREATE VIEW search_messages_src AS
SELECT id,
	coalesce(subject, '') AS subject,
	trim(coalesce(from_name, '') || ' ' || coalesce(from_addr, '')) AS sender,
	coalesce(text, '') AS body,
	intake_attachment_names(attachments) AS attachments,
	intake_digits(coalesce(subject, '') || ' ' || coalesce(text, '')) AS digits
FROM messages;

CREATE TRIGGER search_messages_ai AFTER INSERT ON messages BEGIN
	INSERT INTO search_messages (rowid, subject, sender, body, attachments,
	    digits)
	SELECT id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = new.id;
END;
CREATE TRIGGER search_messages_bd BEFORE DELETE ON messages BEGIN
	INSERT INTO search_messages (search_messages, rowid, subject, sender,
	    body, attachments, digits)
	SELECT 'delete', id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = old.id;
END;
CREATE TRIGGER search_messages_bu BEFORE UPDATE OF subject, from_name,
    from_addr, text, attachments ON messages BEGIN
	INSERT INTO search_messages (search_messages, rowid, subject, sender,
	    body, attachments, digits)
	SELECT 'delete', id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = old.id;
END;
CREATE TRIGGER search_messages_au AFTER UPDATE OF subject, from_name,
    from_addr, text, attachments ON messages BEGIN
	INSERT INTO search_messages (rowid, subject, sender, body, attachments,
	    digits)
	SELECT id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = new.id;
END;
