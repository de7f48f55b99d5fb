#!/bin/sh
# The webhook listener (listen.c, webhook.c) in a running intaked: signed
# Twilio, WhatsApp and Standard Webhooks requests over loopback.  A good
# request makes a ticket; a forged signature is 401 and stores nothing; a
# replay (same MessageSid / wamid / webhook-id) is 200 and stores nothing;
# a stale timestamp, an oversize body, a wrong content type are refused;
# an anonymous form is a ticket; Twilio gets <Response/>; the WhatsApp
# handshake; a busy database is 503 with Retry-After; nothing is ever
# acknowledged to a push contact; refusals are counted for intake status.
. "$(dirname "$0")/../lib.sh"
need_py
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$T/intake.db"
POST="$PY $TOP/tests/tools/wh_post.py"
q() { sql "$DB" "$1"; }
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'tw-token-123\n' >"$T/tw"
printf 'wa-app-secret\n' >"$T/wa"
printf 'wa-verify\n' >"$T/wav"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' >"$T/wh"
chmod 600 "$T/tw" "$T/wa" "$T/wav" "$T/wh"
PUB=https://hotline.example.org/intake/twilio
cat >"$T/intake.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
busy_timeout_ms = 200;
listen = ( { address = "127.0.0.1"; port = $PORT; max_body_bytes = 4096;
    refusal_burst = 6; refusal_window = 3600; } );
alerts = { to = [ "oncall@example.org" ]; };
smtp = { url = "smtp://127.0.0.1:9"; from = "hotline@example.org"; };
ack = { enabled = true; };
sources = (
  { name = "sms"; type = "twilio"; path = "/twilio"; secret_file = "$T/tw";
    public_url = "$PUB"; },
  { name = "wa"; type = "whatsapp"; path = "/whatsapp"; secret_file = "$T/wa";
    verify_token_file = "$T/wav"; },
  { name = "form"; type = "webhook"; path = "/form"; secret_file = "$T/wh"; },
  { name = "burst"; type = "webhook"; path = "/burst"; secret_file = "$T/wh"; }
);
CONF
"$INTAKED" --check-config -c "$T/intake.conf" >/dev/null 2>"$T/check.log" ||
    die "check-config: $(cat "$T/check.log")"
INTAKE_NO_SANDBOX=1 "$INTAKED" -c "$T/intake.conf" 2>"$T/intaked.log" &
DPID=$!
track $DPID
i=0
until $PY -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 300 ] && die "listener not up: $(cat "$T/intaked.log")"
	kill -0 $DPID 2>/dev/null || die "intaked died: $(cat "$T/intaked.log")"
	sleep 0.1
done

sms() {	# SID [extra wh_post args]: a Twilio SMS, signed
	sid=$1
	shift
	$POST --port "$PORT" --kind twilio --secret-file "$T/tw" --path /twilio \
	    --public-url "$PUB" --query "tenant=1" --form "MessageSid=$sid" \
	    --form "From=+15551234567" --form "To=+15557654321" \
	    --form "Body=my boss took my passport" --form NumMedia=0 "$@"
}
tickets() { q "select count(*) from messages where source = '$1'"; }
status_is() { [ "$(head -n 1 "$T/out")" = "$1" ]; }

