// SPDX-License-Identifier: MIT
/*
 * The commands about the kernel state itself: probe (what loads here),
 * status (what is pinned and attached, is a daemon reading) and detach
 * (the only way pinned enforcement is removed). status and detach read
 * bpffs and the pinned maps; they work with or without a daemon.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "attach.h"
#include "cgroup.h"
#include "digest.h"
#include "kstate.h"
#include "loader.h"
#include "log.h"
#include "pin.h"
#include "proc.h"
#include "progload.h"
#include "util.h"
#include "watch.h"

/* status exit codes: usable from monitoring and systemd ExecStartPost */
#define ST_ENFORCING 0
#define ST_NO_DAEMON 3
#define ST_NOTHING 4
/* a daemon that has not read for longer than this is not reading */
#define HEARTBEAT_STALE_NS (3 * 1000000000ULL)

static const char probe_help[] =
"usage: relaywatch probe [--json] [-v]\n"
"\n"
"Loads every BPF program into this kernel as run and trace would, attaches\n"
"nothing, and says which features work here: each one on, or off with the\n"
"program the kernel refused and the verifier's reason. Needs root. Exits 0\n"
"when every feature is on, 3 when some are off, 1 when nothing loads.\n"
"\n"
"EXAMPLES\n"
"  relaywatch probe\n"
"  relaywatch probe --json | jq .features\n";

static const char status_help[] =
"usage: relaywatch status [--cgroup PATH] [--json]\n"
"\n"
"Whether enforcement is in force on a cgroup, with or without a daemon:\n"
"what is pinned and attached, by which build and policy (path, SHA-256,\n"
"since when), whether a daemon reads its events (pid, last read), the\n"
"kernel's counters and how full the event ring is. Needs root.\n"
"Exits 0 when enforcing with a daemon reading, 3 when enforcement is\n"
"attached but no daemon reads, 4 when nothing is attached.\n"
"\n"
"  --cgroup PATH   the cgroup run watches (default: the cgroup v2 root)\n"
"  --json          one JSON object\n"
"\n"
"EXAMPLES\n"
"  relaywatch status\n"
"  relaywatch status --json | jq .daemon\n";

static const char detach_help[] =
"usage: relaywatch detach [--cgroup PATH | --all]\n"
"\n"
"Removes the enforcement a run left in force on a cgroup: its programs,\n"
"attachments and maps pinned under /sys/fs/bpf/relaywatch/. A daemon\n"
"still running on it is stopped first (SIGUSR2). The only command that\n"
"removes pinned enforcement. Exits 0, also when nothing was pinned.\n"
"\n"
"  --cgroup PATH   the cgroup (default: the cgroup v2 root)\n"
"  --all           every cgroup relaywatch has state for\n"
"\n"
"EXAMPLES\n"
"  relaywatch detach --cgroup /sys/fs/cgroup/ci.slice\n"
"  relaywatch detach --all\n";

int cmd_probe(int argc, char **argv)
{
	struct loader_opts lo = { .probe = true };
	struct cmd_opts o = {};
	struct loader l;
	json_object *j;
	int ret;

	if (parse_opts(argc, argv, probe_help, "j", &o))
		return EXIT_USAGE;
	if (loader_open(&l, &lo))
		return 1;
	if (o.json) {
		json_object *progs = json_object_new_object();

		j = json_object_new_object();
		json_object_object_add(j, "features", progload_json(&l, false));
		json_object_object_add(j, "features_off", progload_json(&l, true));
		for (int i = 0; i < l.nr_progs; i++) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "loaded",
				json_object_new_boolean(!l.progs[i].err));
			json_object_object_add(p, "insns",
				json_object_new_int64(l.progs[i].insns));
			json_object_object_add(progs, l.progs[i].name, p);
		}
		json_object_object_add(j, "programs", progs);
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		for (int f = 0; f < RW_F__MAX; f++) {
			bool on = l.features & (1u << f);

			printf("%-12s %s%s%s\n", feature_name(f), on ? "on" : "off",
			       on ? "" : "  ", on ? "" : progload_why(&l, f));
		}
	}
	ret = l.features == RW_F_ALL ? 0 : l.features ? 3 : 1;
	loader_close(&l, LOADER_FAIL);
	return ret;
}

