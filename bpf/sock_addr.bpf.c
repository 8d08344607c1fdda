// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * cgroup/connect4|6 and cgroup/sendmsg4|6: the decision point. These hooks
 * run in the calling process before any packet leaves, on every kernel with
 * cgroup v2 — no kprobes, fentry or BPF LSM needed. A destination is looked
 * up in the CIDR tries, the candidate rules are tried in policy order, and a
 * deny returns 0 so the caller gets EPERM. A kill also leaves a note for the
 * syscall-exit tracepoint (proc.bpf.c), which sends SIGKILL before the call
 * returns to user space. With `quic: deny-unnamed`, UDP to port 443 of an
 * address no DNS answer named is denied too: QUIC's name is not read.
 */
#include "decide.bpf.h"
#include <bpf/bpf_endian.h>

/* built twice: see RW_COMPAT in decide.bpf.h */
#ifndef RW_COMPAT
char LICENSE[] SEC("license") = "Dual MIT/GPL";
#endif

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
	/* take what was counted; an add racing with this stays for the
	 * next report (no atomic exchange: that is Linux 5.12+) */
	*folded = *(volatile __u32 *)&v->suppressed;
	if (*folded)
		__sync_fetch_and_add(&v->suppressed, -*folded);
	return true;
}

static __always_inline void emit_body(struct bpf_sock_addr *ctx, __u16 type,
				      const struct dest *d, int rule,
				      __u8 action, __u8 gen, __u8 flags,
				      __u64 id, __u64 ugid, __u64 now,
				      const struct rw_dedup_key *k,
				      __u32 folded)
{
	struct rw_net_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(RW_CNT_RB_FULL, type);
		/* carry what this event would have reported to the next one */
		if (folded) {
			/* on the stack: before 6.x a helper takes no key in
			 * a global function's argument memory */
			struct rw_dedup_key kk = *k;
			struct rw_dedup_val *v = bpf_map_lookup_elem(&dedup,
								     &kk);

			if (v)
				__sync_fetch_and_add(&v->suppressed, folded);
		}
		return;
	}
	hdr_init(&e->hdr, type, sizeof(*e), now);
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

#ifndef RW_COMPAT
/* what a connect or sendmsg event reports beside the socket */
struct emit_args {
	struct dest d;
	struct rw_dedup_key k;
	__u64 id, ugid, now;
	__u32 folded;
	__s32 rule;
	__u16 type;
	__u8 action, gen, flags;
	__u8 pad[3];
};

/*
 * Where the kernel takes global functions with pointer arguments (the
 * build with bpf_loop, 5.17+) the report is one, verified once instead of
 * once for every state that reaches it (connect6 59,197 -> 52,064
 * instructions on 6.18). Its arguments are in per-CPU scratch: on the
 * stack they would take connect6's frame past 512 bytes with the
 * callee's. Only these hooks use it, and they do not nest. The compat
 * build inlines the body, which costs its verifier less there.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct emit_args);
} emit_scratch SEC(".maps");

__noinline int emit_event(struct bpf_sock_addr *ctx, struct emit_args *a)
{
	if (!ctx || !a)
		return 0;
	emit_body(ctx, a->type, &a->d, a->rule, a->action, a->gen, a->flags,
		  a->id, a->ugid, a->now, &a->k, a->folded);
	return 0;
}

/* the report staged in scratch; the hook sends it (act()) once judge_act
 * returns: called from there, emit_event's frame on top of judge_act's
 * and the hook's would pass 512 bytes */
static __always_inline void emit(struct bpf_sock_addr *ctx, __u16 type,
				 const struct dest *d, int rule, __u8 action,
				 __u8 gen, __u8 flags,
				 __u64 id, __u64 ugid, __u64 now,
				 const struct rw_dedup_key *k, __u32 folded)
{
	__u32 zero = 0;
	struct emit_args *a = bpf_map_lookup_elem(&emit_scratch, &zero);

	if (!a) /* never: a per-CPU array's one entry */
		return;
	a->d = *d;
	a->k = *k;
	a->id = id;
	a->ugid = ugid;
	a->now = now;
	a->folded = folded;
	a->rule = rule;
	a->type = type;
	a->action = action;
	a->gen = gen;
	a->flags = flags;
}
#else
#define emit emit_body
#endif

/* the name a DNS answer gave this process for d; *hostonly when only an
 * answer to someone else (a caching resolver) knows it */
