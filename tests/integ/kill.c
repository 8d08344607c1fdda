// SPDX-License-Identifier: MIT
/* Kill rules: the process dies by SIGKILL before connect()/sendto()
 * returns (it never runs the next line), its parent lives on; io_uring is
 * covered by the daemon's fallback; connections open before start-up are
 * found and acted on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <liburing.h>
#include <poll.h>

#include "integ/harness.h"

static struct h_env env;
static int kport, dport, uport;

static bool is_kill_of(json_object *j, void *arg)
{
	const char *ev = h_str(j, "event");

	return ev && !strcmp(ev, "kill") && h_int(j, "pid") == *(long *)arg;
}

static bool is_existing_of(json_object *j, void *arg)
{
	const char *ev = h_str(j, "event");

	return ev && !strcmp(ev, "existing") && h_int(j, "pid") == *(long *)arg;
}

static int setup(void **state)
{
	char yaml[512];

	(void)state;
	if (h_missing())
		return 0;
	if (h_setup(&env, "kill"))
		return -1;
	kport = h_listen(&env, AF_INET, "127.0.0.3", 0, SOCK_STREAM);
	dport = h_listen(&env, AF_INET, "127.0.0.4", 0, SOCK_STREAM);
	uport = h_listen(&env, AF_INET, "127.0.0.3", 0, SOCK_DGRAM);
	snprintf(yaml, sizeof(yaml),
		 "mode: enforce\n"
		 "rules:\n"
		 "  - name: kill-three\n"
		 "    match: {cidr: [127.0.0.3/32]}\n"
		 "    action: kill\n"
		 "  - name: deny-four\n"
		 "    match: {cidr: [127.0.0.4/32]}\n"
		 "    action: deny\n");
	return h_write_policy(&env, yaml);
}

static int teardown(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	if (env.daemon)
		assert_int_equal(h_stop(&env), 0);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 0);
	h_teardown(&env);
	return 0;
}

enum how { BY_CONNECT, BY_SENDTO, BY_URING };

/*
 * The parent P joins the cgroup and forks C. C writes 'B', makes the call,
 * and would write 'A' after it. P reports C's fate in its exit code:
 * 0 = SIGKILL, 1 = exited normally, 2 = other.
 */
static int parent_body(enum how how, int wfd, pid_t *victim)
{
	struct sockaddr_storage ss;
	int st;
	pid_t c = fork();

	if (c == 0) {
		socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.3",
					   how == BY_SENDTO ? uport : kport);
		int fd = socket(AF_INET, how == BY_SENDTO ? SOCK_DGRAM :
				SOCK_STREAM, 0);

		if (write(wfd, "B", 1) != 1)
			_exit(3);
		if (how == BY_CONNECT) {
			connect(fd, (void *)&ss, len);
		} else if (how == BY_SENDTO) {
			sendto(fd, "x", 1, 0, (void *)&ss, len);
		} else {
			struct io_uring ring;
			struct io_uring_cqe *cqe;

			if (io_uring_queue_init(4, &ring, 0))
				_exit(4);
			io_uring_prep_connect(io_uring_get_sqe(&ring), fd,
					      (void *)&ss, len);
			io_uring_submit(&ring);
			io_uring_wait_cqe(&ring, &cqe);
			/* the fallback kill may take up to its grace period */
			usleep(1500000);
		}
		if (write(wfd, "A", 1) != 1)
			_exit(3);
		_exit(0);
	}
	*victim = c;
	waitpid(c, &st, 0);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 4)
		return 4;
	return WIFEXITED(st) ? 1 : 2;
}

static void run_kill(enum how how)
{
	int p[2], q[2], st;
	char buf[8] = {};
	long victim = 0;
	pid_t parent;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	parent = fork();
	if (parent == 0) {
		pid_t v = 0;
		int rc;

		close(p[0]);
		close(q[0]);
		if (h_join(&env))
			_exit(120);
		rc = parent_body(how, p[1], &v);
		if (write(q[1], &v, sizeof(v)) != sizeof(v))
			_exit(121);
		_exit(rc);
	}
	close(p[1]);
	close(q[1]);
	waitpid(parent, &st, 0);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_int_equal(read(q[0], &victim, sizeof(pid_t)), sizeof(pid_t));
	close(p[0]);
	close(q[0]);
	/* the parent survived and saw its child die by SIGKILL */
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 4)
		skip(); /* io_uring disabled on this kernel */
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the child ran up to the call and never past it */
	assert_int_equal(n, 1);
	assert_string_equal(buf, "B");
	assert_true(h_wait_events(&env, is_kill_of, &victim, 1, NULL) >= 1);
}

static int start(void)
{
	return env.daemon ? 0 : h_start(&env, NULL);
}

/* SIGKILL in-kernel at the exit of connect() */
static void t_kill_connect(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start(), 0);
	run_kill(BY_CONNECT);
}

/* SIGKILL at the exit of an unconnected UDP sendto() */
static void t_kill_sendto(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start(), 0);
	run_kill(BY_SENDTO);
}

/* io_uring: killed at io_uring_enter's exit, or by the daemon's fallback */
static void t_kill_uring(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start(), 0);
	run_kill(BY_URING);
}

/* connections open before start-up: the kill rule's owner is killed, the
 * deny rule's socket is closed under its owner */
static void t_existing(void **s)
{
	struct sockaddr_storage ss;
	pid_t killee, holder;
	long pk, ph;
	int st;

	(void)s;
	if (h_missing())
		skip();
	if (env.daemon)
		assert_int_equal(h_stop(&env), 0);
	killee = fork();
	if (killee == 0) {
		socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.3", kport);
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (h_join(&env) || connect(fd, (void *)&ss, len))
			_exit(10);
		pause();
		_exit(11);
	}
	holder = fork();
	if (holder == 0) {
		socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.4", dport);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char c;

		if (h_join(&env) || connect(fd, (void *)&ss, len))
			_exit(10);
		/* returns once the socket is destroyed under us */
		_exit(recv(fd, &c, 1, 0) < 0 ? 42 : 43);
	}
	usleep(200000);
	assert_int_equal(h_start(&env, NULL), 0);
	waitpid(killee, &st, 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	waitpid(holder, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 42);
	pk = killee;
	ph = holder;
	assert_true(h_wait_events(&env, is_existing_of, &pk, 1, NULL) >= 1);
	assert_true(h_wait_events(&env, is_existing_of, &ph, 1, NULL) >= 1);
	assert_true(h_wait_events(&env, is_kill_of, &pk, 1, NULL) >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_kill_connect),
		cmocka_unit_test(t_kill_sendto),
		cmocka_unit_test(t_kill_uring),
		cmocka_unit_test(t_existing),
	};

	return cmocka_run_group_tests_name("kill", tests, setup, teardown);
}
