/* SPDX-License-Identifier: MIT */
/*
 * What repeats is folded before it is attributed or written, so a busy
 * process costs the daemon and the log little, and every total still adds
 * up:
 * - flows: the first flow of a (process, destination, rule) in a window
 *   (--dedup-ms, as the kernel folds connects) is written as it comes;
 *   the others of the window are summed into one flow record at its end
 *   (`flows` says how many it stands for, bytes and packets summed);
 * - a per-process cap: at most N records a second for one process
 *   (--process-rate); the rest are counted and said in one
 *   `rate_limited` record for the process when its second ends.
 * Tables are bounded; when one is full, records are written unfolded
 * (never dropped).
 */
#ifndef RW_FOLD_H
#define RW_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include "relaywatch.h"

#define FOLD_FLOWS 4096       /* keys of flows being folded */
#define FOLD_PROCS 1024       /* processes being rate counted */
#define FOLD_TYPES 16

struct fold_flow {
	bool used;
	__u64 start_ns;           /* the window's start */
	__u64 flows;              /* folded into agg so far */
	struct rw_flow_event agg; /* their sums, the last one's fields */
};

struct fold_proc {
	__u32 tgid;               /* 0: free */
	__u64 start_ns;
	__u32 records;            /* written in this second */
	__u64 capped;             /* not written in this second */
	__u64 capped_by[FOLD_TYPES]; /* by enum rw_event_type */
};

struct fold {
	__u64 window_ns;          /* 0: flows not folded */
	__u32 rate;               /* records per process per second; 0 off */
	struct fold_flow *flows;
	struct fold_proc *procs;
	__u64 folded_flows;       /* flows summed into a later record */
	__u64 capped;             /* records not written for the cap */
};

int fold_init(struct fold *f, __u64 window_ns, __u32 rate);
void fold_free(struct fold *f);
/* a flow: true when it is written now, false when it was folded */
bool fold_flow(struct fold *f, const struct rw_flow_event *e, __u64 now_ns);
/* a record of tgid of this event type about to be written: true when
 * the cap lets it through, false when it was counted instead */
bool fold_admit(struct fold *f, __u32 tgid, int type, __u64 now_ns);
/* a process exits: what the cap held back for it in its last second
 * (n 0: nothing), and it is forgotten */
void fold_take_proc(struct fold *f, __u32 tgid, __u64 *n, __u64 *by_type);
/* windows that ended (all: every one, at exit): flow(agg, flows) for
 * each folded flow, capped(tgid, n, by_type) for each capped process */
void fold_flush(struct fold *f, __u64 now_ns, bool all,
		void (*flow)(void *ctx, const struct rw_flow_event *agg,
			     __u64 flows),
		void (*capped)(void *ctx, __u32 tgid, __u64 n,
			       const __u64 *by_type),
		void *ctx);

#endif
