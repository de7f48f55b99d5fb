#!/usr/bin/env python3
"""oauth-server.py PORTFILE LOGFILE: a loopback OAuth 2.0 server for tests.

Binds 127.0.0.1 on a free port, writes the port to PORTFILE, and serves:

  POST /introspect   RFC 7662 token introspection (Dovecot's oauth2 passdb,
                     introspection_mode = post): form "token=..."; answers
                     {"active": true, "username": "hotline", "exp": ...} for a
                     known, unexpired, unrevoked access token, else
                     {"active": false}.
  POST /token        RFC 6749 token endpoint: grant_type=refresh_token
                     (refresh_token=...) or client_credentials; client_id /
                     client_secret in the form or HTTP Basic.  Issues a new
                     access token "at-N" (expires_in = the current ttl); in
                     rotate mode also a new refresh token "rt-N", and the old
                     one stops working.
  POST /admin        test control, form fields (any of):
                     access=TOK ttl=SECS  add an access token (ttl may be < 0:
                                          already expired)
                     revoke=TOK           revoke an access token
                     refresh=TOK          add a valid refresh token
                     rotate=0|1           rotate refresh tokens on use
                     issue_ttl=SECS       expires_in of issued access tokens
                     client=ID:SECRET     the accepted client credentials
                     fail=N               the next N /token calls answer 500
                     revoke_next=N        the next N access tokens issued are
                                          revoked from birth (the IMAP server
                                          refuses them)

Each request appends one line to LOGFILE ("introspect active",
"token refresh_token ok", ...), so a test can count calls.  Runs until
killed (SIGTERM) by the test, by PID.
"""
import base64
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {
    "access": {},          # token -> {"exp": epoch, "revoked": bool}
    "refresh": set(),
    "rotate": False,
    "issue_ttl": 3600,
    "client": ("intake", "s3cret"),
    "fail": 0,
    "revoke_next": 0,
    "n": 0,
}


def log(line):
    with open(sys.argv[2], "a") as f:
        f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("ascii", "replace")
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}

    def do_POST(self):
        f = self.form()
        path = self.path.split("?")[0]
        with lock:
            if path == "/introspect":
                return self.introspect(f)
            if path == "/token":
                return self.token(f)
            if path == "/admin":
                return self.admin(f)
        self.reply(404, {"error": "not found"})

    def introspect(self, f):
        t = state["access"].get(f.get("token", ""))
        if t is None:
            log("introspect unknown")
            return self.reply(200, {"active": False})
        if t["revoked"]:
            log("introspect revoked")
            return self.reply(200, {"active": False})
        if t["exp"] <= time.time():
            log("introspect expired")
            return self.reply(200, {"active": False})
        log("introspect active")
        self.reply(200, {"active": True, "username": "hotline",
                         "exp": int(t["exp"]), "token_type": "Bearer"})

    def client_ok(self, f):
        cid, sec = f.get("client_id"), f.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            dec = base64.b64decode(auth[6:]).decode()
            cid, _, sec = dec.partition(":")
            cid = urllib.parse.unquote_plus(cid)
            sec = urllib.parse.unquote_plus(sec)
        return (cid, sec) == state["client"]

    def token(self, f):
        grant = f.get("grant_type", "")
        if state["fail"] > 0:
            state["fail"] -= 1
            log("token %s fail500" % grant)
            return self.reply(500, {"error": "temporarily_unavailable"})
        if not self.client_ok(f):
            log("token %s badclient" % grant)
            return self.reply(401, {"error": "invalid_client"})
        out = {}
        if grant == "refresh_token":
            rt = f.get("refresh_token", "")
            if rt not in state["refresh"]:
                log("token refresh_token badgrant")
                return self.reply(400, {"error": "invalid_grant",
                                        "error_description": "unknown refresh token"})
            if state["rotate"]:
                state["refresh"].discard(rt)
                state["n"] += 1
                new = "rt-%d" % state["n"]
                state["refresh"].add(new)
                out["refresh_token"] = new
        elif grant != "client_credentials":
            log("token %s unsupported" % grant)
            return self.reply(400, {"error": "unsupported_grant_type"})
        state["n"] += 1
        at = "at-%d" % state["n"]
        state["access"][at] = {"exp": time.time() + state["issue_ttl"],
                               "revoked": state["revoke_next"] > 0}
        if state["revoke_next"] > 0:
            state["revoke_next"] -= 1
        out.update({"access_token": at, "token_type": "Bearer",
                    "expires_in": state["issue_ttl"]})
        if "scope" in f:
            out["scope"] = f["scope"]
        log("token %s ok%s scope=%s" % (grant, " rotated" if "refresh_token" in out else "",
                                       f.get("scope", "")))
        self.reply(200, out)

    def admin(self, f):
        if "access" in f:
            state["access"][f["access"]] = {
                "exp": time.time() + int(f.get("ttl", "3600")), "revoked": False}
        if "revoke" in f and f["revoke"] in state["access"]:
            state["access"][f["revoke"]]["revoked"] = True
        if "refresh" in f:
            state["refresh"].add(f["refresh"])
        if "rotate" in f:
            state["rotate"] = f["rotate"] == "1"
        if "issue_ttl" in f:
            state["issue_ttl"] = int(f["issue_ttl"])
        if "client" in f:
            state["client"] = tuple(f["client"].split(":", 1))
        if "fail" in f:
            state["fail"] = int(f["fail"])
        if "revoke_next" in f:
            state["revoke_next"] = int(f["revoke_next"])
        self.reply(200, {"ok": True})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
