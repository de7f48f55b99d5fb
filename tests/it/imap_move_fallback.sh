#!/bin/sh
# after = "move:FOLDER" on a server without MOVE (a real Dovecot whose
# imap_capability hides it; UIDPLUS kept): UID COPY + UID STORE \Deleted +
# UID EXPUNGE of exactly the processed UIDs.  Every processed message ends
# up in the folder, once; a message a human flagged \Deleted in webmail
# (not expunged) survives, where a plain EXPUNGE would remove it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
DOVECOT_EXTRA='imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS'
imap_setup
cd "$T" || exit 2
tickets() { q 'select count(*) from tickets'; }
# imap CMD: a Python imaplib session on the plaintext port, the test's own
# view of the mailbox, independent of intaked.
imap() {
	/usr/bin/python3 - "$IMAP_PORT" "$1" <<'PY'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('hotline', 'test-password')
cmd = sys.argv[2]
if cmd == 'caps':
    print(' '.join(sorted(m.capabilities)))
elif cmd == 'delete-first':
    m.select('INBOX')
    print(m.uid('STORE', '1', '+FLAGS', '(\\Deleted)')[0])
elif cmd == 'deleted':
    m.select('INBOX')
    print(m.uid('SEARCH', 'DELETED')[1][0].decode())
m.logout()
PY
}
caps=$(imap caps)
echo "server capabilities (imaplib, before login): $caps"
check "the server does not offer MOVE" sh -c "! echo '$caps' | grep -qw MOVE"
check "the server offers UIDPLUS" sh -c "echo '$caps' | grep -qw UIDPLUS"

gen_mail 5 61
imap_conf "$T/seen.conf"
$INTAKED --once -c "$T/seen.conf" 2>"$T/seen.log"
check "first 5 messages stored and \\Seen" sh -c "[ $(tickets) = 5 ] && [ $(seen_count) = 5 ]"
# In webmail a staff member flags UID 1 \Deleted, without expunging.
imap delete-first >/dev/null
check "UID 1 is flagged \\Deleted on the server" [ "$(imap deleted)" = 1 ]

gen_mail 20 62
imap_conf "$T/move.conf" 'after = "move:Processed"'
$INTAKED -d --once -c "$T/move.conf" 2>"$T/move.log"; RC=$?
check "move without MOVE: exit 0" [ "$RC" -eq 0 ]
check "intaked saw no MOVE, and UIDPLUS" grep -q 'server capabilities: MOVE no, UIDPLUS yes' "$T/move.log"
check "20 more tickets, one per message" sh -c "[ $(tickets) = 25 ] && [ $(q 'select count(distinct message_id) from messages') = 25 ]"
check "the 20 are in Processed" [ "$(msg_count Processed)" = 20 ]
check "INBOX keeps the 5 handled before, not the 20" [ "$(msg_count)" = 5 ]
check "the message a human flagged \\Deleted survives, still flagged" [ "$(imap deleted)" = 1 ]
check "the copies in Processed are not \\Deleted" [ "$(find "$MAILDIR/.Processed/cur" "$MAILDIR/.Processed/new" -type f -name '*:2,*T*' | wc -l)" = 0 ]
gen_mail 3 63
$INTAKED --once -c "$T/move.conf" 2>"$T/move2.log"; RC=$?
check "a second run moves only the 3 new ones" sh -c "[ $RC -eq 0 ] && [ $(msg_count Processed) = 23 ] && [ $(msg_count) = 5 ] && [ $(tickets) = 28 ]"
check "the \\Deleted message still survives" [ "$(imap deleted)" = 1 ]
finish
