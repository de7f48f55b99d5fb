#!/bin/sh
# tools/classify-diff.sh OLD NEW: compare two `intake` binaries' classify
# output (one JSON line per message, rationale included) over every
# message of the test fixtures and a generated word salad of the built-in
# lexicon's words (600 messages of 20-700 words, with ages, negations,
# quoted lines, "_" joins, CJK, Hangul, Thai, Cyrillic).  For engine
# changes that must not change a single decision: nothing here pins an
# output, so it stays valid while staff edit the lexicon (build OLD from
# the same conf/triage.conf).  Exit 0 when identical, 1 with a diff.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 OLD-intake NEW-intake" >&2; exit 64; }
old=$1
new=$2
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$top/conf/triage.conf" "$tmp" <<'PY'
import random, re, sys
conf = open(sys.argv[1], encoding="utf-8").read()
words = re.findall(r"[a-z']+|[\u4e00-\u9fff]+|[\uac00-\ud7af]+|"
                   r"[\u0e00-\u0e7f]+|[\u0400-\u04ff]+", conf.lower())
words += [str(i) for i in range(40)] + ["15 yo", "she is 14",
          "tiene 16 a\u00f1os", "$500", "3:00 pm", "a_b", "don't", "not",
          "no", "never"]
seps = [" ", " ", " ", ", ", ". ", "\n", " - ", "_", "'", "  ",
        "\n> quoted ", "!"]
rnd = random.Random(2026)
for i in range(600):
    n = rnd.choice([20, 60, 200, 700])
    body = "".join(rnd.choice(words) + rnd.choice(seps) for _ in range(n))
    subj = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 8)))
    with open("%s/salad-%03d.eml" % (sys.argv[2], i), "w",
              encoding="utf-8") as f:
        f.write("From: a@example.net\nSubject: %s\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n%s\n" % (subj, body))
PY
cd "$top"
{ find tests/fixtures -type f \( -name '*.eml' -o -path '*sample-maildir*' \) \
    -size -4M; ls "$tmp"/salad-*.eml; } | sort >"$tmp/files"
xargs -a "$tmp/files" -d '\n' "$old" classify -c /dev/null >"$tmp/old" 2>/dev/null || true
xargs -a "$tmp/files" -d '\n' "$new" classify -c /dev/null >"$tmp/new" 2>/dev/null || true
n=$(wc -l <"$tmp/old")
if cmp -s "$tmp/old" "$tmp/new"; then
	echo "classify-diff: identical over $n messages"
	exit 0
fi
diff "$tmp/old" "$tmp/new" | head -40
echo "classify-diff: DIFFERENT (of $n messages)"
exit 1
