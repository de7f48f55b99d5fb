#!/bin/sh
# Issue 18: `intake db copy` moves a SQLite installation made by the real
# pipeline into a real PostgreSQL 15 (tests/tools/pg.sh): every table and
# row, ids kept, raw bytes byte for byte, sequences past the ids; --verify
# agrees; a second copy into the now non-empty database is refused; a
# changed raw message is found by `intake db verify`; the roles of
# sql/pg/roles.sql allow and refuse what they say.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/pg.sh"

# sql/pg/ must translate every migration of sql/: otherwise a copy is
# refused (exit 78), which is this test's failure, not a skip.
for f in "$TOP"/sql/[0-9][0-9][0-9]_*.sql; do
	n=$(basename "$f" | cut -c1-3)
	check "sql/pg/ has migration $n of sql/" sh -c "ls '$TOP'/sql/pg/${n}_*.sql >/dev/null 2>&1"
done

pg_start

DB=$T/intake.db
cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
CONF
C="-c $T/intake.conf"
export INTAKE_NO_SANDBOX=1

# The real pipeline: corpus messages, a message of raw bytes (NUL, invalid
# UTF-8, CR, tab, backslash: everything COPY must escape), workflow actions.
n=0
for f in "$TOP"/tests/fixtures/labeled/d00[1-6].eml; do
	$INTAKE ingest $C < "$f" >/dev/null && n=$((n + 1))
done
check "six corpus messages ingested" [ "$n" -eq 6 ]
{
	printf 'From: x@example.net\r\nSubject: bytes \\ and\ttab\r\nMessage-ID: <raw1@x>\r\n\r\n'
	head -c 4000 /dev/urandom
	printf '\000\377\r\n\\N\\.\n'
} > "$T/raw.eml"
$INTAKE ingest $C < "$T/raw.eml" >/dev/null
check "raw-bytes message ingested" [ "$(q 'select count(*) from messages')" = 7 ]
$INTAKE ack 1 --by alice $C >/dev/null
$INTAKE note 2 "Called back on 555-0142, niña safe" --by bob $C >/dev/null
$INTAKE assign 3 carol --by bob $C >/dev/null
$INTAKE close 4 --disposition resolved --by alice $C >/dev/null
check "workflow events recorded" [ "$(q "select count(*) from events where kind in ('ack','note','close')")" -ge 3 ]

# Nothing to copy from / to.
$INTAKE db copy --from "$T/none.db" --to "$PG_URL" 2>/dev/null; rc=$?
check "missing SQLite file: exit 66 (rc $rc)" [ "$rc" -eq 66 ]
$INTAKE db copy --from "$DB" 2>/dev/null; rc=$?
check "no --to: exit 64 (rc $rc)" [ "$rc" -eq 64 ]
$INTAKE db copy --from "$DB" --to "postgresql:///intake?host=$T/nowhere&port=1" 2>"$T/err"; rc=$?
check "unreachable server: exit 69 (rc $rc)" [ "$rc" -eq 69 ]

