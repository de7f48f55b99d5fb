-- 013_source_leases.sql: one node polls a source at a time (issue 18,
-- doc/interfaces.md "Leases and fencing"; daemon/lease.c).  The protocol
-- runs on PostgreSQL only (sql/pg/013: times from the database clock, as
-- timestamptz): SQLite has one writer on one machine and needs none, so
-- on SQLite this table exists, for one schema on both engines, and stays
-- empty (`intake db copy` then copies no row of it).
CREATE TABLE IF NOT EXISTS source_leases (
	source		TEXT PRIMARY KEY,
	holder		TEXT NOT NULL,		-- node id: host/boot id/pid
	epoch		INTEGER NOT NULL,	-- +1 at every change of holder
	acquired_at	INTEGER NOT NULL,
	renewed_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL
);
