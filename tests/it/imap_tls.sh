#!/bin/sh
# IMAP source against a real Dovecot on 127.0.0.1 with a test CA: implicit
# TLS and STARTTLS, IP and DNS SAN matching, untrusted CA / wrong host name /
# wrong pin refused before any credential is sent, tls_verify = false,
# wrong password (SRC_AUTH, health alert), XOAUTH2 via token_command.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/imap-env.sh"
imap_setup
cd "$T" || exit 2

# run NAME ['key = value' ...]: intaked --once with those source keys; log
# in $T/NAME.log, exit status in $RC, Dovecot's new log lines in $NEWLOG.
run() {
	n=$1; shift
	imap_conf "$T/$n.conf" "$@"
	before=$(wc -l <"$DCLOG")
	$INTAKED --once -c "$T/$n.conf" 2>"$T/$n.log"
	RC=$?
	sleep 0.3	# let Dovecot write its disconnect line
	NEWLOG=$(tail -n +"$((before + 1))" "$DCLOG")
}
# Dovecot saw the connection end without any authentication.
no_login_attempt() {
	echo "$NEWLOG" | grep -q 'no auth attempts' &&
	    ! echo "$NEWLOG" | grep -q -e 'Login:' -e 'auth failed' -e 'auth attempts in [0-9]* secs[^)]*): user=<hotline'
}
tickets() { q 'select count(*) from tickets'; }

gen_mail 3 11
run implicit
check "implicit TLS: exit 0" [ "$RC" -eq 0 ]
check "implicit TLS: 3 tickets" [ "$(tickets)" = 3 ]
check "implicit TLS: all 3 \\Seen on the server" [ "$(seen_count)" = 3 ]
check "implicit TLS: IP SAN matched (the cert has no DNS:127.0.0.1)" grep -q 'TLS verified' "$T/implicit.log"
check "source key is uidvalidity:uid" [ "$(q "select count(*) from messages where source_key glob '[0-9]*:[0-9]*'")" = 3 ]
check "received_at is INTERNALDATE (gen-mail dates, before 2026-11-21)" [ "$(q "select count(*) from messages where received_at < strftime('%s','2026-11-21')")" = 3 ]
check "no password in the log" sh -c "! grep -q test-password '$T/implicit.log'"

gen_mail 2 12
run starttls 'tls = "starttls"' "port = $IMAP_PORT" 'host = "localhost"'
check "STARTTLS (DNS SAN localhost): exit 0" [ "$RC" -eq 0 ]
check "STARTTLS: 5 tickets" [ "$(tickets)" = 5 ]
check "STARTTLS: the login was over TLS" sh -c "echo '$NEWLOG' | grep 'Login: user=<hotline>' | grep -q TLS"

gen_mail 1 13
run rogue 'ca_file = "rogue.pem"'
check "untrusted CA: refused (non-zero exit)" [ "$RC" -ne 0 ]
check "untrusted CA: error says why" grep -q 'certificate of 127.0.0.1 refused.*NOT trusted' "$T/rogue.log"
check "untrusted CA: no credentials sent" no_login_attempt
check "untrusted CA: nothing fetched" [ "$(tickets)" = 5 ]

run starttls-rogue 'tls = "starttls"' "port = $IMAP_PORT" 'ca_file = "rogue.pem"'
check "untrusted CA after STARTTLS: refused, no credentials sent" sh -c "[ $RC -ne 0 ]" && check "  (Dovecot log)" no_login_attempt

run system 'ca_file ='
check "system trust store: the test CA is not in it, refused" [ "$RC" -ne 0 ]
check "system trust store: no credentials sent" no_login_attempt

run wronghost 'host = "127.0.0.2"'
check "wrong host name (127.0.0.2, same cert): refused" [ "$RC" -ne 0 ]
check "wrong host name: error names the mismatch" grep -q 'does not match' "$T/wronghost.log"
check "wrong host name: no credentials sent" no_login_attempt

