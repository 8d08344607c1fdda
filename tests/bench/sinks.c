// SPDX-License-Identifier: MIT
/*
 * make bench, the daemon's side: how many records per second it writes,
 * with full attribution (exe, SHA-256, command line, parents), for each
 * set of sinks, before it falls behind; and its CPU and memory at 1k and
 * 10k matched events per second. A child in the test cgroup connects to
 * a loopback port nobody listens on, which an alert rule matches; with
 * --dedup-ms 0 every connect is a record. Rates are paced in 1 ms steps.
 * "Kept up" means: the log holds a connect record for every connect, and
 * the kernel lost nothing (no `lost` record). Prints numbers, asserts
 * nothing. Sinks:
 *   file      JSON lines to the log file (the default)
 *   +syslog   and RFC 5424 datagrams to a unix socket this bench drains
 *   +metrics  and the Prometheus sink (scraped once a second)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "integ/harness.h"
#include "bench_util.h"
#include "util.h"

static struct h_env env;
static const char *sock_path = "/tmp/rw-bench-syslog.sock";
static volatile int stop_drain;
static int mport;

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];
	struct timeval tv = { .tv_usec = 100000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!stop_drain)
		if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EAGAIN)
			break;
	return NULL;
}

struct pace { int rate; double secs; };

/* in the cgroup: rate connects per second for secs; the count made */
static int paced(void *arg)
{
	const struct pace *p = arg;
	double t0 = now(), end = t0 + p->secs;
	long done = 0;

	while (now() < end) {
		long due = (long)((now() - t0) * p->rate);

		while (done < due) {
			h_connect(AF_INET, "127.0.0.9", 9, SOCK_STREAM);
			done++;
		}
		usleep(1000);
	}
	while (done < (long)(p->rate * p->secs)) {
		h_connect(AF_INET, "127.0.0.9", 9, SOCK_STREAM);
		done++;
	}
	return 0;
}

static void scrape(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null "
		 "http://127.0.0.1:%d/metrics", mport);
	if (system(cmd))
		fprintf(stderr, "bench: scrape failed\n");
}

/* one run: rate for secs; whether the daemon kept up, its CPU share and
 * RSS */
static int run(const char *sinks, int rate, double secs, double *cpu,
	       double *us_per_rec, long *rss)
{
	struct pace p = { rate, secs };
	char extra[256];
	double c0, t0, used;
	int want = (int)(rate * secs), got;
	bool lost;

	snprintf(extra, sizeof(extra), "--dedup-ms 0%s%s",
		 strstr(sinks, "syslog") ? " --syslog=unix:" : "",
		 strstr(sinks, "syslog") ? sock_path : "");
	if (strstr(sinks, "metrics"))
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 " --metrics 127.0.0.1:%d", mport);
	unlink(env.log);
	if (h_start(&env, extra))
		return -1;
	c0 = cpu_s(env.daemon);
	t0 = now();
	if (strstr(sinks, "metrics")) {
		pid_t k = fork();

		if (k == 0) {
			for (int i = 0; i < (int)secs + 2; i++) {
				scrape();
				sleep(1);
			}
			_exit(0);
		}
		h_in_cgroup(&env, paced, &p);
		waitpid(k, NULL, 0);
	} else {
		h_in_cgroup(&env, paced, &p);
	}
	/* what the paced loop made, read when the log has caught up */
	h_wait_more(&env, "\"event\":\"connect\"", want - 1);
	/* the daemon's CPU over the events and its catching up with them */
	used = cpu_s(env.daemon) - c0;
	*cpu = used / (now() - t0);
	*us_per_rec = used * 1e6 / want;
	*rss = rss_kb(env.daemon);
	got = h_log_count(&env, "\"event\":\"connect\"");
	lost = h_log_has(&env, "\"event\":\"lost\"");
	if (getenv("BENCH_DEBUG"))
		fprintf(stderr, "%s %d/s: %d of %d recorded%s\n", sinks, rate, got, want, lost ? ", lost" : "");
	h_stop(&env);
	return got >= want && !lost;
}

int main(int argc, char **argv)
{
	static const char *const sinks[] = { "file", "file+syslog",
					     "file+metrics" };
	static const int ramp[] = { 1000, 2000, 5000, 10000, 20000, 40000 };
	double secs = argc > 1 ? atof(argv[1]) : 3;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	pthread_t t;
	int sfd;

	if (h_missing()) {
		fprintf(stderr, "bench_sinks: %s\n", h_missing());
		return 1;
	}
	if (h_setup(&env, "bench-sinks") || h_write_policy(&env,
		"mode: enforce\nrules:\n  - name: watch\n"
		"    match: {cidr: [127.0.0.9/32]}\n    action: alert\n"))
		return 1;
	unlink(sock_path);
	strcpy(un.sun_path, sock_path);
	sfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(sfd, (void *)&un, sizeof(un)))
		return 1;
	pthread_create(&t, NULL, drain, &sfd);
	mport = 20000 + getpid() % 20000;

	printf("daemon throughput by sink (%.0f s per step, --dedup-ms 0, "
	       "every record attributed)\n", secs);
	printf("%-14s %12s %10s %10s %12s %12s\n", "sinks", "kept up to/s",
	       "CPU @1k/s", "CPU @10k/s", "us/rec @10k", "RSS @10k MiB");
	for (size_t s = 0; s < ARRAY_SIZE(sinks); s++) {
		double cpu, us, cpu1k = 0, cpu10k = 0, us10k = 0;
		long rss, rss10k = 0;
		bool behind = false;
		int best = 0;

		/* up the ramp until it falls behind, and at least to 10k/s */
		for (size_t i = 0; i < ARRAY_SIZE(ramp); i++) {
			int ok = run(sinks[s], ramp[i], secs, &cpu, &us, &rss);

			if (ok < 0)
				goto out;
			if (ramp[i] == 1000)
				cpu1k = cpu;
			if (ramp[i] == 10000) {
				cpu10k = cpu;
				us10k = us;
				rss10k = rss;
			}
			behind |= !ok;
			if (!behind)
				best = ramp[i];
			if (behind && ramp[i] >= 10000)
				break;
		}
		printf("%-14s %12d %9.1f%% %9.1f%% %12.1f %12.1f\n", sinks[s],
		       best, cpu1k * 100, cpu10k * 100, us10k, rss10k / 1024.0);
	}
	printf("kept up: the highest rate with every connect recorded and "
	       "nothing lost; CPU: the daemon's user+system time from the "
	       "step's start until its log caught up, over that time (100%% "
	       "= one core); us/rec: that time per record\n");
out:
	stop_drain = 1;
	pthread_join(t, NULL);
	close(sfd);
	unlink(sock_path);
	h_teardown(&env);
	return 0;
}
