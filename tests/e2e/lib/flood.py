#!/usr/bin/python3
"""flood.py ADDR PORT SECONDS: connect() to ADDR:PORT in a tight loop for
SECONDS (a denied address: each call fails with EPERM at once); prints the
number of calls made."""
import socket
import sys
import time

addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    for _ in range(100):
        s = socket.socket()
        try:
            s.connect((addr, port))
        except OSError:
            pass
        s.close()
        n += 1
print(n)
