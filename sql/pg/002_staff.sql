-- sql/pg/002_staff.sql: sql/002_staff.sql for PostgreSQL (the same indexes;
-- see there for which query reads which).
CREATE INDEX tickets_status_closed ON tickets(status, closed_at);
CREATE INDEX tickets_received ON tickets(received_at);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX outbox_undelivered ON outbox(created_at) WHERE delivered_at IS NULL;
