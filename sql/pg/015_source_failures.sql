-- sql/pg/015_source_failures.sql: sql/015_source_failures.sql for PostgreSQL (see there).
ALTER TABLE source_state ADD COLUMN failures text;
