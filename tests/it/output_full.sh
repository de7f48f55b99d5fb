#!/bin/sh
# Output that cannot be written is an error, never exit 0 (issue 12 item
# 20): `intake show 1 > /dev/full` used to exit 0 with the list lost.
# And on a terminal, --check-config errors read FILE:LINE: message (item 24).
. "$(dirname "$0")/../lib.sh"

[ -w /dev/full ] || { echo "skip: no /dev/full"; exit 77; }
DB=$T/intake.db
printf 'database = "intake.db";\n' > "$T/intake.conf"
C="-c $T/intake.conf"
printf 'From: a@example.net\nSubject: help\n\nWhere can I find a shelter?\n' | $INTAKE ingest $C >/dev/null
for cmd in "show 1" "list" "followups" "followups --format json" "status" "search shelter" "changes"; do
	# shellcheck disable=SC2086
	$INTAKE $cmd $C > /dev/full 2>"$T/err"; rc=$?
	check "'$cmd' > /dev/full exits 74" [ "$rc" -eq 74 ]
	check "'$cmd' says what failed" grep -q 'writ' "$T/err"
	$INTAKE $cmd $C > /dev/null 2>&1; rc=$?
	check "'$cmd' > /dev/null still exits 0" [ "$rc" -eq 0 ]
done
printf 'From: b@example.net\nSubject: again\n\nA second message.\n' | $INTAKE ingest $C > /dev/full 2>/dev/null; rc=$?
check "ingest with a full stdout still exits 0 (stored: the MTA reads only the code)" [ "$rc" -eq 0 ]
check "and the message is stored" [ "$(q 'select count(*) from messages')" = "2" ]
check "intake -V prints the version" sh -c "$INTAKE -V | grep -q '^intake [0-9]'"
printf 'database = "x.db";\nsla = { urgent_response_minutes = -3; };\n' > "$T/bad.conf"
if command -v script >/dev/null; then
	script -qc "$INTAKED --check-config -c $T/bad.conf" /dev/null > "$T/tty.out" 2>&1
	check "on a terminal the error starts FILE:LINE:" grep -q "^$T/bad.conf:2: " "$T/tty.out"
	check "on a terminal no <N> priority prefix" sh -c "! grep -q '^<[0-9]>' '$T/tty.out'"
else
	echo "skip: no script(1) for the terminal check"
fi
$INTAKED --check-config -c "$T/bad.conf" 2> "$T/pipe.out"
check "to a pipe the journal prefix stays" grep -q "^<3>intaked: $T/bad.conf:2: " "$T/pipe.out"
finish
