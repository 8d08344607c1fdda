/* SPDX-License-Identifier: MIT */
/*
 * Every map and load-time knob of relaywatch, in one place. Each .bpf.c unit
 * includes this header; the definitions are __weak so that `bpftool gen
 * object` merges the identical copies into one map each.
 */
#ifndef RW_MAPS_BPF_H
#define RW_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "relaywatch.h"

/* sizes the loader may change before load (bpf_map__set_max_entries) */
#define RW_PROCS_MAX 16384
#define RW_TAGS_MAX 16384
#define RW_DEDUP_MAX 65536
#define RW_CIDR_MAX 262144

/* how the egress hook may ask who sends (RW_SENDER_*, relaywatch.h) */
const volatile __u8 cfg_sender __weak = 0;

/* wake the reader only once this much is waiting (set by the loader) */
const volatile __u64 cfg_wakeup_bytes __weak = 256 * 1024;

/*
 * Events to the daemon (--ringbuf-kb). A connect event is 104 bytes with
 * its ring header: 2 MiB hold ~20,000, i.e. 100 ms at 200,000 events/s,
 * about twice the fastest stream of distinct matches seen on a 2-core
 * machine (a connect() loop to new destinations; repeats are folded).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 * 1024 * 1024);
} events __weak SEC(".maps");

/* per-CPU counters, indexed by enum rw_counter */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RW_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters __weak SEC(".maps");

/* the generation of the policy in force (entry 0); see RW_GENS */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} active __weak SEC(".maps");

/* policy-wide settings, one per generation */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RW_GENS);
	__type(key, __u32);
	__type(value, struct rw_settings);
} settings __weak SEC(".maps");

/* rules by gen * RW_MAX_RULES + position in the policy */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RW_GENS * RW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct rw_rule);
} rules __weak SEC(".maps");

/* IPv4 destination sets: (gen, prefix) -> rules per kind */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RW_CIDR_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rw_lpm4);
	__type(value, struct rw_dest);
} cidr4 __weak SEC(".maps");

/* IPv6 destination sets, same values */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RW_CIDR_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rw_lpm6);
	__type(value, struct rw_dest);
} cidr6 __weak SEC(".maps");

/* the country table (relaywatch.h): sized by the loader to the table,
 * written through mmap */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct rw_geo4);
} geo4 __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct rw_geo6);
} geo6 __weak SEC(".maps");

/* per generation and country: its rules, and home or not */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RW_GENS * RW_NR_CC);
	__type(key, __u32);
	__type(value, struct rw_cc);
} ccrules __weak SEC(".maps");

/* binaries that exe rules accept: (inode, dev, gen) -> rules */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rw_exe_key);
	__type(value, __u64);
} exes __weak SEC(".maps");

/* process table: tgid -> exec-time snapshot */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_PROCS_MAX);
	__type(key, __u32);
	__type(value, struct rw_proc);
} procs __weak SEC(".maps");

/* per-process tags: tgid -> what it touched */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_TAGS_MAX);
	__type(key, __u32);
	__type(value, struct rw_tag);
} tags __weak SEC(".maps");

/* one event per window per (process, destination, rule) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_DEDUP_MAX);
	__type(key, struct rw_dedup_key);
	__type(value, struct rw_dedup_val);
} dedup __weak SEC(".maps");

/* names that rules refer to: (hash, gen, wildcard) -> rules */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rw_name_key);
	__type(value, struct rw_name_val);
} names __weak SEC(".maps");

/* addresses learned from DNS answers, per process and host-wide */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rw_dns_key);
	__type(value, struct rw_dns_val);
} dns_ips __weak SEC(".maps");

/* per-socket state of flows that matched, and of DNS client sockets */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct rw_flow);
} flows __weak SEC(".maps");

/* TCP flows waiting for their first bytes (struct rw_pending) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RW_PENDING_SLOTS);
	__type(key, __u32);
	__type(value, struct rw_pending);
} pending __weak SEC(".maps");

static __always_inline struct rw_pending *pending_slot(__u64 cookie)
{
	__u32 k = cookie & (RW_PENDING_SLOTS - 1);

	return bpf_map_lookup_elem(&pending, &k);
}

/* processes to kill at their next syscall exit: tgid -> rule (set where
 * the caller's thread is not known, e.g. at a packet) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct rw_kill);
} killtg __weak SEC(".maps");

/* kills waiting for their thread's syscall exit: tid -> rule */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct rw_kill);
} kills __weak SEC(".maps");

/* what this set of pinned state is, and the daemon's heartbeat */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_meta);
} meta __weak SEC(".maps");

/* processes inside the watched cgroup, when it is not the root: tgid ->
 * 1 (seeded by the daemon, followed through fork and cgroup moves), so
 * that one moving out can be told (cgroup_attach_task runs after the
 * move) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RW_PROCS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} inside __weak SEC(".maps");

/* scratch space for building a process snapshot (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_proc);
} proc_scratch __weak SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/* an event the full ring buffer could not take: by class and by type */
static __always_inline void count_lost(__u32 idx, __u16 type)
{
	count(idx);
	if (type < RW_CNT_LOST_TYPES)
		count(RW_CNT_LOST_TYPE + type);
}

/* every record's header; now = 0 reads the clock */
static __always_inline void hdr_init(struct rw_event_hdr *h, __u16 type,
				     __u16 size, __u64 now)
{
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ktime = now ? now : bpf_ktime_get_boot_ns();
}

/* a zeroed record of this size and type, or NULL: the ring buffer is full,
 * and the loss is counted in `lost` */
static __always_inline void *event_new(__u16 size, __u16 type, __u32 lost)
{
	struct rw_event_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		count_lost(lost, type);
		return NULL;
	}
	__builtin_memset(h, 0, size);
	hdr_init(h, type, size, 0);
	return h;
}

/* submit without waking the reader unless a backlog has built up */
static __always_inline void submit(void *rec, bool urgent)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(rec, urgent || avail >= cfg_wakeup_bytes ?
					BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif /* RW_MAPS_BPF_H */
