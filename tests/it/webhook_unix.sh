#!/bin/sh
# The webhook listener on a unix socket (listen.socket), for a reverse
# proxy on the same machine: the socket gets listen.socket_mode and
# socket_group, serves signed requests (curl --unix-socket), survives a
# reload, is removed at exit, a stale one (intaked killed) is replaced,
# and a path that is not a socket is never removed.
. "$(dirname "$0")/../lib.sh"
need_py
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
command -v curl >/dev/null || skip "curl missing"
DB="$T/intake.db"
SOCK="$T/run/listen.sock"
mkdir -p "$T/run"
q() { sql "$DB" "$1"; }
printf 'tw-token-123\n' >"$T/tw"
chmod 600 "$T/tw"
PUB=https://hotline.example.org/intake/twilio
GROUP=$(id -gn)
cat >"$T/intake.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
listen = ( { socket = "$SOCK"; socket_mode = "0620"; socket_group = "$GROUP"; } );
sources = (
  { name = "sms"; type = "twilio"; path = "/twilio"; secret_file = "$T/tw";
    public_url = "$PUB"; }
);
CONF
"$INTAKED" --check-config -c "$T/intake.conf" >/dev/null 2>"$T/check.log" ||
    die "check-config: $(cat "$T/check.log")"
start_daemon() {
	INTAKE_NO_SANDBOX=1 "$INTAKED" -c "$T/intake.conf" 2>>"$T/intaked.log" &
	DPID=$!
	track $DPID
	i=0
	until [ -S "$SOCK" ] && grep -q "serving 1 push sources on $SOCK" "$T/intaked.log"; do
		i=$((i + 1))
		[ $i -gt 300 ] && die "listener not up: $(cat "$T/intaked.log")"
		kill -0 $DPID 2>/dev/null || die "intaked died: $(cat "$T/intaked.log")"
		sleep 0.1
	done
}
sms() {	# SID [SIGNATURE]: a Twilio SMS through curl --unix-socket
	form="MessageSid=$1&From=%2B15551234567&Body=they+took+my+phone"
	sig=${2:-$($PY -c '
import base64, hashlib, hmac, sys, urllib.parse
tok = open(sys.argv[1]).readline().strip().encode()
pairs = sorted(urllib.parse.parse_qsl(sys.argv[3]))
s = sys.argv[2] + "".join(k + v for k, v in pairs)
print(base64.b64encode(hmac.new(tok, s.encode(), hashlib.sha1).digest()).decode())' "$T/tw" "$PUB" "$form")}
	curl -s -o "$T/body" -w '%{http_code}\n' --unix-socket "$SOCK" \
	    -H "X-Twilio-Signature: $sig" \
	    -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data-binary "$form" http://localhost/twilio
}

start_daemon
check "socket mode is listen.socket_mode" [ "$(stat -c %a "$SOCK")" = 620 ]
check "socket group is listen.socket_group" [ "$(stat -c %G "$SOCK")" = "$GROUP" ]
check "signed SMS over the socket: 200" [ "$(sms SMU1)" = 200 ]
check "reply is <Response/>" [ "$(cat "$T/body")" = "<Response/>" ]
check "stored" [ "$(q "select count(*) from messages where source_key = 'SMU1'")" = 1 ]
check "forged over the socket: 401" [ "$(sms SMU2 AAAAAAAAAAAAAAAAAAAAAAAAAAA=)" = 401 ]
check "forged: nothing stored" [ "$(q "select count(*) from messages where source_key = 'SMU2'")" = 0 ]
: >"$T/intaked.log"
kill -HUP $DPID
i=0
until grep -q "serving 1 push sources on $SOCK" "$T/intaked.log"; do
	i=$((i + 1))
	[ $i -gt 300 ] && break
	sleep 0.1
done
check "after SIGHUP: 200" [ "$(sms SMU3)" = 200 ]
check "after SIGHUP: mode kept" [ "$(stat -c %a "$SOCK")" = 620 ]
stop $DPID
check "socket removed at exit" [ ! -e "$SOCK" ]

# kill -9 leaves the socket behind: the next intaked replaces it.
: >"$T/intaked.log"
start_daemon
kill -9 $DPID
wait $DPID 2>/dev/null
check "a killed intaked leaves its socket" [ -S "$SOCK" ]
: >"$T/intaked.log"
start_daemon
check "stale socket replaced: 200" [ "$(sms SMU4)" = 200 ]
# A second intaked on the same socket refuses to start, and leaves the
# first one's socket in place.
INTAKE_NO_SANDBOX=1 "$INTAKED" -c "$T/intake.conf" 2>"$T/second.log" &
P2=$!
track $P2
i=0
while kill -0 $P2 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
check "second intaked: refused" grep -q 'another intaked serves it' "$T/second.log"
check "first still serves: 200" [ "$(sms SMU5)" = 200 ]
stop $DPID

# A path that is not a socket is never removed.
echo keep >"$SOCK"
INTAKE_NO_SANDBOX=1 "$INTAKED" -c "$T/intake.conf" 2>"$T/notsock.log" &
P3=$!
track $P3
i=0
while kill -0 $P3 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
check "not a socket: refused" grep -q 'exists and is not a socket' "$T/notsock.log"
check "not a socket: file kept" [ "$(cat "$SOCK")" = keep ]
check "no sanitizer report" sh -c "! cat '$T/intaked.log' '$T/second.log' '$T/notsock.log' | grep -q Sanitizer"
check "stored exactly once each" [ "$(q "select count(*) || '/' || count(distinct source_key) from messages")" = 4/4 ]
finish
