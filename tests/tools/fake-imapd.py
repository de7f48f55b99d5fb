#!/usr/bin/python3
"""fake-imapd.py --port P --maildir DIR --log FILE [--stall-idle] [--logindisabled]
                [--bad-login] [--drop-uid N]... [--drop-header-uid N]...
                [--nobody-uid N]...

A deliberately small, plaintext IMAP server on 127.0.0.1 for misbehaviours a
real Dovecot will not show (tests only; one client at a time):
  --stall-idle     answer IDLE with an untagged "* N EXISTS" BEFORE the "+"
                   continuation, the order that stalls Debian's libetpan
                   1.9.4 in mailimap_idle() (upstream issue #393)
  --logindisabled  advertise LOGINDISABLED (a client must not send LOGIN)
  --bad-login      refuse every LOGIN with NO
  --drop-uid N     a FETCH of message N's body sends half of it, then closes
                   the connection, every time (as Dovecot does on a message
                   it finds corrupted); its header (BODY.PEEK[HEADER]) is
                   still served
  --drop-header-uid N  the same for a FETCH of N's header
  --nobody-uid N   a FETCH of N's body or header answers OK without it
Message N's header is its bytes up to and including the first blank line.
Messages are the files of DIR (sorted by name; UID = position + 1, so only
append names that sort last); \\Seen is remembered in memory and written to
DIR/../seen as one UID per line.  Every command is appended to FILE with
LOGIN's arguments replaced by "***".
"""
import argparse
import os
import re
import socketserver
import sys
import time

A = None


def messages():
    return [os.path.join(A.maildir, n) for n in sorted(os.listdir(A.maildir))]


def uid_set(spec, maxuid):
    out = set()
    for part in spec.split(','):
        if ':' in part:
            lo, hi = part.split(':')
            lo = maxuid if lo == '*' else int(lo)
            hi = maxuid if hi == '*' else int(hi)
            lo, hi = min(lo, hi), max(lo, hi)
            out.update(range(lo, hi + 1))
        else:
            out.add(maxuid if part == '*' else int(part))
    return sorted(u for u in out if 1 <= u <= maxuid)


class Handler(socketserver.StreamRequestHandler):
    seen = set()

    def send(self, s):
        self.wfile.write(s if isinstance(s, bytes) else s.encode() + b'\r\n')
        self.wfile.flush()

    def log(self, line):
        line = re.sub(r'(?i)^(\S+ LOGIN) .*', r'\1 ***', line)
        with open(A.log, 'a') as f:
            f.write(line + '\n')

    def caps(self):
        c = 'IMAP4rev1 IDLE UIDPLUS MOVE'
        return c + (' LOGINDISABLED' if A.logindisabled else '')

    def handle(self):
        self.send('* OK fake-imapd ready')
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode('utf-8', 'replace').rstrip('\r\n')
            self.log(line)
            parts = line.split(' ', 2)
            if len(parts) < 2:
                continue
            tag, cmd = parts[0], parts[1].upper()
            arg = parts[2] if len(parts) > 2 else ''
            msgs = messages()
            if cmd == 'CAPABILITY':
                self.send('* CAPABILITY ' + self.caps())
                self.send(f'{tag} OK done')
            elif cmd == 'LOGIN':
                if A.bad_login:
                    self.send(f'{tag} NO [AUTHENTICATIONFAILED] bad password')
                else:
                    self.send(f'{tag} OK logged in')
            elif cmd == 'SELECT':
                self.send(f'* {len(msgs)} EXISTS')
                self.send('* 0 RECENT')
                self.send('* OK [UIDVALIDITY 7] ok')
                self.send(f'* OK [UIDNEXT {len(msgs) + 1}] ok')
                self.send(f'{tag} OK [READ-WRITE] selected')
            elif cmd == 'NOOP':
                self.send(f'{tag} OK noop')
            elif cmd == 'LOGOUT':
                self.send('* BYE bye')
                self.send(f'{tag} OK logout')
                return
            elif cmd == 'IDLE':
                if A.stall_idle:
                    self.send(f'* {len(msgs)} EXISTS')
                    time.sleep(0.05)
                self.send('+ idling')
                while True:
                    d = self.rfile.readline()
                    if not d:
                        return
                    self.log(d.decode().rstrip('\r\n'))
                    if d.strip().upper() == b'DONE':
                        self.send(f'{tag} OK idle done')
                        break
            elif cmd == 'UID':
                if not self.uid(tag, arg, msgs):
                    return
            else:
                self.send(f'{tag} BAD unknown command')

    def uid(self, tag, arg, msgs):
        """One UID command; False when the connection is to be dropped."""
        sub, rest = arg.split(' ', 1)
        sub = sub.upper()
        spec, items = rest.split(' ', 1)
        uids = uid_set(spec, len(msgs))
        if sub == 'FETCH':
            up = items.upper()
            section = ('' if 'BODY.PEEK[]' in up else
                       'HEADER' if 'BODY.PEEK[HEADER]' in up else None)
            drop = A.drop_uid if section == '' else A.drop_header_uid
            for u in uids:
                data = open(msgs[u - 1], 'rb').read()
                if section is None:
                    self.send(f'* {u} FETCH (UID {u} RFC822.SIZE {len(data)})')
                    continue
                if u in A.nobody_uid:
                    self.send(f'* {u} FETCH (UID {u} FLAGS ())')
                    continue
                if section == 'HEADER':
                    end, sep = data.find(b'\r\n\r\n'), 4
                    if end < 0:
                        end, sep = data.find(b'\n\n'), 2
                    data = data if end < 0 else data[:end + sep]
                head = (f'* {u} FETCH (UID {u} INTERNALDATE '
                        f'"20-Nov-2026 18:00:00 -0500" BODY[{section}] '
                        f'{{{len(data)}}}\r\n').encode()
                if u in drop:
                    self.send(head + data[:len(data) // 2])
                    return False
                self.send(head + data + b')\r\n')
            self.send(f'{tag} OK fetch done')
        elif sub == 'STORE':
            if '\\SEEN' in items.upper():
                self.seen.update(uids)
                with open(os.path.join(A.maildir, '..', 'seen'), 'w') as f:
                    f.write(''.join(f'{u}\n' for u in sorted(self.seen)))
            self.send(f'{tag} OK store done')
        else:
            self.send(f'{tag} NO not supported here')
        return True


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--maildir', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--stall-idle', action='store_true')
    ap.add_argument('--logindisabled', action='store_true')
    ap.add_argument('--bad-login', action='store_true')
    ap.add_argument('--drop-uid', type=int, action='append', default=[])
    ap.add_argument('--drop-header-uid', type=int, action='append', default=[])
    ap.add_argument('--nobody-uid', type=int, action='append', default=[])
    A = ap.parse_args()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(('127.0.0.1', A.port), Handler) as s:
        s.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
