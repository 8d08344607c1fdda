// SPDX-License-Identifier: MIT
/* Deny, allow and monitor decisions at connect/sendmsg, over IPv4, IPv6,
 * IPv4-mapped IPv6, UDP, TCP Fast Open and io_uring, with the events that
 * record them. Each test has its own cgroup and daemon. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <liburing.h>
#include <netinet/tcp.h>

#include "integ/harness.h"

struct want {
	const char *event;
	long pid;
	const char *action;
	const char *daddr;
};

static bool match_want(json_object *j, void *arg)
{
	struct want *w = arg;

	if (w->event && (!h_str(j, "event") || strcmp(h_str(j, "event"), w->event)))
		return false;
	if (w->pid && h_int(j, "pid") != w->pid)
		return false;
	if (w->action && (!h_str(j, "action") || strcmp(h_str(j, "action"), w->action)))
		return false;
	if (w->daddr && (!h_str(j, "daddr") || strcmp(h_str(j, "daddr"), h_ip(w->daddr))))
		return false;
	return true;
}

static struct h_env env;
static int port4, port6, uport;

static const char policy_fmt[] =
	"mode: %s\n"
	"rules:\n"
	"  - name: deny-two\n"
	"    match: {cidr: [127.0.0.2/32]}\n"
	"    action: deny\n"
	"  - name: deny-v6-port\n"
	"    match: {cidr: [\"::1/128\"], port: %d}\n"
	"    action: deny\n"
	"  - name: alert-one\n"
	"    match: {cidr: [127.0.0.1/32]}\n"
	"    action: alert\n";

static int setup_mode(void **state, const char *mode)
{
	char yaml[1024];
	const char *why = h_missing();

	(void)state;
	if (why) {
		fprintf(stderr, "skipping: %s\n", why);
		return 0;
	}
	if (h_setup(&env, "enforce"))
		return -1;
	port4 = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_STREAM);
	h_listen(&env, AF_INET, "127.0.0.2", port4, SOCK_STREAM);
	port6 = h_listen(&env, AF_INET6, "::1", 0, SOCK_STREAM);
	uport = h_listen(&env, AF_INET, "127.0.0.2", 0, SOCK_DGRAM);
	snprintf(yaml, sizeof(yaml), policy_fmt, mode, port6 + 1);
	if (h_write_policy(&env, yaml) || h_start(&env, NULL))
		return -1;
	return 0;
}

static int setup_enforce(void **state) { return setup_mode(state, "enforce"); }
static int setup_monitor(void **state) { return setup_mode(state, "monitor"); }

static int teardown(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	assert_int_equal(h_stop(&env), 0);
	/* SIGTERM detaches: nothing of ours stays on the cgroup */
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 0);
	assert_int_equal(h_attached(&env, BPF_CGROUP_UDP4_SENDMSG), 0);
	h_teardown(&env);
	return 0;
}

#define SKIP_IF_MISSING()                                                      \
	do {                                                                   \
		if (h_missing())                                               \
			skip();                                                \
	} while (0)

/* child bodies: exit code = errno of the call, 0 on success */
static int do_connect4_denied(void *a) { (void)a; return h_connect(AF_INET, "127.0.0.2", port4, SOCK_STREAM); }
static int do_connect4_allowed(void *a) { (void)a; return h_connect(AF_INET, "127.0.0.1", port4, SOCK_STREAM); }
static int do_connect6_denied(void *a) { (void)a; return h_connect(AF_INET6, "::1", port6 + 1, SOCK_STREAM); }
static int do_connect6_allowed(void *a) { (void)a; return h_connect(AF_INET6, "::1", port6, SOCK_STREAM); }
static int do_connect_mapped(void *a) { (void)a; return h_connect(AF_INET6, "::ffff:127.0.0.2", port4, SOCK_STREAM); }
static int do_udp_connect(void *a) { (void)a; return h_connect(AF_INET, "127.0.0.2", uport, SOCK_DGRAM); }

static int do_udp_sendto(void *a)
{
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.2", uport);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)a;
	if (sendto(fd, "x", 1, 0, (void *)&ss, len) == 1)
		return 0;
	return errno;
}

static int do_tfo(void *a)
{
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.2", port4);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)a;
	if (sendto(fd, "x", 1, MSG_FASTOPEN, (void *)&ss, len) >= 0)
		return 0;
	return errno;
}

