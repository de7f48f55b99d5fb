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
. "$(dirname "$0")/../lib.sh"
escalation_env
cat >"$T/oncall.ics" <<'ICS'
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
cat >"$T/c.conf" <<CONF
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
ingest() { INTAKE_NOW=$(at "$1") "$INTAKE" ingest $C >/dev/null 2>>"$T/ingest.log" || die "ingest at $1: $(tail -n 3 "$T/ingest.log")"; }
steps() { sql "$DB" "select count(*) from escalations where ticket_id = 1"; }
msgs() { sql "$DB" "select count(*) from messages"; }
acked() { sql "$DB" "select coalesce(acknowledged_by, '') from tickets where id = 1"; }

printf 'From: Ana <ana@example.net>\r\nSubject: help\r\nMessage-ID: <e1@x>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' >"$T/in.eml"; ingest 02:00 <"$T/in.eml"
once 02:16
[ "$(steps)" = 1 ] || die "no step 1"
M=$(grep -l 'escalation 1 of 1\|escalation 1 of 3' "$T"/smtp/mail-*.eml | tail -n 1)
[ -n "$M" ] || die "no escalation mail"
$CHECK "$M" rcpt=maria@example.org "header=Reply-To:Hotline <hotline@example.org>" \
    "subject_raw_has=[ack 1-1-0-0-" "text_has=reply to this mail with \"ack\"" || die "escalation mail"
SUBJ=$("$PY" -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["Subject"])' "$M")
TOKEN=$(printf '%s\n' "$SUBJ" | sed -n 's/.*\[ack \([^]]*\)\].*/\1/p')
[ -n "$TOKEN" ] || die "no token in '$SUBJ'"
ok "escalation mail with Reply-To and an ack token"

# Forged: the same token from another address: not an ack.
printf 'From: Eve <eve@example.net>\r\nSubject: Re: %s\r\nMessage-ID: <f1@x>\r\n\r\nack\r\n' "$SUBJ" >"$T/in.eml"; ingest 02:20 <"$T/in.eml"
[ "$(acked)" = "" ] || die "forged sender acknowledged"
grep -q 'does not verify for its sender' "$T/ingest.log" || die "forged: not logged"
grep -q 'passport' "$T/ingest.log" && die "content logged"
# Altered token from maria: not an ack.
BAD=$(printf '%s' "$TOKEN" | sed 's/.$/a/;t' | sed 's/a$/b/')
[ "$BAD" != "$TOKEN" ] || BAD="${TOKEN%?}c"
printf 'From: Maria <maria@example.org>\r\nSubject: Re: [ack %s]\r\nMessage-ID: <f2@x>\r\n\r\nack\r\n' "$BAD" >"$T/in.eml"; ingest 02:21 <"$T/in.eml"
[ "$(acked)" = "" ] || die "altered token acknowledged"
ok "a forged sender or an altered token does not acknowledge"

n=$(msgs)
printf 'From: Maria <maria@example.org>\r\nSubject: Re: %s\r\nMessage-ID: <a1@x>\r\nIn-Reply-To: <whatever@x>\r\n\r\nack\r\n\r\n> quoted alert\r\n' "$SUBJ" >"$T/in.eml"; ingest 02:25 <"$T/in.eml"
[ "$(acked)" = "maria via mail" ] || die "valid ack: acknowledged_by '$(acked)'"
[ "$(msgs)" = "$n" ] || die "the ack was stored as a message"
[ "$(sql "$DB" "select count(*) from events where ticket_id = 1 and kind = 'ack' and actor = 'maria via mail'")" = 1 ] ||
    die "no ack event by 'maria via mail'"
ok "a valid ack by mail acknowledges, not stored"
# Escalation stops.
once 03:01
once 03:31
[ "$(steps)" = 1 ] || die "paged after the ack by mail: $(steps) steps"
ok "the escalation stops after the ack"
# Replayed: ignored, not stored, no second ack.
printf 'From: Maria <maria@example.org>\r\nSubject: Re: %s\r\nMessage-ID: <a2@x>\r\n\r\nack bob\r\n' "$SUBJ" >"$T/in.eml"; ingest 03:40 <"$T/in.eml"
[ "$(msgs)" = "$n" ] || die "replay stored"
[ "$(sql "$DB" "select count(*) from events where kind = 'ack'")" = 1 ] || die "replay acknowledged again"
grep -q 'token already used: ignored' "$T/ingest.log" || die "replay not logged"
ok "a replayed token is ignored"

# The first alert: one mail per alerts.to address, each with its token.
printf 'From: Bea <bea@example.net>\r\nSubject: please\r\nMessage-ID: <e2@x>\r\n\r\nMy boss took my passport and I cannot leave the apartment.\r\n' >"$T/in.eml"; ingest 04:00 <"$T/in.eml"
TK=$(sql "$DB" "select ticket_id from messages where message_id = 'e2@x'")
[ "$(sql "$DB" "select urgency from tickets where id = $TK")" = urgent ] || die "ticket $TK is not urgent"
once 04:01
first() { for f in $(grep -l "^Subject: \[intake #$TK-.* URGENT" "$T"/smtp/mail-*.eml); do
    ! grep -q '^Subject: .*escalation' "$f" && $CHECK "$f" "rcpt=$1" >/dev/null && echo "$f"; done | head -n 1; }
F=$(first fallback@example.org); D=$(first duty@example.org)
[ -n "$F" ] && [ -n "$D" ] && [ "$F" != "$D" ] ||
    die "first alert of #$TK: not one mail per alerts.to address ($F, $D)"
for f in "$F" "$D"; do
	$CHECK "$f" "header=Reply-To:Hotline <hotline@example.org>" \
	    "subject_raw_has=[ack $TK-" "subject_raw_has=-a-0-" \
	    "text_has=reply to this mail with \"ack\"" || die "first alert mail"
done
subj() { "$PY" -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["Subject"])' "$1"; }
SF=$(subj "$F"); SD=$(subj "$D")
[ "$SF" != "$SD" ] || die "the two recipients got the same token"
ok "the first alert: one mail and token per alerts.to address"
# Duty's token from fallback's address: not an ack.
acked2() { sql "$DB" "select coalesce(acknowledged_by, '') from tickets where id = $TK"; }
printf 'From: fallback@example.org\r\nSubject: Re: %s\r\nMessage-ID: <b0@x>\r\n\r\nack\r\n' "$SD" >"$T/in.eml"; ingest 04:04 <"$T/in.eml"
[ "$(acked2)" = "" ] || die "another recipient's first-alert token acknowledged"
n=$(msgs)
# "ack LOGIN": the person oncall.people gives that login (the rota's name).
printf 'From: Duty <duty@example.org>\r\nSubject: Re: %s\r\nMessage-ID: <b1@x>\r\n\r\nack mgarcia\r\n' "$SD" >"$T/in.eml"; ingest 04:05 <"$T/in.eml"
[ "$(acked2)" = "maria via mail" ] || die "first alert ack by login: acknowledged_by '$(acked2)'"
[ "$(msgs)" = "$n" ] || die "the first-alert ack was stored as a message"
ok "another recipient's token refused; ack LOGIN acknowledges as the rota's person"
# Answered before its response deadline: never escalated.
once 04:20
once 05:10
[ "$(sql "$DB" "select count(*) from escalations where ticket_id = $TK")" = 0 ] ||
    die "ticket $TK escalated after the ack of its first alert"
ok "a ticket acknowledged from its first alert is never escalated"
finish
