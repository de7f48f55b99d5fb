#!/bin/sh
# tests/bench/webhook.sh BUILD_DIR: webhook requests per second to durable
# tickets (each answered 200 only after its commit), intaked pinned to one
# core, beside the same messages as mail through `intake ingest` (one
# process per message, as a pipe from the MTA runs it) in the same run.
# Figures only, never asserted.
set -eu
build=${1:-build}
n=${WEBHOOK_BENCH_N:-200}
intaked="$build/intaked"
intake="$build/intake"
[ -x "$intaked" ] || { echo "webhook: no $intaked (run make first)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/intake-bench-wh-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' >"$tmp/wh"
chmod 600 "$tmp/wh"
cat >"$tmp/intake.conf" <<CONF
database = "$tmp/intake.db";
timezone = "America/New_York";
listen = ( { address = "127.0.0.1"; port = $port; } );
sources = ( { name = "form"; type = "webhook"; path = "/form"; secret_file = "$tmp/wh"; } );
CONF
sed "s|$tmp/intake.db|$tmp/mail.db|" "$tmp/intake.conf" >"$tmp/mail.conf"
pin=
command -v taskset >/dev/null && pin="taskset -c 0"
INTAKE_NO_SANDBOX=1 $pin "$intaked" -c "$tmp/intake.conf" 2>"$tmp/intaked.log" &
pid=$!
/usr/bin/python3 - "$port" "$tmp/wh" "$n" "$pid" "$intake" "$tmp/mail.conf" <<'PY'
import base64, hashlib, hmac, http.client, os, socket, subprocess, sys, time
port, secret_file, n, pid, intake, mailconf = sys.argv[1:7]
port, n, pid = int(port), int(n), int(pid)
t = time.time()
while True:
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        break
    except OSError:
        if time.time() - t > 60:
            sys.exit("webhook: listener not up")
        time.sleep(0.05)
key = base64.b64decode(open(secret_file).readline().strip()[6:])
texts = ["message %d: my employer keeps my passport and I cannot leave" % i
         for i in range(n)]
hz = os.sysconf("SC_CLK_TCK")
def cpu(p):
    f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
c0, t0 = cpu(pid), time.monotonic()
for i, text in enumerate(texts):
    body = ('{"text":"%s"}' % text).encode()
    wid, ts = "msg_bench%06d" % i, str(int(time.time()))
    mac = hmac.new(key, ("%s.%s." % (wid, ts)).encode() + body, hashlib.sha256)
    c.request("POST", "/form", body=body, headers={
        "Content-Type": "application/json", "webhook-id": wid,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode()})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("webhook: request %d answered %d" % (i, r.status))
wall, used = time.monotonic() - t0, cpu(pid) - c0
print("webhook: %d requests to durable tickets: wall %.2f s = %d/s; intaked "
      "cpu %.2f s = %d/s (one core)" % (n, wall, n / wall, used,
                                        n / used if used > 0 else 0))
import resource
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
for i, text in enumerate(texts):
    mail = ("From: <c%d@example.net>\r\nTo: <hotline@example.org>\r\n"
            "Subject: help\r\nMessage-ID: <bench%d@example.net>\r\n"
            "Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\n%s\r\n" % (i, i, text))
    p = subprocess.run([intake, "ingest", "-c", mailconf], input=mail.encode(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, INTAKE_NO_SANDBOX="1"))
    if p.returncode != 0:
        sys.exit("webhook: intake ingest exited %d" % p.returncode)
wall = time.monotonic() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
used = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print("webhook: the same %d messages through intake ingest: wall %.2f s = "
      "%d/s; cpu %.2f s = %d/s" % (n, wall, n / wall, used, n / used))
PY
kill $pid
wait $pid 2>/dev/null || true
pid=
got=$(sqlite3 "$tmp/intake.db" "select count(*) from tickets" 2>/dev/null || echo '?')
[ "$got" = "$n" ] || { echo "webhook: $got tickets for $n requests" >&2; exit 1; }
exit 0
