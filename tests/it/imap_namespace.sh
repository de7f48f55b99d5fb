#!/bin/sh
# after = "move:Processed" on a server with a traditional namespace (as
# Cyrus and Courier: personal prefix "INBOX.", separator "."), here a real
# Dovecot configured so (issue 12 item 13):
#  - the folder is resolved against the personal namespace (NAMESPACE,
#    RFC 2342): the messages end up in INBOX.Processed, none stay in INBOX;
#  - a folder the server refuses (an empty hierarchy level: "Bad..Folder") never stops intake: the
#    tickets are stored, the failure is logged and alerted once, the
#    messages stay unmarked, and later mail is still fetched.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
DOVECOT_EXTRA='namespace inbox {
  inbox = yes
  prefix = INBOX.
  separator = .
}'
imap_setup
cd "$T" || exit 2
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }
# The test's own view, independent of intaked (imaplib on the plain port).
imap() {
	/usr/bin/python3 - "$IMAP_PORT" "$1" <<'PY'
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('hotline', 'test-password')
if sys.argv[2] == 'namespace':
    print(m.namespace()[1][0].decode())
else:
    typ, d = m.select(sys.argv[2], readonly=True)
    print(d[0].decode() if typ == 'OK' else 'NO')
m.logout()
PY
}
ns=$(imap namespace)
check "the server's personal namespace is INBOX. with separator . ($ns)" [ "$ns" = "((\"INBOX.\" \".\")) NIL NIL" ]

gen_mail 3 61
imap_conf "$T/m.conf" 'after = "move:Processed"'
$INTAKED --once -c "$T/m.conf" 2>"$T/m.log"; RC=$?
check "move:Processed: exit 0" [ "$RC" -eq 0 ]
check "move:Processed: 3 tickets" [ "$(tickets)" = 3 ]
check "move:Processed: INBOX.Processed holds the 3" [ "$(imap INBOX.Processed)" = 3 ]
check "move:Processed: INBOX is empty" [ "$(imap INBOX)" = 0 ]
check "move:Processed: no marking error logged" sh -c "! grep -q -e 'moving processed' '$T/m.log'"

gen_mail 2 62
# An alert channel that never answers: the alert stays in the outbox.
CONF_TOP='alerts = { webhook = "http://127.0.0.1:9/alert"; };' \
    imap_conf "$T/bad.conf" 'after = "move:Bad..Folder"'
$INTAKED --once -c "$T/bad.conf" 2>"$T/bad.log"; RC=$?
check "refused folder: the run still succeeds (exit 0)" [ "$RC" -eq 0 ]
check "refused folder: the 2 new messages are tickets (5)" [ "$(tickets)" = 5 ]
check "refused folder: logged at error level" grep -q '^<3>.*moving processed messages.*intake goes on' "$T/bad.log"
check "refused folder: one health alert queued" [ "$(q "select count(*) from outbox where payload like '%marking processed messages failed%'")" = 1 ]
check "refused folder: intake status shows it" sh -c "$INTAKE -c '$T/bad.conf' status 2>&1 | grep -q 'moving processed messages'"
check "refused folder: the 2 stay in INBOX, unmarked" [ "$(imap INBOX)" = 2 ] && [ "$(seen_count)" = 0 ]
gen_mail 1 63
$INTAKED --once -c "$T/bad.conf" 2>"$T/bad2.log"; RC=$?
check "refused folder, next run: exit 0 and the new message fetched (6)" [ "$RC" -eq 0 ] && [ "$(tickets)" = 6 ]
check "refused folder, next run: no second alert" [ "$(q "select count(*) from outbox where payload like '%marking processed messages failed%'")" = 1 ]
check "refused folder, next run: still failing is a warning" grep -q '^<4>.*still failing' "$T/bad2.log"
$INTAKED --once -c "$T/m.conf" 2>"$T/m2.log"; RC=$?
left=$(imap INBOX)
check "folder fixed: the 3 left behind are moved (exit 0, INBOX empty)" [ "$RC" -eq 0 ] && [ "$left" = 0 ]
check "folder fixed: logged" grep -q 'marking works again' "$T/m2.log"
finish
