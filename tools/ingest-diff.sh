#!/bin/sh
# tools/ingest-diff.sh OLD-BUILD NEW-BUILD: ingest every fixture message
# (tests/fixtures *.eml and the sample Maildir, under 4 MB) with two builds
# of intaked (a Maildir source, --once) and of `intake ingest` (pipe), and
# compare the tickets and messages they make, field by field (times that
# are "now" left out: the pipe's received_at and deadlines; the Maildir's
# received_at is the files' fixed mtime).  With Dovecot installed (and
# INGEST_DIFF_IMAP not 0) the same files also go through an IMAP source:
# one throwaway Dovecot (tests/tools/dovecot-up.sh), loopback, no TLS,
# each build --once into its own database (same UIDs, same UIDVALIDITY,
# INTERNALDATE the fixed mtime).  For engine
# changes that must move no message.  Exit 0 identical, 1 with a diff.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 OLD-BUILD-DIR NEW-BUILD-DIR" >&2; exit 64; }
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
imap=0
if [ "${INGEST_DIFF_IMAP:-1}" != 0 ] && command -v dovecot >/dev/null 2>&1; then
	imap=1
fi
dc=$tmp/dc
trap '[ "$imap" = 1 ] && bash "$top/tests/tools/dovecot-down.sh" "$dc" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
cd "$top"
find tests/fixtures -type f \( -name '*.eml' -o -path '*sample-maildir*' \) \
    -size -4M | sort >"$tmp/files"
dump() {	# DB [pipe]
	if [ "${2:-}" = pipe ]; then
		times="0, 0, 0, 0"
	else
		times="m.received_at, t.in_business_hours, t.response_due - t.received_at, t.breach_at - t.received_at"
	fi
	sqlite3 -batch -noheader "$1" "
	SELECT m.source, m.source_key, m.message_id, m.sha256, m.size,
	    $times, m.date_header, m.from_addr, m.from_name, m.subject,
	    m.parse_status, m.parse_error, m.attachments, length(m.text),
	    t.id, t.type, t.urgency, t.minor, t.danger, t.automated,
	    t.needs_interpreter, t.needs_human, t.lang, t.rationale,
	    t.sender, t.subject
	FROM messages m JOIN tickets t ON t.id = m.ticket_id
	ORDER BY m.source, m.source_key, m.id;
	SELECT 'outbox', count(*) FROM outbox;
	SELECT 'events', kind, actor, count(*) FROM events GROUP BY kind, actor ORDER BY kind, actor;"
}
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
imap_up() {	# the fixtures in a Dovecot INBOX; sets imap_port
	chmod 755 "$tmp"
	imap_port=$(free_port)
	bash tests/tools/dovecot-up.sh "$dc" "$imap_port" "$(free_port)" \
	    >"$tmp/dc.env" 2>"$tmp/dc.log" || { cat "$tmp/dc.log" >&2; exit 2; }
	box=$dc/home/hotline/Maildir
	i=0
	while read -r f; do
		i=$((i + 1))
		cp "$f" "$box/new/1764000000.M${i}P1.fixture"
		touch -d @1795000000 "$box/new/1764000000.M${i}P1.fixture"
	done <"$tmp/files"
	[ "$(id -u)" = 0 ] && chown -R "${MAIL_UID:-65534}:${MAIL_GID:-65534}" "$box"
	printf 'test-password\n' >"$tmp/imap.password"
	chmod 600 "$tmp/imap.password"
}
imap_run() {	# BUILD DIR
	printf 'database = "%s/imap.db";\ntimezone = "America/New_York";\nsources = ( { name = "hotline"; type = "imap"; host = "127.0.0.1"; port = %s; tls = "none"; user = "hotline"; password_file = "%s/imap.password"; idle = false; timeout = 30; } );\n' \
	    "$2" "$imap_port" "$tmp" >"$2/imap.conf"
	"$1/intaked" --once -c "$2/imap.conf" 2>"$2/imap.log" || true
	dump "$2/imap.db" >"$2/imap.txt"
}
run() {	# BUILD NAME
	d=$tmp/$2
	mkdir -p "$d/mail/new" "$d/mail/cur" "$d/mail/tmp"
	i=0
	while read -r f; do
		i=$((i + 1))
		cp "$f" "$d/mail/new/1764000000.M${i}P1.fixture"
		touch -d @1795000000 "$d/mail/new/1764000000.M${i}P1.fixture"
	done <"$tmp/files"
	printf 'database = "%s/md.db";\ntimezone = "America/New_York";\nsources = ( { name = "box"; type = "maildir"; path = "%s/mail"; } );\n' \
	    "$d" "$d" >"$d/md.conf"
	printf 'database = "%s/pipe.db";\ntimezone = "America/New_York";\n' "$d" >"$d/pipe.conf"
	"$1/intaked" --once -c "$d/md.conf" 2>"$d/md.log" || true
	while read -r f; do
		"$1/intake" ingest -c "$d/pipe.conf" <"$f" >/dev/null 2>>"$d/pipe.log" || true
	done <"$tmp/files"
	dump "$d/md.db" >"$d/md.txt"
	dump "$d/pipe.db" pipe >"$d/pipe.txt"
	ls "$d/mail/new" | wc -l >"$d/left.txt"
	[ "$imap" = 1 ] && imap_run "$1" "$d"
	return 0
}
[ "$imap" = 1 ] && imap_up
run "$1" old
run "$2" new
files="md.txt pipe.txt left.txt"
[ "$imap" = 1 ] && files="$files imap.txt"
echo "ingest-diff: $(wc -l <"$tmp/files") messages, $(wc -l <"$tmp/new/md.txt") maildir rows, $(wc -l <"$tmp/new/pipe.txt") pipe rows$([ "$imap" = 1 ] && echo ", $(wc -l <"$tmp/new/imap.txt") imap rows")"
rc=0
for f in $files; do
	diff -u "$tmp/old/$f" "$tmp/new/$f" || rc=1
done
[ "$rc" -eq 0 ] && echo "ingest-diff: identical"
exit "$rc"
