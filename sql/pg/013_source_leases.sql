-- sql/pg/013_source_leases.sql: sql/013_source_leases.sql for PostgreSQL
-- (see there).  The times are timestamptz, always from the database's
-- clock_timestamp(), never a node's clock (lease.c): the lease protocol
-- compares them with the database clock only.
CREATE TABLE IF NOT EXISTS source_leases (
	source		text PRIMARY KEY,
	holder		text NOT NULL,
	epoch		bigint NOT NULL,
	acquired_at	timestamptz NOT NULL,
	renewed_at	timestamptz NOT NULL,
	expires_at	timestamptz NOT NULL
);
