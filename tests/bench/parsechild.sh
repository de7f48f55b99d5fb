#!/bin/sh
# Ingest throughput with the sandboxed parser child against in-process
# parsing (--no-sandbox): `intaked --once` over the same Maildir (the MIME
# fixtures, each copied under N distinct Message-IDs) into a fresh
# database, interleaved, best of ROUNDS (5) runs each.  Target: the child costs < 10%.
# Also: peak RSS of intaked while ingesting big messages (issue 7's
# "50 messages of 20 MB": BIG=50 SIZE=20000000; default 10 x 20 MB).
set -u
build=${1:-${INTAKE_BUILD:-build}}
top=${INTAKE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
COPIES=${COPIES:-1}
BIG=${BIG:-10}
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

# run MODE-FLAGS: seconds for one --once run over a fresh copy
run() {
	rm -rf "$T/mail" "$T"/intake.db*
	mkdir -p "$T/mail/new" "$T/mail/cur" "$T/mail/tmp"
	cp "$T/src"/* "$T/mail/new/"
	s=$(date +%s.%N)
	"$build/intaked" --once -c "$T/intake.conf" "$@" 2>/dev/null
	e=$(date +%s.%N)
	stored=$(sqlite3 "$T/intake.db" 'select count(*) from messages')
	[ "$stored" -eq "$n" ] || echo "bench: only $stored of $n stored" >&2
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'
}
# Interleaved rounds (the machine's load changes between runs), best of each.
ROUNDS=${ROUNDS:-5}
inproc=""
child=""
lower() { awk -v t="$1" -v b="$2" 'BEGIN { exit !(b == "" || t < b) }'; }
for k in $(seq "$ROUNDS"); do
	t=$(run --no-sandbox)
	lower "$t" "$inproc" && inproc=$t
	t=$(run)
	lower "$t" "$child" && child=$t
done
awk -v n="$n" -v a="$inproc" -v b="$child" 'BEGIN {
	printf "parsechild: %d messages: in process %.3f s (%.0f msg/s), parser child %.3f s (%.0f msg/s)\n", n, a, n / a, b, n / b
	printf "parsechild: cost of the sandboxed child: %.1f%% of ingest time (target < 10%%)\n", (b - a) * 100 / a
}'

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
