#!/bin/sh
# valgrind over the ingest path (CI): `intake ingest` on a few messages
# (plain, multipart with attachments, charsets, a limit, garbage), one
# through the parser child (valgrind checks the parent's side), and
# `intaked --once` over the sample Maildir, in process (--no-sandbox:
# valgrind cannot run under the parser child's seccomp filter).  Any
# memory error or definite leak fails.
. "$(dirname "$0")/../lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "skip: valgrind is not installed"
	exit 77
fi
if [ -n "${INTAKE_SANITIZER:-}" ]; then
	echo "skip: sanitizer build (valgrind runs the normal build)"
	exit 77
fi
DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cp "$TOP"/tests/fixtures/sample-maildir/new/* "$MD/new/"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
limits = { max_mime_parts = 20; };
sources = ( { name = "box"; type = "maildir"; path = "mail"; } );
CONF
C="-c $T/intake.conf"
VG="valgrind -q --suppressions=$TOP/tests/valgrind.supp --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
S=$TOP/tests/fixtures/mime
head -c 2000 /dev/urandom > "$T/garbage.eml"
/usr/bin/python3 "$TOP/tests/tools/genmsg.py" parts 40 > "$T/parts.eml"
for f in "$S/cpython/data/msg_02.txt" "$S/mimekit/messages/japanese.txt" "$S/mimekit/tnef/ukr.eml" \
    "$S/enmime/dsn/testdata/simple_dsn_with_html.raw" "$S/stalwart-mail-parser/eml/malformed/003.eml" "$T/parts.eml" "$T/garbage.eml"; do
	[ -f "$f" ] || { fail "fixture $f missing"; continue; }
	$VG "$INTAKE" ingest --no-sandbox $C < "$f" >/dev/null 2>"$T/vg.err"; rc=$?
	check "valgrind clean: intake ingest $(basename "$f") (exit $rc)" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || head -n 30 "$T/vg.err"
done
# The parent's side of the parser child (request, transfers, reply
# validation) too: valgrind runs the parent; the child, executed by path
# under valgrind (parsechild.c child_path), runs natively with its filter.
# A new Message-ID, so that the message is parsed and stored, not a duplicate.
sed 's/^Message-ID: .*/Message-ID: <valgrind-child@example.org>/' "$S/mimekit/tnef/ukr.eml" > "$T/child.eml"
$VG "$INTAKE" ingest $C < "$T/child.eml" >"$T/child.json" 2>"$T/vg.err"
rc=$?
check "valgrind clean: intake ingest through the parser child (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || head -n 30 "$T/vg.err"
check "the parser child parsed it under valgrind" grep -q '"parse_status":"ok"' "$T/child.json"
check "and it is stored parsed" \
    [ "$(q "select count(*) from messages where message_id = 'valgrind-child@example.org' and parse_status = 'ok'")" -eq 1 ]
INTAKE_NO_SANDBOX=1 $VG "$INTAKED" --once $C 2>"$T/vg.err"; rc=$?
check "valgrind clean: intaked --once over the sample Maildir (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || head -n 30 "$T/vg.err"
check "every sample message stored" [ "$(q 'select count(*) from messages')" -ge 13 ]
finish
