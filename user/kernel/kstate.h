/* SPDX-License-Identifier: MIT */
/* The kernel's maps as the daemon reads and writes them while it runs:
 * the process table, DNS names, counters, the set's meta and heartbeat. */
#ifndef RW_KSTATE_H
#define RW_KSTATE_H

#include <stddef.h>
#include "relaywatch.h"

struct loader;

/* Seeds the process table with processes that existed before start-up. */
int kstate_seed_procs(struct loader *l);
/* Marks the processes of the watched cgroup (and below) as inside it, so
 * one that leaves is reported; nothing when the whole host is watched. */
int kstate_seed_inside(struct loader *l);
/* The kernel's process-table entry for tgid; 0 or -ENOENT. */
int kstate_proc(struct loader *l, __u32 tgid, struct rw_proc *out);
/* Forgets tgid's entry if it still belongs to the exec at exec_ktime. */
void kstate_proc_forget(struct loader *l, __u32 tgid, __u64 exec_ktime);
/* The name a DNS answer gave tgid (else the host) for an address. */
int kstate_dns_name(struct loader *l, __u32 tgid, int family,
		    const __u8 *addr, char *out, size_t len);
/* Sums the per-CPU counters into out[RW_CNT__MAX]. */
int kstate_counters(struct loader *l, __u64 *out);
/* The same, of a counters map by fd (a pinned set's). */
int kstate_counters_fd(int fd, __u64 *out);
int kstate_events_fd(struct loader *l);
/* The policy generation in force (0 or 1). */
unsigned kstate_active_gen(struct loader *l);
/* Writes l->meta into the set's meta map. */
int kstate_meta_put(struct loader *l);
/* The daemon has read the ring: consumed matched events so far (by every
 * daemon of the set) and the counters read before that drain. */
int kstate_heartbeat(struct loader *l, __u64 consumed, const __u64 *counters);
/* The ring's fill: bytes waiting to be read, and its size; 0 or -errno */
int kstate_ring_fill(int events_fd, __u64 *used, __u64 *size);

#endif
