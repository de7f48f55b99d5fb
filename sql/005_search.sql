-- 005_search.sql: full-text search (intake search) with SQLite FTS5.
-- Two external-content indexes, so no text is stored twice:
--   search_messages  over messages: subject, sender (name and address),
--                    decoded text, attachment file names, and `digits`;
--   search_notes     over the staff notes (events of kind 'note').
-- The content of each is a view; triggers keep the index in step with
-- every insert, update and delete (purge's cascades included).  A delete
-- must hand FTS5 the very values it indexed, so the BEFORE triggers read
-- them from the same view.
-- unicode61 with remove_diacritics 2: "nina" finds "niña".
-- digits: intake_digits() (search.c, registered on every connection) turns
-- each run of digits and phone punctuation into its digit strings, so
-- 555-0142, (555) 0142 and 5550142 are one token.
-- intake_attachment_names() (search.c too): the file names of the
-- attachments JSON column (SQLite 3.40's FTS5 fails a 'rebuild' over a view
-- that calls json_each).
-- Back-fill: the 'rebuild' commands at the end index the existing rows.

CREATE VIEW search_messages_src AS
SELECT id,
	coalesce(subject, '') AS subject,
	trim(coalesce(from_name, '') || ' ' || coalesce(from_addr, '')) AS sender,
	coalesce(text, '') AS body,
	intake_attachment_names(attachments) AS attachments,
	intake_digits(coalesce(subject, '') || ' ' || coalesce(text, '')) AS digits
FROM messages;

CREATE VIRTUAL TABLE search_messages USING fts5(
	subject, sender, body, attachments, digits,
	content = 'search_messages_src', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER search_messages_ai AFTER INSERT ON messages BEGIN
	INSERT INTO search_messages (rowid, subject, sender, body, attachments,
	    digits)
	SELECT id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = new.id;
END;
CREATE TRIGGER search_messages_bd BEFORE DELETE ON messages BEGIN
	INSERT INTO search_messages (search_messages, rowid, subject, sender,
	    body, attachments, digits)
	SELECT 'delete', id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = old.id;
END;
CREATE TRIGGER search_messages_bu BEFORE UPDATE OF subject, from_name,
    from_addr, text, attachments ON messages BEGIN
	INSERT INTO search_messages (search_messages, rowid, subject, sender,
	    body, attachments, digits)
	SELECT 'delete', id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = old.id;
END;
CREATE TRIGGER search_messages_au AFTER UPDATE OF subject, from_name,
    from_addr, text, attachments ON messages BEGIN
	INSERT INTO search_messages (rowid, subject, sender, body, attachments,
	    digits)
	SELECT id, subject, sender, body, attachments, digits
	FROM search_messages_src WHERE id = new.id;
END;

CREATE VIEW search_notes_src AS
SELECT id,
	coalesce(CASE WHEN json_valid(detail) THEN json_extract(detail, '$.text')
	    END, '') AS note,
	intake_digits(coalesce(CASE WHEN json_valid(detail) THEN
	    json_extract(detail, '$.text') END, '')) AS digits
FROM events WHERE kind = 'note';

CREATE VIRTUAL TABLE search_notes USING fts5(
	note, digits,
	content = 'search_notes_src', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER search_notes_ai AFTER INSERT ON events
    WHEN new.kind = 'note' BEGIN
	INSERT INTO search_notes (rowid, note, digits)
	SELECT id, note, digits FROM search_notes_src WHERE id = new.id;
END;
CREATE TRIGGER search_notes_bd BEFORE DELETE ON events
    WHEN old.kind = 'note' BEGIN
	INSERT INTO search_notes (search_notes, rowid, note, digits)
	SELECT 'delete', id, note, digits FROM search_notes_src
	WHERE id = old.id;
END;
CREATE TRIGGER search_notes_bu BEFORE UPDATE OF kind, detail ON events
    WHEN old.kind = 'note' BEGIN
	INSERT INTO search_notes (search_notes, rowid, note, digits)
	SELECT 'delete', id, note, digits FROM search_notes_src
	WHERE id = old.id;
END;
CREATE TRIGGER search_notes_au AFTER UPDATE OF kind, detail ON events
    WHEN new.kind = 'note' BEGIN
	INSERT INTO search_notes (rowid, note, digits)
	SELECT id, note, digits FROM search_notes_src WHERE id = new.id;
END;

INSERT INTO search_messages (search_messages) VALUES ('rebuild');
INSERT INTO search_notes (search_notes) VALUES ('rebuild');
