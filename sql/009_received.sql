-- 009_received.sql: a received time in the future is not trusted (issue 12
-- item 10).  A Maildir file's mtime, an HTTP item's received_at or an IMAP
-- INTERNALDATE more than RECEIVED_FUTURE_MAX (5 minutes, include/ingest.h)
-- after the clock that read it would push the deadlines into the future and
-- hide an urgent ticket from followups, --overdue and remind: received_at is
-- then the time it was read, and messages.received_claimed keeps what the
-- source said (NULL when it was taken as given).
ALTER TABLE messages ADD COLUMN received_claimed INTEGER;