# Twilio: good, replayed, forged, unsigned, wrong type.
sms SM0001 >"$T/out"
check "twilio good: 200" status_is 200
check "twilio reply is text/xml" [ "$(sed -n 2p "$T/out")" = "text/xml" ]
check "twilio reply body is <Response/>" [ "$(sed -n 3p "$T/out")" = "<Response/>" ]
check "twilio ticket" [ "$(tickets sms)" = 1 ]
check "twilio sender" [ "$(q "select t.sender from tickets t join messages m on m.ticket_id = t.id where m.source_key = 'SM0001'")" = +15551234567 ]
check "twilio subject" [ "$(q "select subject from messages where source_key = 'SM0001'")" = "SMS +15551234567" ]
check "twilio text" [ "$(q "select text from messages where source_key = 'SM0001'")" = "my boss took my passport" ]
check "raw record is the request" sh -c "sqlite3 '$DB' \"select raw from messages where source_key = 'SM0001'\" | head -n 1 | grep -q '^POST /twilio?tenant=1'"
sha_db=$(q "select sha256 from messages where source_key = 'SM0001'")
sha_raw=$(q "select writefile('$T/raw1', raw) from messages where source_key = 'SM0001'" >/dev/null; sha256sum "$T/raw1" | cut -d' ' -f1)
check "messages.sha256 is the raw record's" [ "$sha_db" = "$sha_raw" ]
sms SM0001 >"$T/out"
check "twilio replay: 200" status_is 200
check "twilio replay: nothing stored" [ "$(tickets sms)" = 1 ]
sms SM0002 --forge >"$T/out"
check "twilio forged: 401" status_is 401
sms SM0003 --no-sig >"$T/out"
check "twilio unsigned: 401" status_is 401
sms SM0004 --content-type text/plain >"$T/out"
check "twilio wrong content type: 415" status_is 415
sms SM0004 --content-type application/json >"$T/out"
check "twilio form signed, sent as JSON: 401" status_is 401
sms SM0005 --query "tenant=2" --public-url https://evil.example/x >"$T/out"
check "twilio signed for another URL: 401" status_is 401
check "refused twilio requests stored nothing" [ "$(tickets sms)" = 1 ]
check "refusals counted" [ "$(q "select refused from source_state where source = 'sms'")" = 5 ]
check "refusals logged without content" sh -c "! grep -q 'passport' '$T/intaked.log'"

# Oversize: by Content-Length and chunked.
big=$($PY -c 'print("x" * 5000)')
sms SM0006 --form "Pad=$big" >"$T/out"
check "oversize: 413" sh -c "head -n 1 '$T/out' | grep -qx '413\|reset'"
sms SM0007 --form "Pad=$big" --chunked >"$T/out"
check "oversize chunked: 413" sh -c "head -n 1 '$T/out' | grep -qx '413\|reset'"
check "oversize stored nothing" [ "$(tickets sms)" = 1 ]

# Standard Webhooks: an anonymous form, a replay, stale, forged.
form() {	# ID BODY [args]
	id=$1 body=$2
	shift 2
	$POST --port "$PORT" --kind webhook --secret-file "$T/wh" --path /form \
	    --id "$id" --body "$body" "$@"
}
form msg_a1 '{"text":"I want to report a farm that keeps workers locked in"}' >"$T/out"
check "anonymous form: 200" status_is 200
check "anonymous form reply" [ "$(sed -n 3p "$T/out")" = '{"ok":true}' ]
check "anonymous form: ticket" [ "$(tickets form)" = 1 ]
check "anonymous form: no sender" [ "$(q "select coalesce(t.sender, 'NULL') || '|' || coalesce(m.from_addr, 'NULL') from tickets t join messages m on m.ticket_id = t.id where m.source_key = 'msg_a1'")" = "NULL|NULL" ]
check "anonymous form: subject" [ "$(q "select subject from messages where source_key = 'msg_a1'")" = "Web form" ]
form msg_a1 '{"text":"I want to report a farm that keeps workers locked in"}' >"$T/out"
check "form replay: 200" status_is 200
check "form replay: one ticket" [ "$(tickets form)" = 1 ]
form msg_a2 '{"text":"late"}' --ts-offset -600 >"$T/out"
check "stale timestamp: 403" status_is 403
form msg_a3 '{"text":"future"}' --ts-offset 600 >"$T/out"
check "future timestamp: 403" status_is 403
form msg_a4 '{"text":"forged"}' --forge >"$T/out"
check "forged form: 401" status_is 401
form msg_a5 '{"text":"typed"}' --content-type text/plain >"$T/out"
check "form wrong content type: 415" status_is 415
form msg_a6 '{"nottext":1}' >"$T/out"
check "form without text: 400" status_is 400
check "refused forms stored nothing" [ "$(tickets form)" = 1 ]
# A sender with an e-mail address, ack enabled: still no acknowledgement.
form msg_b1 '{"text":"please call me","from":"ana@example.net","name":"Ana"}' >"$T/out"
check "form with sender: 200" status_is 200
check "form with sender: stored" [ "$(q "select from_addr || '|' || from_name from messages where source_key = 'msg_b1'")" = "ana@example.net|Ana" ]
check "no ack to a push contact" [ "$(q "select count(*) from outbox where kind = 'ack'")" = 0 ]

