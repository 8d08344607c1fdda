// SPDX-License-Identifier: MIT
/*
 * make bench, its second part: what a restart costs a persistent run.
 *   gap       a connect loop to a denied address runs through kill -9 +
 *             restart cycles: connects let through (target: none)
 *   adopt     launch to the start record of a daemon that adopts the
 *             pinned state (reading the ring, policy in force)
 *   ring      with no daemon reading, a burst of matched connects (each
 *             one an event: --dedup-ms 0) fills the ring: how many
 *             seconds of it the ring holds
 * Not a test: it prints numbers and asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "integ/harness.h"
#include "bench_util.h"
#include "kstate.h"
#include "pin.h"
#include "relaywatch.h"

#define CYCLES 30

static struct h_env env;

/* launches a persistent daemon; seconds to its start record, or -1 */
static double start(const char *extra)
{
	int before = h_log_count(&env, "\"event\":\"start\"");
	double t0 = now();
	char cmd[2048];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec build/relaywatch run --policy %s "
		 "--cgroup %s --log %s %s 2>/dev/null", env.policy, env.cg,
		 env.log, extra);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	env.daemon = pid;
	for (int i = 0; i < 10000; i++) {
		if (h_log_count(&env, "\"event\":\"start\"") > before)
			return now() - t0;
		usleep(1000);
	}
	return -1;
}

static void kill9(void)
{
	kill(env.daemon, SIGKILL);
	waitpid(env.daemon, NULL, 0);
	env.daemon = 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the pinned set's counters and ring fill */
static void set_state(__u64 *c, __u64 *used, __u64 *size)
{
	char cgdir[128], setdir[256];
	struct stat st;
	int fd;

	stat(env.cg, &st);
	pin_cgdir(st.st_ino, cgdir, sizeof(cgdir));
	snprintf(setdir, sizeof(setdir), "%s/set-1", cgdir);
	fd = pin_get(setdir, "maps", "counters");
	if (fd >= 0) {
		kstate_counters_fd(fd, c);
		close(fd);
	}
	fd = pin_get(setdir, "maps", "events");
	if (fd >= 0) {
		kstate_ring_fill(fd, used, size);
		close(fd);
	}
}

/* a connect loop inside the cgroup until stop, counting the answers */
struct loop {
	volatile int stop;
	volatile long attempts, eperm, other;
};

static pid_t loop(struct loop *lp, const char *addr, int port)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (h_join(&env))
		_exit(120);
	while (!lp->stop) {
		int r = h_connect(AF_INET, addr, port, SOCK_STREAM);

		lp->attempts++;
		if (r == EPERM)
			lp->eperm++;
		else if (r)
			lp->other++;
	}
	_exit(0);
}

int main(void)
{
	struct loop *lp = mmap(NULL, sizeof(*lp), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double adopt[CYCLES], t0, burst;
	__u64 c0[RW_CNT__MAX] = {}, c1[RW_CNT__MAX] = {}, used = 0, size = 0;
	char policy[256];
	pid_t pid;
	int port;

	if (h_missing()) {
		fprintf(stderr, "bench restart: %s\n", h_missing());
		return 1;
	}
	if (h_setup(&env, "bench-restart"))
		return 1;
	env.persist = true;
	/* nothing listens there: each connect is refused at once, after the
	 * hook has judged it */
	port = 9;
	snprintf(policy, sizeof(policy),
		 "mode: enforce\nrules:\n"
		 "  - name: deny-two\n    match: {cidr: [127.0.0.2/32]}\n"
		 "    action: deny\n"
		 "  - name: hit\n    match: {cidr: [127.0.0.1/32], port: %d}\n"
		 "    action: alert\n", port);
	h_write_policy(&env, policy);

	/* gap: kill -9 + restart under a connect loop */
	memset(lp, 0, sizeof(*lp));
	if (start("") < 0)
		goto out;
	pid = loop(lp, "127.0.0.2", 9);
	for (int i = 0; i < CYCLES; i++) {
		kill9();
		adopt[i] = start("") * 1000;
	}
	usleep(100000);
	lp->stop = 1;
	waitpid(pid, NULL, 0);
	qsort(adopt, CYCLES, sizeof(double), cmp);
	printf("restart gap: %d kill -9 + restart cycles under a connect "
	       "loop: %ld connects, %ld let through (%ld EPERM)\n", CYCLES,
	       lp->attempts, lp->other, lp->eperm);
	printf("launch to adopted, reading and in force: median %.0f ms "
	       "(min %.0f, max %.0f)\n", adopt[CYCLES / 2], adopt[0],
	       adopt[CYCLES - 1]);

	/* ring: a burst with no daemon reading; every connect an event */
	kill9();
	if (start("--dedup-ms 0") < 0)
		goto out;
	kill9();
	set_state(c0, &used, &size);
	memset(lp, 0, sizeof(*lp));
	t0 = now();
	pid = loop(lp, "127.0.0.1", port);
	usleep(2000000);
	lp->stop = 1;
	waitpid(pid, NULL, 0);
	burst = now() - t0;
	set_state(c1, &used, &size);
	{
		double rate = (c1[RW_CNT_MATCHED] - c0[RW_CNT_MATCHED]) / burst;
		double fit = c1[RW_CNT_EMITTED] - c0[RW_CNT_EMITTED];
		double lost = c1[RW_CNT_RB_FULL] - c0[RW_CNT_RB_FULL];
		double per = fit ? used / fit : 0;

		printf("ring: %.0f KiB; a burst of %.0f matched connects/s with "
		       "no daemon reading queued %.0f events (%.0f bytes each) "
		       "and lost %.0f: the ring holds %.1f s of it (%.0f "
		       "events)\n", size / 1024.0, rate, fit, per, lost,
		       per && rate ? size / per / rate : 0,
		       per ? size / per : 0);
	}
	start("");
out:
	h_teardown(&env); /* detaches */
	return 0;
}
