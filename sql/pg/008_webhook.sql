-- sql/pg/008_webhook.sql: sql/008_webhook.sql for PostgreSQL (see there).
ALTER TABLE source_state ADD COLUMN refused bigint NOT NULL DEFAULT 0;
ALTER TABLE source_state ADD COLUMN refused_at bigint;
CREATE INDEX messages_source_from ON messages(source, from_addr, id);
