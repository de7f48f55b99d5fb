#!/bin/sh
# triage-lowo.sh [DIR...]: leave-one-writer-out figures of the triage model.
# Each DIR (default: every tests/fixtures/*/ with a labels.tsv) is one
# writer's set.  For each, `intake triage train` builds a model from all the
# other sets (never from the held-out one), `intake classify` runs rules +
# that model over the held-out set and tools/triage-report.py scores it.
# Prints one "summary:" and one "by language:" line per set and its
# confusion matrix, then the summary of all held-out sets pooled.
# The figures are computed here, every run: nothing is stored.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${INTAKE_BUILD:-$top/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
if [ $# -eq 0 ]; then
	for d in "$top"/tests/fixtures/*/; do
		[ -f "$d/labels.tsv" ] && set -- "$@" "${d%/}"
	done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for held in "$@"; do
	name=$(basename "$held")
	train=""
	for d in "$@"; do
		[ "$d" = "$held" ] || train="$train $d"
	done
	# shellcheck disable=SC2086 # the set list is word-split on purpose
	"$build/intake" triage train -c /dev/null -o "$tmp/m" $train
	printf 'triage = { model = "%s"; };\n' "$tmp/m" > "$tmp/c.conf"
	(cd "$held" && "$build/intake" classify -c "$tmp/c.conf" \
	    $(ls *.eml)) > "$tmp/out"
	/usr/bin/python3 "$top/tools/triage-report.py" "$held/labels.tsv" \
	    "$tmp/out" > "$tmp/rep"
	printf '%-16s %s\n' "$name" "$(sed -n 's/^summary: //p' "$tmp/rep")"
	printf '%-16s %s\n' "" "$(sed -n 's/^by language: //p' "$tmp/rep")"
	# the confusion matrix of the held-out set (rows: label)
	sed -n '/^confusion/,/^automated /s/^/                 /p' "$tmp/rep"
	cat "$tmp/out" >> "$tmp/all.jsonl"
	# the held-out sets pooled (file names differ between sets)
	[ -f "$tmp/all.tsv" ] || head -n 1 "$held/labels.tsv" > "$tmp/all.tsv"
	tail -n +2 "$held/labels.tsv" >> "$tmp/all.tsv"
done
/usr/bin/python3 "$top/tools/triage-report.py" "$tmp/all.tsv" \
    "$tmp/all.jsonl" > "$tmp/rep"
printf '%-16s %s\n' "all held out" "$(sed -n 's/^summary: //p' "$tmp/rep")"
