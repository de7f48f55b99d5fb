#!/bin/sh
# tests/bench/sla.sh BUILD_DIR: throughput of `intake sla --batch` on
# 1,000,000 generated lines "TYPE URGENCY RECEIVED" (2000-2060, all types
# and urgencies, several offsets), default configuration, one core.
# Target (issue 3): at least 100,000 deadlines per second.
set -eu
build=${1:-build}
intake="$build/intake"
n=${SLA_BENCH_LINES:-1000000}
[ -x "$intake" ] || { echo "sla: no $intake (run make first)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/intake-bench-sla-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

/usr/bin/python3 - "$n" > "$tmp/in" <<'PY'
import random, sys, datetime
n = int(sys.argv[1])
r = random.Random(1)
types = ["crisis", "tip", "tta", "referral", "info", "related"]
urg = ["urgent", "routine"]
lo = int(datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
hi = int(datetime.datetime(2060, 12, 31, tzinfo=datetime.timezone.utc).timestamp())
zones = [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=-5)),
    datetime.timezone(datetime.timedelta(hours=-4))]
out = sys.stdout
for i in range(n):
    d = datetime.datetime.fromtimestamp(r.randrange(lo, hi), zones[i % 3])
    out.write("%s %s %s\n" % (types[i % 6], urg[(i // 6) % 2], d.isoformat()))
PY

# Wall time and the child's CPU time (the machine may be shared: the CPU
# figure is the one-core throughput).
INTAKE_CONFIG="$tmp/none.conf" /usr/bin/python3 - "$intake" "$tmp/in" "$tmp/out" "$n" <<'PY'
import os, resource, subprocess, sys, time
intake, inp, outp, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(inp, "rb") as fi, open(outp, "wb") as fo:
    t0 = time.monotonic()
    rc = subprocess.call([intake, "sla", "--batch"], stdin=fi, stdout=fo)
    wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
if rc != 0:
    sys.exit("sla: intake sla --batch exited %d" % rc)
with open(outp, "rb") as f:
    lines = sum(1 for _ in f)
if lines != n:
    sys.exit("sla: %d results for %d lines" % (lines, n))
print("sla: %d deadlines: wall %.2f s = %d deadlines/s; cpu %.2f s = %d deadlines/s "
      "(target >= 100000/s on one core)" % (n, wall, n / wall, cpu, n / cpu))
PY
grep -q '"error"' "$tmp/out" && { echo "sla: error lines in the output" >&2; exit 1; }
exit 0