# WhatsApp: the handshake, two messages in one delivery, statuses, replay.
$POST --port "$PORT" --kind whatsapp --path /whatsapp \
    --get 'hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=1158201444' >"$T/out"
check "whatsapp handshake: 200" status_is 200
check "whatsapp handshake: challenge" [ "$(sed -n 3p "$T/out")" = 1158201444 ]
$POST --port "$PORT" --kind whatsapp --path /whatsapp \
    --get 'hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444' >"$T/out"
check "whatsapp handshake, wrong token: 403" status_is 403
WA='{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"9"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"15551230000"}],"messages":[{"from":"15551230000","id":"wamid.X1","timestamp":"1700000000","type":"text","text":{"body":"help"}},{"from":"15551230000","id":"wamid.X2","timestamp":"1700000001","type":"text","text":{"body":"they watch me"}}]}}]}]}'
wa() { b=$1; shift; $POST --port "$PORT" --kind whatsapp --secret-file "$T/wa" --path /whatsapp --body "$b" "$@"; }
wa "$WA" >"$T/out"
check "whatsapp: 200" status_is 200
check "whatsapp: both messages stored" [ "$(tickets wa)" = 2 ]
check "whatsapp: sender E.164" [ "$(q "select from_addr from messages where source_key = 'wamid.X2'")" = +15551230000 ]
wa "$WA" >"$T/out"
check "whatsapp replay: 200" status_is 200
check "whatsapp replay: nothing stored" [ "$(tickets wa)" = 2 ]
wa '{"entry":[{"changes":[{"value":{"statuses":[{"id":"wamid.X1","status":"read"}]}}]}]}' >"$T/out"
check "whatsapp statuses: 200" status_is 200
check "whatsapp statuses: nothing stored" [ "$(tickets wa)" = 2 ]
$POST --port "$PORT" --kind whatsapp --secret-file "$T/wav" --path /whatsapp --body "$WA" >"$T/out"
check "whatsapp signed with another secret: 401" status_is 401

# Unknown path, wrong method.
$POST --port "$PORT" --kind webhook --secret-file "$T/wh" --path /nowhere --body '{"text":"x"}' >"$T/out"
check "unknown path: 404" status_is 404
$POST --port "$PORT" --kind twilio --path /twilio --get 'x=1' >"$T/out"
check "GET on twilio: 405" status_is 405

# The database busy: 503 with Retry-After, nothing stored; then the retry.
$PY - "$DB" "$T/locked" <<'PY' &
import sqlite3, sys, time, os
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").write("1")
t = time.time()
while os.path.exists(sys.argv[2]) and time.time() - t < 60:
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
LPID=$!
track $LPID
wait_file "$T/locked"
sms SM0100 >"$T/out"
check "busy database: 503" status_is 503
check "busy database: Retry-After" grep -qx 'Retry-After: 30' "$T/out"
rm -f "$T/locked"
stop $LPID
sms SM0100 >"$T/out"
check "retry after busy: 200" status_is 200
check "retry after busy: stored once" [ "$(q "select count(*) from messages where source_key = 'SM0100'")" = 1 ]