static __always_inline struct rw_dns_val *dns_name(const struct dest *d,
						   __u32 tgid, __u64 now,
						   bool *hostonly)
{
	struct rw_dns_key k = { .tgid = tgid,
				.family = d->v4 ? AF_INET : AF_INET6 };
	struct rw_dns_val *v;

	__builtin_memcpy(k.addr, d->addr, 16);
	v = bpf_map_lookup_elem(&dns_ips, &k);
	if (v && v->expires > now)
		return v;
	k.tgid = 0;
	v = bpf_map_lookup_elem(&dns_ips, &k);
	if (v && v->expires > now)
		*hostonly = true;
	return NULL;
}

/* the rules a DNS mapping's name falls under, into its cache */
#ifndef RW_COMPAT
/* a global function where the kernel takes pointer arguments (the build
 * with bpf_loop): the name walk verified once, not once for every state
 * of the hook that asks (connect6 52,084 -> 38,062 instructions on 6.18) */
__noinline int dns_masks_fill(struct rw_dns_val *v, __u32 gen)
#else
static __always_inline int dns_masks_fill(struct rw_dns_val *v, __u32 gen)
#endif
{
	__u64 dm = 0, im = 0;

	if (!v)
		return 0;
	match_name(RW_SLOT_SOCK, (__u8)gen, v->hash, v->sfx, v->labels,
		   v->name, v->len, &dm, &im);
	v->cache[0] = dm;
	v->cache[1] = im;
	v->cache_gen = gen + 1;
	return 0;
}

/* the rules a DNS mapping's name falls under, cached per generation */
static __always_inline void dns_masks(struct rw_dns_val *v, __u8 gen,
				      __u64 *dom, __u64 *intel)
{
	if (v->cache_gen != (__u32)gen + 1)
		dns_masks_fill(v, gen);
	*dom |= v->cache[0];
	*intel |= v->cache[1];
}

static __always_inline void flow_fill(struct rw_flow *f, const struct dest *d,
				      __u32 tgid, __u32 uid, __u64 now)
{
	f->tgid = tgid;
	f->uid = uid;
	__builtin_memcpy(f->daddr, d->addr, 16);
	f->dport = d->port;
	f->family = d->v4 ? AF_INET : AF_INET6;
	f->first_ktime = now;
}

/* socket storage for the packet hooks: a flow that matched, a DNS client */
static __always_inline struct rw_flow *flow_open(struct bpf_sock_addr *ctx,
						 const struct dest *d,
						 __u32 tgid, __u32 uid,
						 __u64 now)
{
	struct bpf_sock *sk = ctx->sk;
	struct rw_flow *f;

	if (!sk)
		return NULL;
	f = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (f)
		flow_fill(f, d, tgid, uid, now);
	return f;
}

/* a TCP flow no rule matched yet: its first bytes are judged at egress */
static __always_inline void pending_open(struct bpf_sock_addr *ctx,
					 const struct dest *d, __u32 tgid,
					 __u32 uid, __u64 now, __u8 flags)
{
	__u64 ck = bpf_get_socket_cookie(ctx);
	struct rw_pending *p = pending_slot(ck);

	if (!p)
		return;
	/* the slot's flow is still open and has not sent a byte */
	if (p->cookie && p->cookie != ck &&
	    (p->flow.state == RW_FS_NEW || p->flow.state == RW_FS_SOCKS))
		count(RW_CNT_PENDING_LOST);
	p->cookie = 0;
	__builtin_memset(&p->flow, 0, sizeof(p->flow));
	flow_fill(&p->flow, d, tgid, uid, now);
	p->flow.flags = flags;
	WIRE_ONCE(p->cookie) = ck;
}

#define ACT_PASS 1 /* let the call through; without: fail it with EPERM */
#define ACT_EMIT 2 /* a report (in the build with bpf_loop: staged) */

/* what act_body needs of the judgement */
struct act_args {
	struct dest d;
	__u64 id, ugid, now, window;
	__s32 rule;
	__u16 type;
	__u8 action, enforce, gen, deadman, pend, hostonly, has_proc;
	__u8 pad[3];
};

/* what follows a rule's match: counters, the process's tag, the flow its
 * first bytes are read in, a kill, the report; returns ACT_* bits */
