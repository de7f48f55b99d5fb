#!/bin/sh
# triage_devset.sh: the classifier over the labeled development set
# (tests/fixtures/labeled, a copy of shared/corpus/labeled).  Prints the
# figures; fails when a crisis is missed, an automated message is missed or
# a human message is called automated.
set -u
top=${INTAKE_TOP:-.}
build=${INTAKE_BUILD:-$top/build}
[ -x "$build/intake" ] || { echo "no $build/intake"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3"; exit 77; }
INTAKE_BUILD=$build TRIAGE_REPORT_STRICT=1 \
    sh "$top/tools/triage-report.sh" "$top/tests/fixtures/labeled"
rc=$?
[ $rc -eq 0 ] || exit $rc
echo "== own-wording set"
INTAKE_BUILD=$build TRIAGE_REPORT_STRICT=1 \
    sh "$top/tools/triage-report.sh" "$top/tests/fixtures/triage-own"
