#!/bin/sh
# token_command runs without a shell (issue 17; tokencmd.h): intaked
# --check-config obtains the token as the daemon would, so a command that
# cannot give one is reported before the first poll, and shell syntax in
# the command is passed to it literally: `$(touch X)` and `;touch X` create
# no X.  An unterminated quote is a configuration error with FILE:LINE.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 2
mkdir -p "$T/run"
conf() {	# FILE COMMAND (libconfig-escaped)
	cat >"$1" <<CONF
database = "$T/intake.db";
timezone = "America/New_York";
sources = ( { name = "m365"; type = "imap"; host = "127.0.0.1"; port = 9;
    tls = "none"; user = "hotline@example.org"; auth = "xoauth2";
    token_command = "$2"; timeout = 5; } );
CONF
}
check_config() { (cd "$T/run" && "$INTAKED" --check-config -c "$1" 2>"$1.log"); }

conf "$T/ok.conf" "printf %s tok-1"
check_config "$T/ok.conf"; rc=$?
check "a command that prints a token: exit 0 (was $rc)" [ "$rc" = 0 ]
check "the token is not logged" sh -c "! grep -q tok-1 '$T/ok.conf.log'"

conf "$T/false.conf" "false"
check_config "$T/false.conf"; rc=$?
check "a command that fails: --check-config exits 78 (was $rc)" [ "$rc" = 78 ]
check "and says why" grep -q 'source m365: no access token: token_command failed (status 1)' "$T/false.conf.log"

# With sh -c each of these would create X.  Without a shell, ";touch" and
# "X" are words given to printf, and "$(touch" and "X)" file names
# given to touch.
conf "$T/semi.conf" "printf %s tok ;touch X"
check_config "$T/semi.conf"; rc=$?
check ";touch X: printf printed it as the token: exit 0 (was $rc)" [ "$rc" = 0 ]
check ";touch X: no X" [ ! -e "$T/run/X" ]
conf "$T/subst.conf" "touch Y \$(touch X)"
check_config "$T/subst.conf"; rc=$?
check "\$(touch X): touch ran once, with the words as names" \
    sh -c "[ -e '$T/run/Y' ] && [ -e '$T/run/\$(touch' ] && [ -e '$T/run/X)' ]"
check "\$(touch X): no X" [ ! -e "$T/run/X" ]
check "\$(touch X): printed no token, so 78 (was $rc)" [ "$rc" = 78 ]

conf "$T/quote.conf" "oauth2ms 'unterminated"
check_config "$T/quote.conf"; rc=$?
check "unterminated quote: a configuration error (78, was $rc)" [ "$rc" = 78 ]
check "unterminated quote: FILE:LINE and the reason" grep -q "quote.conf:[0-9]*:.*token_command: unterminated single quote" "$T/quote.conf.log"
finish
