#!/bin/sh
# What an alert mail says (issue 14): ticket number and tag, type, urgency,
# the flags MINOR DANGER INTERPRETER (subject too), received time, the
# deadlines, the step, the real command to acknowledge; never the message
# text unless alerts.include_excerpt.  A new message on an urgent ticket
# alerts at once as "new message on #N"; one that triages urgent on a
# routine ticket too; a routine message on a routine ticket does not.
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
alerts = { to = ["oncall@example.org"]; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
CONF
C="-c $T/c.conf"
export USER=tester
unset SUDO_USER
msg() {	# ID SUBJECT BODY [IN-REPLY-TO]
	printf 'From: Ana <ana@example.net>\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s\r\n%s\r\n' \
	    "$2" "$1" "${4:+In-Reply-To: <$4>
}" "$3" | "$INTAKE" ingest $C >/dev/null || die "ingest $1"
}
once() { "$INTAKED" --once $C 2>>"$T/intaked.log" || die "intaked --once: $(tail -n 3 "$T/intaked.log")"; }
mails() { ls "$T"/smtp/mail-*.eml 2>/dev/null | wc -l; }
alerts() { sql "$DB" "select count(*) from outbox where kind = 'alert'"; }

# A routine ticket, flagged by hand, made a crisis: the alert carries it all.
msg r1@x 'question' 'When is the next training for our staff?'
[ "$(alerts)" = 0 ] || die "routine ticket alerted"
sql "$DB" "update tickets set minor = 1, danger = 1, needs_interpreter = 1 where id = 1"
"$INTAKE" reclassify 1 --type crisis $C >/dev/null || die "reclassify"
[ "$(alerts)" = 1 ] || die "reclassify: $(alerts) alerts"
once
TAG1=$("$PY" "$TOP/tests/tools/tag.py" "$T/tag.key" 1)
TAG2=$("$PY" "$TOP/tests/tools/tag.py" "$T/tag.key" 2)
M="$T/smtp/mail-1.eml"
$CHECK "$M" rcpt=oncall@example.org \
    "subject=$TAG1 URGENT crisis ticket MINOR DANGER INTERPRETER" \
    "text_has=Ticket:        #1 $TAG1" "text_has=Type:          crisis" \
    "text_has=Urgency:       urgent" "text_has=Flags:         MINOR DANGER INTERPRETER" \
    "text_has=Step:          alert" "text_has=Received:      20" \
    "text_has=Response due:  20" "text_has=Breach at:     20" \
    "text_has=Acknowledge: intake ack 1 --by NAME" "text_lacks=intake show N'" \
    "body_lacks=training" || die "alert content"

# Acknowledged, then the contact writes again: "new message on #1".
"$INTAKE" ack 1 --by maria $C >/dev/null || die "ack"
msg r2@x 'Re: question' 'Please, anything.' r1@x
[ "$(alerts)" = 2 ] || die "new message on an urgent ticket: $(alerts) alerts"
once
M="$T/smtp/mail-2.eml"
$CHECK "$M" "subject=$TAG1 URGENT new message on #1: crisis ticket MINOR DANGER INTERPRETER" \
    "text_has=Message:       20" "text_has=(2 messages on the ticket)" \
    "body_lacks=anything" || die "new-message alert"

# A routine ticket: a routine reply does not alert; a crisis reply does.
msg q1@x 'stats' 'What are the statistics on trafficking in Ohio?'
msg q2@x 'Re: stats' 'Thanks, and where do I find the report?' q1@x
[ "$(alerts)" = 2 ] || die "routine reply alerted"
msg q3@x 'Re: stats' 'My boss took my passport and I cannot leave the house.' q2@x
[ "$(alerts)" = 3 ] || die "a reply that triages urgent: $(alerts) alerts"
[ "$(sql "$DB" "select json_extract(payload, '\$.reason') from outbox order by id desc limit 1")" = raised ] || die "reason"
once
$CHECK "$T/smtp/mail-3.eml" "subject=$TAG2 URGENT new message on #2: crisis ticket" \
    "body_lacks=passport" || die "raised alert"

# include_excerpt: the new message's text, not the first one's.
sed 's/^alerts = { /alerts = { include_excerpt = true; /' "$T/c.conf" > "$T/x.conf"
msg q4@x 'Re: stats' 'He is back with a gun.' q3@x
printf 'From: Ana <ana@example.net>\r\nSubject: Re: stats\r\nMessage-ID: <q5@x>\r\nIn-Reply-To: <q4@x>\r\n\r\nHe is at the door now.\r\n' |
    "$INTAKE" ingest -c "$T/x.conf" >/dev/null || die "ingest q5"
sql "$DB" "select payload from outbox order by id desc limit 1" | grep -q '"excerpt":"He is' ||
    die "excerpt is not of an unanswered message"
ok "alert contents"
finish
