#!/bin/sh
# SMTP authentication with smtp.user and smtp.password_file: the right
# password delivers; a wrong one is a failure (exit 75, nothing recorded);
# a password file others can read is refused before connecting.
. "${INTAKE_TOP:-.}/tests/tools/it-lib.sh"
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$tmp/intake.db"
start_smtp "$tmp/smtp" 0 'relay:pa55 word'
printf 'pa55 word\n' >"$tmp/good"
printf 'nope\n' >"$tmp/bad"
printf 'pa55 word\n' >"$tmp/open"
chmod 600 "$tmp/good" "$tmp/bad"
chmod 644 "$tmp/open"
conf() {	# FILE PASSWORD-FILE
	cat >"$1" <<CONF
database = "$DB";
timezone = "America/New_York";
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "intake@example.org";
    user = "relay"; password_file = "$2"; };
remind = { at = ["08:30"]; to = ["staff@example.org"]; };
CONF
}
conf "$tmp/good.conf" "$tmp/good"
conf "$tmp/bad.conf" "$tmp/bad"
conf "$tmp/open.conf" "$tmp/open"
printf 'From: a@example.net\r\nSubject: hi\r\nMessage-ID: <a1@x>\r\n\r\nplease call me\r\n' |
    "$INTAKE" ingest -c "$tmp/good.conf" >/dev/null || fail "ingest"
sqlite3 "$DB" "update tickets set status='open', automated=0, response_due=$(epoch 2026-12-01T12:00:00Z), breach_at=$(epoch 2026-12-01T13:00:00Z)"
run() { INTAKE_NOW=2026-12-01T08:40:00-05:00 "$INTAKE" remind -c "$tmp/$1.conf" 2>"$tmp/err"; }

run bad
rc=$?
[ $rc = 75 ] || fail "wrong password: exit $rc"
grep -qi 'login\|auth' "$tmp/err" || fail "no clear error: $(cat "$tmp/err")"
run open
rc=$?
[ $rc = 75 ] || fail "readable password file: exit $rc"
grep -q 'readable by others' "$tmp/err" || fail "no secrecy error: $(cat "$tmp/err")"
[ "$(sqlite3 "$DB" 'select count(*) from remind_runs')" = 0 ] || fail "recorded a failed send"
! ls "$tmp"/smtp/mail-*.eml >/dev/null 2>&1 || fail "mail accepted without authentication"
run good || fail "right password: exit $?: $(cat "$tmp/err")"
grep -q '"auth": "relay"' "$tmp/smtp/mail-1.env" || fail "not authenticated: $(cat "$tmp/smtp/mail-1.env")"
echo ok
