#!/bin/sh
# A received time in the future is not believed (issue 12 item 10): a
# Maildir file whose mtime is in 2031 and an HTTP item whose received_at is
# in 2031 are stored as received when they were read, so their deadlines run
# from now and an urgent crisis is listed by followups once due (not in
# 2031); the stated time is kept (messages.received_claimed) and shown by
# `intake show`.  A time a little ahead (under RECEIVED_FUTURE_MAX, 5 min)
# is taken as given.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
W=$T/web
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp" "$W"
printf 'tok-1\n' > "$T/token"
chmod 600 "$T/token"
rm -f "$W/port"
python3 "$TOP/tests/tools/http_peer.py" --dir "$W" --token tok-1 \
    --port-file "$W/port" --port 0 >"$W/server.log" 2>&1 &
hpid=$!
stop_http() { kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null; }
at_exit stop_http
for i in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
port=$(cat "$W/port")

cat > "$T/intake.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
remind = { to = ["staff@example.org"]; };
smtp = { url = "smtp://127.0.0.1:9"; from = "intake@example.org"; };
sources = (
    { name = "box"; type = "maildir"; path = "$MD"; poll_interval = 1; },
    { name = "sms"; type = "http"; url = "http://127.0.0.1:$port/v1/messages";
      token_file = "$T/token"; poll_interval = 60; timeout = 5; }
);
CONF
C="-c $T/intake.conf"

# A crisis, its file's mtime in 2031 (a wrong clock or a forged file).
printf 'From: Ana <ana@example.net>\nSubject: help\nMessage-ID: <fut1@example.net>\n\nMy boss took my passport and I cannot leave the house. Please help me tonight.\n' \
    > "$MD/new/1764000001.M1P1.host"
touch -d '2031-06-01 12:00:00 UTC' "$MD/new/1764000001.M1P1.host"
# One two minutes ahead: within the tolerance, taken as given.
ahead=$(( $(date +%s) + 120 ))
printf 'From: Bo <bo@example.net>\nSubject: question\nMessage-ID: <fut2@example.net>\n\nWhen is the next training for our staff?\n' \
    > "$MD/new/1764000002.M1P1.host"
touch -d "@$ahead" "$MD/new/1764000002.M1P1.host"
printf '{"messages":[{"id":"h1","from":"+15550001","received_at":"2031-06-01T12:00:00Z","text":"my boss took my passport and locks me in, please help"}],"next_cursor":"c1"}' \
    > "$W/page-start.json"

before=$(date +%s)
$INTAKED --once --no-sandbox $C 2>"$T/log"; rc=$?
after=$(date +%s)
check "--once exits 0" [ "$rc" -eq 0 ]
claimed=$(date -u -d '2031-06-01 12:00:00' +%s)
rec() { q "select received_at from messages where message_id = '$1' or source_key = '$1'"; }
r1=$(rec fut1@example.net)
between() { [ -n "$1" ] && [ "$1" -ge "$before" ] && [ "$1" -le "$after" ]; }
check "Maildir: received_at is the time it was read ($r1)" between "$r1"
check "Maildir: the stated mtime is kept" [ "$(q "select received_claimed from messages where message_id = 'fut1@example.net'")" = "$claimed" ]
check "Maildir: the ticket's received_at is the read time too" [ "$(q "select t.received_at from tickets t join messages m on m.ticket_id = t.id where m.message_id = 'fut1@example.net'")" = "$r1" ]
check "urgent crisis: response due 15 min after the read time" [ "$(q "select t.urgency, t.response_due - $r1 from tickets t join messages m on m.ticket_id = t.id where m.message_id = 'fut1@example.net'")" = "urgent|900" ]
r3=$(rec h1)
check "HTTP: received_at is the time it was read ($r3)" between "$r3"
check "HTTP: the stated received_at is kept" [ "$(q "select received_claimed from messages where source_key = 'h1'")" = "$claimed" ]
check "two minutes ahead: taken as given" [ "$(rec fut2@example.net)" = "$ahead" ]
check "two minutes ahead: nothing kept beside it" [ "$(q "select count(*) from messages where message_id = 'fut2@example.net' and received_claimed is null")" = 1 ]
check "the log says so, without message text" sh -c "grep -q 'received time 2031-06-01T12:00:00Z is in the future' '$T/log' && ! grep -qi passport '$T/log'"

t1=$(q "select ticket_id from messages where message_id = 'fut1@example.net'")
# Due within the hour: listed by followups --due-before (in 2031 it was not).
soon=$(date -u -d "@$((after + 3600))" +%Y-%m-%dT%H:%M:%SZ)
list=$($INTAKE followups --due-before "$soon" --format csv $C 2>&1)
check "followups --due-before (now + 1 h) lists the crisis" sh -c "echo \"\$1\" | grep -q '^$t1,'" sh "$list"
# And once due it is overdue in every reminder report: remind's test clock
# (INTAKE_NOW) at a slot (a Tuesday 08:35) long after now, long before the
# stated 2031 (where the deadlines were).
rem=$(INTAKE_NOW=2030-01-08T08:35:00-05:00 $INTAKE remind --dry-run $C 2>&1)
check "remind reports the crisis as breached" sh -c "echo \"\$1\" | grep -q '^Breached (' && echo \"\$1\" | grep -q '#$t1\\]'" sh "$rem"

show=$($INTAKE show "$t1" $C 2>&1)
check "intake show names the stated time" sh -c "echo \"\$1\" | grep -q '^Received: .*(the source said 2031-06-01T08:00:00-04:00, in the future)'" sh "$show"
showj=$($INTAKE show "$t1" --format json $C 2>&1)
check "intake show --format json: received_claimed" sh -c "echo \"\$1\" | grep -q '\"received_claimed\": \"2031-06-01T08:00:00-04:00\"'" sh "$showj"
check "intake show --format json: null when believed" sh -c "$INTAKE show $(q "select ticket_id from messages where message_id = 'fut2@example.net'") --format json $C | grep -q '\"received_claimed\": null'"
finish