static __always_inline int act_body(struct bpf_sock_addr *ctx,
				    const struct act_args *a)
{
	struct rw_dedup_key k = {};
	struct rw_flow *f = NULL;
	__u32 folded, tgid = a->id >> 32, tid = (__u32)a->id;
	__u8 flags = 0;
	int ret = 0;

	if (a->has_proc || bpf_map_lookup_elem(&procs, &tgid))
		flags |= RW_NF_PROC;

	count(RW_CNT_MATCHED);
	count(RW_CNT_ACT_ALLOW + a->action - 1);
	tag(tgid, a->rule, a->action, a->now);
	/* a matched TCP flow counts what it sends, names or not; a connect
	 * that is blocked opens no flow (one record: the connect's) */
	if (a->type == RW_EV_CONNECT && ctx->protocol == IPPROTO_TCP &&
	    !(a->enforce && a->action >= RW_ACT_DENY)) {
		f = flow_open(ctx, &a->d, tgid, (__u32)a->ugid, a->now);
		if (f) {
#ifndef RW_COMPAT
			f->state = a->pend ? RW_FS_NEW : RW_FS_AUTH;
#else /* no key scan there (skb.bpf.c) */
			f->state = a->pend ? RW_FS_NEW : RW_FS_DONE;
#endif
			if (a->hostonly)
				f->flags |= RW_FF_HOSTONLY;
		}
	}
	if (f) {
		f->flags |= RW_FF_TRACKED;
		f->rule = a->rule;
		f->action = a->action;
		f->gen = a->gen;
	}
	if (a->d.v4 && a->d.family == AF_INET6)
		flags |= RW_NF_MAPPED;
	if (a->deadman)
		flags |= RW_NF_DEADMAN;
	if (a->enforce && a->action >= RW_ACT_DENY) {
		flags |= RW_NF_ENFORCED;
		count(RW_CNT_BLOCKED);
		if (f)
			f->flags |= RW_FF_BLOCKED;
		if (a->action == RW_ACT_KILL) {
			struct rw_kill kv = { .tgid = tgid, .rule = a->rule,
					       .gen = a->gen };

			bpf_map_update_elem(&kills, &tid, &kv, BPF_ANY);
		}
	}

	k.tgid = tgid;
	k.dport = a->d.port;
	k.proto = ctx->protocol;
	k.rule = a->rule;
	__builtin_memcpy(k.daddr, a->d.addr, 16);
	if (dedup_pass(&k, a->now, a->window, &folded)) {
		emit(ctx, a->type, &a->d, a->rule, a->action, a->gen, flags,
		     a->id, a->ugid, a->now, &k, folded);
		ret |= ACT_EMIT;
	} else {
		count(RW_CNT_SUPPRESSED);
	}
	return ret | ((flags & RW_NF_ENFORCED) ? 0 : ACT_PASS);
}

#ifndef RW_COMPAT
/*
 * The same for what follows a match: verified once, not once for each of
 * the states the rules' walk leaves (connect6 38,062 -> 13,595
 * instructions on 6.18). Its arguments in per-CPU scratch, as emit's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct act_args);
} act_scratch SEC(".maps");

__noinline int judge_act(struct bpf_sock_addr *ctx, struct act_args *a)
{
	if (!ctx || !a)
		return ACT_PASS;
	return act_body(ctx, a);
}
#endif

static __always_inline int act(struct bpf_sock_addr *ctx, __u16 type,
			       const struct dest *d, int rule, __u8 action,
			       __u8 enforce, __u8 gen, __u8 deadman, __u8 pend,
			       __u8 hostonly, __u8 has_proc, __u64 id,
			       __u64 ugid, __u64 now, __u64 window)
{
#ifndef RW_COMPAT
	__u32 zero = 0;
	struct act_args *a = bpf_map_lookup_elem(&act_scratch, &zero);
	struct emit_args *e;
	int ret;

	if (!a) /* never: a per-CPU array's one entry */
		return 1;
#else
	struct act_args aa, *a = &aa;
#endif
	a->d = *d;
	a->id = id;
	a->ugid = ugid;
	a->now = now;
	a->window = window;
	a->rule = rule;
	a->type = type;
	a->action = action;
	a->enforce = enforce;
	a->gen = gen;
	a->deadman = deadman;
	a->pend = pend;
	a->hostonly = hostonly;
	a->has_proc = has_proc;
#ifndef RW_COMPAT
	ret = judge_act(ctx, a);
	e = bpf_map_lookup_elem(&emit_scratch, &zero);
	if ((ret & ACT_EMIT) && e)
		emit_event(ctx, e);
	return ret & ACT_PASS ? 1 : 0;
#else
	return act_body(ctx, a) & ACT_PASS ? 1 : 0;
#endif
}

