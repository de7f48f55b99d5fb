#!/bin/sh
# tools/checksrc.sh [FILE|DIR]...: the banned-function check (curl's
# checksrc idea), run by `make lint` and so by `make check`.  A call of an
# unbounded or unsafe C function (sprintf, strcpy, strcat, strtok, atoi,
# gets and friends) in daemon/, include/ or tests/ fails with FILE:LINE.
# Comments and string literals are ignored; snprintf, strtok_r and the
# like are different words and allowed.  Exit 0 clean, 1 a banned call.
set -u
banned='sprintf|vsprintf|strcpy|stpcpy|strcat|strncat|strncpy|strtok|atoi|atol|atoll|atof|gets|tmpnam|tempnam|mktemp|asctime|ctime|gmtime|localtime'
[ $# -gt 0 ] || set -- daemon include tests/unit tests/fuzz tests/bench
files=$(find "$@" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
[ -n "$files" ] || { echo "checksrc: no C files in $*" >&2; exit 2; }
# shellcheck disable=SC2086
awk -v banned="$banned" '
FNR == 1 { incomment = 0 }
{
	line = $0; out = ""; i = 1; n = length(line)
	while (i <= n) {
		c = substr(line, i, 1); c2 = substr(line, i, 2)
		if (incomment) {
			if (c2 == "*/") { incomment = 0; i += 2 } else i++
			continue
		}
		if (c2 == "/*") { incomment = 1; i += 2; continue }
		if (c2 == "//") break
		if (c == "\"" || c == "\047") {
			q = c; i++
			while (i <= n && substr(line, i, 1) != q) {
				if (substr(line, i, 1) == "\\") i++
				i++
			}
			i++; out = out " "; continue
		}
		out = out c; i++
	}
	re = "(^|[^A-Za-z0-9_])(" banned ")[ \t]*\\("
	if (match(out, re)) {
		m = substr(out, RSTART, RLENGTH)
		sub(/^[^A-Za-z_]/, "", m); sub(/[ \t]*\($/, "", m)
		printf "%s:%d: banned function %s(): use the bounded one (snprintf, xasprintf, buf_*, strtol, strtok_r, *_r)\n", FILENAME, FNR, m
		bad = 1
	}
}
END { exit bad ? 1 : 0 }' $files
