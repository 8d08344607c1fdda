// SPDX-License-Identifier: MIT
/* `quic: deny-unnamed`: UDP to port 443 of an address no DNS answer named
 * is refused with EPERM at sendto() and connect() (IPv4 and IPv6), and
 * recorded with rule quic-unnamed, though an alert rule matches; controls:
 * an address a real DNS answer named (received by the caller through
 * dns_ingress) passes, as does one an allow rule names, UDP to another
 * port and TCP to 443; monitor mode only records (would_deny), and
 * `quic: allow` leaves UDP/443 alone. Each group has its own cgroup and
 * daemon. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>

#include "integ/harness.h"

#define DNS_SRV "127.0.0.7"     /* answers in the child itself */
#define NAMED "127.0.0.8"       /* the answer's address */
#define UNNAMED "127.0.0.6"     /* an alert rule names it */
#define EXEMPT "127.0.0.10"     /* an allow rule names it */
#define QNAME "\4quic\7example\0"

static struct h_env env;

/* a query for quic.example (A), or with an answer NAMED appended */
static int dns_msg(unsigned char *b, bool answer)
{
	static const unsigned char rr[] = {
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
	};
	int n = 12;

	memset(b, 0, 12);
	b[0] = 0x12; b[1] = 0x34; b[2] = answer ? 0x81 : 1;
	b[3] = answer ? 0x80 : 0;
	b[5] = 1;             /* one question */
	b[7] = answer;        /* one answer */
	/* the literal's own terminator is not part of the name */
	memcpy(b + n, QNAME, sizeof(QNAME) - 1);
	n += sizeof(QNAME) - 1;
	b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1;
	if (!answer)
		return n;
	memcpy(b + n, rr, sizeof(rr));
	n += sizeof(rr);
	inet_pton(AF_INET, h_ip(NAMED), b + n);
	return n + 4;
}

/* the child asks a server socket of its own and reads the answer on a
 * socket of the cgroup: dns_ingress maps NAMED to quic.example for it */
static int resolve(void)
{
	struct sockaddr_storage srv, peer;
	socklen_t len = h_sockaddr(&srv, AF_INET, DNS_SRV, 53), plen;
	unsigned char b[512];
	int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
	struct pollfd p = { .fd = c, .events = POLLIN };

	if (bind(s, (void *)&srv, len) ||
	    sendto(c, b, dns_msg(b, false), 0, (void *)&srv, len) < 0)
		return errno;
	plen = sizeof(peer);
	if (recvfrom(s, b, sizeof(b), 0, (void *)&peer, &plen) < 12 ||
	    sendto(s, b, dns_msg(b, true), 0, (void *)&peer, plen) < 0 ||
	    poll(&p, 1, 2000) != 1 || recv(c, b, sizeof(b), 0) < 12)
		return EIO;
	close(s);
	close(c);
	return 0;
}

static int udp_sendto(int family, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, family, addr, port);
	int fd = socket(family, SOCK_DGRAM, 0), ret;

	ret = sendto(fd, "q", 1, 0, (void *)&ss, len) == 1 ? 0 : errno;
	close(fd);
	return ret;
}

/* child bodies: exit code = errno of the call, 0 on success */
static int do_unnamed4(void *a) { (void)a; return udp_sendto(AF_INET, UNNAMED, 443); }
static int do_unnamed6(void *a) { (void)a; return udp_sendto(AF_INET6, "::1", 443); }
static int do_unnamed_connect(void *a) { (void)a; return h_connect(AF_INET, UNNAMED, 443, SOCK_DGRAM); }
static int do_exempt(void *a) { (void)a; return udp_sendto(AF_INET, EXEMPT, 443); }
static int do_other_port(void *a) { (void)a; return udp_sendto(AF_INET, UNNAMED, 8443); }
static int tcp_port;
static int do_tcp443(void *a) { (void)a; return h_connect(AF_INET, UNNAMED, tcp_port, SOCK_STREAM); }

static int do_named(void *a)
{
	int ret = resolve();

	(void)a;
	if (ret)
		return 100 + (ret & 63); /* the answer never came */
	ret = udp_sendto(AF_INET, NAMED, 443);
	return ret ? ret : h_connect(AF_INET, NAMED, 443, SOCK_DGRAM);
}

static pid_t last;

