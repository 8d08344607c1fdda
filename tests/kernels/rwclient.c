// SPDX-License-Identifier: MIT
/*
 * The test clients and servers of the kernel matrix, in one static binary
 * (the VM's initramfs has busybox and nothing else): each subcommand makes
 * one real call and exits with its errno, so the suite can tell EPERM
 * (deny), 137 (SIGKILL) and success apart.
 *
 *	rwclient connect ADDR PORT          TCP connect; 0 or the errno
 *	rwclient udp ADDR PORT              one sendto(); 0 or the errno
 *	rwclient tls ADDR PORT SNI          connect, send a ClientHello naming
 *	                                    SNI; 0 when the peer answered,
 *	                                    ETIMEDOUT when it did not in 3 s,
 *	                                    ENODATA when it closed first
 *	rwclient tls-split ADDR PORT SNI N  the same, the hello in two writes
 *	                                    (N bytes, 50 ms, the rest)
 *	rwclient tls-child ADDR PORT SNI    connect; a forked child sends the
 *	                                    hello; prints "child PID", exits
 *	                                    with the child's status
 *	rwclient dns-connect SRV NAME PORT  ask SRV:53 for NAME's A record,
 *	                                    then connect to it
 *	rwclient dns-udp SRV NAME PORT      the same, then one UDP sendto()
 *	rwclient dns-server ADDR NAME=IP..  answer A queries on ADDR:53
 *	rwclient dns-connect-tcp, dns-server-tcp: the same over TCP, each
 *	                                    answer sent as three segments
 *	rwclient sink ADDR PORT FILE        accept; append each peer's byte
 *	                                    count to FILE, answer "ok"
 *
 * ADDR is IPv4 or IPv6 (a ':' in it). Loopback only: the VM has no NIC.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1 ? 0 : -1;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	*len = sizeof(*a4);
	return inet_pton(AF_INET, addr, &a4->sin_addr) == 1 ? 0 : -1;
}

static int fail(const char *what)
{
	int e = errno;

	fprintf(stderr, "rwclient: %s: %s\n", what, strerror(e));
	return e ? e : 1;
}

static int tcp_connect(const char *addr, int port, int *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (sockaddr_of(addr, port, &ss, &len)) {
		fprintf(stderr, "rwclient: bad address %s\n", addr);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return fail("socket");
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("connect");
	*out = fd;
	return 0;
}

/* a ClientHello with one cipher suite and the server_name extension */
static size_t client_hello(unsigned char *b, const char *sni)
{
	size_t n = strlen(sni), i = 0, hs, ext;

	b[i++] = 0x16; b[i++] = 3; b[i++] = 1; i += 2;  /* record, length */
	hs = i;
	b[i++] = 1; i += 3;                              /* ClientHello */
	b[i++] = 3; b[i++] = 3;
	memset(b + i, 0x5a, 32); i += 32;                /* random */
	b[i++] = 0;                                      /* session id */
	b[i++] = 0; b[i++] = 2; b[i++] = 0x13; b[i++] = 1;
	b[i++] = 1; b[i++] = 0;                          /* compression */
	ext = i; i += 2;
	b[i++] = 0; b[i++] = 0;                          /* server_name */
	b[i++] = (n + 5) >> 8; b[i++] = (n + 5) & 0xff;
	b[i++] = (n + 3) >> 8; b[i++] = (n + 3) & 0xff;
	b[i++] = 0; b[i++] = n >> 8; b[i++] = n & 0xff;
	memcpy(b + i, sni, n); i += n;
	b[ext] = (i - ext - 2) >> 8; b[ext + 1] = (i - ext - 2) & 0xff;
	b[hs + 1] = 0; b[hs + 2] = (i - hs - 4) >> 8;
	b[hs + 3] = (i - hs - 4) & 0xff;
	b[3] = (i - 5) >> 8; b[4] = (i - 5) & 0xff;
	return i;
}

/* the hello on a connected socket (split: N bytes, 50 ms, the rest), then
 * the answer's first bytes */
static int tls_talk(int fd, const char *sni, int split)
{
	unsigned char b[512], r[16];
	struct pollfd p;
	int rc, one = 1;
	size_t n;

	n = client_hello(b, sni);
	if (split > 0 && (size_t)split < n) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (write(fd, b, split) < 0)
			return fail("write");
		usleep(50000);
		if (write(fd, b + split, n - split) < 0)
			return fail("write");
	} else if (write(fd, b, n) < 0) {
		return fail("write");
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 3000) != 1) {
		fprintf(stderr, "rwclient: no answer in 3 s\n");
		return ETIMEDOUT;
	}
	rc = read(fd, r, sizeof(r));
	if (rc > 0)
		return 0;
	if (rc == 0) {
		fprintf(stderr, "rwclient: the peer closed without an answer\n");
		return ENODATA;
	}
	return fail("read");
}

