#!/bin/sh
# Staff replies become part of the ticket (issue 14): a Maildir source with
# direction = "outbound" (the staff mail client's Sent folder).  A reply
# that threads to a ticket (In-Reply-To) is stored as a staff reply: never
# triaged, never a new ticket, never an alert; it answers the contact
# messages received before it (acknowledged by the source's staff name, at
# the reply's time; one received after it stays unanswered); `intake show`
# lists it in order with the contact's messages, marked, escaped.  One that
# threads to nothing is kept and listed by `intake status` as unmatched.
# Exactly once: a file put back into new/ is not stored again.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"

office_conf 'sources = ( { name = "local"; type = "maildir"; path = "mail"; },
  { name = "sent"; type = "maildir"; path = "sent"; direction = "outbound"; staff = "maria"; } );' \
    'alerts = { to = ["oncall@example.org"]; };' \
    'smtp = { url = "smtp://127.0.0.1:9"; from = "Intake <intake@example.org>"; };'
unset SUDO_USER
export USER=tester
export INTAKE_NO_SANDBOX=1
for d in mail sent; do mkdir -p "$T/$d/new" "$T/$d/cur" "$T/$d/tmp"; done
alerts() { q "select count(*) from outbox where kind = 'alert'"; }
# put DIR NAME MINUTES-AGO: stdin as a new Maildir message of that age.
put() {
	cat > "$T/$1/tmp/$2"
	touch -d "@$(( $(date +%s) - $3 * 60 ))" "$T/$1/tmp/$2"
	mv "$T/$1/tmp/$2" "$T/$1/new/$2"
}
once() { $INTAKED --once $C 2>>"$T/log" || fail "intaked --once"; }

printf 'From: Ana <ana@example.net>\nTo: help@example.org\nSubject: help\nMessage-ID: <c1@example.net>\n\nMy boss took my passport and I cannot leave the house.\n' |
    put mail 1764000001.M1P1.host 12
once
check "the contact's mail is ticket 1" [ "$(q 'select count(*) from tickets')" = 1 ]
check "urgent, unacknowledged" [ "$(q 'select urgency || coalesce(acknowledged_at, 0) from tickets where id = 1')" = urgent0 ]
check "one alert for the new ticket" [ "$(alerts)" = 1 ]

# The staff reply, 8 minutes ago (before the 15 minutes of
# response_due: no escalation); its text would triage as a crisis and
# its subject carries a terminal escape.
reply_at=$(( $(date +%s) - 8 * 60 ))
printf 'From: Hotline <help@example.org>\nTo: ana@example.net\nSubject: Re: help \033[31mred\nMessage-ID: <s1@example.org>\nIn-Reply-To: <c1@example.net>\nReferences: <c1@example.net>\n\nAre you safe now? If he has your passport and threatens you, call 911.\n' |
    put sent 1764000002.M2P2.host 8
once
check "the reply made no new ticket" [ "$(q 'select count(*) from tickets')" = 1 ]
check "stored on ticket 1 as a staff reply" [ "$(q "select ticket_id || direction from messages where message_id = 's1@example.org'")" = 1out ]
check "no alert for the reply" [ "$(alerts)" = 1 ]
check "acknowledged by the staff name" [ "$(q 'select acknowledged_by from tickets where id = 1')" = maria ]
check "at the reply's time" [ "$(q 'select acknowledged_at from tickets where id = 1')" = "$reply_at" ]
check "within the SLA" [ "$(q 'select sla_met from tickets where id = 1')" = 1 ]
check "the contact's message is answered" [ "$(q "select responded_at from messages where message_id = 'c1@example.net'")" = "$reply_at" ]
check "the ticket waits for nobody" [ "$(q 'select awaiting_since is null from tickets where id = 1')" = 1 ]
check "an ack event by maria via the reply" [ "$(q "select count(*) from events where ticket_id = 1 and kind = 'ack' and actor = 'maria' and json_extract(detail, '\$.via') = 'reply'")" = 1 ]
out=$($INTAKE followups $C)
check "not in the follow-ups" sh -c "! echo \"\$1\" | grep -q '#1 '" - "$out"

$INTAKE show 1 $C > "$T/show" || fail "show"
check "show lists both messages" grep -q 'Messages (2)' "$T/show"
check "the contact's first, then the staff reply" sh -c "grep -n -e '--- message' '$T/show' | sed -n 2p | grep -q 'message 2 of 2.*STAFF REPLY'"
check "the contact's message not marked as a reply" sh -c "grep -e '--- message 1 of 2' '$T/show' | grep -vq 'STAFF REPLY'"
check "no raw escape in show" sh -c "! grep -q \"\$(printf '\033')\" '$T/show'"
$INTAKE show 1 --format json $C > "$T/show.json" || fail "show json"
check "json: directions in order" [ "$(python3 -c 'import json,sys; print(",".join(m["direction"] for m in json.load(open(sys.argv[1]))["messages"]))' "$T/show.json")" = "in,out" ]
check "no raw escape in json" sh -c "! grep -q \"\$(printf '\033')\" '$T/show.json'"

