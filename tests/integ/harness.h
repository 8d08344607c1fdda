/* SPDX-License-Identifier: MIT */
/*
 * Integration harness: each test gets a cgroup of its own under the cgroup
 * v2 root, runs the real build/relaywatch daemon attached only there, makes
 * real calls from children placed in that cgroup, reads the JSON log, and
 * removes everything it created. Traffic goes to loopback only.
 */
#ifndef RW_HARNESS_H
#define RW_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "cgroup.h"

#ifndef RW_BIN
#define RW_BIN "build/relaywatch"
#endif

struct h_env {
	char cg[512];        /* test cgroup, absolute */
	char policy[256];    /* policy file */
	char log[256];       /* daemon log */
	pid_t daemon;
	bool persist;        /* h_start: the default (pinned) run, else
			      * --no-persist: SIGTERM detaches */
	int listeners[8];
	int nr_listeners;
};

static inline void h_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* root and cgroup v2 are preconditions: say which is missing */
static inline const char *h_missing(void)
{
	if (geteuid() != 0)
		return "needs root";
	if (!cgroup2_root())
		return "no cgroup v2 mount";
	if (access(RW_BIN, X_OK))
		return "build/relaywatch not built";
	return NULL;
}

static inline int h_setup(struct h_env *e, const char *name)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->cg, sizeof(e->cg), "%s/rw-test-%s-%d", cgroup2_root(),
		 name, getpid());
	snprintf(e->policy, sizeof(e->policy), "/tmp/rw-test-%s-%d.yaml",
		 name, getpid());
	snprintf(e->log, sizeof(e->log), "/tmp/rw-test-%s-%d.jsonl", name,
		 getpid());
	unlink(e->log);
	if (mkdir(e->cg, 0755) && errno != EEXIST) {
		h_fail("mkdir %s: %s", e->cg, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The suite's loopback addresses (tests/net.env): tests name them
 * 127.0.0.N; RW_TEST_NET (a /24 in 127/8, default 127.0.0) moves them.
 * h_ip() moves one address ("127.0.0.N", "::ffff:127.0.0.N"; others as
 * they are); h_fputs_moved() writes text with every "127.0.0." moved.
 */
static inline const char *h_net(void)
{
	const char *n = getenv("RW_TEST_NET");

	return n && !strncmp(n, "127.", 4) ? n : "127.0.0";
}

static inline void h_fputs_moved(const char *text, FILE *f)
{
	const char *p;

	while ((p = strstr(text, "127.0.0."))) {
		fwrite(text, 1, p - text, f);
		fprintf(f, "%s.", h_net());
		text = p + 8;
	}
	fputs(text, f);
}

static inline const char *h_ip(const char *addr)
{
	static char bufs[8][64];
	static int next;
	char *b = bufs[next++ % 8];
	const char *p = strstr(addr, "127.0.0.");

	if (!p)
		return addr;
	snprintf(b, 64, "%.*s%s.%s", (int)(p - addr), addr, h_net(), p + 8);
	return b;
}

static inline int h_write_policy(struct h_env *e, const char *yaml)
{
	FILE *f = fopen(e->policy, "w");

	if (!f)
		return -1;
	h_fputs_moved(yaml, f);
	fclose(f);
	return 0;
}

/* how many log lines hold needle */
static inline int h_log_count(struct h_env *e, const char *needle)
{
	char line[65536];
	int n = 0;
	FILE *f = fopen(e->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static inline bool h_log_has(struct h_env *e, const char *needle)
{
	return h_log_count(e, needle) > 0;
}

/* waits up to 5 s for more than n log lines holding needle */
static inline bool h_wait_more(struct h_env *e, const char *needle, int n)
{
	for (int i = 0; i < 100; i++) {
		if (h_log_count(e, needle) > n)
			return true;
		usleep(50000);
	}
	return false;
}

/* waits up to 5 s for a log line holding needle */
static inline bool h_wait_log(struct h_env *e, const char *needle)
{
	for (int i = 0; i < 100; i++) {
		if (h_log_has(e, needle))
			return true;
		usleep(50000);
	}
	return false;
}

/* starts the daemon with extra args; waits for its start record */
static inline int h_start(struct h_env *e, const char *extra)
{
	char cmd[2048];
	pid_t pid;

	snprintf(cmd, sizeof(cmd),
		 "exec %s run --policy %s --cgroup %s --log %s %s %s 2>>%s.err",
		 RW_BIN, e->policy, e->cg, e->log,
		 e->persist ? "" : "--no-persist", extra ? extra : "", e->log);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	e->daemon = pid;
	/* 2 ms polls: make bench times start-up with this */
	for (int i = 0; i < 5000; i++) {
		int st;

		if (h_log_has(e, "\"event\":\"start\""))
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			h_fail("relaywatch exited early (status %d)", st);
			e->daemon = 0;
			return -1;
		}
		usleep(2000);
	}
	h_fail("relaywatch did not start within 10 s");
	return -1;
}

/* SIGTERM the daemon; returns its exit status (-1 on a signal death) */
static inline int h_stop(struct h_env *e)
{
	int st = 0;

	if (!e->daemon)
		return -1;
	kill(e->daemon, SIGTERM);
	waitpid(e->daemon, &st, 0);
	e->daemon = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* programs still attached to the test cgroup at this attach point */
static inline int h_attached(struct h_env *e, enum bpf_attach_type t)
{
	__u32 ids[16], cnt = 16;
	int fd = open(e->cg, O_RDONLY | O_DIRECTORY), ret;

	if (fd < 0)
		return -1;
	ret = bpf_prog_query(fd, t, 0, NULL, ids, &cnt);
	close(fd);
	return ret ? -1 : (int)cnt;
}

/* kill what is left in the test cgroup (only our children), remove it */
static inline void h_teardown(struct h_env *e)
{
	char path[1200], line[64];
	FILE *f;

	if (e->daemon)
		h_stop(e);
	/* what a persistent run left pinned: never left behind */
	snprintf(path, sizeof(path), "%s detach --cgroup %s >/dev/null", RW_BIN,
		 e->cg);
	if (system(path))
		h_fail("relaywatch detach --cgroup %s failed", e->cg);
	for (int i = 0; i < e->nr_listeners; i++)
		close(e->listeners[i]);
	snprintf(path, sizeof(path), "%s/cgroup.procs", e->cg);
	for (int tries = 0; tries < 50; tries++) {
		bool any = false;

		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			kill(atoi(line), SIGKILL);
			any = true;
		}
		if (f)
			fclose(f);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!any)
			break;
		usleep(20000);
	}
	if (rmdir(e->cg))
		h_fail("rmdir %s: %s", e->cg, strerror(errno));
	unlink(e->policy);
	if (!getenv("RW_KEEP_LOGS")) {
		unlink(e->log);
		snprintf(path, sizeof(path), "%s.err", e->log);
		unlink(path);
	}
}

/* a TCP (or UDP) socket bound on addr:port (0 = any); returns its port */
static inline int h_listen(struct h_env *e, int family, const char *addr,
			   int port, int type)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1;

	addr = h_ip(addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (bind(fd, (void *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 4096))) {
		close(fd);
		return -1;
	}
	getsockname(fd, (void *)&ss, &len);
	e->listeners[e->nr_listeners++] = fd;
	return ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static inline socklen_t h_sockaddr(struct sockaddr_storage *ss, int family,
				   const char *addr, int port)
{
	memset(ss, 0, sizeof(*ss));
	addr = h_ip(addr);
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (void *)ss;

	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &a6->sin6_addr);
	return sizeof(*a6);
}

/* connect(); 0 or the errno */
static inline int h_connect(int family, const char *addr, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = h_sockaddr(&ss, family, addr, port);
	int fd = socket(family, type | SOCK_CLOEXEC, 0), ret;

	ret = connect(fd, (void *)&ss, len) ? errno : 0;
	close(fd);
	return ret;
}

static inline int h_join(struct h_env *e)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", e->cg);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", getpid());
	return fclose(f);
}

