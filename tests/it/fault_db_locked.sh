#!/bin/sh
# The database locked by another writer (the sqlite3 shell holding
# BEGIN IMMEDIATE) for longer than busy_timeout: `intake ingest` exits 75
# with nothing written, and works once the lock is gone; intaked keeps the
# Maildir message unmarked, retries, and stores it after the lock is gone.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
busy_timeout_ms = 300;
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
CONF
C="-c $T/intake.conf"
lockpid=
stop_all() {
	[ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
}
at_exit stop_all

msg() { printf 'From: a@example.net\nSubject: s\nMessage-ID: <%s@example.net>\n\nI need information about %s.\n' "$1" "$1"; }
msg m0 | $INTAKE ingest $C >/dev/null
check "database created" [ "$(q 'select count(*) from messages')" = "1" ]

# hold_lock SECONDS: another writer with the write lock
hold_lock() {
	( printf 'BEGIN IMMEDIATE;\nINSERT INTO events (ticket_id, at, actor, kind, detail) VALUES (1, 0, %s, %s, %s);\n' "'test'" "'lock'" "'{}'"
	  sleep "$1"; printf 'ROLLBACK;\n' ) | sqlite3 "$DB" &
	lockpid=$!
	sleep 0.5
}

hold_lock 4
msg m1 > "$T/m1.eml"
start=$(date +%s)
$INTAKE ingest $C < "$T/m1.eml" >"$T/out" 2>"$T/err"; rc=$?
secs=$(( $(date +%s) - start ))
check "locked database: exit 75 (got $rc)" [ "$rc" -eq 75 ]
check "gave up after busy_timeout, not the whole lock ($secs s)" [ "$secs" -le 2 ]
check "error says locked/busy and retry" sh -c "grep -qi -e locked -e busy '$T/err' && grep -q retry '$T/err'"
check "nothing printed as stored" [ ! -s "$T/out" ]
wait "$lockpid"; lockpid=
check "no partial row" [ "$(q "select count(*) from messages where message_id = 'm1@example.net'")" = "0" ]
$INTAKE ingest $C < "$T/m1.eml" >/dev/null; rc=$?
check "after the lock: stored" [ "$rc" -eq 0 ] && [ "$(q "select count(*) from messages where message_id = 'm1@example.net'")" = "1" ]

# The daemon retries rather than drops.
$INTAKED $C 2>"$T/log" &
pid=$!
sleep 1
hold_lock 4
msg m2 > "$MD/tmp/m2"
mv "$MD/tmp/m2" "$MD/new/1764000600.M1P1.host"
sleep 2
check "daemon alive while locked out" kill -0 "$pid"
check "message unmarked while locked out" [ -f "$MD/new/1764000600.M1P1.host" ]
check "nothing stored while locked out" [ "$(q "select count(*) from messages where message_id = 'm2@example.net'")" = "0" ]
wait "$lockpid"; lockpid=
for i in $(seq 75); do
	[ "$(q "select count(*) from messages where message_id = 'm2@example.net'")" = "1" ] && break
	sleep 0.2
done
check "stored after the lock is gone" [ "$(q "select count(*) from messages where message_id = 'm2@example.net'")" = "1" ]
check "the log says locked/busy" grep -qi -e locked -e busy "$T/log"
check "the lock holder's row was never committed" [ "$(q "select count(*) from events where kind = 'lock'")" = "0" ]
kill "$pid"; wait "$pid"; pid=
finish
