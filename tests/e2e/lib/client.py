#!/usr/bin/python3
"""client.py ADDR PORT [--send N] [--live S] [--unlink]: one TCP connect to
ADDR:PORT, then N bytes sent (default 0), then S seconds alive (default 0)
before it exits with the socket still open (the kernel closes it at exit).
--unlink first deletes the binary running it (a copy of python3), as an
upgrade or a dropper would. Prints the connect's errno (0 = connected)."""
import errno
import os
import socket
import sys
import time

args = sys.argv[3:]
send = int(args[args.index("--send") + 1]) if "--send" in args else 0
live = float(args[args.index("--live") + 1]) if "--live" in args else 0
if "--unlink" in args:
    os.unlink(sys.executable)
s = socket.socket()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print(e.errno, flush=True)
    sys.exit(0)
print(0, flush=True)
if send:
    try:
        s.sendall(b"x" * send)
    except OSError as e:
        print("send", errno.errorcode.get(e.errno, e.errno), file=sys.stderr)
time.sleep(live)
os._exit(0)  # no close: the socket goes with the process
