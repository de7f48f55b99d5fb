#!/bin/sh
# Every contact message has its own clock (issue 14): a new message on an
# acknowledged ticket is unanswered again (listed by followups and remind
# with "contact wrote again", deadlines from its own arrival, an alert on
# an urgent ticket); `intake ack` answers what came before it; a reply on
# a closed ticket reopens it unanswered; `intake show` marks unanswered
# messages; a database from before migration 004 is migrated.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
alerts = { to = ["oncall@example.org"]; };
smtp = { url = "smtp://127.0.0.1:9"; from = "Intake <intake@example.org>"; };
remind = { at = ["08:30", "17:00"]; lead_minutes = 120; to = ["staff@example.org"]; };
CONF
C="-c $T/intake.conf"
unset SUDO_USER
export USER=tester

msg() {	# msg ID SUBJECT BODY [IN-REPLY-TO]
	printf 'From: Ana <ana@example.net>\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s\r\n%s\r\n' \
	    "$2" "$1" "${4:+In-Reply-To: <$4>
}" "$3"
}
ingest() { $INTAKE ingest $C | sed 's/^{"ticket":\([0-9]*\),.*/\1/'; }
alerts() { q "select count(*) from outbox where kind = 'alert' and ticket_id = $1"; }

t1=$(msg a1@x 'help' 'My boss took my passport and threatens to kill me.' | ingest)
check "crisis ticket 1" [ "$t1" = 1 ]
check "urgent" [ "$(q 'select urgency from tickets where id = 1')" = urgent ]
check "one alert for the new ticket" [ "$(alerts 1)" = 1 ]
check "the first message waits" [ "$(q 'select awaiting_message from tickets where id = 1')" = 1 ]
$INTAKE ack 1 --by maria $C >/dev/null || fail "ack 1"
check "ack answers message 1" [ "$(q 'select responded_at is not null from messages where id = 1')" = 1 ]
check "nothing waits after the ack" [ "$(q 'select awaiting_since is null from tickets where id = 1')" = 1 ]
out=$($INTAKE followups $C)
check "acknowledged: not listed" sh -c "! echo \"\$1\" | grep -q '#1 '" - "$out"

# He is back: a reply in the thread, a day later (INTAKE_NOW: test hook).
later=$(date -d '@'$(( $(date +%s) + 60 )) -Iseconds)
t=$(msg a2@x 'Re: help' 'He is back with a gun.' a1@x | INTAKE_NOW=$later ingest)
check "threaded to ticket 1" [ "$t" = 1 ]
check "message 2 unanswered" [ "$(q 'select responded_at is null from messages where id = 2')" = 1 ]
check "ticket waits for message 2" [ "$(q 'select awaiting_message from tickets where id = 1')" = 2 ]
check "deadlines from message 2 (15/60 min)" [ "$(q 'select t.response_due - m.received_at, t.breach_at - m.received_at from tickets t join messages m on m.id = 2 where t.id = 1')" = "900|3600" ]
check "new message on an urgent ticket alerts" [ "$(alerts 1)" = 2 ]
check "alert reason is message" [ "$(q "select json_extract(payload, '\$.reason') from outbox where kind = 'alert' and ticket_id = 1 order by id desc limit 1")" = message ]
out=$($INTAKE followups $C)
check "followups lists #1 again" sh -c "echo \"\$1\" | grep -q '#1 .*crisis'" - "$out"
check "followups marks it" sh -c "echo \"\$1\" | grep -q 'contact wrote again'" - "$out"
js=$($INTAKE followups --format json $C)
check "json: wrote_again" sh -c "echo \"\$1\" | grep -q '\"wrote_again\":\"2'" - "$js"
out=$($INTAKE show 1 $C)
check "show: message 2 UNANSWERED" sh -c "echo \"\$1\" | grep -q 'message 2 of 2 (#2, stdin) UNANSWERED'" - "$out"
check "show: message 1 answered" sh -c "echo \"\$1\" | grep -q 'message 1 of 2 (#1, stdin) ---'" - "$out"
# remind: pin its clock to a slot after the new deadline.
slot=$(date -d 2026-12-01T17:05:00-05:00 +%s)
q "update tickets set response_due = $slot - 600, breach_at = $slot - 60 where id = 1"
rem=$(INTAKE_NOW=2026-12-01T17:05:00-05:00 $INTAKE remind --dry-run $C)
check "remind lists #1 again" sh -c "echo \"\$1\" | grep -q '\[intake #1\]'" - "$rem"

# A second ack answers message 2; a message after it is unanswered again.
$INTAKE ack 1 --by maria $C >/dev/null; rc=$?
check "ack of the new message exits 0" [ "$rc" = 0 ]
check "message 2 answered" [ "$(q 'select responded_at is not null from messages where id = 2')" = 1 ]
check "first acknowledgement kept" [ "$(q 'select count(*) from events where ticket_id = 1 and kind = '"'ack'"'')" = 2 ]
$INTAKE ack 1 --by maria $C 2>"$T/err" >/dev/null
check "third ack: nothing new" grep -q 'already acknowledged' "$T/err"
msg a3@x 'Re: help' 'Please call.' a2@x | ingest >/dev/null
check "a message after the ack is unanswered" [ "$(q 'select responded_at is null from messages where id = 3')" = 1 ]

# Reopen by reply: acknowledged, closed, then the contact writes.
t2=$(msg b1@x 'training' 'Could you give a training to our staff next month?' | ingest)
$INTAKE ack "$t2" --by maria $C >/dev/null
$INTAKE close "$t2" --disposition resolved --by maria $C >/dev/null || fail "close"
out=$($INTAKE followups $C)
check "closed: not listed" sh -c "! echo \"\$1\" | grep -q '#$t2 '" - "$out"
msg b2@x 'Re: training' 'One more question.' b1@x | ingest >/dev/null
check "reopened" [ "$(q "select status from tickets where id = $t2")" = open ]
out=$($INTAKE followups --due-before 2030-01-01 $C)
check "reopened ticket listed" sh -c "echo \"\$1\" | grep -q '#$t2 '" - "$out"
check "reopened ticket marked" sh -c "echo \"\$1\" | grep -A3 '#$t2 ' | grep -q 'contact wrote again'" - "$out"

# Migration: a schema-2 database with a message stored after the ack.
M=$T/old.db
{ cat "$TOP/sql/001_init.sql" "$TOP/sql/002_staff.sql"
  echo "PRAGMA user_version = 2;"
  echo "INSERT INTO tickets (id, type, urgency, status, received_at, response_due, breach_at, acknowledged_at, created_at, updated_at) VALUES (1, 'crisis', 'urgent', 'open', 1000, 1900, 4600, 2000, 1000, 2000);"
  echo "INSERT INTO messages (ticket_id, source, sha256, raw, size, received_at, parse_status, created_at) VALUES (1, 's', 'a', '', 0, 1000, 'ok', 1000), (1, 's', 'b', '', 0, 3000, 'ok', 3000);"
} | sqlite3 "$M"
sed "s|intake.db|old.db|" "$T/intake.conf" > "$T/old.conf"
# a writing command migrates (read commands no longer do: issue 15)
$INTAKE purge --dry-run -c "$T/old.conf" >/dev/null || fail "migrate"
DB=$M
check "migrated: message 1 answered by the ack" [ "$(q 'select responded_at from messages where id = 1')" = 2000 ]
check "migrated: message 2 unanswered" [ "$(q 'select responded_at is null from messages where id = 2')" = 1 ]
check "migrated: ticket waits since message 2" [ "$(q 'select awaiting_since, awaiting_message from tickets')" = "3000|2" ]
finish
