#!/bin/sh
# intake search end to end: words in the subject, sender, text, attachment
# names and notes; diacritics; phone numbers in any punctuation; filters;
# the four formats escaped; hostile queries; the back-fill of 005; and
# purge taking its words out of the FTS5 tables.
. "$(dirname "$0")/../lib.sh"

maildir_conf

msg() {	# msg ID SUBJECT BODY [FROM]
	printf 'From: %s\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\n%s\r\n' \
	    "${4:-Someone <someone@example.net>}" "$2" "$1" "$3"
}
ids() {	# ids QUERY [OPTIONS...]: the ticket ids found, space-separated
	$INTAKE search $C --format json "$@" | $PY -c '
import json, sys
print(" ".join(str(o["id"]) for o in json.load(sys.stdin)))'
}

t1=$(msg s1@x 'ayuda por favor' 'La niña no puede salir de la casa. Llame al (555) 0142.' \
    'Ana <ana@example.net>' | ingest_id)
t2=$(msg s2@x 'passport taken' 'They took my cousin passport; my number is 555-0142 <script>x</script>' \
    'Bob <bob@example.net>' | ingest_id)
t3=$(printf 'From: carol@example.net\r\nSubject: screenshot\r\nMessage-ID: <s3@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee the advert\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="massage-parlour-advert.png"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n' | ingest_id)
t4=$(msg s4@x 'statistics' 'What are the numbers for Ohio? Call +1 555 555 0199.' | ingest_id)
check "four tickets" [ "$t1/$t2/$t3/$t4" = "1/2/3/4" ]

check "text word" [ "$(ids passport)" = "$t2" ]
check "two words are both required" [ "$(ids 'passport niña')" = "" ]
check "niña matches nina (remove_diacritics 2)" [ "$(ids nina)" = "$t1" ]
check "nina matches niña" [ "$(ids niña)" = "$t1" ]
check "sender name and address" [ "$(ids ana@example.net)/$(ids Bob)" = "$t1/$t2" ]
check "attachment file name" [ "$(ids parlour)" = "$t3" ]
for p in 555-0142 '(555) 0142' 5550142 '555.0142'; do
	check "phone $p finds both" [ "$(ids "$p" | tr ' ' '\n' | sort | tr '\n' ' ')" = "$t1 $t2 " ]
done
check "phone with a country code, asked without" [ "$(ids '555-555-0199')/$(ids '5550199')/$(ids '15555550199')" = "$t4/$t4/$t4" ]
check "prefix search" [ "$(ids 'passp*')" = "$t2" ]

$INTAKE note $t3 'Caller said the venue is on Elm Street' $C >/dev/null
check "staff notes are searched" [ "$(ids 'elm street')" = "$t3" ]
out=$($INTAKE search $C 'elm street')
check "text says the match is in a note" sh -c "echo \"\$1\" | grep -q 'note: .*\\[Elm\\] \\[Street\\]'" - "$out"

# ranking: a ticket with the word in its subject and text beats one with it once
t5=$(msg s5@x 'passport passport' 'passport, passport again' | ingest_id)
check "bm25: more matches first" [ "$(ids passport)" = "$t5 $t2" ]

# filters
$INTAKE close $t2 --disposition resolved $C >/dev/null
$INTAKE assign $t5 maria $C >/dev/null
check "--status open" [ "$(ids passport --status open)" = "$t5" ]
check "--status closed" [ "$(ids passport --status closed)" = "$t2" ]
check "--assignee" [ "$(ids passport --assignee maria)" = "$t5" ]
check "--sender (any case)" [ "$(ids passport --sender BOB@example.net)" = "$t2" ]
ty=$(q "select type from tickets where id = $t2")
check "--type" [ "$(ids 5550142 --type "$ty" | grep -cw "$t2")/$(ids 5550142 --type info | grep -cw "$t2")" = "1/0" ]
check "--limit" [ "$(ids passport --limit 1)" = "$t5" ]
check "--since in the future finds nothing" [ "$(ids passport --since 2999-01-01)" = "" ]
check "--until in the past finds nothing" [ "$(ids passport --until 2000-01-01)" = "" ]

# hostile input: FTS5 syntax is text, control characters never printed
for qq in '"' 'NEAR(' 'a:b' 'passport OR' '*' '-x' "$(printf 'pass\033[31mport')"; do
	$INTAKE search $C "$qq" >/dev/null 2>&1; rc=$?
	check "query '$(printf '%s' "$qq" | tr -d '\033')' exits 0 or 64" [ "$rc" -eq 0 -o "$rc" -eq 64 ]
