#!/bin/sh
# A step of the wall clock delays no poll (issue 12 item 7): intaked runs
# under libfaketime with the wall clock alone stepped back an hour
# (FAKETIME_DONT_FAKE_MONOTONIC), and a message dropped in new/ after the
# step is still stored at the next poll_interval.  Scheduling on the wall
# clock waited the whole hour.
. "$(dirname "$0")/../lib.sh"

FT=
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
    /usr/lib/*/faketime/libfaketime.so.1; do
	[ -f "$f" ] && { FT=$f; break; }
done
if [ -z "$FT" ]; then
	echo "skip: libfaketime not installed (tools/deps.sh)"
	exit 77
fi
DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
CONF
echo "+0" > "$T/faketime"
LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE="$T/faketime" FAKETIME_NO_CACHE=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1 \
    $INTAKED --no-sandbox -c "$T/intake.conf" 2>"$T/log" &
pid=$!
stop_daemon() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
at_exit stop_daemon

# Wait for the first poll, then step the wall clock back an hour.
for i in $(seq 100); do
	[ -n "$(q "select last_poll_at from source_state where source = 'box'" 2>/dev/null)" ] && break
	sleep 0.2
done
check "the first poll happened" [ -n "$(q "select last_poll_at from source_state where source = 'box'")" ]
echo "-3600" > "$T/faketime"
sleep 1
printf 'From: a@example.net\nSubject: crisis\nMessage-ID: <step@example.net>\n\nHe took my passport and I cannot leave, please help.\n' > "$MD/tmp/m"
mv "$MD/tmp/m" "$MD/new/1764000500.M1P1.host"
# poll_interval is 1 s; a generous 30 s for a busy machine (the bug waits
# the whole hour).
for i in $(seq 150); do
	[ "$(q "select count(*) from messages where message_id = 'step@example.net'")" = "1" ] && break
	sleep 0.2
done
check "a message after the clock stepped back is polled" [ "$(q "select count(*) from messages where message_id = 'step@example.net'")" = "1" ]
check "the daemon is alive" kill -0 "$pid"
finish
