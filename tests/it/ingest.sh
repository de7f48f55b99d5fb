#!/bin/sh
# intake ingest end to end: exactly once, bad input kept, exit codes.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
cat > "$T/intake.conf" <<CONF
database = "intake.db";
busy_timeout_ms = 300;
CONF
C="-c $T/intake.conf"

msg() {	# msg ID SUBJECT BODY [EXTRA-HEADER]
	printf 'From: Someone <someone@example.net>\r\nTo: help@example.org\r\nSubject: %s\r\nDate: Thu, 26 Nov 2026 10:00:00 -0500\r\n%s%s\r\n\r\n%s\r\n' \
	    "$2" "${1:+Message-ID: <$1>
}" "${4:-}" "$3"
}

msg a1@example.net "question" "What is the legal definition of trafficking?" > "$T/a.eml"
out1=$($INTAKE ingest $C < "$T/a.eml"); rc1=$?
out2=$($INTAKE ingest $C < "$T/a.eml"); rc2=$?
check "first ingest exits 0" [ "$rc1" -eq 0 ]
check "second ingest exits 0" [ "$rc2" -eq 0 ]
check "first is new" sh -c "echo '$out1' | grep -q '\"duplicate\":false'"
check "second is a duplicate of ticket 1" sh -c "echo '$out2' | grep -q '{\"ticket\":1,\"message\":1,\"duplicate\":true}'"
check "one ticket, one message" [ "$(q 'select count(*) from tickets')/$(q 'select count(*) from messages')" = "1/1" ]
check "database is 0600" [ "$(stat -c %a "$DB")" = "600" ]

# Same Message-ID, different bytes: a different message (sha256 differs).
msg a1@example.net "question" "A different body with the same id." > "$T/a2.eml"
$INTAKE ingest $C < "$T/a2.eml" >/dev/null
check "same Message-ID with other bytes is stored" [ "$(q 'select count(*) from messages')" = "2" ]

# No Message-ID: dedupe by sha256 alone.
msg "" "no id" "This message has no Message-ID at all." > "$T/noid.eml"
$INTAKE ingest $C < "$T/noid.eml" >/dev/null
o=$($INTAKE ingest $C < "$T/noid.eml")
check "no Message-ID: duplicate by sha256" sh -c "echo '$o' | grep -q '\"duplicate\":true'"

# Garbage and truncated input: a ticket, parse status error, exact bytes.
head -c 3000 /dev/urandom > "$T/garbage.eml"
o=$($INTAKE ingest $C < "$T/garbage.eml"); rc=$?
check "garbage is stored (exit 0)" [ "$rc" -eq 0 ]
id=$(q "select max(id) from messages")
q "select writefile('$T/garbage.out', raw) from messages where id = $id" >/dev/null
check "garbage raw bytes kept exactly" cmp -s "$T/garbage.eml" "$T/garbage.out"
check "garbage ticket needs a human" [ "$(q "select t.needs_human from tickets t join messages m on m.ticket_id = t.id where m.id = $id")" = "1" ]
printf 'From: x@example.net\nSubject: cut\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\nContent-Type: text/plain\n\nHelp, they took my pass' > "$T/trunc.eml"
$INTAKE ingest $C < "$T/trunc.eml" >/dev/null; rc=$?
id=$(q "select max(id) from messages")
q "select writefile('$T/trunc.out', raw) from messages where id = $id" >/dev/null
check "truncated message stored" [ "$rc" -eq 0 ]
check "truncated raw bytes kept exactly" cmp -s "$T/trunc.eml" "$T/trunc.out"

# Empty input: 65, nothing stored.
n=$(q 'select count(*) from messages')
$INTAKE ingest $C < /dev/null 2>/dev/null; rc=$?
check "empty input exits 65" [ "$rc" -eq 65 ]
check "empty input stores nothing" [ "$(q 'select count(*) from messages')" = "$n" ]

