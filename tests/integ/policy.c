// SPDX-License-Identifier: MIT
/* The policy language decided in the kernel: overseas by country (real
 * public addresses inside a network namespace this test creates), a binary
 * exemption by path and SHA-256, and SIGHUP reloads that never leave a
 * window without enforcement. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <sched.h>

#include "integ/harness.h"
#include <arpa/inet.h>
#include "geo.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct h_env env;
static char self[PATH_MAX], netns[64], tmpdir[128];
static int port;

/* a command line, run through sh; its exit status */
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int enter_netns(void)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

/* exit code = errno of connect(), 0 on success */
static int connect_in_ns(const char *addr, int p)
{
	if (enter_netns())
		return 120;
	return h_connect(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, p,
			 SOCK_STREAM);
}

/*
 * Each side of the special-purpose blocks most calls go to (private,
 * loopback, CGNAT, link-local, ULA), and their public neighbours, which
 * the country table places overseas (US, ZA).
 */
static const char *const special_in[] = {
	"10.0.0.1", "10.255.255.254", "127.0.0.1", "127.255.255.254",
	"172.16.0.1", "172.31.255.254", "192.168.0.1", "192.168.255.254",
	"100.64.0.1", "100.127.255.254", "169.254.0.1", "169.254.255.254",
	"::1", "fc00::1", "fdff:ffff::1",
};
static const char *const special_out[] = {
	"11.0.0.1", "172.15.255.254", "172.32.0.1", "192.169.0.1",
	"100.63.255.254", "100.128.0.1", "169.255.0.1",
	"2001:4860:4860::8888",
};

/*
 * The kernel finds an address's country by binary search over the table
 * the daemon wrote (decide.bpf.h: geo_find): its edges are where an off
 * by one would show. From the embedded table: the first and last address
 * of a few US ranges whose neighbours on both sides are another known,
 * non-special country (not JP either: the rule names it), for IPv4 and
 * IPv6.
 */
#define NR_EDGES 6
static char edge_in[2 * NR_EDGES][INET6_ADDRSTRLEN];  /* US */
static char edge_out[2 * NR_EDGES][INET6_ADDRSTRLEN]; /* a neighbour */
static int nr_edge;

struct edge_walk {
	const struct geo *g;
	int family, want;
};

/* a +/- 1 on a big-endian address of n bytes */
static void step(__u8 *a, int n, int d)
{
	for (int i = n - 1; i >= 0; i--) {
		a[i] += d;
		if ((d > 0 && a[i] != 0) || (d < 0 && a[i] != 0xff))
			break;
	}
}

static bool other_country(const struct geo *g, int family, const __u8 *a)
{
	const char *cc = geo_country(g, family, a);

	return cc && strcmp(cc, "US") && strcmp(cc, "JP") &&
	       !geo_is_special(family, a);
}

static int edge_cb(int family, const __u8 *first, const __u8 *last,
		   const char *cc, void *ctx)
{
	struct edge_walk *w = ctx;
	int n = family == AF_INET ? 4 : 16;
	__u8 before[16], after[16];

	if (strcmp(cc, "US") || !w->want || nr_edge == 2 * NR_EDGES)
		return 0;
	memcpy(before, first, n);
	memcpy(after, last, n);
	step(before, n, -1);
	step(after, n, +1);
	if (!other_country(w->g, family, before) ||
	    !other_country(w->g, family, after) ||
	    geo_is_special(family, first) || geo_is_special(family, last))
		return 0;
	inet_ntop(family, first, edge_in[nr_edge], INET6_ADDRSTRLEN);
	inet_ntop(family, before, edge_out[nr_edge++], INET6_ADDRSTRLEN);
	inet_ntop(family, last, edge_in[nr_edge], INET6_ADDRSTRLEN);
	inet_ntop(family, after, edge_out[nr_edge++], INET6_ADDRSTRLEN);
	w->want--;
	return 0;
}

static int find_edges(void)
{
	struct geo *g;
	char err[256];

	if (geo_load_embedded(&g, err, sizeof(err)))
		return -1;
	for (int f = 0; f < 2; f++) {
		struct edge_walk w = { .g = g, .family = f ? AF_INET6 : AF_INET,
				       .want = NR_EDGES / 2 };

		geo_foreach(g, w.family, edge_cb, &w);
	}
	geo_free(g);
	return nr_edge == 2 * NR_EDGES ? 0 : -1;
}

static int teardown(void **state);

