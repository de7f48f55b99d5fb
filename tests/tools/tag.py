#!/usr/bin/python3
# tag.py KEYFILE TICKET: the subject tag "[intake #N-xxxxxxxx]" of a ticket,
# computed independently of the C code (tag.h): HMAC-SHA256 over
# "intake-ticket:N" with the 32-byte key, first 40 bits, lowercase base32.
import base64, hashlib, hmac, sys

key = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
mac = hmac.new(key, b"intake-ticket:%d" % n, hashlib.sha256).digest()
print("[intake #%d-%s]" % (n, base64.b32encode(mac[:5]).decode().lower()))
