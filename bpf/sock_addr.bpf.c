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

static __always_inline struct rw_dest *lookup_dest(const struct dest *d,
						   __u8 gen)
{
	if (d->v4) {
		struct rw_lpm4 k = { .prefixlen = 8 + 32, .gen = gen };

		__builtin_memcpy(k.addr, d->addr, 4);
		return bpf_map_lookup_elem(&cidr4, &k);
	} else {
		struct rw_lpm6 k = { .prefixlen = 8 + 128, .gen = gen };

		__builtin_memcpy(k.addr, d->addr, 16);
		return bpf_map_lookup_elem(&cidr6, &k);
	}
}

/* RW_HOME, RW_SPECIAL, or 0 for an overseas address */
static __always_inline __u8 home_class(const struct dest *d, __u8 gen)
{
	__u8 *v;

	if (d->v4) {
		struct rw_lpm4 k = { .prefixlen = 8 + 32, .gen = gen };

		__builtin_memcpy(k.addr, d->addr, 4);
		v = bpf_map_lookup_elem(&home4, &k);
	} else {
		struct rw_lpm6 k = { .prefixlen = 8 + 128, .gen = gen };

		__builtin_memcpy(k.addr, d->addr, 16);
		v = bpf_map_lookup_elem(&home6, &k);
	}
	return v ? *v : 0;
}

/*
 * The rule walk runs under bpf_loop(): the verifier checks its body once,
 * not once per unrolled iteration (which cost ~0.5 s of load time per
 * program). Everything it needs is copied into this context by value.
 */
struct caller {
	struct dest d;
	__u64 cand;           /* candidate rules */
	__u64 kind[RW_KIND__LPM]; /* per destination kind: rules containing it */
	__u64 exe_mask;       /* rules accepting this binary */
	__u32 uid;
	__u8 proto;
	__u8 gen;
	__u8 home;            /* home_class + 1, 0 = not looked up yet */
	__u8 pad;
	int found;            /* the rule, or -1 */
};

/* does rule i hold for this call? 1 stops the loop */
static int rule_cb(__u64 i, void *arg)
{
	struct caller *c = arg;
	__u32 idx = c->gen * RW_MAX_RULES + (__u32)i;
	__u64 bit = 1ULL << (i & 63);
	struct rw_rule *r;

	if (!(c->cand & bit))
		return 0;
	r = bpf_map_lookup_elem(&rules, &idx);
	if (!r)
		return 1;
	if (r->kinds & (1 << RW_KIND_DOMAIN))
		return 0;
	if ((r->kinds & (1 << RW_KIND_CIDR)) && !(c->kind[RW_KIND_CIDR] & bit))
		return 0;
	if ((r->kinds & (1 << RW_KIND_INTEL)) && !(c->kind[RW_KIND_INTEL] & bit))
		return 0;
	if ((r->kinds & (1 << RW_KIND_COUNTRY)) &&
	    !(c->kind[RW_KIND_COUNTRY] & bit))
		return 0;
	if (r->port && r->port != c->d.port)
		return 0;
	if (r->proto && r->proto != c->proto)
		return 0;
	if ((r->flags & RW_RF_UID) && r->uid != c->uid)
		return 0;
	if (r->flags & (RW_RF_OVERSEAS | RW_RF_DOMESTIC)) {
		__u8 h;

		if (!c->home)
			c->home = home_class(&c->d, c->gen) + 1;
		h = c->home - 1;
		if ((r->flags & RW_RF_OVERSEAS) && h != 0)
			return 0;
		if ((r->flags & RW_RF_DOMESTIC) && h != RW_HOME)
			return 0;
	}
	if ((r->flags & RW_RF_CGROUP) &&
	    bpf_get_current_ancestor_cgroup_id(r->cgroup_level) != r->cgroup_id)
		return 0;
	if ((r->flags & RW_RF_EXE) && !(c->exe_mask & bit))
		return 0;
	c->found = i;
	return 1;
}

