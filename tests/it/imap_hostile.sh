#!/bin/sh
# A lying IMAP server (tests/tools/fake-imapd.py, plaintext on 127.0.0.1)
# can neither make the cursor skip mail nor exhaust memory (issue 12 items
# 5 and 6):
#  - a listing with a UID above UIDNEXT (4000000000) does not move the
#    cursor there: messages that arrive later are still fetched;
#  - a UID listed without RFC822.SIZE is not skipped: re-listed, then after
#    3 attempts recorded as a ticket for a human;
#  - a UID left out of a listing that ends in a tagged NO is not skipped;
#  - RFC822.SIZE 100 with a 300 MB literal: refused when the literal is
#    announced (max_message_bytes 1 MB), recorded as oversize, left on the
#    server; intaked's peak RSS stays far below the literal;
#  - a greeting of 200 MB without CRLF is cut (line cap), memory bounded;
#  - the service watchdog (NOTIFY_SOCKET) is fed between messages.
. "$(dirname "$0")/../lib.sh"
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
cd "$T" || exit 2
TOOLS=$TOP/tests/tools
DB=$T/intake.db
fpid=
stop_fake() { [ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null; fpid=; }
at_exit stop_fake
printf 'test-password\n' >"$T/pw"; chmod 600 "$T/pw"

# fake CASE N [fake-imapd options]: a fresh box of N messages, database,
# configuration and server for one case.
fake() {
	stop_fake
	case=$1; n=$2; shift 2
	rm -rf "$T/box" "$T/seen" "$DB" "$DB-wal" "$DB-shm" "$T/fake.log"
	mkdir -p "$T/box"
	i=1
	while [ $i -le "$n" ]; do add_msg $i; i=$((i + 1)); done
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$T/f.conf" <<CONF
database = "intake.db";
limits = { max_message_bytes = 1048576; };
sources = ( { name = "fake"; type = "imap"; host = "127.0.0.1"; port = $port;
  tls = "none"; user = "hotline"; password_file = "pw"; idle = false;
  poll_interval = 1; timeout = 2; } );
CONF
	/usr/bin/python3 "$TOOLS/fake-imapd.py" --port "$port" --maildir "$T/box" \
	    --log "$T/fake.log" "$@" &
	fpid=$!
	for i in $(seq 50); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
		sleep 0.1
	done
}
add_msg() {
	printf 'From: h%s@example.net\nSubject: hostile %s\nMessage-ID: <hostile-%s@example.net>\n\nBODYTEXT-%s I need help, my employer keeps my passport.\n' "$1" "$1" "$1" "$1" >"$T/box/m$(printf %03d "$1")"
}
# runs MAX: intaked --once until it exits 0 (at most MAX runs); $RC, $runs;
# $RSS: the highest peak RSS (KiB) of any run.
runs() {
	runs=0; RC=1; RSS=0
	while [ "$RC" -ne 0 ] && [ $runs -lt "$1" ]; do
		runs=$((runs + 1))
		r=$(/usr/bin/python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stderr=open(sys.argv[1], "a"))
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
		    "$T/d.log" timeout -s KILL 120 "$INTAKED" --once -c "$T/f.conf")
		RC=${r% *}; m=${r#* }
		[ "$m" -gt "$RSS" ] && RSS=$m
	done
}
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }
cursor() { q 'select last_uid from source_state' 2>/dev/null; }

echo "# a UID above UIDNEXT"
fake bogus 3 --bogus-uid 4000000000
runs 10
check "bogus: intaked gets through (exit 0)" [ "$RC" -eq 0 ]
check "bogus: 3 tickets, none for the UID that does not exist" [ "$(tickets)" = 3 ] && [ "$(q "select count(*) from messages where source_key = '7:4000000000'")" = 0 ]
check "bogus: the cursor stays below UIDNEXT (3)" [ "$(cursor)" = 3 ]
check "bogus: logged" grep -q 'listed 1 UIDs at or above its UIDNEXT 4' "$T/d.log"
add_msg 4; add_msg 5
runs 5
check "bogus: the messages that came later are fetched (5 tickets, cursor 5)" [ "$(tickets)" = 5 ] && [ "$(cursor)" = 5 ]

