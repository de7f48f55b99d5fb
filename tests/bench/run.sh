#!/bin/sh
# tests/bench/run.sh BUILD: runs every benchmark script in tests/bench.
set -u
build=${1:-build}
here=$(dirname "$0")
for b in "$here"/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	sh "$b" "$build" || echo "bench $(basename "$b"): failed"
done
