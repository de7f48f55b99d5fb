#!/bin/sh
# The Maildir source against what else can sit in new/ and cur/ (issue 12
# items 2 and 3): a symbolic link to a secret and a FIFO are "not a
# message" (never read, left in place, shown by intake status) and block
# nothing; a cur/ message already flagged S but not stored is ingested.
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
MD=$T/mail
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = ( { name = "box"; type = "maildir"; path = "mail"; poll_interval = 1; } );
CONF
C="-c $T/intake.conf"
printf 'SECRET-PASSWORD-LINE\n' > "$T/secret"
chmod 600 "$T/secret"
ln -s "$T/secret" "$MD/new/1764000001.M1P1.host"
mkfifo "$MD/new/1764000002.M1P1.host"
printf 'From: a@example.net\nSubject: ok\nMessage-ID: <fine@example.net>\n\nWhere can I find a shelter in Denver tonight?\n' > "$MD/new/1764000003.M1P1.host"
# Read in webmail on a shared Maildir before intake ever saw it.
printf 'From: b@example.net\nSubject: seen\nMessage-ID: <seen@example.net>\n\nCan you send me statistics on trafficking in Ohio?\n' > "$MD/cur/1764000004.M1P1.host:2,S"

# A FIFO once blocked open() for ever: bound the run so a hang fails.
timeout 60 $INTAKED --once --no-sandbox $C 2>"$T/log1"; rc=$?
check "--once finishes and exits 0 beside a FIFO and a symlink" [ "$rc" -eq 0 ]
check "the regular message is stored" [ "$(q "select count(*) from messages where message_id = 'fine@example.net'")" = "1" ]
check "the S-flagged message in cur/ is stored" [ "$(q "select count(*) from messages where message_id = 'seen@example.net'")" = "1" ]
check "nothing else is stored (no symlink, no FIFO)" [ "$(q 'select count(*) from messages')" = "2" ]
check "the secret behind the symlink is in no ticket" [ "$(q "select count(*) from messages where raw like '%SECRET-PASSWORD%' or text like '%SECRET-PASSWORD%'")" = "0" ]
check "the symlink is left in place" [ -L "$MD/new/1764000001.M1P1.host" ]
check "the FIFO is left in place" [ -p "$MD/new/1764000002.M1P1.host" ]
check "the S-flagged message keeps its name" [ -f "$MD/cur/1764000004.M1P1.host:2,S" ]
check "the log names what is not a message" grep -q "not a message (a symbolic link)" "$T/log1"
check "the log names the FIFO" grep -q "not a message (a FIFO)" "$T/log1"
st=$($INTAKE status $C 2>&1)
check "intake status shows 'not a message'" sh -c "echo \"\$1\" | grep -q 'not a message'" sh "$st"
check "and the source is not failing" sh -c "echo \"\$1\" | grep -q '0 failures in a row'" sh "$st"
stj=$($INTAKE status --format json $C 2>&1)
check "status JSON carries the note" sh -c "echo \"\$1\" | grep -q 'not a message'" sh "$stj"

timeout 60 $INTAKED --once --no-sandbox $C 2>/dev/null
check "a second run stores nothing more" [ "$(q 'select count(*) from messages')" = "2" ]
finish
