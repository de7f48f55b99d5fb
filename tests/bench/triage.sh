#!/bin/sh
# tests/bench/triage.sh [BUILD [PEER]]: messages classified per second by
# `intake classify` (parse + triage + JSON), as CPU (user+sys) rates:
#  - ~4 KB plain-text bodies (each labeled fixture's text repeated to 4 KB:
#    the issue's "typical message"; target 5,000/s on one core), 40 times
#    over in one run (the lexicon is compiled once);
#  - the labeled fixtures as they are (2.2 KB raw on average), 100 times;
#  - the time for one ~9 MB text body;
#  - with valgrind installed, instructions per 4 KB message (callgrind: a
#    run over all bodies minus a run over one, so start-up cancels out).
# PEER: another `intake` binary (e.g. one built from main) measured in the
# same run, rounds interleaved, for a ratio; the machine is shared, so each
# rate is the best of BENCH_ROUNDS (default 3) rounds.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
peer=${2:-}
dir=$top/tests/fixtures/labeled
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	printf 'From: a@example.net\nSubject: long\nContent-Type: text/plain\n\n'
	awk 'BEGIN { for (i = 0; i < 160000; i++) print "they took my passport and I owe a debt please help me now" }'
} >"$tmp/big.eml"
cd "$dir"
/usr/bin/python3 - "$build/intake" "$tmp" "${BENCH_ROUNDS:-3}" $peer <<'PY'
import email, email.policy, glob, os, re, resource, shutil, subprocess, sys, time
intake, tmp, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
bins = [("this", intake)] + ([("peer", sys.argv[4])] if len(sys.argv) > 4 else [])
big = os.path.join(tmp, "big.eml")
files = sorted(glob.glob("*.eml"))
size = sum(os.path.getsize(f) for f in files) / len(files)

def run(binary, args):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([binary, "classify", "-c", "/dev/null"] + args, check=True,
                   stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t1 - t0, cpu

def best_rates(args):
    """messages/s CPU per binary: the best round (least disturbed)."""
    best = {}
    for _ in range(rounds):
        for name, b in bins:
            wall, cpu = run(b, args)
            best[name] = max(best.get(name, 0), len(args) / cpu)
    return best

def show(label, best, target=None):
    line = "triage: %s: %.0f messages/s CPU" % (label, best["this"])
    if target:
        line += " (target %s)" % target
    if "peer" in best:
        line += "; peer %.0f/s, ratio %.2f" % (best["peer"],
                                              best["this"] / best["peer"])
    print(line)

k4 = []
for f in files:
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    part = m.get_body(("plain", "html"))
    text = part.get_content() if part is not None else ""
    if not text.strip():
        continue
    body = text
    while len(body.encode()) < 4096:
        body += "\n\n" + text
    body = body.encode()[:4096].decode("utf-8", "ignore")
    out = os.path.join(tmp, "k4-" + f)
    with open(out, "w") as fh:
        fh.write("From: a@example.net\nSubject: %s\nMIME-Version: 1.0\n"
                 "Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: 8bit\n\n%s\n"
                 % (str(m["subject"] or "").replace("\n", " "), body))
    k4.append(out)

show("%d messages with 4 KB bodies" % (len(k4) * 40), best_rates(k4 * 40),
     "5,000")
show("%d development messages (avg %.1f KB raw)" % (len(files) * 100,
     size / 1024), best_rates(files * 100))
for name, b in bins:
    wall, cpu = run(b, [big])
    print("triage: %s: one %.1f MB message in %.2f s wall (%.2f s CPU)"
          % (name, os.path.getsize(big) / 1048576, wall, cpu))

def instructions(binary, args):
    out = os.path.join(tmp, "cg.out")
    r = subprocess.run(["valgrind", "--tool=callgrind",
                        "--callgrind-out-file=" + out, binary, "classify",
                        "-c", "/dev/null"] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, check=True)
    os.unlink(out)
    return int(re.search(r"refs:\s+([\d,]+)", r.stderr).group(1).replace(",", ""))

if shutil.which("valgrind"):
    for name, b in bins:
        per = (instructions(b, k4) - instructions(b, k4[:1])) / (len(k4) - 1)
        print("triage: %s: %.2f M instructions per 4 KB message (callgrind)"
              % (name, per / 1e6))
PY
