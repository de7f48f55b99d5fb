-- 010_channels.sql: push channels (issue 17).  Carrier keywords: an SMS
-- whose whole text is STOP, HELP, START... (doc/interfaces.md, "Carrier
-- keywords") is stored like any text and flagged: the keyword on the
-- message, and the latest one on its ticket, so staff see that the
-- carrier (not intake) may have answered it and that texting that number
-- back may be blocked.  NULL: no keyword.
ALTER TABLE messages ADD COLUMN carrier_keyword TEXT;
ALTER TABLE tickets ADD COLUMN carrier_keyword TEXT;
-- Multi-part SMS: the number of segments the provider joined into this
-- one message (Twilio's NumSegments, when more than one); NULL otherwise.
ALTER TABLE messages ADD COLUMN segments INTEGER;
-- The webhook listener's refusal bursts: when the last health alert for
-- one was queued for this push source (at most one a listen.refusal_window).
ALTER TABLE source_state ADD COLUMN refused_alerted_at INTEGER;
