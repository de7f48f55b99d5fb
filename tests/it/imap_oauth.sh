#!/bin/sh
# IMAP OAuth 2.0 against a real Dovecot whose oauth2 passdb asks a loopback
# token-introspection server (tests/tools/oauth-server.py, RFC 7662,
# introspection_mode = post) about every bearer token: a valid token fetches
# tickets; an expired and a revoked token are refused with the documented
# SRC_AUTH error (exit 78, source_state.last_error, health alert) and nothing
# is lost: the messages stay unseen on the server and come in once a valid
# token is given.
. "$(dirname "$0")/../lib.sh"
need_py
command -v curl >/dev/null 2>&1 || skip "no curl"
mkdir -p "$T/oauth"
"$PY" "$TOP/tests/tools/oauth-server.py" "$T/oauth/port" "$T/oauth/log" \
    >"$T/oauth/server.log" 2>&1 &
track $!
wait_file "$T/oauth/port"
OPORT=$(cat "$T/oauth/port")
OURL=http://127.0.0.1:$OPORT
admin() { curl -s -o /dev/null -w '%{http_code}' --data "$1" "$OURL/admin" | grep -q 200; }
# Dovecot: the passwd-file passdb keeps plain/login; the bearer mechanisms
# go to the oauth2 passdb only.
cat >"$T/oauth/dovecot-oauth2.conf.ext" <<EOC
introspection_mode = post
introspection_url = $OURL/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
EOC
DOVECOT_EXTRA="auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $T/oauth/dovecot-oauth2.conf.ext
}"
. "$TOP/tests/tools/imap-env.sh"
imap_setup
chmod 755 "$T/oauth"
chmod 644 "$T/oauth/dovecot-oauth2.conf.ext"
cd "$T" || exit 2

run() {
	n=$1; shift
	imap_conf "$T/$n.conf" "$@"
	$INTAKED --once -c "$T/$n.conf" 2>"$T/$n.log"
	RC=$?
}
tickets() { q 'select count(*) from tickets' 2>/dev/null || echo 0; }
intro() { grep -c "^introspect $1" "$T/oauth/log" 2>/dev/null || echo 0; }
tokfile() { printf '%s\n' "$2" >"$T/$1"; chmod 600 "$T/$1"; }

admin 'access=good-1&ttl=3600' || die "oauth server admin"
admin 'access=old-1&ttl=-60'
admin 'access=gone-1&ttl=3600'
admin 'revoke=gone-1'
tokfile good.tok good-1
tokfile old.tok old-1
tokfile gone.tok gone-1

gen_mail 3 21
run xgood 'auth = "xoauth2"' 'password_file =' 'token_file = "good.tok"'
check "xoauth2, token the introspection server calls active: exit 0" [ "$RC" -eq 0 ]
check "xoauth2: 3 tickets" [ "$(tickets)" = 3 ]
check "xoauth2: Dovecot asked the introspection server" [ "$(intro active)" -ge 1 ]
check "xoauth2: the token is not in the log" sh -c "! grep -q good-1 '$T/xgood.log'"

gen_mail 2 22
CONF_TOP='alerts = { webhook = "http://127.0.0.1:9/hook"; };' \
    run xold 'auth = "xoauth2"' 'password_file =' 'token_file = "old.tok"'
check "xoauth2, expired token: exit 78 (authentication)" [ "$RC" -eq 78 ]
check "xoauth2, expired token: introspection said expired" [ "$(intro expired)" -ge 1 ]
check "xoauth2, expired token: the documented error" grep -q 'authentication failed: xoauth2 (token expired or revoked?) as hotline' "$T/xold.log"
check "xoauth2, expired token: last_error for intake status" [ "$(q "select count(*) from source_state where last_error like '%token expired or revoked%'")" = 1 ]
check "xoauth2, expired token: health alert queued" [ "$(q "select count(*) from outbox where kind = 'health' and payload like '%authentication failed%'")" = 1 ]
check "xoauth2, expired token: nothing fetched, nothing marked" sh -c "[ $(tickets) = 3 ] && [ $(seen_count) = 3 ]"
check "xoauth2, expired token: not in the log" sh -c "! grep -q old-1 '$T/xold.log'"

run xgone 'auth = "xoauth2"' 'password_file =' 'token_file = "gone.tok"'
check "xoauth2, revoked token: exit 78, the documented error" sh -c "[ $RC -eq 78 ] && grep -q 'xoauth2 (token expired or revoked?) as hotline' '$T/xgone.log'"
check "xoauth2, revoked token: introspection said revoked" [ "$(intro revoked)" -ge 1 ]
check "xoauth2, revoked token: nothing fetched" [ "$(tickets)" = 3 ]

run xagain 'auth = "xoauth2"' 'password_file =' 'token_file = "good.tok"'
check "nothing lost: a valid token again fetches the 2 waiting (5 tickets)" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 5 ] && [ $(seen_count) = 5 ]"
check "nothing twice: one message per Message-ID" [ "$(q 'select count(*) || " " || count(distinct message_id) from messages')" = "5 5" ]
# OAUTHBEARER (RFC 7628), sent by intake itself: libetpan has XOAUTH2 only.
gen_mail 2 23
run bgood 'auth = "oauthbearer"' 'password_file =' 'token_file = "good.tok"'
check "oauthbearer, active token: exit 0, 2 more tickets" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 7 ]"
check "oauthbearer: Dovecot logged the OAUTHBEARER login" grep -q 'Login: user=<hotline>.*method=OAUTHBEARER' "$DCLOG"
check "oauthbearer: the token is not in the log" sh -c "! grep -q good-1 '$T/bgood.log'"
gen_mail 1 24
run bold 'auth = "oauthbearer"' 'password_file =' 'token_file = "old.tok"'
check "oauthbearer, expired token: exit 78, the documented error" sh -c "[ $RC -eq 78 ] && grep -q 'authentication failed: oauthbearer (token expired or revoked?) as hotline' '$T/bold.log'"
run bgone 'auth = "oauthbearer"' 'password_file =' 'token_file = "gone.tok"'
check "oauthbearer, revoked token: exit 78 (the %x01 reply to the error challenge got the tagged NO)" sh -c "[ $RC -eq 78 ] && grep -q 'oauthbearer (token expired or revoked?)' '$T/bgone.log'"
check "oauthbearer, refused: nothing fetched" [ "$(tickets)" = 7 ]
run bagain 'auth = "oauthbearer"' 'password_file =' 'token_file = "good.tok"'
check "oauthbearer: nothing lost, the waiting message comes in" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 8 ] && [ $(seen_count) = 8 ]"

check "every daemon log line carries a <N> priority" sh -c "! grep -hv '^<[0-7]>' '$T'/*.log"
finish
