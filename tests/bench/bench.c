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
#include <sys/resource.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>

#include <netinet/tcp.h>
#include <poll.h>

#include "integ/harness.h"
#include "bench_util.h"
#include "unit/wire_cases.h"

#define NR_CIDRS 10000
#define RULES 60

enum work { W_CONNECT, W_SENDTO, W_GETPPID, W_BULK, W_DNS, W__N };
enum conf { C_BASE, C_MISS, C_HIT, C_KILL, C_FULL, C__N };
static const char *wname[] = { "connect+close", "udp sendto", "getppid",
				"tcp bulk MB/s", "dns answers" };

static struct h_env env;   /* relaywatch attached here */
static struct h_env plain; /* nothing attached: the baseline */
static int tport, uport, bport;
static double secs = 1.0 / 3;
/* base/config pairs per workload and round, alternating which runs first:
 * short, many and interleaved, so drift of this shared VM falls on both */
#define PAIRS 6

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

/* the bulk sink: reads and discards */
static void *sink(void *arg)
{
	static char buf[1 << 16];
	int fd = *(int *)arg;

	for (;;) {
		int c = accept(fd, NULL, NULL);

		while (c >= 0 && read(c, buf, sizeof(buf)) > 0)
			;
		if (c >= 0)
			close(c);
	}
	return NULL;
}

/* one DNS response: api.openai.com A 127.0.0.1, TTL 60 */
static size_t dns_answer(__u8 *p)
{
	static const __u8 q[] = "\3api\6openai\3com";
	size_t n = 0;

	memcpy(p, "\x12\x34\x81\x80\0\1\0\1\0\0\0\0", 12);
	n = 12;
	memcpy(p + n, q, sizeof(q));
	n += sizeof(q);
	memcpy(p + n, "\0\1\0\1\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\x7f\0\0\1", 20);
	return n + 20;
}

/*
 * Answers per second from 127.53.53.53:53 (outside the cgroup) to a
 * receiver inside it: the ingress program parses every one on the way in.
 */
static double measure_dns(struct h_env *cg)
{
	struct sockaddr_storage to, from;
	socklen_t tl, fl;
	int rfd, sfd, p[2], port, one = 1;
	__u8 pkt[128];
	size_t n = dns_answer(pkt);
	double t0, t;
	long sent = 0;
	pid_t pid;
	char c;

	if (pipe(p))
		return 0;
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t al = sizeof(a);
		char buf[512];

		if (h_join(cg))
			_exit(1);
		rfd = socket(AF_INET, SOCK_DGRAM, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(rfd, (void *)&a, sizeof(a)))
			_exit(1);
		getsockname(rfd, (void *)&a, &al);
		port = ntohs(a.sin_port);
		if (write(p[1], &port, sizeof(port)) != sizeof(port))
			_exit(1);
		for (;;)
			if (read(rfd, buf, sizeof(buf)) < 0)
				_exit(0);
	}
	if (read(p[0], &port, sizeof(port)) != sizeof(port))
		return 0;
	close(p[0]);
	close(p[1]);
	sfd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(sfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	fl = h_sockaddr(&from, AF_INET, "127.53.53.53", 53);
	tl = h_sockaddr(&to, AF_INET, "127.0.0.1", port);
	if (bind(sfd, (void *)&from, fl)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	t0 = now();
	do {
		for (int i = 0; i < 64; i++, sent++)
			sendto(sfd, pkt, n, 0, (void *)&to, tl);
		t = now();
	} while (t - t0 < secs);
	(void)c;
	close(sfd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return sent / (t - t0);
}

/* ops per second of one workload, run in a child inside the cgroup */
static double measure(enum work w, struct h_env *cg)
{
	int p[2], st;
	double ops = 0;
	pid_t pid;

	if (w == W_DNS)
		return measure_dns(cg);
	if (pipe(p))
		return 0;
	pid = fork();
	if (pid == 0) {
		static char chunk[1 << 16];
		struct sockaddr_storage ss;
		socklen_t len;
		double t0, t;
		long n = 0, errs = 0;
		int fd = -1;

		if (h_join(cg))
			_exit(1);
		len = h_sockaddr(&ss, AF_INET, "127.0.0.1",
				 w == W_SENDTO ? uport : w == W_BULK ? bport : tport);
		if (w == W_SENDTO)
			fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (w == W_BULK) {
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(fd, (void *)&ss, len))
				_exit(1);
		}
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
				} else if (w == W_BULK) {
					/* counted in 64 KiB writes */
					if (write(fd, chunk, sizeof(chunk)) < 0)
						errs++;
				} else {
					syscall(SYS_getppid);
				}
			}
			t = now();
		} while (t - t0 < secs);
		/* a failing call is cheaper than a real one: count none */
		ops = errs ? -1 : n / (t - t0);
		if (w == W_BULK)
			ops /= 16; /* MiB/s */
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
		char line[4096];

		/* its intel: directory is relative to etc/, not to the copy */
		while (in && fgets(line, sizeof(line), in))
			if (strncmp(line, "intel:", 6))
				fputs(line, f);
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

