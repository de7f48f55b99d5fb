#!/bin/sh
# The HTTP message source (source_http.c) against a loopback HTTP server:
# bearer token, cursor progression (escaped, kept when next_cursor is
# null), duplicate ids, a bad item (stored for a human), a malformed reply
# (nothing applied, retried), a
# refused token, the server down.  Bad items: http_bad_items.sh.
. "$(dirname "$0")/../lib.sh"
need_py
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$T/intake.db"
W="$T/web"
mkdir -p "$W"
printf 'tok-123\n' >"$T/token"
printf 'wrong\n' >"$T/badtoken"
chmod 600 "$T/token" "$T/badtoken"
start_http "$W" tok-123

conf() {	# FILE TOKEN
	cat >"$1" <<CONF
database = "$DB";
timezone = "America/New_York";
sources = ( { name = "sms"; type = "http"; url = "http://127.0.0.1:$HTTP_PORT/v1/messages";
    token_file = "$2"; poll_interval = 60; timeout = 5; } );
CONF
}
conf "$T/good.conf" "$T/token"
conf "$T/bad.conf" "$T/badtoken"
once() { "$INTAKED" --once -c "$T/$1.conf" 2>>"$T/intaked.log"; }
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

once good || die "first poll exit $?"
[ "$(q 'select count(*) from tickets')" = 3 ] || die "tickets: $(q 'select count(*) from tickets')"
[ "$(q "select group_concat(source_key) from (select source_key from messages order by id)")" = a1,a2,a3 ] ||
    die "keys $(q 'select group_concat(source_key) from messages')"
[ "$(q "select cursor from source_state where source='sms'")" = "c 2&x" ] || die "cursor"
[ "$(q "select received_at from messages where source_key='a2'")" = "$(epoch 2026-11-27T15:30:00Z)" ] ||
    die "received_at"
[ "$(q "select sender from tickets t join messages m on m.ticket_id=t.id where source_key='a1'")" = +15550001 ] ||
    die "sender"
q "select raw from messages where source_key='a1'" | grep -q '^{"id":"a1","from":"+15550001",' || die "raw record"
[ "$(q "select urgency from tickets t join messages m on m.ticket_id=t.id where source_key='a1'")" = urgent ] ||
    die "a1 not triaged urgent"
grep -q '^GET - auth-ok$' "$W/requests.log" || die "first request had a since or bad auth"
grep -q '^GET c1 auth-ok$' "$W/requests.log" || die "no request with since=c1"
grep -q '^GET c 2&x auth-ok$' "$W/requests.log" || die "cursor not escaped/decoded: $(cat "$W/requests.log")"

# Nothing new: the cursor is kept (next_cursor null), nothing stored.
once good || die "second poll exit"
[ "$(q 'select count(*) from tickets')" = 3 ] || die "duplicates on re-poll"
[ "$(q "select cursor from source_state where source='sms'")" = "c 2&x" ] || die "null next_cursor moved the cursor"

# One bad item among good ones: the good one is stored, the bad one is a
# ticket for a human (http_bad_items.sh has the rest), the cursor moves.
printf '{"messages":[%s,%s],"next_cursor":"c3"}' \
    "$(item b1 +15550010 2026-11-28T09:00:00Z 'good one')" \
    "$(item b2 +15550011 'yesterday' 'bad date')" >"$W/page-c 2&x.json"
once good || die "a bad item failed the poll: exit $?"
[ "$(q 'select count(*) from messages')" = 5 ] || die "bad item: not both stored"
[ "$(q "select needs_human from tickets t join messages m on m.ticket_id=t.id where source_key='b2'")" = 1 ] ||
    die "bad item not flagged for a human"
[ "$(q "select cursor from source_state where source='sms'")" = c3 ] || die "cursor c3"
# Truncated JSON: refused as a whole, nothing applied.
printf '{"messages":[%s' "$(item b3 +15550012 2026-11-28T09:00:00Z 'good one')" >"$W/page-c3.json"
once good
[ $? = 75 ] || die "truncated JSON not a temporary failure"
[ "$(q 'select count(*) from messages')" = 5 ] || die "truncated reply applied"
[ "$(q "select cursor from source_state where source='sms'")" = c3 ] || die "cursor moved on a bad reply"
[ -n "$(q "select last_error from source_state where source='sms'")" ] || die "no last_error"
# Fixed by the server: retried and applied.
printf '{"messages":[%s],"next_cursor":"c4"}' \
    "$(item b3 +15550012 2026-11-28T09:05:00Z 'fixed')" >"$W/page-c3.json"
once good || die "retry after fix exit $?"
[ "$(q 'select count(*) from messages')" = 6 ] || die "retry did not apply"
[ "$(q "select cursor from source_state where source='sms'")" = c4 ] || die "cursor c4"

# A refused token: an authentication failure, nothing changes.
before=$(wc -l <"$W/requests.log")
once bad
rc=$?
[ $rc = 78 ] || die "bad token: exit $rc, want 78 (auth)"
tail -n +$((before + 1)) "$W/requests.log" | grep -q 'auth-bad' || die "server did not see the bad token"
[ "$(q 'select count(*) from messages')" = 6 ] || die "stored with a bad token"

# Server down: a temporary failure, recorded.
stop "$HTTP_PID"
f0=$(q "select consecutive_failures from source_state where source='sms'")
once good
[ $? = 75 ] || die "server down: not 75"
[ "$(q "select consecutive_failures from source_state where source='sms'")" -gt "$f0" ] ||
    die "failure not recorded"
[ "$(q 'select count(*) from messages')" = 6 ] || die "messages changed while down"
ok "HTTP source"
finish
