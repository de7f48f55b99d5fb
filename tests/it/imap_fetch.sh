#!/bin/sh
# IMAP source, volume and bookkeeping against a real Dovecot: 1,000 messages
# -> 1,000 tickets all \Seen; a message already \Seen (read in webmail) is
# still fetched; after = "move:Processed" (300 messages, to keep the suite
# fast); a UIDVALIDITY change rescans
# without duplicates; an oversized message is recorded and left unmarked.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
imap_setup
cd "$T" || exit 2
tickets() { q 'select count(*) from tickets'; }
DCCONF=$DC/dovecot.conf

gen_mail 1000 21
imap_conf "$T/seen.conf"
start=$(date +%s)
$INTAKED --once -c "$T/seen.conf" 2>"$T/seen.log"; RC=$?
echo "1000 messages in $(( $(date +%s) - start )) s"
check "1000 messages: exit 0" [ "$RC" -eq 0 ]
check "1000 messages -> 1000 tickets" [ "$(tickets)" = 1000 ]
check "one message row per Message-ID" [ "$(q 'select count(distinct message_id) from messages')" = 1000 ]
check "all 1000 \\Seen on the server" [ "$(seen_count)" = 1000 ]
check "cursor: last_uid 1000, all marked" [ "$(q "select last_uid || ' ' || cursor from source_state where source = 'hotline'")" = "1000 marked=1000" ]
check "no subjects in the log" sh -c "! grep -qi subject '$T/seen.log'"

# Read in webmail before the daemon saw it: \Seen already set.
f=$MAILDIR/cur/1764500000.M1P1.webmail:2,S
printf 'From: v@example.net\nTo: hotline@example.org\nSubject: read already\nMessage-ID: <webmail-read@example.net>\n\nI need help, my boss keeps my passport.\n' >"$f"
chown 65534:65534 "$f"
$INTAKED --once -c "$T/seen.conf" 2>"$T/seen2.log"
check "a message already \\Seen in webmail is still fetched (UID-based)" [ "$(q "select count(*) from messages where message_id = 'webmail-read@example.net'")" = 1 ]
check "second run adds only that one" [ "$(tickets)" = 1001 ]

# UIDVALIDITY change: every stored UID is void; rescan, no duplicates.
old=$(q "select uidvalidity from source_state")
doveadm -c "$DCCONF" mailbox update -u hotline --uid-validity 4242 INBOX
gen_mail 1 22
$INTAKED --once -c "$T/seen.conf" 2>"$T/uidv.log"; RC=$?
check "UIDVALIDITY change: exit 0" [ "$RC" -eq 0 ]
check "UIDVALIDITY change: logged loudly" grep -q "<3>.*UIDVALIDITY of INBOX changed from $old to 4242" "$T/uidv.log"
check "UIDVALIDITY change: rescanned, only the new message added" [ "$(tickets)" = 1002 ]
check "UIDVALIDITY change: 1001 recognised as already stored" grep -q '1 new, 1001 already stored' "$T/uidv.log"
check "UIDVALIDITY change: cursor has the new uidvalidity" [ "$(q "select uidvalidity from source_state")" = 4242 ]

# after = "move:Processed" (UID MOVE; the folder is created on first use).
gen_mail 300 23
imap_conf "$T/move.conf" 'after = "move:Processed"'
$INTAKED --once -c "$T/move.conf" 2>"$T/move.log"; RC=$?
check "move: exit 0" [ "$RC" -eq 0 ]
check "move: 300 more tickets" [ "$(tickets)" = 1302 ]
check "move: 300 messages in Processed" [ "$(msg_count Processed)" = 300 ]
check "move: INBOX keeps only the 1002 handled before" [ "$(msg_count)" = 1002 ]

# Oversized: recorded as a ticket from its header, never marked.
gen_mail 40 24
big=$(find "$MAILDIR/new" -type f -size +90k | head -n 1)
nbig=$(find "$MAILDIR/new" -type f -size +90k | wc -l)
CONF_TOP='limits = { max_message_bytes = 90000; };' imap_conf "$T/big.conf"
$INTAKED --once -c "$T/big.conf" 2>"$T/big.log"; RC=$?
check "oversize: exit 0" [ "$RC" -eq 0 ]
check "oversize: there was at least one large message" [ "$nbig" -ge 1 ]
check "oversize: all 40 became tickets" [ "$(tickets)" = 1342 ]
check "oversize: recorded with parse_status oversize and real size" [ "$(q "select count(*) from messages where parse_status = 'oversize' and size > 90000")" = "$nbig" ]
check "oversize: left unmarked in new/ or cur/ without S" [ "$(find "$MAILDIR/new" "$MAILDIR/cur" -type f -size +90k ! -name '*:2,*S*' | wc -l)" = "$nbig" ]
check "oversize: logged" grep -q 'over max_message_bytes' "$T/big.log"
$INTAKED --once -c "$T/big.conf" 2>"$T/big2.log"
check "oversize: not fetched again" [ "$(tickets)" = 1342 ]
finish
