-- sql/pg/009_received.sql: sql/009_received.sql for PostgreSQL (see there).
ALTER TABLE messages ADD COLUMN received_claimed bigint;
