#!/bin/sh
# tests/bench/run.sh BUILD_DIR: runs every tests/bench/*.sh (except this
# one) with the build directory as $1; each prints its own figures.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
rc=0
for b in tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	sh "$b" "$build" || { echo "$(basename "$b"): FAILED"; rc=1; }
done
exit "$rc"
