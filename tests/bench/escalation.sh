#!/bin/sh
# The escalation pass over 1,000,000 tickets, 50,000 of them open (issue
# 14): builds the database with one recursive-CTE INSERT (bench_tickets,
# tickets.subr),
# then times escalate_run() (tests/bench/escscan.c: the first pass taking
# the due steps, then the steady-state pass a running intaked repeats every
# round), beside `intake followups` on the same database in the same run,
# and prints the scan's query plan (the partial index tickets_escalate, not
# a table scan).  Shape: every 20th ticket open; of those about 40% urgent,
# a third acknowledged; 84 urgent unanswered ones past their deadlines
# (3 steps each), the other open deadlines up to 4 weeks ahead; the rest
# closed long ago.  Figures only.
# Usage: escalation.sh [BUILD_DIR] [TICKETS]
set -eu
build=${1:-${INTAKE_BUILD:-build}}
n=${2:-1000000}
INTAKE=$build/intake
SCAN=$build/bench/escscan
. "$(dirname "$0")/tickets.subr"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: skipped"; exit 0; }
[ -x "$SCAN" ] || { echo "$SCAN missing (make bench builds it): skipped"; exit 0; }
T=$(mktemp -d /tmp/intake-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'database = "b.db";\ntimezone = "America/New_York";\nalerts = { to = ["oncall@example.org"]; };\n' > "$T/b.conf"
"$SCAN" "$T/b.conf" 0	# creates and migrates

t0=$(ms)
bench_tickets "$T/b.db" "$n" \
    'i % 20 = 0 AS open, i % 60 = 0 OR i % 220 = 0 AS urgent,
    (i / 20) % 3 = 1 AS acked, i % 12000 = 0 AS due' "$(cat <<'SQL'
CASE WHEN urgent THEN 'crisis' ELSE 'tip' END AS type,
CASE WHEN due THEN now - 7200
    ELSE now + 3600 + (i * 7919) % (28 * 86400) END AS response_due,
CASE WHEN due THEN now - 3600
    ELSE now + 7200 + (i * 7919) % (28 * 86400) END AS breach_at,
CASE WHEN acked OR NOT open THEN now - 86400 * 390 + i * 30 END
    AS acknowledged_at,
'["crisis: \"cannot leave\" (crisis)"]' AS rationale,
CASE WHEN open AND NOT acked THEN now - 86400 * 2 + i % 86400 END
    AS awaiting_since,
CASE WHEN open AND NOT acked THEN i END AS awaiting_message
SQL
)"
t1=$(ms)
q() { sqlite3 "$T/b.db" "$1"; }
echo "built $n tickets ($(q "select count(*) from tickets where status = 'open'") open, $(q "select count(*) from tickets where status = 'open' and urgency = 'urgent' and awaiting_since is not null") urgent unanswered, $(q "select count(*) from tickets where status = 'open' and urgency = 'urgent' and awaiting_since is not null and response_due <= strftime('%s','now')") past their deadline) in $((t1 - t0)) ms"

"$SCAN" "$T/b.conf" 20 2>"$T/scan.log"
echo "  (escalations rows: $(q "select count(*) from escalations"), outbox rows: $(q "select count(*) from outbox"))"

best=999999
for k in 1 2 3 4 5; do
	a=$(ms)
	"$INTAKE" followups --format json -c "$T/b.conf" > "$T/out.json"
	b=$(ms)
	[ $((b - a)) -lt "$best" ] && best=$((b - a))
done
rows=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out.json" 2>/dev/null || echo "?")
echo "followups (default list, $rows rows, json), same database: best of 5 = $best ms (whole process)"
echo "query plan of the escalation scan:"
q "EXPLAIN QUERY PLAN SELECT id, awaiting_message, response_due, breach_at FROM tickets INDEXED BY tickets_escalate WHERE status = 'open' AND urgency = 'urgent' AND automated = 0 AND awaiting_since IS NOT NULL AND response_due <= 1 ORDER BY response_due" | sed 's/^/  /'
