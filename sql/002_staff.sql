-- 002_staff.sql: indexes for the staff side.  The follow-up lists use
-- 001's (status, breach_at) and (status, response_due): an equality on
-- status = 'open' then a range, so they read the open tickets, never the
-- whole history.  Added here: purge (status, closed_at),
-- list --since (received_at), status (messages and undelivered outbox rows
-- by creation time).
CREATE INDEX tickets_status_closed ON tickets(status, closed_at);
CREATE INDEX tickets_received ON tickets(received_at);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX outbox_undelivered ON outbox(created_at) WHERE delivered_at IS NULL;
