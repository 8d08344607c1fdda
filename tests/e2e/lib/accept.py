#!/usr/bin/python3
"""accept.py ADDR PORT: listens on ADDR:PORT and closes every connection
it accepts, until killed; writes 'ready' to stdout once listening."""
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4096)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.close()
