#!/bin/sh
# Bad dates given to options exit 64 (EX_USAGE), and intake(1) and
# doc/interfaces.md say so (issue 12 item 24: the page said 65): each
# option is run with a bad date, and the pages' exit-code entries are read.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
printf 'database = "%s";\ntimezone = "America/New_York";\n' "$DB" > "$T/intake.conf"
C="-c $T/intake.conf"
printf 'From: a@example.net\nSubject: s\n\nI need information.\n' | $INTAKE ingest $C >/dev/null
for args in "followups --due-before 2026-13-45" "list --since yesterday" \
    "purge --closed-before 2026-02-30T25:00" "search x --since nope" \
    "search x --until nope" "changes --since nope" "changes --until nope" \
    "followups --due-before 2026-12-01T10:00:00"; do
	$INTAKE $args $C >/dev/null 2>&1; rc=$?
	check "intake $args: exit 64 (got $rc)" [ "$rc" -eq 64 ]
done
$INTAKE sla --type crisis --received 2026-12-01T10:00:00 $C >/dev/null 2>&1; rc=$?
check "intake sla --received without offset: exit 65 (got $rc)" [ "$rc" -eq 65 ]

# intake(1): the 65 entry no longer claims bad dates; the 64 entry and the
# paragraph on instants name the options.
man1="$TOP/doc/intake.1"
e65=$(sed -n '/^\.B 65$/,/^\.TP$/p' "$man1")
e64=$(sed -n '/^\.B 64$/,/^\.TP$/p' "$man1")
check "intake(1): exit 65 is not 'bad date'" sh -c "! echo \"\$1\" | grep -qi 'bad date'" sh "$e65"
check "intake(1): exit 64 names a bad date or instant" sh -c "echo \"\$1\" | grep -q 'bad date'" sh "$e64"
check "intake(1): no 'refused (exit 65)' for bare local times" sh -c "! grep -q 'refused (exit 65)' '$man1'"
check "intake(1): the options exit 64" grep -q '^exits 64; a bad$' "$man1"
check "interfaces.md: 64 includes a bad date given to an option" grep -q '^| 64 | EX_USAGE | bad command line (including a bad date or instant given to an option' "$TOP/doc/interfaces.md"
finish
