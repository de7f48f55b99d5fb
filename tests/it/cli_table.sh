#!/bin/sh
# The command table of intake.c against intake(1) (issue 13, "one command
# table"): every command of `intake --help` has an entry in intake(1)'s
# COMMANDS and back; `intake CMD --help` and `intake help CMD` exit 0 with
# usage lines on stdout that are intake(1)'s synopses word for word (less
# the common [-c FILE]); an unknown option exits 64 (ingest: 75, so the MTA
# keeps the message), usage on stderr, nothing on stdout.
. "$(dirname "$0")/../lib.sh"

man1="$TOP/doc/intake.1"
# intake(1)'s command tags, roff removed: the .B line after each .TP in
# COMMANDS ("followups [--overdue | ...]"), not those indented in .RS/.RE
# (followups' list of formats).
sed -n '/^\.SH COMMANDS/,/^\.SH OPTIONS/p' "$man1" |
    awk '/^\.RS/ { d++ } /^\.RE/ { d-- }
	d == 0 && prev == ".TP" && /^\.B / { print } { prev = $0 }' |
    sed -e 's/^\.B //' -e 's/\\f[RPIB]//g' -e 's/\\-/-/g' -e 's/\\&//g' \
    > "$T/synopses"
# The command names: the leading words of a tag that are plain names.
awk '{ n = $1; if ($2 ~ /^[a-z]+$/) n = n " " $2; print n }' "$T/synopses" |
    sort -u > "$T/man-commands"
# The table, as `intake --help` lists it ("  NAME[ WORD]  summary").
$INTAKE --help | sed -n '/^commands:$/,/^$/p' |
    sed -n 's/^  \([a-z]\{1,\}\( [a-z]\{1,\}\)\{0,1\}\)  .*/\1/p' |
    sort -u > "$T/table-commands"
check "intake --help lists commands" [ -s "$T/table-commands" ]
check "intake(1) has command tags" [ -s "$T/man-commands" ]
check "every command of the table is in intake(1)" sh -c \
    "comm -23 '$T/table-commands' '$T/man-commands' | { ! grep .; }"
check "every command of intake(1) is in the table" sh -c \
    "comm -13 '$T/table-commands' '$T/man-commands' | { ! grep .; }"

while read -r cmd; do
	# shellcheck disable=SC2086
	$INTAKE $cmd --help > "$T/out" 2> "$T/err"; rc=$?
	check "intake $cmd --help: exit 0 (got $rc)" [ "$rc" -eq 0 ]
	check "intake $cmd --help: nothing on stderr" [ ! -s "$T/err" ]
	sed -n 's/^\(usage:\|      \) intake //p' "$T/out" |
	    sed 's/ \[-c FILE\]$//' > "$T/usage"
	check "intake $cmd --help: a usage line" [ -s "$T/usage" ]
	while read -r line; do
		check "intake $cmd: '$line' is in intake(1)" \
		    grep -qxF -- "$line" "$T/synopses"
	done < "$T/usage"
	# shellcheck disable=SC2086
	$INTAKE help $cmd > "$T/out2" 2>/dev/null; rc=$?
	check "intake help $cmd: exit 0, the same text (got $rc)" sh -c \
	    "[ $rc -eq 0 ] && cmp -s '$T/out' '$T/out2'"
	want=64
	[ "$cmd" = ingest ] && want=75
	# shellcheck disable=SC2086
	$INTAKE $cmd --no-such-option < /dev/null > "$T/out" 2> "$T/err"; rc=$?
	check "intake $cmd --no-such-option: exit $want (got $rc)" [ "$rc" -eq "$want" ]
	check "intake $cmd --no-such-option: usage on stderr" \
	    grep -q '^usage: intake ' "$T/err"
	check "intake $cmd --no-such-option: nothing on stdout" [ ! -s "$T/out" ]
done < "$T/table-commands"

$INTAKE no-such-command > "$T/out" 2>&1; rc=$?
check "unknown command: exit 64 (got $rc)" [ "$rc" -eq 64 ]
$INTAKE help no-such-command > /dev/null 2>&1; rc=$?
check "intake help unknown: exit 64 (got $rc)" [ "$rc" -eq 64 ]
for grp in db triage; do
	$INTAKE $grp --help > "$T/out" 2>/dev/null; rc=$?
	check "intake $grp --help: exit 0, its commands' usage (got $rc)" sh -c \
	    "[ $rc -eq 0 ] && grep -q '^usage: intake $grp ' '$T/out'"
	$INTAKE $grp > "$T/out" 2> "$T/err"; rc=$?
	check "intake $grp alone: exit 64, usage on stderr (got $rc)" sh -c \
	    "[ $rc -eq 64 ] && [ ! -s '$T/out' ] && grep -q '^usage: intake $grp ' '$T/err'"
done
for c in status show list; do
	$INTAKE $c --format xml 1 > /dev/null 2> "$T/err"; rc=$?
	check "intake $c --format xml: exit 64 (got $rc)" sh -c \
	    "[ $rc -eq 64 ] && grep -q 'format must be text or json' '$T/err'"
done
finish
