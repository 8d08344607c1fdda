// SPDX-License-Identifier: MIT
/*
 * TCP flows that no rule matched at connect wait for their first bytes in
 * a fixed array of RW_PENDING_SLOTS slots indexed by socket cookie. A
 * flow closed before sending frees its slot; a slot taken while its flow
 * is still open and silent is counted (`pending_lost` in stats), because
 * that flow's first bytes will not be judged. Both, with real sockets:
 * more silent connections open at once than there are slots, and twice
 * as many connect+close rounds, which must count nothing.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "integ/harness.h"
#include "relaywatch.h"

#define PORTS 4 /* 4 x ~28,000 ephemeral ports: room for the slots + 1 */

static struct h_env env;
static int ports[PORTS];
static volatile int stop_accept;

static void *acceptor(void *arg)
{
	int fd = *(int *)arg;

	while (!stop_accept) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
	return NULL;
}

static int open_flow(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (void *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* a close that leaves no TIME_WAIT behind to use up ports */
static void close_now(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/*
 * More than RW_PENDING_SLOTS connections open at once, none sending. A
 * process may hold 20,000 descriptors here (and may not raise that), so
 * WORKERS processes share them: each opens its part, says so, and closes
 * them only when all are open.
 */
#define WORKERS 4
#define PER_WORKER (RW_PENDING_SLOTS / WORKERS + 1)

static int worker(int ready, int go, int first)
{
	int *fds = calloc(PER_WORKER, sizeof(int)), ok = 0;
	char c = 1;

	if (!fds)
		return 2;
	for (int i = 0; i < PER_WORKER; i++) {
		fds[i] = open_flow(ports[(first + i) % PORTS]);
		ok += fds[i] >= 0;
	}
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) < 0)
		return 3;
	for (int i = 0; i < PER_WORKER; i++)
		if (fds[i] >= 0)
			close_now(fds[i]);
	return ok == PER_WORKER ? 0 : 1;
}

static int many_open(void *a)
{
	int ready[2], go[2], bad = 0;
	pid_t pid[WORKERS];
	char c;

	(void)a;
	if (pipe(ready) || pipe(go))
		return 2;
	for (int w = 0; w < WORKERS; w++) {
		pid[w] = fork();
		if (pid[w] == 0) {
			close(go[1]);
			_exit(worker(ready[1], go[0], w));
		}
	}
	for (int w = 0; w < WORKERS; w++)
		if (read(ready[0], &c, 1) != 1)
			bad = 1;
	close(go[1]); /* all open at once: let them close */
	for (int w = 0; w < WORKERS; w++) {
		int st;

		waitpid(pid[w], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
	}
	return bad;
}

/* twice as many connections, each closed before the next opens */
static int open_close(void *a)
{
	(void)a;
	for (int i = 0; i < 2 * RW_PENDING_SLOTS; i++) {
		int fd = open_flow(ports[i % PORTS]);

		if (fd < 0) {
			fprintf(stderr, "pending: connect %d of %d: %s\n", i,
				2 * RW_PENDING_SLOTS, strerror(errno));
			return 1;
		}
		close_now(fd);
	}
	return 0;
}

static long long run(int (*fn)(void *))
{
	pthread_t tid[PORTS];
	long long lost = -1;
	char line[65536];
	int st;
	FILE *f;

	assert_int_equal(h_setup(&env, "pending"), 0);
	/* a name rule: every TCP flow's first bytes are to be judged */
	assert_int_equal(h_write_policy(&env,
		"mode: enforce\n"
		"rules:\n"
		"  - name: deny-relay\n"
		"    match: {domain: [relay.example]}\n"
		"    action: deny\n"), 0);
	stop_accept = 0;
	for (int i = 0; i < PORTS; i++) {
		ports[i] = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_STREAM);
		assert_true(ports[i] > 0);
		pthread_create(&tid[i], NULL, acceptor,
			       &env.listeners[env.nr_listeners - 1]);
	}
	assert_int_equal(h_start(&env, NULL), 0);
	st = h_in_cgroup(&env, fn, NULL);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "pending: the connecting child ended with "
			"status %#x\n", st);
	assert_int_equal(h_stop(&env), 0);
	stop_accept = 1;
	for (int i = 0; i < PORTS; i++) {
		/* wake the acceptor with one last connection */
		int fd = open_flow(ports[i]);

		if (fd >= 0)
			close_now(fd);
		pthread_join(tid[i], NULL);
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	f = fopen(env.log, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_object *j = json_tokener_parse(line);
		const char *ev = j ? h_str(j, "event") : NULL;

		if (ev && !strcmp(ev, "stats"))
			lost = h_int(j, "pending_lost");
		else if (ev && !strcmp(ev, "lost"))
			fprintf(stderr, "pending: %s", line);
		json_object_put(j);
	}
	fclose(f);
	return lost;
}

/* more silent flows than slots: at least one slot was taken, and said */
static void t_overflow_counted(void **s)
{
	long long lost;

	(void)s;
	if (h_missing())
		skip();
	lost = run(many_open);
	fprintf(stderr, "pending: %d silent flows open at once, "
		"pending_lost %lld\n", WORKERS * PER_WORKER, lost);
	assert_true(lost >= 1);
}

/* flows that close before sending free their slots: nothing counted */
static void t_closed_flows_free_slots(void **s)
{
	long long lost;

	(void)s;
	if (h_missing())
		skip();
	lost = run(open_close);
	fprintf(stderr, "pending: %d connect+close rounds, pending_lost "
		"%lld\n", 2 * RW_PENDING_SLOTS, lost);
	assert_int_equal(lost, 0);
}

static int teardown(void **s)
{
	(void)s;
	if (env.cg[0])
		h_teardown(&env);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_overflow_counted, teardown),
		cmocka_unit_test_teardown(t_closed_flows_free_slots, teardown),
	};

	return cmocka_run_group_tests_name("pending", tests, NULL, NULL);
}
