// SPDX-License-Identifier: MIT
/* DNS everywhere it flows, with real sockets: the daemon on a test
 * cgroup, a resolver stand-in outside it on loopback answering
 * api.openai.com with an address of its own per case, and a client in the
 * cgroup that asks, reads the answer, then connects to that address. A
 * deny rule on the name refuses the connect (EPERM) only when dns_ingress
 * read the answer: over TCP in one segment, split across three segments
 * (TCP_NODELAY writes of the prefix and two halves), over UDP from 5353;
 * an answer from a port dns_ports does not list is not read. Each case
 * answers with an address no other case maps (answers are also learned
 * host-wide). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <netinet/tcp.h>

#include "integ/harness.h"
#include "../unit/wire_cases.h"

static struct h_env env;
static char ns[32];  /* the stand-in resolver's address */
static int tport;    /* where the answered addresses listen */

static const char policy_fmt[] =
	"mode: enforce\n"
	"%s"
	"rules:\n"
	"  - name: deny-openai\n"
	"    match: {domain: api.openai.com}\n"
	"    action: deny\n";

enum how { ONE = 0, SPLIT = 1 };

/* api.openai.com A ip, 60 s */
static void answer(struct pkt *p, const char *ip)
{
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	rr_a(p, PTR_Q, 2, h_ip(ip), 60);
}

static void query(struct pkt *p)
{
	dns_hdr(p, 0x0100, 1, 0);
	dns_q(p, "api.openai.com", 1, 1);
}

/* a free 127.0.0.N for the resolver: port 53 (TCP and UDP) may be taken
 * on some address by another suite's dnsmasq */
static int pick_ns(void)
{
	for (int n = 231; n < 250; n++) {
		char a[32];
		int t, u, ok;
		struct sockaddr_storage ss;
		socklen_t len;

		snprintf(a, sizeof(a), "127.0.0.%d", n);
		len = h_sockaddr(&ss, AF_INET, a, 53);
		t = socket(AF_INET, SOCK_STREAM, 0);
		u = socket(AF_INET, SOCK_DGRAM, 0);
		ok = !bind(t, (void *)&ss, len) && !bind(u, (void *)&ss, len);
		close(t);
		close(u);
		if (ok) {
			snprintf(ns, sizeof(ns), "%s", a);
			return 0;
		}
	}
	return -1;
}

/* a socket bound on ns:port (listening, for TCP) */
static int lsock(int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, AF_INET, ns, port);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 4))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* a one-shot TCP resolver on ns:port, in a child outside the cgroup */
static pid_t serve_tcp(int port, const char *ip, enum how how)
{
	int lfd = lsock(SOCK_STREAM, port);
	pid_t pid;

	if (lfd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		static struct pkt a;
		__u8 q[512], pfx[2];
		int fd = accept(lfd, NULL, NULL), one = 1;

		if (fd < 0)
			_exit(1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (read(fd, q, sizeof(q)) <= 0)
			_exit(2);
		answer(&a, ip);
		pfx[0] = (__u8)(a.n >> 8);
		pfx[1] = (__u8)a.n;
		if (how == ONE) {
			static __u8 all[PKT_MAX + 2];

			memcpy(all, pfx, 2);
			memcpy(all + 2, a.d, a.n);
			if (write(fd, all, a.n + 2) != (ssize_t)a.n + 2)
				_exit(3);
		} else {
			/* three segments: the prefix, 10 bytes, the rest */
			if (write(fd, pfx, 2) != 2)
				_exit(3);
			usleep(30000);
			if (write(fd, a.d, 10) != 10)
				_exit(3);
			usleep(30000);
			if (write(fd, a.d + 10, a.n - 10) != (ssize_t)a.n - 10)
				_exit(3);
		}
		usleep(200000);
		_exit(0);
	}
	close(lfd);
	return pid;
}

/* a one-shot UDP resolver on ns:port */
static pid_t serve_udp(int port, const char *ip)
{
	int fd = lsock(SOCK_DGRAM, port), pid;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		static struct pkt a;
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		__u8 q[512];

		if (recvfrom(fd, q, sizeof(q), 0, (void *)&from, &fl) <= 0)
			_exit(2);
		answer(&a, ip);
		if (sendto(fd, a.d, a.n, 0, (void *)&from, fl) != (ssize_t)a.n)
			_exit(3);
		_exit(0);
	}
	close(fd);
	return pid;
}

struct ask {
	int port, type;
	const char *target;
};

/* in the cgroup: ask, read the whole answer, connect to the address
 * answered; the exit code is that connect's errno (0: it went through) */
static int do_ask(void *arg)
{
	struct ask *q = arg;
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, AF_INET, ns, q->port);
	static struct pkt m;
	static __u8 buf[PKT_MAX + 2];
	struct pollfd pf;
	size_t got = 0, want = 0;
	int fd = socket(AF_INET, q->type, 0);

	query(&m);
	if (connect(fd, (void *)&ss, len))
		return 100;
	if (q->type == SOCK_STREAM) {
		__u8 pfx[2] = { (__u8)(m.n >> 8), (__u8)m.n };

		if (write(fd, pfx, 2) != 2 || write(fd, m.d, m.n) != (ssize_t)m.n)
			return 101;
	} else if (write(fd, m.d, m.n) != (ssize_t)m.n) {
		return 101;
	}
	pf.fd = fd;
	pf.events = POLLIN;
	while (poll(&pf, 1, 3000) == 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (q->type == SOCK_DGRAM)
			break;
		if (got >= 2)
			want = 2 + ((size_t)buf[0] << 8 | buf[1]);
		if (want && got >= want)
			break;
	}
	close(fd);
	if (!got || (q->type == SOCK_STREAM && got < want))
		return 102;
	return h_connect(AF_INET, q->target, tport, SOCK_STREAM);
}

