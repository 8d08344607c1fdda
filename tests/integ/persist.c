// SPDX-License-Identifier: MIT
/*
 * Enforcement that outlives the daemon (README "Lifecycle"): kill -9
 * leaves deny and the in-kernel kill in force; 50 kill -9 + restart
 * cycles and 14 upgrades (to a build with other programs, and to one
 * whose pinned format differs) let not one connect of a loop through;
 * what happened while no daemon read is reported and adds up; status
 * answers in its three states; tampering is noticed and undone; a
 * process leaving the cgroup is reported; on_daemon_loss denies alerts;
 * detach leaves nothing; bad states get one sentence. Real daemons, real
 * connects from a test cgroup, loopback only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <sys/mman.h>

#include "integ/harness.h"
#include "relaywatch.h"
#include "util.h"

#define RW_REBUILT "build/tests/relaywatch-rebuilt"
#define RW_NEXTFMT "build/tests/relaywatch-nextfmt"

static struct h_env env;
static char self[PATH_MAX];

static const char policy[] =
	"mode: enforce\n"
	"rules:\n"
	"  - name: deny-two\n"
	"    match: {cidr: [127.0.0.2/32]}\n"
	"    action: deny\n"
	"  - name: kill-three\n"
	"    match: {cidr: [127.0.0.3/32]}\n"
	"    action: kill\n"
	"  - name: watch-five\n"
	"    match: {cidr: [127.0.0.5/32]}\n"
	"    action: alert\n";

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	if (h_setup(&env, "persist"))
		return -1;
	env.persist = true;
	return h_write_policy(&env, policy);
}

static int teardown(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	h_teardown(&env); /* detaches what is pinned */
	return 0;
}

/* starts bin (persistent) and waits for one more start record than the
 * log held: the log keeps every daemon's records */
static int start_with(const char *bin, const char *extra)
{
	char cmd[2048];
	int before = h_log_count(&env, "\"event\":\"start\"");
	pid_t pid;

	snprintf(cmd, sizeof(cmd),
		 "exec %s run --policy %s --cgroup %s --log %s %s 2>>%s.err",
		 bin, env.policy, env.cg, env.log, extra ? extra : "",
		 env.log);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	env.daemon = pid;
	for (int i = 0; i < 5000; i++) {
		int st;

		if (h_log_count(&env, "\"event\":\"start\"") > before)
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			env.daemon = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		usleep(2000);
	}
	return -1;
}

static void kill9(void)
{
	kill(env.daemon, SIGKILL);
	waitpid(env.daemon, NULL, 0);
	env.daemon = 0;
}

static int connect_to(void *addr)
{
	return h_connect(AF_INET, addr, 9, SOCK_STREAM);
}

/* ---- a connect loop in the cgroup, counting what the kernel answered */

struct loop {
	volatile int stop;
	volatile long attempts, eperm, other;
};

static struct loop *loop_start(pid_t *pid)
{
	struct loop *lp = mmap(NULL, sizeof(*lp), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	memset(lp, 0, sizeof(*lp));
	*pid = fork();
	if (*pid == 0) {
		if (h_join(&env))
			_exit(120);
		while (!lp->stop) {
			int r = h_connect(AF_INET, "127.0.0.2", 9, SOCK_STREAM);

			lp->attempts++;
			if (r == EPERM)
				lp->eperm++;
			else
				lp->other++;
		}
		_exit(0);
	}
	return lp;
}

static void loop_stop(struct loop *lp, pid_t pid)
{
	lp->stop = 1;
	waitpid(pid, NULL, 0);
}

/* kill -9 leaves deny and the in-kernel kill working */
static void t_kill9_keeps_enforcing(void **s)
{
	int st;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	kill9();
	st = h_in_cgroup(&env, connect_to, "127.0.0.2");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EPERM);
	st = h_in_cgroup(&env, connect_to, "127.0.0.3");
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	/* and the kernel says where: pinned, attached */
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 1);
}

/* 50 kill -9 + restart cycles under a connect loop: every connect EPERM,
 * every restart adopted without loading anything */
static void t_restart_cycles(void **s)
{
	struct loop *lp;
	pid_t lpid;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	lp = loop_start(&lpid);
	for (int i = 0; i < 50; i++) {
		kill9();
		assert_int_equal(start_with(RW_BIN, NULL), 0);
	}
	usleep(100000);
	loop_stop(lp, lpid);
	printf("persist: %ld connects across 50 kill -9 restarts: %ld EPERM, "
	       "%ld not\n", lp->attempts, lp->eperm, lp->other);
	assert_int_equal(lp->other, 0);
	assert_true(lp->attempts >= 100000);
	assert_int_equal(h_log_count(&env, "\"adopted\":\"same-build\""), 50);
	munmap(lp, sizeof(*lp));
}

