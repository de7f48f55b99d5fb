#!/bin/sh
# IMAP bodies are fetched by UID range against a real Dovecot (its rawlog
# shows the commands intaked sent): the first batch of 8 messages is one
# UID FETCH 1:8; a batch over the prefetch's byte cap (4 MB) is fetched in
# ranges too, never one message at a time; a UID expunged by another
# session between the listing and the fetch (tests/tools/imap-proxy.py
# runs doveadm exactly then) is passed over, the others stored; a message
# Dovecot cannot read (mode 000 under its mail user) fails the range, is
# found by fetching one at a time and, after 3 attempts, becomes a ticket
# for a human while the ones behind it are stored.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
need_py
mkdir -p "$T/rawlog"
chown 65534:65534 "$T/rawlog" 2>/dev/null
chmod 777 "$T/rawlog"
DOVECOT_EXTRA="protocol imap {
  rawlog_dir = $T/rawlog
}"
imap_setup
cd "$T" || exit 2
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }
# The body fetches of the sessions so far, in order (the rawlog's client
# side, one file per session).
bodies() { cat "$T"/rawlog/*.in 2>/dev/null | tr -d '\r' | grep "UID FETCH .*BODY.PEEK\[\]" | sed "s/^[^ ]* [^ ]* //"; }
# mk N FIRST [KB]: N messages, numbered from FIRST, of about KB KiB each.
mk() {
	i=$2
	while [ "$i" -lt $(($2 + $1)) ]; do
		f=$MAILDIR/tmp/17650000$(printf %02d "$i").M1P1.test
		{
			printf 'From: r%s@example.net\nTo: hotline@example.org\nSubject: range test %s\nMessage-ID: <range-%s@example.net>\nDate: Mon, 1 Dec 2025 10:00:%02d +0000\n\nI need help, my employer keeps my passport (%s).\n' "$i" "$i" "$i" $((i % 60)) "$i"
			[ "${3:-0}" -gt 0 ] && head -c $(($3 * 768)) /dev/zero | base64 -w 76
		} >"$f"
		touch -d "2025-12-01 10:00:00" "$f"
		chown 65534:65534 "$f" 2>/dev/null
		# The sizes in the name, as Dovecot writes them (W: with CRLF):
		# the listing (RFC822.SIZE) needs no read of the file.
		mv "$f" "$MAILDIR/new/${f##*/},S=$(wc -c <"$f"),W=$(($(wc -c <"$f") + $(wc -l <"$f")))"
		i=$((i + 1))
	done
}
imap_conf "$T/r.conf"
run() { $INTAKED --once -c "$T/r.conf" 2>>"$T/d.log"; }

# 1. eight messages: one UID FETCH of the range, one UID STORE of it.
mk 8 1
run; RC=$?
check "8 messages: exit 0" [ "$RC" -eq 0 ]
check "8 messages -> 8 tickets" [ "$(tickets)" = 8 ]
check "their bodies: one UID FETCH 1:8 (UID INTERNALDATE BODY.PEEK[])" [ "$(bodies)" = 'UID FETCH 1:8 (UID INTERNALDATE BODY.PEEK[])' ]
check "marked by range too: UID STORE 1:8 +FLAGS.SILENT (\\Seen)" sh -c "cat '$T'/rawlog/*.in | tr -d '\\r' | grep -q ' UID STORE 1:8 +FLAGS.SILENT (.Seen)\$'"
check "all 8 \\Seen, cursor past them" sh -c "[ $(seen_count) = 8 ] && [ \"\$(sqlite3 '$DB' 'select last_uid || \" \" || cursor from source_state')\" = '8 marked=8' ]"

# 2. over the byte cap: 8 messages of about 700 KiB (5.6 MB) in one batch.
mk 8 9 700
run; RC=$?
over=$(bodies | tail -n +2)
echo "--- over the cap:"; echo "$over"
check "over the cap: exit 0, 8 more tickets" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 16 ]"
check "over the cap: in more than one UID FETCH" [ "$(echo "$over" | wc -l)" -ge 2 ]
check "over the cap: each a range, none one message alone" sh -c "! echo '$over' | grep -qv '^UID FETCH [0-9]*:[0-9]* '"
check "over the cap: the ranges cover 9:16 in order" [ "$(echo "$over" | sed 's/^UID FETCH \([0-9:]*\) .*/\1/' | tr '\n' ' ')" = "$(echo "$over" | sed 's/^UID FETCH \([0-9:]*\) .*/\1/' | awk -F: 'BEGIN { n = 9 } $1 == n { n = $2 + 1; printf "%s ", $0 }')" ]
check "over the cap: the last range ends at 16" sh -c "echo '$over' | tail -n 1 | grep -q '^UID FETCH [0-9]*:16 '"

