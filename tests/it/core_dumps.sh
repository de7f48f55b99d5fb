#!/bin/sh
# intaked writes no core dump (issue 12 item 1): a watchdog SIGABRT or a
# crash must not put message text and passwords on disk.  A running daemon
# has RLIMIT_CORE 0 (/proc/PID/limits) and is not dumpable (the kernel then
# gives its /proc/PID entries to root: checked against the daemon's own uid,
# so as root the daemon runs as nobody through setpriv); its sandboxed
# parser child still parses and has RLIMIT_CORE 0 too; SIGABRT with
# `ulimit -c unlimited` leaves no core file where the kernel would write one.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp" "$T/cwd"
cat > "$T/intake.conf" <<CONF
database = "$T/intake.db";
sources = ( { name = "box"; type = "maildir"; path = "$MD"; poll_interval = 1; } );
CONF
printf 'From: a@example.net\nSubject: help\nMessage-ID: <core1@example.net>\n\nWhere can I find a shelter in Denver tonight?\n' > "$MD/new/1764000001.M1P1.host"

run_as=""
uid=$(id -u)
if [ "$uid" -eq 0 ]; then
	# Root's /proc entries are root's either way: run as nobody.
	command -v setpriv >/dev/null 2>&1 || { echo "skip: running as root without setpriv (util-linux)"; exit 77; }
	uid=65534
	chown -R 65534:65534 "$T"
	chmod 755 "$T"
	run_as="setpriv --reuid=65534 --regid=65534 --clear-groups --"
fi

pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo '|')
# The shell's limit is what a daemon started without LimitCORE= inherits.
(cd "$T/cwd" && ulimit -c unlimited 2>/dev/null; exec $run_as "$INTAKED" -c "$T/intake.conf") 2>"$T/log" &
pid=$!
for i in $(seq 100); do
	[ -f "$DB" ] && [ "$(q "select count(*) from messages where message_id = 'core1@example.net'" 2>/dev/null)" = "1" ] && break
	sleep 0.2
done
check "the daemon (sandboxed parser) stores the message" [ "$(q "select count(*) from messages where message_id = 'core1@example.net'")" = "1" ]
check "the daemon runs" kill -0 "$pid"
check "the daemon runs as uid $uid" sh -c "grep -q '^Uid:[[:space:]]*$uid[[:space:]]' /proc/$pid/status"

check "RLIMIT_CORE is 0 (soft and hard)" sh -c "grep -Eq '^Max core file size +0 +0 ' /proc/$pid/limits"
# Not dumpable: the kernel makes root the owner of the files in /proc/PID
# of a process whose PR_GET_DUMPABLE is 0 (proc(5)).
owner=$(stat -c %u "/proc/$pid/environ")
check "not dumpable (/proc/$pid/environ owned by root, not by $uid)" [ "$owner" = 0 ]

child=$(cat /proc/$pid/task/$pid/children 2>/dev/null | tr ' ' '\n' | while read -r c; do
	[ -n "$c" ] && [ "$(tr -d '\0' < /proc/$c/cmdline 2>/dev/null)" = intake-parser ] && echo "$c"
done | head -n 1)
check "the parser child is running" [ -n "$child" ]
if [ -n "$child" ]; then
	check "the parser child has RLIMIT_CORE 0" sh -c "grep -Eq '^Max core file size +0 +0 ' /proc/$child/limits"
	# (sanitizer runs parse without the filter: INTAKE_SANITIZER)
	[ -n "${INTAKE_SANITIZER:-}" ] ||
		check "the parser child is under seccomp" sh -c "grep -q '^Seccomp:[[:space:]]*2' /proc/$child/status"
fi

# A watchdog abort: no core file.  Only a plain file pattern puts one in
# the working directory; with a pipe (systemd-coredump) the checks above
# are what keeps it out.
kill -ABRT "$pid"
wait "$pid"; rc=$?
check "SIGABRT ends the daemon (exit $rc)" [ "$rc" -eq 134 ]
case "$pattern" in
'|'*|/*) echo "note: core_pattern '$pattern' is not a relative file name; no file check" ;;
*)
	sleep 0.5
	check "no core file written ($pattern in the working directory)" [ -z "$(ls -A "$T/cwd")" ]
	;;
esac
finish
