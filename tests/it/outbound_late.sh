#!/bin/sh
# Staff replies read before the message they answer (issue 14): the Sent
# folder (an outbound Maildir) is polled before the INBOX, so a reply
# threads to nothing and is kept in unmatched_replies.  When the contact
# message it answers arrives (its Message-ID in the reply's In-Reply-To or
# References), the reply is attached to that ticket as a staff reply: it
# answers the contact messages received up to its own time (first response
# at the reply's time, by the source's staff name, sla_met), its row is
# marked attached (content cleared) and off the unmatched list, and its
# "reply" event says it was kept.  A reply with the keyed tag of a ticket
# that did not exist is never attached to the ticket that gets that number
# later.  The usual order (message, then reply) still works.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
need_py

office_conf 'sources = ( { name = "local"; type = "maildir"; path = "mail"; },
  { name = "sent"; type = "maildir"; path = "sent"; direction = "outbound"; staff = "maria"; } );' \
    'alerts = { to = ["oncall@example.org"]; };' \
    'smtp = { url = "smtp://127.0.0.1:9"; from = "Intake <intake@example.org>"; };'
unset SUDO_USER
export USER=tester
export INTAKE_NO_SANDBOX=1
for d in mail sent; do mkdir -p "$T/$d/new" "$T/$d/cur" "$T/$d/tmp"; done
# put DIR NAME MINUTES-AGO: stdin as a new Maildir message of that age.
put() {
	cat > "$T/$1/tmp/$2"
	touch -d "@$(( $(date +%s) - $3 * 60 ))" "$T/$1/tmp/$2"
	mv "$T/$1/tmp/$2" "$T/$1/new/$2"
}
ago() { echo $(( $(date +%s) - $1 * 60 )); }
once() { $INTAKED --once $C 2>>"$T/log" || fail "intaked --once"; }
unmatched() { q "select count(*) from unmatched_replies where attached_message is null"; }
tk() { q "select ticket_id from messages where message_id = '$1'"; }

# 1. The reply first (written 8 minutes ago, to a message of 12 minutes
# ago that intake has not read yet).
reply_at=$(ago 8)
printf 'From: Hotline <help@example.org>\nTo: ana@example.net\nSubject: Re: help\nMessage-ID: <s1@example.org>\nIn-Reply-To: <c1@example.net>\nReferences: <c0@example.net> <c1@example.net>\n\nAre you safe now? Call 911 if he threatens you.\n' |
    put sent 1764000002.M2P2.host 8
once
check "the reply threads to nothing yet: kept as unmatched" [ "$(unmatched)" = 1 ]
check "no ticket for it" [ "$(q 'select count(*) from tickets')" = 0 ]
printf 'From: Ana <ana@example.net>\nTo: help@example.org\nSubject: help\nMessage-ID: <c1@example.net>\n\nMy boss took my passport and I cannot leave the house.\n' |
    put mail 1764000001.M1P1.host 12
once
T1=$(tk c1@example.net)
check "the contact's message is a ticket" [ -n "$T1" ]
check "the kept reply is attached to it as a staff reply" [ "$(q "select ticket_id || direction from messages where message_id = 's1@example.org'")" = "${T1}out" ]
check "and taken off the unmatched list" [ "$(unmatched)" = 0 ]
check "its row is marked attached to that message, its content cleared" \
    [ "$(q "select u.attached_message = m.id and length(u.raw) = 0 and u.subject is null from unmatched_replies u, messages m where u.message_id = 's1@example.org' and m.message_id = 's1@example.org'")" = 1 ]
check "the contact's message is answered at the reply's time" [ "$(q "select responded_at from messages where message_id = 'c1@example.net'")" = "$reply_at" ]
check "first response: acknowledged by the staff name at the reply's time" \
    [ "$(q "select acknowledged_by || ' ' || acknowledged_at from tickets where id = $T1")" = "maria $reply_at" ]
check "within the SLA" [ "$(q "select sla_met from tickets where id = $T1")" = 1 ]
check "the ticket waits for nobody" [ "$(q "select awaiting_since is null from tickets where id = $T1")" = 1 ]
check "a reply event that names the kept row" [ "$(q "select count(*) from events where ticket_id = $T1 and kind = 'reply' and actor = 'maria' and json_extract(detail, '\$.unmatched') > 0")" = 1 ]
check "an ack event via the reply" [ "$(q "select count(*) from events where ticket_id = $T1 and kind = 'ack' and json_extract(detail, '\$.via') = 'reply'")" = 1 ]
$INTAKE status $C > "$T/status"
check "status lists no unmatched reply" grep -q 'unmatched replies: *0$' "$T/status"
$INTAKE show "$T1" --format json $C > "$T/show.json" || fail "show json"
check "show: the contact's message, then the staff reply" \
    [ "$("$PY" -c 'import json,sys; print(",".join(m["direction"] for m in json.load(open(sys.argv[1]))["messages"]))' "$T/show.json")" = "in,out" ]
