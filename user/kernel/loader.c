// SPDX-License-Identifier: MIT
/*
 * Open → size → load → attach, always split, so a failure names its stage.
 * The policy itself reaches the maps through enforce.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "relaywatch.skel.h"
#include "loader.h"
#include "proc.h"
#include "progload.h"
#include "log.h"
#include "util.h"


static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	/* libbpf's own messages sit one level below ours */
	if (log_level < LOG_DEBUG && level != LIBBPF_WARN)
		return 0;
	if (log_level < LOG_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int cgroup_check_v2(const char *path, char *err, size_t errlen)
{
	struct statfs sf;
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "cgroup %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cgroup %s is not a directory", path);
		return -ENOTDIR;
	}
	if (statfs(path, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen,
			 "%s is not a cgroup v2 directory (see the cgroup2 "
			 "line of /proc/mounts)", path);
		return -EINVAL;
	}
	return 0;
}

static int attach(struct loader *l, struct bpf_program *prog, bool cg)
{
	struct bpf_link *link;

	if (!prog)
		return -ENOENT;
	if (l->nr_links == (int)ARRAY_SIZE(l->links))
		return -E2BIG;
	link = cg ? bpf_program__attach_cgroup(prog, l->cgroup_fd)
		  : bpf_program__attach(prog);
	if (!link)
		return -errno;
	l->links[l->nr_links++] = link;
	return 0;
}

int loader_open(struct loader *l, const struct loader_opts *o)
{
	struct relaywatch *skel;
	struct bpf_program *p;
	char err[512];
	int ret;

	memset(l, 0, sizeof(*l));
	l->cgroup_fd = -1;
	libbpf_set_print(libbpf_log);

	if (geteuid() != 0) {
		pr_warn("needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON): "
			"run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		pr_warn("this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			"relaywatch needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	/* the oldest kernel relaywatch supports is 5.10 (README: Kernels);
	 * what sets the floor is the event ring buffer (5.8) */
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		struct utsname u;

		uname(&u);
		pr_warn("this kernel (%s) has no BPF ring buffer: relaywatch "
			"needs Linux 5.10 or later", u.release);
		return -ENOTSUP;
	}
	ret = o->probe ? 0 : cgroup_check_v2(o->cgroup, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return ret;
	}
	snprintf(l->cgroup, sizeof(l->cgroup), "%s", o->probe ? "" : o->cgroup);

	skel = relaywatch__open();
	if (!skel) {
		ret = -errno;
		pr_warn("failed to open the BPF object: %s", strerror(-ret));
		return ret;
	}
	l->skel = skel;
	if (o->ringbuf_bytes)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	skel->rodata->cfg_wakeup_bytes =
		bpf_map__max_entries(skel->maps.events) / 8;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);

	ret = relaywatch__load(skel);
	if (ret) {
		pr_warn("failed to create the BPF maps: %s (run with -vv for "
			"libbpf's log)", strerror(-ret));
		goto fail;
	}
	/* for tests: RELAYWATCH_COMPAT=1 loads the build for kernels
	 * without bpf_loop on any kernel; RELAYWATCH_REFUSE=PROG,... has
	 * the kernel refuse those programs (as a kernel might) */
	ret = progload_all(l, o->fail_prog ? o->fail_prog :
				      getenv("RELAYWATCH_REFUSE"),
			   o->compat || getenv("RELAYWATCH_COMPAT"));
	if (ret) {
		pr_warn("failed to load the BPF programs: %s", strerror(-ret));
		goto fail;
	}

	if (o->probe) {
		l->features = progload_features(l);
		return 0;
	}
	l->cgroup_fd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		ret = -errno;
		pr_warn("failed to open cgroup %s: %s", o->cgroup,
			strerror(-ret));
		goto fail;
	}
	/* every program that loaded, but the kill hook (attached only
	 * while a kill rule is in force: see loader_set_kill_hook) */
	for (int i = 0; i < l->nr_progs; i++) {
		struct prog_state *ps = &l->progs[i];

		if (!ps->prog || ps->feature == RW_F_KILL)
			continue;
		ret = attach(l, ps->prog, ps->feature != RW_F_PROC_TABLE);
		if (ret)
			progload_attach_failed(l, ps, ret);
	}
	l->features = progload_features(l);
	for (int i = 0; i < l->nr_progs; i++)
		pr_info("%s: %s, %u instructions verified", l->progs[i].name,
			l->progs[i].err ? "off" : "on", l->progs[i].insns);
	for (int f = 0; f < RW_F__MAX; f++)
		if (!(l->features & (1u << f)))
			pr_warn("%s: off on this kernel (%s); %s",
				feature_name(f), progload_why(l, f),
				feature_loss(f));
	if (!(l->features & (1u << RW_F_CONNECT | 1u << RW_F_SENDMSG))) {
		pr_warn("nothing can be enforced on this kernel: neither the "
			"connect nor the sendmsg hooks load");
		ret = -ENOTSUP;
		goto fail;
	}
	if (o->require & ~l->features) {
		for (int f = 0; f < RW_F__MAX; f++)
			if (o->require & ~l->features & (1u << f))
				pr_warn("--require %s: the feature is off, so "
					"relaywatch does not start",
					feature_name(f));
		ret = -ENOTSUP;
		goto fail;
	}
	l->name_hooks = l->features & (1u << RW_F_DNS);
	l->proc_hooks = l->features & (1u << RW_F_PROC_TABLE);
	return 0;
