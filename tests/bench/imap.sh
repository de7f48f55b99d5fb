#!/bin/sh
# Benchmark (figures printed, nothing asserted; issue 19): a throwaway
# Dovecot over TLS 1.3 with realistic messages (gen-mail.py), and for each
# N in BENCH_N (default "2000 10000"):
#  - BENCH_RUNS (default 5) interleaved runs of mbsync (Debian isync, FSync
#    on, into a fresh Maildir) and intaked --once (fresh database: parse,
#    triage, SLA, FULL-sync commits per batch of up to 100, \Seen) on the
#    same mailbox: messages/s of each run, the medians and the ratio of the
#    medians; one more mbsync run with FSync off (the pure copy);
#  - intaked's stage breakdown (--stages) of its median run, and its peak
#    RSS (the largest of the runs, /usr/bin/time);
# then the time from the start of intaked --once to the first urgent alert
# received by an SMTP sink, in a backlog of BENCH_ALERT_N (default 10000)
# messages with a crisis message as UID 1, with that run's peak RSS and
# stages; and the IDLE delivery-to-ticket
# latency of the running intaked over BENCH_IDLE_N (default 100; 0: skip)
# messages, beside a bare IDLE client (idle-latency.py).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
NS=${BENCH_N:-2000 10000}
RUNS=${BENCH_RUNS:-5}
ALERT_N=${BENCH_ALERT_N:-10000}
IDLE_N=${BENCH_IDLE_N:-100}
imap_setup
cd "$T" || exit 2
if ! command -v mbsync >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends isync >/dev/null 2>&1
fi
pid=
sink=
stop_daemon() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$sink" ] && kill "$sink" 2>/dev/null
	wait 2>/dev/null
}
at_exit stop_daemon
echo "load: $(uptime)"

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# A fresh mailbox of $1 messages; $2: a crisis message first (UID 1).
fill() {
	rm -rf "$MAILDIR"
	mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
	chown -R --reference="$DC/home/hotline" "$MAILDIR" 2>/dev/null
	if [ -n "${2:-}" ]; then
		/usr/bin/python3 - "$IMAPS_PORT" "$T/ca.pem" <<'PY' || echo "bench: crisis APPEND failed"
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
m.login("hotline", "test-password")
msg = (b"From: Ana <ana@example.net>\r\nTo: help@example.org\r\n"
       b"Subject: help\r\nMessage-ID: <bench-crisis@example.net>\r\n\r\n"
       b"My boss took my passport and I cannot leave the house.\r\n")
m.append("INBOX", None, None, msg)
m.logout()
PY
	fi
	gen_mail "$1" 51
	cat "$MAILDIR"/new/* >/dev/null	# same warm page cache for both
}

have_mbsync=0
command -v mbsync >/dev/null 2>&1 && have_mbsync=1
mbsync_conf() {	# mbsync_conf yes|no
	cat >"$T/mbsyncrc" <<RC
FSync $1

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
}
# One mbsync run into a fresh Maildir: prints messages/s.
run_mbsync() {
	rm -rf "$T/near"
	mkdir -p "$T/near"
	mbsync_conf "$1"
	/usr/bin/time -f '%e %M' -o "$T/mbsync.time" mbsync -q -c "$T/mbsyncrc" -a >"$T/mbsync.log" 2>&1
	got=$(find "$T/near/INBOX/cur" "$T/near/INBOX/new" -type f 2>/dev/null | wc -l)
	set -- $(tail -n 1 "$T/mbsync.time")
	rate "$got" "$1"
}
# One intaked --once run into a fresh database: prints messages/s; the
# stage line goes to $T/stages.$2, peak RSS (KiB) to $T/rss.$2.
run_intaked() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
	/usr/bin/time -f '%e %M' -o "$T/intaked.time" $INTAKED --once --stages \
	    -c "$1" >"$T/stages.$2" 2>"$T/intaked.log"
	got=$(q 'select count(*) from messages')
	set -- $(tail -n 1 "$T/intaked.time") "$2"
	echo "$2" >"$T/rss.$3"
	rate "$got" "$1"
}

imap_conf "$T/bench.conf" 'poll_interval = 300'
for N in $NS; do
	fill "$N"
	bytes=$(du -sb "$MAILDIR/new" | cut -f1)
	echo "mailbox: $N messages, $((bytes / 1048576)) MiB, Dovecot $(dovecot --version | cut -d' ' -f1), TLS 1.3"
	ms=""; is=""; r=1
	while [ "$r" -le "$RUNS" ]; do
		m=-
		[ $have_mbsync = 1 ] && { m=$(run_mbsync yes); ms="$ms $m"; }
		i=$(run_intaked "$T/bench.conf" "$r"); is="$is $i"
		echo "run $r: mbsync (FSync on) $m msg/s, intaked --once $i msg/s"
		r=$((r + 1))
	done
	im=$(echo "$is" | median)
	# the stage line and RSS of the run nearest the median
	best=1; r=1; bd=
	for i in $is; do
		d=$(awk -v a="$i" -v b="$im" 'BEGIN { d = a - b; print d < 0 ? -d : d }')
		if [ -z "$bd" ] || [ "$d" -lt "$bd" ]; then bd=$d; best=$r; fi
		r=$((r + 1))
	done
	rss=$(cat "$T"/rss.* | sort -n | tail -n 1)
	echo "N=$N: intaked median $im msg/s over $RUNS runs; peak RSS $((rss / 1024)) MiB ($rss KiB)"
	echo "N=$N: intaked stages (run $best): $(cat "$T/stages.$best")"
	if [ $have_mbsync = 1 ]; then
		mm=$(echo "$ms" | median)
		off=$(run_mbsync no)
		echo "N=$N: mbsync $(mbsync --version | cut -d' ' -f2) median $mm msg/s (FSync on), one run FSync off $off msg/s"
		echo "N=$N: ratio intaked/mbsync (medians, FSync on): $(awk -v a="$im" -v b="$mm" 'BEGIN { printf "%.2f", a / b }'); against FSync off: $(awk -v a="$im" -v b="$off" 'BEGIN { printf "%.2f", a / b }')"
	else
		echo "mbsync: not installed (Debian isync), comparison skipped"
	fi
	rm -f "$T"/rss.* "$T"/stages.*
done

# Crisis first: the time to the first urgent alert in a backlog.
if [ "$ALERT_N" -gt 0 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	fill "$ALERT_N" crisis
	mkdir -p "$T/smtp"
	rm -f "$T"/smtp/*
	/usr/bin/python3 "$TOOLS/smtp_sink.py" --dir "$T/smtp" --port-file "$T/smtp/port" >"$T/smtp.log" 2>&1 &
	sink=$!
	while [ ! -s "$T/smtp/port" ]; do sleep 0.1; done
	CONF_TOP="alerts = { to = [\"oncall@example.org\"]; };
smtp = { url = \"smtp://127.0.0.1:$(cat "$T/smtp/port")\"; from = \"Intake <intake@example.org>\"; };" \
	    imap_conf "$T/alert.conf" 'poll_interval = 300'
	rm -f "$DB" "$DB-wal" "$DB-shm"
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$T/alert.time" $INTAKED --once --stages \
	    -c "$T/alert.conf" >"$T/stages.alert" 2>"$T/alert.log"
	t1=$(date +%s.%N)
	first=$(ls "$T"/smtp/mail-*.eml 2>/dev/null | head -n 1)
	if [ -n "$first" ]; then
		ta=$(stat -c %.9Y "$first")
		echo "first urgent alert in a $ALERT_N backlog (crisis at UID 1): $(awk -v a="$ta" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') s after the start (goal 5 s); whole backlog $(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s, $(q 'select count(*) from messages') messages, $(ls "$T"/smtp/mail-*.eml | wc -l) alert mails"
	else
		echo "first urgent alert: none received ($(tail -n 2 "$T/alert.log"))"
	fi
	echo "alert run: peak RSS $(($(tail -n 1 "$T/alert.time") / 1024)) MiB at N=$ALERT_N (goal 32 MiB); $(cat "$T/stages.alert")"
	kill "$sink"; wait "$sink" 2>/dev/null; sink=
fi

# IDLE: the daemon idles on INBOX; poll_interval 300 s so only IDLE counts.
# The database holds the mailbox already (the last run above).
if [ "$IDLE_N" -gt 0 ]; then
	imap_conf "$T/idle.conf" 'idle = true' 'poll_interval = 300'
	$INTAKED -c "$T/idle.conf" 2>"$T/idle.log" &
	pid=$!
	sleep 2
	/usr/bin/python3 "$TOOLS/ticket-latency.py" --maildir "$MAILDIR" --db "$DB" --count "$IDLE_N"
	kill "$pid"; wait "$pid" 2>/dev/null; pid=
	/usr/bin/python3 "$TOOLS/idle-latency.py" --count "$IDLE_N" --method maildir --tls \
	    --env "$DC/env.sh" --cafile "$T/ca.pem" | sed 's/^/bare client: /'
fi
echo "load: $(uptime)"
exit 0
