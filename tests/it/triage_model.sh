#!/bin/sh
# triage_model.sh: the triage model end to end.  `make triage-model`'s
# command rebuilds conf/triage.model byte for byte from the fixtures; a
# missing or corrupt model file is named (FILE[:LINE]) and the rules carry
# on alone; `intake triage train` refuses bad labels with FILE:LINE; the
# leave-one-writer-out figure of tools/triage-lowo.sh is the one computed
# by training and scoring by hand; intaked falls back to the rules on a bad
# model, logs it, and SIGHUP loads a changed model.
. "$(dirname "$0")/../lib.sh"
[ -x "$INTAKE" ] || { echo "no $INTAKE"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3"; exit 77; }
FX=$TOP/tests/fixtures

sets=""
for d in "$FX"/*/; do [ -f "$d/labels.tsv" ] && sets="$sets ${d%/}"; done
# shellcheck disable=SC2086
"$INTAKE" triage train -c /dev/null -o "$T/re.model" $sets 2>"$T/e"; rc=$?
check "train from the fixtures exits 0" [ "$rc" -eq 0 ]
check "the model is rebuilt byte for byte" cmp -s "$T/re.model" "$TOP/conf/triage.model"

cat > "$T/m.eml" <<'MSG'
From: someone@example.net
To: hotline@example.org
Subject: statistics
Content-Type: text/plain; charset=utf-8

How many people are trafficked in Ohio each year? I need figures for a report.
MSG
printf 'triage = { model = "%s/absent.model"; };\n' "$T" > "$T/absent.conf"
"$INTAKE" classify -c "$T/absent.conf" "$T/m.eml" >"$T/out" 2>"$T/e"; rc=$?
check "missing model: still classified, exit 0" [ "$rc" -eq 0 -a -s "$T/out" ]
check "missing model: named, rules alone" grep -q "absent.model: cannot read the triage model.*rules alone" "$T/e"
printf 'intake-triage-model 1\nbuckets 262144\nnot a classes line\n' > "$T/bad.model"
printf 'triage = { model = "%s/bad.model"; };\n' "$T" > "$T/bad.conf"
"$INTAKE" classify -c "$T/bad.conf" "$T/m.eml" >"$T/out" 2>"$T/e"; rc=$?
check "corrupt model: still classified, exit 0" [ "$rc" -eq 0 -a -s "$T/out" ]
check "corrupt model: FILE:LINE" grep -q "bad.model:3: expected the classes line" "$T/e"
check "with the rules alone: no model rationale" sh -c "! grep -q '\"model: ' '$T/out'"
"$INTAKE" classify -c /dev/null "$T/m.eml" >"$T/out" 2>"$T/e"
check "the built-in model is used by default" grep -q '"model: info ' "$T/out"

mkdir "$T/lab"
cp "$FX/labeled/d001.eml" "$T/lab/"
printf 'file\ttype\turgency\nd001.eml\tcrisis\turgent\nd001.eml\tnosuchtype\turgent\n' > "$T/lab/labels.tsv"
"$INTAKE" triage train -c /dev/null -o "$T/x.model" "$T/lab" 2>"$T/e"; rc=$?
check "bad labels: exit 65" [ "$rc" -eq 65 ]
check "bad labels: FILE:LINE" grep -q "lab/labels.tsv:3: bad row" "$T/e"
check "bad labels: no model file left" [ ! -e "$T/x.model" -a ! -e "$T/x.model.tmp" ]

# Leave one writer out, by hand: train on blind2, score labeled.
sh "$TOP/tools/triage-lowo.sh" "$FX/labeled" "$FX/triage-blind2" >"$T/lowo" 2>"$T/e"
"$INTAKE" triage train -c /dev/null -o "$T/b2.model" "$FX/triage-blind2"
printf 'triage = { model = "%s/b2.model"; };\n' "$T" > "$T/b2.conf"
(cd "$FX/labeled" && "$INTAKE" classify -c "$T/b2.conf" $(ls *.eml)) >"$T/cl"
want=$(/usr/bin/python3 "$TOP/tools/triage-report.py" "$FX/labeled/labels.tsv" "$T/cl" | sed -n 's/^summary: //p')
got=$(sed -n 's/^labeled  *//p' "$T/lowo" | head -n 1)
check "LOWO figure is computed: '$got'" [ -n "$want" -a "$got" = "$want" ]
check "two sets, two summary lines" [ "$(grep -v '^all held out' "$T/lowo" | grep -c 'type [0-9.]*% ')" -eq 2 ]
# and the pooled line: every held-out message once (70 + the second set's)
n2=$(grep -v '^all held out' "$T/lowo" | sed -n 's/.*type [0-9.]*% ([0-9]*\/\([0-9]*\)).*/\1/p' | awk '{ s += $1 } END { print s }')
check "the pooled line counts both sets ($n2)" sh -c "grep '^all held out' '$T/lowo' | grep -q '/$n2)'"

# The daemon: a corrupt model at start, then SIGHUP with a good one.
DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
model() {	# model TYPE-INDEX FILE: every message gets that type
	/usr/bin/python3 -c '
import sys
b = ["-20"] * 8
b[int(sys.argv[1])] = "20"
print("intake-triage-model 1\nbuckets 262144\nclasses crisis tip tta referral info related automated urgent\nbias " + " ".join(b) + "\ncombine 0.25 1.01 0.5 1\nrows 0\nend")' "$1" > "$2"
}
cp "$T/bad.model" "$T/live.model"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
triage = { model = "live.model"; };
CONF
INTAKE_NO_SANDBOX=1 $INTAKED -c "$T/intake.conf" 2>"$T/log" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
at_exit stop
put() {	# put ID: a statistics question into the maildir, wait for it
	printf 'From: a@example.net\nSubject: question\nMessage-ID: <%s@example.net>\n\nHow many people are trafficked in Ohio each year?\n' "$1" > "$MD/tmp/$1"
	mv "$MD/tmp/$1" "$MD/new/17640000$1.M1P1.host"
	for i in $(seq 100); do
		[ "$(q "select count(*) from messages where message_id = '$1@example.net'" 2>/dev/null)" = 1 ] && return 0
		sleep 0.2
	done
	return 1
}
typeof() { q "select t.type from tickets t join messages m on m.ticket_id = t.id where m.message_id = '$1@example.net'"; }
check "daemon with a corrupt model: stores mail" put 11
check "daemon: logs the model FILE:LINE and the fallback" grep -q "live.model:3: expected the classes line; triaging with the rules alone" "$T/log"
check "daemon: the rules alone call it info" [ "$(typeof 11)" = info ]
model 5 "$T/live.model"		# related, whatever the text
kill -HUP "$pid"
for i in $(seq 50); do grep -q "configuration reloaded" "$T/log" && break; sleep 0.2; done
check "daemon: SIGHUP reloads" grep -q "configuration reloaded" "$T/log"
check "daemon: after reload, stores mail" put 12
check "daemon: after reload the new model decides" [ "$(typeof 12)" = related ]
stop
finish
