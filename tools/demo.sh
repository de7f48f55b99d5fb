#!/bin/sh
# make demo: copy the bundled sample mailbox into ./var/mail, run the daemon
# once over it (conf/dev.conf), and print the follow-up list.
set -eu
cd "$(dirname "$0")/.."
rm -rf var
mkdir -p var/mail/new var/mail/cur var/mail/tmp
# Copied without -p: the messages "arrive" now, so the deadlines are live.
cp tests/fixtures/sample-maildir/new/* var/mail/new/
echo "== intaked --once -c conf/dev.conf"
./build/intaked --once -c conf/dev.conf
echo
echo "== the mailbox afterwards (stored messages moved to cur/ and flagged S)"
ls var/mail/cur
echo
echo "== intake followups --all-open -c conf/dev.conf"
./build/intake followups --all-open -c conf/dev.conf
echo
echo "Try: ./intake show 1 -c conf/dev.conf    ./intake followups --format html -c conf/dev.conf"
