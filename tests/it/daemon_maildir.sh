#!/bin/sh
# intaked over a Maildir: --once, marking after commit, no duplicates,
# unread messages in cur/, SIGTERM, SIGHUP with a bad file, --check-config.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
CONF
C="-c $T/intake.conf"
cp "$TOP"/tests/fixtures/sample-maildir/new/* "$MD/new/"
n=$(ls "$MD/new" | wc -l)
# A message a mail client moved to cur/ without reading it.
printf 'From: a@example.net\nSubject: moved\nMessage-ID: <moved@example.net>\n\nCan you send me statistics on trafficking in Ohio?\n' > "$MD/cur/1764000100.M9P1.host:2,"
n=$((n + 1))

$INTAKED --once $C 2>"$T/log1"; rc=$?
check "--once exits 0" [ "$rc" -eq 0 ]
check "one ticket per message" [ "$(q 'select count(*) from messages')" = "$n" ]
check "new/ is empty after the run" [ -z "$(ls "$MD/new")" ]
check "every message flagged S in cur/" [ "$(ls "$MD/cur" | grep -c ':2,.*S')" = "$n" ]
check "unread message in cur/ was stored" [ "$(q "select count(*) from messages where message_id = 'moved@example.net'")" = "1" ]
check "received_at is the file's mtime" [ "$(q "select count(*) from messages where received_at between strftime('%s','now') - 120 and strftime('%s','now') + 5")" = "$n" ]
check "source key is the unique name" [ "$(q "select source_key from messages where message_id = 'moved@example.net'")" = "1764000100.M9P1.host" ]
check "source state recorded" [ "$(q "select count(*) from source_state where source = 'box' and last_success_at is not null")" = "1" ]
check "no message text in the log" sh -c "! grep -qi -e passport -e sobrina -e landlord '$T/log1'"

$INTAKED --once $C 2>/dev/null
check "second run adds nothing" [ "$(q 'select count(*) from messages')" = "$n" ]

# A crash after commit, before the move: the file is back in new/.
f=$(ls "$MD/cur" | head -n 1)
mv "$MD/cur/$f" "$MD/new/${f%%:*}"
$INTAKED --once $C 2>/dev/null
check "stored-but-unmoved message is only moved" [ "$(q 'select count(*) from messages')" = "$n" ]
check "and now it is in cur/" [ -z "$(ls "$MD/new")" ]

# The foreground service: picks up a new message, SIGHUP with a broken
# file keeps the old configuration, SIGTERM exits 0.
$INTAKED $C 2>"$T/log2" &
pid=$!
sleep 1
printf 'From: b@example.net\nSubject: new\nMessage-ID: <live@example.net>\n\nWhere can I find a shelter in Denver tonight?\n' > "$MD/tmp/live"
mv "$MD/tmp/live" "$MD/new/1764000200.M1P2.host"
for i in $(seq 50); do [ "$(q "select count(*) from messages where message_id = 'live@example.net'")" = "1" ] && break; sleep 0.2; done
check "the running service stores a new message" [ "$(q "select count(*) from messages where message_id = 'live@example.net'")" = "1" ]
cp "$T/intake.conf" "$T/good.conf"
printf 'database = "intake.db"\nsources = oops;\n' > "$T/intake.conf"
kill -HUP "$pid"
sleep 1
check "bad reload is refused, service alive" kill -0 "$pid"
check "bad reload logged with FILE:LINE" grep -q "intake.conf:2" "$T/log2"
cp "$T/good.conf" "$T/intake.conf"
printf 'From: c@example.net\nSubject: after\nMessage-ID: <after@example.net>\n\nI want information about the definition of forced labor.\n' > "$MD/new/1764000300.M1P3.host"
for i in $(seq 50); do [ "$(q "select count(*) from messages where message_id = 'after@example.net'")" = "1" ] && break; sleep 0.2; done
check "still ingesting after the refused reload" [ "$(q "select count(*) from messages where message_id = 'after@example.net'")" = "1" ]
kill -HUP "$pid"
sleep 0.5
check "good reload accepted" grep -q "configuration reloaded" "$T/log2"
kill -TERM "$pid"
wait "$pid"; rc=$?
check "SIGTERM exits 0" [ "$rc" -eq 0 ]
check "log lines carry priorities" sh -c "grep -v '^<[3-7]>intaked: ' '$T/log2' | wc -l | grep -qx 0"

$INTAKED --check-config $C >/dev/null 2>&1; rc=$?
check "--check-config ok exits 0" [ "$rc" -eq 0 ]
printf 'database = "x.db";\nbogus = 1;\n' > "$T/bad.conf"
$INTAKED --check-config -c "$T/bad.conf" 2>"$T/e" >/dev/null; rc=$?
check "--check-config bad exits 78" [ "$rc" -eq 78 ]
check "--check-config names FILE:LINE" grep -q "bad.conf:2: unknown setting 'bogus'" "$T/e"
$INTAKED --bogus-option 2>/dev/null; rc=$?
check "bad option exits 64" [ "$rc" -eq 64 ]
finish
