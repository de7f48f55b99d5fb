#!/bin/sh
# tools/triage-snapshot.sh OUT [BUILD]: every triage decision of BUILD's
# `intake classify` (default build/) written under OUT, for engine changes
# that must not change one: diff -r two snapshots (before, after) and
# expect nothing.  Per fixture set (each tests/fixtures/*/ holding .eml
# files; mime's .msg .raw .txt and sample-maildir's files too), three
# runs: -c /dev/null (the built-in lexicon and model), the shipped files loaded
# (conf/triage.conf, conf/triage.model) and the rules alone (model
# "none"); then tools/triage-lowo.sh's figures (models trained here).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUT [BUILD]" >&2; exit 64; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
build=${2:-$top/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
printf 'triage = { lexicon = "%s"; model = "%s"; };\n' \
    "$top/conf/triage.conf" "$top/conf/triage.model" >"$out/files.conf"
printf 'triage = { model = "none"; };\n' >"$out/rules.conf"
cd "$top/tests/fixtures"
for d in */; do
	d=${d%/}
	find "$d" -type f \( -name '*.eml' -o -path 'mime/*' \( -name '*.msg' \
	    -o -name '*.raw' -o -name '*.txt' \) -o -path 'sample-maildir/*' \) \
	    -size -4M | sort >"$out/$d.list"
	if [ ! -s "$out/$d.list" ]; then
		rm -f "$out/$d.list"
		continue
	fi
	for v in null files rules; do
		case $v in null) c=/dev/null ;; *) c=$out/$v.conf ;; esac
		xargs -a "$out/$d.list" -d '\n' "$build/intake" classify \
		    -c "$c" >"$out/$d.$v.jsonl" 2>"$out/$d.$v.err" || true
	done
done
INTAKE_BUILD=$build sh "$top/tools/triage-lowo.sh" >"$out/lowo.txt"
rm -f "$out/files.conf" "$out/rules.conf"
wc -l "$out"/*.jsonl | tail -n 1
