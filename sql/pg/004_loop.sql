-- sql/pg/004_loop.sql: sql/004_loop.sql for PostgreSQL (see there for the
-- meaning of each column).  The back-fill UPDATEs of the SQLite migration
-- are kept word for word: a PostgreSQL database reaches this version empty
-- (from 001) or through `intake db copy`, which loads rows already migrated,
-- so they change nothing there, but an installation that ever ran 001-002
-- on PostgreSQL gets the same answer as on SQLite.
ALTER TABLE messages ADD COLUMN direction text NOT NULL DEFAULT 'in';
ALTER TABLE messages ADD COLUMN responded_at bigint;
ALTER TABLE tickets ADD COLUMN awaiting_since bigint;
ALTER TABLE tickets ADD COLUMN awaiting_message bigint;

UPDATE messages SET responded_at = (SELECT coalesce(t.acknowledged_at,
    t.closed_at) FROM tickets t WHERE t.id = messages.ticket_id)
WHERE created_at <= (SELECT coalesce(t.acknowledged_at, t.closed_at)
    FROM tickets t WHERE t.id = messages.ticket_id);
UPDATE tickets SET awaiting_message = (SELECT m.id FROM messages m
    WHERE m.ticket_id = tickets.id AND m.direction = 'in' AND
    m.responded_at IS NULL ORDER BY m.received_at, m.id LIMIT 1)
WHERE automated = 0;
UPDATE tickets SET awaiting_since = (SELECT m.received_at FROM messages m
    WHERE m.id = tickets.awaiting_message)
WHERE awaiting_message IS NOT NULL;

CREATE TABLE escalations (
	ticket_id	bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE
			    DEFERRABLE INITIALLY IMMEDIATE,
	message_id	bigint NOT NULL,
	step		bigint NOT NULL,
	seq		bigint NOT NULL DEFAULT 0,
	at		bigint NOT NULL,
	PRIMARY KEY (ticket_id, message_id, step, seq)
);

CREATE INDEX tickets_escalate ON tickets(response_due)
    WHERE status = 'open' AND urgency = 'urgent' AND automated = 0 AND
    awaiting_since IS NOT NULL;
CREATE INDEX messages_unanswered ON messages(ticket_id)
    WHERE responded_at IS NULL;
