#!/bin/sh
# Urgent work pages the on-call person, for a pushed message too (issue
# 14): a running intaked with a rota and a Twilio source; an urgent SMS
# taken by the webhook listener (its own thread, reading the rota the main
# loop reads for escalation and gap alerts) pages the person on call by
# mail and webhook as well as alerts.to; a routine one pages nobody.
# Real SMTP sink, loopback webhook peer.
. "$(dirname "$0")/../lib.sh"
escalation_env
start_http "$T/hook" unused
POST="$PY $TOP/tests/tools/wh_post.py"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'tw-token-123\n' >"$T/tw"
chmod 600 "$T/tw"
PUB=https://hotline.example.org/intake/twilio
# maria is on call every day, all day: whenever the test runs.
cat >"$T/oncall.ics" <<'ICS'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//intake test//EN
BEGIN:VEVENT
UID:always
SUMMARY:maria
DTSTART;TZID=America/New_York:20260101T000000
DTEND;TZID=America/New_York:20260102T000000
RRULE:FREQ=DAILY
END:VEVENT
END:VCALENDAR
ICS
cat >"$T/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
listen = ( { address = "127.0.0.1"; port = $PORT; } );
alerts = { to = ["fallback@example.org"]; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
oncall = {
    rota = "oncall.ics";
    people = ( { name = "maria"; email = "Maria <maria@example.org>";
                 webhook = "http://127.0.0.1:$HTTP_PORT/maria"; } );
};
sources = (
  { name = "sms"; type = "twilio"; path = "/twilio"; secret_file = "$T/tw";
    public_url = "$PUB"; }
);
CONF
"$INTAKED" --check-config $C >/dev/null 2>"$T/check.log" || die "check-config: $(cat "$T/check.log")"
INTAKE_NO_SANDBOX=1 "$INTAKED" $C 2>"$T/intaked.log" &
DPID=$!
track $DPID
i=0
until $PY -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 300 ] && die "listener not up: $(cat "$T/intaked.log")"
	kill -0 $DPID 2>/dev/null || die "intaked died: $(cat "$T/intaked.log")"
	sleep 0.1
done
sms() {	# SID BODY FROM: a Twilio SMS, signed
	$POST --port "$PORT" --kind twilio --secret-file "$T/tw" --path /twilio \
	    --public-url "$PUB" --form "MessageSid=$1" --form "From=$3" \
	    --form "To=+15557654321" --form "Body=$2" --form NumMedia=0 >"$T/out"
	[ "$(head -n 1 "$T/out")" = 200 ] || die "sms $1: $(cat "$T/out")"
}
posts() { grep -c "\"person\": \"maria\"" "$T/hook/posts.jsonl" 2>/dev/null || echo 0; }

sms SM0001 "my boss took my passport and I cannot leave the house" +15551234567
[ "$(q "select urgency from tickets t join messages m on m.ticket_id = t.id where m.source_key = 'SM0001'")" = urgent ] ||
    die "the SMS is not an urgent ticket"
i=0
until [ "$(mails)" -ge 1 ] && [ "$(posts)" -ge 1 ]; do
	i=$((i + 1)); [ $i -gt 300 ] && die "first alert not delivered: $(mails) mails, $(posts) posts: $(tail -n 5 "$T/intaked.log")"
	sleep 0.1
done
rcpts=$(cat "$T"/smtp/mail-*.env | "$PY" -c 'import json,sys
print(" ".join(sorted(r for l in sys.stdin.read().replace("}{", "}\n{").splitlines() for r in json.loads(l)["rcpt"])))')
check "the urgent SMS's first alert reaches alerts.to and maria, once each" \
    [ "$rcpts" = "fallback@example.org maria@example.org" ]
check "maria's webhook got it once, with its key" \
    [ "$(grep -c '"key": "intake-alert-1-1-new-[0-9]*-maria"' "$T/hook/posts.jsonl")" = 1 ]
check "a page event names maria" [ "$(q "select json_extract(detail, '\$.oncall[0]') from events where ticket_id = 1 and kind = 'page'")" = maria ]

n=$(mails)
sms SM0002 "when is the next training for our staff" +15550000001
[ "$(q "select urgency from tickets t join messages m on m.ticket_id = t.id where m.source_key = 'SM0002'")" != urgent ] ||
    die "the routine SMS is urgent"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
stop "$DPID"
T2=$(q "select ticket_id from messages where source_key = 'SM0002'")
check "a routine SMS pages nobody" [ "$(q "select count(*) from outbox where ticket_id = $T2") $(mails) $(posts)" = "0 $n 1" ]
check "no message text in the log" sh -c "! grep -q passport '$T/intaked.log'"
finish
