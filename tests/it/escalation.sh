#!/bin/sh
# 24/7 escalation in intaked (issue 14): an urgent ticket nobody answers,
# received at 02:00 on a Saturday, is paged at response_due (on call), at
# breach_at (the escalation list), then every 30 minutes to both, with a
# real SMTP sink and a loopback webhook; the daemon is killed (SIGKILL)
# between steps and restarted: no step lost, none doubled.  An ack stops
# it; a new message restarts its clock; routine tickets are never paged.
# INTAKE_NOW sets the clock (test hook only).
. "$(dirname "$0")/../lib.sh"
escalation_env
start_http "$T/hook" unused
cat >"$T/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
alerts = { to = ["oncall@example.org"]; webhook = "http://127.0.0.1:$HTTP_PORT/hook"; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
escalation = (
    { after = "response_due"; notify = "oncall"; },
    { after = "breach"; notify = ["supervisor@example.org"]; },
    { repeat_minutes = 30; notify = "oncall+escalation"; }
);
CONF
steps() { sql "$DB" "select count(*) from escalations where ticket_id = ${1:-1}"; }
posts() { wc -l < "$T/hook/posts.jsonl" 2>/dev/null || echo 0; }

printf 'From: Ana <ana@example.net>\r\nSubject: help\r\nMessage-ID: <e1@x>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' |
    INTAKE_NOW=$(at 02:00) "$INTAKE" ingest $C >/dev/null || die "ingest"
printf 'From: Bo <bo@example.net>\r\nSubject: question\r\nMessage-ID: <e2@x>\r\n\r\nWhen is the next training for our staff?\r\n' |
    INTAKE_NOW=$(at 02:00) "$INTAKE" ingest $C >/dev/null || die "ingest routine"
[ "$(sql "$DB" 'select urgency from tickets where id = 1')" = urgent ] || die "not urgent"
TAG=$("$PY" "$TOP/tests/tools/tag.py" "$T/tag.key" 1)

once 02:10				# the new-ticket alert only
[ "$(mails)" = 1 ] && [ "$(steps)" = 0 ] || die "02:10: $(mails) mails, $(steps) steps"

# Step 1 at 02:15 (response_due), by the daemon proper; killed after it.
INTAKE_NOW=$(at 02:16) "$INTAKED" --no-sandbox $C 2>>"$T/intaked.log" &
D=$!
track $D
i=0
while [ "$(mails)" -lt 2 ] || [ "$(posts)" -lt 2 ]; do
	i=$((i + 1)); [ $i -gt 300 ] && die "step 1 not sent: $(tail -n 5 "$T/intaked.log")"
	sleep 0.1
done
kill -KILL "$D"; wait "$D" 2>/dev/null
stop "$D"
[ "$(steps)" = 1 ] || die "step 1: $(steps) rows"
M=$(lastmail)
$CHECK "$M" rcpt=oncall@example.org \
    "subject=$TAG URGENT escalation 1 of 3: response_due: #1 crisis ticket not acknowledged" \
    "text_has=Step:          escalation 1 of 3: response_due" \
    "text_has=Acknowledge: intake ack 1 --by NAME" "text_has=Received:      2026-12-05T02:00:00-05:00" \
    "body_lacks=passport" || die "step 1 mail"

# Restarted at the same minute: nothing again.
once 02:17
[ "$(steps)" = 1 ] && [ "$(mails)" = 2 ] || die "restart repeated step 1"

# Step 2 at 03:00 (breach_at): the supervisor.
once 03:01
[ "$(steps)" = 2 ] && [ "$(mails)" = 3 ] || die "03:01: $(steps) steps, $(mails) mails"
$CHECK "$(lastmail)" rcpt=supervisor@example.org \
    "subject=$TAG URGENT escalation 2 of 3: breach: #1 crisis ticket not acknowledged" || die "step 2 mail"
once 03:20
[ "$(steps)" = 2 ] || die "03:20: a step too many"

# Repeats at 03:30 and 04:00, both lists.
once 03:31
$CHECK "$(lastmail)" rcpt=supervisor@example.org,oncall@example.org \
    "subject=$TAG URGENT escalation 3 of 3: repeat 1: #1 crisis ticket not acknowledged" || die "repeat 1"
once 04:01
once 04:02
[ "$(steps)" = 4 ] && [ "$(mails)" = 5 ] || die "04:02: $(steps) steps, $(mails) mails"
$CHECK "$(lastmail)" "subject=$TAG URGENT escalation 3 of 3: repeat 2: #1 crisis ticket not acknowledged" || die "repeat 2"
[ "$(sql "$DB" "select count(*) from events where ticket_id = 1 and kind = 'escalate'")" = 4 ] || die "escalate events"
# The webhook: one post per step, each with its own idempotency key.
"$PY" - "$T/hook/posts.jsonl" <<'PY' || die "webhook posts"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
esc = [p for p in posts if p["body"].get("reason") == "escalation"]
assert len(esc) == 4, posts
assert [p["key"] for p in esc] == ["intake-escalate-1-1-0-0", "intake-escalate-1-1-1-0",
    "intake-escalate-1-1-2-1", "intake-escalate-1-1-2-2"], [p["key"] for p in esc]
assert esc[1]["body"]["notify"] == ["supervisor@example.org"], esc[1]
assert "passport" not in json.dumps(posts)
PY

# Routine ticket 2: long overdue, never paged.
[ "$(steps 2)" = 0 ] || die "routine ticket paged"

# Acknowledged: no more steps.
"$INTAKE" ack 1 --by maria $C >/dev/null || die "ack"
once 05:01
[ "$(steps)" = 4 ] && [ "$(mails)" = 5 ] || die "paged after the ack"
# The contact writes again at 05:10: a new clock, step 1 again for it.
printf 'From: Ana <ana@example.net>\r\nSubject: Re: help\r\nMessage-ID: <e3@x>\r\nIn-Reply-To: <e1@x>\r\n\r\nHe is back.\r\n' |
    INTAKE_NOW=$(at 05:10) "$INTAKE" ingest $C >/dev/null || die "ingest reply"
once 05:20
[ "$(steps)" = 4 ] || die "paged before the new deadline"
once 05:26
[ "$(sql "$DB" "select count(*) from escalations where ticket_id = 1 and message_id = 3")" = 1 ] ||
    die "new message: no step 1"
# The scan reads the partial index, not the table.
sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT id FROM tickets INDEXED BY tickets_escalate WHERE status = 'open' AND urgency = 'urgent' AND automated = 0 AND awaiting_since IS NOT NULL AND response_due <= 1" |
    grep -q 'USING INDEX tickets_escalate' || die "escalation scan does not use its index"
ok "escalation steps"
finish