echo "# a UID listed without RFC822.SIZE"
fake nosize 5 --nosize-uid 3
runs 20
check "nosize: intaked gets through (exit 0)" [ "$RC" -eq 0 ]
check "nosize: 5 messages -> 5 tickets" [ "$(tickets)" = 5 ]
check "nosize: uid 3 is a ticket for a human (could not be fetched)" [ "$(q "select count(*) from messages m join tickets t on t.id = m.ticket_id where m.source_key = '7:3' and t.needs_human = 1 and m.parse_error like 'the server could not deliver this message (UID 3,%'")" = 1 ]
check "nosize: uid 3 re-listed until then (3 attempts logged)" [ "$(grep -c 'failed to deliver uid 3 ([123] of 3' "$T/d.log")" = 3 ]
check "nosize: cursor 5" [ "$(cursor)" = 5 ]

echo "# a UID left out of a listing that ends in NO"
fake nolist 5 --nolist-uid 2
runs 30
check "nolist: intaked gets through (exit 0)" [ "$RC" -eq 0 ]
check "nolist: 5 messages -> 5 tickets" [ "$(tickets)" = 5 ]
check "nolist: uid 2 is a ticket for a human" [ "$(q "select count(*) from messages m join tickets t on t.id = m.ticket_id where m.source_key = '7:2' and t.needs_human = 1")" = 1 ]
check "nolist: the tagged NO is logged" grep -q 'UID FETCH (list).*some messages could not be listed' "$T/d.log"

echo "# RFC822.SIZE 100, a 300 MB literal"
fake lie 3 --lie-size-uid 2
runs 10
check "lie: intaked gets through (exit 0)" [ "$RC" -eq 0 ]
echo "peak RSS: $RSS KiB"
check "lie: peak RSS far below the literal (< 100 MB)" [ "$RSS" -lt 102400 ]
check "lie: 3 tickets" [ "$(tickets)" = 3 ]
check "lie: uid 2 recorded as oversize with the announced size, nothing of its body" [ "$(q "select parse_status || ' ' || size || ' ' || (length(raw) < 4096) from messages where source_key = '7:2'")" = "oversize 314572800 1" ]
check "lie: uid 2 left on the server (\\Seen only 1 3)" [ "$(sort -n "$T/seen" | tr '\n' ' ')" = "1 3 " ]
check "lie: its ticket needs a human" [ "$(q "select t.needs_human from messages m join tickets t on t.id = m.ticket_id where m.source_key = '7:2'")" = 1 ]

echo "# the watchdog is fed between messages"
fake watchdog 6
# A service manager's notify socket: every datagram, one per line.
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".up", "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()' "$T/notify" "$T/notify.log" &
npid=$!
stop_notify() { kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null; }
at_exit stop_notify
for i in $(seq 50); do [ -e "$T/notify.up" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$T/notify $INTAKED --once -c "$T/f.conf" 2>>"$T/d.log"; RC=$?
sleep 0.5
stop_notify
pings=$(grep -c 'WATCHDOG=1' "$T/notify.log" 2>/dev/null)
echo "WATCHDOG=1 sent: ${pings:-0}"
check "watchdog: 6 messages in one batch -> 6 tickets" sh -c "[ $RC -eq 0 ] && [ \"\$(sqlite3 '$DB' 'select count(*) from tickets')\" = 6 ]"
check "watchdog: fed between the messages of a batch (at least 5 pings)" [ "${pings:-0}" -ge 5 ]

echo "# a greeting of 200 MB without CRLF"
fake endless 1 --endless-greeting --lie-bytes 209715200
runs 1
check "endless: the run fails temporarily (exit 75)" [ "$RC" -eq 75 ]
echo "peak RSS: $RSS KiB"
check "endless: peak RSS bounded (< 100 MB)" [ "$RSS" -lt 102400 ]
check "endless: no message text in the log" sh -c "! grep -qi -e BODYTEXT -e 'hostile [0-9]' '$T/d.log'"
finish