/*
 * Runs fn in a child inside the test cgroup and returns its wait status.
 * fn's return value becomes the exit code.
 */
static inline int h_in_cgroup(struct h_env *e, int (*fn)(void *), void *arg)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (h_join(e))
			_exit(120);
		_exit(fn(arg));
	}
	waitpid(pid, &st, 0);
	return st;
}

/* waits until the log holds n records for which match() is true */
static inline int h_wait_events(struct h_env *e,
				bool (*match)(json_object *, void *),
				void *arg, int n, json_object **first)
{
	for (int tries = 0; tries < 100; tries++) {
		char line[65536];
		int got = 0;
		FILE *f = fopen(e->log, "r");

		while (f && fgets(line, sizeof(line), f)) {
			json_object *j = json_tokener_parse(line);

			if (j && match(j, arg)) {
				if (!got && first)
					*first = json_object_get(j);
				got++;
			}
			json_object_put(j);
			if (got >= n)
				break;
		}
		if (f)
			fclose(f);
		if (got >= n)
			return got;
		if (first && *first) {
			json_object_put(*first);
			*first = NULL;
		}
		usleep(50000);
	}
	return -1;
}

static inline const char *h_str(json_object *j, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(j, k, &v) ? json_object_get_string(v)
						   : NULL;
}

static inline long long h_int(json_object *j, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(j, k, &v) ? json_object_get_int64(v)
						   : -1;
}

#endif