# The copy.
$INTAKE db copy --from "$DB" --to "$PG_URL" --verify >"$T/out" 2>"$T/err"; rc=$?
check "copy --verify exits 0 (rc $rc: $(head -c 300 "$T/err"))" [ "$rc" -eq 0 ]
check "copy says committed" grep -q "committed" "$T/out"
check "verify says same" grep -q "^verify: same" "$T/out"
want=$(ls "$TOP"/sql/[0-9]*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|' | paste -sd, -)
check "schema_version: every migration of sql/ ($want)" [ "$(pg_psql -c 'select string_agg(version::text, $$,$$ order by version) from schema_version')" = "$want" ]
for t in tickets messages events outbox source_state reminders remind_runs acks_sent escalations purge_log; do
	check "$t: same rows in PostgreSQL" [ "$(q "select count(*) from $t")" = "$(pg_psql -c "select count(*) from $t")" ]
done
check "ids kept (tickets)" [ "$(q "select group_concat(id, ',') from (select id from tickets order by id)")" = "$(pg_psql -c 'select string_agg(id::text, $$,$$ order by id) from tickets')" ]
check "ids kept (events)" [ "$(q "select group_concat(id || kind || actor, ',') from (select * from events order by id)")" = "$(pg_psql -c 'select string_agg(id::text || kind || actor, $$,$$ order by id) from events')" ]
# The raw bytes, out of PostgreSQL through psql (hex), equal the file.
id=$(q "select id from messages where message_id = 'raw1@x'")
pg_psql -c "select encode(raw, 'hex') from messages where id = $id" |
    python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > "$T/raw.out"
check "raw bytes equal, byte for byte" cmp -s "$T/raw.eml" "$T/raw.out"
check "sha256 column equals PostgreSQL's sha256(raw)" [ "$(pg_psql -c "select count(*) from messages where sha256 <> encode(sha256(raw), 'hex')")" = 0 ]
check "subject with tab and backslash kept" [ "$(q "select hex(subject) from messages where id = $id")" = "$(pg_psql -c "select upper(encode(convert_to(subject, 'UTF8'), 'hex')) from messages where id = $id")" ]
check "ticket columns kept (ack, close, assignee)" [ "$(q "select group_concat(coalesce(acknowledged_by,'') || '|' || coalesce(closed_at,'') || '|' || coalesce(assignee,'') || '|' || status || '|' || response_due, ';') from (select * from tickets order by id)")" = "$(pg_psql -c "select string_agg(coalesce(acknowledged_by,'') || '|' || coalesce(closed_at::text,'') || '|' || coalesce(assignee,'') || '|' || status || '|' || response_due, ';' order by id) from tickets")" ]
# Sequences past the largest id: a new row gets the next id.
max=$(q 'select max(id) from tickets')
nid=$(pg_psql -c "insert into tickets (type, urgency, received_at, created_at, updated_at) values ('info', 'none', 1, 1, 1) returning id")
check "next ticket id is max + 1 ($nid after $max)" [ "$nid" -eq $((max + 1)) ]
pg_psql -c "delete from tickets where id = $nid"
# Search: the generated tsvector finds the note and a message word.
check "note found by its word, diacritics folded" [ "$(pg_psql -c "select count(*) from events where search @@ plainto_tsquery('intake_search', 'nina')")" = 1 ]
check "note found by its digits" [ "$(pg_psql -c "select count(*) from events where search @@ plainto_tsquery('simple', '5550142')")" = 1 ]

# A second copy into the non-empty database: refused, nothing changes.
before=$(pg_psql -c 'select count(*) from messages')
$INTAKE db copy --from "$DB" --to "$PG_URL" >"$T/out" 2>"$T/err"; rc=$?
check "second copy refused: exit 65 (rc $rc)" [ "$rc" -eq 65 ]
check "... saying it holds rows" grep -q "holds rows already" "$T/err"
check "... and nothing added" [ "$(pg_psql -c 'select count(*) from messages')" = "$before" ]

# verify alone agrees; then one changed byte of one raw message is found.
$INTAKE db verify --from "$DB" --to "$PG_URL" >"$T/out" 2>"$T/err"; rc=$?
check "db verify of the copy: exit 0 (rc $rc)" [ "$rc" -eq 0 ]

# The staff commands on the copy print what they print on SQLite (the same
# clock: INTAKE_NOW), and the connection string appears in no output.
printf 'database = "%s";\ntimezone = "America/New_York";\ntag_key_file = "%s";\n' "$PG_URL" "$T/tag.key" > "$T/pg.conf"
P="-c $T/pg.conf"
same() {	# same LABEL ARGS...: intake ARGS on both stores, same stdout
	l=$1; shift
	INTAKE_NOW=2026-12-07T15:00:00Z $INTAKE "$@" $C >"$T/lite.out" 2>"$T/lite.err"; r1=$?
	INTAKE_NOW=2026-12-07T15:00:00Z $INTAKE "$@" $P >"$T/pg.out" 2>"$T/pg.err"; r2=$?
	check "$l: same output on PostgreSQL (rc $r1/$r2: $(head -c 200 "$T/pg.err"))" \
	    sh -c "[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && cmp -s '$T/lite.out' '$T/pg.out'"
}
same "list" list
same "list --status open --limit 3" list --status open --limit 3
same "followups (csv)" followups --format csv
same "followups (json)" followups --format json
same "show 2 (json)" show 2 --format json
same "show 4" show 4
# search: the same tickets, in the same order (scores and snippets are
# the engines' own: bm25 and FTS5's snippet against ts_rank and ts_headline)
INTAKE_NOW=2026-12-07T15:00:00Z $INTAKE search "nina" --format csv $C | cut -d, -f1 > "$T/s1"
INTAKE_NOW=2026-12-07T15:00:00Z $INTAKE search "nina" --format csv $P | cut -d, -f1 > "$T/s2"
check "search, diacritics folded: the same tickets on PostgreSQL ($(paste -sd' ' "$T/s2"))" sh -c "cmp -s '$T/s1' '$T/s2' && [ \$(wc -l < '$T/s2') -ge 2 ]"
same "changes since the start" changes --since 2020-01-01T00:00:00Z --format json
check "no output names the connection" sh -c "! grep -q '$PGHOST' '$T/pg.out' '$T/pg.err'"
pg_psql -c "update messages set raw = set_byte(raw, 10, (get_byte(raw, 10) + 1) % 256) where id = $id"
$INTAKE db verify --from "$DB" --to "$PG_URL" >"$T/out" 2>"$T/err"; rc=$?
check "changed raw byte: verify exits 1 (rc $rc)" [ "$rc" -eq 1 ]
check "... naming message $id" grep -q "message $id: raw bytes differ" "$T/out"
pg_psql -c "update messages set raw = set_byte(raw, 10, (get_byte(raw, 10) + 255) % 256) where id = $id"
pg_psql -c "delete from events where id = (select max(id) from events)"
$INTAKE db verify --from "$DB" --to "$PG_URL" >"$T/out" 2>"$T/err"; rc=$?
check "a missing event row: verify exits 1 (rc $rc)" [ "$rc" -eq 1 ]
check "... naming the events count" grep -q "^verify: events: .*DIFFERENT" "$T/out"

# A copy that fails half-way leaves PostgreSQL as it was: invalid UTF-8
# in a text column is refused before COMMIT (a fresh database).
pg_psql -c 'create database intake2'
cp "$DB" "$T/bad.db"
sqlite3 "$T/bad.db" "update tickets set subject = cast(x'48ff49' as text) where id = 2"
URL2=$(echo "$PG_URL" | sed 's|///intake?|///intake2?|')
$INTAKE db copy --from "$T/bad.db" --to "$URL2" >"$T/out" 2>"$T/err"; rc=$?
check "invalid UTF-8 in text: exit 65 (rc $rc)" [ "$rc" -eq 65 ]
check "... naming table, row and column" grep -q "tickets row .* column subject" "$T/err"
check "... nothing left behind (not even the schema)" [ "$(pg_psql -d intake2 -c "select count(*) from pg_tables where schemaname = 'public'")" = 0 ]

# The roles (sql/pg/roles.sql), twice (idempotent).
pg_psql -f "$TOP/sql/pg/roles.sql" >/dev/null 2>&1 &&
    pg_psql -f "$TOP/sql/pg/roles.sql" >/dev/null 2>"$T/err"; rc=$?
check "roles.sql applies twice (rc $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
pg_psql -c "create role st1 login in role intake_staff; create role dm1 login in role intake_daemon"
as() { u=$1; shift; pg_psql -U "$u" -c "$*" >/dev/null 2>&1; }
refused() { ! as "$@"; }
check "staff reads tickets" as st1 "select count(*) from tickets"
check "staff writes a note" as st1 "insert into events (ticket_id, at, actor, kind, detail) values (1, 1, 'st1', 'note', '{}')"
check "staff assigns" as st1 "update tickets set assignee = 'st1' where id = 1"
check "staff reclassifies (type, deadlines, business hours)" as st1 "update tickets set type = 'crisis', urgency = 'urgent', response_due = 5, breach_at = 6, in_business_hours = 1 where id = 1"
check "staff marks a message answered" as st1 "update messages set responded_at = 7 where ticket_id = 1"
check "staff cannot rewrite who wrote in" refused st1 "update tickets set sender = 'x' where id = 1"
check "staff cannot purge (delete)" refused st1 "delete from tickets"
check "staff cannot change raw bytes" refused st1 "update messages set raw = ''::bytea"
check "staff cannot drop" refused st1 "drop table events"
check "daemon inserts a ticket" as dm1 "insert into tickets (type, urgency, received_at, created_at, updated_at) values ('info', 'none', 1, 1, 1)"
check "daemon cannot delete" refused dm1 "delete from outbox"
check "intake_admin owns the tables" [ "$(pg_psql -c "select count(*) from pg_tables where schemaname = 'public' and tableowner <> 'intake_admin'")" = 0 ]

# PostgreSQL end to end: pipe delivery, a duplicate, a staff action, the
# daemon over a Maildir, all on PostgreSQL (the copy above is its start).
n0=$(pg_psql -c 'select count(*) from tickets')
$INTAKE ingest $P < "$TOP/tests/fixtures/labeled/d007.eml" >/dev/null; rc=$?
check "intake ingest on PostgreSQL: exit 0 (rc $rc)" [ "$rc" -eq 0 ]
check "... one new ticket" [ "$(pg_psql -c 'select count(*) from tickets')" -eq $((n0 + 1)) ]
$INTAKE ingest $P < "$TOP/tests/fixtures/labeled/d007.eml" >/dev/null; rc=$?
check "the same message again: exit 0, no new ticket (rc $rc)" sh -c "[ $rc -eq 0 ] && [ $(pg_psql -c 'select count(*) from tickets') -eq $((n0 + 1)) ]"
nid=$(pg_psql -c 'select max(id) from tickets')
$INTAKE ack "$nid" $P >/dev/null 2>"$T/err"; rc=$?
check "intake ack on PostgreSQL (rc $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 0 ]
act=$(pg_psql -c "select actor from events where ticket_id = $nid and kind = 'ack'")
check "... the event's actor is the database role ($act)" [ "$act" = "$PGUSER" ]
$INTAKE note "$nid" "called back" --by alice $P >/dev/null 2>&1
act=$(pg_psql -c "select actor from events where ticket_id = $nid and kind = 'note'")
check "--by beside the role, not instead of it ($act)" [ "$act" = "alice ($PGUSER)" ]
mkdir -p "$T/mail/new" "$T/mail/cur" "$T/mail/tmp"
cp "$TOP"/tests/fixtures/sample-maildir/new/* "$T/mail/new/"
nm=$(ls "$T/mail/new" | wc -l)
cat > "$T/pgd.conf" <<CONF
database = "$PG_URL";
timezone = "America/New_York";
tag_key_file = "$T/tag.key";
sources = ( { name = "box"; type = "maildir"; path = "$T/mail"; poll_interval = 1; } );
CONF
n1=$(pg_psql -c 'select count(*) from messages')
$INTAKED --once -c "$T/pgd.conf" 2>"$T/dlog"; rc=$?
check "intaked --once on PostgreSQL: exit 0 (rc $rc: $(grep -m1 -i 'err' "$T/dlog" | head -c 200))" [ "$rc" -eq 0 ]
check "... the start line names the database without a password" grep -q "database postgresql: " "$T/dlog"
check "... every Maildir message stored ($nm)" [ "$(pg_psql -c 'select count(*) from messages')" -eq $((n1 + nm)) ]
check "... and moved to cur/ (marked after commit)" [ "$(ls "$T/mail/new" | wc -l)" -eq 0 ]
$INTAKED --once -c "$T/pgd.conf" 2>/dev/null
check "a second run stores nothing" [ "$(pg_psql -c 'select count(*) from messages')" -eq $((n1 + nm)) ]
$INTAKE status $P >/dev/null 2>"$T/err"; rc=$?
check "intake status on PostgreSQL (rc $rc: $(head -c 200 "$T/err"))" [ "$rc" -eq 0 -o "$rc" -eq 1 ]

finish