static int do_uring(void *a)
{
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.2", port4);
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	int fd = socket(AF_INET, SOCK_STREAM, 0), res;

	(void)a;
	if (io_uring_queue_init(4, &ring, 0))
		return 200; /* io_uring unavailable */
	io_uring_prep_connect(io_uring_get_sqe(&ring), fd, (void *)&ss, len);
	io_uring_submit(&ring);
	if (io_uring_wait_cqe(&ring, &cqe))
		return 201;
	res = cqe->res;
	io_uring_queue_exit(&ring);
	return res < 0 ? -res : 0;
}

static void expect_event(const char *event, pid_t pid, const char *action,
			 const char *daddr)
{
	struct want w = { event, pid, action, daddr };
	json_object *j = NULL;

	assert_true(h_wait_events(&env, match_want, &w, 1, &j) >= 1);
	json_object_put(j);
}

static pid_t last_child;

static int run_child(int (*fn)(void *))
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (h_join(&env))
			_exit(120);
		_exit(fn(NULL));
	}
	last_child = pid;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* a denied IPv4 CIDR fails with EPERM and is recorded as deny */
static void t_connect4_denied(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_connect4_denied), EPERM);
	expect_event("connect", last_child, "deny", "127.0.0.2");
}

/* an address matched only by an alert rule connects and is recorded */
static void t_connect4_allowed(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_connect4_allowed), 0);
	expect_event("connect", last_child, "alert", "127.0.0.1");
}

/* IPv6: the rule's port decides; the other port connects */
static void t_connect6(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_connect6_denied), EPERM);
	expect_event("connect", last_child, "deny", "::1");
	assert_int_equal(run_child(do_connect6_allowed), 0);
}

/* ::ffff:127.0.0.2 on an AF_INET6 socket is judged as 127.0.0.2 */
static void t_connect_mapped(void **s)
{
	json_object *j = NULL;
	struct want w = { "connect", 0, "deny", "127.0.0.2" };

	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_connect_mapped), EPERM);
	w.pid = last_child;
	assert_true(h_wait_events(&env, match_want, &w, 1, &j) >= 1);
	assert_string_equal(h_str(j, "family"), "ipv4-mapped");
	json_object_put(j);
}

/* unconnected UDP goes through sendmsg4; connected UDP through connect4 */
static void t_udp(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_udp_sendto), EPERM);
	expect_event("sendmsg", last_child, "deny", "127.0.0.2");
	assert_int_equal(run_child(do_udp_connect), EPERM);
	expect_event("connect", last_child, "deny", "127.0.0.2");
}

/* sendto(MSG_FASTOPEN) connects inside sendmsg: still judged */
static void t_tfo(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_tfo), EPERM);
	expect_event("connect", last_child, "deny", "127.0.0.2");
}

/* io_uring's connect never passes the connect syscall: still denied */
static void t_uring(void **s)
{
	int rc;

	(void)s;
	SKIP_IF_MISSING();
	rc = run_child(do_uring);
	if (rc == 200)
		skip(); /* io_uring disabled on this kernel (sysctl) */
	assert_int_equal(rc, EPERM);
	expect_event("connect", last_child, "deny", "127.0.0.2");
}

/* monitor mode blocks nothing and says what it would have done */
static void t_monitor(void **s)
{
	(void)s;
	SKIP_IF_MISSING();
	assert_int_equal(run_child(do_connect4_denied), 0);
	expect_event("connect", last_child, "would_deny", "127.0.0.2");
	assert_int_equal(run_child(do_udp_sendto), 0);
	expect_event("sendmsg", last_child, "would_deny", "127.0.0.2");
}

int main(void)
{
	const struct CMUnitTest enforce[] = {
		cmocka_unit_test(t_connect4_denied),
		cmocka_unit_test(t_connect4_allowed),
		cmocka_unit_test(t_connect6),
		cmocka_unit_test(t_connect_mapped),
		cmocka_unit_test(t_udp),
		cmocka_unit_test(t_tfo),
		cmocka_unit_test(t_uring),
	};
	const struct CMUnitTest monitor[] = {
		cmocka_unit_test(t_monitor),
	};
	int fails = cmocka_run_group_tests_name("enforce", enforce,
						setup_enforce, teardown);

	fails += cmocka_run_group_tests_name("monitor", monitor,
					     setup_monitor, teardown);
	return fails ? 1 : 0;
}
