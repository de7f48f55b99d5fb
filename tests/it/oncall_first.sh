#!/bin/sh
# Urgent work pages the on-call person (issue 14): the first alert of an
# urgent ticket (new, reclassified or raised to urgent, a new message on
# it) goes to alerts.to and to everyone the rota has on call at that
# moment (two overlapping shifts: both), by mail (one mail per address, each with its
# own ack token; an address alerts.to has already gets one mail) and by
# their webhook (a row each, with its own key), recorded in a "page"
# event.  The on-call person's "ack" by mail stops the escalation.  In a
# gap, alerts.to only; a routine ticket pages nobody; a night shift across
# the DST change pages until its wall-clock end.  Real SMTP sink,
# loopback webhooks; INTAKE_NOW sets the clock (test hook only).
. "$(dirname "$0")/../lib.sh"
escalation_env
start_http "$T/hook" unused
H="http://127.0.0.1:$HTTP_PORT"
# maria every night 22:00-08:00; bob Saturday 01:00-03:00 (overlapping);
# nobody Saturday 08:00-22:00.
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
BEGIN:VEVENT
UID:bob-sat
SUMMARY:bob
DTSTART;TZID=America/New_York:20261205T010000
DTEND;TZID=America/New_York:20261205T030000
END:VEVENT
END:VCALENDAR
ICS
# bob's address is an alerts.to address (other case, other display name).
cat >"$T/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
alerts = { to = ["fallback@example.org", "Duty <duty@example.org>"]; webhook = "$H/hook"; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
oncall = {
    rota = "oncall.ics";
    reply_to = "Hotline <hotline@example.org>";
    people = ( { name = "maria"; email = "Maria <maria@example.org>"; webhook = "$H/maria"; },
               { name = "bob"; email = "DUTY@example.org"; webhook = "$H/bob"; } );
};
CONF
ingest() { INTAKE_NOW=$(at "$1") "$INTAKE" ingest $C >/dev/null 2>>"$T/ingest.log" ||
    die "ingest at $1: $(tail -n 3 "$T/ingest.log")"; }
steps() { sql "$DB" "select count(*) from escalations where ticket_id = $1"; }
# firsts TICKET: "rcpt|token" of each first-alert mail (not an escalation)
# of the ticket, sorted.
firsts() {
	"$PY" - "$T/smtp" "$1" <<'PY'
import email, glob, json, re, sys
out = []
for f in glob.glob(sys.argv[1] + "/mail-*.eml"):
    m = email.message_from_binary_file(open(f, "rb"))
    s = str(m["Subject"])
    if not re.match(r"\[intake #%s-\S+\] URGENT " % sys.argv[2], s) or "escalation" in s:
        continue
    env = json.load(open(f[:-4] + ".env"))
    t = re.search(r"\[ack ([^]]*)\]", s)
    out.append("%s|%s" % (",".join(env["rcpt"]), t.group(1) if t else "-"))
print("\n".join(sorted(out)))
PY
}
# hooks TICKET: "path-person|key" of each webhook post of the ticket's
# first alerts.
hooks() {
	"$PY" - "$T/hook/posts.jsonl" "$1" <<'PY'
import json, sys
try:
    posts = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    posts = []
out = []
for p in posts:
    b = p["body"]
    if b.get("kind") != "alert" or b.get("ticket") != int(sys.argv[2]) or b.get("reason") == "escalation":
        continue
    out.append("%s|%s|%s" % (b.get("person", "-"), b.get("url", "-").rsplit("/", 1)[-1], p["key"]))
print("\n".join(sorted(out)))
PY
}
tokenof() { printf '%s\n' "$1" | sed -n "s/^$2|//p"; }

# 1. A crisis at 02:00 Saturday: maria and bob are on call.
printf 'From: Ana <ana@example.net>\r\nSubject: help\r\nMessage-ID: <e1@x>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' >"$T/in.eml"; ingest 02:00 <"$T/in.eml"
[ "$(sql "$DB" 'select urgency from tickets where id = 1')" = urgent ] || die "ticket 1 not urgent"
once 02:01
F=$(firsts 1)
[ "$(printf '%s\n' "$F" | cut -d'|' -f1 | tr '\n' ' ')" = "duty@example.org fallback@example.org maria@example.org " ] ||
    die "first alert of #1 not one mail each to alerts.to and maria: $F"
[ "$(printf '%s\n' "$F" | cut -d'|' -f2 | sort -u | grep -c -- '-a-0-')" = 3 ] ||
    die "first alert of #1: not three distinct tokens: $F"
M=$(grep -l 'rcpt.*maria@example.org' "$T"/smtp/mail-*.env | head -n 1)
$CHECK "${M%.env}.eml" rcpt=maria@example.org "header=Reply-To:Hotline <hotline@example.org>" \
    "text_has=Step:          alert" "text_has=reply to this mail with \"ack\"" \
    "body_lacks=passport" || die "maria's first alert mail"
ok "the first alert: one mail and token for each of alerts.to and the person on call, no copy twice"
W=$(hooks 1)
[ "$(printf '%s\n' "$W" | cut -d'|' -f1,2 | tr '\n' ' ')" = "-|- bob|bob maria|maria " ] ||
    die "webhooks of #1: alerts.webhook and one each for maria and bob: $W"
printf '%s\n' "$W" | grep -q '^maria|maria|intake-alert-1-1-new-[0-9]*-maria$' || die "maria's webhook key: $W"
printf '%s\n' "$W" | grep -q '^bob|bob|intake-alert-1-1-new-[0-9]*-bob$' || die "bob's webhook key: $W"
grep -q passport "$T/hook/posts.jsonl" && die "message text in a webhook post"
ok "the on-call people's webhooks: one post each, with its own key"
[ "$(sql "$DB" "select json_extract(detail, '\$.oncall') || ' ' || json_extract(detail, '\$.reason') || ' ' || json_extract(detail, '\$.oncall_gap') from events where ticket_id = 1 and kind = 'page'")" = '["maria","bob"] new 0' ] ||
    die "page event of #1: $(sql "$DB" "select detail from events where ticket_id = 1 and kind = 'page'")"
ok "a page event names the people on call"

# 2. maria's ack from her own first alert: acknowledged, never escalated.
n=$(sql "$DB" 'select count(*) from messages')
printf 'From: Maria <maria@example.org>\r\nSubject: Re: [ack %s]\r\nMessage-ID: <a1@x>\r\n\r\nack\r\n' "$(tokenof "$F" maria@example.org)" >"$T/in.eml"; ingest 02:05 <"$T/in.eml"
[ "$(sql "$DB" "select coalesce(acknowledged_by, '') from tickets where id = 1")" = "maria via mail" ] ||
    die "maria's ack of the first alert: '$(sql "$DB" "select acknowledged_by from tickets where id = 1")'"
[ "$(sql "$DB" 'select count(*) from messages')" = "$n" ] || die "the ack was stored as a message"
once 02:16
once 03:01
once 03:31
[ "$(steps 1)" = 0 ] || die "#1 escalated after maria's ack: $(steps 1) steps"
ok "the on-call person's ack of the first alert stops the escalation"

# 3. A routine ticket pages nobody.
m0=$(ls "$T"/smtp/mail-*.eml | wc -l)
printf 'From: Bo <bo@example.net>\r\nSubject: question\r\nMessage-ID: <r1@x>\r\n\r\nWhen is the next training for our staff?\r\n' >"$T/in.eml"; ingest 02:30 <"$T/in.eml"
R=$(sql "$DB" "select ticket_id from messages where message_id = 'r1@x'")
[ "$(sql "$DB" "select urgency from tickets where id = $R")" != urgent ] || die "ticket $R is urgent"
once 02:31
[ -z "$(firsts "$R")" ] && [ -z "$(hooks "$R")" ] && [ "$(ls "$T"/smtp/mail-*.eml | wc -l)" = "$m0" ] ||
    die "a routine ticket paged: $(firsts "$R") $(hooks "$R")"
[ "$(sql "$DB" "select count(*) from events where ticket_id = $R and kind = 'page'")" = 0 ] || die "routine page event"
ok "a routine ticket pages nobody"

# 4. Reclassified to urgent at 02:40: both on call are paged.
INTAKE_NOW=$(at 02:40) "$INTAKE" reclassify "$R" --type crisis --urgency urgent $C >/dev/null 2>>"$T/ingest.log" ||
    die "reclassify: $(tail -n 3 "$T/ingest.log")"
once 02:41
[ "$(firsts "$R" | cut -d'|' -f1 | tr '\n' ' ')" = "duty@example.org fallback@example.org maria@example.org " ] ||
    die "reclassified #$R: $(firsts "$R")"
[ "$(hooks "$R" | cut -d'|' -f1 | tr '\n' ' ')" = "- bob maria " ] || die "reclassified #$R webhooks: $(hooks "$R")"
ok "reclassified to urgent: the people on call are paged"

# 5. A new message on #1 at 04:00 (bob is off): maria and alerts.to.
printf 'From: Ana <ana@example.net>\r\nSubject: Re: help\r\nMessage-ID: <e3@x>\r\nIn-Reply-To: <e1@x>\r\n\r\nHe is back with a gun.\r\n' >"$T/in.eml"; ingest 04:00 <"$T/in.eml"
once 04:01
[ "$(firsts 1 | grep -c maria@example.org)" = 2 ] || die "new message on #1: maria not paged: $(firsts 1)"
[ "$(firsts 1 | wc -l)" = 6 ] || die "new message on #1: $(firsts 1)"
[ "$(hooks 1 | grep -c '^maria|')" = 2 ] && [ "$(hooks 1 | grep -c '^bob|')" = 1 ] ||
    die "new message on #1 webhooks: $(hooks 1)"
grep -l 'new message on #1' "$T"/smtp/mail-*.eml | xargs grep -l 'maria@example.org' >/dev/null ||
    die "maria's mail does not say 'new message on #1'"
ok "a new message on an urgent ticket pages whoever is on call then"

# 5b. A routine ticket a new message raises to urgent (04:10, 04:20).
printf 'From: Fay <fay@example.net>\r\nSubject: training\r\nMessage-ID: <f1@x>\r\n\r\nWhen is the next training for our staff?\r\n' >"$T/in.eml"; ingest 04:10 <"$T/in.eml"
RF=$(sql "$DB" "select ticket_id from messages where message_id = 'f1@x'")
once 04:11
[ -z "$(firsts "$RF")" ] || die "routine #$RF paged: $(firsts "$RF")"
printf 'From: Fay <fay@example.net>\r\nSubject: Re: training\r\nMessage-ID: <f2@x>\r\nIn-Reply-To: <f1@x>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' >"$T/in.eml"; ingest 04:20 <"$T/in.eml"
[ "$(sql "$DB" "select urgency from tickets where id = $RF")" = urgent ] || die "#$RF not raised to urgent"
once 04:21
[ "$(firsts "$RF" | cut -d'|' -f1 | tr '\n' ' ')" = "duty@example.org fallback@example.org maria@example.org " ] ||
    die "raised #$RF: $(firsts "$RF")"
[ "$(sql "$DB" "select json_extract(detail, '\$.reason') from events where ticket_id = $RF and kind = 'page'")" = raised ] ||
    die "raised #$RF: page event"
ok "a ticket a new message raises to urgent pages the person on call"

# 6. In the gap (13:00): alerts.to and alerts.webhook only, marked.
printf 'From: Cy <cy@example.net>\r\nSubject: urgent\r\nMessage-ID: <g1@x>\r\n\r\nHe has a gun and says he will kill me tonight.\r\n' >"$T/in.eml"; ingest 13:00 <"$T/in.eml"
G=$(sql "$DB" "select ticket_id from messages where message_id = 'g1@x'")
[ "$(sql "$DB" "select urgency from tickets where id = $G")" = urgent ] || die "ticket $G not urgent"
once 13:01
[ "$(firsts "$G" | cut -d'|' -f1 | tr '\n' ' ')" = "duty@example.org fallback@example.org " ] ||
    die "gap: $(firsts "$G")"
[ "$(hooks "$G" | cut -d'|' -f1 | tr '\n' ' ')" = "- " ] || die "gap webhooks: $(hooks "$G")"
[ "$(sql "$DB" "select json_extract(detail, '\$.oncall_gap') from events where ticket_id = $G and kind = 'page'")" = 1 ] ||
    die "gap not in the page event"
ok "a gap in the rota: the first alert pages alerts.to only"

# 7. The night of 13 March 2027 (EST -> EDT): maria's shift ends at 08:00
# EDT (9 hours): on call at 07:30, nobody at 08:30.
dst() {	# ID TIME: an urgent mail received at TIME; prints its ticket
	printf 'From: Dee <dee@example.net>\r\nSubject: now\r\nMessage-ID: <%s>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' "$1" |
	    INTAKE_NOW=$2 "$INTAKE" ingest $C >/dev/null 2>>"$T/ingest.log" || die "ingest $1"
	INTAKE_NOW=$2 "$INTAKED" --once --no-sandbox $C 2>>"$T/intaked.log" || die "intaked at $2"
	sql "$DB" "select ticket_id from messages where message_id = '$1'"
}
D1=$(dst d1@x 2027-03-14T07:30:00-04:00)
D2=$(dst d2@x 2027-03-14T08:30:00-04:00)
[ "$(firsts "$D1" | cut -d'|' -f1 | tr '\n' ' ')" = "duty@example.org fallback@example.org maria@example.org " ] ||
    die "07:30 EDT after the change: maria not paged: $(firsts "$D1")"
[ "$(firsts "$D2" | cut -d'|' -f1 | tr '\n' ' ')" = "duty@example.org fallback@example.org " ] ||
    die "08:30 EDT: the night shift still paged: $(firsts "$D2")"
ok "a night shift across the DST change pages until 08:00 on the wall clock"
finish