# Conversations: a sender's texts on one channel are one ticket while it
# is open or closed less than conversation_hours (72) ago.
tix() { q "select count(distinct ticket_id) from messages where source = '$1'"; }
check "two texts of one sender: one ticket" [ "$(tickets sms)/$(tix sms)" = 2/1 ]
check "one WhatsApp burst: one ticket" [ "$(tickets wa)/$(tix wa)" = 2/1 ]
check "a WhatsApp 'help' is not automated mail" [ "$(q "select t.automated from tickets t join messages m on m.ticket_id = t.id where m.source_key = 'wamid.X1'")" = 0 ]
form msg_c1 '{"text":"another anonymous tip"}' >"$T/out"
check "anonymous forms never join: two tickets" [ "$(q "select count(distinct ticket_id) from messages where source = 'form' and from_addr is null")" = 2 ]
now=$(date +%s)
q "update tickets set status = 'closed', closed_at = $((now - 73 * 3600)) where id in (select ticket_id from messages where source = 'sms')"
sms SM0200 >"$T/out"
check "closed 73 h ago: a new ticket" [ "$(tix sms)" = 2 ]
t2=$(q "select ticket_id from messages where source_key = 'SM0200'")
q "update tickets set status = 'closed', closed_at = $((now - 3600)) where id = $t2"
sms SM0201 >"$T/out"
check "closed 1 h ago: appended" [ "$(q "select ticket_id from messages where source_key = 'SM0201'")" = "$t2" ]
check "closed 1 h ago: reopened" [ "$(q "select status from tickets where id = $t2")" = open ]

# Carrier keywords: a STOP from a new number is stored, flagged on the
# message and the ticket (with an event), answered with an empty
# <Response/> and nothing queued to anyone but staff.
$POST --port "$PORT" --kind twilio --secret-file "$T/tw" --path /twilio \
    --public-url "$PUB" --form MessageSid=SMK1 --form From=+15550009999 \
    --form Body=Stop --form NumMedia=0 >"$T/out"
check "keyword: 200" status_is 200
check "keyword: empty TwiML" [ "$(sed -n 3p "$T/out")" = "<Response/>" ]
check "keyword: stored with its text" [ "$(q "select text from messages where source_key = 'SMK1'")" = Stop ]
check "keyword: flagged on the message" [ "$(q "select carrier_keyword from messages where source_key = 'SMK1'")" = STOP ]
check "keyword: flagged on the ticket, open" [ "$(q "select t.carrier_keyword || '|' || t.status || '|' || t.automated from tickets t join messages m on m.ticket_id = t.id where m.source_key = 'SMK1'")" = "STOP|open|0" ]
check "keyword: event" [ "$(q "select count(*) from events e join messages m on m.ticket_id = e.ticket_id where m.source_key = 'SMK1' and e.kind = 'keyword'")" = 1 ]
check "keyword: not on a sentence" [ "$(q "select coalesce(carrier_keyword, 'NULL') from messages where source_key = 'SM0001'")" = NULL ]
check "keyword: nothing sent back" [ "$(q "select count(*) from outbox where kind = 'ack'")" = 0 ]
TK=$(q "select ticket_id from messages where source_key = 'SMK1'")
"$INTAKE" show "$TK" -c "$T/intake.conf" >"$T/show.txt" 2>&1
check "keyword: intake show names it" grep -q '^Keyword:  STOP (a carrier keyword)$' "$T/show.txt"
"$INTAKE" show "$TK" --format json -c "$T/intake.conf" >"$T/show.json" 2>&1
check "keyword: show json" [ "$($PY -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"][0]; print(m["carrier_keyword"], m["segments"])' "$T/show.json")" = "STOP None" ]

