#!/usr/bin/python3
"""splitclient.py ADDR PORT SNI MODE [--timeout S] [--via-child]

A real TLS client (Python's ssl over a memory BIO) that sends its
ClientHello the way an evader would, then completes the handshake and an
HTTP request if the other side lets it:

  whole        the hello in one write
  split:N      the first N bytes in one write, the rest in another
               (TCP_NODELAY: two segments on the wire)
  records:K    the hello re-framed into K TLS records (RFC 8446 5.1
               allows a handshake message to span records), one write
  both:N:K     K records, the first N bytes written alone

--via-child: this process connects, then hands the socket over a unix
socket (SCM_RIGHTS) to a child process that does all the sending; the
parent prints its own pid and the child's, and lives on.

Prints one line: "ok <ms> <first line of the reply>", "error <ms> <errno
name>" or "timeout <ms>"; exits 0, 3 or 4. With --via-child the parent
adds a line "parent <pid> child <pid> status <exit status>".
"""
import os
import socket
import ssl
import subprocess
import sys
import time


def reframe(hello, k):
    """the records' handshake bytes re-framed into k records"""
    body = b""
    off = 0
    while off + 5 <= len(hello):
        n = int.from_bytes(hello[off + 3:off + 5], "big")
        body += hello[off + 5:off + 5 + n]
        off += 5 + n
    ver = hello[1:3]
    each = -(-len(body) // k)
    out = b""
    for i in range(0, len(body), each):
        chunk = body[i:i + each]
        out += b"\x16" + ver + len(chunk).to_bytes(2, "big") + chunk
    return out


def talk(sock, sni, mode, timeout):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    parts = [hello]
    kind = mode.split(":")
    if kind[0] == "split":
        n = int(kind[1])
        parts = [hello[:n], hello[n:]]
    elif kind[0] == "records":
        parts = [reframe(hello, int(kind[1]))]
    elif kind[0] == "both":
        framed = reframe(hello, int(kind[2]))
        n = int(kind[1])
        parts = [framed[:n], framed[n:]]
    sock.settimeout(timeout)
    t0 = time.monotonic()
    ms = lambda: int((time.monotonic() - t0) * 1000)
    try:
        for i, p in enumerate(parts):
            sock.sendall(p)
            if i + 1 < len(parts):
                time.sleep(0.05)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            data = out.read()
            if data:
                sock.sendall(data)
            chunk = sock.recv(65536)
            if not chunk:
                print("error %d EOF" % ms(), flush=True)
                return 3
            inc.write(chunk)
        data = out.read()
        if data:
            sock.sendall(data)
        tls.write(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % sni).encode())
        sock.sendall(out.read())
        reply = b""
        while b"\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            inc.write(chunk)
            try:
                reply += tls.read(65536)
            except ssl.SSLWantReadError:
                pass
        print("ok %d %s" % (ms(), reply.split(b"\r\n")[0].decode()), flush=True)
        return 0
    except socket.timeout:
        print("timeout %d" % ms(), flush=True)
        return 4
    except (OSError, ssl.SSLError) as e:
        name = getattr(e, "errno", None)
        name = os.strerror(name) if name is None else \
            __import__("errno").errorcode.get(name, str(name))
        print("error %d %s" % (ms(), name or type(e).__name__), flush=True)
        return 3


def main():
    args = sys.argv[1:]
    timeout = 10.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if args and args[0] == "--child":
        # the receiving end: the socket comes over the unix socket
        unix = socket.socket(fileno=int(args[3]))
        _, fds, _, _ = socket.recv_fds(unix, 16, 1)
        sock = socket.socket(fileno=fds[0])
        return talk(sock, args[1], args[2], timeout)
    via_child = "--via-child" in args
    if via_child:
        args.remove("--via-child")
    addr, port, sni, mode = args[0], int(args[1]), args[2], args[3]
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    sock.connect((addr, port))
    if not via_child:
        return talk(sock, sni, mode, timeout)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    child = subprocess.Popen([sys.executable, __file__, "--child", sni, mode,
                              str(b.fileno()), "--timeout", str(timeout)],
                             pass_fds=[b.fileno()])
    socket.send_fds(a, [b"s"], [sock.fileno()])
    sock.close()
    status = child.wait()
    print("parent %d child %d status %d" % (os.getpid(), child.pid, status),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
