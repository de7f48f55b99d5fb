-- 002_staff.sql: indexes for the staff side (follow-up lists, list, purge,
-- status).  Partial indexes hold only open (or closed) tickets, so a
-- follow-up list walks the open tickets, never the whole history.
CREATE INDEX tickets_followup_breach ON tickets(breach_at) WHERE status = 'open';
CREATE INDEX tickets_followup_due ON tickets(response_due) WHERE status = 'open';
CREATE INDEX tickets_closed_at ON tickets(closed_at) WHERE status = 'closed';
CREATE INDEX tickets_received ON tickets(received_at);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX outbox_undelivered ON outbox(created_at) WHERE delivered_at IS NULL;
