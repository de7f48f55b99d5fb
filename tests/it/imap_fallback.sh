#!/bin/sh
# Misbehaving servers Dovecot cannot imitate, via tests/tools/fake-imapd.py
# (plaintext on 127.0.0.1, tls = "none"):
#  - IDLE answered with an untagged EXISTS before "+" (the order that stalls
#    Debian's libetpan, upstream #393): the stall ends after `timeout`, and
#    after 2 such failures the source polls instead, still fetching mail;
#  - LOGINDISABLED: the password is never sent;
#  - a refused login is logged as retried in 300 s by the service, and as
#    not retried by --once (which exits 78).
. "$(dirname "$0")/../lib.sh"
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
cd "$T" || exit 2
TOOLS=$TOP/tests/tools
DB=$T/intake.db
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/box"
for i in 1 2 3; do
	printf 'From: f%s@example.net\nSubject: fake %s\nMessage-ID: <fake-%s@example.net>\n\nI want information about labor trafficking laws.\n' "$i" "$i" "$i" >"$T/box/m$i"
done
printf 'test-password\n' >"$T/pw"; chmod 600 "$T/pw"
conf() {
	cat >"$T/f.conf" <<CONF
database = "intake.db";
sources = ( { name = "fake"; type = "imap"; host = "127.0.0.1"; port = $port;
  tls = "none"; user = "hotline"; password_file = "pw"; idle = true;
  poll_interval = 1; timeout = 1; } );
CONF
}
fpid= ; dpid=
stop_all() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null
	wait 2>/dev/null
}
at_exit stop_all
start_fake() {
	/usr/bin/python3 "$TOOLS/fake-imapd.py" --port "$port" --maildir "$T/box" --log "$T/fake.log" "$@" &
	fpid=$!
	for i in $(seq 50); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
		sleep 0.1
	done
}
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }

conf
start_fake --stall-idle
$INTAKED -c "$T/f.conf" 2>"$T/d.log" &
dpid=$!
for i in $(seq 150); do grep -q "polling every" "$T/d.log" 2>/dev/null && break; sleep 0.1; done
check "3 messages fetched" [ "$(tickets)" = 3 ]
check "received_at = INTERNALDATE with its zone (18:00 -0500 = 23:00Z)" [ "$(q "select count(*) from messages where received_at = $(date -u -d '2026-11-20 23:00:00' +%s)")" = 3 ]
check "the IDLE stall ends in an error, not a hang" grep -q 'IDLE failed' "$T/d.log"
check "after 2 IDLE failures the source polls instead (logged)" grep -q '2 IDLE failures in a row: polling every 1 s instead' "$T/d.log"
printf 'From: f4@example.net\nSubject: fake 4\nMessage-ID: <fake-4@example.net>\n\nPlease help, I cannot leave the house.\n' >"$T/box/m4"
for i in $(seq 100); do [ "$(tickets)" = 4 ] && break; sleep 0.1; done
check "polling still fetches new mail" [ "$(tickets)" = 4 ]
check "all 4 \\Seen on the server" [ "$(sort -u "$T/seen" | wc -l)" = 4 ]
n_idle=$(grep -c ' IDLE$' "$T/fake.log")
sleep 1.5
check "no more IDLE once polling" [ "$(grep -c ' IDLE$' "$T/fake.log")" = "$n_idle" ]
check "daemon alive" kill -0 "$dpid"
kill "$dpid"; wait "$dpid"; dpid=
kill "$fpid"; wait "$fpid" 2>/dev/null; fpid=

: >"$T/fake.log"
start_fake --logindisabled
$INTAKED --once -c "$T/f.conf" 2>"$T/ld.log"; RC=$?
check "LOGINDISABLED: refused (non-zero exit)" [ "$RC" -ne 0 ]
check "LOGINDISABLED: says why" grep -q 'LOGINDISABLED: refusing to send the password' "$T/ld.log"
check "LOGINDISABLED: no LOGIN command reached the server" sh -c "! grep -qi ' LOGIN' '$T/fake.log'"
check "LOGINDISABLED: the server did see the client" grep -qi 'CAPABILITY' "$T/fake.log"
kill "$fpid"; wait "$fpid" 2>/dev/null; fpid=

# A refused login: the log says what each mode really does next.
start_fake --bad-login
$INTAKED --once -c "$T/f.conf" 2>"$T/auth1.log"; RC=$?
check "login refused, --once: exit 78" [ "$RC" -eq 78 ]
check "login refused, --once: 'not retried in this run', no retry promised" sh -c "grep -q 'authentication failed: .*(--once: not retried in this run)' '$T/auth1.log' && ! grep -q 'retrying in' '$T/auth1.log'"
$INTAKED -c "$T/f.conf" 2>"$T/auth2.log" &
dpid=$!
for i in $(seq 50); do grep -q 'authentication failed' "$T/auth2.log" && break; sleep 0.1; done
kill "$dpid"; wait "$dpid"; dpid=
check "login refused, service: 'retrying in 300 s'" grep -q 'authentication failed: .*(retrying in 300 s)' "$T/auth2.log"
finish
