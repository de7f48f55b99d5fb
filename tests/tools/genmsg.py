#!/usr/bin/python3
"""tests/tools/genmsg.py KIND [N]: writes a message that hits one parser
limit to standard output.  Used by tests/it/limits.sh and the benchmarks."""
import sys

kind = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 0
w = sys.stdout.write
w("From: Sender <sender@example.net>\nTo: help@example.org\n"
  "Subject: limit %s\nMessage-ID: <%s.%d@example.net>\nMIME-Version: 1.0\n"
  % (kind, kind, n))
if kind == "size":			# n bytes of plain text
    w("Content-Type: text/plain\n\n")
    w(("please help me now\n" * (n // 19 + 1))[:n])
elif kind == "depth":			# n nested multiparts
    for i in range(n):
        w("Content-Type: multipart/mixed; boundary=d%d\n\n--d%d\n" % (i, i))
    w("Content-Type: text/plain\n\ndeep text\n")
    for i in reversed(range(n)):
        w("--d%d--\n" % i)
elif kind == "parts":			# n sibling parts
    w("Content-Type: multipart/mixed; boundary=p\n\n")
    for i in range(n):
        w("--p\nContent-Type: text/plain\n\npart %d\n" % i)
    w("--p--\n")
elif kind == "headers":			# n extra headers
    for i in range(n):
        w("X-Extra-%d: value %d\n" % (i, i))
    w("\nbody\n")
elif kind == "header-length":		# one header of n bytes
    w("X-Long: " + "a" * n + "\n\nbody\n")
elif kind == "ratio":			# base64 windows-1252 0x80: ratio 2.25
    import base64
    w("Content-Type: text/plain; charset=windows-1252\n"
      "Content-Transfer-Encoding: base64\n\n")
    data = base64.encodebytes(b"\x80" * n).decode()
    w(data)
elif kind == "html":			# HTML whose text is about n bytes
    w("Content-Type: text/html; charset=utf-8\n\n<html><body>\n")
    line = "<p>abc &amp; def <b>ghi</b> <a href='https://x.example/'>jkl</a></p>\n"
    w(line * (n // 30 + 1))
    w("</body></html>\n")
else:
    sys.exit("genmsg: unknown kind " + kind)