static int cmd_tls(const char *addr, int port, const char *sni, int split)
{
	int fd, rc;

	if (strlen(sni) > 253)
		return 2;
	rc = tcp_connect(addr, port, &fd);
	return rc ? rc : tls_talk(fd, sni, split);
}

/* connect, then a child process sends the hello on the inherited socket:
 * prints the child's pid; exits with the child's status (128 + signal) */
static int cmd_tls_child(const char *addr, int port, const char *sni)
{
	int fd, rc, st;
	pid_t c;

	if (strlen(sni) > 253)
		return 2;
	rc = tcp_connect(addr, port, &fd);
	if (rc)
		return rc;
	c = fork();
	if (c < 0)
		return fail("fork");
	if (c == 0)
		_exit(tls_talk(fd, sni, 0));
	printf("child %d\n", (int)c);
	fflush(stdout);
	if (waitpid(c, &st, 0) < 0)
		return fail("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmd_udp(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (sockaddr_of(addr, port, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail("socket");
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0)
		return fail("sendto");
	return 0;
}

/* the question of a query, as "name" in dotted form; its end offset */
static int qname(const unsigned char *q, int n, char *out, int cap)
{
	int i = 12, o = 0;

	while (i < n && q[i]) {
		int l = q[i++];

		if (i + l > n || o + l + 1 >= cap)
			return -1;
		if (o)
			out[o++] = '.';
		memcpy(out + o, q + i, l);
		o += l;
		i += l;
	}
	out[o] = 0;
	return i + 5 <= n ? i + 5 : -1;  /* root label, qtype, qclass */
}

/* the answer to query q (n bytes) in place: NAME=IP of argv, else
 * NXDOMAIN; its length, or -1 for no query */
static int dns_answer(unsigned char *q, int n, int argc, char **argv)
{
	struct in_addr ip = { 0 };
	char name[256];
	int end, found = 0;

	if (n < 12 || (end = qname(q, n, name, sizeof(name))) < 0)
		return -1;
	for (int i = 0; i < argc && !found; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq && (size_t)(eq - argv[i]) == strlen(name) &&
		    !strncasecmp(argv[i], name, eq - argv[i]))
			found = inet_pton(AF_INET, eq + 1, &ip) == 1;
	}
	q[2] = 0x81; q[3] = found ? 0x80 : 0x83;   /* answer, rcode */
	q[6] = 0; q[7] = found; q[8] = q[9] = q[10] = q[11] = 0;
	n = end;
	if (found) {
		static const unsigned char rr[] = {
			0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4,
		};
		memcpy(q + n, rr, sizeof(rr));
		memcpy(q + n + sizeof(rr), &ip, 4);
		n += sizeof(rr) + 4;
	}
	return n;
}

