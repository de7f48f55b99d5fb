#!/bin/sh
# The polled HTTP source's bad items and refused replies (issue 17), against
# a real loopback HTTP server (tests/tools/http_peer.py):
#  - one reply holding good items, an anonymous form (empty "from"), and bad
#    items (CR/LF in from, one invalid UTF-8 byte, \u0000, no text, a date
#    that is not ISO 8601, no id, not an object, text over
#    max_message_bytes): every good item is stored, the anonymous one as a
#    normal contact, each bad one as a ticket flagged needs_human with its
#    raw bytes kept verbatim, and the cursor moves on;
#  - the same reply served again stores nothing (bad items too);
#  - a reply over the 32 MiB cap, then a truncated one: refused as a whole,
#    nothing applied, logged at error level and ONE health alert for the run
#    of refusals, not one per poll; after a good reply a new refusal alerts
#    again.
. "$(dirname "$0")/../lib.sh"
need_py
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$T/intake.db"
W="$T/web"
mkdir -p "$W"
printf 'tok-123\n' >"$T/token"
chmod 600 "$T/token"
start_http "$W" tok-123
cat >"$T/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
alerts = { webhook = "http://127.0.0.1:9/alert"; };
limits = { max_message_bytes = 4096; };
sources = ( { name = "sms"; type = "http"; url = "http://127.0.0.1:$HTTP_PORT/v1/messages";
    token_file = "$T/token"; poll_interval = 60; timeout = 5; } );
