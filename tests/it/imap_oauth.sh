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

# intake's own refresh (oauth = { }): the token endpoint of the same server.
tokfile client.secret s3cret
tokfile refresh.tok rt-0
admin 'refresh=rt-0&rotate=1'
OA="oauth = { token_url = \"$OURL/token\"; client_id = \"intake\"; client_secret_file = \"client.secret\"; refresh_token_file = \"refresh.tok\"; scope = \"imap offline_access\"; }"
calls() { grep -c "^token $1" "$T/oauth/log" 2>/dev/null || echo 0; }
gen_mail 1 25
run rot 'auth = "xoauth2"' 'password_file =' "$OA"
check "oauth refresh grant: exit 0, the message fetched" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 9 ]"
check "oauth: one refresh_token grant, scope sent, rotated" [ "$(grep -c '^token refresh_token ok rotated scope=imap offline_access' "$T/oauth/log")" = 1 ]
new_rt=$(cat "$T/refresh.tok")
check "rotation: refresh_token_file now holds the new refresh token" sh -c "[ '$new_rt' != rt-0 ] && grep -qx 'rt-[0-9]*' '$T/refresh.tok'"
check "rotation: the file is mode 0600, no temporary left" sh -c "[ \"\$(stat -c %a '$T/refresh.tok')\" = 600 ] && ! ls '$T'/refresh.tok.tmp* 2>/dev/null"
check "oauth: no token of any kind in the log" sh -c "! grep -q -e 'at-[0-9]' -e 'rt-[0-9]' -e s3cret '$T/rot.log'"
run rot2 'auth = "oauthbearer"' 'password_file =' "$OA"
check "the rotated refresh token works the next time (oauthbearer): exit 0" [ "$RC" -eq 0 ]
check "  and was rotated again" sh -c "[ \"\$(cat '$T/refresh.tok')\" != '$new_rt' ]"
admin 'rotate=0'
ino=$(stat -c %i "$T/refresh.tok"); rt=$(cat "$T/refresh.tok")
run norot 'auth = "xoauth2"' 'password_file =' "$OA"
check "no rotation: exit 0, the file not rewritten (same inode, same token)" sh -c "[ $RC -eq 0 ] && [ $(stat -c %i "$T/refresh.tok") = $ino ] && [ \"\$(cat '$T/refresh.tok')\" = '$rt' ]"
n0=$(calls refresh_token)
admin 'revoke_next=1'
gen_mail 1 26
run once 'auth = "xoauth2"' 'password_file =' "$OA"
check "a token the server refuses: refreshed once, then fetched (exit 0)" sh -c "[ $RC -eq 0 ] && [ $(tickets) = 10 ] && [ $(calls refresh_token) = $((n0 + 2)) ]"
admin 'revoke_next=5'
n0=$(calls refresh_token)
run twice 'auth = "xoauth2"' 'password_file =' "$OA"
check "refused again after the refresh: exit 78, exactly one refresh (no loop)" sh -c "[ $RC -eq 78 ] && [ $(calls refresh_token) = $((n0 + 2)) ] && grep -q 'xoauth2 (token expired or revoked?)' '$T/twice.log'"
admin 'revoke_next=0'
OC="oauth = { token_url = \"$OURL/token\"; client_id = \"intake\"; client_secret_file = \"client.secret\"; }"
run cc 'auth = "xoauth2"' 'password_file =' "$OC"
check "client-credentials grant (no refresh_token_file): exit 0" sh -c "[ $RC -eq 0 ] && [ $(calls 'client_credentials ok') = 1 ] && [ $(tickets) = 10 ]"
tokfile refresh.tok rt-bogus
run bad 'auth = "xoauth2"' 'password_file =' "$OA"
check "unknown refresh token: exit 78, the server's error code" sh -c "[ $RC -eq 78 ] && grep -q 'xoauth2 token: token_url: HTTP 400 invalid_grant' '$T/bad.log'"
imap_conf "$T/chk.conf" 'auth = "xoauth2"' 'password_file =' "$OA"
$INTAKED --check-config -c "$T/chk.conf" >"$T/chk.out" 2>"$T/chk.log"; RC=$?
check "--check-config: a token that cannot be obtained is reported (exit 78)" sh -c "[ $RC -eq 78 ] && grep -q 'source hotline: no access token: token_url: HTTP 400 invalid_grant' '$T/chk.log'"
imap_conf "$T/chk2.conf" 'auth = "xoauth2"' 'password_file =' "$OC"
$INTAKED --check-config -c "$T/chk2.conf" >"$T/chk2.out" 2>"$T/chk2.log"; RC=$?
check "--check-config: a token that can be obtained: exit 0" [ "$RC" -eq 0 ]
imap_conf "$T/chk3.conf" 'auth = "xoauth2"' 'password_file =' 'oauth = { token_url = "http://192.0.2.1/token"; client_id = "intake"; client_secret_file = "client.secret"; }'
$INTAKED --check-config -c "$T/chk3.conf" >"$T/chk3.out" 2>"$T/chk3.log"; RC=$?
check "token_url: plain http refused unless loopback" sh -c "[ $RC -eq 78 ] && grep -q 'token_url must be https://' '$T/chk3.log'"

check "every daemon log line carries a <N> priority" sh -c "! grep -hv '^<[0-7]>' '$T'/*.log"
finish