static int cmd_dns_server(const char *addr, int argc, char **argv)
{
	struct sockaddr_storage ss, peer;
	socklen_t len, plen;
	unsigned char q[512];
	int fd;

	if (sockaddr_of(addr, 53, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind :53");
	for (;;) {
		int n;

		plen = sizeof(peer);
		n = recvfrom(fd, q, sizeof(q) - 32, 0,
			     (struct sockaddr *)&peer, &plen);
		n = dns_answer(q, n, argc, argv);
		if (n > 0)
			sendto(fd, q, n, 0, (struct sockaddr *)&peer, plen);
	}
}

static int read_full(int fd, unsigned char *b, int n)
{
	for (int got = 0, r; got < n; got += r) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		if (poll(&pf, 1, 3000) != 1 || (r = read(fd, b + got, n - got)) <= 0)
			return -1;
	}
	return 0;
}

/* DNS over TCP on ADDR:53; each answer goes as three segments (the
 * length, 10 bytes, the rest: TCP_NODELAY, 20 ms apart) */
static int cmd_dns_server_tcp(const char *addr, int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned char q[512];
	int fd, one = 1;

	if (sockaddr_of(addr, 53, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, 16) < 0)
		return fail("bind tcp :53");
	for (;;) {
		int c = accept(fd, NULL, NULL), n;
		unsigned char pfx[2];

		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (!read_full(c, pfx, 2) && (n = pfx[0] << 8 | pfx[1]) &&
		    n <= (int)sizeof(q) - 32 && !read_full(c, q, n) &&
		    (n = dns_answer(q, n, argc, argv)) > 10) {
			pfx[0] = n >> 8;
			pfx[1] = n;
			if (write(c, pfx, 2) == 2 && !usleep(20000) &&
			    write(c, q, 10) == 10 && !usleep(20000) &&
			    write(c, q + 10, n - 10) == n - 10)
				usleep(20000);
		}
		close(c);
	}
}

/* ask SRV:53 (over TCP when tcp) for NAME's A record, then connect to it
 * (udp: send it one datagram) */
static int cmd_dns_connect(const char *srv, const char *name, int port,
			   int tcp, int udp)
{
	struct sockaddr_storage ss;
	unsigned char q[512] = { 0x12, 0x34, 1, 0, 0, 1 };
	char ip[INET_ADDRSTRLEN];
	socklen_t len;
	int fd, n, i = 12, c;
	const char *p = name;

	while (*p) {
		const char *dot = strchrnul(p, '.');

		if (dot - p > 63 || i + (dot - p) + 6 > (int)sizeof(q))
			return 2;
		q[i++] = dot - p;
		memcpy(q + i, p, dot - p);
		i += dot - p;
		p = *dot ? dot + 1 : dot;
	}
	q[i++] = 0; q[i++] = 0; q[i++] = 1; q[i++] = 0; q[i++] = 1;
	if (sockaddr_of(srv, 53, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (tcp) {
		unsigned char pfx[2] = { i >> 8, i };

		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0 ||
		    write(fd, pfx, 2) != 2 || write(fd, q, i) != i)
			return fail("dns query over tcp");
		n = read_full(fd, pfx, 2) ? -1 : pfx[0] << 8 | pfx[1];
		if (n < 28 || n > (int)sizeof(q) || read_full(fd, q, n))
			n = -1;
	} else {
		if (fd < 0 || sendto(fd, q, i, 0, (struct sockaddr *)&ss, len) < 0)
			return fail("dns query");
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 3000) != 1)
			n = -1;
		else
			n = recv(fd, q, sizeof(q), 0);
	}
	if (n < 28) {
		fprintf(stderr, "rwclient: no DNS answer for %s\n", name);
		return ENOENT;
	}
	/* the one answer our server gives ends the message */
	inet_ntop(AF_INET, q + n - 4, ip, sizeof(ip));
	close(fd);
	c = udp ? cmd_udp(ip, port) : tcp_connect(ip, port, &fd);
	if (!c)
		printf("%s\n", ip);
	return c;
}

static int cmd_sink(const char *addr, int port, const char *file)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (sockaddr_of(addr, port, &ss, &len))
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, 16) < 0)
		return fail("listen");
	for (;;) {
		char buf[4096];
		long total = 0;
		int c = accept(fd, NULL, NULL);
		struct pollfd p = { .fd = c, .events = POLLIN };
		FILE *f;

		if (c < 0)
			continue;
		/* what arrives within 1 s of the last byte */
		while (poll(&p, 1, 1000) == 1) {
			ssize_t n = read(c, buf, sizeof(buf));

			if (n <= 0)
				break;
			total += n;
			if (write(c, "ok", 2) < 0)
				break;
		}
		close(c);
		f = fopen(file, "a");
		if (f) {
			fprintf(f, "%ld\n", total);
			fclose(f);
		}
	}
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(c, "connect") && argc == 4) {
		int rc = tcp_connect(argv[2], atoi(argv[3]), &fd);

		return rc;
	}
	if (!strcmp(c, "udp") && argc == 4)
		return cmd_udp(argv[2], atoi(argv[3]));
	if (!strcmp(c, "tls") && argc == 5)
		return cmd_tls(argv[2], atoi(argv[3]), argv[4], 0);
	if (!strcmp(c, "tls-child") && argc == 5)
		return cmd_tls_child(argv[2], atoi(argv[3]), argv[4]);
	if (!strcmp(c, "tls-split") && argc == 6)
		return cmd_tls(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
	if (!strcmp(c, "dns-connect") && argc == 5)
		return cmd_dns_connect(argv[2], argv[3], atoi(argv[4]), 0, 0);
	if (!strcmp(c, "dns-connect-tcp") && argc == 5)
		return cmd_dns_connect(argv[2], argv[3], atoi(argv[4]), 1, 0);
	if (!strcmp(c, "dns-udp") && argc == 5)
		return cmd_dns_connect(argv[2], argv[3], atoi(argv[4]), 0, 1);
	if (!strcmp(c, "dns-server") && argc >= 3)
		return cmd_dns_server(argv[2], argc - 3, argv + 3);
	if (!strcmp(c, "dns-server-tcp") && argc >= 3)
		return cmd_dns_server_tcp(argv[2], argc - 3, argv + 3);
	if (!strcmp(c, "sink") && argc == 5)
		return cmd_sink(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: rwclient connect|udp ADDR PORT | tls ADDR PORT "
		"SNI | dns-connect[-tcp]|dns-udp SRV NAME PORT | dns-server[-tcp] ADDR NAME=IP... "
		"| sink ADDR PORT FILE\n");
	return 2;
}