/* per-call cost of the daemon's programs, from the kernel's own run-time
 * statistics (enabled through a BPF_ENABLE_STATS fd held by this run) */
static const char *const progs[] = { "connect4", "sendmsg4", "flow_egress",
				     "dns_ingress", "sys_exit" };
#define NPROGS (sizeof(progs) / sizeof(progs[0]))

static void prog_costs(double *ns)
{
	__u32 id = 0;

	for (size_t i = 0; i < NPROGS; i++)
		ns[i] = 0;
	while (bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			for (size_t i = 0; i < NPROGS; i++)
				if (!strcmp(info.name, progs[i]) && info.run_cnt)
					ns[i] = (double)info.run_time_ns /
						info.run_cnt;
		close(fd);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* a country rule of the five largest countries (the kernel finds the
 * country in its table: no prefix per country): launch to enforcing with
 * nothing pinned (the programs verified: a first start), with the
 * pinned set adopted (a restart, an upgrade of the same build), and
 * SIGHUP to the reload record */
static void five_countries(int rounds)
{
	double cold[64], warm[64] = { 0 }, reload[64];
	char cmd[1200];

	h_write_policy(&env, "mode: enforce\nrules:\n  - name: five\n"
		       "    match: {country: [US, DE, JP, GB, SG]}\n"
		       "    action: alert\n");
	for (int r = 0; r < rounds; r++) {
		double t0;

		usleep(500000); /* the last daemon's maps freed first */
		t0 = now();
		if (h_start(&env, NULL))
			return;
		cold[r] = (now() - t0) * 1000;
		t0 = now();
		kill(env.daemon, SIGHUP);
		h_wait_log(&env, "\"event\":\"reload\"");
		reload[r] = (now() - t0) * 1000;
		h_stop(&env);
		unlink(env.log);
	}
	env.persist = true;
	for (int r = -1; r < rounds; r++) {
		double t0 = now();

		if (h_start(&env, NULL))
			break;
		if (r >= 0) /* the first one made the set */
			warm[r] = (now() - t0) * 1000;
		h_stop(&env);
		unlink(env.log);
	}
	env.persist = false;
	snprintf(cmd, sizeof(cmd), "%s detach --cgroup %s >/dev/null", RW_BIN,
		 env.cg);
	if (system(cmd))
		fprintf(stderr, "bench: %s failed\n", cmd);
	qsort(cold, rounds, sizeof(double), cmp);
	qsort(warm, rounds, sizeof(double), cmp);
	qsort(reload, rounds, sizeof(double), cmp);
	printf("five-country policy: start-up to enforcing median %.0f ms "
	       "(min %.0f, max %.0f) with nothing pinned, %.0f ms (min %.0f, "
	       "max %.0f) adopting the pinned set; reload median %.0f ms\n",
	       cold[rounds / 2], cold[0], cold[rounds - 1], warm[rounds / 2],
	       warm[0], warm[rounds - 1], reload[rounds / 2]);
}

/* one client in the cgroup: a ClientHello naming api.openai.com (split
 * after 3 bytes, or whole), then the time until its socket fails; -1
 * when it did not fail within 5 s (a timeout, not a reset) */
static double ttf_once(int port, int split)
{
	static struct pkt hello;
	int p[2], st, one = 1;
	double ms = -1;
	pid_t pid;

	if (!hello.n)
		c_tls13(&hello);
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct sockaddr_storage ss;
		socklen_t len = h_sockaddr(&ss, AF_INET, "127.0.0.1", port);
		struct pollfd pf;
		char b[64];
		double t0;
		int fd;

		if (h_join(&env))
			_exit(1);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (void *)&ss, len))
			_exit(1);
		t0 = now();
		if (split) {
			if (write(fd, hello.d, 3) < 0 ||
			    write(fd, hello.d + 3, hello.n - 3) < 0)
				_exit(1);
		} else if (write(fd, hello.d, hello.n) < 0) {
			_exit(1);
		}
		pf = (struct pollfd){ .fd = fd, .events = POLLIN };
		ms = -1;
		if (poll(&pf, 1, 5000) == 1 && read(fd, b, sizeof(b)) < 0)
			ms = (now() - t0) * 1000;
		if (write(p[1], &ms, sizeof(ms)) != sizeof(ms))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &ms, sizeof(ms)) != sizeof(ms))
		ms = -1;
	close(p[0]);
	waitpid(pid, &st, 0);
	return ms;
}

