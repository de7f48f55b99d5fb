#!/usr/bin/python3
# imap-proxy.py --port P --to PORT --before-body CMD: a plaintext TCP relay
# to 127.0.0.1:PORT that, when the client first sends a command asking for
# BODY.PEEK[] (the driver's body fetch), runs CMD (argv, split on spaces)
# and waits for it before passing the command on.  So a test can change
# the mailbox exactly between the listing and the fetch (a UID expunged
# by another session), which no timing can do reliably.
import argparse
import socket
import subprocess
import sys
import threading


def pump(src, dst, hook):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if hook is not None:
                hook(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--before-body", required=True)
    a = ap.parse_args()
    done = threading.Event()
    lock = threading.Lock()

    def hook(data):
        with lock:
            if not done.is_set() and b"BODY.PEEK[]" in data:
                subprocess.run(a.before_body.split(), check=False)
                done.set()

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        try:
            s = socket.create_connection(("127.0.0.1", a.to))
        except OSError as e:
            print("imap-proxy: %s" % e, file=sys.stderr)
            c.close()
            continue
        threading.Thread(target=pump, args=(c, s, hook), daemon=True).start()
        threading.Thread(target=pump, args=(s, c, None), daemon=True).start()


if __name__ == "__main__":
    main()
