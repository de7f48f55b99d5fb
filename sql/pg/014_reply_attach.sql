-- sql/pg/014_reply_attach.sql: sql/014_reply_attach.sql for PostgreSQL
-- (see there).
ALTER TABLE unmatched_replies ADD COLUMN IF NOT EXISTS attached_message bigint;
ALTER TABLE unmatched_replies ADD COLUMN IF NOT EXISTS attached_at bigint;
CREATE INDEX IF NOT EXISTS unmatched_replies_waiting ON
    unmatched_replies(in_reply_to, refs, attached_message)
    WHERE attached_message IS NULL;
