// SPDX-License-Identifier: MIT
/*
 * sockscan against real loopback sockets of this process and its children.
 * Scanning needs no privilege; the destroy tests skip, saying why, without
 * CAP_NET_ADMIN or a kernel built with CONFIG_INET_DIAG_DESTROY.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "sockscan.h"

struct conn {
	int lfd, cfd, afd;     /* listener, client, accepted */
	__u16 lport, cport;
};

/* which entry a scan should find, and what it found */
struct find {
	int family, proto;
	__u16 sport, dport;
	struct sock_entry hit;
	int nr_hits;
};

static socklen_t loopback(int family, __u16 port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(*sin6);
}

static __u16 local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	/* sin_port and sin6_port sit at the same offset */
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int sock_at(int family, int type, __u16 port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static int sock_to(int family, int type, __u16 port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void tcp_pair(int family, struct conn *c)
{
	c->lfd = sock_at(family, SOCK_STREAM, 0);
	assert_int_equal(listen(c->lfd, 8), 0);
	c->lport = local_port(c->lfd);
	c->cfd = sock_to(family, SOCK_STREAM, c->lport);
	c->cport = local_port(c->cfd);
	c->afd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->afd >= 0);
}

static void conn_close(struct conn *c)
{
	close(c->afd);
	close(c->cfd);
	close(c->lfd);
}

/* matches on the local port (unique per test), dport 0 matching any */
static int find_cb(const struct sock_entry *e, void *ctx)
{
	struct find *f = ctx;

	if (e->family == f->family && e->proto == f->proto &&
	    e->sport == f->sport && (!f->dport || e->dport == f->dport)) {
		f->hit = *e;
		f->nr_hits++;
	}
	return 0;
}

static void scan_for(struct find *f, int family, int proto, __u16 sport,
		     __u16 dport)
{
	memset(f, 0, sizeof(*f));
	f->family = family;
	f->proto = proto;
	f->sport = sport;
	f->dport = dport;
	assert_int_equal(sockscan_all(find_cb, f), 0);
}

static __u64 inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* both ends of one loopback connection, as seen from the same process */
static void check_tcp(int family, const void *lo, size_t alen)
{
	struct find f;
	struct conn c;
	int dupfd;

	tcp_pair(family, &c);
	dupfd = dup(c.cfd); /* a second fd is not a second owner */
	scan_for(&f, family, IPPROTO_TCP, c.cport, c.lport);
	close(dupfd);
	assert_int_equal(f.nr_hits, 1);
	assert_memory_equal(f.hit.daddr, lo, alen);
	assert_memory_equal(f.hit.saddr, lo, alen);
	assert_int_equal(f.hit.dport, c.lport);
	assert_int_equal(f.hit.state, TCP_ESTABLISHED);
	assert_int_equal(f.hit.pid, getpid());
	assert_int_equal(f.hit.nr_owners, 1);
	assert_int_equal(f.hit.inode, inode_of(c.cfd));
	assert_true(f.hit.cookie != 0);
	assert_int_equal(f.hit.inbound, 0);

	/* the accepted end is there too, flagged as inbound */
	scan_for(&f, family, IPPROTO_TCP, c.lport, c.cport);
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(f.hit.inbound, 1);
	assert_int_equal(f.hit.inode, inode_of(c.afd));
	conn_close(&c);
}

/* an established v4 connection is found with tuple, owner, inode, cookie */
static void test_tcp4_found(void **state)
{
	__be32 lo = htonl(INADDR_LOOPBACK);

	(void)state;
	check_tcp(AF_INET, &lo, 4);
}

/* same over [::1] */
static void test_tcp6_found(void **state)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	(void)state;
	if (fd < 0 && errno == EAFNOSUPPORT) {
		print_message("no IPv6 on this host\n");
		skip();
	}
	close(fd);
	check_tcp(AF_INET6, &in6addr_loopback, 16);
}

/* a connect() still waiting for its SYN-ACK is reported as SYN_SENT */
static void test_tcp_syn_sent(void **state)
{
	int lfd = sock_at(AF_INET, SOCK_STREAM, 0), c1, c2;
	struct sockaddr_storage ss;
	socklen_t len;
	struct find f;
	__u16 lport;

	(void)state;
	/* backlog 0: one connection fills the accept queue, the next SYN is
	 * dropped and its sender stays in SYN_SENT */
	assert_int_equal(listen(lfd, 0), 0);
	lport = local_port(lfd);
	c1 = sock_to(AF_INET, SOCK_STREAM, lport);
	c2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	len = loopback(AF_INET, lport, &ss);
	assert_int_equal(connect(c2, (struct sockaddr *)&ss, len), -1);
	assert_int_equal(errno, EINPROGRESS);

	scan_for(&f, AF_INET, IPPROTO_TCP, local_port(c2), lport);
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(f.hit.state, TCP_SYN_SENT);
	assert_int_equal(f.hit.pid, getpid());
	close(c2);
	close(c1);
	close(lfd);
}

/* connected UDP is reported; a merely bound UDP socket is not */
static void test_udp_connected_only(void **state)
{
	int srv = sock_at(AF_INET, SOCK_DGRAM, 0);
	__be32 lo = htonl(INADDR_LOOPBACK);
	__u16 sport = local_port(srv);
	int cli = sock_to(AF_INET, SOCK_DGRAM, sport);
	struct find f;

	(void)state;
	scan_for(&f, AF_INET, IPPROTO_UDP, local_port(cli), sport);
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(f.hit.proto, IPPROTO_UDP);
	assert_memory_equal(f.hit.daddr, &lo, 4);
	assert_int_equal(f.hit.pid, getpid());
	assert_int_equal(f.hit.inode, inode_of(cli));

	scan_for(&f, AF_INET, IPPROTO_UDP, sport, 0);
	assert_int_equal(f.nr_hits, 0);
	close(cli);
	close(srv);
}

