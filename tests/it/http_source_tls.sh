#!/bin/sh
# The HTTP source over HTTPS: a certificate from an unknown CA is refused
# (nothing fetched is stored, a temporary failure), the configured ca_file
# makes it work, and a certificate for another host name is refused.
. "$(dirname "$0")/../lib.sh"
need_py
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$T/intake.db"
make_certs "$T/pki"
printf 'tok\n' >"$T/token"
chmod 600 "$T/token"
start_https "$T/web" tok "$T/pki"
printf '{"messages":[{"id":"t1","from":"+15550001","received_at":"2026-11-27T10:00:00Z","text":"hello"}],"next_cursor":"n1"}' \
    >"$T/web/page-start.json"

conf() {	# FILE HOST CA-LINE
	cat >"$1" <<CONF
database = "$DB";
sources = ( { name = "web"; type = "http"; url = "https://$2:$HTTP_PORT/m";
    token_file = "$T/token"; timeout = 5; $3 } );
CONF
}
conf "$T/system.conf" 127.0.0.1 ""
conf "$T/other.conf" 127.0.0.1 "ca_file = \"$T/pki/other-ca.pem\";"
conf "$T/good.conf" 127.0.0.1 "ca_file = \"$T/pki/ca.pem\";"
conf "$T/name.conf" localhost "ca_file = \"$T/pki/ca.pem\";"
once() { "$INTAKED" --once -c "$T/$1.conf" 2>>"$T/intaked.log"; }
n() { sqlite3 "$DB" 'select count(*) from messages'; }

for c in system other name; do
	once $c
	rc=$?
	[ $rc = 75 ] || die "$c: exit $rc, want 75 (certificate refused)"
	[ "$(n)" = 0 ] || die "$c: stored from an unverified server"
done
[ ! -s "$T/web/requests.log" ] || die "a request (with the token) reached an unverified server"
grep -qi 'certificate\|SSL\|issuer' "$T/intaked.log" || die "no certificate error logged: $(cat "$T/intaked.log")"
once good || die "trusted CA: exit $?: $(tail -n 3 "$T/intaked.log")"
[ "$(n)" = 1 ] || die "trusted CA: nothing stored"
ok "HTTP source over TLS"
finish
