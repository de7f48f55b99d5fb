#!/bin/sh
# The database file replaced under a running daemon (issue 12 item 4): a
# backup restored with `mv` while intaked runs.  Before, it kept committing
# into the deleted inode and marked the files, so after a restart those
# messages were gone (and the old file's -wal, which SQLite leaves behind
# for a moved database, was read as the new file's).  Now it checks the
# file's identity before marking: nothing is marked that is not in the
# visible database; it closes, sets the stale -wal/-shm aside and reopens
# the file at the path, and every message delivered since is a ticket there.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
CONF

deliver() {	# deliver N: one message, Message-ID <mN@example.net>
	{ printf 'From: p%s@example.net\nSubject: help %s\nMessage-ID: <m%s@example.net>\n\nWhere can I find a shelter in Denver tonight?\n' \
	    "$1" "$1" "$1"
	  # a body of some pages, so the live file grows away from the backup
	  seq 3000 | sed "s/^/line $1 of the account /"; } > "$MD/tmp/m$1"
	mv "$MD/tmp/m$1" "$MD/new/17640000$1.M1P$1.host"
}
marked() { ls "$MD/cur" | grep -c ':2,.*S'; }

$INTAKED -c "$T/intake.conf" 2>"$T/log" &
pid=$!
stop_daemon() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
at_exit stop_daemon
for i in $(seq 100); do grep -q started "$T/log" && break; sleep 0.2; done
# The backup, taken before message 1 (a backup is always older).
sqlite3 "$DB" ".backup '$T/backup.db'"

for n in 10 11 12 13 14 15; do deliver $n; done
for i in $(seq 150); do [ "$(marked)" = 6 ] && break; sleep 0.2; done
check "messages before the restore stored and marked" [ "$(q "select count(*) from messages")" = 6 ]
q "pragma wal_checkpoint(truncate)" >/dev/null

# The restore, with mail arriving.  The daemon is stopped meanwhile, so the
# mail is there at its next poll whatever the machine's speed.
kill -STOP "$pid"
mv "$T/backup.db" "$DB"
for n in 20 21 22; do deliver $n; done
kill -CONT "$pid"
# No reads of the database until the daemon has let go of the old file:
# its -wal and -shm are shared by name with the new one.
for i in $(seq 150); do
	[ "$(marked)" = 9 ] && grep -q 'database reopened' "$T/log" && break
	sleep 0.2
done
check "the daemon is still running" kill -0 "$pid"
check "the replacement is logged, naming the file" grep -q "database $DB was replaced" "$T/log"
check "the old file's -wal is set aside, not read as the new one's" grep -q "set aside $DB-wal" "$T/log"
stop_daemon
check "the visible database is intact" [ "$(q 'pragma integrity_check')" = ok ]
# Messages 10-15 went with the restore (stored and marked before it, and
# not in the backup); every file marked since is in the database at the
# path.
bad=0
for f in $(ls "$MD/cur"); do
	key=${f%%:*}
	case $key in 176400001?.*) continue;; esac
	[ "$(q "select count(*) from messages where source_key = '$key'")" = 1 ] ||
	    { bad=$((bad + 1)); echo "# marked, not in the visible database: $key"; }
done
check "no file marked that is not in the visible database" [ "$bad" -eq 0 ]
check "every message since the restore is a ticket" [ "$(q "select count(*) from messages where message_id in ('m20@example.net','m21@example.net','m22@example.net')")" = 3 ]
check "every file is marked" [ "$(marked)" = 9 ]
check "new/ is empty" [ -z "$(ls "$MD/new")" ]
finish
