#!/bin/sh
# kill -9 during a migration.  store.c applies every pending migration in
# one BEGIN IMMEDIATE transaction; here a writer is killed in the middle of
# (1) the first migration of a new file and (2) a schema change of a file
# holding tickets.  The next `intake` start completes (1) and finds (2)
# exactly as before: same schema version, same rows, integrity ok.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
CONF
C="-c $T/intake.conf"
latest=$(ls "$TOP"/sql/[0-9][0-9][0-9]_*.sql | tail -n 1 | sed 's|.*/0*\([0-9]*\)_.*|\1|')

# run_killed SQL-FILE: feed SQL to the sqlite3 shell, kill -9 it while the
# transaction is open (after the SQL, before COMMIT).
run_killed() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	sqlite3 "$DB" <"$T/fifo" >"$T/shell.out" 2>&1 &
	spid=$!
	( cat "$1"; echo "SELECT 'ready';"; exec sleep 30 ) >"$T/fifo" &
	fpid=$!
	for i in $(seq 100); do grep -q ready "$T/shell.out" && break; sleep 0.1; done
	check "writer inside its transaction when killed" grep -q ready "$T/shell.out"
	kill -9 "$spid"
	wait "$spid" 2>/dev/null
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
}

# (1) A new database, killed during migration 001.
: > "$DB"
chmod 600 "$DB"
{ echo "PRAGMA journal_mode = WAL;"; echo "BEGIN IMMEDIATE;"
  cat "$TOP"/sql/[0-9][0-9][0-9]_*.sql
  echo "PRAGMA user_version = $latest;"; } > "$T/mig.sql"
run_killed "$T/mig.sql"
check "killed half-way: still schema 0" [ "$(q 'pragma user_version')" = "0" ]
check "killed half-way: no tables" [ "$(q "select count(*) from sqlite_master where type = 'table'")" = "0" ]
printf 'From: a@example.net\nSubject: s\nMessage-ID: <k1@example.net>\n\nWhere can I get help?\n' |
    $INTAKE ingest $C >/dev/null; rc=$?
check "next start completes the migration and stores (exit $rc)" [ "$rc" -eq 0 ]
check "schema version is the latest ($latest)" [ "$(q 'pragma user_version')" = "$latest" ]
check "message stored" [ "$(q 'select count(*) from messages')" = "1" ]

# (2) A database with data, killed during a schema change and a rewrite.
for i in 2 3 4; do
	printf 'From: a@example.net\nSubject: s\nMessage-ID: <k%s@example.net>\n\nQuestion number %s about labor trafficking.\n' "$i" "$i" |
	    $INTAKE ingest $C >/dev/null
done
before=$(q "select tickets.id, tickets.status, tickets.urgency, messages.sha256, messages.subject, length(messages.raw) from tickets join messages on messages.ticket_id = tickets.id order by messages.id" | sha256sum)
cat > "$T/mig2.sql" <<'SQL'
BEGIN IMMEDIATE;
ALTER TABLE tickets ADD COLUMN half_done INTEGER;
CREATE TABLE half_table (x INTEGER);
UPDATE messages SET raw = zeroblob(10), subject = 'CLOBBERED';
DELETE FROM events;
PRAGMA user_version = 99;
SQL
run_killed "$T/mig2.sql"
check "killed half-way: version unchanged" [ "$(q 'pragma user_version')" = "$latest" ]
$INTAKE ingest $C < /dev/null 2>/dev/null	# opens (and recovers) the file
check "rows intact" [ -n "$before" ] && [ "$(q "select tickets.id, tickets.status, tickets.urgency, messages.sha256, messages.subject, length(messages.raw) from tickets join messages on messages.ticket_id = tickets.id order by messages.id" | sha256sum)" = "$before" ]
check "no half-applied column" [ "$(q "select count(*) from pragma_table_info('tickets') where name = 'half_done'")" = "0" ]
check "no half-applied table" [ "$(q "select count(*) from sqlite_master where name = 'half_table'")" = "0" ]
check "subjects not clobbered" [ "$(q "select count(*) from messages where subject = 'CLOBBERED'")" = "0" ]
check "events kept" [ "$(q 'select count(*) from events')" -gt 0 ]
check "integrity_check ok" [ "$(q 'pragma integrity_check')" = "ok" ]
printf 'From: a@example.net\nSubject: s\nMessage-ID: <k5@example.net>\n\nOne more question.\n' |
    $INTAKE ingest $C >/dev/null; rc=$?
check "and it keeps working" [ "$rc" -eq 0 ]
finish
