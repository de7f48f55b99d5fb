#!/bin/sh
# intake remind against a loopback SMTP server (aiosmtpd): recipients,
# subject (RFC 2047), both MIME parts, HTML escaping, slots, idempotence,
# a newly breached ticket, the next business day, SMTP down (exit 75,
# nothing recorded), weekends.  INTAKE_NOW pins remind's clock (test hook).
. "$(dirname "$0")/../lib.sh"
need_py
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
CHECK="$PY $TOP/tests/tools/check_mail.py"

start_smtp "$T/smtp1"
start_http "$T/hook" unused
cat >"$T/intake.conf" <<CONF
database = "$T/intake.db";
timezone = "America/New_York";
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
remind = { at = ["08:30", "17:00"]; lead_minutes = 120;
    to = ["staff@example.org", "lead@example.org"];
    webhook = "http://127.0.0.1:$HTTP_PORT/remind"; };
CONF
C="-c $T/intake.conf"

"$INTAKE" remind --help | grep -q 'usage: intake remind' || die "--help"
"$INTAKE" remind --bogus 2>/dev/null
[ $? = 64 ] || die "bad usage: not 64"

ingest() {
	printf 'From: %s\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.net>\r\nDate: Mon, 30 Nov 2026 10:00:00 -0500\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' \
	    "$1" "$2" "$3" "$4" | "$INTAKE" ingest $C >/dev/null || die "ingest $3"
}
ingest '"<b>Ana</b>" <ana@example.net>' '<script>alert(1)</script> ayuda niña' m1 \
    'My boss took my passport <script>evil()</script> and I cannot leave.'
ingest 'bo@example.net' 'question about a training' m2 'When is the next training?'
ingest 'cy@example.net' 'acknowledged one' m3 'Please call me back.'
ingest 'di@example.net' 'closed one' m4 'Please call me back.'
[ "$(sql "$T/intake.db" 'select count(*) from tickets')" = 4 ] || die "4 tickets"

# Deadlines relative to Tuesday 2026-12-01 (EST = UTC-5).
sql "$T/intake.db" "update tickets set status='open', automated=0,
    response_due=$(epoch 2026-12-01T12:00:00Z), breach_at=$(epoch 2026-12-01T13:00:00Z)
    where id in (1,3,4);
  update tickets set status='open', automated=0,
    response_due=$(epoch 2026-12-01T14:30:00Z), breach_at=$(epoch 2026-12-01T21:00:00Z) where id=2;
  update tickets set acknowledged_at=$(epoch 2026-12-01T12:30:00Z), awaiting_since=NULL where id=3;
  update tickets set status='closed', closed_at=1 where id=4;"

run() { INTAKE_NOW=$1 "$INTAKE" remind $C; }
nmail() { ls "$1"/mail-*.eml 2>/dev/null | wc -l; }

# Before the first slot: nothing.
run 2026-12-01T08:10:00-05:00 || die "early run exit $?"
[ "$(nmail "$T/smtp1")" = 0 ] || die "mail before 08:30"

# --dry-run prints and records nothing.
out=$(INTAKE_NOW=2026-12-01T08:40:00-05:00 "$INTAKE" remind --dry-run $C) || die "dry-run exit"
echo "$out" | grep -q '^Breached (1)' || die "dry-run: no breached group: $out"
echo "$out" | grep -q '^  \[intake #1\] crisis' || die "dry-run lacks #1: $out"
echo "$out" | grep -q '^Due today (1)' || die "dry-run: no due-today group: $out"
echo "$out" | grep -q '^  \[intake #2\] ' || die "dry-run lacks #2: $out"
[ "$(nmail "$T/smtp1")" = 0 ] || die "dry-run sent mail"
[ "$(sql "$T/intake.db" 'select count(*) from reminders')" = 0 ] || die "dry-run recorded"

