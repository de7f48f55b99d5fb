#!/bin/sh
# tests/bench/triage.sh [BUILD]: messages classified per second by
# `intake classify` (parse + triage + JSON) on the labeled fixtures, each
# given 100 times in one run (the lexicon is compiled once), as wall-clock
# and CPU (user+sys) rates; the same for ~4 KB plain-text bodies (each
# fixture's text repeated to 4 KB, 20 times over: the issue's "typical
# message"); and the time for one ~9 MB text body.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
dir=$top/tests/fixtures/labeled
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	printf 'From: a@example.net\nSubject: long\nContent-Type: text/plain\n\n'
	awk 'BEGIN { for (i = 0; i < 160000; i++) print "they took my passport and I owe a debt please help me now" }'
} >"$tmp/big.eml"
cd "$dir"
/usr/bin/python3 - "$build/intake" "$tmp/big.eml" <<'PY'
import glob, os, resource, subprocess, sys, time
intake, big = sys.argv[1], sys.argv[2]
files = sorted(glob.glob("*.eml"))
size = sum(os.path.getsize(f) for f in files) / len(files)
def run(args):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([intake, "classify", "-c", "/dev/null"] + args, check=True,
                   stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t1 - t0, cpu
args = files * 100
wall, cpu = run(args)
print("triage: %d messages (avg %.1f KB raw) in %.2f s wall, %.2f s CPU: "
      "%.0f messages/s wall, %.0f messages/s CPU"
      % (len(args), size / 1024, wall, cpu, len(args) / wall, len(args) / cpu))
import email, email.policy
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
    out = os.path.join(os.path.dirname(big), "k4-" + f)
    with open(out, "w") as fh:
        fh.write("From: a@example.net\nSubject: %s\nMIME-Version: 1.0\n"
                 "Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: 8bit\n\n%s\n"
                 % (str(m["subject"] or "").replace("\n", " "), body))
    k4.append(out)
args = k4 * 20
wall, cpu = run(args)
print("triage: %d messages with 4 KB bodies in %.2f s wall, %.2f s CPU: "
      "%.0f messages/s wall, %.0f messages/s CPU"
      % (len(args), wall, cpu, len(args) / wall, len(args) / cpu))
wall, cpu = run([big])
print("triage: one %.1f MB message in %.2f s wall (%.2f s CPU)"
      % (os.path.getsize(big) / 1048576, wall, cpu))
PY
