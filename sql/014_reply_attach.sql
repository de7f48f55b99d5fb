-- 014_reply_attach.sql: a staff reply kept in unmatched_replies (012) is
-- attached to its ticket once the contact message it answers arrives (the
-- Sent folder polled before the INBOX; doc/interfaces.md, "Staff
-- replies").  The row is kept (the daemon deletes nothing) and marked: the
-- messages row it became and when; its content (raw, subject, addressee,
-- threading headers) is cleared then, since the message holds it and
-- `intake purge` must find it there only.  `intake status` lists the rows
-- not attached.  The partial index is what each stored contact message
-- scans (covering) for replies naming it: the replies still waiting,
-- threading headers only.
ALTER TABLE unmatched_replies ADD COLUMN attached_message INTEGER;
ALTER TABLE unmatched_replies ADD COLUMN attached_at INTEGER;
CREATE INDEX IF NOT EXISTS unmatched_replies_waiting ON
    unmatched_replies(in_reply_to, refs, attached_message)
    WHERE attached_message IS NULL;
