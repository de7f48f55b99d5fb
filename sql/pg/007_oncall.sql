-- sql/pg/007_oncall.sql: sql/007_oncall.sql for PostgreSQL (see there).
CREATE TABLE IF NOT EXISTS oncall_gaps (
	gap_start	bigint NOT NULL,
	gap_end		bigint NOT NULL,
	day		text NOT NULL,
	alerted_at	bigint NOT NULL,
	PRIMARY KEY (gap_start, day)
);
CREATE TABLE IF NOT EXISTS mail_acks (
	token		text PRIMARY KEY,
	ticket_id	bigint NOT NULL,
	actor		text NOT NULL,
	used_at		bigint NOT NULL
);
