#!/bin/sh
# The outbox delivered by `intaked --once`: an urgent alert by webhook and
# by e-mail, the webhook down (the row stays, backs off, and is delivered
# exactly once after the server comes back), acknowledgements to senders
# (on: one per sender per day, never to lists or no-reply addresses; off:
# no row at all).
. "$(dirname "$0")/../lib.sh"
need_py
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
CHECK="$PY $TOP/tests/tools/check_mail.py"
DB="$T/intake.db"

start_smtp "$T/smtp"
# Learn a free port for the webhook, then take the server down.
start_http "$T/hook" unused
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
write_conf "$T/on.conf" true
write_conf "$T/off.conf" false

ingest() {	# CONF FROM SUBJECT MSGID BODY [EXTRA-HEADER]
	printf 'From: %s\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.net>\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' \
	    "$2" "$3" "$4" "${6:+$6\r\n}" "$5" | "$INTAKE" ingest -c "$1" >/dev/null ||
	    die "ingest $4"
}
once() { "$INTAKED" --once -c "$T/on.conf" 2>>"$T/intaked.log" || die "intaked --once exit $? (no sources: want 0): $(tail -n 5 "$T/intaked.log")"; }
count() { sql "$DB" "$1"; }

ingest "$T/on.conf" 'Ana <ana@example.net>' 'help' m1 \
    'My boss took my passport and I cannot leave the house.'
[ "$(count "select urgency from tickets where id=1")" = urgent ] || die "not urgent"
[ "$(count "select count(*) from outbox where kind='alert'")" = 2 ] || die "2 alert rows"
[ "$(count "select count(*) from outbox where kind='ack'")" = 1 ] || die "1 ack row"
WID=$(count "select id from outbox where kind='alert' and channel='webhook'")

# Webhook down: e-mail alert and ack go out, the webhook row stays.
once
[ "$(count "select count(*) from outbox where delivered_at is null")" = 1 ] ||
    die "pending rows: $(count 'select id,kind,channel,last_error from outbox')"
[ "$(count "select attempts from outbox where id=$WID")" = 1 ] || die "attempts"
[ -n "$(count "select last_error from outbox where id=$WID")" ] || die "no last_error"
now=$(date +%s)
nx=$(count "select next_attempt_at from outbox where id=$WID")
[ "$nx" -ge $((now + 20)) ] && [ "$nx" -le $((now + 40)) ] || die "backoff: next $nx now $now"
for f in "$T"/smtp/mail-*.env; do
	grep -q oncall "$f" && A=${f%.env}.eml
	grep -q ana@ "$f" && K=${f%.env}.eml
done
[ -n "${A:-}" ] && [ -n "${K:-}" ] || die "alert or ack mail missing: $(ls "$T/smtp")"
TAG1=$("$PY" "$TOP/tests/tools/tag.py" "$T/tag.key" 1)
$CHECK "$A" rcpt=oncall@example.org "subject=$TAG1 URGENT crisis ticket" \
    header=Auto-Submitted:auto-generated "text_has=Ticket:        #1 $TAG1" \
    "text_has=Acknowledge: intake ack 1 --by NAME" "text_lacks=intake show N" \
    body_lacks=passport || die "alert mail"
# The contact's reply threads by this keyed tag (tag.h).
$CHECK "$K" rcpt=ana@example.net "subject=$TAG1 We received your message" \
    header=Auto-Submitted:auto-replied "header=In-Reply-To:<m1@example.net>" \
    "header=From:Hotline <hotline@example.org>" body_lacks=passport || die "ack mail"
[ "$(count "select count(*) from events where ticket_id=1 and kind='alert'")" = 1 ] ||
    die "alert event"

# Not due yet: another pass does not touch it.
once
[ "$(count "select attempts from outbox where id=$WID")" = 1 ] || die "retried before its time"

