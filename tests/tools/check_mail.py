#!/usr/bin/python3
# check_mail.py: assertions on a mail captured by smtp_sink.py, for the
# integration tests.  Usage:
#   check_mail.py FILE.eml KEY=VALUE...
# Checks (any subset):
#   rcpt=a@x,b@y          envelope recipients (from FILE.env), in order
#   subject=TEXT          the decoded Subject equals TEXT
#   subject_raw_has=TEXT  the raw Subject header contains TEXT
#   header=NAME:VALUE     header NAME equals VALUE
#   multipart=1           multipart/alternative with text/plain + text/html
#   text_has=TEXT / text_lacks=TEXT   in the decoded text/plain part
#   html_has=TEXT / html_lacks=TEXT   in the decoded text/html part
#   body_lacks=TEXT       in every decoded part
# Exit 0 when all hold, 1 with a message otherwise.
import email, email.header, email.policy, json, sys

path = sys.argv[1]
raw = open(path, "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
env = json.load(open(path[:-4] + ".env"))
parts = {}
for p in msg.walk():
    if p.get_content_maintype() == "text":
        parts[p.get_content_type()] = p.get_content()
fail = []
for arg in sys.argv[2:]:
    k, _, v = arg.partition("=")
    if k == "rcpt":
        if env["rcpt"] != v.split(","):
            fail.append("rcpt %r != %r" % (env["rcpt"], v))
    elif k == "subject":
        if str(msg["Subject"]) != v:
            fail.append("subject %r != %r" % (str(msg["Subject"]), v))
    elif k == "subject_raw_has":
        rawsub = email.message_from_bytes(raw)["Subject"]
        if v not in rawsub:
            fail.append("raw subject %r lacks %r" % (rawsub, v))
    elif k == "header":
        name, _, val = v.partition(":")
        if str(msg[name]) != val:
            fail.append("header %s %r != %r" % (name, msg[name], val))
    elif k == "multipart":
        if msg.get_content_type() != "multipart/alternative" or \
                set(parts) != {"text/plain", "text/html"}:
            fail.append("not multipart/alternative text+html: %s %s" %
                        (msg.get_content_type(), sorted(parts)))
    elif k in ("text_has", "text_lacks", "html_has", "html_lacks"):
        part = parts.get("text/plain" if k.startswith("text") else
                         "text/html", "")
        if (v in part) != k.endswith("_has"):
            fail.append("%s %r failed" % (k, v))
    elif k == "body_lacks":
        for t, part in parts.items():
            if v in part:
                fail.append("%s contains %r" % (t, v))
    else:
        fail.append("unknown check " + k)
if fail:
    print(path + ": " + "; ".join(fail))
    sys.exit(1)
