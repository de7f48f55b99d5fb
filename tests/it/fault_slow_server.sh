#!/bin/sh
# A server that accepts the connection and then says nothing, or trickles
# one byte a second: intaked's IMAP source times out (source timeout) and
# moves on, and a Maildir source in the same configuration keeps working.
# Skips while the IMAP source is not built.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
printf 'secret\n' > "$T/pw"
chmod 600 "$T/pw"
srv=
pid=
stop_all() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	wait 2>/dev/null
}
at_exit stop_all

conf() {	# conf PORT
	cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
sources = (
  { name = "slow"; type = "imap"; host = "127.0.0.1"; port = $1; tls = "none";
    user = "hotline"; password_file = "pw"; timeout = 2; poll_interval = 1; idle = false; },
  { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; }
);
CONF
}

# Is there an IMAP source at all?
conf 9
$INTAKED --once -c "$T/intake.conf" 2>"$T/probe"
if grep -q "cannot be polled" "$T/probe"; then
	echo "skip: the IMAP source is not built yet"
	exit 77
fi

for mode in silent trickle; do
	rm -f "$T/port"
	/usr/bin/python3 "$TOP/tests/tools/slowserver.py" "$mode" "$T/port" &
	srv=$!
	for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	conf "$(cat "$T/port")"
	start=$(date +%s)
	$INTAKED --once -c "$T/intake.conf" 2>"$T/once.$mode"; rc=$?
	secs=$(( $(date +%s) - start ))
	check "$mode: --once ends (exit $rc, ${secs}s) with a temporary failure" [ "$rc" -eq 75 ]
	check "$mode: within a few timeouts (${secs}s <= 20)" [ "$secs" -le 20 ]
	check "$mode: the log names the slow source" grep -q "slow" "$T/once.$mode"

	$INTAKED -c "$T/intake.conf" 2>"$T/log.$mode" &
	pid=$!
	sleep 1
	printf 'From: a@example.net\nSubject: s\nMessage-ID: <%s@example.net>\n\nWhere is the nearest shelter?\n' "$mode" > "$MD/tmp/m"
	mv "$MD/tmp/m" "$MD/new/17640007$(date +%s).M1P1.$mode"
	for i in $(seq 100); do
		[ "$(q "select count(*) from messages where message_id = '$mode@example.net'" 2>/dev/null)" = "1" ] && break
		sleep 0.2
	done
	check "$mode: the Maildir source keeps working" [ "$(q "select count(*) from messages where message_id = '$mode@example.net'")" = "1" ]
	check "$mode: daemon alive" kill -0 "$pid"
	kill "$pid"; wait "$pid"; rc=$?; pid=
	check "$mode: SIGTERM exits 0 even mid-poll (exit $rc)" [ "$rc" -eq 0 ]
	kill "$srv"; wait "$srv" 2>/dev/null; srv=
done
finish
