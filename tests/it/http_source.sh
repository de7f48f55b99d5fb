#!/bin/sh
# The HTTP message source (source_http.c) against a loopback HTTP server:
# bearer token, cursor progression (escaped, kept when next_cursor is
# null), duplicate ids, a malformed reply (nothing applied, retried), a
# refused token, the server down.
. "${INTAKE_TOP:-.}/tests/tools/it-lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$tmp/intake.db"
W="$tmp/web"
mkdir -p "$W"
printf 'tok-123\n' >"$tmp/token"
printf 'wrong\n' >"$tmp/badtoken"
chmod 600 "$tmp/token" "$tmp/badtoken"
start_http "$W" tok-123

conf() {	# FILE TOKEN
	cat >"$1" <<CONF
database = "$DB";
timezone = "America/New_York";
sources = ( { name = "sms"; type = "http"; url = "http://127.0.0.1:$HTTP_PORT/v1/messages";
    token_file = "$2"; poll_interval = 60; timeout = 5; } );
CONF
}
conf "$tmp/good.conf" "$tmp/token"
conf "$tmp/bad.conf" "$tmp/badtoken"
once() { "$INTAKED" --once -c "$tmp/$1.conf" 2>>"$tmp/intaked.log"; }
q() { sql "$DB" "$1"; }

item() {	# ID FROM ISO TEXT
	printf '{"id":"%s","from":"%s","received_at":"%s","text":"%s"}' "$1" "$2" "$3" "$4"
}
printf '{"messages":[%s,%s],"next_cursor":"c1"}' \
    "$(item a1 +15550001 2026-11-27T10:00:00-05:00 'my boss took my passport, please help')" \
    "$(item a2 ana@example.net 2026-11-27T15:30:00Z 'question about a training')" >"$W/page-start.json"
# The second page repeats a2 (a server retry): it must not be stored twice.
printf '{"messages":[%s,%s],"next_cursor":"c 2&x"}' \
    "$(item a2 ana@example.net 2026-11-27T15:30:00Z 'question about a training')" \
    "$(item a3 +15550003 2026-11-27T16:00:00Z 'where can I get help')" >"$W/page-c1.json"

once good || fail "first poll exit $?"
[ "$(q 'select count(*) from tickets')" = 3 ] || fail "tickets: $(q 'select count(*) from tickets')"
[ "$(q "select group_concat(source_key) from (select source_key from messages order by id)")" = a1,a2,a3 ] ||
    fail "keys $(q 'select group_concat(source_key) from messages')"
[ "$(q "select cursor from source_state where source='sms'")" = "c 2&x" ] || fail "cursor"
[ "$(q "select received_at from messages where source_key='a2'")" = "$(epoch 2026-11-27T15:30:00Z)" ] ||
    fail "received_at"
[ "$(q "select sender from tickets t join messages m on m.ticket_id=t.id where source_key='a1'")" = +15550001 ] ||
    fail "sender"
q "select raw from messages where source_key='a1'" | grep -q '^{"id":"a1","from":"+15550001",' || fail "raw record"
[ "$(q "select urgency from tickets t join messages m on m.ticket_id=t.id where source_key='a1'")" = urgent ] ||
    fail "a1 not triaged urgent"
grep -q '^GET - auth-ok$' "$W/requests.log" || fail "first request had a since or bad auth"
grep -q '^GET c1 auth-ok$' "$W/requests.log" || fail "no request with since=c1"
grep -q '^GET c 2&x auth-ok$' "$W/requests.log" || fail "cursor not escaped/decoded: $(cat "$W/requests.log")"

# Nothing new: the cursor is kept (next_cursor null), nothing stored.
once good || fail "second poll exit"
[ "$(q 'select count(*) from tickets')" = 3 ] || fail "duplicates on re-poll"
[ "$(q "select cursor from source_state where source='sms'")" = "c 2&x" ] || fail "null next_cursor moved the cursor"

# A malformed reply (one bad item among good ones): nothing applied.
printf '{"messages":[%s,%s],"next_cursor":"c3"}' \
    "$(item b1 +15550010 2026-11-28T09:00:00Z 'good one')" \
    "$(item b2 +15550011 'yesterday' 'bad date')" >"$W/page-c 2&x.json"
once good
rc=$?
[ $rc = 75 ] || fail "malformed reply: exit $rc, want 75"
[ "$(q 'select count(*) from messages')" = 3 ] || fail "malformed reply half-applied"
[ "$(q "select cursor from source_state where source='sms'")" = "c 2&x" ] || fail "cursor moved on a bad reply"
[ -n "$(q "select last_error from source_state where source='sms'")" ] || fail "no last_error"
# Truncated JSON: the same.
printf '{"messages":[%s' "$(item b1 +15550010 2026-11-28T09:00:00Z 'good one')" >"$W/page-c 2&x.json"
once good
[ $? = 75 ] || fail "truncated JSON not a temporary failure"
[ "$(q 'select count(*) from messages')" = 3 ] || fail "truncated reply applied"
# Fixed by the server: retried and applied.
printf '{"messages":[%s,%s],"next_cursor":"c3"}' \
    "$(item b1 +15550010 2026-11-28T09:00:00Z 'good one')" \
    "$(item b2 +15550011 2026-11-28T09:05:00Z 'fixed date')" >"$W/page-c 2&x.json"
once good || fail "retry after fix exit $?"
[ "$(q 'select count(*) from messages')" = 5 ] || fail "retry did not apply"
[ "$(q "select cursor from source_state where source='sms'")" = c3 ] || fail "cursor c3"

# A refused token: an authentication failure, nothing changes.
before=$(wc -l <"$W/requests.log")
once bad
rc=$?
[ $rc = 78 ] || fail "bad token: exit $rc, want 78 (auth)"
tail -n +$((before + 1)) "$W/requests.log" | grep -q 'auth-bad' || fail "server did not see the bad token"
[ "$(q 'select count(*) from messages')" = 5 ] || fail "stored with a bad token"

# Server down: a temporary failure, recorded.
stop "$HTTP_PID"
f0=$(q "select consecutive_failures from source_state where source='sms'")
once good
[ $? = 75 ] || fail "server down: not 75"
[ "$(q "select consecutive_failures from source_state where source='sms'")" -gt "$f0" ] ||
    fail "failure not recorded"
[ "$(q 'select count(*) from messages')" = 5 ] || fail "messages changed while down"
echo ok
