#!/bin/sh
# A message the server cannot deliver never blocks the ones behind it
# (tests/tools/fake-imapd.py, plaintext on 127.0.0.1).  Eight messages;
# the server drops the connection on every FETCH of message 2's body (its
# header still comes), answers FETCHes of message 4 without a body, and
# drops the connection on message 6's body and header alike.  intaked
# --once runs (as under cron) until it exits 0: each of the three is
# fetched alone 3 times, then recorded as a ticket flagged for a human
# (header, or nothing) and left unmarked on the server; the five others
# become ordinary tickets and are \Seen.  Also: --once with idle = true
# never sends IDLE; a connection closed in the middle of a message's bytes
# is an error, not an endless loop (libetpan 1.9.4, see guard_eof()).
. "$(dirname "$0")/../lib.sh"
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
cd "$T" || exit 2
TOOLS=$TOP/tests/tools
DB=$T/intake.db
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/box"
for i in 1 2 3 4 5 6 7 8; do
	printf 'From: p%s@example.net\nSubject: poison test %s\nMessage-ID: <poison-%s@example.net>\n\nBODYTEXT-%s I want information about labor trafficking laws.\n' "$i" "$i" "$i" "$i" >"$T/box/m$i"
done
printf 'test-password\n' >"$T/pw"; chmod 600 "$T/pw"
cat >"$T/f.conf" <<CONF
database = "intake.db";
sources = ( { name = "fake"; type = "imap"; host = "127.0.0.1"; port = $port;
  tls = "none"; user = "hotline"; password_file = "pw"; idle = true;
  poll_interval = 1; timeout = 2; } );
CONF
fpid=
stop_fake() { [ -n "$fpid" ] && kill "$fpid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_fake
/usr/bin/python3 "$TOOLS/fake-imapd.py" --port "$port" --maildir "$T/box" \
    --log "$T/fake.log" --drop-uid 2 --nobody-uid 4 --drop-uid 6 \
    --drop-header-uid 6 &
fpid=$!
for i in $(seq 50); do
	/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }
key() { q "select id from messages where source_key = '7:$1'"; }

runs=0
RC=1
hung=0
while [ "$RC" -ne 0 ] && [ $runs -lt 20 ]; do
	runs=$((runs + 1))
	# timeout: Debian's libetpan 1.9.4 spins forever on a connection
	# closed inside a literal unless intaked guards against it.
	timeout -s KILL 30 $INTAKED --once -c "$T/f.conf" 2>>"$T/d.log"; RC=$?
	[ $runs = 1 ] && first=$RC
	[ $RC = 137 ] && { hung=1; break; }
done
echo "intaked --once runs until exit 0: $runs"
check "a connection closed inside a message never hangs intaked" [ "$hung" = 0 ]
check "the first run fails temporarily (exit 75)" [ "$first" -eq 75 ]
check "then it gets through by itself (exit 0 within 20 runs)" [ "$RC" -eq 0 ]
check "8 messages -> 8 tickets" [ "$(tickets)" = 8 ]
check "5 ordinary tickets (parse ok, not flagged)" [ "$(q "select count(*) from messages m join tickets t on t.id = m.ticket_id where m.parse_status = 'ok' and t.needs_human = 0 and m.source_key in ('7:1','7:3','7:5','7:7','7:8')")" = 5 ]
check "3 undeliverable ones flagged needs_human, parse_status error, a clear parse_error" [ "$(q "select count(*) from messages m join tickets t on t.id = m.ticket_id where t.needs_human = 1 and m.parse_status = 'error' and m.parse_error like 'the server could not deliver this message (UID %' and m.source_key in ('7:2','7:4','7:6')")" = 3 ]
check "uid 2: its header was kept (sender, Message-ID), not its body" [ "$(q "select from_addr || ' ' || message_id || ' ' || instr(raw, 'BODYTEXT') from messages where source_key = '7:2'")" = "p2@example.net poison-2@example.net 0" ]
check "uid 2: parse_error names the UID and where to read it" [ "$(q "select count(*) from messages where source_key = '7:2' and parse_error like '%(UID 2, %it is still in the mailbox INBOX, unmarked; read it there'")" = 1 ]
check "uid 4 (no body sent) and 6 (header dropped too): empty records" [ "$(q "select count(*) from messages where source_key in ('7:4','7:6') and length(raw) = 0")" = 2 ]
check "the messages behind each are stored (uids 3, 5, 7, 8)" [ -n "$(key 3)" ] && [ -n "$(key 5)" ] && [ -n "$(key 7)" ] && [ -n "$(key 8)" ]
check "\\Seen on the server: exactly 1 3 5 7 8 (2, 4, 6 left for a human)" [ "$(sort -n "$T/seen" | tr '\n' ' ')" = "1 3 5 7 8 " ]
check "uid 2's body fetched alone exactly 3 times" [ "$(grep -c 'UID FETCH 2 (.*BODY.PEEK\[\]' "$T/fake.log")" = 3 ]
check "uid 6's body fetched alone exactly 3 times" [ "$(grep -c 'UID FETCH 6 (.*BODY.PEEK\[\]' "$T/fake.log")" = 3 ]
check "cursor past all 8, all marked" [ "$(q "select last_uid || ' ' || cursor from source_state")" = "8 marked=8" ]
check "each failed attempt logged" [ "$(grep -c 'the server failed to deliver uid 2 ([123] of 3 attempts' "$T/d.log")" = 3 ]
check "the skip logged at error level with its ticket" grep -q '^<3>.*uid 2 could not be fetched in 3 attempts: ticket [0-9]* records it (its header only)' "$T/d.log"
check "uid 6 logged as nothing readable" grep -q 'uid 6 could not be fetched in 3 attempts: ticket [0-9]* records it (nothing of it could be read)' "$T/d.log"
check "no message text or subject in the log" sh -c "! grep -qi -e BODYTEXT -e 'poison test' '$T/d.log'"
check "--once with idle = true: no IDLE sent" sh -c "! grep -q ' IDLE' '$T/fake.log'"
n=$(grep -c 'UID FETCH' "$T/fake.log")
$INTAKED --once -c "$T/f.conf" 2>"$T/again.log"; RC=$?
check "one more run: exit 0, nothing new" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 8 ]"
check "one more run: the skipped messages are not fetched again" [ "$(grep 'UID FETCH' "$T/fake.log" | tail -n +$((n + 1)) | grep -c 'BODY.PEEK')" = 0 ]
finish
