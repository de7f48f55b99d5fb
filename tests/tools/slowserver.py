#!/usr/bin/python3
"""tests/tools/slowserver.py MODE PORTFILE [PROTO]: a TCP server on 127.0.0.1
that accepts connections and then either says nothing (MODE silent) or
trickles, one byte a second, an endless IMAP greeting or (PROTO http) an
HTTP reply (MODE trickle).  Writes its port
to PORTFILE; runs until killed.  For tests/it/fault_slow_server.sh."""
import socket
import sys
import threading
import time

mode, portfile = sys.argv[1], sys.argv[2]
proto = sys.argv[3] if len(sys.argv) > 3 else "imap"
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
import os
os.rename(portfile + ".tmp", portfile)


def serve(conn):
    try:
        if mode == "silent":
            while conn.recv(4096):
                pass
        else:
            if proto == "http":
                conn.recv(65536)
                greeting = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 100000\r\n\r\n{\"messages\":[" +
                            b" " * 100000)
            else:
                greeting = b"* OK [CAPABILITY IMAP4rev1] " + b"x" * 100000
            for b in greeting:
                conn.sendall(bytes([b]))
                time.sleep(1)
    except OSError:
        pass
    finally:
        conn.close()


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
