#!/bin/sh
# Staff commands end to end: followups in four formats, the ticket workflow
# (ack, assign, note, reclassify, close, reopen, show, list), status and
# purge, asserting the database rows and events they leave.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
DB=$T/intake.db
mkdir -p "$T/mail/new" "$T/mail/cur" "$T/mail/tmp"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
busy_timeout_ms = 2000;
sources = ( { name = "local"; type = "maildir"; path = "mail"; } );
alerts = { webhook = "http://127.0.0.1:9/never"; };
CONF
C="-c $T/intake.conf"
unset SUDO_USER
# $USER is anyone's to set: the actor is the login of the real uid
export USER=tester
ME=$(id -un)
# root acts for $SUDO_USER when that user exists
if [ "$(id -u)" -eq 0 ]; then SU=nobody; else SU=$ME; fi

msg() {	# msg ID SUBJECT BODY [FROM]
	printf 'From: %s\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\n%s\r\n' \
	    "${4:-Someone <someone@example.net>}" "$2" "$1" "$3"
}
ingest() { $INTAKE ingest $C | sed 's/^{"ticket":\([0-9]*\),.*/\1/'; }

t1=$(msg c1@x 'they took my passport <script>alert(1)</script>' \
    'Help, they took my passport and I cannot leave the house.' \
    'Eve <script>x</script> <eve@example.net>' | ingest)
t2=$(msg c2@x 'training request, "quoted"' \
    'Could you give a training to our staff next month?' | ingest)
t3=$(msg c3@x 'statistics' 'What are the statistics on trafficking in Ohio?' | ingest)
t4=$(printf 'From: MAILER-DAEMON@example.org\r\nSubject: Undelivered Mail\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <c4@x>\r\n\r\nDelivery failed.\r\n' | ingest)
check "four tickets" [ "$t1/$t2/$t3/$t4" = "1/2/3/4" ]
check "ticket 4 is automated" [ "$(q "select automated from tickets where id = $t4")" = "1" ]

