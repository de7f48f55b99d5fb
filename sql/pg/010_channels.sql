-- sql/pg/010_channels.sql: sql/010_channels.sql for PostgreSQL (see there).
ALTER TABLE messages ADD COLUMN carrier_keyword text;
ALTER TABLE tickets ADD COLUMN carrier_keyword text;
ALTER TABLE messages ADD COLUMN segments bigint;
ALTER TABLE source_state ADD COLUMN refused_alerted_at bigint;