# An hour later (simulated), the server is back: delivered, exactly once.
start_http "$T/hook" unused "$HOOK_PORT"
sql "$DB" "update outbox set next_attempt_at = 0 where delivered_at is null"
once
[ "$(count "select delivered_at is not null from outbox where id=$WID")" = 1 ] ||
    die "webhook not delivered: $(count "select last_error from outbox where id=$WID")"
once
sql "$DB" "update outbox set next_attempt_at = 0"
once
[ "$(wc -l <"$T/hook/posts.jsonl")" = 1 ] || die "webhook got $(wc -l <"$T/hook/posts.jsonl") posts"
"$PY" - "$T/hook/posts.jsonl" "$WID" <<'PY' || die "webhook post"
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
nmail=$(ls "$T"/smtp/mail-*.eml | wc -l)
[ "$nmail" = 2 ] || die "$nmail mails, want 2 (alert + ack)"

# A health alert by e-mail (queued as the daemon does).
sql "$DB" "insert into outbox (kind, channel, payload, created_at, next_attempt_at)
    values ('health', 'email', '{\"kind\":\"health\",\"source\":\"hotline\",\"problem\":\"authentication failed\",\"detail\":\"LOGIN refused\",\"at\":\"2026-11-28T09:00:00-05:00\"}', 0, 0)"
once
H=$(grep -l oncall "$T"/smtp/mail-*.env | sed 's/env$/eml/' | while read -r f; do
	grep -q 'HEALTH' "$f" && echo "$f"; done)
[ -n "$H" ] || die "no health mail"
$CHECK "$H" "subject=[intake] HEALTH source hotline: authentication failed" \
    "text_has=Detail: LOGIN refused" || die "health mail"

# Acknowledgements: once per sender per day; never to lists or no-reply.
ingest "$T/on.conf" 'Ana <ANA@example.net>' 'another thing' m2 'A second question.'
ingest "$T/on.conf" 'List <news@example.com>' 'newsletter' m3 'Our news.' 'List-Id: <news.example.com>'
ingest "$T/on.conf" 'noreply@example.com' 'notice' m4 'A notice.'
ingest "$T/on.conf" 'Bo <bo@example.net>' 'question' m5 'When is the next training?'
[ "$(count "select count(*) from outbox where kind='ack'")" = 2 ] ||
    die "acks: $(count "select payload from outbox where kind='ack'")"
count "select payload from outbox where kind='ack'" | grep -q '"to":"bo@example.net"' ||
    die "no ack to bo"
# Off (the default): no row at all.
ingest "$T/off.conf" 'Cy <cy@example.net>' 'question' m6 'A question.'
[ "$(count "select count(*) from outbox where kind='ack'")" = 2 ] || die "ack while disabled"
[ "$(count "select count(*) from acks_sent where sender='cy@example.net'")" = 0 ] ||
    die "acks_sent row while disabled"

# alerts.include_excerpt = true: the excerpt is in the payload and the mail.
sed 's/^alerts = { /alerts = { include_excerpt = true; /' "$T/on.conf" >"$T/ex.conf"
ingest "$T/ex.conf" 'Eve <eve@example.net>' 'urgent' m7 'He took my passport and locked me in.'
T7=$(count "select ticket_id from messages where message_id='m7@example.net'")
count "select payload from outbox where kind='alert' and ticket_id=$T7 and channel='email'" |
    grep -q '"excerpt":"He took my passport' || die "no excerpt in the payload"
once
TAG7=$("$PY" "$TOP/tests/tools/tag.py" "$T/tag.key" "$T7")
E=""
[ -z "$E" ] && for f in "$T"/smtp/mail-*.eml; do
	"$PY" "$TOP/tests/tools/check_mail.py" "$f" "subject=$TAG7 URGENT crisis ticket DANGER" \
	    >/dev/null 2>&1 && E=$f
done
[ -n "$E" ] || die "no alert mail for ticket $T7 $TAG7: $(grep -h "^Subject" "$T"/smtp/mail-*.eml)"
$CHECK "$E" "text_has=Excerpt:" "text_has=He took my passport" || die "excerpt mail"
ok "outbox delivery"
finish
