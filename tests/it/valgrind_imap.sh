#!/bin/sh
# valgrind over the daemon's network path (CI): `intaked --once` in process
# (valgrind cannot run under the parser child's seccomp filter) against a
# real Dovecot over TLS: connect, certificate check, LOGIN, UID search and
# fetch of 40 generated messages, store, \Seen marking; then the same with
# after = "move:Processed".  Any memory error or definite leak fails.
. "$(dirname "$0")/../lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "skip: valgrind is not installed"
	exit 77
fi
if [ -n "${INTAKE_SANITIZER:-}" ]; then
	echo "skip: sanitizer build (valgrind runs the normal build)"
	exit 77
fi
. "$TOP/tests/tools/imap-env.sh"
imap_setup
cd "$T" || exit 2
VG="valgrind -q --suppressions=$TOP/tests/valgrind.supp --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"

gen_mail 40 71
imap_conf "$T/seen.conf"
INTAKE_NO_SANDBOX=1 $VG "$INTAKED" --once -c "$T/seen.conf" 2>"$T/vg.err"; rc=$?
check "valgrind clean: intaked --once over IMAP/TLS, 40 messages (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || head -n 40 "$T/vg.err"
check "40 tickets" [ "$(q 'select count(*) from tickets')" = 40 ]
check "all 40 \\Seen on the server" [ "$(seen_count)" = 40 ]

gen_mail 10 72
imap_conf "$T/move.conf" 'after = "move:Processed"'
INTAKE_NO_SANDBOX=1 $VG "$INTAKED" --once -c "$T/move.conf" 2>"$T/vg.err"; rc=$?
check "valgrind clean: intaked --once over IMAP/TLS with move (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || head -n 40 "$T/vg.err"
check "10 messages moved to Processed" [ "$(msg_count Processed)" = 10 ]
finish
