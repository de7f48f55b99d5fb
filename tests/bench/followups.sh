#!/bin/sh
# Follow-up list over 1,000,000 tickets: builds the database with one
# recursive-CTE INSERT (sqlite3 CLI), then times `intake followups` (the
# default list, and --all-open) and prints the figures.  Shape: 1% of the
# tickets open (10,000), deadlines spread from 2 days ago to 4 weeks ahead,
# a third of the open ones acknowledged; the rest closed long ago.
# Usage: followups.sh [BUILD_DIR] [TICKETS]
set -eu
build=${1:-${INTAKE_BUILD:-build}}
n=${2:-1000000}
INTAKE=$build/intake
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: skipped"; exit 0; }
T=$(mktemp -d /tmp/intake-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'database = "b.db";\ntimezone = "America/New_York";\n' > "$T/b.conf"
# intake reads only: intaked --once with no sources creates and migrates
"$build/intaked" --once --no-sandbox -c "$T/b.conf" 2>/dev/null

ms() { echo $(( $(date +%s%N) / 1000000 )); }

t0=$(ms)
sqlite3 "$T/b.db" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
PRAGMA cache_size = -262144;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $n),
p(i, now) AS (SELECT i, CAST(strftime('%s', 'now') AS INTEGER) FROM seq)
INSERT INTO tickets (id, type, urgency, minor, danger, status, disposition,
    received_at, response_due, breach_at, acknowledged_at, closed_at, sender,
    subject, rationale, created_at, updated_at)
SELECT i,
    CASE i % 6 WHEN 0 THEN 'crisis' WHEN 1 THEN 'tip' WHEN 2 THEN 'tta'
        WHEN 3 THEN 'referral' WHEN 4 THEN 'info' ELSE 'related' END,
    CASE WHEN i % 6 = 0 OR i % 11 = 0 THEN 'urgent' ELSE 'routine' END,
    i % 17 = 0, i % 23 = 0,
    CASE WHEN i % 100 = 0 THEN 'open' ELSE 'closed' END,
    CASE WHEN i % 100 = 0 THEN NULL ELSE 'resolved' END,
    now - 86400 * 400 + i * 30,
    -- open tickets: due between 2 days ago and 28 days ahead
    CASE WHEN i % 100 = 0 THEN now - 172800 + (i * 7919) % (30 * 86400)
        ELSE now - 86400 * 399 + i * 30 END,
    CASE WHEN i % 100 = 0 THEN now - 172800 + (i * 7919) % (30 * 86400) + 86400
        ELSE now - 86400 * 398 + i * 30 END,
    CASE WHEN i % 300 = 0 THEN now - 3600 ELSE NULL END,
    CASE WHEN i % 100 = 0 THEN NULL ELSE now - 86400 * 390 + i * 30 END,
    'Sender ' || i || ' <s' || i || '@example.net>',
    'Subject of ticket ' || i,
    '["tip: \"saw something\" (tip)"]',
    now - 86400 * 400 + i * 30, now
FROM p;
COMMIT;
ANALYZE;
SQL
t1=$(ms)
echo "built $n tickets ($(sqlite3 "$T/b.db" "select count(*) from tickets where status = 'open'") open) in $((t1 - t0)) ms"

best=999999
for k in 1 2 3 4 5; do
	a=$(ms)
	"$INTAKE" followups --format json -c "$T/b.conf" > "$T/out.json"
	b=$(ms)
	[ $((b - a)) -lt "$best" ] && best=$((b - a))
done
rows=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out.json" 2>/dev/null || echo "?")
echo "followups (default list, $rows rows, json): best of 5 = $best ms (whole process)"

best=999999
for k in 1 2 3; do
	a=$(ms)
	"$INTAKE" followups --all-open --format text -c "$T/b.conf" > "$T/out.txt"
	b=$(ms)
	[ $((b - a)) -lt "$best" ] && best=$((b - a))
done
echo "followups --all-open ($(grep -c '^  #' "$T/out.txt") rows, text): best of 3 = $best ms"
echo "query plan of the default list:"
sqlite3 "$T/b.db" "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE status = 'open' AND automated = 0 AND acknowledged_at IS NULL AND (response_due < 1 OR breach_at < 1 OR (response_due IS NULL AND breach_at IS NULL)) ORDER BY breach_at IS NULL, breach_at, response_due, id" | sed 's/^/  /'
