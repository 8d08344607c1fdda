#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (sd_notify(3)): binds a
unix datagram socket at argv[1] and appends each message it receives to
argv[2], one message per line (its own newlines as ' | '), until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    print("listening", file=f)
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        f.write(msg.strip().replace("\n", " | ") + "\n")
        f.flush()
        os.fsync(f.fileno())
