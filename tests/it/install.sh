#!/bin/sh
# tests/it/install.sh: `make install DESTDIR=... PREFIX=/usr/local` stages
# the programs, man pages, examples and units; the staged programs run and
# answer --help; both are PIE (Debian's libetpan.pc would silently link a
# non-PIE executable); the man pages render with man -l without a groff
# warning.
set -u
top=${INTAKE_TOP:-.}
build=${INTAKE_BUILD:-build}
cd "$top" || exit 2
top=$(pwd)
case "$build" in
/*) ;;
*) build="$top/$build" ;;
esac

# make install ships these examples; until their owners commit them the
# install cannot be tested (say so rather than fake them).
for f in conf/intake.conf conf/triage.conf conf/intake.cron; do
	if [ ! -f "$f" ]; then
		echo "skip: $f is not in the tree yet (make install needs it)"
		exit 77
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
root="$tmp/root"
p="$root/usr/local"
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

if ! make -s -C "$top" install DESTDIR="$root" PREFIX=/usr/local \
    BUILD="${build#"$top"/}" >"$tmp/make.log" 2>&1; then
	cat "$tmp/make.log"
	echo "FAIL: make install DESTDIR=$root PREFIX=/usr/local"
	exit 1
fi

for f in bin/intake sbin/intaked share/man/man1/intake.1 \
    share/man/man5/intake.conf.5 share/man/man8/intaked.8 \
    share/doc/intake/examples/intake.conf share/doc/intake/examples/triage.conf \
    share/doc/intake/examples/intake.cron lib/systemd/system/intaked.service \
    lib/systemd/system/intake-remind.service lib/systemd/system/intake-remind.timer \
    lib/sysusers.d/intake.conf; do
	[ -f "$p/$f" ] || bad "not installed: /usr/local/$f"
done
[ -f "$root/etc/intake/triage.conf" ] || bad "not installed: /etc/intake/triage.conf"
# the installed example cites doc/sla.md and doc/interfaces.md (issue 12 item 24)
for f in sla.md interfaces.md; do
	[ -f "$p/share/doc/intake/$f" ] || bad "not installed: /usr/local/share/doc/intake/$f"
done
grep -q '^  lexicon = "/etc/intake/triage.conf";' "$p/share/doc/intake/examples/intake.conf" ||
	bad "the example configuration does not use the installed lexicon"
[ "$fail" -eq 0 ] || exit 1

# Modes: programs 0755, everything else readable, nothing writable by others.
for f in bin/intake sbin/intaked; do
	m=$(stat -c %a "$p/$f")
	[ "$m" = 755 ] || bad "/usr/local/$f has mode $m, not 755"
done
if find "$root" -perm -o+w ! -type l | grep .; then
	bad "files writable by others in the staged tree"
fi
grep -q '^ExecStart=/usr/local/sbin/intaked ' "$p/lib/systemd/system/intaked.service" ||
	bad "intaked.service does not start /usr/local/sbin/intaked"

# The cron example: every 15 minutes, as the user intake, intake remind.
grep -Eq '^\*/15 \* \* \* \*[[:space:]]+intake[[:space:]]+intake remind( |$)' \
    "$p/share/doc/intake/examples/intake.cron" ||
	bad "intake.cron has no '*/15 * * * * intake intake remind' line"

# The staged programs run from their installed place.
for prog in bin/intake sbin/intaked; do
	name=${prog#*/}
	"$p/$prog" --help >"$tmp/help.out" 2>"$tmp/help.err"
	rc=$?
	[ "$rc" -eq 0 ] || bad "staged $name --help exited $rc"
	grep -qi "^usage: $name" "$tmp/help.out" ||
		bad "staged $name --help prints no 'usage: $name' on stdout"
	"$p/$prog" --version >"$tmp/version.out" 2>&1 ||
		bad "staged $name --version failed"
	grep -q "^$name [0-9]" "$tmp/version.out" ||
		bad "staged $name --version prints no '$name VERSION'"
	d=$(file -b "$p/$prog")
	case "$d" in
	*"pie executable"*) echo "file: $name: pie executable" ;;
	*) bad "$name is not PIE: $d" ;;
	esac
done

# Every command `intake --help` lists is documented in intake(1); the
# daemon's --help names the options the issues fix (--check-config, --once).
"$p/bin/intake" --help 2>/dev/null |
    sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' >"$tmp/commands"
[ -s "$tmp/commands" ] || bad "intake --help lists no commands"
while read -r c; do
	grep -Eq "^\.B $c( |\$)" "$p/share/man/man1/intake.1" ||
		bad "intake $c is not documented in intake.1"
done <"$tmp/commands"
"$p/sbin/intaked" --help >"$tmp/help.out" 2>&1
for o in --check-config --once; do
	grep -q -- "$o" "$tmp/help.out" || bad "intaked --help does not mention $o"
done
# Every long option a --help shows is in the man page (roff writes \-\-).
opts_documented() {	# page, then the --help text on stdin
	grep -o -- '--[a-z][a-z-]*' | sort -u | while read -r o; do
		r=$(printf '%s' "$o" | sed 's/-/\\-/g')
		grep -qF -- "$r" "$1" || echo "$o"
	done
}
missing=$(opts_documented "$p/share/man/man8/intaked.8" <"$tmp/help.out")
[ -z "$missing" ] || bad "intaked.8 does not document:" $missing
while read -r c; do
	"$p/bin/intake" "$c" --help >"$tmp/help.out" 2>&1 ||
		bad "intake $c --help exited non-zero"
	missing=$(opts_documented "$p/share/man/man1/intake.1" <"$tmp/help.out")
	[ -z "$missing" ] || bad "intake.1 does not document for $c:" $missing
done <"$tmp/commands"

version=$("$p/bin/intake" --version 2>/dev/null | sed -n 's/^intake //p')
[ -n "$version" ] || bad "intake --version prints no version"

# Man pages: man -l renders them; groff reports no warning (-ww) at the
# width man uses; each has the usual sections.
for m in share/man/man1/intake.1 share/man/man5/intake.conf.5 share/man/man8/intaked.8; do
	f="$p/$m"
	if command -v groff >/dev/null 2>&1; then
		groff -man -Tutf8 -ww -z -rLL=78n "$f" >"$tmp/groff.err" 2>&1
		if [ -s "$tmp/groff.err" ]; then
			cat "$tmp/groff.err"
			bad "${m##*/}: groff warnings"
		fi
	fi
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man -l -E UTF-8 "$f" >"$tmp/man.out" 2>"$tmp/man.err" ||
			bad "${m##*/}: man -l failed"
		if [ -s "$tmp/man.err" ]; then
			cat "$tmp/man.err"
			bad "${m##*/}: man -l wrote to stderr"
		fi
	elif command -v groff >/dev/null 2>&1; then
		groff -man -Tutf8 "$f" >"$tmp/man.out" 2>/dev/null
	else
		bad "neither man nor groff to render ${m##*/}"
		continue
	fi
	for s in NAME SYNOPSIS DESCRIPTION FILES "SEE ALSO"; do
		grep -q "^$s" "$tmp/man.out" || bad "${m##*/}: no $s section"
	done
	# The footer names the version the programs print.
	grep -q "^\.TH .* \"intake $version\"" "$f" ||
		bad "${m##*/}: .TH does not say \"intake $version\""
	lines=$(wc -l <"$tmp/man.out")
	echo "man: ${m##*/}: $lines lines"
done

[ "$fail" -eq 0 ] || exit 1
echo "ok: install staged and runnable"