/* upgrades: to a build with other programs (same maps: adopted, programs
 * swapped in their links) and to one of another format (a set beside,
 * the old removed once the new enforces); SIGTERM between, as a package
 * upgrade does */
static void t_upgrade_swaps(void **s)
{
	/* ten format swaps (to and from nextfmt), four program swaps (to
	 * and from rebuilt) */
	static const char *const order[] = {
		RW_NEXTFMT, RW_BIN, RW_REBUILT, RW_BIN, RW_NEXTFMT, RW_BIN,
		RW_NEXTFMT, RW_BIN, RW_REBUILT, RW_BIN, RW_NEXTFMT, RW_BIN,
		RW_NEXTFMT, RW_BIN,
	};
	char cgdir[64];
	struct loop *lp;
	struct stat st;
	pid_t lpid;

	(void)s;
	if (h_missing())
		skip();
	if (access(RW_NEXTFMT, X_OK) || access(RW_REBUILT, X_OK))
		skip(); /* make test builds them */
	stat(env.cg, &st);
	snprintf(cgdir, sizeof(cgdir), "/sys/fs/bpf/relaywatch/%lu",
		 (unsigned long)st.st_ino);
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	lp = loop_start(&lpid);
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		assert_int_equal(h_stop(&env), 0);
		assert_int_equal(start_with(order[i], NULL), 0);
		/* one set, the new one, once it enforces */
		assert_int_equal(sh("test $(ls %s | wc -l) = 1", cgdir), 0);
	}
	usleep(100000);
	loop_stop(lp, lpid);
	printf("persist: %ld connects across %zu upgrades: %ld EPERM, %ld "
	       "not\n", lp->attempts, ARRAY_SIZE(order), lp->eperm, lp->other);
	assert_int_equal(lp->other, 0);
	assert_true(lp->attempts > 0);
	/* ten format swaps made a set beside; four were program swaps */
	assert_int_equal(h_log_count(&env, "\"adopted\":\"beside\""), 10);
	assert_int_equal(h_log_count(&env, "\"adopted\":\"new-programs\""), 4);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 1);
	munmap(lp, sizeof(*lp));
}

static bool is_gap(json_object *j, void *arg)
{
	(void)arg;
	return !strcmp(h_str(j, "event") ?: "", "gap");
}

static bool is_down_connect(json_object *j, void *arg)
{
	return !strcmp(h_str(j, "event") ?: "", "connect") &&
	       h_int(j, "dport") == *(int *)arg;
}

/* what happened while no daemon read: drained with attribution after
 * adoption, and the gap record's counts add up with the kernel's */
static void t_gap_adds_up(void **s)
{
	json_object *gap = NULL, *ev = NULL;
	int port = 4000;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	usleep(300000); /* a heartbeat with nothing pending */
	kill9();
	/* five processes denied, one alerted, all gone before adoption */
	for (int i = 0; i < 5; i++)
		h_in_cgroup(&env, connect_to, "127.0.0.2");
	h_in_cgroup(&env, connect_to, "127.0.0.5");
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			if (h_join(&env))
				_exit(120);
			_exit(h_connect(AF_INET, "127.0.0.2", port, SOCK_STREAM));
		}
		waitpid(pid, NULL, 0);
	}
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	assert_int_equal(h_wait_events(&env, is_gap, NULL, 1, &gap), 1);
	assert_true(h_int(gap, "down_ms") > 0);
	assert_true(h_int(gap, "drained") >= 9);
	assert_int_equal(h_int(gap, "matched"),
			 h_int(gap, "drained") + h_int(gap, "suppressed") +
				 h_int(gap, "lost"));
	assert_int_equal(h_int(gap, "deny"), 8);
	assert_int_equal(h_int(gap, "alert"), 1);
	assert_int_equal(h_int(gap, "read_unrecorded"), 0);
	/* a connect made while down, by a process long gone: attributed
	 * from the kernel's process table */
	assert_int_equal(h_wait_events(&env, is_down_connect, &port, 1, &ev), 1);
	assert_string_equal(h_str(ev, "action"), "deny");
	assert_string_equal(h_str(ev, "rule"), "deny-two");
	assert_string_equal(h_str(ev, "exe"), self);
	assert_string_equal(h_str(ev, "attribution"), "snapshot");
	json_object_put(gap);
	json_object_put(ev);
}

static int status(void)
{
	return sh("%s status --cgroup %s >/dev/null", RW_BIN, env.cg);
}

