#!/usr/bin/python3
"""dns_split.py IP PORT NAME ADDR

A DNS-over-TCP server that splits every answer: the 2-byte length prefix,
then the first 10 bytes of the message, then the rest, each its own send
with TCP_NODELAY and 50 ms between them, so the client's kernel receives
three segments. Answers NAME with ADDR (A, TTL 60); any other name gets
NXDOMAIN. Serves until killed; one line per answer on stdout.
"""
import socket
import struct
import sys
import time

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        part = c.recv(n - len(b))
        if not part:
            raise EOFError
        b += part
    return b


def main():
    ip, port, name, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                n = struct.unpack("!H", recv_exact(c, 2))[0]
                q = dns.message.from_wire(recv_exact(c, n))
                r = dns.message.make_response(q)
                qn = q.question[0]
                if qn.name.to_text(omit_final_dot=True).lower() == name and \
                        qn.rdtype == dns.rdatatype.A:
                    r.answer.append(dns.rrset.from_text(qn.name, 60, "IN", "A", addr))
                elif qn.name.to_text(omit_final_dot=True).lower() != name:
                    r.set_rcode(dns.rcode.NXDOMAIN)
                w = r.to_wire()
                c.sendall(struct.pack("!H", len(w)))
                time.sleep(0.05)
                c.sendall(w[:10])
                time.sleep(0.05)
                c.sendall(w[10:])
                print("answered", qn.name, len(w), flush=True)
        except (EOFError, ConnectionError):
            pass
        finally:
            c.close()


if __name__ == "__main__":
    main()
