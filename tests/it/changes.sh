#!/bin/sh
# intake changes: the shift handover from the events table, grouped by
# ticket, in four formats, with the window's bounds and escaping.
. "$(dirname "$0")/../lib.sh"

maildir_conf

msg() {	# msg ID SUBJECT BODY [HEADER]
	printf 'From: Someone <someone@example.net>\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s\r\n\r\n%s\r\n' \
	    "$2" "$1" "${4:-X-None: 1}" "$3"
}

# An old ticket whose events all fall before the window.
t0=$(msg c0@x 'old business' 'Could you send a leaflet?' | ingest_id)
q "update events set at = at - 86400 where ticket_id = $t0"
t1=$(msg c1@x 'training request <b>' 'Could you give a training to our staff?' | ingest_id)
t2=$(msg c2@x 'statistics' 'What are the statistics in Ohio?' | ingest_id)
msg c3@x 'Re: statistics' 'Also for Texas, and they are holding my sister now, she cannot leave' \
    'In-Reply-To: <c2@x>' | ingest_id >/dev/null
$INTAKE ack $t1 $C >/dev/null
$INTAKE assign $t1 maria $C >/dev/null
$INTAKE note $t1 "$(printf 'called back \033[2J <script>')" $C >/dev/null
$INTAKE reclassify $t2 --type tip $C >/dev/null
$INTAKE close $t1 --disposition referred $C >/dev/null

out=$($INTAKE changes $C); rc=$?
check "exit 0" [ "$rc" -eq 0 ]
check "old ticket is outside the default 12 hours" sh -c "! echo \"\$1\" | grep -q 'old business'" - "$out"
check "both tickets listed" [ "$(echo "$out" | grep -c '^#')" = 2 ]
check "summary line" sh -c "echo \"\$1\" | grep -q '^2 arrived, 1 wrote again, 1 acknowledged, 1 assigned, .*1 reclassified, 1 closed, .*1 noted'" - "$out"
check "grouped: #1's changes under #1" sh -c "echo \"\$1\" | sed -n '/^#$t1 /,/^\$/p' | grep -q 'assigned to maria'" - "$out"
check "wrote again under its ticket" sh -c "echo \"\$1\" | sed -n '/^#$t2 /,/^\$/p' | grep -q 'wrote again'" - "$out"
check "no control characters" sh -c "! printf '%s' \"\$1\" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'" - "$out"

$INTAKE changes $C --format json > "$T/c.json"
check "json: tickets, changes, summary" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
ids = [t["id"] for t in d["tickets"]]
assert ids == [int(sys.argv[2]), int(sys.argv[3])], ids
k = [c["change"] for c in d["tickets"][0]["changes"]]
assert k == ["arrived", "acknowledged", "assigned", "noted", "closed"], k
k2 = [c["change"] for c in d["tickets"][1]["changes"]]
assert "wrote_again" in k2 and "reclassified" in k2, k2
assert d["summary"]["arrived"] == 2 and d["summary"]["closed"] == 1, d["summary"]
assert d["tickets"][0]["changes"][1]["actor"] == sys.argv[4]
' "$T/c.json" "$t1" "$t2" "$(id -un)"
$INTAKE changes $C --format csv > "$T/c.csv"
check "csv: one row a change, CRLF" $PY -c '
import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == raw.count(b"\n")
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows[0][0] == "ticket" and rows[0][8] == "change", rows[0]
assert len(rows) - 1 == sum(1 for r in rows[1:] if r[0] in (sys.argv[2], sys.argv[3]))
' "$T/c.csv" "$t1" "$t2"
$INTAKE changes $C --format html > "$T/c.html"
check "html escapes subjects and notes" sh -c "! grep -qi '<script\\|<b>' '$T/c.html' && grep -q '&lt;script&gt;' '$T/c.html'"
check "--since takes the old ticket in" [ "$($INTAKE changes $C --since 2000-01-01 --format json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["tickets"]))')" = 3 ]
check "--until before everything: nothing" sh -c "$INTAKE changes $C --since 2000-01-01 --until 2000-01-02 | grep -q '^nothing'"
$INTAKE changes $C --since yesterday >/dev/null 2>&1; rc=$?
check "bad --since: exit 64" [ "$rc" -eq 64 ]

