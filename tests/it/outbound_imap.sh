#!/bin/sh
# A Sent-folder staff reply against a real Dovecot (issue 14): an IMAP
# source on the hotline's Sent mailbox with direction = "outbound"; the
# contact's mail came by the pipe (intake ingest).  The reply threads by
# In-Reply-To, is stored once as a staff reply (marked \Seen, not fetched
# again), acknowledges the ticket as the staff name and alerts nobody; a
# reply threading to nothing is kept as unmatched.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
imap_setup
cd "$T" || exit 2
export INTAKE_NO_SANDBOX=1
CONF_TOP='alerts = { to = ["oncall@example.org"]; };
smtp = { url = "smtp://127.0.0.1:9"; from = "Intake <intake@example.org>"; };'
imap_conf "$T/c.conf" 'mailbox = "Sent"' 'direction = "outbound"' 'staff = "maria"'
C="-c $T/c.conf"
SENT=$MAILDIR/.Sent
mkdir -p "$SENT/new" "$SENT/cur" "$SENT/tmp"
chown -R 65534:65534 "$SENT" 2>/dev/null

printf 'From: Ana <ana@example.net>\nTo: hotline@example.org\nSubject: help\nMessage-ID: <c1@example.net>\n\nMy boss took my passport and I cannot leave the house.\n' |
    $INTAKE ingest $C >/dev/null || die "ingest the contact's mail"
check "ticket 1, urgent" [ "$(q "select urgency from tickets where id = 1")" = urgent ]
alerts=$(q "select count(*) from outbox where kind = 'alert'")

sent() {	# sent NAME: stdin into Sent, as the mail client's APPEND leaves it
	cat > "$SENT/tmp/$1"
	mv "$SENT/tmp/$1" "$SENT/cur/$1:2,S"
	chown 65534:65534 "$SENT/cur/$1:2,S" 2>/dev/null
}
printf 'From: Hotline <hotline@example.org>\nTo: ana@example.net\nSubject: Re: help\nMessage-ID: <s1@example.org>\nIn-Reply-To: <c1@example.net>\n\nAre you safe? If he threatens you, call 911.\n' | sent 1764600001.M1P1.client
printf 'From: Hotline <hotline@example.org>\nTo: bob@example.net\nSubject: Re: hello\nMessage-ID: <s9@example.org>\nIn-Reply-To: <unknown@example.net>\n\nThanks for writing.\n' | sent 1764600002.M2P2.client

$INTAKED --once $C 2>"$T/log1"; rc=$?
check "intaked --once on Sent exits 0" [ "$rc" -eq 0 ]
check "the reply is on ticket 1 as a staff reply" [ "$(q "select ticket_id || direction from messages where message_id = 's1@example.org'")" = 1out ]
check "no new ticket" [ "$(q 'select count(*) from tickets')" = 1 ]
check "acknowledged by maria" [ "$(q 'select acknowledged_by from tickets where id = 1')" = maria ]
check "the ticket waits for nobody" [ "$(q 'select awaiting_since is null from tickets where id = 1')" = 1 ]
check "no alert for the reply" [ "$(q "select count(*) from outbox where kind = 'alert'")" = "$alerts" ]
check "the unmatched reply is kept" [ "$(q "select count(*) from unmatched_replies where message_id = 's9@example.org'")" = 1 ]
$INTAKE status $C > "$T/status" 2>&1
check "status lists it" grep -q 'unmatched #1 .* to bob@example.net: Re: hello' "$T/status"
$INTAKED --once $C 2>"$T/log2"
check "a second poll stores nothing again" [ "$(q "select (select count(*) from messages) || ' ' || (select count(*) from unmatched_replies)")" = "2 1" ]
check "no message text in the log" sh -c "! grep -qi -e passport -e 'are you safe' -e thanks '$T/log1' '$T/log2'"
# The message the kept reply answers arrives now, received an hour ago
# (IMAP offers the reply no more): the reply is attached to its ticket,
# answers it and leaves the unmatched list.
printf 'From: Bob <bob@example.net>\nTo: hotline@example.org\nSubject: hello\nMessage-ID: <unknown@example.net>\n\nWhen is the next training for our staff?\n' |
    INTAKE_NOW=$(date -d "-1 hour" +%Y-%m-%dT%H:%M:%S%:z) $INTAKE ingest $C >/dev/null 2>"$T/log3" || fail "ingest the answered message"
check "the kept reply is attached to the new ticket" [ "$(q "select ticket_id || direction from messages where message_id = 's9@example.org'")" = 2out ]
check "and is unmatched no more" [ "$(q 'select count(*) from unmatched_replies where attached_message is null')" = 0 ]
check "it answers the message" [ "$(q "select acknowledged_by from tickets where id = 2")" = maria ]
finish