static __always_inline __u64 exe_rules(const struct rw_proc *proc, __u8 gen)
{
	struct rw_exe_key k = {};
	__u64 *m;

	if (!proc)
		return 0;
	k.ino = proc->exe_ino;
	k.dev = proc->exe_dev;
	k.gen = gen;
	m = bpf_map_lookup_elem(&exes, &k);
	return m ? *m : 0;
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
	if (rule < RW_MAX_RULES)
		__sync_fetch_and_or(&t->rules, 1ULL << rule);
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
				 const struct dest *d, int rule, __u8 action,
				 __u8 gen, __u8 flags,
				 __u64 id, __u64 ugid, __u64 now,
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
	e->action = action;
	e->rule = rule;
	e->gen = gen;
	e->pad2 = 0;
	e->suppressed = folded;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->flags = flags;
	count(RW_CNT_EMITTED);
	submit(e, action == RW_ACT_KILL && (flags & RW_NF_ENFORCED));
}

/* returns 1 to let the call through, 0 to fail it with EPERM */
static __always_inline int judge(struct bpf_sock_addr *ctx, __u16 type,
				 const struct dest *d)
{
	__u32 zero = 0, tgid, tid, *genp, sidx;
	struct rw_dedup_key k = {};
	struct caller c = {};
	struct rw_settings *s;
	struct rw_proc *proc;
	struct rw_dest *m;
	__u64 id, ugid, now;
	__u8 flags = 0, action, enforce;
	__u32 folded;
	int rule;

	genp = bpf_map_lookup_elem(&active, &zero);
	if (!genp)
		return 1;
	c.gen = *genp & 1;
	sidx = c.gen;
	s = bpf_map_lookup_elem(&settings, &sidx);
	if (!s)
		return 1;
	m = lookup_dest(d, c.gen);
	c.cand = s->any_mask;
	if (m) {
		c.kind[RW_KIND_CIDR] = m->kind[RW_KIND_CIDR];
		c.kind[RW_KIND_INTEL] = m->kind[RW_KIND_INTEL];
		c.kind[RW_KIND_COUNTRY] = m->kind[RW_KIND_COUNTRY];
		c.cand |= c.kind[RW_KIND_CIDR] | c.kind[RW_KIND_INTEL] |
			  c.kind[RW_KIND_COUNTRY];
	}
	if (!c.cand && s->default_action <= RW_ACT_ALLOW)
		return 1;

	id = bpf_get_current_pid_tgid();
	ugid = bpf_get_current_uid_gid();
	tgid = id >> 32;
	tid = (__u32)id;
	c.d = *d;
	c.uid = (__u32)ugid;
	c.proto = ctx->protocol;
	c.found = -1;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	c.exe_mask = exe_rules(proc, c.gen);
	if (proc)
		flags |= RW_NF_PROC;
	if (c.cand)
		bpf_loop(RW_MAX_RULES, rule_cb, &c, 0);
	rule = c.found;
	if (rule >= 0 && rule < RW_MAX_RULES) {
		__u32 ridx = c.gen * RW_MAX_RULES + rule;
		struct rw_rule *r = bpf_map_lookup_elem(&rules, &ridx);

		if (!r)
			return 1;
		action = r->action;
		enforce = r->flags & RW_RF_ENFORCE;
	} else {
		/* the default allows silently, like no policy at all */
		if (s->default_action <= RW_ACT_ALLOW)
			return 1;
		rule = RW_RULE_DEFAULT;
		action = s->default_action;
		enforce = s->default_enforce;
	}
	if (action <= RW_ACT_NONE || action >= RW_ACT__MAX)
		return 1;

	now = bpf_ktime_get_boot_ns();
	count(RW_CNT_MATCHED);
	count(RW_CNT_ACT_ALLOW + action - 1);
	tag(tgid, rule, action, now);
	if (d->v4 && d->family == AF_INET6)
		flags |= RW_NF_MAPPED;
	if (enforce && action >= RW_ACT_DENY) {
		flags |= RW_NF_ENFORCED;
		count(RW_CNT_BLOCKED);
		if (action == RW_ACT_KILL) {
			struct rw_kill kv = { .tgid = tgid, .rule = rule,
					       .gen = c.gen };

			bpf_map_update_elem(&kills, &tid, &kv, BPF_ANY);
		}
	}

	k.tgid = tgid;
	k.dport = d->port;
	k.proto = c.proto;
	k.rule = rule;
	__builtin_memcpy(k.daddr, d->addr, 16);
	if (dedup_pass(&k, now, s->dedup_ns, &folded))
		emit(ctx, type, d, rule, action, c.gen, flags, id, ugid, now,
		     &k, folded);
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
