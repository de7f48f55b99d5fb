#!/bin/sh
# The HTTP source over HTTPS: a certificate from an unknown CA is refused
# (nothing fetched is stored, a temporary failure), the configured ca_file
# makes it work, and a certificate for another host name is refused.
. "${INTAKE_TOP:-.}/tests/tools/it-lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$tmp/intake.db"
make_certs "$tmp/pki"
printf 'tok\n' >"$tmp/token"
chmod 600 "$tmp/token"
start_https "$tmp/web" tok "$tmp/pki"
printf '{"messages":[{"id":"t1","from":"+15550001","received_at":"2026-11-27T10:00:00Z","text":"hello"}],"next_cursor":"n1"}' \
    >"$tmp/web/page-start.json"

conf() {	# FILE HOST CA-LINE
	cat >"$1" <<CONF
database = "$DB";
sources = ( { name = "web"; type = "http"; url = "https://$2:$HTTP_PORT/m";
    token_file = "$tmp/token"; timeout = 5; $3 } );
CONF
}
conf "$tmp/system.conf" 127.0.0.1 ""
conf "$tmp/other.conf" 127.0.0.1 "ca_file = \"$tmp/pki/other-ca.pem\";"
conf "$tmp/good.conf" 127.0.0.1 "ca_file = \"$tmp/pki/ca.pem\";"
conf "$tmp/name.conf" localhost "ca_file = \"$tmp/pki/ca.pem\";"
once() { "$INTAKED" --once -c "$tmp/$1.conf" 2>>"$tmp/intaked.log"; }
n() { sqlite3 "$DB" 'select count(*) from messages'; }

for c in system other name; do
	once $c
	rc=$?
	[ $rc = 75 ] || fail "$c: exit $rc, want 75 (certificate refused)"
	[ "$(n)" = 0 ] || fail "$c: stored from an unverified server"
done
[ ! -s "$tmp/web/requests.log" ] || fail "a request (with the token) reached an unverified server"
grep -qi 'certificate\|SSL\|issuer' "$tmp/intaked.log" || fail "no certificate error logged: $(cat "$tmp/intaked.log")"
once good || fail "trusted CA: exit $?: $(tail -n 3 "$tmp/intaked.log")"
[ "$(n)" = 1 ] || fail "trusted CA: nothing stored"
echo ok