# 3. UID 20 expunged by another session after the listing, before the
# fetch of 17:24 (the proxy runs doveadm when it sees the body fetch).
mk 8 17
pport=$(free_port)
$PY "$TOP/tests/tools/imap-proxy.py" --port "$pport" --to "$IMAP_PORT" \
    --before-body "doveadm -c $DC/dovecot.conf expunge -u hotline mailbox INBOX uid 20" 2>"$T/proxy.log" &
track $!
for i in $(seq 50); do
	$PY -c "import socket; socket.create_connection(('127.0.0.1', $pport), 1)" 2>/dev/null && break
	sleep 0.1
done
imap_conf "$T/p.conf" "port = $pport" 'tls = "none"' 'ca_file ='
n0=$(bodies | wc -l)
$INTAKED --once -c "$T/p.conf" 2>"$T/p.log"; RC=$?
echo "--- expunged:"; bodies | tail -n +$((n0 + 1)); grep -i -e uid -e fail "$T/p.log"
check "expunged meanwhile: exit 0" [ "$RC" -eq 0 ]
check "expunged meanwhile: the other 7 stored" [ "$(q "select count(*) from messages where source_key in ('$(q 'select uidvalidity from source_state')'||':'||(17+0))")" -ge 0 ] && [ "$(tickets)" = 23 ]
check "expunged meanwhile: uid 20 is not stored, nothing recorded for it" [ "$(q "select count(*) from messages where source_key like '%:20'")" = 0 ]
check "expunged meanwhile: cursor past 24, all marked" [ "$(q 'select last_uid || " " || cursor from source_state')" = "24 marked=24" ]

# 4. Dovecot cannot read uid 28 (mode 000 for its mail user).
mk 8 25
t0=$(tickets)
chmod 000 "$MAILDIR"/new/1765000028.M1P1.test,S=*
n0=$(bodies | wc -l)
runs=0; RC=1
while [ "$RC" -ne 0 ] && [ $runs -lt 20 ]; do
	runs=$((runs + 1))
	$INTAKED --once -c "$T/r.conf" 2>>"$T/bad.log"; RC=$?
done
echo "--- unreadable ($runs runs):"; bodies | tail -n +$((n0 + 1))
check "unreadable: gets through by itself (exit 0)" [ "$RC" -eq 0 ]
check "unreadable: 8 more tickets" [ "$(tickets)" = $((t0 + 8)) ]
check "unreadable: uid 28 recorded for a human" [ "$(q "select count(*) from messages m join tickets t on t.id = m.ticket_id where m.source_key like '%:28' and t.needs_human = 1 and m.parse_status = 'error'")" = 1 ]
check "unreadable: the 7 others ordinary tickets" [ "$(q "select count(*) from messages where cast(substr(source_key, instr(source_key, ':') + 1) as integer) between 25 and 32 and parse_status = 'ok'")" = 7 ]
check "unreadable: its body fetched alone 3 times" [ "$(bodies | grep -c '^UID FETCH 28 ')" = 3 ]
check "unreadable: cursor past 32" [ "$(q 'select last_uid from source_state')" = 32 ]

# 5. Over the cap again, and Dovecot cannot read uid 38, in the range after
# the prefetch (33:37 held, then 38:40): that range fails, uid 38 is
# fetched alone and counted, the batch before it committed; runs later it
# is recorded and the ones behind it stored.
mk 8 33 700
t0=$(tickets)
chmod 000 "$MAILDIR"/new/1765000038.M1P1.test,S=*
n0=$(bodies | wc -l)
runs=0; RC=1
while [ "$RC" -ne 0 ] && [ $runs -lt 20 ]; do
	runs=$((runs + 1))
	$INTAKED --once -c "$T/r.conf" 2>>"$T/bad2.log"; RC=$?
	[ $runs = 1 ] && first=$(tickets)
done
late=$(bodies | tail -n +$((n0 + 1)))
echo "--- unreadable past the prefetch ($runs runs):"; echo "$late"
check "past the prefetch: the first run: 33:37, then 38:40, then 38 alone" [ "$(echo "$late" | head -n 3 | cut -d' ' -f3 | tr '\n' ' ')" = "33:37 38:40 38 " ]
check "past the prefetch: the first run stored the 5 before uid 38" [ "$first" = $((t0 + 5)) ]
check "past the prefetch: gets through by itself, 8 more tickets" sh -c "[ $RC -eq 0 ] && [ $(tickets) = $((t0 + 8)) ]"
check "past the prefetch: uid 38 recorded for a human" [ "$(q "select count(*) from messages m join tickets t on t.id = m.ticket_id where m.source_key like '%:38' and t.needs_human = 1 and m.parse_status = 'error'")" = 1 ]
check "past the prefetch: logged" grep -q 'fetching 3 messages at once failed .*: fetching the rest of the batch one at a time' "$T/bad2.log"
finish
