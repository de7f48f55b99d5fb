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

start=$(date +%s%N)
INTAKE_CONFIG="$tmp/none.conf" taskset -c 0 "$intake" sla --batch < "$tmp/in" > "$tmp/out" 2>/dev/null ||
    INTAKE_CONFIG="$tmp/none.conf" "$intake" sla --batch < "$tmp/in" > "$tmp/out"
end=$(date +%s%N)
lines=$(wc -l < "$tmp/out")
[ "$lines" -eq "$n" ] || { echo "sla: $lines results for $n lines" >&2; exit 1; }
grep -q '"error"' "$tmp/out" && { echo "sla: error lines in the output" >&2; exit 1; }
ms=$(( (end - start) / 1000000 ))
[ "$ms" -gt 0 ] || ms=1
rate=$(( n * 1000 / ms ))
echo "sla: $n deadlines in ${ms} ms = $rate deadlines/s (target >= 100000)"
