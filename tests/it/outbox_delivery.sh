#!/bin/sh
# The outbox delivered by `intaked --once`: an urgent alert by webhook and
# by e-mail, the webhook down (the row stays, backs off, and is delivered
# exactly once after the server comes back), acknowledgements to senders
# (on: one per sender per day, never to lists or no-reply addresses; off:
# no row at all).
. "${INTAKE_TOP:-.}/tests/tools/it-lib.sh"
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
CHECK="$PY $top/tests/tools/check_mail.py"
DB="$tmp/intake.db"

start_smtp "$tmp/smtp"
# Learn a free port for the webhook, then take the server down.
start_http "$tmp/hook" unused
HOOK_PORT=$HTTP_PORT
stop "$HTTP_PID"

write_conf() {	# FILE ACK_ENABLED
	cat >"$1" <<CONF
database = "$DB";
timezone = "America/New_York";
alerts = { webhook = "http://127.0.0.1:$HOOK_PORT/hook"; to = ["oncall@example.org"]; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
ack = { enabled = $2; from = "Hotline <hotline@example.org>"; };
CONF
}
write_conf "$tmp/on.conf" true
write_conf "$tmp/off.conf" false

ingest() {	# CONF FROM SUBJECT MSGID BODY [EXTRA-HEADER]
	printf 'From: %s\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.net>\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' \
	    "$2" "$3" "$4" "${6:+$6\r\n}" "$5" | "$INTAKE" ingest -c "$1" >/dev/null ||
	    fail "ingest $4"
}
once() { "$INTAKED" --once -c "$tmp/on.conf" 2>>"$tmp/intaked.log" || fail "intaked --once exit $? (no sources: want 0): $(tail -n 5 "$tmp/intaked.log")"; }
count() { sql "$DB" "$1"; }

ingest "$tmp/on.conf" 'Ana <ana@example.net>' 'help' m1 \
    'My boss took my passport and I cannot leave the house.'
[ "$(count "select urgency from tickets where id=1")" = urgent ] || fail "not urgent"
[ "$(count "select count(*) from outbox where kind='alert'")" = 2 ] || fail "2 alert rows"
[ "$(count "select count(*) from outbox where kind='ack'")" = 1 ] || fail "1 ack row"
WID=$(count "select id from outbox where kind='alert' and channel='webhook'")

# Webhook down: e-mail alert and ack go out, the webhook row stays.
once
[ "$(count "select count(*) from outbox where delivered_at is null")" = 1 ] ||
    fail "pending rows: $(count 'select id,kind,channel,last_error from outbox')"
[ "$(count "select attempts from outbox where id=$WID")" = 1 ] || fail "attempts"
[ -n "$(count "select last_error from outbox where id=$WID")" ] || fail "no last_error"
now=$(date +%s)
nx=$(count "select next_attempt_at from outbox where id=$WID")
[ "$nx" -ge $((now + 20)) ] && [ "$nx" -le $((now + 40)) ] || fail "backoff: next $nx now $now"
for f in "$tmp"/smtp/mail-*.env; do
	grep -q oncall "$f" && A=${f%.env}.eml
	grep -q ana@ "$f" && K=${f%.env}.eml
done
[ -n "${A:-}" ] && [ -n "${K:-}" ] || fail "alert or ack mail missing: $(ls "$tmp/smtp")"
TAG1=$("$PY" "$top/tests/tools/tag.py" "$tmp/tag.key" 1)
$CHECK "$A" rcpt=oncall@example.org "subject=$TAG1 URGENT crisis ticket" \
    header=Auto-Submitted:auto-generated "text_has=Ticket:        #1 $TAG1" \
    "text_has=Acknowledge: intake ack 1 --by NAME" "text_lacks=intake show N" \
    body_lacks=passport || fail "alert mail"
# The contact's reply threads by this keyed tag (tag.h).
$CHECK "$K" rcpt=ana@example.net "subject=$TAG1 We received your message" \
    header=Auto-Submitted:auto-replied "header=In-Reply-To:<m1@example.net>" \
    "header=From:Hotline <hotline@example.org>" body_lacks=passport || fail "ack mail"
[ "$(count "select count(*) from events where ticket_id=1 and kind='alert'")" = 1 ] ||
    fail "alert event"

# Not due yet: another pass does not touch it.
once
[ "$(count "select attempts from outbox where id=$WID")" = 1 ] || fail "retried before its time"

# An hour later (simulated), the server is back: delivered, exactly once.
start_http "$tmp/hook" unused "$HOOK_PORT"
sql "$DB" "update outbox set next_attempt_at = 0 where delivered_at is null"
once
[ "$(count "select delivered_at is not null from outbox where id=$WID")" = 1 ] ||
    fail "webhook not delivered: $(count "select last_error from outbox where id=$WID")"
once
sql "$DB" "update outbox set next_attempt_at = 0"
once
[ "$(wc -l <"$tmp/hook/posts.jsonl")" = 1 ] || fail "webhook got $(wc -l <"$tmp/hook/posts.jsonl") posts"
"$PY" - "$tmp/hook/posts.jsonl" "$WID" <<'PY' || fail "webhook post"
import json, sys
p = json.loads(open(sys.argv[1]).readline())
assert p["key"] == "intake-outbox-" + sys.argv[2], p["key"]
assert p["type"] == "application/json", p["type"]
b = p["body"]
assert b["kind"] == "alert" and b["ticket"] == 1 and b["type"] == "crisis", b
assert b["urgency"] == "urgent" and b["reason"] == "new", b
assert "excerpt" not in b and "passport" not in json.dumps(b), b
for k in ("received", "response_due", "breach_at", "minor", "danger"):
    assert k in b, k
PY
nmail=$(ls "$tmp"/smtp/mail-*.eml | wc -l)
[ "$nmail" = 2 ] || fail "$nmail mails, want 2 (alert + ack)"

# A health alert by e-mail (queued as the daemon does).
sql "$DB" "insert into outbox (kind, channel, payload, created_at, next_attempt_at)
    values ('health', 'email', '{\"kind\":\"health\",\"source\":\"hotline\",\"problem\":\"authentication failed\",\"detail\":\"LOGIN refused\",\"at\":\"2026-11-28T09:00:00-05:00\"}', 0, 0)"
once
H=$(grep -l oncall "$tmp"/smtp/mail-*.env | sed 's/env$/eml/' | while read -r f; do
	grep -q 'HEALTH' "$f" && echo "$f"; done)
[ -n "$H" ] || fail "no health mail"
$CHECK "$H" "subject=[intake] HEALTH source hotline: authentication failed" \
    "text_has=Detail: LOGIN refused" || fail "health mail"

# Acknowledgements: once per sender per day; never to lists or no-reply.
ingest "$tmp/on.conf" 'Ana <ANA@example.net>' 'another thing' m2 'A second question.'
ingest "$tmp/on.conf" 'List <news@example.com>' 'newsletter' m3 'Our news.' 'List-Id: <news.example.com>'
ingest "$tmp/on.conf" 'noreply@example.com' 'notice' m4 'A notice.'
ingest "$tmp/on.conf" 'Bo <bo@example.net>' 'question' m5 'When is the next training?'
[ "$(count "select count(*) from outbox where kind='ack'")" = 2 ] ||
    fail "acks: $(count "select payload from outbox where kind='ack'")"
count "select payload from outbox where kind='ack'" | grep -q '"to":"bo@example.net"' ||
    fail "no ack to bo"
# Off (the default): no row at all.
ingest "$tmp/off.conf" 'Cy <cy@example.net>' 'question' m6 'A question.'
[ "$(count "select count(*) from outbox where kind='ack'")" = 2 ] || fail "ack while disabled"
[ "$(count "select count(*) from acks_sent where sender='cy@example.net'")" = 0 ] ||
    fail "acks_sent row while disabled"

# alerts.include_excerpt = true: the excerpt is in the payload and the mail.
sed 's/^alerts = { /alerts = { include_excerpt = true; /' "$tmp/on.conf" >"$tmp/ex.conf"
ingest "$tmp/ex.conf" 'Eve <eve@example.net>' 'urgent' m7 'He took my passport and locked me in.'
T7=$(count "select ticket_id from messages where message_id='m7@example.net'")
count "select payload from outbox where kind='alert' and ticket_id=$T7 and channel='email'" |
    grep -q '"excerpt":"He took my passport' || fail "no excerpt in the payload"
once
TAG7=$("$PY" "$top/tests/tools/tag.py" "$tmp/tag.key" "$T7")
E=""
[ -z "$E" ] && for f in "$tmp"/smtp/mail-*.eml; do
	"$PY" "$top/tests/tools/check_mail.py" "$f" "subject=$TAG7 URGENT crisis ticket DANGER" \
	    >/dev/null 2>&1 && E=$f
done
[ -n "$E" ] || fail "no alert mail for ticket $T7 $TAG7: $(grep -h "^Subject" "$tmp"/smtp/mail-*.eml)"
$CHECK "$E" "text_has=Excerpt:" "text_has=He took my passport" || fail "excerpt mail"
echo ok
