#!/usr/bin/python3
# smtp_sink.py: a loopback SMTP server for the tests (Debian's
# python3-aiosmtpd; run with /usr/bin/python3).  Every message accepted is
# written to DIR/mail-N.eml, its envelope to DIR/mail-N.env as JSON
# {"from": ..., "rcpt": [...]}.  The chosen port goes to PORT_FILE.
# With --auth USER:PASS it requires AUTH (PLAIN/LOGIN, allowed without TLS
# on loopback) and records the login in the .env file as "auth".
# With --hold FILE it answers DATA only once FILE exists (the message is
# written first): a test can look at the sender's state while it waits.
# Usage: smtp_sink.py --dir DIR --port-file F [--port N] [--auth U:P]
#        [--hold FILE]
import argparse, asyncio, json, os, signal, socket, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--port-file", required=True)
ap.add_argument("--auth")
ap.add_argument("--hold")
args = ap.parse_args()


def authenticator(server, session, envelope, mechanism, auth_data):
    user, _, pw = args.auth.partition(":")
    ok = (auth_data.login.decode() == user and
          auth_data.password.decode() == pw)
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


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
                       "rcpt": envelope.rcpt_tos,
                       "auth": session.auth_data.login.decode()
                       if session.authenticated else None}, f)
        while args.hold and not os.path.exists(args.hold):
            await asyncio.sleep(0.05)
        return "250 OK"


port = args.port
if port == 0:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
kw = {}
if args.auth:
    kw = dict(authenticator=authenticator, auth_required=True,
              auth_require_tls=False)
ctl = Controller(Sink(), hostname="127.0.0.1", port=port, **kw)
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
