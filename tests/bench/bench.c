// SPDX-License-Identifier: MIT
/*
 * make bench: the cost of relaywatch on the calls it hooks, as ratios
 * against a baseline measured in the same run. Workloads run in a cgroup of
 * their own against loopback: connect()+close() to a listener, unconnected
 * UDP sendto(), and getppid() (any syscall: the price of the sys_exit hook
 * that a kill rule needs). Configurations alternate within each round and
 * the medians are compared:
 *   base   nothing attached
 *   miss   10,000 CIDR rules loaded, destination not listed (the common case)
 *   hit    the destination matches an alert rule (lookups + batched events)
 *   kill   as miss, plus a kill rule, so the sys_exit hook is attached
 *   full   etc/policy.yaml: the whole embedded intelligence and the home-
 *          country trie (every connect looks its address up there)
 * It also reports the daemon's start-up time (launch to enforcing, with
 * the full policy) and its resident memory after start.
 * Not a test: it prints numbers and asserts nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "integ/harness.h"

#define NR_CIDRS 10000
#define RULES 60

enum work { W_CONNECT, W_SENDTO, W_GETPPID, W__N };
enum conf { C_BASE, C_MISS, C_HIT, C_KILL, C_FULL, C__N };
static const char *wname[] = { "connect+close", "udp sendto", "getppid" };

static struct h_env env;
static int tport, uport;
static double secs = 1.0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *acceptor(void *arg)
{
	int fd = *(int *)arg;

	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
	return NULL;
}

/* ops per second of one workload, run in a child inside the cgroup */
static double measure(enum work w)
{
	int p[2], st;
	double ops = 0;
	pid_t pid;

	if (pipe(p))
		return 0;
	pid = fork();
	if (pid == 0) {
		struct sockaddr_storage ss;
		socklen_t len;
		double t0, t;
		long n = 0, errs = 0;
		int fd = -1;

		if (h_join(&env))
			_exit(1);
		len = h_sockaddr(&ss, AF_INET, "127.0.0.1",
				 w == W_SENDTO ? uport : tport);
		if (w == W_SENDTO)
			fd = socket(AF_INET, SOCK_DGRAM, 0);
		t0 = now();
		do {
			for (int i = 0; i < 256; i++, n++) {
				if (w == W_CONNECT) {
					/* RST on close: no TIME_WAIT, so the
					 * ephemeral ports never run out */
					struct linger lg = { 1, 0 };

					fd = socket(AF_INET, SOCK_STREAM, 0);
					setsockopt(fd, SOL_SOCKET, SO_LINGER,
						   &lg, sizeof(lg));
					if (connect(fd, (void *)&ss, len))
						errs++;
					close(fd);
				} else if (w == W_SENDTO) {
					sendto(fd, "x", 1, 0, (void *)&ss, len);
				} else {
					syscall(SYS_getppid);
				}
			}
			t = now();
		} while (t - t0 < secs);
		/* a failing call is cheaper than a real one: count none */
		ops = errs ? -1 : n / (t - t0);
		if (write(p[1], &ops, sizeof(ops)) != sizeof(ops))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &ops, sizeof(ops)) != sizeof(ops))
		ops = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	return ops;
}

/* 60 rules sharing 10,000 CIDRs in 10/8 and 2001:db8::/32; optionally an
 * alert rule for the loopback target and a kill rule for an unused range */
static void write_policy(enum conf c)
{
	FILE *f = fopen(env.policy, "w");
	unsigned seed = 42;

	if (c == C_FULL) {
		FILE *in = fopen("etc/policy.yaml", "r");
		char buf[4096];
		size_t n;

		while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, f);
		if (in)
			fclose(in);
		fclose(f);
		return;
	}
	fprintf(f, "mode: enforce\nrules:\n");
	if (c == C_HIT)
		fprintf(f, "  - name: hit\n    match: {cidr: [127.0.0.1/32]}\n"
			   "    action: alert\n");
	if (c == C_KILL)
		fprintf(f, "  - name: kill\n    match: {cidr: [192.0.2.0/24]}\n"
			   "    action: kill\n");
	for (int r = 0; r < RULES; r++) {
		fprintf(f, "  - name: r%d\n    match:\n      cidr:\n", r);
		for (int i = r; i < NR_CIDRS; i += RULES) {
			unsigned v = rand_r(&seed);

			if (i % 4 == 3)
				fprintf(f, "        - \"2001:db8:%x:%x::/64\"\n",
					v & 0xffff, (v >> 16) & 0xffff);
			else
				fprintf(f, "        - 10.%u.%u.0/24\n",
					v & 0xff, (v >> 8) & 0xff);
		}
		fprintf(f, "    action: %s\n", r % 2 ? "deny" : "alert");
	}
	fclose(f);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	double res[C__N][W__N][64], start_ms[64], rss[64];
	pthread_t t;
	int lfd;

	if (h_missing()) {
		fprintf(stderr, "bench: %s\n", h_missing());
		return 1;
	}
	if (rounds < 1 || rounds > 64)
		rounds = 5;
	if (getenv("BENCH_SECS"))
		secs = atof(getenv("BENCH_SECS"));
	if (h_setup(&env, "bench"))
		return 1;
	tport = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_STREAM);
	uport = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_DGRAM);
	lfd = env.listeners[0];
	pthread_create(&t, NULL, acceptor, &lfd);

	printf("relaywatch bench: %d rounds x %.1f s per workload, %d CIDRs in "
	       "%d rules\n", rounds, secs, NR_CIDRS, RULES);
	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < C__N; c++) {
			if (c != C_BASE) {
				double t0;

				write_policy(c);
				t0 = now();
				if (h_start(&env, NULL))
					goto out;
				if (c == C_FULL) {
					start_ms[r] = (now() - t0) * 1000;
					rss[r] = rss_kb(env.daemon) / 1024.0;
				}
			}
			for (int w = 0; w < W__N; w++)
				res[c][w][r] = measure(w);
			if (c != C_BASE)
				h_stop(&env);
			unlink(env.log);
		}
		fprintf(stderr, "  round %d/%d done\n", r + 1, rounds);
	}
	printf("%-14s %10s %10s %10s %10s %10s\n", "ops/s (median)",
	       "base", "miss", "hit", "kill", "full");
	for (int w = 0; w < W__N; w++) {
		double med[C__N];

		for (int c = 0; c < C__N; c++) {
			qsort(res[c][w], rounds, sizeof(double), cmp);
			med[c] = res[c][w][rounds / 2];
		}
		printf("%-14s %10.0f %10.0f %10.0f %10.0f %10.0f\n", wname[w],
		       med[C_BASE], med[C_MISS], med[C_HIT], med[C_KILL],
		       med[C_FULL]);
		printf("%-14s %10s %10.3f %10.3f %10.3f %10.3f\n", "  ratio", "",
		       med[C_BASE] / med[C_MISS], med[C_BASE] / med[C_HIT],
		       med[C_BASE] / med[C_KILL], med[C_BASE] / med[C_FULL]);
	}
	qsort(start_ms, rounds, sizeof(double), cmp);
	qsort(rss, rounds, sizeof(double), cmp);
	printf("ratio = base ops/s / configuration ops/s (1.00 = no cost)\n");
	printf("start-up to enforcing, full policy: median %.0f ms "
	       "(min %.0f, max %.0f)\n", start_ms[rounds / 2], start_ms[0],
	       start_ms[rounds - 1]);
	printf("daemon resident memory after start: median %.1f MiB\n",
	       rss[rounds / 2]);
out:
	h_teardown(&env);
	return 0;
}
