#!/bin/sh
# valgrind over the daemon's libcurl paths (CI): `intaked --once
# --no-sandbox` polling the HTTP message source (bearer token, JSON page,
# cursor) and delivering the urgent alert that message raises by webhook and
# by SMTP, against loopback servers.  Any memory error or definite leak
# fails.
. "$(dirname "$0")/../lib.sh"
need_py
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed"
[ -z "${INTAKE_SANITIZER:-}" ] || skip "sanitizer build (valgrind runs the normal build)"
"$PY" -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"
DB="$T/intake.db"
VG="valgrind -q --suppressions=$TOP/tests/valgrind.supp --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"

start_smtp "$T/smtp"
start_http "$T/web" tok-9
printf 'tok-9\n' >"$T/token"
chmod 600 "$T/token"
printf '{"messages":[{"id":"v1","from":"+15550009","received_at":"2026-11-27T10:00:00-05:00","text":"my boss took my passport and locks me in, please help"}],"next_cursor":"c1"}' \
    >"$T/web/page-start.json"
cat >"$T/intake.conf" <<CONF
database = "$DB";
timezone = "America/New_York";
sources = ( { name = "sms"; type = "http"; url = "http://127.0.0.1:$HTTP_PORT/v1/messages";
    token_file = "$T/token"; poll_interval = 60; timeout = 5; } );
alerts = { webhook = "http://127.0.0.1:$HTTP_PORT/hook"; to = ["oncall@example.org"]; };
smtp = { url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Intake <intake@example.org>"; };
CONF
INTAKE_NO_SANDBOX=1 $VG "$INTAKED" --once -c "$T/intake.conf" 2>"$T/vg.err"
rc=$?
[ "$rc" -eq 0 ] || { head -n 40 "$T/vg.err"; die "valgrind: intaked --once exit $rc"; }
ok "valgrind clean: intaked --once, HTTP source + webhook + SMTP alerts"
[ "$(sqlite3 "$DB" 'select count(*) from tickets')" = 1 ] || die "no ticket from the HTTP source"
[ "$(sqlite3 "$DB" "select cursor from source_state where source='sms'")" = c1 ] || die "cursor not c1"
# The message is from 2026-11-27, long overdue: the escalation steps are
# queued beside the first alert (issue 14), so count channels, not rows.
[ "$(sqlite3 "$DB" "select count(distinct channel) from outbox where kind='alert' and delivered_at is not null")" = 2 ] &&
[ "$(sqlite3 "$DB" "select count(*) from outbox where delivered_at is null")" = 0 ] ||
    die "alerts not both delivered: $(sqlite3 "$DB" 'select channel, last_error from outbox')"
ok "ticket stored, cursor advanced, webhook and SMTP alerts delivered"
finish
