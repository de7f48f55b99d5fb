#!/bin/sh
# A DNS server that takes queries and never answers (resolv.conf allows a
# 30 s wait): the IMAP source (getaddrinfo_a) and the HTTP source (libcurl's
# threaded resolver) give up after their own timeout, an urgent alert's
# webhook gives up after the outbox's 10 s connect timeout and stays queued, a Maildir
# source in the same configuration keeps working, a second lookup is not
# piled on while the first still runs, and SIGTERM still ends the daemon at
# once.  Runs in a private mount namespace with its own /etc/resolv.conf;
# skipped where unshare(1) cannot make one (not root).
. "$(dirname "$0")/../lib.sh"

if ! unshare -m true 2>/dev/null; then
	echo "skip: unshare -m not permitted here (needs root)"
	exit 77
fi
DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
printf 'secret\n' > "$T/pw"
chmod 600 "$T/pw"
# A loopback address of our own (parallel runs must not share port 53).
NS=127.77.$(( $$ % 250 + 1 )).$(( ($$ / 250) % 250 + 1 ))
printf 'nameserver %s\noptions timeout:30 attempts:1\n' "$NS" > "$T/resolv.conf"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
sources = (
  { name = "remote"; type = "imap"; host = "imap.dns-silent.test"; port = 993;
    tls = "implicit"; user = "hotline"; password_file = "pw"; timeout = 2;
    poll_interval = 1; idle = false; },
  { name = "feed"; type = "http"; url = "https://feed.dns-silent.test/messages";
    token_file = "pw"; timeout = 2; poll_interval = 1; },
  { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; }
);
alerts = { webhook = "https://hook.dns-silent.test/alert"; };
CONF
srv=
pid=
stop_all() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	wait 2>/dev/null
}
at_exit stop_all

/usr/bin/python3 "$TOP/tests/tools/dns_blackhole.py" "$NS" "$T/queries" &
srv=$!
for i in $(seq 50); do [ -s "$T/queries" ] && break; sleep 0.1; done
[ -s "$T/queries" ] || { fail "the silent DNS server did not start"; finish; exit 1; }

# in_ns CMD...: CMD with $T/resolv.conf as /etc/resolv.conf (exec'd: in
# the background, $! is then the command itself; run it in a subshell).
in_ns() {
	exec unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
	    "$T/resolv.conf" "$@"
}

# The machine must resolve names through resolv.conf (nsswitch "dns"), and
# the bind mount must work: probe with getent before testing intaked.
(in_ns timeout 3 getent ahosts probe.dns-silent.test) >/dev/null 2>&1
if [ "$(cat "$T/queries")" -eq 0 ]; then
	echo "skip: name lookups here do not reach resolv.conf's server (nsswitch or mount)"
	exit 77
fi
echo 0 > "$T/queries"

printf 'From: a@example.net\nSubject: s\nMessage-ID: <dns1@example.net>\n\nMy boss took my passport and locks me in, please help.\n' > "$MD/new/1764000001.M1P1.dns1"
start=$(date +%s)
(in_ns timeout -s KILL 150 $INTAKED --once -c "$T/intake.conf" 2>"$T/once.log"); rc=$?
secs=$(( $(date +%s) - start ))
check "--once ends with a temporary failure (exit $rc)" [ "$rc" -eq 75 ]
check "the lookup reached the silent server ($(cat "$T/queries") queries)" [ "$(cat "$T/queries")" -ge 1 ]
# 14 s of timeouts on an idle machine; the bound only has to tell them from
# resolv.conf's 3 x 30 s, with room for a loaded one (26 s was seen).
check "2 s + 2 s + 10 s of timeouts, not 3 x resolv.conf's 30 s, ended it (${secs}s < 75)" [ "$secs" -lt 75 ]
check "the log names the IMAP source and the lookup" grep -q "source remote.*resolving imap.dns-silent.test: no answer within 2 s" "$T/once.log"
check "the log names the HTTP source and its timeout" grep -qi "source feed.*resol.*timeout\|source feed.*timed out\|source feed.*timeout" "$T/once.log"
check "the Maildir message is stored" [ "$(q "select count(*) from messages where message_id = 'dns1@example.net'")" = "1" ]
check "its alert stays queued, with the lookup's failure" [ "$(q "select count(*) from outbox where kind = 'alert' and delivered_at is null and last_error like '%esol%'")" = "1" ]

in_ns $INTAKED -c "$T/intake.conf" 2>"$T/log" &
pid=$!
printf 'From: a@example.net\nSubject: s\nMessage-ID: <dns2@example.net>\n\nIs there a shelter in Ohio?\n' > "$MD/tmp/m"
mv "$MD/tmp/m" "$MD/new/1764000002.M1P1.dns2"
for i in $(seq 100); do
	[ "$(q "select count(*) from messages where message_id = 'dns2@example.net'" 2>/dev/null)" = "1" ] && break
	sleep 0.2
done
check "the daemon's Maildir source keeps working" [ "$(q "select count(*) from messages where message_id = 'dns2@example.net'")" = "1" ]
for i in $(seq 100); do
	grep -q "earlier lookup of imap.dns-silent.test is still running" "$T/log" && break
	sleep 0.2
done
check "a retry while the first lookup runs is refused, not piled on" grep -q "earlier lookup of imap.dns-silent.test is still running" "$T/log"
check "daemon alive" kill -0 "$pid"
# SIGHUP recreates the sources while that lookup still runs: the old
# source leaves it to glibc (freeing it under glibc's thread would be a
# use-after-free), the new source starts a lookup of its own.
n=$(grep -c "no answer within 2 s" "$T/log")
kill -HUP "$pid"
for i in $(seq 50); do
	grep -q "configuration reloaded" "$T/log" && break
	sleep 0.2
done
check "SIGHUP reloads while a lookup runs" grep -q "configuration reloaded" "$T/log"
for i in $(seq 50); do
	[ "$(grep -c "no answer within 2 s" "$T/log")" -gt "$n" ] && break
	sleep 0.2
done
check "the new source looks the host up afresh" [ "$(grep -c "no answer within 2 s" "$T/log")" -gt "$n" ]
check "daemon alive after the reload" kill -0 "$pid"
start=$(date +%s)
kill "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
secs=$(( $(date +%s) - start ))
if kill -0 "$pid" 2>/dev/null; then
	fail "SIGTERM did not stop the daemon within 10 s"
else
	wait "$pid"; rc=$?
	check "SIGTERM exits 0 (exit $rc)" [ "$rc" -eq 0 ]
	check "within a few seconds (${secs}s <= 5)" [ "$secs" -le 5 ]
fi
pid=
sed "s/^/    log: /" "$T/once.log" "$T/log"
finish
