/* SPDX-License-Identifier: MIT */
/*
 * Loader: open, size, load and attach the BPF programs, one feature at a
 * time (a program the kernel refuses turns its feature off; the others
 * still attach). With persist, the maps, programs and attachments are
 * pinned (pin.h) and outlive the daemon; a later start adopts them.
 */
#ifndef RW_LOADER_H
#define RW_LOADER_H

#include <limits.h>
#include <stdbool.h>
#include "relaywatch.h"
#include "geomap.h"
#include "pin.h"
#include "progload.h"

struct relaywatch;

struct loader_opts {
	const char *cgroup;      /* cgroup v2 directory to attach to */
	__u64 ringbuf_bytes;     /* 0 = default */
	__u32 cidr4_max, cidr6_max; /* the prefix tries' sizes; 0 = default */
	unsigned int require;    /* features (1 << enum rw_feature) that
				  * must be on, else loader_open fails */
	const char *fail_prog;   /* tests: programs (a,b) the kernel must refuse */
	bool compat;             /* tests: the hooks' build without bpf_loop */
	bool probe;              /* load only: no cgroup, nothing attached */
	bool persist;            /* pin: enforcement outlives the daemon */
	const char *version;     /* of this daemon, for the set's meta */
	struct geomap geo;       /* the country table; empty: no country */
};

/* what a persistent start found pinned for its cgroup, and did with it */
enum adopt_kind {
	ADOPT_NONE = 0,   /* nothing pinned: a new set */
	ADOPT_SAME,       /* the same build's set: taken as it is */
	ADOPT_RELOAD,     /* the same maps: this build's programs swapped in */
	ADOPT_BESIDE,     /* a set this build cannot use (its format or maps
			   * differ): a new set beside it, the old one removed
			   * once the new one enforces */
};

struct adoption {
	enum adopt_kind kind;
	struct rw_meta prev;      /* the meta of the set found, as it was */
	char why[256];            /* ADOPT_BESIDE, ADOPT_RELOAD: why */
	int removed;              /* sets removed by loader_commit */
};

#define LOADER_WORKERS 4
/* the parallel workers, one more for the tracing programs, and one more
 * instance per program a kernel refused in a worker (loaded again alone:
 * see progload.c) */
#define LOADER_WORKERS_MAX (LOADER_WORKERS + 1 + RW_PROGS_MAX)

struct loader {
	struct relaywatch *skel;  /* owns the maps; its programs stay unloaded */
	struct relaywatch *work[LOADER_WORKERS_MAX]; /* load the programs */
	int nr_work;
	int cgroup_fd;
	char cgroup[PATH_MAX];
	__u64 cgroup_id;
	__u32 cgroup_level;       /* depth below the cgroup v2 root */
	struct prog_state progs[RW_PROGS_MAX];
	int nr_progs;
	unsigned int features;   /* 1 << enum rw_feature: what is on */
	bool compat;             /* the connect/sendmsg build without bpf_loop */
	bool proc_hooks;         /* exec/fork/exit tracepoints attached */
	bool name_hooks;         /* DNS answers are mapped (dns_ips) */
	bool kill_hook;          /* sys_exit attached */
	__u32 geo_n4, geo_n6;    /* entries of the country table in force */
	/* persistence */
	bool persist;
	bool committed;           /* the set is READY (loader_commit) */
	bool made_set;            /* this start made setdir (not adopted) */
	int lock_fd;              /* flock on cgdir, held while running */
	char cgdir[128];          /* PIN_ROOT/<cgroup id> */
	char setdir[PATH_MAX];    /* this daemon's set, "" without persist */
	struct adoption adopt;
	char stale[4][160];       /* cgroups gone whose state was removed */
	int nr_stale;
	struct rw_meta meta;      /* written through kstate_meta_put */
	__u8 build[32];           /* SHA-256 of the BPF object */
};

/* Checks root, BTF and the cgroup first, so a user's mistake gets one
 * sentence; libbpf's own output is shown only with -vv. */
int loader_open(struct loader *l, const struct loader_opts *o);
/* A policy is in force (its file's SHA-256 and path): recorded in the
 * meta; the first time, the set becomes READY and the sets it replaces
 * are removed (how many: l->adopt.removed). */
int loader_commit(struct loader *l, const __u8 *policy_sha,
		  const char *policy_path);
/* Attaches or detaches the sys_exit kill hook (a kill rule needs it). */
int loader_set_kill_hook(struct loader *l, bool want);
/* Attaches program ps again (tamper: its link was detached) and pins
 * the new link over the old; 0 or -errno. */
int loader_reattach(struct loader *l, struct prog_state *ps);
/* how a loader ends */
enum loader_end {
	LOADER_FAIL,    /* a start that failed, a probe, --no-persist: what
			 * this start attached goes, and a set it made; a set
			 * it adopted stays in force */
	LOADER_KEEP,    /* a persistent daemon's exit: everything stays */
	LOADER_DETACH,  /* relaywatch detach: the set goes, adopted or not */
};
void loader_close(struct loader *l, enum loader_end how);

/* absolute, existing cgroup v2 directory? 0 or -errno with a reason */
int cgroup_check_v2(const char *path, char *err, size_t errlen);
/* the depth of a cgroup v2 directory below the root it is mounted at */
int cgroup_level_of(const char *path, __u32 *level);

#endif
