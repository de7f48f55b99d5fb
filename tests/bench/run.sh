#!/bin/sh
# make bench: every tests/bench/*.sh except this one, with the build dir.
# Figures are printed (ratios against a peer measured in the same run where
# one exists), never asserted: these machines are noisy.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
export INTAKE_TOP=$(cd "$here/../.." && pwd)
export INTAKE_BUILD="$INTAKE_TOP/$build"
rc=0
for b in "$here"/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	sh "$b" "$INTAKE_BUILD" || { echo "bench $(basename "$b") failed"; rc=1; }
	echo
done
exit $rc