static int setup(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	if (h_setup(&env, "policy"))
		return -1;
	snprintf(netns, sizeof(netns), "rw-test-policy-%d", getpid());
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rw-test-policy-%d", getpid());
	mkdir(tmpdir, 0755);
	/* 8.8.8.8 (US) and 114.114.114.114 (CN) live only in our namespace,
	 * and so do the special-range probes */
	if (sh("ip netns add %s && ip -n %s link set lo up && "
	       "ip -n %s addr add 8.8.8.8/32 dev lo && "
	       "ip -n %s addr add 114.114.114.114/32 dev lo", netns, netns,
	       netns, netns)) {
		teardown(state);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(special_in); i++)
		if (strcmp(special_in[i], "::1") &&
		    strcmp(special_in[i], "127.0.0.1") &&
		    sh("ip -n %s addr add %s dev lo%s", netns, special_in[i],
		       strchr(special_in[i], ':') ? " nodad" : "")) {
			teardown(state);
			return -1;
		}
	for (size_t i = 0; i < ARRAY_SIZE(special_out); i++)
		if (sh("ip -n %s addr add %s dev lo%s", netns, special_out[i],
		       strchr(special_out[i], ':') ? " nodad" : "")) {
			teardown(state);
			return -1;
		}
	if (find_edges()) {
		fprintf(stderr, "no US ranges with foreign neighbours in the "
			"embedded table\n");
		teardown(state);
		return -1;
	}
	for (int i = 0; i < nr_edge; i++)
		/* replace: two ranges may share a neighbour */
		if (sh("ip -n %s addr replace %s dev lo%s && "
		       "ip -n %s addr replace %s dev lo%s", netns, edge_in[i],
		       strchr(edge_in[i], ':') ? " nodad" : "", netns,
		       edge_out[i], strchr(edge_out[i], ':') ? " nodad" : "")) {
			teardown(state);
			return -1;
		}
	/* a listener inside it, on every address, IPv4 and IPv6 */
	pid_t pid = fork();

	if (pid == 0) {
		int fd, off = 0;

		if (enter_netns())
			_exit(1);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons(port) };
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (void *)&a, sizeof(a)) || listen(fd, 1024))
			_exit(2);
		pause();
		_exit(0);
	}
	usleep(200000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (h_missing())
		return 0;
	if (env.daemon)
		h_stop(&env);
	/* child cgroups a failed test may have left (they hold no process:
	 * each test's children have exited) */
	sh("find %s -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null",
	   env.cg);
	h_teardown(&env);
	/* the listener lives in the namespace, not in the cgroup */
	sh("ip netns pids %s | xargs -r kill -9; ip netns del %s", netns,
	   netns);
	sh("rm -rf %s", tmpdir);
	return 0;
}

static int run_in(const char *addr)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (h_join(&env))
			_exit(121);
		_exit(connect_in_ns(addr, port));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void restart(const char *yaml, const char *extra)
{
	if (env.daemon)
		assert_int_equal(h_stop(&env), 0);
	unlink(env.log);
	assert_int_equal(h_write_policy(&env, yaml), 0);
	assert_int_equal(h_start(&env, extra), 0);
}

static const char deny_overseas[] =
	"mode: enforce\nhome_countries: [CN]\nrules:\n"
	"  - name: deny-overseas\n    match: {overseas: true}\n"
	"    action: deny\n";

/* overseas is decided at connect: US denied, CN allowed (special ranges:
 * below) */
static void t_overseas(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	restart(deny_overseas, NULL);
	assert_int_equal(run_in("8.8.8.8"), EPERM);
	assert_int_equal(run_in("114.114.114.114"), 0);
}

/* a country rule: the first and last address of US ranges are denied,
 * the address just outside each (another country) is not, IPv4 and
 * IPv6; 114.114.114.114 (CN) is not */
static void t_country_edges(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	restart("mode: enforce\nrules:\n"
		"  - name: deny-us\n    match: {country: [US, JP]}\n"
		"    action: deny\n", NULL);
	for (int i = 0; i < nr_edge; i++) {
		int in = run_in(edge_in[i]), out = run_in(edge_out[i]);

		if (in != EPERM || out != 0)
			fprintf(stderr, "%s: %s; %s: %s\n", edge_in[i],
				strerror(in), edge_out[i], strerror(out));
		assert_int_equal(in, EPERM);
		assert_int_equal(out, 0);
	}
	assert_int_equal(run_in("8.8.8.8"), EPERM);
	assert_int_equal(run_in("114.114.114.114"), 0);
	assert_int_equal(run_in("2001:4860:4860::8888"), EPERM);
}

