#!/bin/sh
# IDLE survives server restarts and keeps up with a burst (issue 12 item
# 14), against a real Dovecot.  poll_interval is 3600 s, so only IDLE (or
# the immediate re-poll after a burst) can explain a prompt ticket.
#  - the server goes away twice (once its IMAP process ends the session
#    with "* BYE", once Dovecot is SIGKILLed and started again): neither is
#    an IDLE stall, so
#    IDLE stays on and a message delivered afterwards is a ticket promptly;
#  - 30 messages delivered one after another while the daemon fetches:
#    all 30 are tickets long before poll_interval.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
imap_setup
cd "$T" || exit 2
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }
wait_tickets() {	# wait_tickets N SECONDS: until at least N tickets
	i=0
	while [ "$(tickets)" -lt "$1" ] && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ "$(tickets)" -ge "$1" ]
}
deliver() {	# deliver K: one message into INBOX/new, as Dovecot's LDA would
	m=burst-$1-$$
	printf 'From: r%s@example.net\nTo: hotline@example.org\nSubject: restart %s\nMessage-ID: <%s@example.net>\n\nPlease call me back, they took my papers.\n' "$1" "$1" "$m" >"$MAILDIR/tmp/$m"
	chown 65534:65534 "$MAILDIR/tmp/$m" 2>/dev/null
	mv "$MAILDIR/tmp/$m" "$MAILDIR/new/$m"
}
# Wait until the daemon has a new session and is idling in it: Dovecot
# logs nothing for IDLE, so wait for more "connected" lines in our log
# than $1, then a moment.
connects() { grep -c 'connected to 127.0.0.1' "$T/d.log"; }
wait_connected() {
	i=0
	while [ "$(connects)" -le "$1" ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	sleep 1.5
}
# The server's IMAP session processes (children of the master) get
# SIGTERM: Dovecot's imap process then says "* BYE Server shutting down".
bye_sessions() {
	mp=$(cat "$DC/run/master.pid" 2>/dev/null) || return 0
	for k in $(ps -o pid= --ppid "$mp"); do
		[ "$(ps -o comm= -p "$k")" = imap ] && kill -TERM "$k"
	done
	sleep 0.5
}
pid=
stop_daemon() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_daemon

gen_mail 2 51
imap_conf "$T/d.conf" 'idle = true' 'poll_interval = 3600' 'timeout = 10'
$INTAKED -c "$T/d.conf" 2>"$T/d.log" &
pid=$!
check "start: 2 tickets" wait_tickets 2 60
wait_connected 0

n=$(connects)
bye_sessions		# a restart as the client sees it: BYE, then EOF
wait_connected "$n"
n=$(connects)
dovecot_kill		# a crash: the connection just drops
dovecot_start
wait_connected "$n"
check "two restarts: not counted as IDLE stalls (IDLE still on)" sh -c "! grep -q 'IDLE failures in a row' '$T/d.log'"
check "the BYE was logged as the server closing, not a stall" grep -q 'closed the session during IDLE' "$T/d.log"
deliver 0
check "after two restarts a delivered message is a ticket within 30 s (IDLE)" wait_tickets 3 30

# A burst: each message a moment after the last, so that mail is still
# arriving while the daemon fetches.
sleep 1
k=1
while [ $k -le 30 ]; do deliver $k; k=$((k + 1)); sleep 0.05; done
check "burst: all 30 are tickets within 120 s (poll_interval 3600)" wait_tickets 33 120
check "nothing twice" [ "$(q 'select count(*) || " " || count(distinct message_id) from messages')" = "33 33" ]
check "daemon still running" kill -0 "$pid"
check "no message text in the log" sh -c "! grep -qi -e 'took my papers' -e 'Subject' '$T/d.log'"
finish