/* returns 1 to let the call through, 0 to fail it with EPERM */
static __always_inline int judge(struct bpf_sock_addr *ctx, __u16 type,
				 const struct dest *d)
{
	struct caller c = {};
	struct rw_settings *s;
	struct rw_dns_val *dv;
	struct rw_proc *proc;
	struct rw_dest *m;
	struct rw_cc *cr;
	__u64 id, ugid, now;
	__u8 action = 0, enforce = 0;
	bool hostonly = false, pend, quic, unnamed = false;
	__u32 tgid;
	int rule;

	s = policy_now(&c.gen);
	if (!s)
		return 1;
	m = lookup_dest(d, c.gen);
	c.cand = s->any_mask;
	if (m) {
		c.home = m->home;
		c.kind[RW_KIND_CIDR] = m->kind[RW_KIND_CIDR];
		c.kind[RW_KIND_INTEL] = m->kind[RW_KIND_INTEL];
		c.cand |= m->kind[RW_KIND_CIDR] | m->kind[RW_KIND_INTEL];
	}
	cr = country_of(d, s, c.gen);
	if (cr) {
		if (c.home != RW_SPECIAL)
			c.home = cr->home;
		c.kind[RW_KIND_COUNTRY] = cr->rules;
		c.cand |= cr->rules;
	}
	/* TCP: the first bytes are judged at egress (a name, a proxy's
	 * target) whenever the policy has rules; DNS clients: answers are
	 * attributed to the socket's owner */
	pend = type == RW_EV_CONNECT && ctx->protocol == IPPROTO_TCP &&
	       (s->has_names || s->nr_rules);
	/* QUIC carries its name encrypted: UDP/443 is judged by the name a
	 * DNS answer gave the address, or (deny-unnamed) refused without */
	quic = s->quic == RW_QUIC_DENY_UNNAMED && d->port == 443 &&
	       ctx->protocol == IPPROTO_UDP;
	/* the common case, a destination no rule names: leave before the
	 * clock and the identity helpers */
	if (!c.cand && !pend && !dns_port(s, d->port) && !quic &&
	    s->default_action <= RW_ACT_ALLOW)
		return 1;
	id = bpf_get_current_pid_tgid();
	tgid = id >> 32;
	ugid = bpf_get_current_uid_gid();
	now = bpf_ktime_get_boot_ns();
	if (s->has_names || quic) {
		dv = dns_name(d, tgid, now, &hostonly);
		if (dv && s->has_names)
			dns_masks(dv, c.gen, &c.kind[RW_KIND_DOMAIN],
				  &c.kind[RW_KIND_INTEL]);
		unnamed = quic && !dv && !hostonly;
	}
	c.cand |= c.kind[RW_KIND_INTEL] | c.kind[RW_KIND_DOMAIN];

	if (dns_port(s, d->port) && (ctx->protocol == IPPROTO_UDP ||
				     type == RW_EV_CONNECT)) {
		struct rw_flow *df = flow_open(ctx, d, tgid, (__u32)ugid, now);

		if (df) {
			df->flags |= RW_FF_DNS;
			/* a TCP flow to a DNS port still has its first
			 * bytes read: TLS on port 53 is no way around */
			df->state = ctx->protocol == IPPROTO_TCP ? RW_FS_NEW :
								   RW_FS_DONE;
		}
	}
	if (!c.cand && s->default_action <= RW_ACT_ALLOW && !unnamed)
		goto pass;

	c.d = *d;
	c.uid = (__u32)ugid;
	c.proto = ctx->protocol;
	if (s->has_cgroup)
		for (__u32 l = 0; l < RW_CG_LEVELS; l++)
			c.anc[l] = bpf_get_current_ancestor_cgroup_id(l);
	/* the binary: only when a rule asks (most connects match none) */
	proc = s->has_exe ? bpf_map_lookup_elem(&procs, &tgid) : NULL;
	c.exe_mask = exe_rules(proc, c.gen);
	rule = decide(RW_SLOT_SOCK, &c, s, &action, &enforce);
	/* no name to judge: refused, unless a rule allows the call (an
	 * exemption) or denies it anyway; an alert does not let it by */
	if (unnamed && (rule < 0 || action == RW_ACT_ALERT)) {
		rule = RW_RULE_QUIC;
		action = RW_ACT_DENY;
		enforce = s->default_enforce;
	}
	if (rule < 0)
		goto pass;
	return act(ctx, type, d, rule, action, enforce, c.gen, c.deadman, pend,
		   hostonly, proc != NULL, id, ugid, now, s->dedup_ns);
pass:
	if (pend)
		pending_open(ctx, d, tgid, (__u32)ugid, now,
			     hostonly ? RW_FF_HOSTONLY : 0);
	return 1;
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
int RW_HOOK(connect4)(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest4(ctx, &d);
	return judge(ctx, RW_EV_CONNECT, &d);
}

SEC("cgroup/connect6")
int RW_HOOK(connect6)(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest6(ctx, &d);
	return judge(ctx, RW_EV_CONNECT, &d);
}

SEC("cgroup/sendmsg4")
int RW_HOOK(sendmsg4)(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest4(ctx, &d);
	return judge(ctx, RW_EV_SENDMSG, &d);
}

SEC("cgroup/sendmsg6")
int RW_HOOK(sendmsg6)(struct bpf_sock_addr *ctx)
{
	struct dest d;

	dest6(ctx, &d);
	return judge(ctx, RW_EV_SENDMSG, &d);
}
