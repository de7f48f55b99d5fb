#!/bin/sh
# triage-report.sh [DIR] [--min-type-acc PCT]: runs `intake classify` over
# DIR/*.eml (default ../shared/corpus/labeled) and compares with
# DIR/labels.tsv: accuracy, per-type precision/recall, urgent recall,
# minor/danger agreement, automated detection, confusion matrix.
# With TRIAGE_REPORT_STRICT=1 it exits 1 when crisis recall < 100%, an
# automated message is missed or a human message is called automated.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/../shared/corpus/labeled}
build=${INTAKE_BUILD:-$top/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
[ -f "$dir/labels.tsv" ] || { echo "triage-report: no $dir/labels.tsv" >&2; exit 66; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# file names only, so the report matches labels.tsv
(cd "$dir" && "$build/intake" classify -c /dev/null $(ls *.eml)) >"$out"
exec /usr/bin/python3 "$top/tools/triage-report.py" "$dir/labels.tsv" "$out"