# 08:40: the 08:30 report, tickets 1 and 2 (3 acknowledged, 4 closed).
run 2026-12-01T08:40:00-05:00 || die "run 1 exit $?"
[ "$(nmail "$T/smtp1")" = 1 ] || die "run 1: $(nmail "$T/smtp1") mails"
M="$T/smtp1/mail-1.eml"
$CHECK "$M" rcpt=staff@example.org,lead@example.org \
    "subject=[intake] Reminder — 2 tickets need a response" \
    "subject_raw_has==?UTF-8?B?" header=Auto-Submitted:auto-generated \
    "header=From:Intake <intake@example.org>" multipart=1 \
    "text_has=[intake #1]" "text_has=[intake #2]" \
    "text_lacks=[intake #3]" "text_lacks=[intake #4]" \
    "html_has=[intake #1]" "html_has=[intake #2]" "html_lacks=[intake #3]" \
    "html_has=&lt;script&gt;alert(1)&lt;/script&gt; ayuda niña" \
    "html_has=&lt;b&gt;Ana&lt;/b&gt;" "html_lacks=<script" "html_lacks=<b>" \
    "body_lacks=evil()" || die "mail 1"
# The same report as JSON to remind.webhook: ids and deadlines, no text.
[ "$(wc -l <"$T/hook/posts.jsonl")" = 1 ] || die "webhook posts"
"$PY" - "$T/hook/posts.jsonl" <<'PY' || die "webhook report"
import json, sys
p = json.loads(open(sys.argv[1]).readline())
assert p["key"] == "intake-remind-2026-12-01T08:30", p["key"]
b = p["body"]
assert b["kind"] == "report" and b["slot"] == "2026-12-01 08:30", b
assert [t["ticket"] for t in b["tickets"]] == [1, 2], b
assert [t["state"] for t in b["tickets"]] == ["breached", "due_soon"], b
assert "script" not in json.dumps(b) and "Ana" not in json.dumps(b), b
PY

# Later runs of the same slot send nothing.
run 2026-12-01T08:55:00-05:00 || die "run 2 exit"
run 2026-12-01T16:59:00-05:00 || die "run 3 exit"
[ "$(nmail "$T/smtp1")" = 1 ] || die "same slot sent twice"
[ "$(wc -l <"$T/hook/posts.jsonl")" = 1 ] || die "same slot posted twice"

# 17:05: ticket 2 is now breached (16:00); ticket 1 is still breached:
# an overdue ticket is in every slot until answered (issue 14).
run 2026-12-01T17:05:00-05:00 || die "run 4 exit"
[ "$(nmail "$T/smtp1")" = 2 ] || die "newly breached ticket: no new report"
$CHECK "$T/smtp1/mail-2.eml" "subject=[intake] Reminder — 2 tickets need a response" \
    "text_has=Breached (2)" "text_has=[intake #2]" "text_has=[intake #1]" \
    "html_has=[intake #2]" "html_has=[intake #1]" || die "mail 2"
run 2026-12-01T17:20:00-05:00 || die "run 5 exit"
[ "$(nmail "$T/smtp1")" = 2 ] || die "17:00 slot sent twice"

# Saturday: nothing, whatever the time.
run 2026-12-05T08:40:00-05:00 || die "saturday exit"
[ "$(nmail "$T/smtp1")" = 2 ] || die "report on a saturday"

# Next business day: both breached tickets come back in the first report.
run 2026-12-02T08:35:00-05:00 || die "day 2 exit"
[ "$(nmail "$T/smtp1")" = 3 ] || die "breached tickets not reminded on day 2"
$CHECK "$T/smtp1/mail-3.eml" "text_has=Breached (2)" "text_has=[intake #1]" \
    "text_has=[intake #2]" "text_lacks=[intake #3]" || die "mail 3"

# SMTP down: exit 75 and nothing recorded; back up: the report goes out.
sql "$T/intake.db" "update tickets set breach_at=$(epoch 2026-12-02T21:30:00Z) where id=2"
stop "$SMTP_PID"
run 2026-12-02T17:05:00-05:00 2>"$T/err"
rc=$?
[ $rc = 75 ] || die "smtp down: exit $rc, want 75"
[ "$(sql "$T/intake.db" "select count(*) from remind_runs where slot='2026-12-02 17:00'")" = 0 ] ||
    die "slot recorded although sending failed"
start_smtp "$T/smtp2" "$SMTP_PORT"
run 2026-12-02T17:10:00-05:00 || die "after restart exit $?"
[ "$(nmail "$T/smtp2")" = 1 ] || die "no report after the server came back"
$CHECK "$T/smtp2/mail-1.eml" "text_has=[intake #2]" "text_has=[intake #1]" ||
    die "mail after restart"
ok "remind over SMTP"
finish
