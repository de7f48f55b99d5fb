#!/usr/bin/python3
# smtp_sink.py: a loopback SMTP server for the tests (Debian's
# python3-aiosmtpd; run with /usr/bin/python3).  Every message accepted is
# written to DIR/mail-N.eml, its envelope to DIR/mail-N.env as JSON
# {"from": ..., "rcpt": [...]}.  The chosen port goes to PORT_FILE.
# Usage: smtp_sink.py --dir DIR --port-file F [--port N]
import argparse, json, os, signal, socket, threading
from aiosmtpd.controller import Controller

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--port-file", required=True)
args = ap.parse_args()


class Sink:
    def __init__(self):
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(args.dir, "mail-%d" % self.n)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            json.dump({"from": envelope.mail_from,
                       "rcpt": envelope.rcpt_tos}, f)
        return "250 OK"


port = args.port
if port == 0:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
ctl.start()
tmp = args.port_file + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % port)
os.rename(tmp, args.port_file)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
signal.signal(signal.SIGINT, lambda *a: done.set())
done.wait()
ctl.stop()