/* a deny at the first bytes: how long until the caller's call fails (the
 * daemon resets the flow), a hello in one write and split over two */
static void deny_ttf(void)
{
	double t[2][40];
	int n = 40, port = bport; /* the sink: holds a connection open */

	h_write_policy(&env, "mode: enforce\nrules:\n  - name: deny-openai\n"
		       "    match: {domain: api.openai.com}\n"
		       "    action: deny\n");
	if (h_start(&env, NULL))
		return;
	for (int split = 0; split < 2; split++)
		for (int i = 0; i < n; i++)
			t[split][i] = ttf_once(port, split);
	h_stop(&env);
	unlink(env.log);
	for (int split = 0; split < 2; split++) {
		int fails = 0;

		for (int i = 0; i < n; i++)
			if (t[split][i] < 0) {
				t[split][i] = 5000;
				fails++;
			}
		qsort(t[split], n, sizeof(double), cmp);
		printf("first-bytes deny, hello %s: the caller's call failed "
		       "after median %.2f ms (max %.2f), %d of %d waited for "
		       "a 5 s timeout\n", split ? "split 3 + rest" : "whole",
		       t[split][n / 2], t[split][n - 1], fails, n);
	}
}

/* memory to load a big intelligence file: 140,000 CIDR entries (12 MB)
 * through `check --intel`, the child's peak RSS against the file's size */
