#!/bin/sh
# Benchmark (figures printed, nothing asserted): a throwaway Dovecot with
# 10,000 realistic messages (gen-mail.py), then in the same run
#  - intaked --once over TLS (parse, triage, SLA, durable commit, \Seen)
#    against mbsync (Debian isync) pulling the same mailbox into a Maildir:
#    messages/s of both and the ratio; intaked's peak RSS (/usr/bin/time);
#  - IDLE delivery-to-ticket latency of the running intaked over 100
#    messages, beside a bare IDLE client (idle-latency.py) on the same server.
# BENCH_N and BENCH_IDLE_N change the counts.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
N=${BENCH_N:-10000}
IDLE_N=${BENCH_IDLE_N:-100}
imap_setup
cd "$T" || exit 2
if ! command -v mbsync >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends isync >/dev/null 2>&1
fi
pid=
stop_daemon() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_daemon

gen_mail "$N" 51
bytes=$(du -sb "$MAILDIR/new" | cut -f1)
echo "mailbox: $N messages, $((bytes / 1048576)) MiB, Dovecot $(dovecot --version | cut -d' ' -f1), TLS 1.3"
cat "$MAILDIR"/new/* >/dev/null	# same warm page cache for both

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

mbs=
if command -v mbsync >/dev/null 2>&1; then
	mkdir -p "$T/near"
	cat >"$T/mbsyncrc" <<RC
IMAPAccount bench
Host localhost
Port $IMAPS_PORT
User hotline
Pass test-password
SSLType IMAPS
CertificateFile $T/ca.pem

IMAPStore far
Account bench

MaildirStore near
Path $T/near/
Inbox $T/near/INBOX

Channel pull
Far :far:
Near :near:
Patterns INBOX
Sync Pull
Create Near
SyncState *
RC
	/usr/bin/time -f '%e %M' -o "$T/mbsync.time" mbsync -q -c "$T/mbsyncrc" -a >"$T/mbsync.log" 2>&1
	got=$(find "$T/near/INBOX/cur" "$T/near/INBOX/new" -type f | wc -l)
	set -- $(cat "$T/mbsync.time")
	mbs=$(rate "$got" "$1")
	echo "mbsync $(mbsync --version | cut -d' ' -f2): $got messages in $1 s = $mbs msg/s (peak RSS $(($2 / 1024)) MiB)"
else
	echo "mbsync: not installed (Debian isync), comparison skipped"
fi

imap_conf "$T/bench.conf" 'poll_interval = 300'
/usr/bin/time -f '%e %M' -o "$T/intaked.time" $INTAKED --once -c "$T/bench.conf" 2>"$T/intaked.log"
rc=$?
got=$(q 'select count(*) from messages')
set -- $(cat "$T/intaked.time")
ik=$(rate "$got" "$1")
echo "intaked --once (TLS, parse, triage, SLA, FULL-sync commits per batch of up to 100, \\Seen): $got messages in $1 s = $ik msg/s, exit $rc"
echo "intaked peak RSS: $(($2 / 1024)) MiB ($2 KiB)"
[ -n "$mbs" ] && echo "throughput ratio intaked/mbsync: $(awk -v a="$ik" -v b="$mbs" 'BEGIN { printf "%.2f", a / b }')"

# IDLE: the daemon idles on INBOX; poll_interval 300 s so only IDLE counts.
imap_conf "$T/idle.conf" 'idle = true' 'poll_interval = 300'
$INTAKED -c "$T/idle.conf" 2>"$T/idle.log" &
pid=$!
sleep 2
/usr/bin/python3 "$TOOLS/ticket-latency.py" --maildir "$MAILDIR" --db "$DB" --count "$IDLE_N"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
/usr/bin/python3 "$TOOLS/idle-latency.py" --count "$IDLE_N" --method maildir --tls \
    --env "$DC/env.sh" --cafile "$T/ca.pem" | sed 's/^/bare client: /'
exit 0
