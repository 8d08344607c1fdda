// SPDX-License-Identifier: MIT
/*
 * Open → size → load → attach, always split, so a failure names its stage.
 * The policy reaches the kernel as: a rules array (conditions per rule), two
 * LPM tries whose value for a prefix is the mask of every rule whose CIDR
 * list contains that prefix (computed here, once, so the kernel needs one
 * longest-prefix lookup), and a settings entry.
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
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "relaywatch.skel.h"
#include "loader.h"
#include "policy.h"
#include "cidr.h"
#include "proc.h"
#include "log.h"

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

	ret = relaywatch__load(skel);
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
	struct bpf_program *cg_progs[] = {
		skel->progs.connect4, skel->progs.connect6,
		skel->progs.sendmsg4, skel->progs.sendmsg6,
	};
	for (size_t i = 0; i < 4; i++) {
		ret = attach(l, cg_progs[i], true);
		if (ret) {
			pr_warn("failed to attach %s to %s: %s",
				bpf_program__name(cg_progs[i]), o->cgroup,
				strerror(-ret));
			goto fail;
		}
	}
	/* The process table is an improvement, not a precondition: without
	 * BTF tracepoints attribution falls back to /proc. */
	l->proc_hooks = true;
	struct bpf_program *tp_progs[] = {
		skel->progs.handle_exec, skel->progs.handle_fork,
		skel->progs.handle_exit,
	};
	for (size_t i = 0; i < 3; i++) {
		ret = attach(l, tp_progs[i], false);
		if (ret) {
			pr_warn("process table disabled: cannot attach %s (%s); "
				"short-lived processes may lack attribution "
				"and exe rules match only processes seen at "
				"start-up", bpf_program__name(tp_progs[i]),
				strerror(-ret));
			l->proc_hooks = false;
			break;
		}
	}
	return 0;
fail:
	loader_close(l);
	return ret;
}

static int set_kill_hook(struct loader *l, bool want)
{
	if (want == l->kill_hook)
		return 0;
	if (!want) {
		bpf_link__destroy(l->kill_link);
		l->kill_link = NULL;
		l->kill_hook = false;
		return 0;
	}
	l->kill_link = bpf_program__attach(l->skel->progs.sys_exit);
	if (!l->kill_link) {
		int ret = -errno;

		pr_warn("in-kernel kill unavailable: cannot attach sys_exit "
			"(%s); kill rules fall back to a userspace SIGKILL "
			"after the call returns", strerror(-ret));
		return 0;
	}
	l->kill_hook = true;
	return 0;
}

struct lpm_ent {
	struct cidr c;
	__u64 mask;
};

static int lpm_cmp(const void *a, const void *b)
{
	const struct lpm_ent *x = a, *y = b;
	int r = memcmp(x->c.addr, y->c.addr, 16);

	if (r)
		return r;
	return (int)x->c.prefixlen - (int)y->c.prefixlen;
}

/*
 * Each prefix gets the rules of every prefix that encloses it, so the
 * longest match alone yields all rules whose lists contain the address.
 * Sorted by (address, length), an enclosing prefix comes before what it
 * encloses; a stack holds the chain of enclosing prefixes.
 */
