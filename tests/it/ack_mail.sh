#!/bin/sh
# Acknowledging from a phone (issue 14): with oncall.reply_to, each
# escalation mail goes to one recipient with Reply-To the intake address
# and a token "[ack T-M-S-Q-mac]" in its subject (keyed with tag.key).  A
# reply from that recipient whose first word is "ack" acknowledges the
# ticket as "maria via mail", stops the escalation and is not stored; the
# same token from another sender, a token altered, or a token used again
# do not acknowledge.  The first alert of a ticket carries a token too
# (step "a"), one mail per alerts.to address: the person it reaches first
# can answer it, and the escalation never starts.  INTAKE_NOW sets the
# clock (test hook only).
. "${INTAKE_TOP:-.}/tests/tools/it-lib.sh"
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
CHECK="$PY $top/tests/tools/check_mail.py"
DB="$tmp/intake.db"
start_smtp "$tmp/smtp"
cat >"$tmp/oncall.ics" <<'ICS'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//intake test//EN
BEGIN:VEVENT
UID:nights
SUMMARY:maria
DTSTART;TZID=America/New_York:20261204T220000
DTEND;TZID=America/New_York:20261205T080000
RRULE:FREQ=DAILY
END:VEVENT
END:VCALENDAR
ICS
cat >"$tmp/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
alerts = { to = ["fallback@example.org", "Duty <duty@example.org>"]; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
oncall = {
    rota = "oncall.ics";
    reply_to = "Hotline <hotline@example.org>";
    people = ( { name = "maria"; email = "Maria <maria@example.org>"; login = "mgarcia"; } );
};
CONF
C="-c $tmp/c.conf"
export USER=tester
unset SUDO_USER
at() { echo "2026-12-05T$1:00-05:00"; }		# Saturday, EST
once() { INTAKE_NOW=$(at "$1") "$INTAKED" --once --no-sandbox $C 2>>"$tmp/intaked.log" ||
    fail "intaked --once at $1: $(tail -n 3 "$tmp/intaked.log")"; }
ingest() { INTAKE_NOW=$(at "$1") "$INTAKE" ingest $C >/dev/null 2>>"$tmp/ingest.log" || fail "ingest at $1: $(tail -n 3 "$tmp/ingest.log")"; }
steps() { sql "$DB" "select count(*) from escalations where ticket_id = 1"; }
msgs() { sql "$DB" "select count(*) from messages"; }
acked() { sql "$DB" "select coalesce(acknowledged_by, '') from tickets where id = 1"; }
passed=0
ok() { passed=$((passed + 1)); }

printf 'From: Ana <ana@example.net>\r\nSubject: help\r\nMessage-ID: <e1@x>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' >"$tmp/in.eml"; ingest 02:00 <"$tmp/in.eml"
once 02:16
[ "$(steps)" = 1 ] || fail "no step 1"
M=$(grep -l 'escalation 1 of 1\|escalation 1 of 3' "$tmp"/smtp/mail-*.eml | tail -n 1)
[ -n "$M" ] || fail "no escalation mail"
$CHECK "$M" rcpt=maria@example.org "header=Reply-To:Hotline <hotline@example.org>" \
    "subject_raw_has=[ack 1-1-0-0-" "text_has=reply to this mail with \"ack\"" || fail "escalation mail"
SUBJ=$("$PY" -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["Subject"])' "$M")
TOKEN=$(printf '%s\n' "$SUBJ" | sed -n 's/.*\[ack \([^]]*\)\].*/\1/p')
[ -n "$TOKEN" ] || fail "no token in '$SUBJ'"
ok

# Forged: the same token from another address: not an ack.
printf 'From: Eve <eve@example.net>\r\nSubject: Re: %s\r\nMessage-ID: <f1@x>\r\n\r\nack\r\n' "$SUBJ" >"$tmp/in.eml"; ingest 02:20 <"$tmp/in.eml"
[ "$(acked)" = "" ] || fail "forged sender acknowledged"
grep -q 'does not verify for its sender' "$tmp/ingest.log" || fail "forged: not logged"
grep -q 'passport' "$tmp/ingest.log" && fail "content logged"
# Altered token from maria: not an ack.
BAD=$(printf '%s' "$TOKEN" | sed 's/.$/a/;t' | sed 's/a$/b/')
[ "$BAD" != "$TOKEN" ] || BAD="${TOKEN%?}c"
printf 'From: Maria <maria@example.org>\r\nSubject: Re: [ack %s]\r\nMessage-ID: <f2@x>\r\n\r\nack\r\n' "$BAD" >"$tmp/in.eml"; ingest 02:21 <"$tmp/in.eml"
[ "$(acked)" = "" ] || fail "altered token acknowledged"
ok

n=$(msgs)
printf 'From: Maria <maria@example.org>\r\nSubject: Re: %s\r\nMessage-ID: <a1@x>\r\nIn-Reply-To: <whatever@x>\r\n\r\nack\r\n\r\n> quoted alert\r\n' "$SUBJ" >"$tmp/in.eml"; ingest 02:25 <"$tmp/in.eml"
[ "$(acked)" = "maria via mail" ] || fail "valid ack: acknowledged_by '$(acked)'"
[ "$(msgs)" = "$n" ] || fail "the ack was stored as a message"
[ "$(sql "$DB" "select count(*) from events where ticket_id = 1 and kind = 'ack' and actor = 'maria via mail'")" = 1 ] ||
    fail "no ack event by 'maria via mail'"
ok
# Escalation stops.
once 03:01
once 03:31
[ "$(steps)" = 1 ] || fail "paged after the ack by mail: $(steps) steps"
ok
# Replayed: ignored, not stored, no second ack.
printf 'From: Maria <maria@example.org>\r\nSubject: Re: %s\r\nMessage-ID: <a2@x>\r\n\r\nack bob\r\n' "$SUBJ" >"$tmp/in.eml"; ingest 03:40 <"$tmp/in.eml"
[ "$(msgs)" = "$n" ] || fail "replay stored"
[ "$(sql "$DB" "select count(*) from events where kind = 'ack'")" = 1 ] || fail "replay acknowledged again"
grep -q 'token already used: ignored' "$tmp/ingest.log" || fail "replay not logged"
ok

# The first alert: one mail per alerts.to address, each with its token.
printf 'From: Bea <bea@example.net>\r\nSubject: please\r\nMessage-ID: <e2@x>\r\n\r\nMy boss took my passport and I cannot leave the apartment.\r\n' >"$tmp/in.eml"; ingest 04:00 <"$tmp/in.eml"
T=$(sql "$DB" "select ticket_id from messages where message_id = 'e2@x'")
[ "$(sql "$DB" "select urgency from tickets where id = $T")" = urgent ] || fail "ticket $T is not urgent"
once 04:01
first() { for f in $(grep -l "^Subject: \[intake #$T-.* URGENT" "$tmp"/smtp/mail-*.eml); do
    ! grep -q '^Subject: .*escalation' "$f" && $CHECK "$f" "rcpt=$1" >/dev/null && echo "$f"; done | head -n 1; }
F=$(first fallback@example.org); D=$(first duty@example.org)
[ -n "$F" ] && [ -n "$D" ] && [ "$F" != "$D" ] ||
    fail "first alert of #$T: not one mail per alerts.to address ($F, $D)"
for f in "$F" "$D"; do
	$CHECK "$f" "header=Reply-To:Hotline <hotline@example.org>" \
	    "subject_raw_has=[ack $T-" "subject_raw_has=-a-0-" \
	    "text_has=reply to this mail with \"ack\"" || fail "first alert mail"
done
subj() { "$PY" -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["Subject"])' "$1"; }
SF=$(subj "$F"); SD=$(subj "$D")
[ "$SF" != "$SD" ] || fail "the two recipients got the same token"
ok
# Duty's token from fallback's address: not an ack.
acked2() { sql "$DB" "select coalesce(acknowledged_by, '') from tickets where id = $T"; }
printf 'From: fallback@example.org\r\nSubject: Re: %s\r\nMessage-ID: <b0@x>\r\n\r\nack\r\n' "$SD" >"$tmp/in.eml"; ingest 04:04 <"$tmp/in.eml"
[ "$(acked2)" = "" ] || fail "another recipient's first-alert token acknowledged"
n=$(msgs)
# "ack LOGIN": the person oncall.people gives that login (the rota's name).
printf 'From: Duty <duty@example.org>\r\nSubject: Re: %s\r\nMessage-ID: <b1@x>\r\n\r\nack mgarcia\r\n' "$SD" >"$tmp/in.eml"; ingest 04:05 <"$tmp/in.eml"
[ "$(acked2)" = "maria via mail" ] || fail "first alert ack by login: acknowledged_by '$(acked2)'"
[ "$(msgs)" = "$n" ] || fail "the first-alert ack was stored as a message"
ok
# Answered before its response deadline: never escalated.
once 04:20
once 05:10
[ "$(sql "$DB" "select count(*) from escalations where ticket_id = $T")" = 0 ] ||
    fail "ticket $T escalated after the ack of its first alert"
ok
echo "$passed passed, 0 failed"
