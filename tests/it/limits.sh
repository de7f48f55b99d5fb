#!/bin/sh
# Every parser limit (limits.* in intake.conf) hit through `intake ingest`,
# end to end: the message is never dropped, its ticket is flagged for a
# human (needs_human 1), the messages row says parse_status 'limit' with
# the limit's name (a timeout: 'error', "parser timed out"), and the raw
# bytes stored equal the input.  Under the sandboxed parser child unless
# INTAKE_NO_SANDBOX is set (the timeout case then skips: it needs the child).
. "$(dirname "$0")/../lib.sh"

DB=$T/intake.db
GEN="/usr/bin/python3 $TOP/tests/tools/genmsg.py"

conf() {	# conf "limits settings"
	cat > "$T/intake.conf" <<CONF
database = "intake.db";
timezone = "America/New_York";
limits = { $1 };
CONF
}

# hit NAME KIND N "limits" STATUS REASON
hit() {
	conf "$4"
	$GEN "$2" "$3" > "$T/$1.eml"
	out=$($INTAKE ingest -c "$T/intake.conf" < "$T/$1.eml" 2>"$T/$1.err"); rc=$?
	check "$1: stored (exit 0)" [ "$rc" -eq 0 ]
	id=$(q "select max(id) from messages")
	row=$(q "select m.parse_status || '|' || coalesce(m.parse_error, '') || '|' || t.needs_human from messages m join tickets t on t.id = m.ticket_id where m.id = $id")
	check "$1: parse_status $5, '$6', needs_human 1 (got $row)" [ "$row" = "$5|$6|1" ]
	case $out in
	*"\"parse_status\":\"$5\""*) ok "$1: reported as $5" ;;
	*) fail "$1: reported as $5: $out" ;;
	esac
	q "select writefile('$T/$1.out', raw) from messages where id = $id" >/dev/null
	check "$1: raw bytes kept exactly" cmp -s "$T/$1.eml" "$T/$1.out"
	rm -f "$T/$1.eml" "$T/$1.out"
}

hit size size 5000 "max_message_bytes = 4096;" limit max_message_bytes
hit depth depth 12 "max_mime_depth = 5;" limit max_depth
hit parts parts 40 "max_mime_parts = 20;" limit max_parts
hit headers headers 40 "max_headers = 20;" limit max_headers
hit header-length header-length 5000 "max_header_bytes = 1024;" limit max_header_bytes
hit ratio ratio 20000 "max_decode_ratio = 2;" limit max_decode_ratio
hit text size 50000 "max_text_bytes = 8192;" limit max_text_bytes
# HTML is cut to the cap before and after conversion to text
hit html html 50000 "max_text_bytes = 8192;" limit max_text_bytes

# Below every limit: the same kinds of message parse fine.
conf "max_mime_depth = 20; max_mime_parts = 100;"
$GEN depth 11 > "$T/ok.eml"
out=$($INTAKE ingest -c "$T/intake.conf" < "$T/ok.eml")
case $out in
*'"parse_status":"ok"'*) ok "under the limits: parse_status ok" ;;
*) fail "under the limits: $out" ;;
esac

# Time per message: 40 MB of HTML takes the parser child well over the
# one-second parse_timeout; the child is killed, the message kept.
if [ -n "${INTAKE_NO_SANDBOX:-}" ]; then
	echo "skip: parse_timeout needs the parser child (INTAKE_NO_SANDBOX set)"
else
	hit timeout html 40000000 "max_message_bytes = 100000000; max_text_bytes = 100000000; parse_timeout = 1;" error "parser timed out"
	check "timeout: logged without message text" grep -q "parser timed out" "$T/timeout.err"
fi
finish