out=$($INTAKE followups $C)
check "not in the follow-ups" sh -c "! echo \"\$1\" | grep -q '#$T1 '" - "$out"

# 2. A reply carrying the keyed tag of a ticket that does not exist (a
# database restored from a backup) is not attached to the ticket that gets
# that number later: that is someone else's.
N2=$(( $(q 'select max(id) from tickets') + 1 ))
TAG2=$("$PY" "$TOP/tests/tools/tag.py" "$T/tag.key" "$N2")
printf 'From: Hotline <help@example.org>\nTo: bo@example.net\nSubject: Re: %s question\nMessage-ID: <s2@example.org>\n\nWe will call you back.\n' "$TAG2" |
    put sent 1764000004.M4P4.host 6
once
check "a reply with the tag of no ticket is kept" [ "$(unmatched)" = 1 ]
printf 'From: Bo <bo@example.net>\nTo: help@example.org\nSubject: question\nMessage-ID: <c2@example.net>\n\nWhen is the next training for our staff?\n' |
    put mail 1764000003.M3P3.host 4
once
T2=$(tk c2@example.net)
check "the new ticket has the number the tag names" [ "$T2" = "$N2" ]
check "the tagged reply is not attached to it" [ "$(q "select count(*) from messages where message_id = 's2@example.org'")" = 0 ]
check "it stays kept, offered again or not" [ "$(unmatched)" = 1 ]
check "the new ticket is unanswered" [ "$(q "select acknowledged_at is null and awaiting_since is not null from tickets where id = $T2")" = 1 ]

# 3. An unmatched reply to some other message stays kept.
printf 'From: Hotline <help@example.org>\nTo: cy@example.net\nSubject: Re: hello\nMessage-ID: <s3@example.org>\nIn-Reply-To: <c3@example.net>\n\nThanks for writing.\n' |
    put sent 1764000006.M6P6.host 3
once
printf 'From: Dee <dee@example.net>\nTo: help@example.org\nSubject: hello\nMessage-ID: <c3x@example.net>\n\nWhen is the next training for our staff?\n' |
    put mail 1764000005.M5P5.host 5
once
check "a message that is not the one answered attaches nothing" [ "$(unmatched)" = 2 ]
check "its reply is not stored on a ticket" [ "$(q "select count(*) from messages where message_id = 's3@example.org'")" = 0 ]

# 4. The usual order still works: the message, then the reply.
printf 'From: Eve <eve@example.net>\nTo: help@example.org\nSubject: where\nMessage-ID: <c4@example.net>\n\nMy boss took my passport and I cannot leave the house.\n' |
    put mail 1764000007.M7P7.host 10
once
T4=$(tk c4@example.net)
reply4=$(ago 7)
printf 'From: Hotline <help@example.org>\nTo: eve@example.net\nSubject: Re: where\nMessage-ID: <s4@example.org>\nIn-Reply-To: <c4@example.net>\n\nWe are here.\n' |
    put sent 1764000008.M8P8.host 7
once
check "a reply after its message threads at once" [ "$(q "select ticket_id || direction from messages where message_id = 's4@example.org'")" = "${T4}out" ]
check "and answers it" [ "$(q "select acknowledged_by || ' ' || acknowledged_at from tickets where id = $T4")" = "maria $reply4" ]
check "the other kept replies are still kept" [ "$(unmatched)" = 2 ]

# Exactly once: the attached reply's file put back into new/.
mv "$T/sent/cur/1764000002.M2P2.host":2,* "$T/sent/new/1764000002.M2P2.host"
once
check "the attached reply is not stored again" [ "$(q "select count(*) from messages where message_id = 's1@example.org'")" = 1 ]
check "nor kept again" [ "$(unmatched)" = 2 ]
check "the look-up of kept replies reads the partial index of the waiting ones" sh -c \
    "sqlite3 '$DB' \"EXPLAIN QUERY PLAN SELECT id, in_reply_to, refs FROM unmatched_replies INDEXED BY unmatched_replies_waiting WHERE attached_message IS NULL AND (instr(in_reply_to, 'x') > 0 OR instr(refs, 'x') > 0)\" | grep -q 'COVERING INDEX unmatched_replies_waiting'"
check "no message text in the log" sh -c "! grep -qi -e passport -e 'are you safe' -e thanks '$T/log'"
finish
