#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need, with
# apt-get (through sudo when not root).  A no-op when all are installed.
set -eu
PKGS="make gcc pkg-config libetpan-dev libcurl4-gnutls-dev libsqlite3-dev sqlite3
libconfig-dev libjansson-dev libsystemd-dev check libsubunit-dev libgnutls28-dev
libpcre2-dev libseccomp-dev tzdata openssl file dovecot-imapd dovecot-core
python3 python3-aiosmtpd valgrind curl ca-certificates systemd man-db groff-base
chromium libfaketime liblinear-dev python3-sklearn postfix postgresql-15 libpq-dev
libmicrohttpd-dev libical-dev isync"
# `tools/deps.sh fuzz`: only what `make fuzz` needs (clang with libFuzzer).
if [ "${1:-}" = fuzz ]; then
	PKGS="clang libclang-rt-14-dev"
fi
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# Packaged services (dovecot) must not start on the host: the tests run
# their own throwaway instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Postfix only for tests/it/postfix_pipe.sh's private instance: no system
# mail configuration (and policy-rc.d keeps the packaged one stopped).
case "$missing" in
*postfix*) echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections ;;
esac
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
