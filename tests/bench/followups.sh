#!/bin/sh
# Follow-up list over 1,000,000 tickets: builds the database with one
# recursive-CTE INSERT (bench_tickets, tickets.subr), then times `intake followups` (the
# default list, and --all-open) and prints the figures.  Shape: 1% of the
# tickets open (10,000), deadlines spread from 2 days ago to 4 weeks ahead,
# a third of the open ones acknowledged; the rest closed long ago.
# Usage: followups.sh [BUILD_DIR] [TICKETS]
set -eu
build=${1:-${INTAKE_BUILD:-build}}
n=${2:-1000000}
INTAKE=$build/intake
. "$(dirname "$0")/tickets.subr"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: skipped"; exit 0; }
T=$(mktemp -d /tmp/intake-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'database = "b.db";\ntimezone = "America/New_York";\n' > "$T/b.conf"
# intake reads only: intaked --once with no sources creates and migrates
"$build/intaked" --once --no-sandbox -c "$T/b.conf" 2>/dev/null

t0=$(ms)
bench_tickets "$T/b.db" "$n" \
    'i % 100 = 0 AS open, i % 6 = 0 OR i % 11 = 0 AS urgent' "$(cat <<'SQL'
CASE i % 6 WHEN 0 THEN 'crisis' WHEN 1 THEN 'tip' WHEN 2 THEN 'tta'
    WHEN 3 THEN 'referral' WHEN 4 THEN 'info' ELSE 'related' END AS type,
-- open tickets: due between 2 days ago and 28 days ahead
now - 172800 + (i * 7919) % (30 * 86400) AS response_due,
now - 172800 + (i * 7919) % (30 * 86400) + 86400 AS breach_at,
CASE WHEN i % 300 = 0 THEN now - 3600 END AS acknowledged_at,
'["tip: \"saw something\" (tip)"]' AS rationale,
NULL AS awaiting_since, NULL AS awaiting_message
SQL
)"
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
