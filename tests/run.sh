#!/bin/sh
# tests/run.sh BUILD_DIR: runs every Check unit-test program and every
# integration script (tests/it/*.sh), then prints one closing line
# "check: N passed, N failed" counting individual checks.
# tests/run.sh BUILD_DIR unit: the unit-test programs only (the line then
# starts with "check-unit:").
set -u
build=${1:-build}
only=${2:-all}
label=check
[ "$only" = unit ] && label=check-unit
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
export INTAKE_BUILD="$top/$build"
export INTAKE_TOP="$top"
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
logdir="$top/$build/test-logs"
mkdir -p "$logdir"
passed=0
failed=0
failed_names=""

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out="$logdir/$name.log"
	"$t" >"$out" 2>&1
	rc=$?
	# Check's summary: "NN%: Checks: N, Failures: F, Errors: E"
	summary=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$out" | tail -n 1)
	if [ -n "$summary" ]; then
		n=$(echo "$summary" | sed 's/.*Checks: \([0-9]*\).*/\1/')
		f=$(echo "$summary" | sed 's/.*Failures: \([0-9]*\).*/\1/')
		e=$(echo "$summary" | sed 's/.*Errors: \([0-9]*\).*/\1/')
		bad=$((f + e))
		passed=$((passed + n - bad))
		failed=$((failed + bad))
		echo "$name: $summary"
		[ "$bad" -gt 0 ] && failed_names="$failed_names $name"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "$name: no Check summary (exit $rc)"
	fi
	# 77: a part that needs something absent (PostgreSQL) was left out
	[ "$rc" -eq 77 ] && echo "$name: $(grep -m 1 '^skip:' "$out")"
	if [ "$rc" -ne 0 ] || [ -n "$(grep -E '^[^:]+:[0-9]+:[EF]:' "$out" | head -n 1)" ]; then
		grep -E ':[EF]:|Agreement|rate' "$out" | head -n 20
	fi
	grep -E '^(agreement|info):' "$out" || true
done

for s in tests/it/*.sh; do
	[ "$only" = unit ] && break
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	out="$logdir/it-$name.log"
	start=$(date +%s)
	sh "$s" >"$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	# A script may count its own checks: "N passed, N failed".
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		if [ -n "$counts" ]; then
			passed=$((passed + ${counts%% *}))
		else
			passed=$((passed + 1))
		fi
		echo "it/$name: ok (${secs}s) ${counts}"
	elif [ "$rc" -eq 77 ]; then
		echo "it/$name: skipped (${secs}s): $(tail -n 1 "$out")"
	else
		f=$(echo "$counts" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		[ -n "$f" ] && [ "$f" -gt 0 ] || f=1
		failed=$((failed + f))
		failed_names="$failed_names it/$name"
		echo "it/$name: FAILED (exit $rc, ${secs}s); last lines of $out:"
		tail -n 25 "$out" | sed 's/^/    /'
	fi
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
