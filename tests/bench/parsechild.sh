#!/bin/sh
# The cost of the sandboxed parser child against in-process parsing
# (--no-sandbox), measured in the same run, as a ratio (target: < 10%):
#
# 1. Ingest: `intaked --once` over the same Maildir (the MIME fixtures, each
#    copied under COPIES distinct Message-IDs) into a fresh database, the two
#    modes alternated for ROUNDS (7) rounds, order swapped every round.  Per
#    mode: median wall time and median CPU (user+sys of intaked and its
#    reaped parser children, from rusage), and the median of the per-round
#    ratios child/in-process, which cancels slow swings of the machine's
#    load.  CPU is the figure to trust on a shared machine; wall time also
#    counts the wake-ups of two processes taking turns.
# 2. Parse alone: build/bench/parseloop (tests/bench/parseloop.c) parses the
#    same files in process and through one child, interleaved, best of
#    PARSE_ROUNDS (5), with the CPU of parent and child read apart.
# 3. Bounded memory: peak RSS of intaked while ingesting BIG messages of SIZE
#    bytes (default: issue 7's 50 messages of 20 MB; BIG=0 skips it).
set -u
build=${1:-${INTAKE_BUILD:-build}}
top=${INTAKE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
# Three copies: runs of about two seconds, which the VM's noise moves less.
COPIES=${COPIES:-3}
ROUNDS=${ROUNDS:-7}
PARSE_ROUNDS=${PARSE_ROUNDS:-5}
BIG=${BIG:-50}
SIZE=${SIZE:-20000000}
T=$(mktemp -d /tmp/intake-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src"
i=0
for c in $(seq "$COPIES"); do
	find "$top/tests/fixtures/mime" "$top/tests/fixtures/sample-maildir/new" \
	    -type f ! -name INDEX.tsv ! -name '*.md' | sort > "$T/list"
	while IFS= read -r f; do
		i=$((i + 1))
		{ printf 'X-Bench-Copy: %s\n' "$c.$i"; cat "$f"; } > "$T/src/17640$(printf %05d $i).M${i}P1.bench"
	done < "$T/list"
done
n=$i
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
sources = ( { name = "box"; type = "maildir"; path = "mail"; } );
CONF

# Interleaved --once runs over fresh copies, timed with microsecond rusage.
/usr/bin/python3 - "$build/intaked" "$T" "$n" "$ROUNDS" <<'PY'
import os, resource, shutil, sqlite3, statistics, subprocess, sys, time
intaked, T, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def run(flags):
    shutil.rmtree(T + "/mail", ignore_errors=True)
    for f in os.listdir(T):
        if f.startswith("intake.db"):
            os.unlink(os.path.join(T, f))
    for d in ("new", "cur", "tmp"):
        os.makedirs(T + "/mail/" + d)
    for f in os.listdir(T + "/src"):
        shutil.copyfile(T + "/src/" + f, T + "/mail/new/" + f)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([intaked, "--once", "-c", T + "/intake.conf"] + flags,
                   check=True, stderr=subprocess.DEVNULL)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    db = sqlite3.connect(T + "/intake.db")
    stored = db.execute("select count(*) from messages").fetchone()[0]
    failed = db.execute("select count(*) from messages "
                        "where parse_error like 'parser %'").fetchone()[0]
    db.close()
    if stored != n or failed:
        print("bench: %d of %d stored, %d failed in the parser child"
              % (stored, n, failed), file=sys.stderr)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t1 - t0, cpu
res = {"inproc": [], "child": []}
for k in range(rounds):
    order = ["inproc", "child"] if k % 2 == 0 else ["child", "inproc"]
    for mode in order:
        res[mode].append(run(["--no-sandbox"] if mode == "inproc" else []))
med = statistics.median
iw, ic = [w for w, c in res["inproc"]], [c for w, c in res["inproc"]]
cw, cc = [w for w, c in res["child"]], [c for w, c in res["child"]]
rw = med([b / a for a, b in zip(iw, cw)])
rc = med([b / a for a, b in zip(ic, cc)])
print("parsechild: ingest of %d messages (intaked --once), median of %d "
      "interleaved rounds:" % (n, rounds))
for name, w, c in (("in process  ", iw, ic), ("parser child", cw, cc)):
    print("parsechild:   %s wall %.3f s (%.0f msg/s), CPU %.3f s (%.0f us/msg)"
          % (name, med(w), n / med(w), med(c), med(c) * 1e6 / n))
print("parsechild: cost of the sandboxed child: CPU %+.1f%%, wall %+.1f%% "
      "of in-process ingest (target < 10%%)" % ((rc - 1) * 100, (rw - 1) * 100))
PY

# Parse alone, parent and child apart.
if make -s -C "$top" BUILD="$build" "$build/bench/parseloop" >/dev/null 2>&1; then
	"$build/bench/parseloop" "$PARSE_ROUNDS" "$T/src"/* | sed 's/^/parsechild: /'
else
	echo "parsechild: $build/bench/parseloop cannot be built: parse-alone figures skipped"
fi

# Bounded memory: BIG messages of SIZE bytes through the child.
[ "$BIG" -gt 0 ] || exit 0
rm -rf "$T/mail" "$T"/intake.db*
mkdir -p "$T/mail/new" "$T/mail/cur" "$T/mail/tmp"
/usr/bin/python3 "$top/tests/tools/genmsg.py" size "$SIZE" > "$T/big.eml"
for k in $(seq "$BIG"); do
	{ printf 'X-Bench-Big: %s\n' "$k"; cat "$T/big.eml"; } > "$T/mail/new/17650$(printf %05d "$k").M1P1.big"
done
rm -f "$T/big.eml"
/usr/bin/time -f "%M %e" -o "$T/time" "$build/intaked" --once -c "$T/intake.conf" 2>/dev/null
read -r rss secs < "$T/time"
echo "parsechild: $BIG messages of $SIZE bytes: peak RSS (intaked or its parser child) $((rss / 1024)) MiB, $secs s, $(sqlite3 "$T/intake.db" 'select count(*) from messages') stored"
