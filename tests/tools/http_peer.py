#!/usr/bin/python3
# http_peer.py: a loopback HTTP server for the tests (run with Debian's
# /usr/bin/python3).  It plays two peers of intake:
#  - GET: an HTTP message source.  Needs "Authorization: Bearer TOKEN".
#    The reply is the file DIR/page-<since>.json (DIR/page-start.json when
#    there is no since parameter), else an empty page.  Each request is
#    logged to DIR/requests.log as "GET <since or -> <auth ok|bad>".
#  - POST: a webhook.  Appends {"key": Idempotency-Key, "type": Content-Type,
#    "body": parsed JSON} as one line to DIR/posts.jsonl; answers the
#    status in DIR/post-status (default 200).
# With --cert/--key it speaks HTTPS.
# Usage: http_peer.py --dir DIR --token TOKEN [--port N] --port-file F
#        [--cert PEM --key PEM]
import argparse, json, os, ssl, sys, urllib.parse
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--token", default="")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--port-file", required=True)
ap.add_argument("--cert")
ap.add_argument("--key")
args = ap.parse_args()


def log(line):
    with open(os.path.join(args.dir, "requests.log"), "a") as f:
        f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        q = urllib.parse.urlparse(self.path).query
        since = urllib.parse.parse_qs(q).get("since", [None])[0]
        ok = self.headers.get("Authorization") == "Bearer " + args.token
        log("GET %s %s" % (since if since is not None else "-",
                           "auth-ok" if ok else "auth-bad"))
        if not ok:
            return self.reply(401, '{"error":"unauthorized"}')
        name = "page-start.json" if since is None else "page-%s.json" % since
        path = os.path.join(args.dir, os.path.basename(name))
        if os.path.exists(path):
            with open(path, "rb") as f:
                return self.reply(200, f.read())
        return self.reply(200, '{"messages":[],"next_cursor":null}')

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        status = 200
        sp = os.path.join(args.dir, "post-status")
        if os.path.exists(sp):
            status = int(open(sp).read().strip() or "200")
        with open(os.path.join(args.dir, "posts.jsonl"), "a") as f:
            f.write(json.dumps({"key": self.headers.get("Idempotency-Key"),
                                "type": self.headers.get("Content-Type"),
                                "status": status, "body": body}) + "\n")
        self.reply(status, '{"ok":true}')

    def log_message(self, fmt, *a):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
tmp = args.port_file + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(tmp, args.port_file)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
