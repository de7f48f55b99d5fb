#!/bin/sh
# Crisis first in a backlog (issue 19 item 2): intaked --once over a Maildir
# of 300 messages (three batches of 100) with one crisis early in the first
# batch.  The SMTP sink holds its answer to the alert (--hold) while the
# test looks at the database: the alert went out right after the first
# batch's commit, with the rest of the backlog not yet ingested.  Then the
# rest is stored, and the alert is not sent again.  No timing asserts: the
# daemon is stopped inside the alert's delivery.
. "$(dirname "$0")/../lib.sh"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "skip: python3-aiosmtpd missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 missing"; exit 77; }
DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp" "$T/smtp"
sink=
daemon=
stop_all() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	[ -n "$sink" ] && kill "$sink" 2>/dev/null
	wait 2>/dev/null
}
at_exit stop_all
/usr/bin/python3 "$TOP/tests/tools/smtp_sink.py" --dir "$T/smtp" \
    --port-file "$T/smtp/port" --hold "$T/release" >"$T/smtp/log" 2>&1 &
sink=$!
i=0
while [ ! -s "$T/smtp/port" ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 60; } );
alerts = { to = ["oncall@example.org"]; };
smtp = { url = "smtp://127.0.0.1:$(cat "$T/smtp/port")"; from = "Intake <intake@example.org>"; };
CONF
# Names sort in delivery order (the Maildir driver lists them so).
for n in $(seq 1 300); do
	f=$(printf '%s/tmp/1764000000.M%04dP1.host' "$MD" "$n")
	if [ "$n" = 5 ]; then
		printf 'From: Ana <ana@example.net>\nSubject: help\nMessage-ID: <crisis@example.net>\n\nMy boss took my passport and I cannot leave the house.\n' >"$f"
	else
		printf 'From: p%d@example.net\nSubject: question %d\nMessage-ID: <q%d@example.net>\n\nWhen is the next training for our staff? Group %d.\n' "$n" "$n" "$n" "$n" >"$f"
	fi
	mv "$f" "$MD/new/"
done
"$INTAKED" --once -c "$T/intake.conf" 2>"$T/log" &
daemon=$!
# Wait for the alert (or for the daemon to end without one).
i=0
while [ ! -s "$T/smtp/mail-1.env" ] && kill -0 "$daemon" 2>/dev/null && [ $i -lt 1200 ]; do
	i=$((i + 1)); sleep 0.1
done
check "the crisis alert was sent" [ -s "$T/smtp/mail-1.env" ]
during=$(q 'select count(*) from messages')
check "alerted right after the first batch: $during of 300 stored when it went out" [ "$during" -lt 300 ]
check "the alerted ticket is stored and urgent" [ "$(q "select t.urgency from tickets t join messages m on m.ticket_id = t.id where m.message_id = 'crisis@example.net'")" = urgent ]
check "the alert is about the crisis ticket" grep -q 'URGENT' "$T/smtp/mail-1.eml"
touch "$T/release"
wait "$daemon"; rc=$?; daemon=
check "--once exits 0" [ "$rc" -eq 0 ]
check "then the whole backlog is stored" [ "$(q 'select count(*) from messages')" = 300 ]
check "the alert is recorded as delivered" [ "$(q "select count(*) from outbox where kind = 'alert' and delivered_at is not null")" = 1 ]
check "and not sent again at the end of the poll" [ "$(ls "$T/smtp" | grep -c '^mail-.*\.eml$')" = 1 ]
check "no message text in the log" sh -c "! grep -qi -e passport -e training '$T/log'"
finish