# ---- followups ---------------------------------------------------------
out=$($INTAKE followups $C); rc=$?
check "followups exits 0" [ "$rc" -eq 0 ]
check "followups lists the crisis" sh -c "echo \"\$1\" | grep -q '#1 .*crisis *urgent'" - "$out"
check "followups hides automated tickets" sh -c "! echo \"\$1\" | grep -q '#4 '" - "$out"
check "followups text fits 100 columns" sh -c "echo \"\$1\" | $PY -c 'import sys; sys.exit(max(len(l.rstrip(\"\\n\")) for l in sys.stdin) > 100)'" - "$out"
check "no colour when not a terminal" sh -c "! echo \"\$1\" | grep -q \"\$(printf '\\033')\"" - "$out"
out=$($INTAKE followups $C --all-open --include-automated --format json)
check "json parses; automated only when asked" sh -c "echo \"\$1\" | $PY -c '
import json, sys
a = json.load(sys.stdin)
ids = [o[\"id\"] for o in a]
assert 4 not in ids, ids      # automated tickets are closed at once
assert ids[0] == 1, ids
assert a[0][\"subject\"].startswith(\"they took\"), a[0]
'" - "$out"
$INTAKE followups $C --all-open --format csv > "$T/f.csv"
check "csv: RFC 4180 with a header and CRLF" $PY -c '
import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == raw.count(b"\n"), "bare LF"
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0][:3] == ["id", "group", "type"], rows[0]
assert len(rows) == 4 and all(len(r) == 13 for r in rows), rows
assert rows[1][11].startswith("they took my passport <script>"), rows[1]
assert any(r[11] == "training request, \"quoted\"" for r in rows), rows
' "$T/f.csv"
$INTAKE followups $C --all-open --format html > "$T/f.html"
check "html escapes the planted script" sh -c "! grep -qi '<script' '$T/f.html' && grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/f.html'"
check "html has no remote resources" sh -c "! grep -Eqi 'src=|href=|<link|url\\(' '$T/f.html'"
if command -v script >/dev/null 2>&1; then
	script -qec "$INTAKE followups $C" /dev/null > "$T/tty.out" 2>&1
	check "colour on a terminal" grep -q "$(printf '\033')\[" "$T/tty.out"
	NO_COLOR=1 script -qec "$INTAKE followups $C" /dev/null > "$T/tty.out" 2>&1
	check "NO_COLOR run printed the list" grep -q "Follow-ups at" "$T/tty.out"
	check "no colour on a terminal with NO_COLOR" sh -c "! grep -q \"\$(printf '\\033')\[\" '$T/tty.out'"
fi
$INTAKE followups $C --format xml >/dev/null 2>&1; rc=$?
check "bad --format exits 64" [ "$rc" -eq 64 ]
$INTAKE followups $C --overdue --all-open >/dev/null 2>&1; rc=$?
check "exclusive scopes exit 64" [ "$rc" -eq 64 ]

# ---- unknown ticket and bad usage ---------------------------------------
for cmd in "show 999" "ack 999" "assign 999 bob" "note 999 hello" \
    "reclassify 999 --type tip" "close 999 --disposition resolved" "reopen 999"; do
	$INTAKE $cmd $C >/dev/null 2>"$T/err"; rc=$?
	check "$cmd: exit 65" [ "$rc" -eq 65 ]
	check "$cmd: says which ticket" grep -q "no ticket #999" "$T/err"
done
for cmd in "ack" "ack x1" "close 1" "close 1 --disposition lost" \
    "reclassify 1" "reclassify 1 --type nonsense" "assign 1" "note 1" \
    "ack 1 --type tip" "show"; do
	$INTAKE $cmd $C >/dev/null 2>&1; rc=$?
	check "'$cmd': exit 64" [ "$rc" -eq 64 ]
done

# ---- ack -----------------------------------------------------------------
$INTAKE ack $t1 --by alice $C >/dev/null; rc=$?
check "ack exits 0" [ "$rc" -eq 0 ]
check "ack recorded with actor and SLA met" [ "$(q "select acknowledged_by, sla_met, acknowledged_at is not null from tickets where id = $t1")" = "alice ($ME)|1|1" ]
check "ack event by alice, beside the login" [ "$(q "select actor from events where ticket_id = $t1 and kind = 'ack'")" = "alice ($ME)" ]
$INTAKE ack $t1 --by bob $C >/dev/null 2>&1; rc=$?
check "second ack changes nothing" [ "$rc/$(q "select acknowledged_by from tickets where id = $t1")/$(q "select count(*) from events where ticket_id = $t1 and kind = 'ack'")" = "0/alice ($ME)/1" ]
# A breached ticket acknowledged late: SLA breached.
q "update tickets set response_due = 100, breach_at = 200 where id = $t3"
$INTAKE ack $t3 $C >/dev/null
check "late ack: sla_met = 0, actor the login, not \$USER" [ "$(q "select sla_met, acknowledged_by from tickets where id = $t3")" = "0|$ME" ]

# ---- assign, note; actor from SUDO_USER ------------------------------------
SUDO_USER=nobody $INTAKE assign $t2 bob $C >/dev/null
check "assign sets the assignee" [ "$(q "select assignee from tickets where id = $t2")" = "bob" ]
check "assign event: actor from SUDO_USER (root only)" [ "$(q "select actor || ' ' || detail from events where ticket_id = $t2 and kind = 'assign'")" = "$SU {\"from\":null,\"to\":\"bob\"}" ]
SUDO_USER=nosuchuser $INTAKE note $t2 --by erin called back, left a voicemail $C >/dev/null
check "note stored; --by beside the login; unknown SUDO_USER ignored" [ "$(q "select actor || ' ' || detail from events where ticket_id = $t2 and kind = 'note'")" = "erin ($ME) {\"text\":\"called back, left a voicemail\"}" ]
out=$($INTAKE followups $C --assignee bob --all-open --format json)
check "followups --assignee" sh -c "echo \"\$1\" | $PY -c 'import json,sys; a=json.load(sys.stdin); assert [o[\"id\"] for o in a] == [2], a'" - "$out"

# ---- reclassify ----------------------------------------------------------
alerts_before=$(q "select count(*) from outbox where kind = 'alert'")
$INTAKE reclassify $t2 --type tip --urgency urgent --minor 1 --by carol $C >/dev/null; rc=$?
check "reclassify exits 0" [ "$rc" -eq 0 ]
received=$($INTAKE show $t2 --format json $C | $PY -c 'import json,sys; print(json.load(sys.stdin)["received"])')
want=$($INTAKE sla --type tip --urgency urgent --received "$received" $C)
got=$($INTAKE show $t2 --format json $C | $PY -c '
import json, sys
t = json.load(sys.stdin)
print(t["type"], t["urgency"], t["minor"], t["response_due"], t["breach_at"])')
exp=$(echo "$want" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print("tip urgent True", d["response_due"], d["breach_at"])')
check "reclassify recomputes deadlines as intake sla does" [ "$got" = "$exp" ]
check "reclassify event by carol, from tta to tip" [ "$(q "select actor, json_extract(detail, '\$.from.type'), json_extract(detail, '\$.to.type'), json_extract(detail, '\$.to.urgency') from events where ticket_id = $t2 and kind = 'reclassify'")" = "carol ($ME)|tta|tip|urgent" ]
check "becoming urgent queues one alert" [ "$(q "select count(*) from outbox where kind = 'alert'")" = "$((alerts_before + 1))" ]
check "the alert says reclassified" [ "$(q "select json_extract(payload, '\$.reason') || ' ' || json_extract(payload, '\$.ticket') from outbox order by id desc limit 1")" = "reclassified $t2" ]
$INTAKE reclassify $t2 --type tip --urgency urgent --minor 1 $C >/dev/null 2>&1; rc=$?
check "the same reclassification again: no event, no alert" [ "$rc/$(q "select count(*) from events where ticket_id = $t2 and kind = 'reclassify'")/$(q "select count(*) from outbox where kind = 'alert'")" = "0/1/$((alerts_before + 1))" ]

# ---- close, reopen -------------------------------------------------------
$INTAKE close $t3 --disposition resolved --by alice $C >/dev/null; rc=$?
check "close exits 0" [ "$rc" -eq 0 ]
check "close sets status, disposition, closed_at" [ "$(q "select status, disposition, closed_at is not null from tickets where id = $t3")" = "closed|resolved|1" ]
$INTAKE close $t3 --disposition duplicate $C >/dev/null 2>&1; rc=$?
check "closing a closed ticket: 65, unchanged" [ "$rc/$(q "select disposition from tickets where id = $t3")" = "65/resolved" ]
$INTAKE reopen $t3 $C >/dev/null
check "reopen clears the disposition" [ "$(q "select status, coalesce(disposition, '-'), coalesce(closed_at, '-') from tickets where id = $t3")" = "open|-|-" ]
$INTAKE reopen $t3 $C >/dev/null 2>&1; rc=$?
check "reopening an open ticket: 65" [ "$rc" -eq 65 ]
$INTAKE close $t3 --disposition no-action $C >/dev/null
check "every change is an event" [ "$(q "select group_concat(kind, ',') from (select kind from events where ticket_id = $t3 order by id)")" = "created,ack,close,reopen,close" ]

# ---- show, list ----------------------------------------------------------
t5=$(printf 'From: Ana <ana@example.net>\r\nSubject: flyer\r\nMessage-ID: <c5@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease review our outreach flyer.\r\n--b\r\nContent-Type: application/pdf; name="flyer.pdf"\r\nContent-Disposition: attachment; filename="flyer.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n' | ingest)
out=$($INTAKE show $t5 $C)
check "show lists attachments" sh -c "echo \"\$1\" | grep -q '  1. flyer.pdf (application/pdf, 9 bytes)'" - "$out"
check "show decodes the text part" sh -c "echo \"\$1\" | grep -q 'Please review our outreach flyer.'" - "$out"
$INTAKE close $t5 --disposition no-action $C >/dev/null

out=$($INTAKE show $t1 $C); rc=$?
check "show exits 0" [ "$rc" -eq 0 ]
check "show has the decoded text" sh -c "echo \"\$1\" | grep -q 'they took my passport and I cannot leave'" - "$out"
check "show has the events" sh -c "echo \"\$1\" | grep -q ' alice ($ME) *ack '" - "$out"
check "list --status closed" [ "$($INTAKE list --status closed --format json $C | $PY -c 'import json,sys; print(sorted(o["id"] for o in json.load(sys.stdin)))')" = "[3, 4, 5]" ]
check "list --type tip --status all" [ "$($INTAKE list --type tip --format json $C | $PY -c 'import json,sys; print(sorted(o["id"] for o in json.load(sys.stdin)))')" = "[$t2]" ]
check "list --type nonsense: 64" sh -c "$INTAKE list --type nonsense $C 2>/dev/null; [ \$? -eq 64 ]"
check "search --type nonsense: 64" sh -c "$INTAKE search x --type nonsense $C 2>/dev/null; [ \$? -eq 64 ]"
check "list --assignee bob" [ "$($INTAKE list --assignee bob --format json $C | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t2]" ]
check "list --sender (any message's From, any case)" [ "$($INTAKE list --sender EVE@example.net --format json $C | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t1]" ]
check "list shows a closed ticket's disposition" sh -c "$INTAKE list --status closed $C | grep -q '^$t5 *no-action '"
$INTAKE assign $t1 me $C >/dev/null
check "assign me: the login" [ "$(q "select assignee from tickets where id = $t1")" = "$ME" ]
check "list --assignee me" [ "$($INTAKE list --assignee me --format json $C | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t1]" ]
check "followups --assignee me" [ "$($INTAKE followups --all-open --assignee me --format json $C | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t1]" ]
# oncall.people maps the login to the person the rota names (login key).
{ cat "$T/intake.conf"; echo "oncall = { people = ( { name = \"Maria\"; email = \"maria@example.org\"; login = \"$ME\"; } ); };"; } > "$T/people.conf"
P="-c $T/people.conf"
$INTAKE assign $t1 me $P >/dev/null
check "assign me with oncall.people: the person's name" [ "$(q "select assignee from tickets where id = $t1")" = "Maria" ]
check "list --assignee me: the person" [ "$($INTAKE list --assignee me --format json $P | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t1]" ]
check "followups --assignee me: the person" [ "$($INTAKE followups --all-open --assignee me --format json $P | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t1]" ]
check "search --assignee me: the person" [ "$($INTAKE search passport --status all --assignee me --format json $P | $PY -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)])')" = "[$t1]" ]
check "the actor stays the login" [ "$(q "select actor from events where ticket_id = $t1 and kind = 'assign' order by id desc limit 1")" = "$ME" ]
printf 'oncall = { people = ( { name = "x"; email = "x@example.org"; login = "a b"; } ); };\n' > "$T/badlogin.conf"
check "a login with a blank: 78 naming the key" sh -c "$INTAKE list -c $T/badlogin.conf 2>&1 | grep -q 'login is not a user name'"
$INTAKE assign $t1 me $C >/dev/null
check "list --since tomorrow is empty" [ "$($INTAKE list --since 2099-01-01 --format json $C)" = "[]" ]
$INTAKE list --since yesterday $C >/dev/null 2>&1; rc=$?
check "list --since garbage: 64" [ "$rc" -eq 64 ]

# ---- status --------------------------------------------------------------
$INTAKE status $C >/dev/null; rc=$?
check "status: never polled source is stale (exit 1)" [ "$rc" -eq 1 ]
q "insert into source_state (source, last_poll_at, last_success_at) values ('local', strftime('%s','now'), strftime('%s','now'))"
out=$($INTAKE status --format json $C); rc=$?
check "status: healthy (exit 0)" [ "$rc" -eq 0 ]
check "status json: source and outbox" sh -c "echo \"\$1\" | $PY -c '
import json, sys
s = json.load(sys.stdin)
assert s[\"healthy\"] is True
src = s[\"sources\"][0]
assert src[\"name\"] == \"local\" and src[\"stale\"] is False, src
assert s[\"outbox\"][\"undelivered\"] >= 2 and s[\"outbox\"][\"stuck\"] is False, s
'" - "$out"
q "update outbox set created_at = created_at - 3600"
$INTAKE status $C > "$T/st.txt"; rc=$?
check "status: an old undelivered alert is a stuck outbox (exit 1)" [ "$rc" -eq 1 ]
check "status text says STUCK" grep -q '^outbox: STUCK' "$T/st.txt"
q "update outbox set delivered_at = created_at"
q "update source_state set last_success_at = last_success_at - 3600"
$INTAKE status $C > "$T/st.txt"; rc=$?
check "status: stale source (exit 1)" [ "$rc/$(grep -c 'STALE' "$T/st.txt")" = "1/1" ]

# ---- purge ---------------------------------------------------------------
out=$($INTAKE purge $C); rc=$?
check "purge with closed_days = 0 does nothing" [ "$rc/$(q 'select count(*) from tickets')/$(q 'select count(*) from purge_log')" = "0/5/0" ]
# Make #3 (closed) and #1 (open, with a stray old closed_at) look old.
q "update tickets set closed_at = 1000000 where id in ($t3, $t1)"
msgs3=$(q "select count(*) from messages where ticket_id = $t3")
evs3=$(q "select count(*) from events where ticket_id = $t3")
$INTAKE purge --closed-before 2001-01-01 --dry-run $C > "$T/p.txt"; rc=$?
check "purge --dry-run reports and deletes nothing" [ "$rc/$(q 'select count(*) from tickets')/$(q 'select count(*) from purge_log')" = "0/5/0" ]
check "purge --dry-run says would purge 1" grep -q 'would purge 1 closed ticket ' "$T/p.txt"
$INTAKE purge --closed-before 2001-01-01 --by admin $C >/dev/null; rc=$?
check "purge exits 0" [ "$rc" -eq 0 ]
check "purge removed the closed ticket, its messages and events" [ "$(q "select count(*) from tickets where id = $t3")/$(q "select count(*) from messages where ticket_id = $t3")/$(q "select count(*) from events where ticket_id = $t3")" = "0/0/0" ]
check "purge never touches an open ticket" [ "$(q "select status from tickets where id = $t1")/$(q "select count(*) from messages where ticket_id = $t1")" = "open/1" ]
check "purge_log has the counts" [ "$(q 'select actor, tickets, messages, events from purge_log')" = "admin ($ME)|1|$msgs3|$evs3" ]
check "no message text in the purge log" [ "$(q "select count(*) from purge_log where actor like '%passport%'")" = "0" ]
printf 'database = "intake.db";\nretention = { closed_days = 30; };\n' > "$T/ret.conf"
q "update tickets set closed_at = strftime('%s','now') - 40 * 86400 where id = $t4"
$INTAKE purge -c "$T/ret.conf" >/dev/null; rc=$?
check "purge by retention.closed_days" [ "$rc/$(q "select count(*) from tickets where id = $t4")/$(q 'select count(*) from tickets')" = "0/0/3" ]
check "secure_delete leaves no trace of the purged text" sh -c "! cat '$DB' '$DB-wal' 2>/dev/null | grep -qa 'Delivery failed'"
finish
