#!/usr/bin/python3
"""wh_killrun.py: the webhook listener's exactly-once run under kill -9,
for tests/it/webhook_kill.sh.  Starts intaked, posts N signed Standard
Webhooks requests (each its own webhook-id, retried with a fresh
timestamp until it is answered 200, as a provider does), while a second
thread kills intaked with SIGKILL KILLS times, spread over the run at
random (seeded) moments, and starts it again.  Prints "acked N" and "kills K", and the ids it got
a 200 for into ACKED_FILE.  Bounded: every wait has a limit.

  wh_killrun.py INTAKED CONF PORT SECRET_FILE N KILLS ACKED_FILE LOG
"""
import base64, hashlib, hmac, http.client, os, random, signal, socket
import subprocess, sys, threading, time

intaked, conf, port, secret_file, n, kills, acked_file, logf = sys.argv[1:9]
port, n, kills = int(port), int(n), int(kills)
secret = open(secret_file).readline().strip()
key = base64.b64decode(secret[len("whsec_"):])
env = dict(os.environ, INTAKE_NO_SANDBOX="1")
log = open(logf, "ab")
lock = threading.Lock()
proc = None
rnd = random.Random(17)


def start():
    global proc
    proc = subprocess.Popen([intaked, "-c", conf], env=env, stderr=log)
    t = time.time()
    while time.time() - t < 60:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if proc.poll() is not None:
                # the port may still be held for a moment: try again
                time.sleep(0.2)
                proc = subprocess.Popen([intaked, "-c", conf], env=env,
                                        stderr=log)
            time.sleep(0.05)
    sys.exit("intaked did not come up")


# Kill k (0-based) falls due once checkpoint(k) requests are acknowledged,
# after a random few milliseconds, so it lands amid the requests that
# follow: before a commit, between the commit and the 200, or between
# requests.  The sender waits at checkpoint(k) + 20 until it has happened,
# so all KILLS land mid-run however fast or slow the machine is.
def checkpoint(k):
    return n * (k + 1) // (kills + 1)


progress = [0]
killed = [0]
cv = threading.Condition()


def killer():
    k = 0
    while k < kills:
        with cv:
            cv.wait_for(lambda: progress[0] >= checkpoint(k), timeout=600)
        time.sleep(rnd.uniform(0, 0.02))
        with lock:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            k += 1
            start()
        with cv:
            killed[0] = k
            cv.notify_all()
    print("kills", k)


def post(i):
    body = ('{"text":"kill run message %d"}' % i).encode()
    wid = "msg_kill%05d" % i
    ts = str(int(time.time()))
    mac = hmac.new(key, wid.encode() + b"." + ts.encode() + b"." + body,
                   hashlib.sha256)
    h = {"Content-Type": "application/json", "webhook-id": wid,
         "webhook-timestamp": ts,
         "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode()}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/form", body=body, headers=h)
        r = c.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


start()
kt = threading.Thread(target=killer)
kt.start()
acked = []
deadline = time.time() + 600
for i in range(n):
    with cv:
        cv.wait_for(lambda: killed[0] >= kills or
                    i < checkpoint(killed[0]) + 20, timeout=600)
    while True:
        if time.time() > deadline:
            sys.exit("the run took over 600 s")
        st = post(i)
        if st == 200:
            acked.append("msg_kill%05d" % i)
            with cv:
                progress[0] = len(acked)
                cv.notify_all()
            break
        time.sleep(0.05)   # refused, reset, 503: the provider retries
kt.join()
with lock:
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
open(acked_file, "w").write("\n".join(acked) + "\n")
print("acked", len(acked))
