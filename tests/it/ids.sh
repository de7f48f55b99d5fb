#!/bin/sh
# Exactly-once identity (issue 12 items 8, 9, 11, 15): ids are never reused
# after `intake purge`; a purged message that arrives again stays purged;
# two deliveries of one message (CRLF and LF, trace fields, two hotline
# addresses) are one ticket with both recipients.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
cat > "$T/intake.conf" <<CONF
database = "intake.db";
busy_timeout_ms = 2000;
alerts = { webhook = "https://oncall.example.org/hooks/intake"; };
CONF
C="-c $T/intake.conf"

msg() {	# msg ID SUBJECT BODY
	printf 'From: Someone <someone@example.net>\r\nTo: help@example.org\r\nSubject: %s\r\nDate: Thu, 26 Nov 2026 10:00:00 -0500\r\nMessage-ID: <%s>\r\n\r\n%s\r\n' \
	    "$2" "$1" "$3"
}
CRISIS="They locked my cousin in the restaurant and took her passport, she needs help now."

# --- item 8: ids after purge ---------------------------------------------
msg c1@example.net "help" "$CRISIS" > "$T/c1.eml"
msg c2@example.net "help again" "$CRISIS" > "$T/c2.eml"
$INTAKE ingest $C < "$T/c1.eml" >/dev/null
$INTAKE ingest $C < "$T/c2.eml" >/dev/null
t2=$(q "select max(id) from tickets"); m2=$(q "select max(id) from messages")
o2=$(q "select max(id) from outbox")
check "two tickets and alerts before the purge" [ "$t2" = 2 ] && [ -n "$o2" ]
$INTAKE close 1 --disposition resolved $C >/dev/null
$INTAKE close 2 --disposition resolved $C >/dev/null
$INTAKE purge --closed-before 2099-01-01 $C >/dev/null; rc=$?
check "purge exits 0" [ "$rc" -eq 0 ]
check "purge removed both tickets and their outbox rows" [ "$(q "select count(*) from tickets")/$(q "select count(*) from outbox")" = "0/0" ]
msg n1@example.net "new person" "$CRISIS" > "$T/n1.eml"
out=$($INTAKE ingest $C < "$T/n1.eml")
check "a new ticket after the purge has a new id (> $t2)" [ "$(q "select min(id) from tickets")" -gt "$t2" ]
check "its message has a new id (> $m2)" [ "$(q "select min(id) from messages")" -gt "$m2" ]
check "its alert has a new outbox id, so a new Idempotency-Key (> $o2)" [ "$(q "select min(id) from outbox")" -gt "$o2" ]

# --- item 9: a purged message that comes again ---------------------------
out=$($INTAKE ingest $C < "$T/c1.eml"); rc=$?
check "a purged message again: exit 0" [ "$rc" -eq 0 ]
check "a purged message again: reported purged, no ticket" sh -c "echo '$out' | grep -q '\"ticket\":null,\"message\":null,\"duplicate\":true,\"purged\":true'"
check "a purged message again: not stored" [ "$(q "select count(*) from tickets")" = 1 ]
# the same message as another delivery (LF, a Received and Delivered-To)
{ printf 'Received: from mx by hotline; Mon, 7 Dec 2026 08:00:00 +0000\n'
  printf 'Delivered-To: help@example.org\n'; tr -d '\r' < "$T/c2.eml"; } > "$T/c2lf.eml"
$INTAKE ingest $C < "$T/c2lf.eml" >/dev/null
check "a purged message delivered another way: not stored" [ "$(q "select count(*) from tickets")" = 1 ]
h=$(printf '%s' '<c1@example.net>' | sha256sum | cut -c1-64)
h2=$(printf '%s' 'c1@example.net' | sha256sum | cut -c1-64)
check "purge kept the Message-ID's hash" [ "$(q "select count(*) from purged where msgid_sha256 in ('$h', '$h2')")" = 1 ]
check "purge kept no Message-ID text" [ "$(q "select count(*) from purged where msgid_sha256 like '%example%'")" = 0 ]

