// SPDX-License-Identifier: MIT
/*
 * What the daemon reads from and writes to the kernel's maps while it
 * runs, apart from the policy (enforce.c): the process table, names from
 * DNS answers, the counters, the set's meta (heartbeat), and the seeding
 * of the tables with what existed before the hooks were attached.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relaywatch.skel.h"
#include "kstate.h"
#include "loader.h"
#include "proc.h"
#include "util.h"

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

int kstate_seed_procs(struct loader *l)
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

int kstate_proc(struct loader *l, __u32 tgid, struct rw_proc *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.procs), &tgid, out))
		return -ENOENT;
	return 0;
}

void kstate_proc_forget(struct loader *l, __u32 tgid, __u64 exec_ktime)
{
	struct rw_proc cur;

	/* a new process may have taken the pid since: keep its entry */
	if (kstate_proc(l, tgid, &cur) == 0 && cur.exec_ktime == exec_ktime)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.procs), &tgid);
}

int kstate_counters_fd(int fd, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
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

int kstate_counters(struct loader *l, __u64 *out)
{
	return kstate_counters_fd(bpf_map__fd(l->skel->maps.counters), out);
}

int kstate_dns_name(struct loader *l, __u32 tgid, int family,
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

int kstate_events_fd(struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}


unsigned kstate_active_gen(struct loader *l)
{
	__u32 zero = 0, gen = 0;

	bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.active), &zero, &gen);
	return gen & 1;
}

int kstate_meta_put(struct loader *l)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(l->skel->maps.meta), &zero,
				   &l->meta, BPF_ANY) ? -errno : 0;
}

int kstate_heartbeat(struct loader *l, __u64 consumed, const __u64 *counters)
{
	l->meta.heartbeat = boot_ns();
	l->meta.heartbeat_wall = wall_ns();
	l->meta.consumed = consumed;
	memcpy(l->meta.counters, counters, sizeof(l->meta.counters));
	return kstate_meta_put(l);
}

/* every cgroup.procs below dir */
static void seed_inside_dir(int map_fd, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	__u8 one = 1;
	FILE *f;
	DIR *d;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (f) {
		while (fscanf(f, "%d", &pid) == 1) {
			__u32 k = pid;

			bpf_map_update_elem(map_fd, &k, &one, BPF_ANY);
		}
		fclose(f);
	}
	if (depth > 32 || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			seed_inside_dir(map_fd, path, depth + 1);
		}
	closedir(d);
}

int kstate_seed_inside(struct loader *l)
{
	if (!l->cgroup_level)
		return 0;
	seed_inside_dir(bpf_map__fd(l->skel->maps.inside), l->cgroup, 0);
	return 0;
}

int kstate_ring_fill(int fd, __u64 *used, __u64 *size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	volatile __u64 *cons, *prod;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	/* the consumer position, then the producer's: read-only views */
	cons = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		munmap((void *)cons, page);
		return -errno;
	}
	*used = *prod - *cons;
	*size = info.max_entries;
	munmap((void *)cons, page);
	munmap((void *)prod, page);
	return 0;
}
