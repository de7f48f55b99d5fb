#!/bin/sh
# triage-baseline.sh: the plain learned baseline of issue 16 (TF-IDF into
# scikit-learn's liblinear logistic regression, no rules), leave-one-writer-
# out over the same sets as tools/triage-lowo.sh, so `make triage-report`
# shows both in one run.  Needs Debian's python3-sklearn and the shared
# script; says so and exits 0 without them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
script=${TRIAGE_BASELINE:-$top/../shared/tools/triage-baseline.py}
if [ ! -f "$script" ]; then
	echo "triage-baseline: no $script (skipped)"
	exit 0
fi
if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
	echo "triage-baseline: needs python3-sklearn (apt-get install python3-sklearn; skipped)"
	exit 0
fi
exec /usr/bin/python3 "$script" "$top"
