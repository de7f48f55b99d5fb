#!/bin/sh
# Issue 12 item 12 against a real Postfix 3.7: pipe delivery to `intake
# ingest` through a private Postfix instance on loopback (its own
# config_directory, queue and log in $T), the documented transport
# `pipe flags=Rq user=SERVICE argv=intake ingest`.  A working set-up makes
# one ticket; every failure but bad input (missing configuration, a schema
# newer than the program, an unwritable database) leaves the mail queued,
# deferred, with no bounce to the person who wrote; a flush after the fix
# delivers each exactly once.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null 2>&1; then
	echo "skip: needs root (Postfix's master) and useradd (the service user)"
	exit 77
fi
if [ ! -x /usr/sbin/postfix ] || [ ! -x /usr/lib/postfix/sbin/master ]; then
	echo "skip: postfix is not installed (tools/deps.sh installs it)"
	exit 77
fi
getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
    { echo "skip: the postfix user or postdrop group is missing"; exit 77; }
U=itpf$$
useradd -M -U -d /nonexistent -s /bin/false "$U" || exit 77
PF=$T/pf
stop_all() {
	postfix -c "$PF" stop >/dev/null 2>&1
	n=0
	while [ -e "$PF/queue/pid/master.pid" ] && [ $n -lt 100 ]; do
		pid=$(tr -d ' ' < "$PF/queue/pid/master.pid" 2>/dev/null)
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1; n=$((n + 1))
	done
	userdel "$U" 2>/dev/null
	getent group "$U" >/dev/null && groupdel "$U" 2>/dev/null
	:
}
at_exit stop_all

chmod 0711 "$T"
mkdir -p "$T/db" "$PF/queue" "$PF/data"
chown "$U:$U" "$T/db"
chown postfix "$PF/data"
DB=$T/db/intake.db
cat > "$T/intake.conf" <<CONF
database = "db/intake.db";
timezone = "America/New_York";
sources = ( { name = "pipe"; type = "maildir"; path = "/nonexistent"; } );
CONF
chmod 0644 "$T/intake.conf"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat > "$PF/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.hotline.test
mydomain = hotline.test
myorigin = hotline.test
mydestination = hotline.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
transport_maps = inline:{ hotline.test=intake: }
intake_destination_recipient_limit = 1
relayhost =
default_transport = error:no outbound mail in this test
smtpd_banner = \$myhostname ESMTP
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
smtp_dns_support_level = disabled
disable_dns_lookups = yes
CONF
# chroot off everywhere: the instance's queue is no prepared jail.
cat > "$PF/master.cf" <<CONF
127.0.0.1:$PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
intake    unix  - n n - - pipe
  flags=Rq user=$U argv=$INTAKE ingest -c $T/intake.conf
CONF
if ! postfix -c "$PF" check >"$T/pfcheck" 2>&1 ||
    ! postfix -c "$PF" start >>"$T/pfcheck" 2>&1; then
	echo "skip: this Postfix instance does not start:"; cat "$T/pfcheck"; cat "$PF/maillog" 2>/dev/null
	exit 77
fi

send() {	# send MESSAGE-ID BODY
	$PY - "$PORT" "$1" "$2" <<'EOF'
import smtplib, sys
port, mid, body = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = ("From: Someone <victim@sender.test>\r\nTo: help@hotline.test\r\n"
       "Subject: please help\r\nMessage-ID: <%s>\r\n\r\n%s\r\n" % (mid, body))
with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
    s.sendmail("victim@sender.test", ["help@hotline.test"], msg)
EOF
}
# The queue as JSON lines: one object per message (postqueue -j).
queue() { postqueue -c "$PF" -j 2>/dev/null; }
qcount() { queue | $PY -c 'import sys; print(sum(1 for l in sys.stdin if l.strip()))'; }
bounces() { queue | $PY -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l)["sender"] == ""))'; }
deferred() {	# the number of queued messages Postfix deferred with a 4.x.x
	queue | $PY -c '
import json, sys
n = 0
for l in sys.stdin:
    if not l.strip(): continue
    m = json.loads(l)
    if m["queue_name"] == "deferred" and m["sender"] != "":
        n += 1
print(n)'; }
tickets() { [ -e "$DB" ] && q "select count(*) from messages where message_id like '%@pf'" || echo 0; }
wait_for() {	# wait_for CMD... : up to 60 s for CMD to succeed
	n=0
	while ! "$@" && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	"$@"
}
is() { [ "$($1)" = "$2" ]; }

# 1. The working set-up: one ticket, nothing left in the queue.
send ok1@pf 'They took my passport.' || fail "SMTP submission"
wait_for is tickets 1
check "delivered through the pipe: one ticket" [ "$(tickets)" = 1 ]
wait_for is qcount 0
check "the queue is empty" [ "$(qcount)" = 0 ]
check "the database is the service user's" [ "$(stat -c %U "$DB")" = "$U" ]

# 2. Failures of the set-up, not of the message: deferred, never bounced.
fault() {	# fault LABEL MESSAGE-ID  (the fault is in place)
	send "$2" "a message during: $1" || fail "$1: SMTP submission"
	wait_for is deferred 1
	check "$1: deferred in the queue" [ "$(deferred)" = 1 ]
	check "$1: no bounce to the sender" [ "$(bounces)" = 0 ]
	ndef=$((ndef + 1))
	check "$1: Postfix logged a temporary failure (exit 75)" \
	    [ "$(grep -c 'relay=intake.*status=deferred (temporary failure' "$PF/maillog")" = "$ndef" ]
	check "$1: the log Postfix keeps holds no message text" \
	    sh -c "! grep -q 'a message during' '$PF/maillog'"
}
ndef=0
mv "$T/intake.conf" "$T/intake.conf.off"
fault "missing configuration" f1@pf
mv "$T/intake.conf.off" "$T/intake.conf"
postqueue -c "$PF" -f
wait_for is qcount 0
check "after the fix, flushed: delivered" [ "$(tickets)" = 2 ]

v=$(q 'pragma user_version')
q 'pragma user_version = 999'
fault "schema newer than the program" f2@pf
q "pragma user_version = $v"
postqueue -c "$PF" -f
wait_for is qcount 0
check "after the fix, flushed: delivered" [ "$(tickets)" = 3 ]

chmod 0500 "$T/db"
chmod 0444 "$DB"
fault "database not writable" f3@pf
chmod 0700 "$T/db"
chmod 0600 "$DB"
postqueue -c "$PF" -f
wait_for is qcount 0
check "after the fix, flushed: delivered" [ "$(tickets)" = 4 ]

# 3. Exactly once: every message is one ticket, none doubled.
check "four messages, four tickets, no duplicate" \
    [ "$(q "select count(distinct message_id) || '/' || count(*) from messages where message_id like '%@pf'")" = "4/4" ]
check "no bounce was ever generated" sh -c "! grep -q 'sender non-delivery notification' '$PF/maillog'"
finish