done
t6=$(msg s6@x "$(printf 'evil\033]0;title\007 subject')" "$(printf 'zorblax \033[2J cleared')" | ingest_id)
out=$($INTAKE search $C zorblax)
check "text output has no control characters" sh -c "! printf '%s' \"\$1\" | LC_ALL=C grep -q '[[:cntrl:]]'" - "$(printf '%s' "$out" | tr -d '\n')"
check "text output highlights the word" sh -c "echo \"\$1\" | grep -q '\\[zorblax\\]'" - "$out"
$INTAKE search $C 5550142 --format html > "$T/s.html"
check "html escapes message text" sh -c "! grep -qi '<script' '$T/s.html' && grep -q '&lt;script&gt;' '$T/s.html'"
$INTAKE search $C passport --format html > "$T/p.html"
check "html marks the match" grep -q '<mark>passport</mark>' "$T/p.html"
$INTAKE search $C passport --format csv > "$T/s.csv"
check "csv: header, CRLF, one row a ticket" $PY -c '
import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == raw.count(b"\n"), "bare LF"
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0][0] == "id" and rows[0][-1] == "snippet", rows[0]
assert [r[0] for r in rows[1:]] == [sys.argv[2], sys.argv[3]], rows
' "$T/s.csv" "$t5" "$t2"
$INTAKE search $C 2>/dev/null; rc=$?
check "no query: exit 64" [ "$rc" -eq 64 ]
$INTAKE search $C passport --format xml 2>/dev/null; rc=$?
check "bad format: exit 64" [ "$rc" -eq 64 ]

# the back-fill: a database at schema 2 with rows; search, a read, does
# not migrate it and says which command does
DB2=$T/old.db
sqlite3 "$DB2" < "$TOP/sql/001_init.sql"
sqlite3 "$DB2" < "$TOP/sql/002_staff.sql"
sqlite3 "$DB2" "pragma user_version = 2;
insert into tickets (id, type, urgency, received_at, created_at, updated_at, sender, subject)
    values (7, 'tip', 'routine', 1, 1, 1, 'old@example.net', 'old tip');
insert into messages (ticket_id, source, sha256, raw, size, received_at, text, from_addr,
    attachments, parse_status, created_at)
    values (7, 'pipe', 'x', 'raw', 3, 1, 'the Señora at 555 0177 keeps them', 'old@example.net',
    '[{\"filename\":\"contract.pdf\",\"content_type\":\"application/pdf\",\"size\":1}]', 'ok', 1);
insert into events (ticket_id, at, actor, kind, detail) values (7, 1, 'ann', 'note', '{\"text\":\"spoke to the landlord\"}');"
printf 'database = "old.db";\ntimezone = "America/New_York";\n' > "$T/old.conf"
$INTAKE search -c "$T/old.conf" senora >/dev/null 2>"$T/old.err"; rc=$?
check "search on an old schema: exit 78, names the migrating command" [ "$rc" -eq 78 ] && grep -q "purge --dry-run" "$T/old.err"
check "search did not migrate" [ "$(sqlite3 "$DB2" 'pragma user_version')" -eq 2 ]
$INTAKE purge -c "$T/old.conf" --dry-run --closed-before 2000-01-01 >/dev/null 2>&1
check "back-fill: text, diacritics, phone, attachment, note" [ "$($INTAKE search -c "$T/old.conf" --format csv senora | sed -n 2p | cut -d, -f1)/$($INTAKE search -c "$T/old.conf" --format csv 5550177 | sed -n 2p | cut -d, -f1)/$($INTAKE search -c "$T/old.conf" --format csv contract | sed -n 2p | cut -d, -f1)/$($INTAKE search -c "$T/old.conf" --format csv landlord | sed -n 2p | cut -d, -f1)" = "7/7/7/7" ]
check "back-fill migrated to 005" [ "$(sqlite3 "$DB2" 'pragma user_version')" -ge 5 ]

# purge: the words go from the index and from its pages
q "update tickets set status = 'closed', disposition = 'resolved', closed_at = 1000000 where id = $t6"
check "before purge: zorblax found" [ "$(ids zorblax)" = "$t6" ]
$INTAKE purge --closed-before 2001-01-01 $C >/dev/null; rc=$?
check "purge exits 0" [ "$rc" -eq 0 ]
check "after purge: zorblax not found" [ "$(ids zorblax)" = "" ]
check "no shadow table holds the purged word" [ "$(q "select (select count(*) from search_messages_data where instr(block, cast('zorblax' as blob)) > 0) + (select count(*) from search_messages_idx where instr(term, cast('zorblax' as blob)) > 0)")" = "0" ]
check "the database file holds no trace of it" sh -c "! cat '$DB' '$DB-wal' 2>/dev/null | grep -qa zorblax"
check "the other tickets are still found" [ "$(ids nina)" = "$t1" ]
finish