# The contact writes again after the reply: unanswered, alerts (urgent).
printf 'From: Ana <ana@example.net>\nTo: help@example.org\nSubject: Re: help\nMessage-ID: <c2@example.net>\nIn-Reply-To: <s1@example.org>\n\nHe is back.\n' |
    put mail 1764000003.M3P3.host 4
once
check "the contact's new message joins ticket 1" [ "$(q "select ticket_id from messages where message_id = 'c2@example.net'")" = 1 ]
check "and is unanswered" [ "$(q "select responded_at is null from messages where message_id = 'c2@example.net'")" = 1 ]
check "the ticket waits again" [ "$(q 'select awaiting_message = (select id from messages where message_id = '"'c2@example.net'"') from tickets where id = 1')" = 1 ]
# A reply written before that message (a slow Sent folder) answers only
# what came before it.
printf 'From: Hotline <help@example.org>\nTo: ana@example.net\nSubject: Re: help\nMessage-ID: <s0@example.org>\nIn-Reply-To: <c1@example.net>\n\nWe are here.\n' |
    put sent 1764000004.M4P4.host 6
once
check "an earlier reply leaves the later message unanswered" [ "$(q "select responded_at is null from messages where message_id = 'c2@example.net'")" = 1 ]
check "the first acknowledgement is kept" [ "$(q 'select acknowledged_at from tickets where id = 1')" = "$reply_at" ]

# A contact message written before the first reply but read after it (its
# mailbox polled late): that reply answered it too; c2 still waits.
printf 'From: Ana <ana@example.net>\nTo: help@example.org\nSubject: Re: help\nMessage-ID: <c3@example.net>\nIn-Reply-To: <c1@example.net>\n\nI am at the bus station.\n' |
    put mail 1764000006.M6P6.host 9
once
check "a late contact message before the reply is answered by it" [ "$(q "select responded_at from messages where message_id = 'c3@example.net'")" = "$reply_at" ]
check "the later message still waits" [ "$(q 'select awaiting_message = (select id from messages where message_id = '"'c2@example.net'"') from tickets where id = 1')" = 1 ]

# Threads to nothing: kept as unmatched, listed by status, no ticket.
printf 'From: Hotline <help@example.org>\nTo: someone@example.net\nSubject: Re: your \033]0;x\007question\nMessage-ID: <s9@example.org>\nIn-Reply-To: <nowhere@example.net>\n\nThanks for writing.\n' |
    put sent 1764000005.M5P5.host 2
once
check "no ticket for the unmatched reply" [ "$(q 'select count(*) from tickets')" = 1 ]
check "not stored as a message" [ "$(q "select count(*) from messages where message_id = 's9@example.org'")" = 0 ]
check "kept as unmatched" [ "$(q "select count(*) from unmatched_replies where message_id = 's9@example.org' and length(raw) > 0")" = 1 ]
$INTAKE status $C > "$T/status"
check "status counts the unmatched reply" grep -q 'unmatched replies: *1$' "$T/status"
check "status lists it, escaped" sh -c "grep -q 'to someone@example.net: Re: your .*question' '$T/status' && ! grep -q \"\$(printf '\033')\" '$T/status'"
$INTAKE status --format json $C > "$T/status.json"
check "status json lists it" [ "$(python3 -c 'import json,sys; s=[x for x in json.load(open(sys.argv[1]))["sources"] if x["name"] == "sent"][0]; print(s["unmatched_replies"]["count"], s["unmatched_replies"]["newest"][0]["to"])' "$T/status.json")" = "1 someone@example.net" ]

# Exactly once: files put back in new/ (a crash after commit).
for f in 1764000002.M2P2.host 1764000005.M5P5.host; do
	mv "$T/sent/cur/$f":2,* "$T/sent/new/$f"
done
once
check "the reply is not stored twice" [ "$(q "select count(*) from messages where message_id = 's1@example.org'")" = 1 ]
check "the unmatched reply is not kept twice" [ "$(q 'select count(*) from unmatched_replies')" = 1 ]
check "alerts: the ticket, then each new contact message (c2, c3)" [ "$(alerts)" = 3 ]
check "no message text in the log" sh -c "! grep -qi -e passport -e 'are you safe' -e thanks '$T/log'"

printf 'database = "x.db";\nsources = ( { name = "s"; type = "maildir"; path = "sent";\n  direction = "sideways"; } );\n' > "$T/bad.conf"
$INTAKED --check-config -c "$T/bad.conf" 2>"$T/e" >/dev/null; rc=$?
check "a bad direction: --check-config exits 78 naming FILE:LINE" sh -c "[ $rc -eq 78 ] && grep -q 'bad.conf:3: .*direction' '$T/e'"
finish
