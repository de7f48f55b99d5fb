#!/bin/sh
# Pipe delivery: every failure but bad input exits 75, so the MTA keeps a
# victim's message queued instead of bouncing it back to them (issue 12
# item 12).  Each case here exited 64, 70 or 78 before.
. "$(dirname "$0")/../lib.sh"

printf 'From: a@example.net\nSubject: help\nMessage-ID: <t1@example.net>\n\nPlease help me.\n' > "$T/m.eml"
good() {	# a working configuration in directory $1
	mkdir -p "$1"
	printf 'database = "intake.db";\nbusy_timeout_ms = 300;\n' > "$1/intake.conf"
}
ingest_rc() {	# ingest_rc ARGS... : the exit code of intake ingest
	$INTAKE ingest "$@" < "$T/m.eml" >/dev/null 2>"$T/err"
	echo $?
}

check "missing configuration file exits 75" [ "$(ingest_rc -c "$T/nope/intake.conf")" -eq 75 ]
check "the cause is on stderr" grep -q 'nope/intake.conf' "$T/err"

good "$T/typo"
printf 'sources = ( { name = "x"; type = "imapp"; } );\n' >> "$T/typo/intake.conf"
check "a typo in an unused source exits 75" [ "$(ingest_rc -c "$T/typo/intake.conf")" -eq 75 ]

good "$T/syntax"
printf 'database = \n' >> "$T/syntax/intake.conf"
check "a syntax error exits 75" [ "$(ingest_rc -c "$T/syntax/intake.conf")" -eq 75 ]
check "the syntax error names file:line" grep -q 'intake.conf:[0-9]' "$T/err"

good "$T/newer"
check "a good configuration stores (exit 0)" [ "$(ingest_rc -c "$T/newer/intake.conf")" -eq 0 ]
sqlite3 "$T/newer/intake.db" 'PRAGMA user_version = 999'
check "a newer schema exits 75" [ "$(ingest_rc -c "$T/newer/intake.conf")" -eq 75 ]

good "$T/corrupt"
head -c 8192 /dev/urandom > "$T/corrupt/intake.db"
chmod 600 "$T/corrupt/intake.db"
check "a corrupt database file exits 75" [ "$(ingest_rc -c "$T/corrupt/intake.conf")" -eq 75 ]

good "$T/opt"
check "an unknown option exits 75" [ "$(ingest_rc -c "$T/opt/intake.conf" --bogus)" -eq 75 ]
check "an extra argument exits 75" [ "$(ingest_rc -c "$T/opt/intake.conf" extra)" -eq 75 ]

good "$T/secret"
: # no password file at all: ingest must not look for it
cat >> "$T/secret/intake.conf" <<CONF
sources = ( { name = "mx"; type = "imap"; host = "imap.example.org";
  user = "u"; password_file = "no-such.password"; } );
CONF
rc=$(ingest_rc -c "$T/secret/intake.conf")
check "a missing password file does not stop ingest (exit 0)" [ "$rc" -eq 0 ]

$INTAKE ingest -c "$T/opt/intake.conf" < /dev/null 2>/dev/null; rc=$?
check "empty input is bad input: 65" [ "$rc" -eq 65 ]

finish