/* private, loopback, CGNAT, link-local, ULA: never overseas; one address
 * past each block's edge is */
static void t_special_never_overseas(void **s)
{
	(void)s;
	if (h_missing())
		skip();
	restart(deny_overseas, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(special_in); i++) {
		int rc = run_in(special_in[i]);

		if (rc)
			fprintf(stderr, "%s: %s\n", special_in[i], strerror(rc));
		assert_int_equal(rc, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(special_out); i++) {
		int rc = run_in(special_out[i]);

		if (rc != EPERM)
			fprintf(stderr, "%s: %s\n", special_out[i],
				strerror(rc));
		assert_int_equal(rc, EPERM);
	}
}

/* an RIR file the user brings re-assigns 8.8.8.0/24 to CN */
static void t_rir_override(void **s)
{
	char rir[256], extra[300];
	FILE *f;

	(void)s;
	if (h_missing())
		skip();
	snprintf(rir, sizeof(rir), "%s/delegated.txt", tmpdir);
	f = fopen(rir, "w");
	fprintf(f, "2|apnic|20260101|1|19830613|20260101|+1000\n"
		   "apnic|CN|ipv4|8.8.8.0|256|20200101|allocated\n");
	fclose(f);
	snprintf(extra, sizeof(extra), "--rir %s", rir);
	restart("mode: enforce\nrules:\n"
		"  - name: deny-overseas\n    match: {overseas: true}\n"
		"    action: deny\n", extra);
	assert_int_equal(run_in("8.8.8.8"), 0);
}

/* only the approved binary with the approved hash may reach ai-overseas */
static void t_exemption(void **s)
{
	char yaml[2048], agent[256], other[256], hash[80] = "", cmd[600];
	char portstr[16];
	FILE *f;
	int st;

	(void)s;
	if (h_missing())
		skip();
	snprintf(agent, sizeof(agent), "%s/approved-agent", tmpdir);
	snprintf(other, sizeof(other), "%s/other-agent", tmpdir);
	sh("cp %s %s && cp %s %s && printf x >> %s", self, agent, self,
	   other, other);
	snprintf(cmd, sizeof(cmd), "sha256sum %s", agent);
	f = popen(cmd, "r");
	assert_int_equal(fscanf(f, "%64s", hash), 1);
	pclose(f);
	snprintf(yaml, sizeof(yaml),
		 "mode: enforce\nintel: [%s/intel.yaml]\nrules:\n"
		 "  - name: approved\n    match:\n      category: ai-overseas\n"
		 "      exe: %s\n      sha256: %s\n    action: allow\n"
		 "  - name: deny-ai\n    match: {category: ai-overseas}\n"
		 "    action: deny\n", tmpdir, agent, hash);
	f = fopen(strcat(strcpy(cmd, tmpdir), "/intel.yaml"), "w");
	fprintf(f, "version: 1\nentries:\n  - {cidr: 8.8.8.8/32, "
		   "category: ai-overseas, provider: TestAI}\n");
	fclose(f);
	restart(yaml, NULL);
	snprintf(portstr, sizeof(portstr), "%d", port);
	const char *bins[] = { agent, other };
	int want[] = { 0, EPERM };

	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			if (h_join(&env) || enter_netns())
				_exit(121);
			execl(bins[i], bins[i], "connect", "8.8.8.8", portstr,
			      (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		assert_int_equal(WEXITSTATUS(st), want[i]);
	}
	assert_true(h_wait_log(&env, "\"rule\":\"deny-ai\""));
	assert_true(h_wait_log(&env, "\"category\":\"ai-overseas\""));
	assert_true(h_wait_log(&env, "\"provider\":\"TestAI\""));
}

/* exit code of `bin connect 8.8.8.8 port` run in the cgroup and netns */
static int run_bin(const char *bin)
{
	char portstr[16];
	pid_t pid;
	int st;

	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	if (pid == 0) {
		if (h_join(&env) || enter_netns())
			_exit(121);
		execl(bin, bin, "connect", "8.8.8.8", portstr, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* a successful reload record of this reason */
static bool is_reload(json_object *j, void *reason)
{
	json_object *ok;

	if (!j)
		return false;
	return !strcmp(h_str(j, "event") ?: "", "reload") &&
	       !strcmp(h_str(j, "reason") ?: "", reason) &&
	       json_object_object_get_ex(j, "ok", &ok) &&
	       json_object_get_boolean(ok);
}

/* how many reloads of this reason the log holds now */
static int reloads(const char *reason)
{
	char line[65536];
	FILE *f = fopen(env.log, "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		json_object *j = json_tokener_parse(line);

		n += is_reload(j, (void *)reason);
		json_object_put(j);
	}
	if (f)
		fclose(f);
	return n;
}

/* runs a shell command that changes what a rule names, and waits for the
 * reload it causes (one more than before, within 5 s) */
static bool changed_and_reloaded(const char *cmd, const char *reason)
{
	int before = reloads(reason);

	sh("%s", cmd);
	for (int i = 0; i < 100; i++) {
		if (reloads(reason) > before)
			return true;
		usleep(50000);
	}
	return false;
}

/* an exe rule follows its path: a binary installed after start-up, then
 * one renamed over it (a package upgrade: new inode, new content) */
static void t_exe_replaced(void **s)
{
	char yaml[1024], agent[256], globbed[256], cmd[PATH_MAX + 2048];

	(void)s;
	if (h_missing())
		skip();
	snprintf(agent, sizeof(agent), "%s/late-agent", tmpdir);
	snprintf(globbed, sizeof(globbed), "%s/gdir/tool-1", tmpdir);
	unlink(agent);
	unlink(globbed);
	sh("mkdir -p %s/gdir", tmpdir);
	snprintf(yaml, sizeof(yaml),
		 "mode: enforce\nrules:\n"
		 "  - name: deny-agent\n    match: {exe: %s}\n"
		 "    action: deny\n"
		 "  - name: deny-tools\n    match: {exe: '%s/g*/tool-*'}\n"
		 "    action: deny\n", agent, tmpdir);
	restart(yaml, NULL);
	snprintf(cmd, sizeof(cmd), "cp %s %s", self, agent);
	assert_true(changed_and_reloaded(cmd, "binaries"));
	assert_int_equal(run_bin(agent), EPERM);
	snprintf(cmd, sizeof(cmd), "cp %s %s.new && printf x >> %s.new && "
		 "mv %s.new %s", self, agent, agent, agent, agent);
	assert_true(changed_and_reloaded(cmd, "binaries"));
	assert_int_equal(run_bin(agent), EPERM);
	/* a new file a glob names, in a directory its pattern names */
	snprintf(cmd, sizeof(cmd), "cp %s %s", self, globbed);
	assert_true(changed_and_reloaded(cmd, "binaries"));
	assert_int_equal(run_bin(globbed), EPERM);
	/* the rules name those paths only: the test binary itself passes */
	assert_int_equal(run_bin(self), 0);
}

/* exit code of a connect to 8.8.8.8 from a child in cgroup cg (absolute) */
static int run_in_cg(const char *cg)
{
	char path[700];
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		f = fopen(path, "w");
		if (!f)
			_exit(121);
		fprintf(f, "%d\n", getpid());
		if (fclose(f))
			_exit(121);
		_exit(connect_in_ns("8.8.8.8", port));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* a cgroup rule follows its path: created after start-up, then removed
 * and made again (a service restart: a new cgroup id) */
static void t_cgroup_recreated(void **s)
{
	char svc[700], yaml[1024], cmd[1600];

	(void)s;
	if (h_missing())
		skip();
	snprintf(svc, sizeof(svc), "%s/svc", env.cg);
	rmdir(svc);
	snprintf(yaml, sizeof(yaml),
		 "mode: enforce\nrules:\n  - name: deny-svc\n"
		 "    match: {cgroup: %s/svc, cidr: [8.8.8.8/32]}\n"
		 "    action: deny\n", env.cg + strlen(cgroup2_root()));
	restart(yaml, NULL);
	snprintf(cmd, sizeof(cmd), "mkdir %s", svc);
	assert_true(changed_and_reloaded(cmd, "cgroups"));
	assert_int_equal(run_in_cg(svc), EPERM);
	assert_int_equal(run_in("8.8.8.8"), 0); /* outside it: allowed */
	snprintf(cmd, sizeof(cmd), "rmdir %s && mkdir %s", svc, svc);
	assert_true(changed_and_reloaded(cmd, "cgroups"));
	assert_int_equal(run_in_cg(svc), EPERM);
	assert_int_equal(rmdir(svc), 0);
}

/* a container rule for a container that starts after start-up (found by
 * looking every 2 s), then restarts (same name, new cgroup id) */
static void t_container_started(void **s)
{
	static const char id[] = "0123456789abcdef0123456789abcdef"
				 "0123456789abcdef0123456789abcdef";
	char ctr[800], cmd[1700];

	(void)s;
	if (h_missing())
		skip();
	snprintf(ctr, sizeof(ctr), "%s/docker-%s.scope", env.cg, id);
	rmdir(ctr);
	restart("mode: enforce\nrules:\n  - name: deny-ctr\n"
		"    match: {container: 0123456789ab, cidr: [8.8.8.8/32]}\n"
		"    action: deny\n", NULL);
	snprintf(cmd, sizeof(cmd), "mkdir %s", ctr);
	assert_true(changed_and_reloaded(cmd, "cgroups"));
	assert_int_equal(run_in_cg(ctr), EPERM);
	assert_int_equal(run_in("8.8.8.8"), 0);
	snprintf(cmd, sizeof(cmd), "rmdir %s && mkdir %s", ctr, ctr);
	assert_true(changed_and_reloaded(cmd, "cgroups"));
	assert_int_equal(run_in_cg(ctr), EPERM);
	assert_int_equal(rmdir(ctr), 0);
}

struct storm {
	int tries, passed;
};

static int storm_body(void *arg)
{
	struct storm *st = arg;

	if (enter_netns())
		return 120;
	for (int i = 0; i < st->tries; i++)
		if (h_connect(AF_INET, "8.8.8.8", port, SOCK_STREAM) != EPERM)
			return 1;
	return 0;
}

/* a broken policy on SIGHUP leaves the old one enforcing; valid reloads
 * swap atomically: a connect loop running through 20 reloads is denied
 * every time */
static void t_reload(void **s)
{
	static const char deny_a[] =
		"mode: enforce\nrules:\n  - name: deny-a\n"
		"    match: {cidr: [8.8.8.8/32]}\n    action: deny\n";
	static const char deny_b[] =
		"mode: enforce\nrules:\n  - name: deny-b\n"
		"    match: {cidr: [8.8.8.0/24]}\n    action: deny\n";
	struct storm st = { .tries = 20000 };
	pid_t pid;
	int status, n;

	(void)s;
	if (h_missing())
		skip();
	restart(deny_a, NULL);
	assert_int_equal(h_write_policy(&env, "mode: enforce\nrules: [oops\n"), 0);
	kill(env.daemon, SIGHUP);
	usleep(300000);
	assert_true(h_wait_log(&env, "\"event\":\"reload\",\"ok\":false"));
	assert_int_equal(run_in("8.8.8.8"), EPERM);

	pid = fork();
	if (pid == 0)
		_exit(h_join(&env) ? 121 : storm_body(&st));
	for (int i = 0; i < 20; i++) {
		assert_int_equal(h_write_policy(&env, i % 2 ? deny_a : deny_b), 0);
		kill(env.daemon, SIGHUP);
		usleep(50000);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(h_wait_log(&env, "\"event\":\"reload\",\"ok\":true"));

	/* and a valid policy that allows takes effect (once its reload
	 * record says so: the storm's events may still be draining) */
	assert_int_equal(h_write_policy(&env, "mode: enforce\nrules:\n"
		"  - name: watch\n    match: {cidr: [8.8.8.8/32]}\n"
		"    action: alert\n"), 0);
	n = h_log_count(&env, "\"event\":\"reload\",\"ok\":true");
	kill(env.daemon, SIGHUP);
	assert_true(h_wait_more(&env, "\"event\":\"reload\",\"ok\":true", n));
	assert_int_equal(run_in("8.8.8.8"), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_overseas),
		cmocka_unit_test(t_country_edges),
		cmocka_unit_test(t_special_never_overseas),
		cmocka_unit_test(t_rir_override),
		cmocka_unit_test(t_exemption),
		cmocka_unit_test(t_exe_replaced),
		cmocka_unit_test(t_cgroup_recreated),
		cmocka_unit_test(t_container_started),
		cmocka_unit_test(t_reload),
	};

	if (argc == 4 && !strcmp(argv[1], "connect"))
		return h_connect(AF_INET, argv[2], atoi(argv[3]), SOCK_STREAM);
	if (!realpath("/proc/self/exe", self))
		return 1;
	port = 18000 + getpid() % 20000;
	return cmocka_run_group_tests_name("policy", tests, setup, teardown);
}