CONF
once() { "$INTAKED" --once -c "$T/c.conf" 2>"$T/$1.log"; }
hexof() { od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
col() { q "select $1 from messages m join tickets t on t.id = m.ticket_id where m.source_key = '$2'"; }
health() { q "select count(*) from outbox where kind = 'health' and json_extract(payload, '$.source') = 'sms' and json_extract(payload, '$.problem') like 'reply refused%'"; }

# Each item in its own file: the page is their concatenation, and each
# bad item's stored raw must be exactly these bytes.
I="$T/items"
mkdir -p "$I"
printf '{"id":"g1","from":"+15550001","received_at":"2026-11-27T10:00:00Z","text":"good one alpha"}' >"$I/g1"
printf '{"id":"anon1","from":"","received_at":"2026-11-27T10:01:00Z","text":"a form with no sender"}' >"$I/anon1"
printf '{"id":"crlf1","from":"+15550002\\r\\nBcc: x@example.net","received_at":"2026-11-27T10:02:00Z","text":"crlf in from"}' >"$I/crlf1"
printf '{"id":"utf1","from":"+15550003","received_at":"2026-11-27T10:03:00Z","text":"bad \377 byte"}' >"$I/utf1"
printf '{"id":"nul1","from":"+15550004","received_at":"2026-11-27T10:04:00Z","text":"nul \\u0000 here"}' >"$I/nul1"
printf '{"id":"nt1","from":"+15550005","received_at":"2026-11-27T10:05:00Z"}' >"$I/nt1"
printf '{"id":"bd1","from":"+15550006","received_at":"yesterday","text":"bad date"}' >"$I/bd1"
printf '{"from":"+15550007","received_at":"2026-11-27T10:07:00Z","text":"no id"}' >"$I/noid"
printf '42' >"$I/num"
{ printf '{"id":"big1","from":"+15550008","received_at":"2026-11-27T10:08:00Z","text":"'
  head -c 5000 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$I/big1"
printf '{"id":"g2","from":"+15550009","received_at":"2026-11-27T10:09:00Z","text":"good one omega"}' >"$I/g2"
page() {	# CURSOR ITEM...: the page on stdout
	c=$1; shift
	printf '{"messages":[\n  '
	sep=""
	for f in "$@"; do printf '%s' "$sep"; cat "$I/$f"; sep=",
  "; done
	printf '\n],"next_cursor":"%s"}\n' "$c"
}
ALL="g1 anon1 crlf1 utf1 nul1 nt1 bd1 noid num big1 g2"
# shellcheck disable=SC2086
page c1 $ALL >"$W/page-start.json"

once p1; rc=$?
check "bad items: the poll succeeds (exit 0, was $rc)" [ "$rc" = 0 ]
check "bad items: all 11 items stored" [ "$(q 'select count(*) from messages')" = 11 ]
check "bad items: the cursor moved to c1" [ "$(q "select cursor from source_state where source = 'sms'")" = c1 ]
for k in g1 g2; do
	check "good item $k: stored normally" [ "$(col "t.needs_human || ':' || m.parse_status" $k)" = "0:ok" ]
done
check "good item g1: its text" [ "$(col m.text g1)" = "good one alpha" ]
check "anonymous form: a normal contact, no sender" \
    [ "$(col "t.needs_human || ':' || m.parse_status || ':' || coalesce(m.from_addr, 'NULL') || ':' || coalesce(t.sender, 'NULL')" anon1)" = "0:ok:NULL:NULL" ]
for k in crlf1 utf1 nul1 nt1 bd1 big1; do
	check "bad item $k: a ticket for a human (needs_human, urgent)" \
	    [ "$(col "t.needs_human || ':' || t.urgency" $k)" = "1:urgent" ]
	check "bad item $k: parse_error says why" [ -n "$(col m.parse_error $k)" ]
done
for k in crlf1 utf1 nul1 nt1 bd1; do
	check "bad item $k: raw bytes kept verbatim" [ "$(col "hex(m.raw)" $k)" = "$(hexof <"$I/$k")" ]
done
check "bad item crlf1: the CR/LF sender is not stored as the sender" \
    [ "$(col "coalesce(m.from_addr, 'NULL') || coalesce(t.sender, 'NULL')" crlf1)" = NULLNULL ]
check "bad item bd1: the text is still shown" [ "$(col m.text bd1)" = "bad date" ]
check "bad item big1: oversize, raw cut to max_message_bytes, real size kept" \
    [ "$(col "m.parse_status || ':' || length(m.raw) || ':' || m.size" big1)" = "oversize:4096:$(wc -c <"$I/big1" | tr -d ' ')" ]
for k in noid num; do
	key="sha256:$(sha256sum <"$I/$k" | cut -c1-64)"
	check "bad item $k (no id): keyed by its sha256, flagged, raw kept" \
	    [ "$(col "t.needs_human || ':' || hex(m.raw)" "$key")" = "1:$(hexof <"$I/$k")" ]
done
check "bad items: no message text in the log" sh -c "! grep -q -e 'good one' -e 'bad date' -e 'no sender' '$T/p1.log'"
check "bad items: the log names the bad items" grep -q 'bd1' "$T/p1.log"

# The same page served again (a server that repeats itself): nothing new.
# shellcheck disable=SC2086
page c1 $ALL >"$W/page-c1.json"
once p2; rc=$?
check "repeated page: exit 0 (was $rc)" [ "$rc" = 0 ]
check "repeated page: nothing stored twice, bad items neither" [ "$(q 'select count(*) from messages')" = 11 ]

# A reply over the 32 MiB cap: refused whole, logged, alerted once.
{ printf '{"messages":[{"id":"huge","from":"+15550010","received_at":"2026-11-28T10:00:00Z","text":"'
  head -c $((33 << 20)) /dev/zero | tr '\0' 'y'; printf '"}],"next_cursor":"c2"}'; } >"$W/page-c1.json"
once cap1; rc=$?
check "over the cap: a temporary failure (exit 75, was $rc)" [ "$rc" = 75 ]
check "over the cap: nothing applied" [ "$(q 'select count(*) from messages')" = 11 ]
check "over the cap: the cursor stays" [ "$(q "select cursor from source_state where source = 'sms'")" = c1 ]
check "over the cap: logged at error level" grep -q '^<3>.*sms.*larger than' "$T/cap1.log"
check "over the cap: one health alert" [ "$(health)" = 1 ]
check "over the cap: last_error says so" sh -c "$INTAKE -c '$T/c.conf' status 2>&1 | grep -q 'larger than'"
once cap2; rc=$?
check "over the cap, polled again: still refused (75, was $rc)" [ "$rc" = 75 ]
check "over the cap, polled again: no second alert" [ "$(health)" = 1 ]
# Still refusing, for another reason (truncated JSON): the same run.
printf '{"messages":[%s' "$(cat "$I/g1")" >"$W/page-c1.json"
once trunc1; rc=$?
check "truncated reply: refused (75, was $rc)" [ "$rc" = 75 ]
check "truncated reply: nothing applied" [ "$(q 'select count(*) from messages')" = 11 ]
check "truncated reply in the same run of refusals: no second alert" [ "$(health)" = 1 ]
# Fixed by the server: applied; a later refusal is a new run and alerts.
page c2 g2 >"$W/page-c1.json"
once fixed; rc=$?
check "fixed reply: exit 0 (was $rc)" [ "$rc" = 0 ]
check "fixed reply: cursor c2" [ "$(q "select cursor from source_state where source = 'sms'")" = c2 ]
printf '{"messages":' >"$W/page-c2.json"
once trunc2; rc=$?
check "refused after a good poll: 75 (was $rc)" [ "$rc" = 75 ]
check "refused after a good poll: a second alert" [ "$(health)" = 2 ]
finish
