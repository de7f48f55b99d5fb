#!/bin/sh
# A server that accepts the connection and then says nothing, or trickles
# one byte a second: intaked's network source (IMAP; HTTP) times out (the
# source's timeout) and moves on, and a Maildir source in the same
# configuration keeps working.  A source type not built yet is skipped.
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

# Known failures: listed cases ("type/mode") are run briefly and reported as
# "xfail", not counted.  None now: the IMAP source's pace guard bounds a
# whole command, so a trickled greeting ends too.
XFAIL=""

conf() {	# conf TYPE PORT
	case $1 in
	imap) net="name = \"slow\"; type = \"imap\"; host = \"127.0.0.1\"; port = $2; tls = \"none\";
    user = \"hotline\"; password_file = \"pw\"; timeout = 2; poll_interval = 1; idle = false;" ;;
	http) net="name = \"slow\"; type = \"http\"; url = \"http://127.0.0.1:$2/messages\"; token_file = \"pw\";
    timeout = 2; poll_interval = 1;" ;;
	esac
	cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
sources = (
  { $net },
  { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; }
);
CONF
}

tested=0
for type in imap http; do
	conf "$type" 9
	$INTAKED --once -c "$T/intake.conf" 2>"$T/probe"
	if grep -q "cannot be polled" "$T/probe"; then
		echo "note: the $type source is not built yet: not tested"
		continue
	fi
	tested=$((tested + 1))
	for mode in silent trickle; do
		rm -f "$T/port"
		/usr/bin/python3 "$TOP/tests/tools/slowserver.py" "$mode" "$T/port" "$type" &
		srv=$!
		for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
		conf "$type" "$(cat "$T/port")"
		tag="$type/$mode"
		case " $XFAIL " in
		*" $tag "*)
			timeout -s KILL 15 $INTAKED --once -c "$T/intake.conf" 2>"$T/once.log"; rc=$?
			if [ "$rc" -eq 75 ]; then
				echo "XPASS - $tag: --once ended (exit 75): remove it from XFAIL"
			else
				echo "xfail - $tag: --once still running after 15 s (killed, exit $rc): known, reported"
			fi
			kill "$srv"; wait "$srv" 2>/dev/null; srv=
			continue ;;
		esac
		start=$(date +%s)
		timeout -s KILL 60 $INTAKED --once -c "$T/intake.conf" 2>"$T/once.log"; rc=$?
		secs=$(( $(date +%s) - start ))
		check "$tag: --once ends with a temporary failure (exit $rc, ${secs}s)" [ "$rc" -eq 75 ]
		check "$tag: within a few timeouts (${secs}s <= 20)" [ "$secs" -le 20 ]
		check "$tag: the log names the slow source" grep -q "source slow" "$T/once.log"
		check "$tag: and says it timed out" grep -qi -e "timed out" -e "timeout" -e "too slow" "$T/once.log"

		$INTAKED -c "$T/intake.conf" 2>"$T/log" &
		pid=$!
		sleep 1
		id="${type}${mode}"
		printf 'From: a@example.net\nSubject: s\nMessage-ID: <%s@example.net>\n\nWhere is the nearest shelter?\n' "$id" > "$MD/tmp/m"
		mv "$MD/tmp/m" "$MD/new/17640007$(date +%s).M1P1.$id"
		for i in $(seq 100); do
			[ "$(q "select count(*) from messages where message_id = '$id@example.net'" 2>/dev/null)" = "1" ] && break
			sleep 0.2
		done
		check "$tag: the Maildir source keeps working" [ "$(q "select count(*) from messages where message_id = '$id@example.net'")" = "1" ]
		check "$tag: daemon alive" kill -0 "$pid"
		kill "$pid"
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid"
			fail "$tag: SIGTERM did not stop the daemon within 10 s"
			wait "$pid" 2>/dev/null
		else
			wait "$pid"; rc=$?
			check "$tag: SIGTERM exits 0 (exit $rc)" [ "$rc" -eq 0 ]
		fi
		pid=
		kill "$srv"; wait "$srv" 2>/dev/null; srv=
	done
done
if [ "$tested" -eq 0 ]; then
	echo "skip: no network source (imap, http) is built yet"
	exit 77
fi
finish
