#!/bin/sh
# intake attachment: a ticket's attachments saved from the stored raw
# message (decoded again in the parser child): bytes exact, names safe,
# collisions numbered, 0600, never overwriting; intake show numbers them.
. "$(dirname "$0")/../lib.sh"

maildir_conf
umask 022

# a PNG-ish binary with every byte value, base64; a QP text; hostile names
$PY - > "$T/bin" <<'PY'
import sys
sys.stdout.buffer.write(bytes(range(256)) * 4 + b"\x89PNG\r\n\x1a\n")
PY
b64=$(base64 -w 76 "$T/bin")
printf 'From: Dee <dee@example.net>\r\nSubject: evidence\r\nMessage-ID: <a1@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nthe advert is attached\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="advert.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename="../../etc/.bashrc"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=C3=AFve caf=C3=A9 =3D ok\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="advert.png"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="=?utf-8?b?ZXZpbBtbMzFtLmV4ZQ==?="\r\n\r\nraw bytes\r\n--b--\r\n' "$b64" > "$T/m1.eml"
tk=$(ingest_id < "$T/m1.eml")
check "ingested" [ "$tk" = 1 ]

out=$($INTAKE show $tk $C)
check "show numbers the attachments" sh -c "echo \"\$1\" | grep -q '^  1\\. advert.png' && echo \"\$1\" | grep -q '^  4\\. '" - "$out"

mkdir "$T/out"
$INTAKE attachment $tk --dir "$T/out" $C > "$T/list"; rc=$?
check "save all: exit 0" [ "$rc" -eq 0 ]
check "binary bytes exact" cmp -s "$T/bin" "$T/out/advert.png"
check "quoted-printable decoded" [ "$(cat "$T/out/bashrc")" = "naïve café = ok" ]
check "no path separators, no leading dot" [ ! -e "$T/.bashrc" -a ! -e "$T/out/.bashrc" -a -f "$T/out/bashrc" ]
check "a collision is numbered" [ "$(cat "$T/out/advert-2.png")" = "hello" ]
check "control characters replaced" sh -c "ls '$T/out' | grep -qx 'evil_\\[31m.exe'"
check "exactly four files" [ "$(ls -A "$T/out" | wc -l)" = 4 ]
check "mode 0600" [ "$(stat -c %a "$T/out/advert.png")/$(stat -c %a "$T/out/bashrc")" = "600/600" ]
check "the list names each file" [ "$(wc -l < "$T/list")" = 4 ]

$INTAKE attachment $tk 1 --dir "$T/out" $C 2> "$T/err"; rc=$?
check "refuses to overwrite: exit 73" [ "$rc" -eq 73 ]
check "says so" grep -q 'not overwritten' "$T/err"
check "the file is unchanged" cmp -s "$T/bin" "$T/out/advert.png"
ln -s "$T/target" "$T/link"
$INTAKE attachment $tk 3 -o "$T/link" $C 2>/dev/null; rc=$?
check "-o never follows a symlink" [ "$rc" -eq 73 -a ! -e "$T/target" ]
$INTAKE attachment $tk 3 -o "$T/one.png" $C >/dev/null; rc=$?
check "-o FILE with PART" [ "$rc/$(cat "$T/one.png")" = "0/hello" ]
check "-o - writes standard output" [ "$($INTAKE attachment $tk 3 -o - $C)" = "hello" ]
$INTAKE attachment $tk -o "$T/x" $C 2>/dev/null; rc=$?
check "-o without PART when there are several: exit 64" [ "$rc" -eq 64 ]
$INTAKE attachment $tk 9 $C 2>/dev/null; rc=$?
check "no such PART: exit 65" [ "$rc" -eq 65 ]
$INTAKE attachment 99 $C 2>/dev/null; rc=$?
check "no such ticket: exit 65" [ "$rc" -eq 65 ]
$INTAKE attachment $tk 1 -o a --dir b $C 2>/dev/null; rc=$?
check "-o and --dir together: exit 64" [ "$rc" -eq 64 ]
(cd "$T" && $INTAKE attachment $tk 2 $C >/dev/null); rc=$?
check "default directory is the current one" [ "$rc" -eq 0 -a -f "$T/bashrc" ]
finish