# --- items 11 and 15: one message, two deliveries ------------------------
msg d1@example.net "two addresses" "$CRISIS" > "$T/d1.eml"
{ printf 'From someone@example.net  Mon Dec  7 08:00:00 2026\r\n'
  printf 'Return-Path: <someone@example.net>\r\nDelivered-To: help@example.org\r\n'
  printf 'Received: from mx.example.net by imap; Mon, 7 Dec 2026 08:00:00 +0000\r\n'
  cat "$T/d1.eml"; } > "$T/d1imap.eml"
{ printf 'From someone@example.net  Mon Dec  7 08:00:05 2026\n'
  printf 'Return-Path: <someone@example.net>\nX-Original-To: urgent@example.org\n'
  printf 'Delivered-To: intake@hotline.example.org\n'
  printf 'Received: from mx.example.net by pipe; Mon, 7 Dec 2026 08:00:04 +0000\n'
  tr -d '\r' < "$T/d1.eml"; } > "$T/d1pipe.eml"
o1=$($INTAKE ingest $C < "$T/d1imap.eml")
o2=$($INTAKE ingest $C < "$T/d1pipe.eml")
check "the second delivery is a duplicate" sh -c "echo '$o2' | grep -q '\"duplicate\":true'"
check "one ticket, one message for both deliveries" [ "$(q "select count(*) from messages where message_id like '%d1@example.net%'")" = 1 ]
mid=$(q "select id from messages where message_id like '%d1@example.net%'")
check "both raw copies' hashes kept" [ "$(q "select count(*) from message_copies where message = $mid and sha256 = '$(sha256sum < "$T/d1pipe.eml" | cut -c1-64)'")" = 1 ]
check "both recipients recorded" [ "$(q "select recipient from messages where id = $mid union all select recipient from message_copies where message = $mid" | tr '\n' ' ')" = "help@example.org urgent@example.org " ]
o3=$($INTAKE ingest $C < "$T/d1pipe.eml")
check "the same copy a third time records nothing more" [ "$(q "select count(*) from message_copies where message = $mid")" = 1 ]
# intake show names every address the message reached, escaped.
{ printf 'From someone@example.net  Mon Dec  7 08:00:09 2026\n'
  printf 'Return-Path: <someone@example.net>\nX-Original-To: tips\033[2J<b>@example.org\n'
  printf 'Received: from mx.example.net by pipe; Mon, 7 Dec 2026 08:00:08 +0000\n'
  tr -d '\r' < "$T/d1.eml"; } > "$T/d1evil.eml"
$INTAKE ingest $C < "$T/d1evil.eml" >/dev/null
tid=$(q "select ticket_id from messages where id = $mid")
out=$($INTAKE show $tid $C)
check "show: the delivery address" sh -c "echo \"\$1\" | grep -q '^Delivered: help@example.org (stdin)'" - "$out"
check "show: the copy's address" sh -c "echo \"\$1\" | grep -q '^ *urgent@example.org (copy via stdin)'" - "$out"
check "show: a hostile address without control characters" sh -c "echo \"\$1\" | grep -q '(copy via stdin)' && ! printf '%s' \"\$1\" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'" - "$out"
$INTAKE show $tid --format json $C > "$T/show.json"
check "show json: recipient and copies" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [m for m in d["messages"] if m["id"] == int(sys.argv[2])][0]
assert m["recipient"] == "help@example.org", m["recipient"]
r = [c["recipient"] for c in m["copies"]]
assert r[0] == "urgent@example.org" and len(r) == 2, r
assert all(c["source"] == "stdin" and c["received"] for c in m["copies"]), m["copies"]
assert "\x1b" not in open(sys.argv[1]).read()
' "$T/show.json" "$mid"
# Same Message-ID, a word changed below the trace fields: two messages.
sed 's/passport/papers/' "$T/d1.eml" > "$T/d1x.eml"
$INTAKE ingest $C < "$T/d1x.eml" >/dev/null
check "a changed body with the same Message-ID stays apart" [ "$(q "select count(*) from messages where message_id like '%d1@example.net%'")" = 2 ]
# a trace field below another field is the sender's: not dropped
{ printf 'X-Mailer: x\r\nReceived: forged\r\n'; cat "$T/d1.eml"; } > "$T/d1y.eml"
$INTAKE ingest $C < "$T/d1y.eml" >/dev/null
check "only leading trace fields are dropped" [ "$(q "select count(*) from messages where message_id like '%d1@example.net%'")" = 3 ]

finish