static void intel_memory(void)
{
	const char *path = "/tmp/rw-bench-intel.yaml";
	FILE *f = fopen(path, "w");
	struct rusage ru;
	struct stat st;
	long base;
	int status;
	pid_t pid;

	if (!f)
		return;
	fprintf(f, "version: 1\nentries:\n");
	for (int i = 0; i < 140000; i++)
		fprintf(f, "  - {cidr: %d.%d.%d.0/24, category: ai-relay, "
			"provider: Relay %d, confidence: likely}\n",
			11 + (i >> 16), (i >> 8) & 255, i & 255, i % 50);
	fclose(f);
	for (int with = 0; with < 2; with++) {
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execl(RW_BIN, RW_BIN, "check", "11.0.0.1", with ? "--intel" :
			      NULL, path, (char *)NULL);
			_exit(127);
		}
		wait4(pid, &status, 0, &ru);
		if (!with) {
			base = ru.ru_maxrss;
			continue;
		}
		stat(path, &st);
		printf("intelligence file of %.1f MB (140,000 CIDRs): peak RSS "
		       "%.1f MB, %.1f MB over the %.1f MB without it (%.1fx "
		       "the file)\n", st.st_size / 1e6, ru.ru_maxrss / 1024.0,
		       (ru.ru_maxrss - base) / 1024.0, base / 1024.0,
		       ru.ru_maxrss * 1024.0 / st.st_size);
	}
	unlink(path);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	static double ratio[C__N][W__N][PAIRS * 64], ops[C__N][W__N][PAIRS * 64];
	double start_ms[64], rss[64], cost[C__N][NPROGS][64] = {};
	pthread_t t;
	int lfd, bfd, n = 0, stats_fd;
	double hit_cpu = 0, hit_made = 0;

	if (h_missing()) {
		fprintf(stderr, "bench: %s\n", h_missing());
		return 1;
	}
	if (rounds < 1 || rounds > 64)
		rounds = 5;
	if (getenv("BENCH_SECS"))
		secs = atof(getenv("BENCH_SECS"));
	if (h_setup(&env, "bench") || h_setup(&plain, "bench-base"))
		return 1;
	tport = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_STREAM);
	uport = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_DGRAM);
	bport = h_listen(&env, AF_INET, "127.0.0.1", 0, SOCK_STREAM);
	lfd = env.listeners[0];
	bfd = env.listeners[2];
	pthread_create(&t, NULL, acceptor, &lfd);
	pthread_create(&t, NULL, sink, &bfd);

	/* BENCH_ONLY=ttf: only the time to failure of a first-bytes deny */
	if (getenv("BENCH_ONLY") && !strcmp(getenv("BENCH_ONLY"), "ttf")) {
		deny_ttf();
		goto out;
	}
	/* BENCH_ONLY=countries: only the five-country start-up and reload */
	if (getenv("BENCH_ONLY") && !strcmp(getenv("BENCH_ONLY"), "countries")) {
		five_countries(rounds);
		goto out;
	}
	printf("relaywatch bench: %d rounds x %d pairs x %.2f s per workload, "
	       "%d CIDRs in %d rules\n", rounds, PAIRS, secs, NR_CIDRS, RULES);
	for (int r = 0; r < rounds; r++) {
		for (int c = C_MISS; c < C__N; c++) {
			double t0;

			write_policy(c);
			/* the last daemon's maps are freed by kernel workers:
			 * let that finish before timing a start-up */
			if (c == C_FULL)
				usleep(500000);
			t0 = now();
			if (h_start(&env, NULL))
				goto out;
			if (c == C_FULL) {
				start_ms[r] = (now() - t0) * 1000;
				rss[r] = rss_kb(env.daemon) / 1024.0;
			}
			for (int w = 0; w < W__N; w++) {
				double c0 = cpu_s(env.daemon), made = 0;

				for (int k = 0; k < PAIRS; k++) {
					double b, x;

					if (k & 1) {
						x = measure(w, &env);
						b = measure(w, &plain);
					} else {
						b = measure(w, &plain);
						x = measure(w, &env);
					}
					ops[C_BASE][w][PAIRS * r + k] = b;
					ops[c][w][PAIRS * r + k] = x;
					ratio[c][w][PAIRS * r + k] =
						x > 0 ? b / x : 0;
					made += x * secs;
				}
				/* every connect of "hit" is a match */
				if (c == C_HIT && w == W_CONNECT && made > 0) {
					hit_cpu += cpu_s(env.daemon) - c0;
					hit_made += made;
				}
			}
			/* run-time statistics cost a clock read per program
			 * run: taken in a pass of their own, after the pairs */
			stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
			if (stats_fd >= 0) {
				double ns[NPROGS];

				/* counted only while stats are on */
				for (int w = 0; w < W__N; w++)
					measure(w, &env);
				prog_costs(ns);
				for (size_t i = 0; i < NPROGS; i++)
					cost[c][i][r] = ns[i];
				close(stats_fd);
			}
			h_stop(&env);
			unlink(env.log);
		}
		fprintf(stderr, "  round %d/%d done\n", r + 1, rounds);
	}
	n = PAIRS * rounds;
	printf("%-14s %10s %10s %10s %10s %10s\n", "median",
	       "base", "miss", "hit", "kill", "full");
	for (int w = 0; w < W__N; w++) {
		double med[C__N], rat[C__N];

		for (int c = 0; c < C__N; c++) {
			qsort(ops[c][w], n, sizeof(double), cmp);
			med[c] = ops[c][w][n / 2];
			qsort(ratio[c][w], n, sizeof(double), cmp);
			rat[c] = ratio[c][w][n / 2];
		}
		printf("%-14s %10.0f %10.0f %10.0f %10.0f %10.0f\n", wname[w],
		       med[C_BASE], med[C_MISS], med[C_HIT], med[C_KILL],
		       med[C_FULL]);
		printf("%-14s %10s %10.3f %10.3f %10.3f %10.3f\n", "  ratio", "",
		       rat[C_MISS], rat[C_HIT], rat[C_KILL], rat[C_FULL]);
	}
	if (cost[C_MISS][0][0] > 0) {
		printf("ns per call (kernel run-time stats, median of rounds)\n");
		for (size_t i = 0; i < NPROGS; i++) {
			double m[C__N] = {};

			for (int c = C_MISS; c < C__N; c++) {
				qsort(cost[c][i], rounds, sizeof(double), cmp);
				m[c] = cost[c][i][rounds / 2];
			}
			printf("  %-12s %10s %10.0f %10.0f %10.0f %10.0f\n",
			       progs[i], "", m[C_MISS], m[C_HIT], m[C_KILL],
			       m[C_FULL]);
		}
	} else {
		printf("ns per call: unavailable (BPF_ENABLE_STATS: %s)\n",
		       strerror(errno));
	}
	if (hit_made > 0)
		printf("daemon CPU in \"hit\" (every connect an alert match): "
		       "%.0f ms per 10,000 matched connects (%.0f connects)\n",
		       hit_cpu * 1000 * 10000 / hit_made, hit_made);
	qsort(start_ms, rounds, sizeof(double), cmp);
	qsort(rss, rounds, sizeof(double), cmp);
	printf("ratio = median over pairs of base ops/s / configuration ops/s "
	       "(1.00 = no cost)\n");
	printf("start-up to enforcing, full policy: median %.0f ms "
	       "(min %.0f, max %.0f)\n", start_ms[rounds / 2], start_ms[0],
	       start_ms[rounds - 1]);
	printf("daemon resident memory after start: median %.1f MiB\n",
	       rss[rounds / 2]);
	five_countries(rounds);
	deny_ttf();
	intel_memory();
out:
	h_teardown(&env);
	h_teardown(&plain);
	return 0;
}