pin=$(openssl x509 -in "$T/server.pem" -outform DER | sha256sum | cut -c1-64)
run badpin "pin_sha256 = \"$(printf '%064d' 0)\""
check "wrong pin: refused" sh -c "[ $RC -ne 0 ] && grep -q 'pin mismatch' '$T/badpin.log'"
check "wrong pin: no credentials sent" no_login_attempt
run goodpin "pin_sha256 = \"$pin\"" 'ca_file = "rogue.pem"' 'host = "127.0.0.2"'
check "right pin: accepted (the pin alone is the trust decision)" [ "$RC" -eq 0 ]
check "right pin: the waiting message fetched" [ "$(tickets)" = 6 ]

gen_mail 1 14
run noverify 'ca_file = "rogue.pem"' 'tls_verify = false' 'host = "127.0.0.2"'
check "tls_verify = false: works with an untrusted cert and a wrong name" [ "$RC" -eq 0 ]
check "tls_verify = false: warns" grep -q 'tls_verify = false.*NOT verified' "$T/noverify.log"
check "tls_verify = false: fetched" [ "$(tickets)" = 7 ]

printf 'not-the-password\n' >"$T/bad.password"; chmod 600 "$T/bad.password"
gen_mail 1 15
CONF_TOP='alerts = { webhook = "http://127.0.0.1:9/hook"; };' \
    run badpass 'password_file = "bad.password"'
check "wrong password: exit 78 (authentication)" [ "$RC" -eq 78 ]
check "wrong password: clear error" grep -q 'authentication failed: login as hotline: login refused' "$T/badpass.log"
check "wrong password, --once: the log says it is not retried in this run" grep -q 'login refused.*(--once: not retried in this run)' "$T/badpass.log"
check "wrong password, --once: no promise of a retry it will not make" sh -c "! grep -q 'retrying in' '$T/badpass.log'"
check "wrong password: no password in the log" sh -c "! grep -q -e not-the-password -e test-password '$T/badpass.log'"
check "wrong password: health alert queued in the outbox" [ "$(q "select count(*) from outbox where kind = 'health' and payload like '%authentication failed%'")" = 1 ]
check "wrong password: last_error recorded for intake status" [ "$(q "select count(*) from source_state where last_error like '%login refused%'")" = 1 ]
check "wrong password: nothing fetched" [ "$(tickets)" = 7 ]

# XOAUTH2 (Dovecot 2.3 checks the bearer token against the passdb).
run oauth 'auth = "xoauth2"' 'password_file =' \
    "token_command = \"printf '%s\\\\n' test-password second-line-ignored\""
check "xoauth2 with token_command: exit 0" [ "$RC" -eq 0 ]
check "xoauth2: fetched" [ "$(tickets)" = 8 ]
run oauth1b 'auth = "xoauth2"' 'password_file =' \
    "token_command = \"printf '%s\\\\n' test-password ;touch $T/X\""
check "token_command without a shell: login works (exit 0)" [ "$RC" -eq 0 ]
check "token_command without a shell: ;touch ran nothing" [ ! -e "$T/X" ]
run oauth2 'auth = "xoauth2"' 'password_file =' 'token_command = "echo expired-token"'
check "xoauth2, token refused: exit 78, clear error" sh -c "[ $RC -eq 78 ] && grep -q 'xoauth2 (token expired or revoked?) as hotline' '$T/oauth2.log'"
start=$(date +%s)
run oauth3 'auth = "xoauth2"' 'password_file =' 'token_command = "sleep 30"' 'timeout = 1'
check "token_command killed after the timeout" sh -c "[ $RC -ne 0 ] && [ $(( $(date +%s) - start )) -lt 5 ] && grep -q 'token_command timed out' '$T/oauth3.log'"
check "every daemon log line carries a <N> priority (issue 12 item 21)" sh -c "! grep -hv '^<[0-7]>' '$T'/*.log"
finish