static int start(const char *ports)
{
	char yaml[512];

	if (h_setup(&env, "dnstcp") || pick_ns())
		return -1;
	/* the controls' addresses listen; the others are refused before
	 * (EPERM) or answer ECONNREFUSED, a failure either way */
	tport = h_listen(&env, AF_INET, "127.0.0.215", 0, SOCK_STREAM);
	if (tport < 0 ||
	    h_listen(&env, AF_INET, "127.0.0.216", tport, SOCK_STREAM) < 0 ||
	    h_listen(&env, AF_INET, "127.0.0.219", tport, SOCK_STREAM) < 0)
		return -1;
	snprintf(yaml, sizeof(yaml), policy_fmt, ports);
	return h_write_policy(&env, yaml) || h_start(&env, NULL) ? -1 : 0;
}

/* asks through a resolver started by serve; the connect's errno */
static int ask(pid_t server, int port, int type, const char *target)
{
	struct ask q = { .port = port, .type = type, .target = target };
	int st, sst = 0;

	assert_true(server > 0);
	st = h_in_cgroup(&env, do_ask, &q);
	waitpid(server, &sst, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(sst), 0);
	return WEXITSTATUS(st);
}

static bool is_dns_for(json_object *j, void *arg)
{
	json_object *a, *first;

	if (!h_str(j, "event") || strcmp(h_str(j, "event"), "dns") ||
	    !json_object_object_get_ex(j, "addresses", &a) ||
	    !(first = json_object_array_get_idx(a, 0)))
		return false;
	return !strcmp(json_object_get_string(first), h_ip(arg));
}

static bool is_stats(json_object *j, void *arg)
{
	(void)arg;
	return h_str(j, "event") && !strcmp(h_str(j, "event"), "stats");
}

/* the stop record's count of what DNS over TCP could not follow */
static long long stop_lost(void)
{
	json_object *st = NULL;
	long long lost;

	assert_int_equal(h_stop(&env), 0);
	assert_true(h_wait_events(&env, is_stats, NULL, 1, &st) >= 1);
	lost = h_int(st, "dns_tcp_lost");
	json_object_put(st);
	return lost;
}

/* the default dns_ports [53, 5353]: TCP whole and split, UDP from 5353,
 * and a port not listed */
static void t_default_ports(void **state)
{
	int other;

	(void)state;
	if (h_missing())
		skip();
	assert_int_equal(start(""), 0);
	assert_int_equal(ask(serve_tcp(53, "127.0.0.211", ONE), 53,
			     SOCK_STREAM, "127.0.0.211"), EPERM);
	assert_int_equal(ask(serve_tcp(53, "127.0.0.212", SPLIT), 53,
			     SOCK_STREAM, "127.0.0.212"), EPERM);
	assert_int_equal(ask(serve_tcp(5353, "127.0.0.213", SPLIT), 5353,
			     SOCK_STREAM, "127.0.0.213"), EPERM);
	assert_int_equal(ask(serve_udp(5353, "127.0.0.214"), 5353,
			     SOCK_DGRAM, "127.0.0.214"), EPERM);
	/* the controls: the same answers from a port not listed */
	other = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_DGRAM);
	assert_int_equal(ask(serve_udp(other, "127.0.0.215"), other,
			     SOCK_DGRAM, "127.0.0.215"), 0);
	assert_int_equal(ask(serve_tcp(other, "127.0.0.216", SPLIT), other,
			     SOCK_STREAM, "127.0.0.216"), 0);
	/* the learned answers are in the log, with their process */
	assert_true(h_wait_events(&env, is_dns_for, "127.0.0.212", 1, NULL) == 1);
	assert_true(h_wait_events(&env, is_dns_for, "127.0.0.214", 1, NULL) == 1);
	assert_int_equal(stop_lost(), 0);
	assert_false(h_log_has(&env, h_ip("\"127.0.0.215\"")));
	assert_false(h_log_has(&env, h_ip("\"127.0.0.216\"")));
}

/* dns_ports from the policy: 53 is read only when listed */
static void t_policy_ports(void **state)
{
	(void)state;
	if (h_missing())
		skip();
	assert_int_equal(start("dns_ports: [5300]\n"), 0);
	assert_int_equal(ask(serve_tcp(5300, "127.0.0.217", SPLIT), 5300,
			     SOCK_STREAM, "127.0.0.217"), EPERM);
	assert_int_equal(ask(serve_udp(5300, "127.0.0.218"), 5300,
			     SOCK_DGRAM, "127.0.0.218"), EPERM);
	assert_int_equal(ask(serve_udp(53, "127.0.0.219"), 53, SOCK_DGRAM,
			     "127.0.0.219"), 0);
	assert_int_equal(stop_lost(), 0);
}

/* whatever failed: the daemon stopped, the cgroup removed */
static int teardown(void **state)
{
	(void)state;
	if (!h_missing() && env.cg[0])
		h_teardown(&env);
	memset(&env, 0, sizeof(env));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_default_ports, teardown),
		cmocka_unit_test_teardown(t_policy_ports, teardown),
	};

	return cmocka_run_group_tests_name("dns_tcp", tests, NULL, NULL);
}
