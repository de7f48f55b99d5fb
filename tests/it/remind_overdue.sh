#!/bin/sh
# The reminder report lists every open, not automated ticket with an
# unanswered message whose deadline is passed or within the lead, in every
# slot (issue 14): twelve tickets reminded at 08:30 as "due soon" and
# overdue at 17:00 are all in the 17:00 report, and the subject counts
# them; "due soon" alone is sent once per deadline per day; an
# acknowledged ticket is left out until the contact writes again.
. "$(dirname "$0")/../lib.sh"
need_py
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
CHECK="$PY $TOP/tests/tools/check_mail.py"
DB="$T/intake.db"
start_smtp "$T/smtp"
cat >"$T/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
remind = { at = ["08:30", "17:00", "17:30", "19:00"]; lead_minutes = 120;
    to = ["staff@example.org"]; };
CONF
C="-c $T/c.conf"
export USER=tester
unset SUDO_USER
i=1
while [ $i -le 15 ]; do
	printf 'From: p%d@example.net\r\nSubject: question %d\r\nMessage-ID: <q%d@x>\r\n\r\nCould you send me the training material?\r\n' \
	    $i $i $i | "$INTAKE" ingest $C >/dev/null || die "ingest $i"
	i=$((i + 1))
done
# Twelve due at 09:00 (due soon at 08:30), breach 20:00; 13 and 14 are
# acknowledged; 15 is due at 18:30 (due soon from 16:30).
sql "$DB" "update tickets set response_due = $(epoch 2026-12-01T09:00:00-05:00),
    breach_at = $(epoch 2026-12-01T20:00:00-05:00);
  update tickets set response_due = $(epoch 2026-12-01T18:30:00-05:00) where id = 15;"
"$INTAKE" ack 13 --by maria $C >/dev/null && "$INTAKE" ack 14 --by maria $C >/dev/null || die "ack"
run() { INTAKE_NOW=$1 "$INTAKE" remind $C || die "remind at $1: exit $?"; }
nmail() { ls "$T"/smtp/mail-*.eml 2>/dev/null | wc -l; }

run 2026-12-01T08:35:00-05:00
$CHECK "$T/smtp/mail-1.eml" "subject=[intake] Reminder — 12 tickets need a response" \
    "text_lacks=[intake #13]" "text_lacks=[intake #15]" || die "08:30 report"
# The contact of 14 writes again: unanswered, listed from now on.
printf 'From: p14@example.net\r\nSubject: Re: question 14\r\nMessage-ID: <r14@x>\r\nIn-Reply-To: <q14@x>\r\n\r\nAny news?\r\n' |
    INTAKE_NOW=2026-12-01T12:00:00-05:00 "$INTAKE" ingest $C >/dev/null || die "reply 14"
run 2026-12-01T17:05:00-05:00
[ "$(nmail)" = 2 ] || die "17:00: $(nmail) mails"
i=1
while [ $i -le 12 ]; do
	$CHECK "$T/smtp/mail-2.eml" "text_has=[intake #$i]" || die "17:00 lacks #$i"
	i=$((i + 1))
done
# 14: its new message (12:00, routine) is due in business time, later
# than the lead; 15 is due soon.
$CHECK "$T/smtp/mail-2.eml" "subject=[intake] Reminder — 13 tickets need a response" \
    "text_has=[intake #15]" "text_lacks=[intake #13]" || die "17:00 report"
run 2026-12-01T17:35:00-05:00
$CHECK "$T/smtp/mail-3.eml" "subject=[intake] Reminder — 12 tickets need a response" \
    "text_lacks=[intake #15]" "text_has=[intake #12]" || die "17:30: due soon twice"
run 2026-12-01T19:05:00-05:00
$CHECK "$T/smtp/mail-4.eml" "subject=[intake] Reminder — 13 tickets need a response" \
    "text_has=[intake #15]" || die "19:00: overdue 15 missing"
# 14's deadline from its own message, made overdue: listed, marked.
sql "$DB" "update tickets set response_due = $(epoch 2026-12-01T18:00:00-05:00) where id = 14"
run 2026-12-02T08:35:00-05:00
$CHECK "$T/smtp/mail-5.eml" "text_has=[intake #14]" "text_has=contact wrote again" \
    "text_lacks=[intake #13]" || die "14 wrote again"
ok "remind --overdue"
finish
