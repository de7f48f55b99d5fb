#!/bin/sh
# The on-call rota (issue 14): `intake oncall --at ... --next 3` in text
# and JSON; an escalation at 02:16 on a Saturday pages the person the rota
# has on the night shift (a real SMTP sink), not alerts.to; in a gap the
# step pages alerts.to and a health alert "nobody on call from ... to ..."
# is sent ahead of time, once per day; a malformed rota is refused by
# intaked --check-config and intake oncall with FILE:LINE.
# INTAKE_NOW sets the clock (test hook only).
. "$(dirname "$0")/../lib.sh"
escalation_env
# Nights Fri/Sat 22:00-08:00 maria (weekly), Saturday 08:00-12:00 bob by
# ATTENDEE; nobody Saturday 12:00-22:00: a gap.
cat >"$T/oncall.ics" <<'ICS'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//intake test//EN
BEGIN:VEVENT
UID:nights
SUMMARY:maria
DTSTART;TZID=America/New_York:20261204T220000
DTEND;TZID=America/New_York:20261205T080000
RRULE:FREQ=WEEKLY;BYDAY=FR,SA
END:VEVENT
BEGIN:VEVENT
UID:sat-morning
ATTENDEE;CN=Bob:mailto:bob@example.org
DTSTART;TZID=America/New_York:20261205T080000
DTEND;TZID=America/New_York:20261205T120000
RRULE:FREQ=WEEKLY
END:VEVENT
END:VCALENDAR
ICS
cat >"$T/c.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
alerts = { to = ["fallback@example.org"]; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
oncall = {
    rota = "oncall.ics";
    people = ( { name = "maria"; email = "Maria <maria@example.org>"; },
               { name = "bob"; email = "bob@example.org"; } );
};
escalation = (
    { after = "response_due"; notify = "oncall"; },
    { after = "breach"; notify = ["supervisor@example.org"]; },
    { repeat_minutes = 30; notify = "oncall+escalation"; }
);
CONF
mailwith() { grep -l -- "$1" "$T"/smtp/mail-*.eml | tail -n 1; }

# 1. intake oncall
out=$("$INTAKE" oncall $C --at "$(at 02:00)" --next 3) || die "intake oncall: $out"
printf '%s\n' "$out" | grep -q '^  2026-12-04T22:00:00-05:00 .. 2026-12-05T08:00:00-05:00  maria (Maria <maria@example.org>)$' ||
    die "now: $out"
[ "$(printf '%s\n' "$out" | sed -n '/^next 3 shifts:/,$p' | sed -n 2p)" = \
    "  2026-12-05T08:00:00-05:00 .. 2026-12-05T12:00:00-05:00  bob (bob@example.org)" ] || die "next: $out"
printf '%s\n' "$out" | grep -q '^  2026-12-05T22:00:00-05:00 .. 2026-12-06T08:00:00-05:00  maria' || die "next 2: $out"
ok "intake oncall: who, and the next shifts"
"$INTAKE" oncall $C --at "$(at 13:00)" --next 3 --format json >"$T/oc.json" || die "oncall json"
"$PY" - "$T/oc.json" <<'PY' || die "oncall json content"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["at"] == "2026-12-05T13:00:00-05:00", o
assert o["zone"] == "America/New_York", o
assert o["oncall"] == [] and o["fallback"] == ["fallback@example.org"], o
assert [(s["name"], s["start"], s["end"]) for s in o["next"]] == [
    ("maria", "2026-12-05T22:00:00-05:00", "2026-12-06T08:00:00-05:00"),
    ("maria", "2026-12-11T22:00:00-05:00", "2026-12-12T08:00:00-05:00"),
    ("bob", "2026-12-12T08:00:00-05:00", "2026-12-12T12:00:00-05:00")], o["next"]
PY
ok "intake oncall --format json"
# DST: the night of 13 Mar 2027 (EST -> EDT) ends at 08:00 EDT (9 hours).
"$INTAKE" oncall $C --at 2027-03-14T07:30:00-04:00 --format json | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
assert [(s["name"], s["start"], s["end"]) for s in o["oncall"]] == [
    ("maria", "2027-03-13T22:00:00-05:00", "2027-03-14T08:00:00-04:00")], o' || die "DST night"
ok "a night across the DST change"

# 2. An urgent ticket at 02:00 Saturday: step 1 (02:15) pages maria only.
printf 'From: Ana <ana@example.net>\r\nSubject: help\r\nMessage-ID: <e1@x>\r\n\r\nMy boss took my passport and I cannot leave the house.\r\n' |
    INTAKE_NOW=$(at 02:00) "$INTAKE" ingest $C >/dev/null || die "ingest"
[ "$(sql "$DB" 'select urgency from tickets where id = 1')" = urgent ] || die "not urgent"
once 02:10
n0=$(mails)
once 02:16
[ "$(mails)" = $((n0 + 1)) ] || die "step 1: $(mails) mails (was $n0)"
$CHECK "$(lastmail)" rcpt=maria@example.org \
    "subject_raw_has=escalation 1 of 3: response_due: #1" "body_lacks=passport" || die "step 1 not to maria"
grep -q 'fallback@example.org' "$(lastmail)" && die "step 1 also paged the fallback"
[ "$(sql "$DB" "select json_extract(detail, '\$.oncall[0]') from events where ticket_id = 1 and kind = 'escalate'")" = maria ] ||
    die "escalate event does not name maria"
ok "step 1 pages the person on call"

# 3. The gap (Saturday 12:00-22:00): announced ahead, once a day.
gapmail=$(grep -l 'nobody on call from 2026-12-05T12:00:00-05:00 to 2026-12-05T22:00:00-05:00' "$T"/smtp/mail-*.eml | head -n 1)
[ -n "$gapmail" ] || die "no gap health alert"
$CHECK "$gapmail" rcpt=fallback@example.org "subject_raw_has=HEALTH source oncall: nobody on call from" || die "gap mail"
[ "$(grep -l 'nobody on call from 2026-12-05T12:00' "$T"/smtp/mail-*.eml | wc -l)" = 1 ] || die "gap alerted twice the same day"
ok "the escalate event names the person"
# A ticket in the gap: step 1 pages alerts.to, marked as a gap.
printf 'From: Cy <cy@example.net>\r\nSubject: urgent\r\nMessage-ID: <e2@x>\r\n\r\nHe has a gun and says he will kill me tonight.\r\n' |
    INTAKE_NOW=$(at 13:00) "$INTAKE" ingest $C >/dev/null || die "ingest 2"
[ "$(sql "$DB" 'select urgency from tickets where id = 2')" = urgent ] || die "ticket 2 not urgent"
"$INTAKE" ack 1 --by maria $C >/dev/null || die "ack 1"
once 13:16
[ -n "$(mailwith 'response_due: #2')" ] || die "gap: no step 1 for #2"
$CHECK "$(mailwith 'response_due: #2')" rcpt=fallback@example.org || die "gap step not to alerts.to"
[ "$(grep -l 'nobody on call from 2026-12-05T12:00' "$T"/smtp/mail-*.eml | wc -l)" = 1 ] || die "gap alerted again inside it"
[ "$(sql "$DB" "select json_extract(detail, '\$.oncall_gap') from events where ticket_id = 2 and kind = 'escalate'")" = 1 ] ||
    die "gap not recorded in the event"
ok "a gap in the rota: announced, the fallback paged"

# 4. A malformed rota: FILE:LINE from --check-config and intake oncall.
cp "$T/oncall.ics" "$T/good.ics"
sed -i 's/^RRULE:FREQ=WEEKLY;BYDAY=FR,SA$/RRULE:FREQ=FORTNIGHTLY/' "$T/oncall.ics"
"$INTAKED" --check-config $C >"$T/cc.out" 2>&1 && die "check-config accepted a bad rota"
[ $? -eq 78 ] || true
grep -q "$T/oncall.ics:9: " "$T/cc.out" || die "check-config: no FILE:LINE: $(cat "$T/cc.out")"
"$INTAKE" oncall $C >"$T/oc.out" 2>&1; rc=$?
[ $rc = 78 ] && grep -q "$T/oncall.ics:9: " "$T/oc.out" || die "intake oncall: $rc $(cat "$T/oc.out")"
printf 'BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:nobody-we-know\nDTSTART:20261205T080000\nDTEND:20261205T090000\nEND:VEVENT\nEND:VCALENDAR\n' >"$T/oncall.ics"
"$INTAKED" --check-config $C >"$T/cc.out" 2>&1 && die "check-config accepted an unknown person"
grep -q "$T/oncall.ics:2: SUMMARY 'nobody-we-know' names nobody in oncall.people" "$T/cc.out" ||
    die "unknown person: $(cat "$T/cc.out")"
# A daemon started with it pages alerts.to and says so.
once 13:20
[ -n "$(mailwith 'HEALTH source oncall: rota refused')" ] || die "no health alert for a refused rota"
ok "an unknown person in the rota is refused"

# 5. SIGHUP with a broken rota: the last good one stays, a health alert.
cp "$T/good.ics" "$T/oncall.ics"
INTAKE_NOW=$(at 13:30) "$INTAKED" --no-sandbox $C 2>>"$T/daemon.log" &
D=$!
track $D
i=0
until grep -q 'started' "$T/daemon.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 300 ] && die "daemon did not start: $(tail -n 3 "$T/daemon.log")"
	sleep 0.1
done
sed -i 's/^RRULE:FREQ=WEEKLY;BYDAY=FR,SA$/RRULE:FREQ=FORTNIGHTLY/' "$T/oncall.ics"
kill -HUP "$D"
i=0
until [ -n "$(mailwith 'keeping the last good rota')" ]; do
	i=$((i + 1)); [ $i -gt 300 ] && die "no health alert on reload: $(tail -n 5 "$T/daemon.log")"
	sleep 0.1
done
grep -q "oncall.rota refused: keeping the last good rota" "$T/daemon.log" || die "reload log"
grep -q "configuration reloaded" "$T/daemon.log" || die "the rest of the configuration was not reloaded"
kill -TERM "$D"; wait "$D" 2>/dev/null
stop "$D"
ok "a bad rota on reload keeps the last good one"
finish
