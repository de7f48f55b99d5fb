#!/bin/sh
# classify_cli.sh: `intake classify` output format and exit codes.
set -u
top=${INTAKE_TOP:-.}
build=${INTAKE_BUILD:-$top/build}
intake=$build/intake
[ -x "$intake" ] || { echo "no $intake"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "FAIL - $1"; fail=1; }

cat >"$tmp/m.eml" <<'MSG'
From: someone@example.net
To: hotline@example.org
Subject: please
Content-Type: text/plain; charset=utf-8

My boss took my passport and says I owe him for the trip. I can't leave.
MSG

"$intake" classify -c /dev/null <"$tmp/m.eml" >"$tmp/out1"; rc=$?
[ $rc -eq 0 ] && ok "stdin: exit 0" || bad "stdin: exit $rc"
"$intake" classify -c /dev/null "$tmp/m.eml" - <"$tmp/m.eml" >"$tmp/out2"; rc=$?
[ $rc -eq 0 ] && ok "file and -: exit 0" || bad "file and -: exit $rc"
/usr/bin/python3 - "$tmp/out1" "$tmp/out2" "$tmp/m.eml" <<'PY' && ok "JSON lines, key order, values" || bad "JSON output"
import json, sys
keys = ["file", "type", "urgency", "minor", "danger", "automated", "lang",
        "needs_interpreter", "rationale"]
a = open(sys.argv[1]).read().splitlines()
b = open(sys.argv[2]).read().splitlines()
assert len(a) == 1 and len(b) == 2, (a, b)
for line, name in ((a[0], "-"), (b[0], sys.argv[3]), (b[1], "-")):
    assert ": " not in line.split('"rationale"')[0], "not compact: " + line
    o = json.loads(line)
    assert list(o) == keys, list(o)
    assert o["file"] == name, o["file"]
    assert o["type"] == "crisis" and o["urgency"] == "urgent", o
    assert o["lang"] == "en" and o["automated"] is False, o
    assert all(isinstance(r, str) for r in o["rationale"]) and o["rationale"]
PY
"$intake" classify --help >"$tmp/help"; rc=$?
[ $rc -eq 0 ] && grep -q "usage: intake classify" "$tmp/help" && ok "--help" || bad "--help exit $rc"
"$intake" classify --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && ok "bad option: 64" || bad "bad option: exit $rc"
"$intake" classify -c /dev/null "$tmp/missing.eml" "$tmp/m.eml" >"$tmp/out3" 2>"$tmp/err3"; rc=$?
[ $rc -eq 66 ] && ok "missing file: 66" || bad "missing file: exit $rc"
[ "$(wc -l <"$tmp/out3")" -eq 1 ] && ok "the other file still classified" || bad "other file not classified"
printf 'version = 1;\nrules = ( ;\n' >"$tmp/bad.conf"
printf 'triage = { lexicon = "%s"; };\n' "$tmp/bad.conf" >"$tmp/intake.conf"
"$intake" classify -c "$tmp/intake.conf" "$tmp/m.eml" >/dev/null 2>"$tmp/err4"; rc=$?
[ $rc -eq 78 ] && grep -q "bad.conf:2:" "$tmp/err4" && ok "bad lexicon: 78 with FILE:LINE" || bad "bad lexicon: exit $rc: $(cat "$tmp/err4")"
exit $fail
