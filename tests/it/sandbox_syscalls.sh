#!/bin/sh
# tests/it/sandbox_syscalls.sh: the programs work inside the system-call
# sandbox of systemd/intaked.service, without a running systemd.
# tests/tools/seccomp-exec.c installs what the unit asks for
# (SystemCallFilter= as its lines expand with `systemd-analyze syscall-filter`,
# SystemCallErrorNumber=EPERM, MemoryDenyWriteExecute=, RestrictAddressFamilies=,
# NoNewPrivileges=) and setpriv(1) drops to an unprivileged user with
# UMask=0077, as User= does.  Under it: intaked --check-config, intaked --once
# over a Maildir (parse, triage with the PCRE2 lexicon, SLA, store), the
# database created 0660 with its database_group (fchown), intake ingest and
# intake sla, and a long-running intaked that reloads on SIGHUP and stops
# cleanly on SIGTERM.  Skips without systemd-analyze, setpriv or libseccomp.
set -u
top=${INTAKE_TOP:-.}
build=${INTAKE_BUILD:-build}
cd "$top" || exit 2
top=$(pwd)
case "$build" in
/*) ;;
*) build="$top/$build" ;;
esac

for t in systemd-analyze setpriv cc; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "skip: $t is not installed"
		exit 77
	fi
done
if ! pkg-config --exists libseccomp; then
	echo "skip: libseccomp (libseccomp-dev) is not installed"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root to drop to an unprivileged user (setpriv)"
	exit 77
fi
if [ -n "${INTAKE_SANITIZER:-}" ]; then
	# ASan reserves shadow memory with its own mappings and calls that the
	# unit does not allow; the sanitizer build is not what is deployed.
	echo "skip: sanitizer build (the filter is for the production build)"
	exit 77
fi
for p in intaked intake; do
	[ -x "$build/$p" ] || { echo "FAIL: $build/$p not built"; exit 1; }
done

tmp=$(mktemp -d)
daemon_pid=""
cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# The allow list, from the unit's own SystemCallFilter= lines in order.
expand() {	# a group or a name -> names, recursively
	case "$1" in
	@*) systemd-analyze syscall-filter "$1" |
	    awk 'NR > 1 && $1 !~ /^#/ && NF { print $1 }' |
	    while read -r x; do expand "$x"; done ;;
	*) echo "$1" ;;
	esac
}
: >"$tmp/allow"
grep '^SystemCallFilter=' "$top/systemd/intaked.service" | sed 's/^SystemCallFilter=//' |
while read -r line; do
	case "$line" in
	~*)
		for g in ${line#\~}; do expand "$g"; done | sort -u >"$tmp/deny"
		sort -u "$tmp/allow" | comm -23 - "$tmp/deny" >"$tmp/allow.new"
		mv "$tmp/allow.new" "$tmp/allow" ;;
	*)
		for g in $line; do expand "$g"; done >>"$tmp/allow" ;;
	esac
done
sort -u -o "$tmp/allow" "$tmp/allow"
n=$(wc -l <"$tmp/allow")
echo "allow list: $n system calls"
[ "$n" -gt 100 ] || { echo "FAIL: allow list too short"; exit 1; }
for s in seccomp fchown prlimit64; do
	grep -qx "$s" "$tmp/allow" || bad "the unit does not allow $s"
done
for s in setrlimit setuid chown sched_setscheduler; do
	grep -qx "$s" "$tmp/allow" && bad "the unit allows $s"
done

# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$tmp/seccomp-exec" \
    "$top/tests/tools/seccomp-exec.c" $(pkg-config --libs libseccomp) ||
	{ echo "FAIL: cannot build seccomp-exec"; exit 1; }

# The filter bites: a call outside the list fails, W+X memory is refused.
if "$tmp/seccomp-exec" "$tmp/allow" /bin/sh -c 'ulimit -n 100' 2>/dev/null; then
	:	# sh's ulimit uses prlimit64, allowed like glibc's setrlimit
else
	bad "ulimit (prlimit64) fails under the filter"
fi
# setpriority is in @resources: nice(1) warns and runs the command anyway.
"$tmp/seccomp-exec" "$tmp/allow" /usr/bin/nice -n 1 /bin/true 2>"$tmp/nice.err"
grep -q 'Operation not permitted' "$tmp/nice.err" ||
	bad "setpriority (@resources) is not refused under the filter"

# MemoryDenyWriteExecute: an anonymous writable+executable mapping fails.
if [ -x /usr/bin/python3 ]; then
	"$tmp/seccomp-exec" "$tmp/allow" /usr/bin/python3 -c '
import mmap, sys
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except PermissionError:
    sys.exit(0)
sys.exit(1)' || bad "a W+X mapping is not refused under the filter"
fi

# An unprivileged user and group, as User=intake: nobody/nogroup.
uid=$(id -u nobody 2>/dev/null) || { echo "skip: no user nobody"; exit 77; }
gid=$(getent group nogroup | cut -d: -f3)
[ -n "$gid" ] || { echo "skip: no group nogroup"; exit 77; }
chmod 0755 "$tmp"
mkdir -p "$tmp/state/mail/new" "$tmp/state/mail/cur" "$tmp/state/mail/tmp"
cp "$build/intaked" "$build/intake" "$tmp/"
cp "$top/conf/triage.conf" "$tmp/triage.conf" 2>/dev/null ||
	{ echo "skip: conf/triage.conf not in the tree yet"; exit 77; }
cat >"$tmp/intake.conf" <<EOF
database = "state/intake.db";
database_group = "nogroup";
sources = ( { name = "local"; type = "maildir"; path = "state/mail";
              poll_interval = 1; } );
triage = { lexicon = "triage.conf"; };
log_level = "debug";
EOF
chmod 0644 "$tmp/intake.conf" "$tmp/triage.conf"
msg() {	# file, message-id, subject
	cat >"$2" <<EOF
From: Someone <someone@example.org>
To: hotline@example.org
Subject: $3
Date: Fri, 27 Nov 2026 20:00:00 -0500
Message-ID: <$1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, I would like information about trafficking statistics in my state.
Thank you.
EOF
}
msg one "$tmp/state/mail/new/1.host" "Question about statistics"
msg two "$tmp/state/mail/new/2.host" "Another question"
chown -R "$uid:$gid" "$tmp/state"

# Callers run it in a subshell; exec, so that $! of `sandboxed ... &` is
# the program's own pid.
sandboxed() {
	umask 0077
	exec setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	    --inh-caps=-all --bounding-set=-all \
	    "$tmp/seccomp-exec" "$tmp/allow" "$@"
}

(sandboxed "$tmp/intaked" --check-config -c "$tmp/intake.conf") >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; bad "intaked --check-config fails in the sandbox"; }

(sandboxed "$tmp/intaked" --once -c "$tmp/intake.conf") >"$tmp/once.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 20 "$tmp/once.log"
	bad "intaked --once exited $rc in the sandbox"
fi
if grep -q -e 'parser crashed' -e 'parser unavailable' "$tmp/once.log"; then
	bad "the parser child failed in the sandbox"
fi
if grep -q 'Operation not permitted' "$tmp/once.log"; then
	grep 'Operation not permitted' "$tmp/once.log" | head -n 5
	bad "intaked --once met EPERM in the sandbox"
fi
n=$(ls "$tmp/state/mail/cur" | wc -l)
[ "$n" -eq 2 ] || bad "intaked --once left $n of 2 messages in cur/"
db="$tmp/state/intake.db"
if [ -f "$db" ]; then
	m=$(stat -c '%a %U %G' "$db")
	[ "$m" = "660 nobody nogroup" ] || bad "database is '$m', not '660 nobody nogroup'"
	if command -v sqlite3 >/dev/null 2>&1; then
		t=$(sqlite3 "$db" 'SELECT count(*) FROM tickets' 2>&1)
		[ "$t" = 2 ] || bad "intaked --once stored $t tickets, not 2"
		# the parser child (fork, prlimit64, seccomp) works in the unit
		t=$(sqlite3 "$db" "SELECT count(*) FROM messages WHERE parse_status = 'ok'" 2>&1)
		[ "$t" = 2 ] || bad "only $t of 2 messages parsed ok in the sandbox (parser child)"
	fi
else
	bad "intaked --once created no database"
fi

# The IMAP source looks its host up in glibc's getaddrinfo_a() thread
# (resolve.c): creating and running that thread must pass the filter.
# localhost (from /etc/hosts) on a closed port: the lookup succeeds, the
# connect is refused.
printf 'secret\n' >"$tmp/state/pw"
chown "$uid:$gid" "$tmp/state/pw"
chmod 0600 "$tmp/state/pw"
cat >"$tmp/imap.conf" <<EOF
database = "state/imap.db";
database_group = "nogroup";
sources = ( { name = "remote"; type = "imap"; host = "localhost"; port = 9;
              tls = "implicit"; user = "u"; password_file = "state/pw";
              timeout = 2; } );
triage = { lexicon = "triage.conf"; };
EOF
chmod 0644 "$tmp/imap.conf"
(sandboxed "$tmp/intaked" --once -c "$tmp/imap.conf") >"$tmp/imap.log" 2>&1
if ! grep -q 'connect to localhost port 9' "$tmp/imap.log" ||
    grep -q 'resolving localhost' "$tmp/imap.log"; then
	tail -n 5 "$tmp/imap.log"
	bad "the IMAP source's host lookup (getaddrinfo_a) fails in the sandbox"
fi

msg three "$tmp/msg3" "Piped message"
chmod 0644 "$tmp/msg3"
(sandboxed "$tmp/intake" ingest -c "$tmp/intake.conf") <"$tmp/msg3" >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; bad "intake ingest fails in the sandbox"; }
grep -q '"duplicate": *false' "$tmp/out" || { cat "$tmp/out"; bad "intake ingest: no new ticket"; }
(sandboxed "$tmp/intake" sla --type tip --urgency routine \
    --received 2026-11-27T20:00:00-05:00 -c "$tmp/intake.conf") >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; bad "intake sla fails in the sandbox"; }
grep -q '"response_due":"2026-11-30T10:00:00-05:00"' "$tmp/out" ||
	{ cat "$tmp/out"; bad "intake sla: wrong answer in the sandbox"; }

# The daemon itself: a new message is picked up, SIGHUP reloads, SIGTERM
# stops it with exit 0.
(sandboxed "$tmp/intaked" -c "$tmp/intake.conf") >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
msg four "$tmp/state/mail/tmp/4.host" "While running"
chown "$uid:$gid" "$tmp/state/mail/tmp/4.host"
mv "$tmp/state/mail/tmp/4.host" "$tmp/state/mail/new/4.host"
i=0
while [ "$i" -lt 50 ] && [ -e "$tmp/state/mail/new/4.host" ]; do
	sleep 0.2
	i=$((i + 1))
done
[ -e "$tmp/state/mail/new/4.host" ] && bad "the running daemon did not take a new message"
kill -HUP "$daemon_pid"
sleep 1
kill -0 "$daemon_pid" 2>/dev/null || bad "intaked died on SIGHUP"
grep -q 'reloaded' "$tmp/daemon.log" || bad "intaked did not log a reload"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=""
[ "$rc" -eq 0 ] || { tail -n 20 "$tmp/daemon.log"; bad "intaked exited $rc on SIGTERM"; }
if grep -q 'Operation not permitted' "$tmp/daemon.log"; then
	grep 'Operation not permitted' "$tmp/daemon.log" | head -n 5
	bad "intaked met EPERM in the sandbox"
fi

[ "$fail" -eq 0 ] || exit 1
echo "ok: intaked and intake work inside the unit's system-call sandbox"