/* status: 0 enforcing, 3 attached without a daemon, 4 nothing */
static void t_status_codes(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(status(), 4);
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	assert_int_equal(status(), 0);
	assert_int_equal(sh("%s status --cgroup %s --json | jq -e '.daemon.pid "
			    "== %d and .policy.path == \"%s\" and .counters"
			    ".matched >= 0 and .ring.size_bytes == 8388608'"
			    " >/dev/null", RW_BIN, env.cg, env.daemon,
			    env.policy), 0);
	kill9();
	assert_int_equal(status(), 3);
	assert_int_equal(sh("%s detach --cgroup %s >/dev/null", RW_BIN, env.cg),
			 0);
	assert_int_equal(status(), 4);
}

static bool is_tamper(json_object *j, void *arg)
{
	return !strcmp(h_str(j, "event") ?: "", "tamper") &&
	       !strcmp(h_str(j, "what") ?: "", (const char *)arg);
}

/* another root process detaches a link, removes a pin: the daemon says
 * so within a second and puts them back */
static void t_tamper(void **s)
{
	json_object *t = NULL;
	char path[256];
	struct stat st;
	int fd, r;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	stat(env.cg, &st);
	snprintf(path, sizeof(path),
		 "/sys/fs/bpf/relaywatch/%lu/set-1/links/connect4",
		 (unsigned long)st.st_ino);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_link_detach(fd), 0);
	close(fd);
	assert_int_equal(h_wait_events(&env, is_tamper, "detached", 1, &t), 1);
	assert_string_equal(h_str(t, "object"), "connect4");
	assert_true(json_object_get_boolean(json_object_object_get(t,
								   "restored")));
	json_object_put(t);
	r = WEXITSTATUS(h_in_cgroup(&env, connect_to, "127.0.0.2"));
	assert_int_equal(r, EPERM);
	/* a removed pin comes back: enforcement would not outlive the
	 * daemon without it */
	snprintf(path, sizeof(path),
		 "/sys/fs/bpf/relaywatch/%lu/set-1/links/sendmsg4",
		 (unsigned long)st.st_ino);
	assert_int_equal(unlink(path), 0);
	t = NULL;
	assert_int_equal(h_wait_events(&env, is_tamper, "unpinned", 1, &t), 1);
	assert_string_equal(h_str(t, "object"), "sendmsg4");
	json_object_put(t);
	assert_int_equal(access(path, F_OK), 0);
}

static char out_cg[700];

static int escape(void *arg)
{
	FILE *f;

	(void)arg;
	usleep(100000);
	f = fopen(out_cg, "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", getpid());
	return fclose(f) ? 2 : 0;
}

static bool is_escape(json_object *j, void *arg)
{
	return !strcmp(h_str(j, "event") ?: "", "cgroup_escape") &&
	       h_int(j, "pid") == *(long *)arg;
}

/* a process that moves itself out of the watched cgroup is reported */
static void t_cgroup_escape(void **s)
{
	char dir[600];
	json_object *e = NULL;
	long pid;
	int st;

	(void)s;
	if (h_missing())
		skip();
	snprintf(dir, sizeof(dir), "%s-out", env.cg);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(out_cg, sizeof(out_cg), "%s/cgroup.procs", dir);
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	pid = fork();
	if (pid == 0) {
		if (h_join(&env))
			_exit(120);
		_exit(escape(NULL));
	}
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(h_wait_events(&env, is_escape, &pid, 1, &e), 1);
	assert_string_equal(h_str(e, "exe") ?: "", self);
	assert_int_equal(h_int(e, "moved_by"), pid);
	assert_non_null(strstr(h_str(e, "to_cgroup") ?: "", "-out"));
	json_object_put(e);
	rmdir(dir);
}

/* on_daemon_loss: deny-alerts: with no daemon reading for the set time,
 * what would be alerted is denied; a daemon back, alerted again */
static void t_deadman(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(h_write_policy(&env,
		"mode: enforce\n"
		"on_daemon_loss: deny-alerts\n"
		"daemon_loss_after: 1\n"
		"rules:\n"
		"  - name: watch-five\n"
		"    match: {cidr: [127.0.0.5/32]}\n"
		"    action: alert\n"), 0);
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_to,
						 "127.0.0.5")), ECONNREFUSED);
	kill9();
	/* within the grace time the alert still passes */
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_to,
						 "127.0.0.5")), ECONNREFUSED);
	usleep(1300000);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_to,
						 "127.0.0.5")), EPERM);
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_to,
						 "127.0.0.5")), ECONNREFUSED);
	assert_true(h_wait_log(&env, "\"daemon_loss\":true"));
	h_write_policy(&env, policy);
}

