#!/usr/bin/env bash
# Regenerates clienthello-openssl.bin: the first TLS record that a real
# `openssl s_client -servername api.openai.com` sends, caught by a loopback
# listener that never answers. test_wire checks the parser reads the SNI.
# Needs openssl and python3; touches nothing but the file beside it.
set -euo pipefail
cd "$(dirname "$0")"
out=clienthello-openssl.bin
fifo=$(mktemp -u)
mkfifo "$fifo"
trap 'rm -f "$fifo"' EXIT

# listener: print its port, then keep the first complete record it reads
python3 - "$out" >"$fifo" <<'PY' &
import socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(10)
c, _ = s.accept()
c.settimeout(10)
buf = b""
while len(buf) < 5 or len(buf) < 5 + struct.unpack(">H", buf[3:5])[0]:
    chunk = c.recv(65536)
    if not chunk:
        break
    buf += chunk
if len(buf) < 5 or buf[0] != 22:
    sys.exit("no TLS handshake record received")
open(sys.argv[1], "wb").write(buf[:5 + struct.unpack(">H", buf[3:5])[0]])
PY
listener=$!
read -r port <"$fifo"
timeout 10 openssl s_client -connect "127.0.0.1:$port" \
	-servername api.openai.com </dev/null >/dev/null 2>&1 || true
wait "$listener"
printf 'wrote %s: %s bytes\n' "$out" "$(wc -c <"$out")"
