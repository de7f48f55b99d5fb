-- 008_webhook.sql: the webhook listener's refusals (issue 17), counted per
-- push source for intake status: requests refused for a bad or missing
-- signature, a stale timestamp, a wrong content type or an oversize body.
ALTER TABLE source_state ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE source_state ADD COLUMN refused_at INTEGER;
-- Conversations: a push channel's sender's latest message, found fast.
CREATE INDEX messages_source_from ON messages(source, from_addr, id);