static pid_t holder;

/* A child that only sleeps: its fd table is a copy of ours from fork() on. */
static void spawn_holder(void)
{
	holder = fork();
	assert_true(holder >= 0);
	if (!holder)
		for (;;)
			pause();
}

static int reap_holder(void **state)
{
	(void)state;
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}
	holder = 0;
	return 0;
}

/* a socket only a child holds is attributed to the child */
static void test_child_owner(void **state)
{
	struct find f;
	struct conn c;

	(void)state;
	tcp_pair(AF_INET, &c);
	spawn_holder();
	close(c.cfd);
	scan_for(&f, AF_INET, IPPROTO_TCP, c.cport, c.lport);
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(f.hit.pid, holder);
	assert_int_equal(f.hit.nr_owners, 1);
	close(c.afd);
	close(c.lfd);
}

/* a socket inherited across fork has two owners, one of them reported */
static void test_shared_owner(void **state)
{
	struct find f;
	struct conn c;

	(void)state;
	tcp_pair(AF_INET, &c);
	spawn_holder();
	scan_for(&f, AF_INET, IPPROTO_TCP, c.cport, c.lport);
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(f.hit.nr_owners, 2);
	assert_true(f.hit.pid == getpid() || f.hit.pid == holder);
	conn_close(&c);
}

/* a kernel or a sandbox that cannot destroy sockets is a skip, not a pass */
static int destroy_or_skip(const struct sock_entry *e)
{
	int err = sockscan_destroy(e);

	if (err == -EOPNOTSUPP || err == -EPERM) {
		print_message("skip: %s\n", err == -EPERM ?
			      "SOCK_DESTROY needs CAP_NET_ADMIN" :
			      "kernel lacks CONFIG_INET_DIAG_DESTROY");
		skip();
	}
	return err;
}

/* destroying our own connection aborts it here and resets the peer */
static void test_destroy_tcp(void **state)
{
	struct find f;
	struct conn c;
	char b;

	(void)state;
	tcp_pair(AF_INET, &c);
	scan_for(&f, AF_INET, IPPROTO_TCP, c.cport, c.lport);
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(destroy_or_skip(&f.hit), 0);

	assert_int_equal(recv(c.cfd, &b, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNABORTED);
	/* the RST has reached the accepted end, and the dump forgot it */
	assert_int_equal(recv(c.afd, &b, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNRESET);
	scan_for(&f, AF_INET, IPPROTO_TCP, c.cport, c.lport);
	assert_int_equal(f.nr_hits, 0);
	conn_close(&c);
}

/* a stale cookie (the 4-tuple reused by another socket) destroys nothing */
static void test_destroy_wrong_cookie(void **state)
{
	struct find f;
	struct conn c;
	char b = 'x';

	(void)state;
	tcp_pair(AF_INET, &c);
	scan_for(&f, AF_INET, IPPROTO_TCP, c.cport, c.lport);
	assert_int_equal(f.nr_hits, 1);
	f.hit.cookie ^= 1;
	assert_int_equal(destroy_or_skip(&f.hit), -ENOENT);

	/* still alive both ways */
	assert_int_equal(send(c.cfd, &b, 1, 0), 1);
	assert_int_equal(recv(c.afd, &b, 1, 0), 1);
	assert_int_equal(b, 'x');
	conn_close(&c);
}

/* connected UDP can be destroyed too */
static void test_destroy_udp(void **state)
{
	int srv = sock_at(AF_INET, SOCK_DGRAM, 0);
	int cli = sock_to(AF_INET, SOCK_DGRAM, local_port(srv));
	struct find f;
	char b;

	(void)state;
	scan_for(&f, AF_INET, IPPROTO_UDP, local_port(cli), local_port(srv));
	assert_int_equal(f.nr_hits, 1);
	assert_int_equal(destroy_or_skip(&f.hit), 0);

	assert_int_equal(recv(cli, &b, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNABORTED);
	close(cli);
	close(srv);
}

/* ctx: calls[0] counts calls, calls[1] is what the first call returns */
static int stop_cb(const struct sock_entry *e, void *ctx)
{
	int *calls = ctx;

	(void)e;
	return ++*calls == 1 ? calls[1] : 0;
}

/* a positive callback return stops with 0, a negative one is passed up */
static void test_cb_stop(void **state)
{
	int calls[2];
	struct conn c;

	(void)state;
	tcp_pair(AF_INET, &c); /* at least two entries: both ends */
	calls[0] = 0;
	calls[1] = 1;
	assert_int_equal(sockscan_all(stop_cb, calls), 0);
	assert_int_equal(calls[0], 1);
	calls[0] = 0;
	calls[1] = -EINTR;
	assert_int_equal(sockscan_all(stop_cb, calls), -EINTR);
	assert_int_equal(calls[0], 1);
	conn_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_found),
		cmocka_unit_test(test_tcp6_found),
		cmocka_unit_test(test_tcp_syn_sent),
		cmocka_unit_test(test_udp_connected_only),
		cmocka_unit_test_teardown(test_child_owner, reap_holder),
		cmocka_unit_test_teardown(test_shared_owner, reap_holder),
		cmocka_unit_test(test_destroy_tcp),
		cmocka_unit_test(test_destroy_wrong_cookie),
		cmocka_unit_test(test_destroy_udp),
		cmocka_unit_test(test_cb_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
