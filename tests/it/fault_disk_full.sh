#!/bin/sh
# Disk full under the database (a 4 MiB tmpfs): `intake ingest` exits 75
# with a clear error and stores nothing; intaked leaves the Maildir message
# unmarked in new/, keeps running and stores it by itself once space
# returns; nothing is lost and the raw bytes are exact.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: mounting a tmpfs needs root"
	exit 77
fi
mkdir -p "$T/fs"
if ! mount -t tmpfs -o size=4m,mode=0700 tmpfs "$T/fs" 2>/dev/null; then
	echo "skip: cannot mount a tmpfs here"
	exit 77
fi
unmount() { umount "$T/fs" 2>/dev/null || umount -l "$T/fs"; }
stop_daemon() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_daemon
at_exit unmount

DB=$T/fs/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cat > "$T/intake.conf" <<CONF
database = "fs/intake.db";
timezone = "America/New_York";
busy_timeout_ms = 200;
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
CONF
C="-c $T/intake.conf"
GEN="/usr/bin/python3 $TOP/tests/tools/genmsg.py"

printf 'From: a@example.net\nSubject: first\nMessage-ID: <first@example.net>\n\nWhere is a shelter?\n' |
    $INTAKE ingest $C >/dev/null
check "database works before the disk fills" [ "$(q 'select count(*) from messages')" = "1" ]

fill() { dd if=/dev/zero of="$T/fs/filler" bs=4k 2>/dev/null; sync; }
fill
check "the file system is full" [ "$(df -P "$T/fs" | awk 'NR==2 {print $4}')" -eq 0 ]

$GEN size 300000 > "$T/big.eml"
$INTAKE ingest $C < "$T/big.eml" >"$T/out" 2>"$T/err"; rc=$?
check "ingest on a full disk exits 75 (got $rc)" [ "$rc" -eq 75 ]
check "the error says the disk is full" grep -qi -e "full" -e "no space left" "$T/err"
check "and that it is temporary" grep -q "retry" "$T/err"
check "nothing printed as stored" [ ! -s "$T/out" ]
rm -f "$T/fs/filler"
check "nothing partial stored" [ "$(q 'select count(*) from messages')" = "1" ]

# The daemon, running when the disk fills: the message stays unmarked
# until it is stored.
$INTAKED $C 2>"$T/log" &
pid=$!
# up (migrations done) before the disk fills
for i in $(seq 100); do grep -q "started" "$T/log" && break; sleep 0.1; done
sleep 0.5
fill
cp "$T/big.eml" "$MD/tmp/m1"
mv "$MD/tmp/m1" "$MD/new/1764000500.M1P1.host"
sleep 3
check "daemon alive on a full disk" kill -0 "$pid"
check "message left unmarked in new/" [ -f "$MD/new/1764000500.M1P1.host" ]
check "the log says why" grep -qi "full" "$T/log"
rm -f "$T/fs/filler"
for i in $(seq 100); do
	[ "$(q "select count(*) from messages where source_key = '1764000500.M1P1.host'" 2>/dev/null)" = "1" ] && break
	sleep 0.2
done
check "stored by itself once space returns" [ "$(q "select count(*) from messages where source_key = '1764000500.M1P1.host'")" = "1" ]
for i in $(seq 25); do [ -f "$MD/new/1764000500.M1P1.host" ] || break; sleep 0.2; done
check "and then marked (moved to cur/)" [ ! -f "$MD/new/1764000500.M1P1.host" ]
q "select writefile('$T/big.out', raw) from messages where source_key = '1764000500.M1P1.host'" >/dev/null
check "raw bytes exact" cmp -s "$T/big.eml" "$T/big.out"
check "one row per message" [ "$(q 'select count(*) from messages')" = "2" ]
kill "$pid"
wait "$pid"; rc=$?
pid=
check "SIGTERM exits 0" [ "$rc" -eq 0 ]
check "integrity_check ok" [ "$(q 'pragma integrity_check')" = "ok" ]
finish
