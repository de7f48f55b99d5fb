-- 004_loop.sql: every contact message has its own clock (issue 14).
--
-- messages.direction: 'in' from the contact, 'out' a staff reply (no source
-- writes 'out' yet).  messages.responded_at: when a person answered it (an
-- `intake ack`, or a close); NULL on a contact message is "unanswered".
-- tickets.awaiting_since / awaiting_message: the received time and id of
-- the ticket's earliest unanswered contact message, NULL when every one is
-- answered.  The ticket's response_due and breach_at are that message's.
-- escalations: the steps of the 24/7 escalation already taken, one row per
-- ticket, message and step (and repeat), so a restart neither repeats a
-- sent step nor skips a due one.
ALTER TABLE messages ADD COLUMN direction TEXT NOT NULL DEFAULT 'in';
ALTER TABLE messages ADD COLUMN responded_at INTEGER;
ALTER TABLE tickets ADD COLUMN awaiting_since INTEGER;
ALTER TABLE tickets ADD COLUMN awaiting_message INTEGER;

-- Existing databases: what was stored before the ticket's acknowledgement
-- (or its close) was answered by it; what came later was not, and is
-- listed at once (with the ticket's old, passed deadlines: overdue).
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
	ticket_id	INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	message_id	INTEGER NOT NULL,	-- the unanswered message it is for
	step		INTEGER NOT NULL,	-- index in the escalation list
	seq		INTEGER NOT NULL DEFAULT 0,	-- repeat number (repeat steps)
	at		INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, message_id, step, seq)
);

-- The escalation scan: open urgent tickets with an unanswered message,
-- by deadline.  Partial, so it holds only what may page.
CREATE INDEX tickets_escalate ON tickets(response_due)
    WHERE status = 'open' AND urgency = 'urgent' AND automated = 0 AND
    awaiting_since IS NOT NULL;
CREATE INDEX messages_unanswered ON messages(ticket_id)
    WHERE responded_at IS NULL;
