-- 007_oncall.sql: the on-call rota's durable state (issue 14).
-- oncall_gaps: a gap in the rota (nobody on call from gap_start) is
-- announced by a health alert once per office day (`day`, YYYY-MM-DD), from
-- the first day it is within 7 days, so neither a restart nor a cron
-- `intaked --once` run repeats it the same day.  gap_end is as told then
-- (the end of the 7 days when the gap runs on).
CREATE TABLE IF NOT EXISTS oncall_gaps (
	gap_start	INTEGER NOT NULL,
	gap_end		INTEGER NOT NULL,
	day		TEXT NOT NULL,
	alerted_at	INTEGER NOT NULL,
	PRIMARY KEY (gap_start, day)
);
-- mail_acks: the tokens of escalation mails used to acknowledge by mail
-- (oncall.reply_to; tag.h): a token acknowledges once, a replay finds its
-- row and is ignored.
CREATE TABLE IF NOT EXISTS mail_acks (
	token		TEXT PRIMARY KEY,
	ticket_id	INTEGER NOT NULL,
	actor		TEXT NOT NULL,
	used_at		INTEGER NOT NULL
);
