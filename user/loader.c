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
	link = cg ? bpf_program__attach_cgroup(prog, l->cgroup_fd)
		  : bpf_program__attach(prog);
	if (!link)
		return -errno;
	l->links[l->nr_links++] = link;
	return 0;
}

/*
 * The verifier is most of the start-up, and it checks one program on one
 * CPU. So the maps are created once, by an instance of the object whose
 * programs stay unloaded, and the programs are loaded by more instances,
 * one per CPU (up to LOADER_WORKERS), each sharing those maps by fd, in
 * parallel threads. Weights: each program's verification time in ms on
 * 6.18 (-vv prints the time per worker); the heaviest go first, each to
 * the least loaded worker.
 */
static const struct { const char *name; int ms; } prog_cost[] = {
	{ "flow_egress", 58 }, { "dns_ingress", 37 }, { "connect6", 26 },
	{ "sendmsg6", 14 }, { "connect4", 12 }, { "sendmsg4", 7 },
};

static int cost_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(prog_cost); i++)
		if (!strcmp(prog_cost[i].name, name))
			return prog_cost[i].ms;
	return 1;
}

struct load_job {
	struct bpf_object *obj;
	int cost;                /* estimated ms */
	int ret;
	double ms;
};

static void *load_worker(void *arg)
{
	struct load_job *j = arg;
	__u64 t0 = mono_ns();

	j->ret = bpf_object__load(j->obj);
	j->ms = (mono_ns() - t0) / 1e6;
	return NULL;
}

/* the loaded instance of a program, from whichever worker loaded it */
static struct bpf_program *prog(struct loader *l, const char *name)
{
	for (int i = 0; i < l->nr_work; i++) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(l->work[i]->obj, name);

		if (p && bpf_program__autoload(p))
			return p;
	}
	return NULL;
}

/* a worker instance: every map is the owner's, no program is loaded yet */
static int open_worker(struct loader *l, struct load_job *j)
{
	struct relaywatch *w = relaywatch__open();
	struct bpf_program *p;
	struct bpf_map *m;
	int ret;

	if (!w)
		return -errno;
	l->work[l->nr_work++] = w;
	j->obj = w->obj;
	bpf_object__for_each_program(p, w->obj)
		bpf_program__set_autoload(p, false);
	bpf_object__for_each_map(m, w->obj) {
		struct bpf_map *own = bpf_object__find_map_by_name(
			l->skel->obj, bpf_map__name(m));

		ret = own ? bpf_map__reuse_fd(m, bpf_map__fd(own)) : -ENOENT;
		if (ret)
			return ret;
	}
	return 0;
}

static int by_cost(const void *a, const void *b)
{
	return cost_of(*(const char *const *)b) -
	       cost_of(*(const char *const *)a);
}

static int load_parallel(struct loader *l)
{
	struct load_job jobs[LOADER_WORKERS] = {};
	pthread_t tid[LOADER_WORKERS];
	bool threaded[LOADER_WORKERS] = {};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const char *names[32];
	struct bpf_program *p;
	size_t nr = 0;
	int n, ret;

	n = ncpu < 1 ? 1 : ncpu > LOADER_WORKERS ? LOADER_WORKERS : ncpu;
	for (int i = 0; i < n; i++) {
		ret = open_worker(l, &jobs[i]);
		if (ret)
			return ret;
	}
	bpf_object__for_each_program(p, l->skel->obj) {
		if (nr == ARRAY_SIZE(names))
			return -E2BIG;
		names[nr++] = bpf_program__name(p);
	}
	qsort(names, nr, sizeof(names[0]), by_cost);
	for (size_t k = 0; k < nr; k++) {
		int w = 0;

		for (int i = 1; i < n; i++)
			if (jobs[i].cost < jobs[w].cost)
				w = i;
		jobs[w].cost += cost_of(names[k]);
		bpf_program__set_autoload(bpf_object__find_program_by_name(
			jobs[w].obj, names[k]), true);
	}
	for (int i = 1; i < n; i++)
		threaded[i] = !pthread_create(&tid[i], NULL, load_worker,
					      &jobs[i]);
	for (int i = 0; i < n; i++)
		if (!threaded[i])
			load_worker(&jobs[i]); /* this thread's share */
	ret = 0;
	for (int i = 0; i < n; i++) {
		if (threaded[i])
			pthread_join(tid[i], NULL);
		pr_debug("load worker %d: %d ms estimated, %.0f ms taken", i,
			 jobs[i].cost, jobs[i].ms);
		if (jobs[i].ret && !ret)
			ret = jobs[i].ret;
	}
	return ret;
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
	ret = cgroup_check_v2(o->cgroup, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return ret;
	}
	snprintf(l->cgroup, sizeof(l->cgroup), "%s", o->cgroup);

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
	if (!ret)
		ret = load_parallel(l);
	if (ret) {
		pr_warn("failed to load the BPF programs: %s (run with -vv "
			"for the verifier log)", strerror(-ret));
		goto fail;
	}

	l->cgroup_fd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		ret = -errno;
		pr_warn("failed to open cgroup %s: %s", o->cgroup,
			strerror(-ret));
		goto fail;
	}
	static const char *const cg_progs[] = {
		"connect4", "connect6", "sendmsg4", "sendmsg6",
	};
	for (size_t i = 0; i < ARRAY_SIZE(cg_progs); i++) {
		ret = attach(l, prog(l, cg_progs[i]), true);
		if (ret) {
			pr_warn("failed to attach %s to %s: %s", cg_progs[i],
				o->cgroup, strerror(-ret));
			goto fail;
		}
	}
	/* Names (DNS answers, first bytes) need the packet hooks; without
	 * them decisions fall back to addresses, said once. */
	l->name_hooks = true;
	static const char *const skb_progs[] = {
		"dns_ingress", "flow_egress", "sock_release",
	};
	for (size_t i = 0; i < ARRAY_SIZE(skb_progs); i++) {
		ret = attach(l, prog(l, skb_progs[i]), true);
		if (ret) {
			pr_warn("name-aware detection disabled: cannot attach "
				"%s to %s (%s); rules decide on addresses only",
				skb_progs[i], o->cgroup, strerror(-ret));
			l->name_hooks = false;
			break;
		}
	}
	/* The process table is an improvement, not a precondition: without
	 * BTF tracepoints attribution falls back to /proc. */
	l->proc_hooks = true;
	static const char *const tp_progs[] = {
		"handle_exec", "handle_fork", "handle_exit",
	};
	for (size_t i = 0; i < ARRAY_SIZE(tp_progs); i++) {
		ret = attach(l, prog(l, tp_progs[i]), false);
		if (ret) {
			pr_warn("process table disabled: cannot attach %s (%s); "
				"short-lived processes may lack attribution "
				"and exe rules match only processes seen at "
				"start-up", tp_progs[i], strerror(-ret));
			l->proc_hooks = false;
			break;
		}
	}
	return 0;
fail:
	loader_close(l);
	return ret;
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
	l->kill_link = bpf_program__attach(prog(l, "sys_exit"));
	if (!l->kill_link) {
		int ret = -errno;

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
