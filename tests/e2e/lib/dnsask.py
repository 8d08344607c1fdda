#!/usr/bin/python3
"""dnsask.py SERVER PORT NAME udp|tcp CONNECT_PORT

A resolver library (dnspython) asks SERVER:PORT for NAME's A record over
UDP or TCP (no resolv.conf), then connects to the first address on
CONNECT_PORT. Prints "answer ADDR" and "connect ok" or "connect errno N"
(N: the errno, e.g. 1 for EPERM); exits 0 unless the question failed.
"""
import errno
import socket
import sys

import dns.message
import dns.query
import dns.rdatatype


def main():
    server, port, name, proto, cport = sys.argv[1:6]
    q = dns.message.make_query(name, dns.rdatatype.A)
    ask = dns.query.tcp if proto == "tcp" else dns.query.udp
    r = ask(q, server, port=int(port), timeout=3)
    addrs = [a.address for rr in r.answer if rr.rdtype == dns.rdatatype.A
             for a in rr]
    if not addrs:
        print("no answer", file=sys.stderr)
        return 1
    print("answer", addrs[0])
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((addrs[0], int(cport)))
        print("connect ok")
    except OSError as e:
        print("connect errno", e.errno or errno.EIO)
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
