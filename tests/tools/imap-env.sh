# tests/tools/imap-env.sh: a throwaway Dovecot with a test CA for the IMAP
# integration scripts.  Source after tests/lib.sh (needs $T, $TOP, at_exit).
# Sets DC (Dovecot dir), IMAP_PORT, IMAPS_PORT, MAILDIR, DCLOG, DB.
# DOVECOT_EXTRA: lines added to the instance's dovecot.conf.
TOOLS=$TOP/tests/tools
DC=$T/dc
DB=$T/intake.db

imap_need() {
	if [ "$(id -u)" != 0 ] && ! command -v dovecot >/dev/null 2>&1; then
		echo "skip: dovecot not installed and not root"; exit 77
	fi
	if ! command -v dovecot >/dev/null 2>&1; then
		sh "$TOP/tools/deps.sh" >/dev/null 2>&1 || true
	fi
	command -v dovecot >/dev/null 2>&1 || { echo "skip: dovecot-imapd cannot be installed"; exit 77; }
	# Dovecot's mail uid must traverse down to $T/dc.
	chmod 755 "$T"
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A test CA, a server certificate it signs (DNS:localhost, IP:127.0.0.1,
# deliberately no DNS:127.0.0.1 so the IP SAN path is what matches), and an
# unrelated "rogue" CA.
make_certs() {
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	openssl req -x509 $ec -days 30 -subj "/CN=intake test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
	openssl req $ec -subj "/CN=localhost" -keyout "$T/server.key" \
	    -out "$T/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$T/server.ext"
	openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	    -CAcreateserial -days 30 -extfile "$T/server.ext" \
	    -out "$T/server.pem" 2>/dev/null
	openssl req -x509 $ec -days 30 -subj "/CN=rogue CA" \
	    -keyout "$T/rogue.key" -out "$T/rogue.pem" 2>/dev/null
}

dovecot_start() {
	EXTRA_CONF=${DOVECOT_EXTRA:-} \
	    LISTEN="127.0.0.1, 127.0.0.2" TLS_CERT_IN=$T/server.pem \
	    TLS_KEY_IN=$T/server.key bash "$TOOLS/dovecot-up.sh" "$DC" \
	    "$IMAP_PORT" "$IMAPS_PORT" >"$T/dc.env" 2>"$T/dc.start" || {
		cat "$T/dc.start"; echo "skip: dovecot does not start here"; exit 77; }
}

dovecot_stop() {
	bash "$TOOLS/dovecot-down.sh" "$DC" >/dev/null 2>&1 || true
}

# The server going away: SIGKILL the master and its children (the IMAP
# sessions outlive a clean master stop), by their PIDs.
dovecot_kill() {
	mp=$(cat "$DC/run/master.pid" 2>/dev/null) || return 0
	kids=$(ps -o pid= --ppid "$mp" 2>/dev/null)
	kill -KILL "$mp" $kids 2>/dev/null
	rm -f "$DC/run/master.pid"
	sleep 0.2
}

imap_setup() {
	imap_need
	IMAP_PORT=$(free_port)
	IMAPS_PORT=$(free_port)
	make_certs
	at_exit dovecot_stop
	dovecot_start
	MAILDIR=$DC/home/hotline/Maildir
	DCLOG=$DC/log/dovecot.log
	printf 'test-password\n' >"$T/imap.password"
	chmod 600 "$T/imap.password"
}

# imap_conf FILE ['key = value' ...]: each argument overrides the default of
# that key (libconfig refuses a key given twice); 'key =' drops it.  Lines in
# $CONF_TOP are added at the top level.
imap_conf() {
	f=$1; shift
	{
		echo 'database = "intake.db";'
		echo 'sources = ( { name = "hotline"; type = "imap";'
		for kv in "host = \"127.0.0.1\"" "port = $IMAPS_PORT" \
		    'tls = "implicit"' 'ca_file = "ca.pem"' 'user = "hotline"' \
		    'password_file = "imap.password"' 'idle = false' \
		    'poll_interval = 1' 'timeout = 10'; do
			k=${kv%% *}
			over=0
			for a in "$@"; do [ "${a%% *}" = "$k" ] && over=1; done
			[ $over = 1 ] || echo "  $kv;"
		done
		for a in "$@"; do
			case $a in *=) ;; *) echo "  $a;" ;; esac
		done
		echo '} );'
		echo "${CONF_TOP:-}"
	} >"$f"
}

gen_mail() {	# gen_mail N SEED
	/usr/bin/python3 "$TOOLS/gen-mail.py" "$MAILDIR" -n "$1" --seed "$2" >/dev/null
}

# Messages in the Maildir folder ($1, default INBOX), and those with \Seen.
seen_count() {
	d=$MAILDIR${1:+/.$1}
	find "$d/cur" "$d/new" -type f -name '*:2,*S*' 2>/dev/null | wc -l
}
msg_count() {
	d=$MAILDIR${1:+/.$1}
	find "$d/cur" "$d/new" -type f 2>/dev/null | wc -l
}
