/* SPDX-License-Identifier: MIT */
/* Loader: open, size, load and attach the BPF programs; detach on close
 * (links are not pinned, so nothing outlives the daemon). A program the
 * kernel refuses turns its feature off; the others still attach. */
#ifndef RW_LOADER_H
#define RW_LOADER_H

#include <stdbool.h>
#include "relaywatch.h"
#include "progload.h"

struct relaywatch;

struct loader_opts {
	const char *cgroup;      /* cgroup v2 directory to attach to */
	__u64 ringbuf_bytes;     /* 0 = default */
	unsigned int require;    /* features (1 << enum rw_feature) that
				  * must be on, else loader_open fails */
	const char *fail_prog;   /* tests: programs (a,b) the kernel must refuse */
	bool compat;             /* tests: the hooks' build without bpf_loop */
	bool probe;              /* load only: no cgroup, nothing attached */
};

#define LOADER_WORKERS 4
/* the parallel workers, and one more instance per program a kernel
 * refused in a worker (loaded again alone: see progload.c) */
#define LOADER_WORKERS_MAX (LOADER_WORKERS + RW_PROGS_MAX)

struct loader {
	struct relaywatch *skel;  /* owns the maps; its programs stay unloaded */
	struct relaywatch *work[LOADER_WORKERS_MAX]; /* load the programs */
	int nr_work;
	int cgroup_fd;
	char cgroup[4096];
	struct prog_state progs[RW_PROGS_MAX];
	int nr_progs;
	unsigned int features;   /* 1 << enum rw_feature: what is on */
	bool compat;             /* the connect/sendmsg build without bpf_loop */
	bool proc_hooks;         /* exec/fork/exit tracepoints attached */
	bool name_hooks;         /* DNS answers are mapped (dns_ips) */
	bool kill_hook;          /* sys_exit attached */
	struct bpf_link *links[RW_PROGS_MAX];
	int nr_links;
	struct bpf_link *kill_link;
};

/* Checks root, BTF and the cgroup first, so a user's mistake gets one
 * sentence; libbpf's own output is shown only with -vv. */
int loader_open(struct loader *l, const struct loader_opts *o);
/* Attaches or detaches the sys_exit kill hook (a kill rule needs it). */
int loader_set_kill_hook(struct loader *l, bool want);
/* Seeds the process table with processes that existed before start-up. */
int loader_seed_procs(struct loader *l);
/* The kernel's process-table entry for tgid; 0 or -ENOENT. */
int loader_proc(struct loader *l, __u32 tgid, struct rw_proc *out);
/* Forgets tgid's entry if it still belongs to the exec at exec_ktime. */
void loader_proc_forget(struct loader *l, __u32 tgid, __u64 exec_ktime);
/* The name a DNS answer gave tgid (else the host) for an address. */
int loader_dns_name(struct loader *l, __u32 tgid, int family,
		    const __u8 *addr, char *out, size_t len);
/* Sums the per-CPU counters into out[RW_CNT__MAX]. */
int loader_counters(struct loader *l, __u64 *out);
void loader_close(struct loader *l);
int loader_events_fd(struct loader *l);

/* absolute, existing cgroup v2 directory? 0 or -errno with a reason */
int cgroup_check_v2(const char *path, char *err, size_t errlen);

#endif
