#!/bin/sh
# make lint (tools/checksrc.sh): the tree is clean, and a banned call
# planted in a copy is caught with its FILE:LINE, while the same word in a
# comment or a string, and the bounded functions, are not.
. "$(dirname "$0")/../lib.sh"

out=$(cd "$TOP" && sh tools/checksrc.sh 2>&1); rc=$?
check "the tree passes the banned-function check" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" | head -n 5

mkdir -p "$T/tree/daemon"
cp "$TOP"/daemon/util.c "$T/tree/daemon/"
n=$(wc -l < "$T/tree/daemon/util.c")
cat >> "$T/tree/daemon/util.c" <<'C'
/* sprintf(x) in a comment, strcpy too */
static const char *words_only = "strcat(a, b) atoi(s)";
static void planted(char *d, const char *s) { (void)snprintf(d, 4, "%s", s); strcpy (d, s); }
C
want="$T/tree/daemon/util.c:$((n + 3)): banned function strcpy()"
out=$(sh "$TOP/tools/checksrc.sh" "$T/tree/daemon" 2>&1); rc=$?
check "a planted strcpy() fails the check" [ "$rc" -eq 1 ]
check "it is reported as FILE:LINE" sh -c "echo \"\$1\" | grep -qF \"\$2\"" sh "$out" "$want"
check "only that line is reported (comments, strings, snprintf pass)" [ "$(echo "$out" | wc -l)" -eq 1 ]

printf 'int f(const char *s) { return atoi(s); }\n' > "$T/tree/daemon/b.c"
out=$(sh "$TOP/tools/checksrc.sh" "$T/tree/daemon/b.c" 2>&1); rc=$?
check "atoi() is caught too" sh -c "[ $rc -eq 1 ] && echo \"\$1\" | grep -q 'b.c:1: banned function atoi()'" sh "$out"
finish
