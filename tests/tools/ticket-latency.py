#!/usr/bin/python3
"""ticket-latency.py --maildir DIR --db FILE [--count N]

Delivery-to-ticket latency of a running intaked (IDLE): per trial, a message
is written into DIR/tmp/, then t0 = just before its rename() into DIR/new/
(what an MTA's maildir delivery does, and what idle-latency.py's "maildir"
method times), and t1 = when intaked's database shows one more message
(polled every 2 ms, read-only).  Between trials a deterministic 0.2-0.5 s
pause, as idle-latency.py.  Prints median, p99 and max in ms.
"""
import argparse
import os
import random
import sqlite3
import statistics
import sys
import time


def count(db):
    return db.execute('select count(*) from messages').fetchone()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--maildir', required=True)
    ap.add_argument('--db', required=True)
    ap.add_argument('--count', type=int, default=100)
    ap.add_argument('--timeout', type=float, default=30)
    a = ap.parse_args()
    rng = random.Random(7)
    st = os.stat(a.maildir)
    db = sqlite3.connect(f'file:{a.db}?mode=ro', uri=True, isolation_level=None)
    have = count(db)
    res = []
    for i in range(a.count):
        time.sleep(0.2 + 0.3 * rng.random())
        body = ''.join(f'Line {j} of the ticket latency probe.\n' for j in range(40))
        data = (f'From: Probe <probe@example.com>\nTo: Hotline <hotline@bench.example>\n'
                f'Subject: ticket probe {i}\nDate: Fri, 20 Nov 2026 18:00:00 +0000\n'
                f'Message-ID: <ticket-probe-{i}-{os.getpid()}@example.com>\n'
                f'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
                + body).encode()
        name = f'{int(time.time())}.M{i}P{os.getpid()}.ticketprobe'
        tmp = os.path.join(a.maildir, 'tmp', name)
        with open(tmp, 'wb') as f:
            f.write(data)
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        t0 = time.perf_counter()
        os.rename(tmp, os.path.join(a.maildir, 'new', name))
        while count(db) <= have:
            if time.perf_counter() - t0 > a.timeout:
                sys.exit(f'no ticket within {a.timeout} s (trial {i})')
            time.sleep(0.002)
        res.append(time.perf_counter() - t0)
        have = count(db)
    xs = sorted(res)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    print(f'intaked IDLE delivery-to-ticket (n={len(xs)}): median '
          f'{statistics.median(xs) * 1e3:.1f} ms, p99 {p99 * 1e3:.1f}, '
          f'max {xs[-1] * 1e3:.1f}')


if __name__ == '__main__':
    sys.exit(main())
