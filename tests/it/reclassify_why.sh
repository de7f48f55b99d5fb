#!/bin/sh
# intake reclassify (issue 12 item 23): the rationale ("why:" in every list)
# then names the new type and that staff set it, by whom, first; one staff
# line however often it is reclassified; triage's reasons stay after it.
# An urgency the contract forbids for the type is a usage error (64) that
# names the rule ("info is always routine"), not "nothing changed".
. "$(dirname "$0")/../lib.sh"
ME=$(id -un)	# the actor: --by beside the login

office_conf
crisis_mail 'Ana <ana@example.net>' help rw1@example.net |
    $INTAKE ingest $C >/dev/null
t=$(q 'select id from tickets')
check "triage: crisis" [ "$(q "select type from tickets where id = $t")" = crisis ]
why0=$(q "select json_extract(rationale, '\$[0]') from tickets where id = $t")

$INTAKE reclassify "$t" --type tip --urgency routine --by carol $C >/dev/null 2>"$T/e1"; rc=$?
check "reclassify exits 0" [ "$rc" -eq 0 ]
check "rationale[0] names the new type and carol" [ "$(q "select json_extract(rationale, '\$[0]') from tickets where id = $t")" = "staff (carol ($ME)) reclassified: tip, routine (was crisis, urgent)" ]
check "triage's reasons stay after it" [ "$(q "select json_extract(rationale, '\$[1]') from tickets where id = $t")" = "$why0" ]
fu=$($INTAKE followups --all-open --format json $C)
check "followups JSON: rationale starts with the staff line" sh -c "echo \"\$1\" | grep -q '\"rationale\":\"staff (carol ($ME)) reclassified: tip, routine (was crisis, urgent); '" sh "$fu"
fut=$($INTAKE followups --all-open $C)
check "followups text: why: names tip and carol" sh -c "echo \"\$1\" | grep -q 'why: staff (carol ($ME)) reclassified: tip, routine'" sh "$fut"
show=$($INTAKE show "$t" $C)
check "show: Why: starts with the staff line" sh -c "echo \"\$1\" | grep -q '^Why:           - staff (carol ($ME)) reclassified: tip, routine (was crisis, urgent)'" sh "$show"

$INTAKE reclassify "$t" --type referral --urgency urgent --minor 1 --by dana $C >/dev/null 2>&1
check "again: one staff line, naming dana and referral" [ "$(q "select json_extract(rationale, '\$[0]') || '|' || (select count(*) from json_each(rationale) where value like 'staff (%') from tickets where id = $t")" = "staff (dana ($ME)) reclassified: referral, urgent, minor (was tip, routine)|1" ]

# The contract's fixed urgencies.
$INTAKE reclassify "$t" --type info --by dana $C >/dev/null 2>&1
check "to info (urgency from the contract)" [ "$(q "select type || '/' || urgency from tickets where id = $t")" = info/routine ]
ev=$(q "select count(*) from events where ticket_id = $t and kind = 'reclassify'")
$INTAKE reclassify "$t" --type info --urgency urgent $C >/dev/null 2>"$T/e2"; rc=$?
check "info --urgency urgent: exit 64" [ "$rc" -eq 64 ]
check "it says: info is always routine" grep -q 'intake reclassify: info is always routine' "$T/e2"
check "not 'already has that classification'" sh -c "! grep -q 'already has' '$T/e2'"
$INTAKE reclassify "$t" --type crisis --urgency routine $C >/dev/null 2>"$T/e3"; rc=$?
check "crisis --urgency routine: 64, crisis is always urgent" sh -c "[ $rc -eq 64 ] && grep -q 'crisis is always urgent' '$T/e3'"
$INTAKE reclassify "$t" --type automated --urgency routine $C >/dev/null 2>"$T/e4"; rc=$?
check "automated --urgency routine: 64, no urgency" sh -c "[ $rc -eq 64 ] && grep -q 'automated has no urgency' '$T/e4'"
check "nothing changed by the refused ones" [ "$(q "select type || '/' || urgency || '/' || (select count(*) from events where ticket_id = $t and kind = 'reclassify') from tickets where id = $t")" = "info/routine/$ev" ]
finish
