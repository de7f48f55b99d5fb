#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS [TARGET...]: runs each libFuzzer target
# for SECONDS, seeded from tests/fixtures, keeping a working corpus in
# BUILD/fuzz-corpus/NAME and crashers in BUILD/fuzz-artifacts/.  Prints one
# summary line per target (executions, cov, ft); exit 1 if any crashed.
set -u
build=${1:-build-fuzz}
secs=${2:-60}
shift 2 2>/dev/null || shift $#
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
targets=${*:-"message mime wire iso8601 ics http_json webhook signal"}
rc=0
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
for t in $targets; do
	bin="$build/fuzz/fuzz_$t"
	[ -x "$bin" ] || { echo "fuzz: $bin missing"; rc=1; continue; }
	corpus="$build/fuzz-corpus/$t"
	mkdir -p "$corpus"
	seeds=""
	for d in "tests/fuzz/seeds/$t" "tests/fixtures/fuzz-regress/$t"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	case $t in
	mime) seeds="$seeds tests/fixtures/fuzz-regress/message" ;;
	esac
	case $t in
	message|mime)
		for d in tests/fixtures/mime; do
			[ -d "$d" ] && seeds="$seeds $d"; done ;;
	esac
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	log="$build/fuzz-logs/$t.log"
	# shellcheck disable=SC2086
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp:print_suppressions=0 \
	    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
	    -max_len=262144 -print_final_stats=1 $dict \
	    -artifact_prefix="$build/fuzz-artifacts/$t-" "$corpus" $seeds \
	    >"$log" 2>&1
	r=$?
	stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
	echo "fuzz/$t: exit $r, ${execs:-?} executions in ${secs}s; last: $stats"
	if [ "$r" -ne 0 ]; then
		rc=1
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -n 5
		ls "$build"/fuzz-artifacts/"$t"-* 2>/dev/null | head -n 3
	fi
done
exit $rc
