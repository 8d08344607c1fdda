#!/usr/bin/python3
"""flood.py ADDR PORT SECONDS: connect() to ADDR:PORT in a tight loop for
SECONDS (a denied address: each call fails with EPERM at once; a listener:
each connection is made and closed); prints the calls made and how many
connected."""
import socket
import sys
import time

addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + secs
n = ok = 0
while time.monotonic() < end:
    for _ in range(100):
        s = socket.socket()
        try:
            s.connect((addr, port))
            ok += 1
        except OSError:
            pass
        s.close()
        n += 1
print(n, ok)
