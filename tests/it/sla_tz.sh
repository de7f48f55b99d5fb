#!/bin/sh
# tests/it/sla_tz.sh: `intake sla` and `intake holidays` end to end: the
# worked examples, the exact output formats and exit codes, and the same
# batch run under several machine time zones (TZ) giving identical output.
set -u
build=${INTAKE_BUILD:-build}
top=${INTAKE_TOP:-.}
intake="$build/intake"
[ -x "$intake" ] || { echo "no $intake"; exit 77; }
tmp=$(mktemp -d /tmp/intake-sla-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# A configuration with an extra closure and the iCalendar fixture.
cp "$top/tests/fixtures/holidays.ics" "$tmp/holidays.ics"
cat > "$tmp/intake.conf" <<'EOF'
timezone = "America/New_York";
holidays = {
	federal = true;
	extra = [ "2026-12-24" ];
	ics = "holidays.ics";
};
EOF
printf 'timezone = "Mars/Olympus_Mons";\n' > "$tmp/badzone.conf"
export INTAKE_CONFIG="$tmp/none.conf"	# missing: built-in defaults

# 1. The worked examples, through the batch command.
grep -v '^#' "$top/tests/fixtures/sla-examples.txt" | grep . > "$tmp/ex.txt"
awk '{ print $1, $2, $3 }' "$tmp/ex.txt" > "$tmp/ex.in"
awk '{ print $5, $6 }' "$tmp/ex.txt" > "$tmp/ex.want"
"$intake" sla --batch < "$tmp/ex.in" > "$tmp/ex.out" || bad "examples batch exit $?"
sed 's/.*"response_due":"\([^"]*\)","breach_at":"\([^"]*\)"}$/\1 \2/' \
    "$tmp/ex.out" > "$tmp/ex.got"
cmp -s "$tmp/ex.want" "$tmp/ex.got" || { bad "examples differ"; diff "$tmp/ex.want" "$tmp/ex.got"; }

# 2. The issue's example, byte for byte.
out=$("$intake" sla --type tip --urgency routine --received 2026-11-27T20:00:00-05:00)
want='{"type":"tip","urgency":"routine","received":"2026-11-27T20:00:00-05:00","in_business_hours":false,"response_due":"2026-11-30T10:00:00-05:00","breach_at":"2026-12-02T10:00:00-05:00"}'
[ "$out" = "$want" ] || bad "single: $out"
# crisis needs no --urgency and is urgent; received is shown in the office zone
out=$("$intake" sla --type crisis --received 2026-12-01T00:30:00.75Z)
want='{"type":"crisis","urgency":"urgent","received":"2026-11-30T19:30:00-05:00","in_business_hours":false,"response_due":"2026-11-30T19:45:00-05:00","breach_at":"2026-11-30T20:30:00-05:00"}'
[ "$out" = "$want" ] || bad "crisis: $out"

# 3. Exit codes.
expect() {
	code=$1; shift
	"$@" > "$tmp/o" 2> "$tmp/e"
	rc=$?
	[ "$rc" -eq "$code" ] || bad "exit $rc, want $code: $*"
	# a refusal always says why on stderr
	[ "$code" -eq 0 ] || [ -s "$tmp/e" ] || bad "no message: $*"
}
expect 65 "$intake" sla --type tip --urgency routine --received 2026-11-27T20:00:00
expect 65 "$intake" sla --type tip --urgency routine --received yesterday
expect 64 "$intake" sla --type bogus --urgency routine --received 2026-11-27T20:00:00Z
expect 64 "$intake" sla --type automated --urgency routine --received 2026-11-27T20:00:00Z
expect 64 "$intake" sla --type tip --received 2026-11-27T20:00:00Z
expect 64 "$intake" sla --type tip --urgency none --received 2026-11-27T20:00:00Z
expect 64 "$intake" sla --type tip --urgency routine
expect 64 "$intake" sla --batch --type tip
expect 64 "$intake" sla --nonsense
expect 0 "$intake" sla --help
expect 0 "$intake" sla --type info --received 2026-11-27T20:00:00Z
expect 78 "$intake" sla --type info --received 2026-11-27T20:00:00Z -c "$tmp/badzone.conf"
expect 64 "$intake" holidays
expect 64 "$intake" holidays 2026 2025
expect 64 "$intake" holidays 20x6
expect 64 "$intake" holidays 2026 2027 2028
expect 0 "$intake" holidays --help
expect 78 "$intake" holidays 2026 -c "$tmp/badzone.conf"

# 4. Batch errors: the line number, the batch goes on, exit 65.
printf '# comment\n\ntip routine 2026-11-27T20:00:00-05:00\ntip routine 2026-11-27T20:00:00\nnope routine 2026-11-27T20:00:00Z\ninfo 2026-11-27T20:00:00Z\n' \
    | "$intake" sla --batch > "$tmp/b.out"
rc=$?
[ "$rc" -eq 65 ] || bad "batch with bad lines exit $rc"
[ "$(wc -l < "$tmp/b.out")" -eq 4 ] || bad "batch lines: $(cat "$tmp/b.out")"
sed -n 2p "$tmp/b.out" | grep -q '^{"error": "bad instant[^"]*", "line": 4}$' || bad "batch error line: $(sed -n 2p "$tmp/b.out")"
sed -n 3p "$tmp/b.out" | grep -q '^{"error": "unknown type[^"]*", "line": 5}$' || bad "batch error line 5"
sed -n 4p "$tmp/b.out" | grep -q '^{"type":"info","urgency":"routine",' || bad "batch line 6"
head -c 3000 /dev/zero | tr '\0' x | "$intake" sla --batch > "$tmp/l.out"
[ $? -eq 65 ] && grep -q '"line too long", "line": 1' "$tmp/l.out" || bad "long line"

# 5. holidays: format, year of the date, extras and ics, first name wins.
"$intake" holidays 2021 > "$tmp/h21" || bad "holidays 2021"
tail -n 1 "$tmp/h21" | grep -q "^2021-12-31	New Year's Day\$" || bad "2021-12-31 not listed for 2021"
"$intake" holidays 2022 | grep -q "New Year's Day" && bad "New Year's Day listed in 2022"
[ "$(wc -l < "$tmp/h21")" -eq 12 ] || bad "2021 count"
"$intake" holidays 2026 2027 -c "$tmp/intake.conf" > "$tmp/h26"
grep -q "^2026-12-24	Extra closure\$" "$tmp/h26" || bad "extra"
grep -q "^2026-12-25	Christmas Day\$" "$tmp/h26" || bad "federal name first"
grep -q "^2026-12-29	Winter closure, office wide\$" "$tmp/h26" || bad "ics"
grep -q "^2027-03-15	Founders' Day\$" "$tmp/h26" || bad "yearly ics"
sort -c "$tmp/h26" || bad "not sorted"
[ "$(cut -f1 "$tmp/h26" | uniq -d | wc -l)" -eq 0 ] || bad "a date twice"

# 6. The machine zone does not matter: one batch under several TZ values.
/usr/bin/python3 - > "$tmp/gen.in" <<'EOF'
import random, datetime
r = random.Random(20261128)
types = ["crisis", "tip", "tta", "referral", "info", "related"]
lo = int(datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
hi = int(datetime.datetime(2060, 12, 31, tzinfo=datetime.timezone.utc).timestamp())
for i in range(20000):
    t = r.randrange(lo, hi)
    off = r.choice([0, -5 * 3600, -4 * 3600, 5 * 3600 + 1800, 12 * 3600 + 2700])
    d = datetime.datetime.fromtimestamp(t, datetime.timezone(datetime.timedelta(seconds=off)))
    s = d.isoformat()
    if off == 0 and r.random() < 0.5:
        s = s.replace("+00:00", "Z")
    print(r.choice(types), r.choice(["urgent", "routine"]), s)
EOF
"$intake" sla --batch -c "$tmp/intake.conf" < "$tmp/gen.in" > "$tmp/tz-ref.out" || bad "batch ref"
for z in UTC Asia/Kolkata America/Los_Angeles Pacific/Chatham Europe/London ""; do
	if [ -z "$z" ]; then
		env -u TZ "$intake" sla --batch -c "$tmp/intake.conf" < "$tmp/gen.in" > "$tmp/tz.out"
	else
		TZ=$z "$intake" sla --batch -c "$tmp/intake.conf" < "$tmp/gen.in" > "$tmp/tz.out"
	fi
	cmp -s "$tmp/tz-ref.out" "$tmp/tz.out" || bad "output differs under TZ=$z"
	TZ=$z "$intake" holidays 1990 2100 -c "$tmp/intake.conf" | md5sum >> "$tmp/h.sums"
done
[ "$(sort -u "$tmp/h.sums" | wc -l)" -eq 1 ] || bad "holidays differ between machine zones"
[ "$(wc -l < "$tmp/tz-ref.out")" -eq 20000 ] || bad "batch line count"

[ "$fail" -eq 0 ] && echo "sla_tz: ok"
exit "$fail"
