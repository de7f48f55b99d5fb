#!/bin/sh
# SMTP authentication with smtp.user and smtp.password_file: the right
# password delivers; a wrong one is a failure (exit 75, nothing recorded);
# a password file others can read is refused before connecting.
. "$(dirname "$0")/../lib.sh"
need_py
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$T/intake.db"
start_smtp "$T/smtp" 0 'relay:pa55 word'
printf 'pa55 word\n' >"$T/good"
printf 'nope\n' >"$T/bad"
printf 'pa55 word\n' >"$T/open"
chmod 600 "$T/good" "$T/bad"
chmod 644 "$T/open"
conf() {	# FILE PASSWORD-FILE
	cat >"$1" <<CONF
database = "$DB";
timezone = "America/New_York";
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "intake@example.org";
    user = "relay"; password_file = "$2"; };
remind = { at = ["08:30"]; to = ["staff@example.org"]; };
CONF
}
conf "$T/good.conf" "$T/good"
conf "$T/bad.conf" "$T/bad"
conf "$T/open.conf" "$T/open"
printf 'From: a@example.net\r\nSubject: hi\r\nMessage-ID: <a1@x>\r\n\r\nplease call me\r\n' |
    "$INTAKE" ingest -c "$T/good.conf" >/dev/null || die "ingest"
sqlite3 "$DB" "update tickets set status='open', automated=0, response_due=$(epoch 2026-12-01T12:00:00Z), breach_at=$(epoch 2026-12-01T13:00:00Z)"
run() { INTAKE_NOW=2026-12-01T08:40:00-05:00 "$INTAKE" remind -c "$T/$1.conf" 2>"$T/err"; }

run bad
rc=$?
[ $rc = 75 ] || die "wrong password: exit $rc"
grep -qi 'login\|auth' "$T/err" || die "no clear error: $(cat "$T/err")"
run open
rc=$?
[ $rc = 75 ] || die "readable password file: exit $rc"
grep -q 'readable by others' "$T/err" || die "no secrecy error: $(cat "$T/err")"
[ "$(sqlite3 "$DB" 'select count(*) from remind_runs')" = 0 ] || die "recorded a failed send"
! ls "$T"/smtp/mail-*.eml >/dev/null 2>&1 || die "mail accepted without authentication"
run good || die "right password: exit $?: $(cat "$T/err")"
grep -q '"auth": "relay"' "$T/smtp/mail-1.env" || die "not authenticated: $(cat "$T/smtp/mail-1.env")"
ok "SMTP AUTH"
finish