fail:
	loader_close(l);
	return ret;
}

/* the loaded instance of a program, NULL when the kernel refused it */
static struct bpf_program *prog(struct loader *l, const char *name)
{
	for (int i = 0; i < l->nr_progs; i++)
		if (!strcmp(l->progs[i].name, name))
			return l->progs[i].prog;
	return NULL;
}

int loader_set_kill_hook(struct loader *l, bool want)
{
	if (want == l->kill_hook)
		return 0;
	if (!want) {
		bpf_link__destroy(l->kill_link);
		l->kill_link = NULL;
		l->kill_hook = false;
		return 0;
	}
	struct bpf_program *p = prog(l, "sys_exit");

	l->kill_link = p ? bpf_program__attach(p) : NULL;
	if (!l->kill_link) {
		int ret = p ? -errno : -ENOTSUP;

		if (!p)
			return ret; /* said at start-up: kill is off */

		pr_warn("in-kernel kill unavailable: cannot attach sys_exit "
			"(%s); kill rules fall back to a userspace SIGKILL "
			"after the call returns", strerror(-ret));
		return ret;
	}
	l->kill_hook = true;
	return 0;
}

/* a process that existed before the exec tracepoint was attached: what
 * exec would have recorded, read cheaply (no hashing, no parent walk) */
static void seed_one(int fd, pid_t pid)
{
	char path[64], buf[512], *p;
	struct rw_proc e = {};
	struct stat st, dir;
	__u32 key = pid;
	ssize_t n;
	int sfd;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st) < 0)
		return; /* kernel thread or gone */
	e.exe_dev = dev_to_kernel(st.st_dev);
	e.exe_ino = st.st_ino;
	n = readlink(path, e.exe, sizeof(e.exe) - 1);
	e.exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &dir) == 0)
		e.uid = dir.st_uid;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	sfd = open(path, O_RDONLY | O_CLOEXEC);
	n = sfd >= 0 ? read(sfd, buf, sizeof(buf) - 1) : -1;
	if (sfd >= 0)
		close(sfd);
	if (n <= 0)
		return;
	buf[n] = 0;
	/* pid (comm) state ppid ...: comm may hold spaces and parens */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %u", &e.ppid) != 1)
		return;
	*p = 0;
	if ((p = strchr(buf, '(')))
		snprintf(e.comm, sizeof(e.comm), "%s", p + 1);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	sfd = open(path, O_RDONLY | O_CLOEXEC);
	n = sfd >= 0 ? read(sfd, e.args, sizeof(e.args)) : 0;
	if (sfd >= 0)
		close(sfd);
	e.args_len = n > 0 ? n : 0;
	/* never overwrite what an exec recorded since the hooks attached */
	bpf_map_update_elem(fd, &key, &e, BPF_NOEXIST);
}

int loader_seed_procs(struct loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.procs);
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		seed_one(fd, pid);
	}
	closedir(d);
	return 0;
}

int loader_proc(struct loader *l, __u32 tgid, struct rw_proc *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.procs), &tgid, out))
		return -ENOENT;
	return 0;
}

void loader_proc_forget(struct loader *l, __u32 tgid, __u64 exec_ktime)
{
	struct rw_proc cur;

	/* a new process may have taken the pid since: keep its entry */
	if (loader_proc(l, tgid, &cur) == 0 && cur.exec_ktime == exec_ktime)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.procs), &tgid);
}

int loader_counters(struct loader *l, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(l->skel->maps.counters);
	__u64 *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < RW_CNT__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int loader_dns_name(struct loader *l, __u32 tgid, int family,
		    const __u8 *addr, char *out, size_t len)
{
	struct rw_dns_key k = { .tgid = tgid, .family = family };
	struct rw_dns_val v;
	int fd = bpf_map__fd(l->skel->maps.dns_ips);

	memcpy(k.addr, addr, family == AF_INET ? 4 : 16);
	if (bpf_map_lookup_elem(fd, &k, &v)) {
		k.tgid = 0;
		if (bpf_map_lookup_elem(fd, &k, &v))
			return -ENOENT;
	}
	v.name[sizeof(v.name) - 1] = 0;
	snprintf(out, len, "%s", v.name);
	return 0;
}

int loader_events_fd(struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

void loader_close(struct loader *l)
{
	bpf_link__destroy(l->kill_link);
	l->kill_link = NULL;
	for (int i = 0; i < l->nr_links; i++)
		bpf_link__destroy(l->links[i]);
	l->nr_links = 0;
	for (int i = 0; i < l->nr_work; i++)
		relaywatch__destroy(l->work[i]);
	l->nr_work = 0;
	relaywatch__destroy(l->skel);
	l->skel = NULL;
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	l->cgroup_fd = -1;
}