# Threading: In-Reply-To and the [intake #N] tag join the first ticket.
msg t1@example.net "Training request" "Could you train our staff next month?" > "$T/t1.eml"
tk=$($INTAKE ingest $C < "$T/t1.eml" | sed 's/^{"ticket":\([0-9]*\),.*/\1/')
msg r1@example.net "Re: Training request" "Thanks, one more thing." "In-Reply-To: <t1@example.net>
" > "$T/r1.eml"
o=$($INTAKE ingest $C < "$T/r1.eml")
check "reply is appended to its ticket" sh -c "echo '$o' | grep -q '\"ticket\":$tk,.*\"appended\":true'"
# The tag's MAC is keyed with DIR/tag.key (created 0600 at first use).
KEY=$(dirname "$DB")/tag.key
check "tag key created 0600" [ "$(stat -c %a "$KEY")" = 600 ]
tag=$(/usr/bin/python3 "$TOP/tests/tools/tag.py" "$KEY" "$tk")
msg r2@example.net "$tag follow up" "Me again." > "$T/r2.eml"
o=$($INTAKE ingest $C < "$T/r2.eml")
check "subject tag joins the ticket" sh -c "echo '$o' | grep -q '\"ticket\":$tk,'"
check "the ticket has three messages" [ "$(q "select count(*) from messages where ticket_id = $tk")" = "3" ]
# A stranger who guesses the number: plain, forged or another ticket's
# MAC: a new ticket each, never an error.
other=$(/usr/bin/python3 "$TOP/tests/tools/tag.py" "$KEY" 1 | sed 's/.*-\(.*\)]/\1/')
for subj in "[intake #$tk] hello" "[intake #$tk-aaaaaaaa] hello" "[intake #$tk-$other] hello" "Re: [intake #$tk-${other}x]"; do
	msg f$$@example.net "$subj" "Let me in." > "$T/f.eml"
	o=$($INTAKE ingest $C < "$T/f.eml"); rc=$?
	check "forged tag '$subj': exit 0, a new ticket" sh -c "[ $rc = 0 ] && ! echo '$o' | grep -q '\"ticket\":$tk,'"
done
check "forged tags added nothing" [ "$(q "select count(*) from messages where ticket_id = $tk")" = "3" ]
q "update tickets set status = 'closed', closed_at = 1 where id = $tk"
msg r3@example.net "Re: Training request" "They locked my cousin in the restaurant and took her passport, she needs help now." "References: <t1@example.net> <r1@example.net>
" > "$T/r3.eml"
o=$($INTAKE ingest $C < "$T/r3.eml")
check "a reply reopens the closed ticket" [ "$(q "select status from tickets where id = $tk")" = "open" ]
check "a crisis reply raises the ticket" [ "$(q "select type || ' ' || urgency from tickets where id = $tk")" = "crisis urgent" ]
check "reopen and raise are events" [ "$(q "select count(*) from events where ticket_id = $tk and kind in ('reopen','raise')")" = "2" ]

# A database locked past busy_timeout: 75 and no partial row.
n=$(q 'select count(*) from messages')
/usr/bin/python3 - "$DB" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(3)
c.execute("ROLLBACK")
PY
locker=$!
for i in $(seq 50); do [ -e "$T/locked" ] && break; sleep 0.1; done
msg l1@example.net "locked" "Written while the database is locked." > "$T/l.eml"
$INTAKE ingest $C < "$T/l.eml" >/dev/null 2>"$T/l.err"; rc=$?
check "locked database exits 75" [ "$rc" -eq 75 ]
kill "$locker" 2>/dev/null; wait "$locker" 2>/dev/null
check "locked database: no partial row" [ "$(q 'select count(*) from messages')" = "$n" ]
$INTAKE ingest $C < "$T/l.eml" >/dev/null; rc=$?
check "after the lock the message is stored" [ "$rc" -eq 0 ]

# Configuration problems: 75 (the MTA keeps the mail: issue 12 item 12), naming the file / FILE:LINE.
$INTAKE ingest -c "$T/missing.conf" < "$T/a.eml" 2>"$T/e1" >/dev/null; rc=$?
check "missing config exits 75" [ "$rc" -eq 75 ]
check "missing config is named" grep -q "$T/missing.conf" "$T/e1"
printf 'database = "x.db";\nsla = { urgent_response_minutes = -3; };\n' > "$T/bad.conf"
$INTAKE ingest -c "$T/bad.conf" < "$T/a.eml" 2>"$T/e2" >/dev/null; rc=$?
check "bad config exits 75" [ "$rc" -eq 75 ]
check "bad config error has FILE:LINE" grep -q "$T/bad.conf:2:" "$T/e2"
INTAKE_CONFIG=$T/intake.conf $INTAKE ingest < "$T/a.eml" >/dev/null; rc=$?
check "INTAKE_CONFIG is honoured" [ "$rc" -eq 0 ]
finish