/* detach leaves nothing: no program on the cgroup, no pin; a daemon
 * still running is stopped first */
static void t_detach(void **s)
{
	struct stat st;
	char dir[64];
	int code;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	stat(env.cg, &st);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/relaywatch/%lu",
		 (unsigned long)st.st_ino);
	assert_int_equal(access(dir, F_OK), 0);
	code = sh("%s detach --cgroup %s >/dev/null", RW_BIN, env.cg);
	assert_int_equal(code, 0);
	waitpid(env.daemon, &code, 0);
	env.daemon = 0;
	assert_true(WIFEXITED(code));
	for (int t = BPF_CGROUP_INET_INGRESS; t <= BPF_CGROUP_UDP6_SENDMSG; t++)
		assert_true(h_attached(&env, t) <= 0);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET_SOCK_RELEASE), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_to,
						 "127.0.0.2")), ECONNREFUSED);
	/* nothing left: one line, exit 0 */
	assert_int_equal(sh("%s detach --cgroup %s | grep -q 'nothing pinned'",
			    RW_BIN, env.cg), 0);
}

/* a second daemon on the cgroup refuses, naming the first; a pin
 * directory not relaywatch's is left alone with one sentence; state of a
 * cgroup that is gone is removed with a record */
static void t_bad_states(void **s)
{
	char other[600], dir[128], cmd[1200];
	struct stat st;
	int first;

	(void)s;
	if (h_missing())
		skip();
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	first = env.daemon;
	assert_int_equal(start_with(RW_BIN, NULL), 1);
	snprintf(cmd, sizeof(cmd), "another relaywatch (pid %d) watches", first);
	assert_true(h_wait_log(&env, "\"event\":\"start\"")); /* the first's */
	assert_int_equal(sh("grep -q '%s' %s.err", cmd, env.log), 0);
	env.daemon = first;
	assert_int_equal(sh("%s detach --cgroup %s >/dev/null", RW_BIN, env.cg),
			 0);
	waitpid(first, NULL, 0);
	env.daemon = 0;

	/* a start that fails after adopting (here: --require of a feature
	 * this kernel "refuses") leaves the adopted enforcement in force */
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	kill9();
	setenv("RELAYWATCH_REFUSE", "flow_egress", 1);
	assert_int_equal(start_with(RW_REBUILT, "--require first-bytes"), 1);
	unsetenv("RELAYWATCH_REFUSE");
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_to,
						 "127.0.0.2")), EPERM);
	assert_int_equal(status(), 3);
	assert_int_equal(sh("%s detach --cgroup %s >/dev/null", RW_BIN, env.cg),
			 0);

	/* a set directory that is not relaywatch's */
	stat(env.cg, &st);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/relaywatch/%lu/set-7",
		 (unsigned long)st.st_ino);
	sh("mkdir -p %s", dir);
	assert_int_equal(start_with(RW_BIN, NULL), 1);
	assert_int_equal(sh("grep -q 'set-7 is not relaywatch.s state' %s.err",
			    env.log), 0);
	assert_int_equal(access(dir, F_OK), 0); /* left alone */
	rmdir(dir);

	/* the state of a cgroup removed while pinned */
	snprintf(other, sizeof(other), "%s-gone", env.cg);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(sh("%s run --policy %s --cgroup %s --log /dev/null "
			    "2>/dev/null & pid=$!; sleep 1.5; kill -9 $pid; "
			    "wait $pid 2>/dev/null; true", RW_BIN, env.policy,
			    other), 0);
	stat(other, &st);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/relaywatch/%lu",
		 (unsigned long)st.st_ino);
	assert_int_equal(access(dir, F_OK), 0);
	assert_int_equal(rmdir(other), 0);
	assert_int_equal(start_with(RW_BIN, NULL), 0);
	assert_true(h_wait_log(&env, "\"event\":\"stale\""));
	assert_int_equal(access(dir, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_kill9_keeps_enforcing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(t_restart_cycles, setup,
						teardown),
		cmocka_unit_test_setup_teardown(t_upgrade_swaps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(t_gap_adds_up, setup, teardown),
		cmocka_unit_test_setup_teardown(t_status_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cgroup_escape, setup,
						teardown),
		cmocka_unit_test_setup_teardown(t_deadman, setup, teardown),
		cmocka_unit_test_setup_teardown(t_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_states, setup, teardown),
	};

	if (h_missing()) {
		printf("skipping persist tests: %s\n", h_missing());
		return 0;
	}
	if (!realpath("/proc/self/exe", self))
		return 1;
	return cmocka_run_group_tests_name("persist", tests, NULL, NULL);
}
