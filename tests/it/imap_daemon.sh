#!/bin/sh
# The running intaked against a real Dovecot: Dovecot killed and restarted in
# the middle of a fetch (the daemon recovers by itself, nothing lost, nothing
# twice), then IDLE: a message delivered into the Maildir while the daemon
# idles becomes a ticket within a few seconds (poll_interval is 300 s, so
# only IDLE can explain it).
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
pid=
stop_daemon() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_daemon

N=600
gen_mail $N 41
imap_conf "$T/d.conf" 'idle = true' 'poll_interval = 300'
$INTAKED -c "$T/d.conf" 2>"$T/d.log" &
pid=$!
wait_tickets 50 60
check "fetch under way when Dovecot goes away" [ "$(tickets)" -lt $N ]
dovecot_kill
sleep 2
dovecot_start
check "the daemon recovers by itself: $N tickets" wait_tickets $N 90
check "the outage was logged and retried" grep -q 'retry in about' "$T/d.log"
check "nothing twice: one message per Message-ID" [ "$(q 'select count(*) || " " || count(distinct message_id) from messages')" = "$N $N" ]
# The last batch is marked just after its commit: give it a moment.
i=0
while [ "$(seen_count)" != $N ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
check "all $N \\Seen on the server" [ "$(seen_count)" = $N ]
check "daemon still running" kill -0 "$pid"

# IDLE: wait until the daemon is idling again, then deliver.
sleep 1.5
logins=$(grep -c 'Login: user=<hotline>' "$DCLOG")
worst=0
for k in 1 2 3; do
	m=idle-$k-$$
	printf 'From: v%s@example.net\nTo: hotline@example.org\nSubject: idle %s\nMessage-ID: <%s@example.net>\n\nPlease call me back, I am not safe at work.\n' "$k" "$k" "$m" >"$MAILDIR/tmp/$m"
	chown 65534:65534 "$MAILDIR/tmp/$m"
	t0=$(date +%s%N)
	mv "$MAILDIR/tmp/$m" "$MAILDIR/new/$m"
	want=$((N + k))
	wait_tickets $want 10
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "IDLE delivery $k -> ticket in $ms ms"
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 0.5
done
check "IDLE: 3 delivered messages became tickets" [ "$(tickets)" = $((N + 3)) ]
check "IDLE: each within 5 s (worst $worst ms)" [ "$worst" -lt 5000 ]
check "IDLE: no new login, the session was kept" [ "$(grep -c 'Login: user=<hotline>' "$DCLOG")" = "$logins" ]
kill "$pid"; wait "$pid"; RC=$?; pid=
check "SIGTERM: exit 0" [ "$RC" -eq 0 ]
check "SIGTERM: logged out cleanly" sh -c "tail -n 3 '$DCLOG' | grep -q 'Logged out'"
finish