# Twilio's JSON variant: bodySHA256 in the signed URL; a multi-part SMS
# Twilio joined is one message with its segment count.
tj() {	# BODY [args]
	b=$1
	shift
	$POST --port "$PORT" --kind twilio --json --secret-file "$T/tw" \
	    --path /twilio --public-url "$PUB" --query "tenant=1" --body "$b" "$@"
}
tj '{"MessageSid":"SMJ1","From":"+15550007777","Body":"a long text in three parts","NumSegments":"3","NumMedia":"0"}' >"$T/out"
check "twilio JSON: 200" status_is 200
check "twilio JSON: stored" [ "$(q "select from_addr || '|' || text from messages where source_key = 'SMJ1'")" = "+15550007777|a long text in three parts" ]
check "multi-part SMS: one message, 3 segments" [ "$(q "select count(*) || '|' || max(segments) from messages where source_key = 'SMJ1'")" = "1|3" ]
check "single SMS: no segment count" [ "$(q "select coalesce(segments, 'NULL') from messages where source_key = 'SM0001'")" = NULL ]
"$INTAKE" show "$(q "select ticket_id from messages where source_key = 'SMJ1'")" -c "$T/intake.conf" >"$T/show.txt" 2>&1
check "multi-part SMS: intake show gives the count" grep -q 'bytes, 3 SMS segments joined$' "$T/show.txt"
tj '{"MessageSid":"SMJ2","Body":"x"}' --body-hash 0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620 >"$T/out"
check "twilio JSON, body not the hashed one: 401" status_is 401
tj '{"MessageSid":"SMJ1","From":"+15550007777","Body":"a long text in three parts","NumSegments":"3","NumMedia":"0"}' >"$T/out"
check "twilio JSON replay: 200, once" [ "$(head -n 1 "$T/out")/$(q "select count(*) from messages where source_key = 'SMJ1'")" = 200/1 ]

# A burst of refusals: refusal_burst (6) refused requests within
# refusal_window raise one health alert for that source, without request
# content; the next burst within the window raises none.
health() { q "select count(*) from outbox where kind = 'health' and json_extract(payload, '$.source') = 'burst' and json_extract(payload, '$.problem') = 'requests refused'"; }
burst() {	# N: forged requests
	n=$1
	while [ "$n" -gt 0 ]; do
		$POST --port "$PORT" --kind webhook --secret-file "$T/wh" --path /burst \
		    --id "msg_burst$n" --body '{"text":"BURSTSECRET words"}' --forge >/dev/null
		n=$((n - 1))
	done
}
burst 5
check "5 refusals: no health alert" [ "$(health)" = 0 ]
burst 1
check "6 refusals: one health alert" [ "$(health)" = 1 ]
burst 12
check "more bursts in the window: still one" [ "$(health)" = 1 ]
check "burst alert without content" [ "$(q "select count(*) from outbox where payload like '%BURSTSECRET%'")" = 0 ]
check "burst alert names the reason" [ "$(q "select json_extract(payload, '$.detail') from outbox where kind = 'health' and json_extract(payload, '$.source') = 'burst'")" = "6 requests refused within 3600 s; the last: 401 bad signature" ]
check "burst alert logged" grep -q 'health alert queued: source burst: requests refused' "$T/intaked.log"

# Slow clients (slowloris): 20 connections that never finish their
# headers do not keep a signed request from being served.
$PY - "$PORT" "$T/slow" <<'PY' &
import socket, sys, time, os
ss = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"POST /twilio HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    ss.append(s)
open(sys.argv[2], "w").write("1")
t = time.time()
while os.path.exists(sys.argv[2]) and time.time() - t < 60:
    time.sleep(0.05)
PY
SPID=$!
track $SPID
wait_file "$T/slow"
sms SM0250 >"$T/out"
check "served beside slow clients" status_is 200
rm -f "$T/slow"
stop $SPID

# SIGHUP: the listener stops, the configuration reloads, it serves again.
kill -HUP $DPID
i=0
until grep -q 'configuration reloaded' "$T/intaked.log"; do
	i=$((i + 1))
	[ $i -gt 300 ] && break
	sleep 0.1
done
sms SM0300 >"$T/out"
check "after SIGHUP: 200" status_is 200
check "after SIGHUP: stored" [ "$(q "select count(*) from messages where source_key = 'SM0300'")" = 1 ]

# intake status: the push sources, with their refusals.
"$INTAKE" status --format json -c "$T/intake.conf" >"$T/status.json" 2>/dev/null
check "status: refusals shown" $PY -c "
import json,sys
d=json.load(open('$T/status.json'))
s={x['name']:x for x in d['sources']}
sys.exit(0 if s['sms']['type']=='twilio' and s['sms']['refused']>=4 and s['form']['refused']>=4 and not s['sms']['stale'] else 1)"

check "intaked still running" kill -0 $DPID
stop $DPID
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/intaked.log'"
finish
