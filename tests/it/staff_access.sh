#!/bin/sh
# Issue 15: staff commands as an unprivileged member of database_group.
# They need no secrets (the IMAP password is 0600 root's), read commands
# open the database read-only and never wait for the write lock (a writer
# holds BEGIN IMMEDIATE throughout), only writers migrate, and permission
# problems name the file or directory and exit 77, never 75.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v runuser >/dev/null 2>&1 ||
    ! command -v useradd >/dev/null 2>&1; then
	echo "skip: needs root, runuser and useradd (creates a throwaway user)"
	exit 77
fi
G=itst$$
U=itsu$$
groupadd "$G" || exit 77
if ! useradd -M -N -g "$G" -d /nonexistent -s /bin/false "$U"; then
	groupdel "$G"
	exit 77
fi
rmuser() { userdel "$U" 2>/dev/null; groupdel "$G" 2>/dev/null; }
at_exit rmuser
PY=/usr/bin/python3

chmod 0711 "$T"
mkdir -p "$T/mail/new" "$T/mail/cur" "$T/mail/tmp" "$T/db"
# The directory is the service user's: staff cannot create -wal/-shm in it.
chgrp "$G" "$T/db"
chmod 0750 "$T/db"
DB=$T/db/intake.db
printf 'secret\n' > "$T/imap.password"
chmod 0600 "$T/imap.password"
cat > "$T/intake.conf" <<CONF
database = "db/intake.db";
database_group = "$G";
timezone = "America/New_York";
busy_timeout_ms = 200;
sources = ( { name = "box"; type = "imap"; host = "127.0.0.1"; port = 9;
              tls = "none"; user = "u"; password_file = "imap.password"; } );
CONF
chmod 0644 "$T/intake.conf"
C="-c $T/intake.conf"
staff() { runuser -u "$U" -- env INTAKE_NO_SANDBOX=1 "$@"; }

printf 'From: a@example.net\r\nSubject: help\r\nMessage-ID: <s1@x>\r\n\r\nThey took my passport.\r\n' |
    INTAKE_NO_SANDBOX=1 $INTAKE ingest $C >/dev/null
check "database is 0660 in the staff group" [ "$(stat -c %a:%G "$DB")" = "660:$G" ]

# Read commands: exit 0 (status may say 1: the source was never polled).
reads() {	# reads LABEL
	for cmd in "followups --all-open" "show 1" "list" "status" \
	    "search passport" "changes --since 2000-01-01"; do
		staff $INTAKE $cmd $C >"$T/out" 2>"$T/err"; rc=$?
		if [ "$cmd" = status ] && [ "$rc" -eq 1 ]; then rc=0; fi
		check "$1: $cmd exits 0 (rc $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
	done
}
reads "no secrets, daemon stopped"
check "staff list shows ticket 1" sh -c "runuser -u $U -- $INTAKE list $C | grep -q help"
check "staff cannot read the password (test set-up)" sh -c "! runuser -u $U -- cat $T/imap.password 2>/dev/null"

# A writer holds the write lock (as the daemon in a batch).
$PY - "$DB" "$T/locked" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE tickets SET subject = subject")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
	time.sleep(0.05)
db.execute("COMMIT")
EOF
wpid=$!
stopw() { touch "$T/release"; kill "$wpid" 2>/dev/null; }
at_exit stopw
n=0
while [ ! -e "$T/locked" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
check "writer holds the lock" [ -e "$T/locked" ]
reads "writer holds BEGIN IMMEDIATE"
touch "$T/release"
wait "$wpid"
# The writer above (Python's sqlite3) removed -wal/-shm on close; intake's
# writers keep them (truncated), as intaked does when it stops.
$INTAKE purge --dry-run $C >/dev/null 2>&1
check "a writer's close keeps -wal and -shm" [ -e "$DB-wal" ] && [ -e "$DB-shm" ]
check "... the -wal truncated to nothing" [ "$(stat -c %s "$DB-wal")" = 0 ]
reads "daemon stopped, after a writer"

# A writing command as staff with the daemon stopped: no -wal, and the
# directory is not writable: a permissions problem naming the directory.
rm -f "$DB-wal" "$DB-shm"
staff $INTAKE ack 1 $C >"$T/out" 2>"$T/err"; rc=$?
check "staff ack without -wal: exit 77 (rc $rc)" [ "$rc" -eq 77 ]
check "the message names the directory" grep -q "$T/db" "$T/err"
check "not called temporary" sh -c "! grep -q temporary '$T/err'"

# The database file not readable by the group.
chmod 0600 "$DB"
staff $INTAKE list $C >"$T/out" 2>"$T/err"; rc=$?
check "unreadable database: exit 77 (rc $rc)" [ "$rc" -eq 77 ]
check "the message names the file" grep -q "$DB" "$T/err"
chmod 0660 "$DB"

# An older schema: read commands say who migrates, and do not migrate.
# (the sqlite3 CLI removes -wal/-shm on close: let staff recreate them)
chmod 0770 "$T/db"
v=$(q 'pragma user_version')
q "pragma user_version = $((v - 1))"
staff $INTAKE list $C >"$T/out" 2>"$T/err"; rc=$?
check "older schema: list exits 78 (rc $rc)" [ "$rc" -eq 78 ]
check "older schema: says what migrates it" grep -q "intaked" "$T/err"
check "older schema: left as it was" [ "$(q 'pragma user_version')" = $((v - 1)) ]
q "pragma user_version = $v"
chmod 0750 "$T/db"

# The daemon's configuration check still reads the secrets.
staff $INTAKED --check-config $C >"$T/out" 2>"$T/err"; rc=$?
check "intaked --check-config as staff: 78 on the password (rc $rc)" [ "$rc" -eq 78 ]
check "... naming password_file" grep -q "password_file" "$T/err"
$INTAKED --check-config $C >"$T/out" 2>"$T/err"; rc=$?
check "intaked --check-config as the owner: 0 (rc $rc)" [ "$rc" -eq 0 ]

finish