/* the pin directory of a cgroup path (the cgroup v2 root by default) */
/* cgpath: PATH_MAX bytes */
static int cgdir_of(const char *cgroup, char *cgpath, char *cgdir,
		    size_t dlen)
{
	const char *root = cgroup2_root();
	__u64 id;

	if (!cgroup)
		cgroup = root;
	if (!cgroup) {
		pr_warn("no cgroup v2 mount found in /proc/mounts");
		return -ENOENT;
	}
	if (!realpath(cgroup, cgpath)) {
		pr_warn("cgroup %s: %s%s", cgroup, strerror(errno),
			errno == ENOENT ? " (relaywatch detach --all removes "
					  "the state of cgroups that are gone)" : "");
		return -errno;
	}
	if (cgroup_id_of(cgpath, &id)) {
		pr_warn("%s is not a cgroup v2 directory", cgpath);
		return -EINVAL;
	}
	pin_cgdir(id, cgdir, dlen);
	return 0;
}

static const char *ts_of(__u64 wall_ns, char *buf, size_t len)
{
	time_t t = wall_ns / 1000000000ULL;
	struct tm tm;

	if (!wall_ns)
		return "-";
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void add_counters(json_object *j, const __u64 *c)
{
	static const struct { int i; const char *k; } names[] = {
		{ RW_CNT_MATCHED, "matched" }, { RW_CNT_EMITTED, "emitted" },
		{ RW_CNT_SUPPRESSED, "suppressed" }, { RW_CNT_RB_FULL, "lost" },
		{ RW_CNT_RB_FULL_PROC, "lost_other" },
		{ RW_CNT_ACT_ALLOW, "allow" }, { RW_CNT_ACT_ALERT, "alert" },
		{ RW_CNT_ACT_DENY, "deny" }, { RW_CNT_ACT_KILL, "kill" },
		{ RW_CNT_BLOCKED, "blocked" }, { RW_CNT_KILLS, "kernel_kills" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		json_object_object_add(j, names[i].k,
				       json_object_new_int64(c[names[i].i]));
}

/* what is attached to the cgroup without a pin: a trace, a --no-persist
 * run, or something else */
static int unpinned_programs(const char *cgpath)
{
	static const enum bpf_attach_type types[] = {
		BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
		BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG,
		BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS,
	};
	int fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;

	if (fd < 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		__u32 cnt = 0;

		if (!bpf_prog_query(fd, types[i], 0, NULL, NULL, &cnt))
			n += cnt;
	}
	close(fd);
	return n;
}

int cmd_status(int argc, char **argv)
{
	char cgpath[PATH_MAX], cgdir[128], buf[64], hex[65], dir[PATH_MAX + 8];
	const struct pin_set *set;
	struct dirent *de;
	DIR *ld;
	struct pin_set *sets = NULL;
	struct cmd_opts o = {};
	__u64 c[RW_CNT__MAX] = {}, used = 0, size = 0, age;
	json_object *j, *links, *d;
	int nr = 0, lock, alive = 0, total = 0, code, fd;
	bool reading;

	if (parse_opts(argc, argv, status_help, "cj", &o))
		return EXIT_USAGE;
	if (geteuid() != 0) {
		pr_warn("needs root (reads /sys/fs/bpf): run it with sudo");
		return 1;
	}
	if (cgdir_of(o.cgroup, cgpath, cgdir, sizeof(cgdir)))
		return 1;
	pin_sets(cgdir, &sets, &nr);
	set = pin_newest(sets, nr);
	j = json_object_new_object();
	json_object_object_add(j, "cgroup", json_object_new_string(cgpath));
	if (!set) {
		int n = unpinned_programs(cgpath);

		json_object_object_add(j, "state", json_object_new_string(
			"nothing attached"));
		json_object_object_add(j, "unpinned_programs",
				       json_object_new_int64(n));
		if (o.json)
			puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		else
			printf("%s: nothing pinned by relaywatch%s\n", cgpath,
			       n ? "; programs are attached without pins (a "
				   "trace, or run --no-persist)" : "");
		json_object_put(j);
		free(sets);
		return ST_NOTHING;
	}
	/* the links the set pinned: each still attached? */
	links = json_object_new_object();
	snprintf(dir, sizeof(dir), "%s/links", set->dir);
	ld = opendir(dir);
	while (ld && (de = readdir(ld))) {
		bool up;

		if (de->d_name[0] == '.' ||
		    (fd = pin_get(set->dir, "links", de->d_name)) < 0)
			continue;
		up = attach_link_alive(fd);
		close(fd);
		total++;
		alive += up;
		json_object_object_add(links, de->d_name, json_object_new_string(
			up ? "attached" : "detached"));
	}
	if (ld)
		closedir(ld);
	fd = pin_get(set->dir, "maps", "counters");
	if (fd >= 0) {
		kstate_counters_fd(fd, c);
		close(fd);
	}
	fd = pin_get(set->dir, "maps", "events");
	if (fd >= 0) {
		kstate_ring_fill(fd, &used, &size);
		close(fd);
	}
	lock = pin_lock(cgdir, 0);
	if (lock >= 0)
		close(lock); /* no daemon holds it */
	age = set->meta.heartbeat ? boot_ns() - set->meta.heartbeat : ~0ULL;
	reading = lock < 0 && age < HEARTBEAT_STALE_NS;
	code = !alive ? ST_NOTHING :
	       reading && set->meta.state == RW_SET_READY ? ST_ENFORCING :
							    ST_NO_DAEMON;
	json_object_object_add(j, "state", json_object_new_string(
		code == ST_ENFORCING ? "enforcing" :
		code == ST_NO_DAEMON ? "attached, no daemon reads" :
				       "nothing attached"));
	json_object_object_add(j, "pinned", json_object_new_string(set->dir));
	json_object_object_add(j, "format", json_object_new_int64(set->meta.format));
	json_object_object_add(j, "set_state", json_object_new_string(
		set->meta.state == RW_SET_READY ? "ready" : "building"));
	json_object_object_add(j, "made", json_object_new_string(
		ts_of(set->meta.created, buf, sizeof(buf))));
	hex_of(set->meta.build, 32, hex);
	json_object_object_add(j, "build", json_object_new_string(hex));
	json_object_object_add(j, "version", json_object_new_string(set->meta.version));
	d = json_object_new_object();
	json_object_object_add(d, "path", json_object_new_string(set->meta.policy_path));
	hex_of(set->meta.policy_sha, 32, hex);
	json_object_object_add(d, "sha256", json_object_new_string(hex));
	json_object_object_add(d, "applied", json_object_new_int64(set->meta.applied));
	json_object_object_add(d, "since", json_object_new_string(
		ts_of(set->meta.policy_since, buf, sizeof(buf))));
	json_object_object_add(j, "policy", d);
	d = json_object_new_object();
	json_object_object_add(d, "reading", json_object_new_boolean(reading));
	json_object_object_add(d, "pid", json_object_new_int64(
		lock < 0 ? set->meta.daemon_pid : 0));
	json_object_object_add(d, "last_read", json_object_new_string(
		ts_of(set->meta.heartbeat_wall, buf, sizeof(buf))));
	json_object_object_add(d, "last_read_ms_ago", json_object_new_int64(
		age == ~0ULL ? -1 : (__s64)(age / 1000000)));
	json_object_object_add(j, "daemon", d);
	d = json_object_new_object();
	for (int f = 0; f < RW_F__MAX; f++)
		json_object_object_add(d, feature_name(f), json_object_new_string(
			set->meta.features & (1u << f) ? "on" : "off"));
	json_object_object_add(j, "features", d);
	json_object_object_add(j, "links", links);
	d = json_object_new_object();
	add_counters(d, c);
	json_object_object_add(j, "counters", d);
	d = json_object_new_object();
	json_object_object_add(d, "used_bytes", json_object_new_int64(used));
	json_object_object_add(d, "size_bytes", json_object_new_int64(size));
	json_object_object_add(j, "ring", d);
	if (o.json) {
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	} else {
		printf("cgroup    %s\n", cgpath);
		printf("state     %s\n", json_object_get_string(
			json_object_object_get(j, "state")));
		printf("pinned    %s (format %u, made %s)\n", set->dir,
		       set->meta.format, ts_of(set->meta.created, buf, sizeof(buf)));
		printf("attached  %d of %d links\n", alive, total);
		printf("policy    %s (applied %llu times, since %s)\n",
		       set->meta.policy_path,
		       (unsigned long long)set->meta.applied,
		       ts_of(set->meta.policy_since, buf, sizeof(buf)));
		if (lock < 0)
			printf("daemon    pid %u, last read %.1f s ago\n",
			       set->meta.daemon_pid, age / 1e9);
		else
			printf("daemon    none (last read %s)\n",
			       ts_of(set->meta.heartbeat_wall, buf, sizeof(buf)));
		printf("counters  matched %llu, deny %llu, kill %llu, lost %llu\n",
		       (unsigned long long)c[RW_CNT_MATCHED],
		       (unsigned long long)c[RW_CNT_ACT_DENY],
		       (unsigned long long)c[RW_CNT_ACT_KILL],
		       (unsigned long long)(c[RW_CNT_RB_FULL] +
					    c[RW_CNT_RB_FULL_PROC]));
		printf("ring      %llu of %llu KiB waiting\n",
		       (unsigned long long)used / 1024,
		       (unsigned long long)size / 1024);
	}
	json_object_put(j);
	free(sets);
	return code;
}

/* stops the daemon holding cgdir (if any), then removes every set: how
 * many, or -1 when the daemon would not stop */
static int detach_one(const char *cgdir, const char *what)
{
	struct pin_set *sets = NULL;
	const struct pin_set *set;
	int nr = 0, lock, removed = 0;

	pin_sets(cgdir, &sets, &nr);
	set = pin_newest(sets, nr);
	lock = pin_lock(cgdir, 0);
	if (lock < 0 && set && set->meta.daemon_pid) {
		printf("stopping the daemon on %s (pid %u)\n", what,
		       set->meta.daemon_pid);
		kill(set->meta.daemon_pid, SIGUSR2);
		lock = pin_lock(cgdir, 5000);
	}
	if (lock < 0) {
		pid_t pid = set ? (pid_t)set->meta.daemon_pid : 0;
		char state = 0, wchan[64] = "";

		/* what the daemon is doing, or that it is gone (then
		 * something else holds the lock) */
		if (pid > 0 && !proc_stat(pid, &state, NULL))
			proc_wchan(pid, wchan, sizeof(wchan));
		if (pid > 0 && !state)
			pr_warn("%s: %s is still locked, but its daemon (pid "
				"%d) is gone: another process holds the lock "
				"(fuser -v %s)", what, cgdir, (int)pid, cgdir);
		else
			pr_warn("%s: a daemon holds %s and did not stop: stop "
				"it (pid %d, state %c%s%s), then detach again",
				what, cgdir, (int)pid, state ? state : '?',
				wchan[0] ? ", in " : "", wchan);
		free(sets);
		return -1;
	}
	free(sets);
	pin_sets(cgdir, &sets, &nr); /* what the daemon left, if anything */
	for (int i = 0; i < nr; i++)
		if (sets[i].ours && !pin_remove(sets[i].dir))
			removed++;
	free(sets);
	close(lock);
	rmdir(cgdir);
	rmdir(PIN_ROOT); /* when it was the last */
	return removed;
}

int cmd_detach(int argc, char **argv)
{
	char cgpath[PATH_MAX], cgdir[128];
	struct cmd_opts o = {};
	int n = 0;

	if (parse_opts(argc, argv, detach_help, "cA", &o))
		return EXIT_USAGE;
	if (o.all && o.cgroup) {
		pr_warn("detach takes --cgroup or --all, not both");
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		pr_warn("needs root (writes /sys/fs/bpf): run it with sudo");
		return 1;
	}
	if (o.all) {
		struct dirent *de;
		DIR *dir = opendir(PIN_ROOT);

		while (dir && (de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(cgdir, sizeof(cgdir), PIN_ROOT "/%.64s",
				 de->d_name);
			n += detach_one(cgdir, cgdir) > 0;
		}
		if (dir)
			closedir(dir);
		rmdir(PIN_ROOT);
		printf("detached %d cgroup%s\n", n, n == 1 ? "" : "s");
		return 0;
	}
	if (cgdir_of(o.cgroup, cgpath, cgdir, sizeof(cgdir)))
		return 1;
	if (access(cgdir, F_OK)) {
		printf("%s: nothing pinned by relaywatch, nothing to detach\n",
		       cgpath);
		return 0;
	}
	n = detach_one(cgdir, cgpath);
	if (n < 0)
		return 1;
	printf("%s: detached (%d set%s of programs, links and maps "
	       "removed)\n", cgpath, n, n == 1 ? "" : "s");
	return 0;
}
