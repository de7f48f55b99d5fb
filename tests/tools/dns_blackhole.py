#!/usr/bin/python3
"""A DNS server that never answers: dns_blackhole.py ADDR COUNTFILE.
Listens on UDP ADDR:53, counts the queries it receives (written to
COUNTFILE after each one) and sends nothing back, like a dead resolver
that still accepts packets (no ICMP refusal that would end the lookup)."""
import socket
import sys

addr, countfile = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
with open(countfile + ".tmp", "w") as f:
    f.write("0\n")
import os
os.rename(countfile + ".tmp", countfile)
n = 0
while True:
    s.recvfrom(4096)
    n += 1
    with open(countfile + ".tmp", "w") as f:
        f.write("%d\n" % n)
    os.rename(countfile + ".tmp", countfile)
