# it-lib.sh: shared helpers of the integration tests (tests/it/*.sh), sourced.
# Servers are started in the background and stopped by their PID on exit.
top=${INTAKE_TOP:-.}
build=${INTAKE_BUILD:-$top/build}
PY=/usr/bin/python3
INTAKE="$build/intake"
INTAKED="$build/intaked"
pids=""
tmp=$(mktemp -d /tmp/intake-it.XXXXXX)

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "skip: $*"; exit 77; }

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -x "$PY" ] || skip "no /usr/bin/python3"
[ -x "$INTAKE" ] || fail "no $INTAKE (build first)"

# wait_file FILE: up to 10 s.
wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "timeout waiting for $1"
		sleep 0.1
	done
}

# start_smtp DIR [PORT [USER:PASS]]: sets SMTP_PID, SMTP_PORT.
start_smtp() {
	mkdir -p "$1"
	rm -f "$1/port"
	"$PY" "$top/tests/tools/smtp_sink.py" --dir "$1" --port-file "$1/port" \
	    --port "${2:-0}" ${3:+--auth "$3"} >"$1/server.log" 2>&1 &
	SMTP_PID=$!
	pids="$pids $SMTP_PID"
	wait_file "$1/port"
	SMTP_PORT=$(cat "$1/port")
}

# start_http DIR TOKEN [PORT]: sets HTTP_PID, HTTP_PORT.
start_http() {
	mkdir -p "$1"
	rm -f "$1/port"
	"$PY" "$top/tests/tools/http_peer.py" --dir "$1" --token "$2" \
	    --port-file "$1/port" --port "${3:-0}" >"$1/server.log" 2>&1 &
	HTTP_PID=$!
	pids="$pids $HTTP_PID"
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

# sql DB QUERY
sql() { sqlite3 "$1" "$2"; }

# epoch ISO8601
epoch() { date -d "$1" +%s; }

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
	) || fail "cannot make test certificates"
}

# start_https DIR TOKEN CERTDIR: sets HTTP_PID, HTTP_PORT.
start_https() {
	mkdir -p "$1"
	rm -f "$1/port"
	"$PY" "$top/tests/tools/http_peer.py" --dir "$1" --token "$2" \
	    --port-file "$1/port" --cert "$3/server.pem" --key "$3/server.key" \
	    >"$1/server.log" 2>&1 &
	HTTP_PID=$!
	pids="$pids $HTTP_PID"
	wait_file "$1/port"
	HTTP_PORT=$(cat "$1/port")
}
