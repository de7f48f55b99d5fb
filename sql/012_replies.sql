-- 012_replies.sql: staff replies read from an outbound source (issue 14,
-- "Staff replies become part of the ticket"; source option direction =
-- "outbound").  A reply that threads to a ticket is a messages row with
-- direction = 'out'.  One that threads to nothing is kept here, never
-- dropped, and listed by `intake status` as unmatched; (source,
-- source_key) and (message_id, norm_sha256) make it stored once.
CREATE TABLE IF NOT EXISTS unmatched_replies (
	id		INTEGER PRIMARY KEY,
	source		TEXT NOT NULL,
	source_key	TEXT,
	message_id	TEXT,
	sha256		TEXT NOT NULL,
	norm_sha256	TEXT,
	raw		BLOB NOT NULL,		-- verbatim bytes as read
	size		INTEGER NOT NULL,
	received_at	INTEGER NOT NULL,
	from_addr	TEXT,
	to_addr		TEXT,
	subject		TEXT,
	in_reply_to	TEXT,
	refs		TEXT,
	created_at	INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS unmatched_replies_key ON
    unmatched_replies(source, source_key) WHERE source_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS unmatched_replies_msgid ON
    unmatched_replies(message_id, norm_sha256);