static int run_child(int (*fn)(void *))
{
	int st = 0;

	last = fork();
	if (last == 0) {
		if (h_join(&env))
			_exit(120);
		_exit(fn(NULL));
	}
	waitpid(last, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct want {
	const char *event, *action;
	pid_t pid;
};

static bool match_quic(json_object *j, void *arg)
{
	struct want *w = arg;
	const char *rule = h_str(j, "rule"), *ev = h_str(j, "event"),
		   *act = h_str(j, "action");

	return rule && !strcmp(rule, "quic-unnamed") &&
	       (!w->pid || h_int(j, "pid") == w->pid) &&
	       (!w->event || (ev && !strcmp(ev, w->event))) &&
	       (!w->action || (act && !strcmp(act, w->action)));
}

static void expect_quic(const char *event, const char *action)
{
	struct want w = { event, action, last };
	json_object *j = NULL;

	if (h_wait_events(&env, match_quic, &w, 1, &j) < 1)
		fail_msg("no %s record with rule quic-unnamed, action %s, "
			 "pid %d", event, action, last);
	assert_int_equal(h_int(j, "dport"), 443);
	assert_string_equal(h_str(j, "proto"), "udp");
	json_object_put(j);
}

/* quic-unnamed records in the log (complete once the daemon stopped) */
static int quic_records(void)
{
	struct want w = {};
	char line[65536];
	int n = 0;
	FILE *f = fopen(env.log, "r");

	while (f && fgets(line, sizeof(line), f)) {
		json_object *j = json_tokener_parse(line);

		n += j && match_quic(j, &w);
		json_object_put(j);
	}
	if (f)
		fclose(f);
	return n;
}

static int setup_with(void **state, const char *mode, const char *quic)
{
	char yaml[512], name[64];
	const char *why = h_missing();

	(void)state;
	if (why) {
		fprintf(stderr, "skipping: %s\n", why);
		return 0;
	}
	snprintf(name, sizeof(name), "quic-%s-%s", mode, quic);
	if (h_setup(&env, name))
		return -1;
	tcp_port = h_listen(&env, AF_INET, UNNAMED, 0, SOCK_STREAM);
	snprintf(yaml, sizeof(yaml), "mode: %s\nquic: %s\nrules:\n"
		 "  - name: exempt\n    match: {cidr: [" EXEMPT "/32]}\n"
		 "    action: allow\n"
		 "  - name: watch\n    match: {cidr: [" UNNAMED "/32]}\n"
		 "    action: alert\n", mode, quic);
	if (h_write_policy(&env, yaml) || h_start(&env, NULL))
		return -1;
	return 0;
}

static int setup_enforce(void **s) { return setup_with(s, "enforce", "deny-unnamed"); }
static int setup_monitor(void **s) { return setup_with(s, "monitor", "deny-unnamed"); }
static int setup_allow(void **s) { return setup_with(s, "enforce", "allow"); }

static int teardown(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	/* a test that read the whole log stopped it already */
	if (env.daemon)
		assert_int_equal(h_stop(&env), 0);
	h_teardown(&env);
	return 0;
}

#define SKIP_IF_MISSING()                                                      \
	do {                                                                   \
		if (h_missing())                                               \
			skip();                                                \
	} while (0)

/* unnamed UDP/443: EPERM at sendto (v4, v6) and at connect, recorded,
 * though an alert rule matches the v4 address */
static void t_unnamed_denied(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_unnamed4), EPERM);
	expect_quic("sendmsg", "deny");
	assert_int_equal(run_child(do_unnamed6), EPERM);
	expect_quic("sendmsg", "deny");
	assert_int_equal(run_child(do_unnamed_connect), EPERM);
	expect_quic("connect", "deny");
}

/* named by a DNS answer the caller received: judged by name, passes */
static void t_named_passes(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_named), 0);
}

/* an address an allow rule names is exempt */
static void t_exempt_passes(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_exempt), 0);
}

/* UDP to another port and TCP to the address pass */
static void t_others_pass(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_other_port), 0);
	assert_int_equal(run_child(do_tcp443), 0);
}

/* of all that, only the three unnamed calls were recorded */
static void t_only_unnamed_recorded(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(h_stop(&env), 0);
	assert_int_equal(quic_records(), 3);
}

/* monitor mode: the call passes, the record says would_deny */
static void t_monitor(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_unnamed4), 0);
	expect_quic("sendmsg", "would_deny");
}

/* quic: allow (the default): unnamed UDP/443 passes, unrecorded */
static void t_allow(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_unnamed4), 0);
	assert_int_equal(run_child(do_unnamed_connect), 0);
	assert_int_equal(h_stop(&env), 0);
	assert_int_equal(quic_records(), 0);
}

int main(void)
{
	const struct CMUnitTest enforce[] = {
		cmocka_unit_test(t_unnamed_denied),
		cmocka_unit_test(t_named_passes),
		cmocka_unit_test(t_exempt_passes),
		cmocka_unit_test(t_others_pass),
		cmocka_unit_test(t_only_unnamed_recorded),
	};
	const struct CMUnitTest monitor[] = { cmocka_unit_test(t_monitor) };
	const struct CMUnitTest allow[] = { cmocka_unit_test(t_allow) };
	int fails = cmocka_run_group_tests_name("quic enforce", enforce,
						setup_enforce, teardown);

	fails += cmocka_run_group_tests_name("quic monitor", monitor,
					     setup_monitor, teardown);
	fails += cmocka_run_group_tests_name("quic allow", allow, setup_allow,
					     teardown);
	return fails ? 1 : 0;
}
