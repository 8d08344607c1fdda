// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * cgroup/connect4|6 and cgroup/sendmsg4|6: the decision point. These hooks
 * run in the calling process before any packet leaves, on every kernel with
 * cgroup v2 — no kprobes, fentry or BPF LSM needed. A destination is looked
 * up in the CIDR tries, the candidate rules are tried in policy order, and a
 * deny returns 0 so the caller gets EPERM. A kill also leaves a note for the
 * syscall-exit tracepoint (proc.bpf.c), which sends SIGKILL before the call
 * returns to user space.
 */
#include "maps.bpf.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AF_INET 2
#define AF_INET6 10

struct dest {
	__u8 addr[16];
	__u16 port;     /* host order */
	__u8 family;    /* socket family */
	__u8 v4;        /* judged as IPv4 (AF_INET or v4-mapped) */
};

static __always_inline __u64 lookup_cidr(const struct dest *d)
{
	__u64 *mask;

	if (d->v4) {
		struct rw_lpm4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, d->addr, 4);
		mask = bpf_map_lookup_elem(&cidr4, &k);
	} else {
		struct rw_lpm6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, d->addr, 16);
		mask = bpf_map_lookup_elem(&cidr6, &k);
	}
	return mask ? *mask : 0;
}

/* first candidate rule, in policy order, whose conditions all hold */
static __always_inline int pick_rule(__u64 cand, const struct dest *d,
				     __u8 proto, __u32 uid,
				     const struct rw_proc *proc)
{
	for (__u32 i = 0; i < RW_MAX_RULES; i++) {
		struct rw_rule *r;

		if (!(cand & (1ULL << i)))
			continue;
		r = bpf_map_lookup_elem(&rules, &i);
		if (!r)
			return -1;
		if (r->port && r->port != d->port)
			continue;
		if (r->proto && r->proto != proto)
			continue;
		if ((r->flags & RW_RF_UID) && r->uid != uid)
			continue;
		if ((r->flags & RW_RF_EXE) &&
		    (!proc || proc->exe_ino != r->exe_ino ||
		     proc->exe_dev != r->exe_dev))
			continue;
		return i;
	}
	return -1;
}

static __always_inline void tag(__u32 tgid, int rule, __u8 action, __u64 now)
{
	struct rw_tag *t = bpf_map_lookup_elem(&tags, &tgid);

	if (!t) {
		struct rw_tag n = { .first_ktime = now };

		bpf_map_update_elem(&tags, &tgid, &n, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&tags, &tgid);
		if (!t)
			return;
	}
	t->last_ktime = now;
	__sync_fetch_and_add(&t->matches, 1);
	__sync_fetch_and_or(&t->rules, 1ULL << (rule & 63));
	__sync_fetch_and_or(&t->actions, 1U << action);
}

/*
 * true if this match should be reported now; *folded receives the matches
 * suppressed since the last report of the same (process, dest, rule).
 */
static __always_inline bool dedup_pass(struct rw_dedup_key *k, __u64 now,
				       __u64 window, __u32 *folded)
{
	struct rw_dedup_val *v, n = { .last_ktime = now };

	*folded = 0;
	if (!window)
		return true;
	v = bpf_map_lookup_elem(&dedup, k);
	if (!v) {
		bpf_map_update_elem(&dedup, k, &n, BPF_ANY);
		return true;
	}
	if (now - v->last_ktime < window) {
		__sync_fetch_and_add(&v->suppressed, 1);
		return false;
	}
	v->last_ktime = now;
	*folded = __sync_lock_test_and_set(&v->suppressed, 0);
	return true;
}

static __always_inline void emit(struct bpf_sock_addr *ctx, __u16 type,
				 const struct dest *d, int rule,
				 const struct rw_rule *r, __u8 flags,
				 __u64 id, __u64 ugid, __u64 now,
				 const struct rw_proc *proc,
				 struct rw_dedup_key *k, __u32 folded)
{
	struct rw_net_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(RW_CNT_RB_FULL);
		/* carry what this event would have reported to the next one */
		if (folded) {
			struct rw_dedup_val *v = bpf_map_lookup_elem(&dedup, k);

			if (v)
				__sync_fetch_and_add(&v->suppressed, folded);
		}
		return;
	}
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ktime = now;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)ugid;
	e->gid = ugid >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(e->daddr, d->addr, 16);
	e->dport = d->port;
	e->family = d->family;
	e->proto = ctx->protocol;
	e->action = r->action;
	e->rule = rule;
	e->pad = 0;
	e->pad2 = 0;
	e->suppressed = folded;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (proc) {
		__builtin_memcpy(&e->proc, proc, sizeof(e->proc));
		flags |= RW_NF_PROC;
	} else {
		__builtin_memset(&e->proc, 0, sizeof(e->proc));
	}
	e->flags = flags;
	count(RW_CNT_EMITTED);
	submit(e, r->action == RW_ACT_KILL && (flags & RW_NF_ENFORCED));
}

