# tests/lib.sh: the one shell library of the integration scripts
# (tests/it/*.sh), sourced as . "$(dirname "$0")/../lib.sh".
#
# Counting: check DESC CMD... and ok/fail count and go on; die MSG counts
# one failure and stops the script (a set-up step that failed: nothing
# after it could pass).  finish, or die, prints the one summary line
# "N passed, N failed" that tests/run.sh reads; the exit status is 0 only
# when nothing failed.  skip MSG exits 77.
#
# $T is a fresh temporary directory, removed on exit.  Servers started
# here (start_smtp, start_http, start_https, or a PID given to track) are
# stopped by their PID on exit, then the at_exit hooks run.
set -u
TOP=${INTAKE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${INTAKE_BUILD:-$TOP/build}
INTAKE=$BUILD/intake
INTAKED=$BUILD/intaked
PY=/usr/bin/python3
T=$(mktemp -d /tmp/intake-it.XXXXXX)
NFAIL=0
NPASS=0
pids=""
cleanup_hooks=""

lib_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	for h in $cleanup_hooks; do $h; done
	rm -rf "$T"
}
trap lib_cleanup EXIT

at_exit() { cleanup_hooks="$cleanup_hooks $1"; }
# track PID: stop this background process on exit.
track() { pids="$pids $1"; }

ok() { NPASS=$((NPASS + 1)); echo "ok - $*"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL - $*"; }
check() {	# check "description" test-expression...
	d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	echo "$NPASS passed, $NFAIL failed"
	[ "$NFAIL" -eq 0 ]
}
die() { fail "$*"; finish; exit 1; }
skip() { echo "skip: $*"; exit 77; }
# need_py: skip without /usr/bin/python3 (the fake servers and checkers).
need_py() { [ -x "$PY" ] || skip "no /usr/bin/python3"; }

q() { sqlite3 -batch -noheader "$DB" "$@"; }
# sql DB QUERY
sql() { sqlite3 "$1" "$2"; }
# epoch ISO8601
epoch() { date -d "$1" +%s; }

# wait_file FILE: up to 10 s.
wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && die "timeout waiting for $1"
		sleep 0.1
	done
}

# start_smtp DIR [PORT [USER:PASS]]: the SMTP sink (tests/tools/smtp_sink.py,
# one DIR/mail-N.eml per message); sets SMTP_PID, SMTP_PORT.
start_smtp() {
	mkdir -p "$1"
	rm -f "$1/port"
	"$PY" "$TOP/tests/tools/smtp_sink.py" --dir "$1" --port-file "$1/port" \
	    --port "${2:-0}" ${3:+--auth "$3"} >"$1/server.log" 2>&1 &
	SMTP_PID=$!
	track $SMTP_PID
	wait_file "$1/port"
	SMTP_PORT=$(cat "$1/port")
}

# start_http DIR TOKEN [PORT]: sets HTTP_PID, HTTP_PORT.
start_http() {
	mkdir -p "$1"
	rm -f "$1/port"
	"$PY" "$TOP/tests/tools/http_peer.py" --dir "$1" --token "$2" \
	    --port-file "$1/port" --port "${3:-0}" >"$1/server.log" 2>&1 &
	HTTP_PID=$!
	track $HTTP_PID
	wait_file "$1/port"
	HTTP_PORT=$(cat "$1/port")
}

# stop PID: stop one server we started, and wait for it.
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	np=""
	for p in $pids; do [ "$p" = "$1" ] || np="$np $p"; done
	pids=$np
}

# make_certs DIR: a throwaway CA and a server certificate for 127.0.0.1
# (DIR/ca.pem, DIR/server.pem, DIR/server.key), plus an untrusted CA
# (DIR/other-ca.pem).
make_certs() {
	command -v openssl >/dev/null || skip "openssl missing"
	mkdir -p "$1"
	(
	cd "$1" || exit 1
	for ca in ca other-ca; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=intake test $ca" \
		    -keyout $ca.key -out $ca.pem >/dev/null 2>&1 || exit 1
	done
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key \
	    -out server.csr >/dev/null 2>&1 || exit 1
	printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile ext.cnf -out server.pem >/dev/null 2>&1 || exit 1
	) || die "cannot make test certificates"
}

# start_https DIR TOKEN CERTDIR: sets HTTP_PID, HTTP_PORT.
start_https() {
	mkdir -p "$1"
	rm -f "$1/port"
	"$PY" "$TOP/tests/tools/http_peer.py" --dir "$1" --token "$2" \
	    --port-file "$1/port" --cert "$3/server.pem" --key "$3/server.key" \
	    >"$1/server.log" 2>&1 &
	HTTP_PID=$!
	track $HTTP_PID
	wait_file "$1/port"
	HTTP_PORT=$(cat "$1/port")
}

# ---- shared set-ups ------------------------------------------------------

# office_conf [LINE...]: $T/intake.conf with the database $T/intake.db
# (DB) in the office zone America/New_York, then each LINE; sets C.
office_conf() {
	DB=$T/intake.db
	{
		printf 'database = "intake.db";\ntimezone = "America/New_York";\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} > "$T/intake.conf"
	C="-c $T/intake.conf"
}

# maildir_conf: office_conf with one maildir source "local" ($T/mail), and
# the environment of the staff commands' tests (USER=tester, not the actor:
# the login is; no SUDO_USER).
maildir_conf() {
	office_conf 'sources = ( { name = "local"; type = "maildir"; path = "mail"; } );'
	unset SUDO_USER
	export USER=tester
}

# ingest_id [ARGS...]: intake ingest of stdin with $C; prints the ticket id.
ingest_id() { $INTAKE ingest $C "$@" | sed 's/^{"ticket":\([0-9]*\),.*/\1/'; }

# crisis_mail FROM SUBJECT MESSAGE-ID: a message triage files as an urgent
# crisis (LF line ends).
crisis_mail() {
	printf 'From: %s\nSubject: %s\nMessage-ID: <%s>\n\nMy boss took my passport and I cannot leave the house.\n' \
	    "$1" "$2" "$3"
}

# escalation_env: the set-up of the escalation tests (escalation, oncall,
# ack_mail): skip without aiosmtpd or sqlite3; the SMTP sink in $T/smtp
# (SMTP_PORT); DB ($T/intake.db), C (-c $T/c.conf: the test writes it),
# CHECK (tests/tools/check_mail.py), USER=tester.  And the clock of a
# Saturday in EST (INTAKE_NOW, a test hook only): at HH:MM prints the
# instant, once HH:MM runs intaked --once then (log $T/intaked.log);
# mails counts the mails sent, lastmail names the newest.
escalation_env() {
	need_py
	"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
	command -v sqlite3 >/dev/null || skip "sqlite3 missing"
	CHECK="$PY $TOP/tests/tools/check_mail.py"
	DB="$T/intake.db"
	C="-c $T/c.conf"
	export USER=tester
	unset SUDO_USER
	start_smtp "$T/smtp"
	at() { echo "2026-12-05T$1:00-05:00"; }		# Saturday, EST
	once() { INTAKE_NOW=$(at "$1") "$INTAKED" --once --no-sandbox $C 2>>"$T/intaked.log" ||
	    die "intaked --once at $1: $(tail -n 3 "$T/intaked.log")"; }
	mails() { ls "$T"/smtp/mail-*.eml 2>/dev/null | wc -l; }
	lastmail() { ls -v "$T"/smtp/mail-*.eml | tail -n 1; }
}