static int write_lpm(struct bpf_map *map, struct lpm_ent *v, size_t n,
		     int family)
{
	size_t i, out = 0, depth = 0;
	struct lpm_ent **stack;
	int ret = 0;

	qsort(v, n, sizeof(*v), lpm_cmp);
	for (i = 0; i < n; i++) {
		if (out && !lpm_cmp(&v[out - 1], &v[i]))
			v[out - 1].mask |= v[i].mask;
		else
			v[out++] = v[i];
	}
	stack = calloc(out + 1, sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	for (i = 0; i < out; i++) {
		while (depth && !cidr_contains(&stack[depth - 1]->c, family,
					       v[i].c.addr))
			depth--;
		if (depth)
			v[i].mask |= stack[depth - 1]->mask;
		stack[depth++] = &v[i];

		struct rw_lpm6 key = { .prefixlen = v[i].c.prefixlen };

		memcpy(key.addr, v[i].c.addr, family == AF_INET ? 4 : 16);
		if (bpf_map_update_elem(bpf_map__fd(map), &key, &v[i].mask,
					BPF_ANY)) {
			ret = -errno;
			break;
		}
	}
	free(stack);
	return ret;
}

static int clear_map(struct bpf_map *map, size_t key_size)
{
	char key[64], next[64];
	int fd = bpf_map__fd(map);

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

int loader_apply_policy(struct loader *l, const struct policy *p,
			__u64 dedup_ns, char *err, size_t errlen)
{
	struct rw_settings s = { .dedup_ns = dedup_ns };
	struct lpm_ent *v4 = NULL, *v6 = NULL;
	size_t n4 = 0, n6 = 0, total = 0;
	bool has_kill = false;
	__u32 i, zero = 0;
	int ret = 0;

	for (i = 0; i < p->nr_rules; i++)
		total += p->rules[i].nr_cidrs;
	v4 = calloc(total + 1, sizeof(*v4));
	v6 = calloc(total + 1, sizeof(*v6));
	if (!v4 || !v6) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < p->nr_rules; i++) {
		const struct policy_rule *pr = &p->rules[i];
		struct rw_rule r = { .action = pr->action, .proto = pr->proto,
				     .port = pr->port };

		if (policy_rule_mode(p, pr) == POLICY_ENFORCE)
			r.flags |= RW_RF_ENFORCE;
		if (pr->has_uid) {
			r.flags |= RW_RF_UID;
			r.uid = pr->uid;
		}
		if (pr->exe) {
			struct stat st;

			if (stat(pr->exe, &st) < 0) {
				ret = -errno;
				snprintf(err, errlen, "%s:%d: rule %s: exe %s: %s",
					 p->path, pr->line, pr->name, pr->exe,
					 strerror(errno));
				goto cleanup;
			}
			r.flags |= RW_RF_EXE;
			r.exe_dev = dev_to_kernel(st.st_dev);
			r.exe_ino = st.st_ino;
		}
		if (pr->action == RW_ACT_KILL && (r.flags & RW_RF_ENFORCE))
			has_kill = true;
		if (!pr->nr_cidrs)
			s.any_mask |= 1ULL << i;
		for (size_t j = 0; j < pr->nr_cidrs; j++) {
			struct lpm_ent *e = pr->cidrs[j].family == AF_INET ?
						    &v4[n4++] : &v6[n6++];

			e->c = pr->cidrs[j];
			e->mask = 1ULL << i;
		}
		if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.rules), &i,
					&r, BPF_ANY)) {
			ret = -errno;
			snprintf(err, errlen, "failed to write rule %s: %s",
				 pr->name, strerror(errno));
			goto cleanup;
		}
	}
	s.nr_rules = p->nr_rules;
	s.has_kill = has_kill;

	ret = clear_map(l->skel->maps.cidr4, sizeof(struct rw_lpm4));
	if (!ret)
		ret = clear_map(l->skel->maps.cidr6, sizeof(struct rw_lpm6));
	if (!ret)
		ret = write_lpm(l->skel->maps.cidr4, v4, n4, AF_INET);
	if (!ret)
		ret = write_lpm(l->skel->maps.cidr6, v6, n6, AF_INET6);
	if (ret) {
		snprintf(err, errlen, "failed to write the CIDR tries: %s",
			 strerror(-ret));
		goto cleanup;
	}
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.settings), &zero,
				&s, BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "failed to write settings: %s",
			 strerror(errno));
		goto cleanup;
	}
	ret = set_kill_hook(l, has_kill);
cleanup:
	free(v4);
	free(v6);
	return ret;
}

/* a process that existed before the exec tracepoint was attached */
static void seed_one(int fd, pid_t pid)
{
	struct rw_proc e = {};
	struct proc_info *pi;
	char path[64];
	struct stat st;
	__u32 key = pid;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st) < 0)
		return; /* kernel thread or gone */
	pi = calloc(1, sizeof(*pi));
	if (!pi || proc_read(pid, pi) < 0) {
		free(pi);
		return;
	}
	e.ppid = pi->ppid;
	e.uid = pi->uid;
	e.exe_dev = dev_to_kernel(st.st_dev);
	e.exe_ino = st.st_ino;
	snprintf(e.comm, sizeof(e.comm), "%s", pi->comm);
	snprintf(e.exe, sizeof(e.exe), "%.*s", (int)sizeof(e.exe) - 1, pi->exe);
	free(pi);
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
	relaywatch__destroy(l->skel);
	l->skel = NULL;
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	l->cgroup_fd = -1;
}
