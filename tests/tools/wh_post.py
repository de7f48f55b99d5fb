#!/usr/bin/python3
"""wh_post.py: one signed (or deliberately mis-signed) request to the
webhook listener, for tests/it/webhook.sh.  Prints the status, then the
Content-Type, then the body.

  wh_post.py --port P --kind twilio|whatsapp|webhook --secret-file F
             [--path /x] [--query q] [--public-url U] [--form k=v ...]
             [--body TEXT] [--id ID] [--ts N|--ts-offset S] [--forge]
             [--no-sig] [--content-type T] [--chunked] [--get QUERY]
             [--json [--body-hash H]]   (twilio: the bodySHA256 variant)
"""
import argparse, base64, hashlib, hmac, http.client, sys, time, urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--kind", required=True)
ap.add_argument("--secret-file")
ap.add_argument("--path", default="/")
ap.add_argument("--query", default="")
ap.add_argument("--public-url", default="")
ap.add_argument("--form", action="append", default=[])
ap.add_argument("--body", default=None)
ap.add_argument("--id", default="msg_1")
ap.add_argument("--ts", type=int, default=None)
ap.add_argument("--ts-offset", type=int, default=0)
ap.add_argument("--forge", action="store_true")
ap.add_argument("--no-sig", action="store_true")
ap.add_argument("--content-type", default=None)
ap.add_argument("--chunked", action="store_true")
ap.add_argument("--get", default=None)
ap.add_argument("--json", action="store_true")   # twilio: the bodySHA256 variant
ap.add_argument("--body-hash", default=None)     # twilio --json: this bodySHA256
a = ap.parse_args()

c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
if a.get is not None:
    c.request("GET", a.path + "?" + a.get)
    r = c.getresponse()
    print(r.status)
    print(r.getheader("Content-Type", ""))
    print(r.read().decode("utf-8", "replace"))
    sys.exit(0)

secret = open(a.secret_file).readline().rstrip("\r\n")
headers = {}
if a.kind == "twilio" and a.json:
    body = a.body.encode()
    h = a.body_hash or hashlib.sha256(body).hexdigest()
    a.query = (a.query + "&" if a.query else "") + "bodySHA256=" + h
    url = a.public_url + "?" + a.query
    sig = base64.b64encode(hmac.new(secret.encode(), url.encode(), hashlib.sha1).digest()).decode()
    headers["Content-Type"] = "application/json"
    headers["X-Twilio-Signature"] = sig
elif a.kind == "twilio":
    pairs = [tuple(f.split("=", 1)) for f in a.form]
    body = urllib.parse.urlencode(pairs).encode() if a.body is None else a.body.encode()
    url = a.public_url + ("?" + a.query if a.query else "")
    s = url + "".join(k + v for k, v in sorted(pairs))
    sig = base64.b64encode(hmac.new(secret.encode(), s.encode(), hashlib.sha1).digest()).decode()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-Twilio-Signature"] = sig
elif a.kind == "whatsapp":
    body = a.body.encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers["Content-Type"] = "application/json"
    headers["X-Hub-Signature-256"] = sig
else:
    body = a.body.encode()
    ts = str(a.ts if a.ts is not None else int(time.time()) + a.ts_offset)
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, a.id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256)
    sig = "v1," + base64.b64encode(mac.digest()).decode()
    headers["Content-Type"] = "application/json"
    headers["webhook-id"] = a.id
    headers["webhook-timestamp"] = ts
    headers["webhook-signature"] = "v1,bm90IHRoaXMgb25l " + sig   # rotation: 2
sigh = {"twilio": "X-Twilio-Signature", "whatsapp": "X-Hub-Signature-256",
        "webhook": "webhook-signature"}[a.kind]
if a.forge:   # a signature of the right shape, made with another secret
    v = headers[sigh]
    headers[sigh] = v[:-6] + ("AAAAA=" if v.endswith("=") else "000000")
if a.no_sig:
    del headers[sigh]
if a.content_type is not None:
    headers["Content-Type"] = a.content_type
path = a.path + ("?" + a.query if a.query else "")
try:
    if a.chunked:
        c.request("POST", path, body=iter([body[i:i + 1000] for i in range(0, len(body), 1000)]),
                  headers=headers, encode_chunked=True)
    else:
        c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    print(r.status)
    print(r.getheader("Content-Type", ""))
    if r.status == 503:
        print("Retry-After:", r.getheader("Retry-After", ""))
    print(r.read().decode("utf-8", "replace"))
except (BrokenPipeError, ConnectionResetError) as e:
    # the listener may answer 413 and close before the body is sent
    print("reset")
