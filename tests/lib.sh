# tests/it/lib.sh: helpers for the integration scripts (sourced).
set -u
TOP=${INTAKE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${INTAKE_BUILD:-$TOP/build}
INTAKE=$BUILD/intake
INTAKED=$BUILD/intaked
T=$(mktemp -d /tmp/intake-it.XXXXXX)
NFAIL=0
NPASS=0
cleanup_hooks=""
trap 'for h in $cleanup_hooks; do $h; done; rm -rf "$T"' EXIT

at_exit() { cleanup_hooks="$cleanup_hooks $1"; }

ok() { NPASS=$((NPASS + 1)); echo "ok - $*"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL - $*"; }
check() {	# check "description" test-expression...
	d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	echo "$NPASS passed, $NFAIL failed"
	[ "$NFAIL" -eq 0 ]
}
q() { sqlite3 -batch -noheader "$DB" "$@"; }
