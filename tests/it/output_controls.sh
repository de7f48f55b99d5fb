#!/bin/sh
# Control characters from messages never reach an output raw (issue 12
# item 19): a message whose subject and sender name hold ESC ] (OSC) ...
# BEL, U+009B (C1 CSI), U+202E (right-to-left override), U+2066 (isolate)
# and DEL.  CSV (followups, search, changes) carries U+FFFD in their place;
# JSON (list, followups, show, search, changes, status) \u escapes, and
# the JSON still reads back to the stored text.
. "$(dirname "$0")/../lib.sh"

office_conf

# ESC ] 0 ; x BEL, U+009B 3 1 m, U+202E gnp., U+2066, DEL: base64 UTF-8.
enc() { printf '%b' "$1" | base64 -w0; }
subj=$(enc 'help \033]0;pwned\007 now \302\2331m red \342\200\256gnp.exe \342\201\246iso\177 end')
name=$(enc 'Ana \033[2J\302\233H \342\200\256reversed')
crisis_mail "=?utf-8?b?$name?= <ana@example.net>" "=?utf-8?b?$subj?=" \
    ctl1@example.net | $INTAKE ingest $C >/dev/null 2>"$T/ingest.err"
check "ingested" [ "$(q 'select count(*) from tickets')" = 1 ]
check "the stored subject holds the raw controls (the test means something)" \
    [ "$(q "select instr(subject, char(27)) > 0 and instr(subject, char(155)) > 0 and instr(subject, char(8238)) > 0 from tickets")" = 1 ]

ESC=$(printf '\033')
BEL=$(printf '\007')
DEL=$(printf '\177')
CSI=$(printf '\302\233')
RLO=$(printf '\342\200\256')
LRI=$(printf '\342\201\246')
raw_free() {	# FILE: none of the dangerous characters in it
	! LC_ALL=C grep -qF -e "$ESC" -e "$BEL" -e "$DEL" -e "$CSI" -e "$RLO" -e "$LRI" "$1"
}
run() {	# NAME ARGS...: output to $T/NAME
	n=$1; shift
	$INTAKE "$@" $C > "$T/$n" 2>"$T/$n.err"
}
run list.json list --format json
run fu.csv followups --all-open --format csv
run fu.json followups --all-open --format json
run show.json show 1 --format json
run search.csv search passport --format csv
run search.json search passport --format json
run changes.csv changes --since 2000-01-01 --format csv
run changes.json changes --since 2000-01-01 --format json
for f in list.json fu.csv fu.json show.json search.csv search.json changes.csv changes.json; do
	check "$f is not empty" [ -s "$T/$f" ]
	check "$f carries no raw ESC, BEL, DEL, C1, bidi override or isolate" raw_free "$T/$f"
done
for f in fu.csv search.csv; do
	check "$f: U+FFFD stands in their place" sh -c "grep -q 'help �\\]0;pwned� now �1m red �gnp.exe �iso� end' '$T/$f'"
done
check "JSON: \\u escapes (list)" grep -q 'help \\u001B\]0;pwned\\u0007 now \\u009B1m red \\u202Egnp.exe \\u2066iso\\u007F end' "$T/list.json"
check "JSON: \\u escapes (show, sender name)" grep -q 'Ana \\u001B\[2J\\u009BH \\u202Ereversed' "$T/show.json"
# The escapes read back to the very stored text.
q 'select subject from tickets' > "$T/stored"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["subject"])' "$T/list.json" > "$T/readback" 2>&1
check "JSON reads back to the stored subject" cmp -s "$T/stored" "$T/readback"
finish
