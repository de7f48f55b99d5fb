#!/usr/bin/python3
"""fake-imapd.py --port P --maildir DIR --log FILE [--stall-idle] [--logindisabled]
                [--bad-login] [--drop-uid N]... [--drop-header-uid N]...
                [--nobody-uid N]... [--bogus-uid N] [--nosize-uid N]...
                [--nolist-uid N]... [--lie-size-uid N --lie-bytes B]
                [--endless-greeting]

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
  --bogus-uid N    every listing (UID FETCH ... RFC822.SIZE) of a range that
                   reaches N also lists a message N that does not exist
                   (N above UIDNEXT); STATUS (UIDNEXT) tells the truth
  --nosize-uid N   listings show N without its RFC822.SIZE
  --nolist-uid N   a listing that includes N leaves it out and ends in a
                   tagged NO (libetpan still reports success)
  --lie-size-uid N  lists N as RFC822.SIZE 100 but sends --lie-bytes B
                   (default 300 MB) of body literal, generated as it goes
  --endless-greeting  greets with "* OK " and a line of --lie-bytes without
                   CRLF, as fast as it is read, then says nothing
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


def uid_set(spec, maxuid, bogus=None):
    out = set()
    for part in spec.split(','):
        if ':' in part:
            lo, hi = part.split(':')
            lo = maxuid if lo == '*' else int(lo)
            hi = (bogus or maxuid) if hi == '*' else int(hi)
            lo, hi = min(lo, hi), max(lo, hi)
            out.update(range(max(lo, 1), min(hi, maxuid) + 1))
            if bogus and lo <= bogus <= hi:
                out.add(bogus)
        else:
            out.add(maxuid if part == '*' else int(part))
    return sorted(u for u in out if 1 <= u <= maxuid or u == bogus)


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
        if A.endless_greeting:
            # --lie-bytes of one line, as fast as the client reads, then
            # silence (a client that buffers it all holds that much).
            chunk, left = b'x' * 65536, A.lie_bytes
            try:
                self.wfile.write(b'* OK ')
                while left > 0:
                    self.wfile.write(chunk[:min(left, len(chunk))])
                    left -= len(chunk)
                self.wfile.flush()
                while self.rfile.read(1):
                    pass
            except OSError:
                pass
            return
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
            elif cmd == 'STATUS':
                mbox = arg.split(' ', 1)[0]
                self.send(f'* STATUS {mbox} (UIDNEXT {len(msgs) + 1})')
                self.send(f'{tag} OK status done')
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
            uids = uid_set(spec, len(msgs),
                           A.bogus_uid if section is None else None)
            drop = A.drop_uid if section == '' else A.drop_header_uid
            refused = False
            for u in uids:
                if u == A.bogus_uid:
                    self.send(f'* {len(msgs)} FETCH (UID {u} RFC822.SIZE 300)')
                    continue
                if section is None and u in A.nolist_uid:
                    refused = True
                    continue
                if section is None and u in A.nosize_uid:
                    self.send(f'* {u} FETCH (UID {u})')
                    continue
                data = open(msgs[u - 1], 'rb').read()
                if section is None:
                    size = 100 if u == A.lie_size_uid else len(data)
                    self.send(f'* {u} FETCH (UID {u} RFC822.SIZE {size})')
                    continue
                if section == '' and u == A.lie_size_uid:
                    if not self.lie(u):
                        return False
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
            if refused:
                self.send(f'{tag} NO some messages could not be listed')
            else:
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

    def lie(self, u):
        """Message u's body as a literal of A.lie_bytes, made as it goes."""
        head = (f'* {u} FETCH (UID {u} BODY[] {{{A.lie_bytes}}}\r\n').encode()
        line = b'X' * 1022 + b'\r\n'
        try:
            self.wfile.write(head + b'From: big@example.net\r\n\r\n')
            left = A.lie_bytes - 25
            while left > 0:
                n = min(left, len(line))
                self.wfile.write(line[:n])
                left -= n
            self.wfile.write(b')\r\n')
            self.wfile.flush()
        except OSError:
            return False
        with open(os.path.join(A.maildir, '..', 'lie-sent'), 'w') as f:
            f.write('whole\n')
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
    ap.add_argument('--bogus-uid', type=int, default=None)
    ap.add_argument('--nosize-uid', type=int, action='append', default=[])
    ap.add_argument('--nolist-uid', type=int, action='append', default=[])
    ap.add_argument('--lie-size-uid', type=int, default=None)
    ap.add_argument('--lie-bytes', type=int, default=300 * 1024 * 1024)
    ap.add_argument('--endless-greeting', action='store_true')
    A = ap.parse_args()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(('127.0.0.1', A.port), Handler) as s:
        s.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
