#!/bin/sh
# Opening the database fails: the error names what to fix (issue 12 item
# 16).  A stale -shm or -wal another user left (read-only for us), and a
# directory where -wal/-shm cannot be created, are named with what to do;
# a database whose write lock another process holds past busy_timeout says
# that the database is locked and by which PID (not "migrating: database
# is locked", which read like a migration in progress).  Run as nobody
# when started as root (root passes every permission check).
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: sqlite3 missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }

run_as=""
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null 2>&1 || { echo "skip: root without setpriv (util-linux)"; exit 77; }
	run_as="setpriv --reuid=65534 --regid=65534 --clear-groups --"
fi
D=$T/d
DB=$D/intake.db
mkdir -p "$D"
cat > "$T/intake.conf" <<CONF
database = "$DB";
busy_timeout_ms = 300;
CONF
chmod 755 "$T"
chmod 644 "$T/intake.conf"
[ -n "$run_as" ] && chown 65534:65534 "$D"
me() { $run_as "$INTAKE" "$@" -c "$T/intake.conf"; }
msg() { printf 'From: a@example.net\nSubject: s\nMessage-ID: <%s@example.net>\n\nI need information about %s.\n' "$1" "$1"; }
msg m0 | me ingest >/dev/null 2>"$T/e0"
check "database created" [ "$(q 'select count(*) from messages')" = 1 ]
owner=$(stat -c %u "$DB")

# A stale -shm left by another user (after a permissions fix).
if [ -n "$run_as" ]; then
	other=0
else
	other=65534
fi
stale() {	# SUFFIX: make it another user's, read-only for us
	# (the sqlite3 shell of q removed them at its close: a duplicate
	# ingest makes them again, kept by intake)
	msg m0 | me ingest >/dev/null 2>&1
	chown "$other" "$DB$1" 2>/dev/null && chmod 644 "$DB$1"
}
unstale() { chown "$owner" "$DB$1"; chmod 600 "$DB$1"; }
if [ -n "$run_as" ] || [ "$(id -u)" -eq 0 ]; then
	stale -shm
	msg m1 | me ingest >/dev/null 2>"$T/e1"; rc=$?
	check "stale -shm: ingest defers (75)" [ "$rc" -eq 75 ]
	check "stale -shm: the error names the file" grep -qF "$DB-shm: Permission denied" "$T/e1"
	check "stale -shm: and says what to do" grep -q "fix its owner and mode as the database's, or remove it while intaked is stopped" "$T/e1"
	me ack 1 --by x >/dev/null 2>"$T/e1b"; rc=$?
	check "stale -shm: a staff command exits 77 naming it" sh -c "[ $rc -eq 77 ] && grep -qF '$DB-shm' '$T/e1b'"
	unstale -shm
	stale -wal
	msg m2 | me ingest >/dev/null 2>"$T/e2"; rc=$?
	check "stale -wal: 75, the error names the file" sh -c "[ $rc -eq 75 ] && grep -qF '$DB-wal: Permission denied' '$T/e2'"
	unstale -wal
	# A directory where the -wal and -shm cannot be created.
	rm -f "$DB-wal" "$DB-shm"
	chown "$other" "$D"; chmod 755 "$D"
	msg m3 | me ingest >/dev/null 2>"$T/e3"; rc=$?
	check "unwritable directory: 75, names the directory" sh -c "[ $rc -eq 75 ] && grep -qF '$D: Permission denied for uid' '$T/e3'"
	check "unwritable directory: says what to do" grep -q "the directory is not writable, so the database's -wal/-shm files cannot be created" "$T/e3"
	chown "$owner" "$D"
else
	echo "note: not root: the stale-file cases need a second user; skipped"
fi

# The write lock held by another process past busy_timeout.
lockpid=
stop_lock() { [ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_lock
rm -f "$T/locked"
python3 - "$DB" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(30)
PY
lockpid=$!
for i in $(seq 100); do [ -f "$T/locked" ] && break; sleep 0.1; done
msg m4 | me ingest >/dev/null 2>"$T/e4"; rc=$?
check "locked: ingest defers (75)" [ "$rc" -eq 75 ]
check "locked: says the database is locked" grep -q "the database is locked: its write lock is held by another process" "$T/e4"
check "locked: names the PID holding it ($lockpid)" grep -q "PID $lockpid (python3)" "$T/e4"
check "locked: no 'migrating:' prefix" sh -c "! grep -q 'migrating' '$T/e4'"
me ack 1 --by x >/dev/null 2>"$T/e5"; rc=$?
check "locked: a staff command too (75, PID)" sh -c "[ $rc -eq 75 ] && grep -q 'PID $lockpid' '$T/e5'"
kill "$lockpid"; wait "$lockpid" 2>/dev/null; lockpid=
msg m4 | me ingest >/dev/null 2>&1; rc=$?
check "after the lock: stored" sh -c "[ $rc -eq 0 ] && [ \"\$(sqlite3 '$DB' \"select count(*) from messages where message_id = 'm4@example.net'\")\" = 1 ]"
finish
