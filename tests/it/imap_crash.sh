#!/bin/sh
# Crash safety against a real Dovecot: kill -9 the running intaked at 20
# random moments of a 2,000-message ingest, restarting it each time; then
# exactly 2,000 tickets, one per Message-ID, and every message \Seen on the
# server (a kill between commit and marking is repaired on restart).
# IMAP_CRASH_N changes the count; sanitizer runs use 1,000 (the last kills
# are short runs once 85% is stored, so N >= 1,000 keeps every kill early).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
imap_setup
cd "$T" || exit 2
N=${IMAP_CRASH_N:-2000}
[ -n "${INTAKE_SANITIZER:-}" ] && N=${IMAP_CRASH_N:-1000}
KILLS=20
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }

gen_mail "$N" 31
imap_conf "$T/crash.conf"
pid=
stop_daemon() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_daemon

# Kill moments, seeded so a failure reproduces: each run waits until a
# random amount of new work is committed (0-4% of N; a run that commits
# nothing is killed after at most 8 s), then a random 0-0.2 s more, so the
# kills fall before the first commit, inside batches, between commit and
# marking, on fast and slow machines alike.  Near the end only short runs.
rnd=$(awk -v n=$((KILLS * 2)) 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "%.3f\n", rand() }')
mid=0
counts=
last=0
k=0
for r in $rnd; do
	k=$((k + 1))
	if [ $((k % 2)) = 1 ]; then step=$r; continue; fi
	target=$(awk -v l="$last" -v r="$step" -v n="$N" 'BEGIN { printf "%d", l + r * 0.04 * n }')
	[ "$target" -gt $((N * 85 / 100)) ] && target=$last
	$INTAKED -c "$T/crash.conf" 2>>"$T/crash.log" &
	pid=$!
	i=0
	while [ "$(tickets)" -lt "$target" ] && [ $i -lt 80 ]; do sleep 0.1; i=$((i + 1)); done
	sleep "$(awk -v r="$r" -v l="$last" -v n="$N" 'BEGIN { printf "%.3f", (l > n * 0.85 ? 0.03 : 0.2) * r }')"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	pid=
	c=$(tickets)
	echo "kill $((k / 2)): $c tickets"
	[ "$c" -lt "$N" ] && mid=$((mid + 1))
	counts="$counts $c"
	last=$c
done
# Every kill must hit a daemon with work left (before the first commit,
# mid-batch, or between batches); on a loaded machine the first kills may
# all come before the first commit, so also require progress in between.
check "all $KILLS kills landed before the ingest was complete" [ "$mid" -eq $KILLS ]
check "progress was committed between kills" [ "$(echo $counts | tr ' ' '\n' | sort -u | wc -l)" -ge 2 ]
$INTAKED --once -c "$T/crash.conf" 2>>"$T/crash.log"; RC=$?
check "final run: exit 0" [ "$RC" -eq 0 ]
check "exactly $N tickets" [ "$(tickets)" = "$N" ]
check "exactly $N messages, one per Message-ID" [ "$(q 'select count(*) || " " || count(distinct message_id) from messages')" = "$N $N" ]
check "every message \\Seen on the server" [ "$(seen_count)" = "$N" ]
check "cursor complete: last_uid $N, all marked" [ "$(q "select last_uid || ' ' || cursor from source_state")" = "$N marked=$N" ]
grep -q 'stored before an interruption' "$T/crash.log" && echo "(a kill fell between commit and marking at least once)"
finish