/* returns 1 to let the call through, 0 to fail it with EPERM */
static __always_inline int judge(struct bpf_sock_addr *ctx, __u16 type,
				 const struct dest *d)
{
	__u32 zero = 0, tgid, tid;
	struct rw_settings *s = bpf_map_lookup_elem(&settings, &zero);
	struct rw_dedup_key k = {};
	struct rw_proc *proc;
	struct rw_rule *r;
	__u64 cand, id, ugid, now;
	__u32 folded;
	__u8 proto = ctx->protocol, flags = 0;
	int rule;

	if (!s || !s->nr_rules)
		return 1;
	cand = lookup_cidr(d) | s->any_mask;
	if (!cand)
		return 1;

	id = bpf_get_current_pid_tgid();
	ugid = bpf_get_current_uid_gid();
	tgid = id >> 32;
	tid = (__u32)id;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	rule = pick_rule(cand, d, proto, (__u32)ugid, proc);
	if (rule < 0)
		return 1;
	r = bpf_map_lookup_elem(&rules, &rule);
	if (!r || r->action >= RW_ACT__MAX || r->action == RW_ACT_NONE)
		return 1;

	now = bpf_ktime_get_boot_ns();
	count(RW_CNT_MATCHED);
	count(RW_CNT_ACT_ALLOW + r->action - 1);
	tag(tgid, rule, r->action, now);
	if (d->v4 && d->family == AF_INET6)
		flags |= RW_NF_MAPPED;
	if ((r->flags & RW_RF_ENFORCE) && r->action >= RW_ACT_DENY) {
		flags |= RW_NF_ENFORCED;
		count(RW_CNT_BLOCKED);
		if (r->action == RW_ACT_KILL) {
			struct rw_kill kv = { .tgid = tgid, .rule = rule };

			bpf_map_update_elem(&kills, &tid, &kv, BPF_ANY);
		}
	}

	k.tgid = tgid;
	k.dport = d->port;
	k.proto = proto;
	k.rule = rule;
	__builtin_memcpy(k.daddr, d->addr, 16);
	if (dedup_pass(&k, now, s->dedup_ns, &folded))
		emit(ctx, type, d, rule, r, flags, id, ugid, now, proc, &k,
		     folded);
	else
		count(RW_CNT_SUPPRESSED);

	return (flags & RW_NF_ENFORCED) ? 0 : 1;
}

static __always_inline void dest4(struct bpf_sock_addr *ctx, struct dest *d)
{
	__u32 ip = ctx->user_ip4;

	__builtin_memset(d, 0, sizeof(*d));
	__builtin_memcpy(d->addr, &ip, 4);
	d->port = bpf_ntohs((__u16)ctx->user_port);
	d->family = AF_INET;
	d->v4 = 1;
}

/* an IPv4-mapped address (::ffff:a.b.c.d) is judged as the IPv4 address */
static __always_inline void dest6(struct bpf_sock_addr *ctx, struct dest *d)
{
	__u32 w[4];

	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	__builtin_memset(d, 0, sizeof(*d));
	d->port = bpf_ntohs((__u16)ctx->user_port);
	d->family = AF_INET6;
	if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
		__builtin_memcpy(d->addr, &w[3], 4);
		d->v4 = 1;
	} else {
		__builtin_memcpy(d->addr, w, 16);
	}
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest4(ctx, &d);
	return judge(ctx, RW_EV_CONNECT, &d);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest6(ctx, &d);
	return judge(ctx, RW_EV_CONNECT, &d);
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest4(ctx, &d);
	return judge(ctx, RW_EV_SENDMSG, &d);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest6(ctx, &d);
	return judge(ctx, RW_EV_SENDMSG, &d);
}
