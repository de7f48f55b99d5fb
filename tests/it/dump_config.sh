#!/bin/sh
# intaked --dump-config: the effective configuration in libconfig syntax,
# defaults filled in; secret files and commands as "<file>"/"<command>",
# never their path or what they hold; a bad file exits 78 with FILE:LINE.
. "$(dirname "$0")/../lib.sh"

printf 'hunter2-imap\n' > "$T/imap.pass"
chmod 600 "$T/imap.pass"
cat > "$T/intake.conf" <<CONF
database = "intake.db";
sources = (
  { name = "box"; type = "maildir"; path = "mail"; },
  { name = "mx"; type = "imap"; host = "127.0.0.1"; tls = "starttls";
    user = "u"; password_file = "imap.pass"; },
  { name = "oauth"; type = "imap"; host = "imap.example.org"; user = "u";
    auth = "xoauth2"; token_command = "echo hunter2-token"; }
);
CONF
$INTAKED -c "$T/intake.conf" --dump-config >"$T/dump" 2>"$T/err"; rc=$?
check "--dump-config exits 0 (rc $rc)" [ "$rc" -eq 0 ]
check "nothing on stderr" [ ! -s "$T/err" ]
check "paths resolved" grep -qx "database = \"$T/intake.db\";" "$T/dump"
check "defaults filled in: port 143 for starttls" grep -qx '    port = 143;' "$T/dump"
check "defaults filled in: limits" grep -qx '  max_headers = 1000;' "$T/dump"
check "password_file shown as <file>" grep -qx '    password_file = "<file>";' "$T/dump"
check "token_command shown as <command>" grep -qx '    token_command = "<command>";' "$T/dump"
check "no secret, no secret file's name" sh -c "! grep -q 'hunter2\|imap.pass' '$T/dump'"
# Read back (the secrets are placeholders: --dump-config reads no secret
# file of a dump, but the daemon would): same dump.
sed 's/"<file>"/"imap.pass"/; s/"<command>"/"true"/' "$T/dump" > "$T/again.conf"
$INTAKED -c "$T/again.conf" --dump-config >"$T/dump2" 2>"$T/err2"; rc=$?
check "the dump reads back (rc $rc)" [ "$rc" -eq 0 ]
check "and dumps the same" cmp -s "$T/dump" "$T/dump2"
printf 'database = "x.db";\nlimits = { max_headers = 5; };\n' > "$T/bad.conf"
$INTAKED -c "$T/bad.conf" --dump-config >"$T/out3" 2>"$T/err3"; rc=$?
check "a bad file exits 78 (rc $rc)" [ "$rc" -eq 78 ]
check "with FILE:LINE" grep -q "bad.conf:2: limits.max_headers must be between 10 and 100000" "$T/err3"
check "and dumps nothing" [ ! -s "$T/out3" ]
# A PostgreSQL database (issue 18): kept as written, never its password.
printf 'database = "host=db.example.org dbname=intake";\n' > "$T/pg.conf"
$INTAKED -c "$T/pg.conf" --dump-config >"$T/out4" 2>&1; rc=$?
check "a libpq connection string is no path (rc $rc)" grep -qx 'database = "host=db.example.org dbname=intake";' "$T/out4"
printf 'database = "postgresql://u:hunter2@db.example.org/intake";\n' > "$T/pg.conf"
$INTAKED -c "$T/pg.conf" --dump-config >"$T/out4" 2>&1; rc=$?
check "a URI with a password dumps (rc $rc)" [ "$rc" -eq 0 ]
check "... without the password" sh -c "! grep -q hunter2 '$T/out4'"
finish
