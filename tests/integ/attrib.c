// SPDX-License-Identifier: MIT
/* Attribution: the event names the process (tgid) and binary that made the
 * call — for threads, forked children, renamed comms, and a freshly exec'd
 * process that exits right after its connect. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <pthread.h>
#include <sys/prctl.h>

#include "integ/harness.h"

static struct h_env env;
static int port;
static char self[PATH_MAX];

struct want {
	long pid;
};

static bool is_connect_of(json_object *j, void *arg)
{
	const char *ev = h_str(j, "event");

	return ev && !strcmp(ev, "connect") &&
	       h_int(j, "pid") == ((struct want *)arg)->pid;
}

static int alert_connect(void)
{
	return h_connect(AF_INET, "127.0.0.5", port, SOCK_STREAM);
}

static int setup(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	if (h_setup(&env, "attrib"))
		return -1;
	port = h_listen(&env, AF_INET, "127.0.0.5", 0, SOCK_STREAM);
	if (h_write_policy(&env, "mode: enforce\n"
				 "rules:\n"
				 "  - name: alert-five\n"
				 "    match: {cidr: [127.0.0.5/32]}\n"
				 "    action: alert\n"))
		return -1;
	return h_start(&env, "--dedup-ms 0");
}

static int teardown(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	assert_int_equal(h_stop(&env), 0);
	h_teardown(&env);
	return 0;
}

static json_object *event_of(pid_t pid)
{
	struct want w = { pid };
	json_object *j = NULL;

	assert_true(h_wait_events(&env, is_connect_of, &w, 1, &j) >= 1);
	return j;
}

static void *thread_body(void *arg)
{
	*(int *)arg = alert_connect();
	return NULL;
}

static int do_thread(void *a)
{
	pthread_t t;
	int rc = -1;

	(void)a;
	pthread_create(&t, NULL, thread_body, &rc);
	pthread_join(t, NULL);
	return rc;
}

/* a thread's connect is the process's: pid is the tgid, tid the thread */
static void t_thread(void **s)
{
	json_object *j;
	pid_t pid;
	int st;

	(void)s;
	if (h_missing())
		skip();
	pid = fork();
	if (pid == 0)
		_exit(h_join(&env) ? 120 : do_thread(NULL));
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	j = event_of(pid);
	assert_int_not_equal(h_int(j, "tid"), pid);
	assert_string_equal(h_str(j, "exe"), self);
	json_object_put(j);
}

/* a forked grandchild is attributed to itself, with its parent as ppid */
static void t_forked(void **s)
{
	int p[2], st;
	pid_t child, grandchild = 0;
	json_object *j;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(pipe(p), 0);
	child = fork();
	if (child == 0) {
		pid_t g;

		if (h_join(&env))
			_exit(120);
		g = fork();
		if (g == 0)
			_exit(alert_connect());
		if (write(p[1], &g, sizeof(g)) != sizeof(g))
			_exit(121);
		waitpid(g, &st, 0);
		/* stay alive so the parent chain can be read */
		usleep(300000);
		_exit(WEXITSTATUS(st));
	}
	assert_int_equal(read(p[0], &grandchild, sizeof(grandchild)),
			 sizeof(grandchild));
	j = event_of(grandchild);
	waitpid(child, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(h_int(j, "ppid"), child);
	assert_string_equal(h_str(j, "exe"), self);
	json_object_put(j);
	close(p[0]);
	close(p[1]);
}

/* a renamed comm is reported as is, but the exe is still the real one */
static void t_renamed(void **s)
{
	json_object *j;
	pid_t pid;
	int st;

	(void)s;
	if (h_missing())
		skip();
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, "innocent", 0, 0, 0);
		_exit(h_join(&env) ? 120 : alert_connect());
	}
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	j = event_of(pid);
	assert_string_equal(h_str(j, "comm"), "innocent");
	assert_string_equal(h_str(j, "exe"), self);
	json_object_put(j);
}

/* exec, connect, exit within a millisecond: still the right binary, its
 * command line and its hash */
static void t_short_lived(void **s)
{
	char portstr[16], expect[80] = "", cmd[PATH_MAX + 32];
	json_object *j;
	FILE *f;
	pid_t pid;
	int st;

	(void)s;
	if (h_missing())
		skip();
	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	if (pid == 0) {
		if (h_join(&env))
			_exit(120);
		execl(self, self, "connect-and-exit", portstr, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	j = event_of(pid);
	assert_string_equal(h_str(j, "exe"), self);
	assert_non_null(strstr(h_str(j, "cmdline"), "connect-and-exit"));
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", self);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%64s", expect), 1);
	pclose(f);
	assert_string_equal(h_str(j, "sha256"), expect);
	assert_true(h_int(j, "uid") == (long long)getuid());
	assert_string_equal(h_str(j, "user"), "root");
	json_object_put(j);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_thread),
		cmocka_unit_test(t_forked),
		cmocka_unit_test(t_renamed),
		cmocka_unit_test(t_short_lived),
	};

	if (argc == 3 && !strcmp(argv[1], "connect-and-exit")) {
		port = atoi(argv[2]);
		return alert_connect();
	}
	if (!realpath("/proc/self/exe", self))
		return 1;
	return cmocka_run_group_tests_name("attrib", tests, setup, teardown);
}