# The default window starts at the current on-call shift (oncall.rota):
# maria's shift began 3 hours ago, so #t2's changes 5 hours ago are out.
q "update events set at = at - 5 * 3600 where ticket_id = $t2"
now=$(date +%s)
ics() {	# ics START_OFFSET END_OFFSET (seconds from now)
	cat <<ICS
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//intake test//EN
BEGIN:VEVENT
UID:shift
SUMMARY:maria
DTSTART:$(date -u -d "@$((now + $1))" +%Y%m%dT%H%M%SZ)
DTEND:$(date -u -d "@$((now + $2))" +%Y%m%dT%H%M%SZ)
END:VEVENT
END:VCALENDAR
ICS
}
ics -10800 10800 > "$T/oncall.ics"
{ cat "$T/intake.conf"; echo 'oncall = { rota = "oncall.ics"; people = ( { name = "maria"; email = "maria@example.org"; } ); };'; } > "$T/rota.conf"
R="-c $T/rota.conf"
$INTAKE changes $R --format json > "$T/s.json"
check "shift: only #t1 since the shift's start" $PY -c '
import json, sys, datetime
d = json.load(open(sys.argv[1]))
assert [t["id"] for t in d["tickets"]] == [int(sys.argv[2])], d["tickets"]
assert d["shift"] == "maria", d.get("shift")
since = datetime.datetime.fromisoformat(d["since"]).timestamp()
assert abs(since - (int(sys.argv[3]) - 10800)) < 1, (d["since"], sys.argv[3])
' "$T/s.json" "$t1" "$now"
check "shift: text says whose shift" sh -c "$INTAKE changes $R | head -n 1 | grep -q \"since the start of maria's shift): 1 ticket\""
check "shift: html says whose shift" sh -c "$INTAKE changes $R --format html | grep -q \"Since the start of maria&#39;s shift\|Since the start of maria's shift\""
check "no rota: still the last 12 hours" [ "$($INTAKE changes $C --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tickets"]), d["shift"])')" = "2 None" ]
check "--since overrides the shift" [ "$($INTAKE changes $R --since 2000-01-01 --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tickets"]), d["shift"])')" = "3 None" ]
# Overlapping shifts: the caller's own (oncall.people login), else the
# earliest.
ics -14400 10800 | sed 's/^SUMMARY:maria/SUMMARY:bob/; s/^UID:shift/UID:bob/' | sed '$d' > "$T/oncall.ics"
ics -10800 10800 | sed '1,3d' >> "$T/oncall.ics"
{ cat "$T/intake.conf"; echo 'oncall = { rota = "oncall.ics"; people = ( { name = "maria"; email = "maria@example.org"; }, { name = "bob"; email = "bob@example.org"; } ); };'; } > "$T/rota.conf"
check "overlap: the earliest shift" [ "$($INTAKE changes $R --format json | $PY -c 'import json,sys; print(json.load(sys.stdin)["shift"])')" = bob ]
{ cat "$T/intake.conf"; echo "oncall = { rota = \"oncall.ics\"; people = ( { name = \"maria\"; email = \"maria@example.org\"; login = \"$(id -un)\"; }, { name = \"bob\"; email = \"bob@example.org\"; } ); };"; } > "$T/rota.conf"
check "overlap: the caller's own shift" [ "$($INTAKE changes $R --format json | $PY -c 'import json,sys; print(json.load(sys.stdin)["shift"])')" = maria ]
ics 3600 7200 > "$T/oncall.ics"
check "a gap in the rota: the last 12 hours" [ "$($INTAKE changes $R --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tickets"]), d["shift"])')" = "2 None" ]
finish
