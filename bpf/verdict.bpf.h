/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The verdict on a flow's first bytes, for flow_egress (skb.bpf.c, which
 * includes this after its scratch and parsers): a name judged like a DNS
 * answer's, a proxy's address target like a connect's address, and what
 * stays unreadable by the policy's `undecided`; the event each makes,
 * with what the daemon needs to reset a denied flow. Split from
 * skb.bpf.c; part of that one translation unit.
 */
#ifndef RW_VERDICT_BPF_H
#define RW_VERDICT_BPF_H

static __always_inline __u16 name_event_type(__u8 proto)
{
	if (proto == WIRE_P_TLS)
		return RW_EV_TLS;
	if (proto == WIRE_P_HTTP)
		return RW_EV_HTTP;
	return RW_EV_PROXY;
}

static __always_inline void emit_name(struct __sk_buff *skb,
				      struct bpf_sock *sk,
				      const struct rw_flow *f,
				      const struct wire_flow *w, int rule,
				      __u8 action, __u8 gen, __u8 flags)
{
	struct rw_name_event *e;

	e = event_new(sizeof(*e), name_event_type(w->proto), RW_CNT_RB_FULL);
	if (!e)
		return;
	e->tgid = f->tgid;
	e->uid = f->uid;
	e->cookie = bpf_get_socket_cookie(skb);
	__builtin_memcpy(e->daddr, f->daddr, 16);
	e->dport = f->dport;
	e->tport = wire_flow_is_proxy(w) ? w->port : 0;
	e->family = f->family;
	e->action = action;
	e->rule = rule;
	e->gen = gen;
	e->proto = w->proto;
	e->connector = f->connector;
	if (f->connector)
		flags |= RW_NF_SENDER;
	e->flags = flags;
	if (w->family) {
		e->tfamily = w->family == WIRE_AF_INET ? AF_INET : AF_INET6;
		__builtin_memcpy(e->taddr, w->addr, 16);
	}
	/* what a SOCK_DESTROY needs to find the socket */
	e->sfamily = sk->family;
	e->sport = sk->src_port;
	e->ifindex = sk->bound_dev_if;
	if (sk->family == AF_INET) {
		__u32 a = sk->src_ip4;

		__builtin_memcpy(e->saddr, &a, 4);
	} else {
		__u32 a[4] = { sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2],
			       sk->src_ip6[3] };

		__builtin_memcpy(e->saddr, a, 16);
	}
	__builtin_memcpy(e->name, w->host.name, RW_NAME_LEN);
	count(RW_CNT_EMITTED);
	/* a deny carried out wakes the daemon at once: it resets the
	 * connection (its caller fails now, not at its timeout) */
	submit(e, action >= RW_ACT_DENY && (flags & RW_NF_ENFORCED));
}

/* what a flow's verdict does to it: counted, tagged, and for a deny
 * carried out, every later packet dropped; 0 drops this one */
static __always_inline int verdict(struct __sk_buff *skb, struct bpf_sock *sk,
				   struct rw_flow *f, struct wire_flow *w,
				   int rule, __u8 action, __u8 enforce,
				   __u8 gen, __u8 flags)
{
	count(RW_CNT_MATCHED);
	count(RW_CNT_ACT_ALLOW + action - 1);
	tag(f->tgid, rule, action, bpf_ktime_get_boot_ns());
	f->flags |= RW_FF_TRACKED;
	f->rule = rule;
	f->action = action;
	f->gen = gen;
	if (enforce && action >= RW_ACT_DENY) {
		flags |= RW_NF_ENFORCED;
		count(RW_CNT_BLOCKED);
		f->state = RW_FS_DENIED;
		f->flags |= RW_FF_BLOCKED;
		if (action == RW_ACT_KILL) {
			struct rw_kill kv = { .tgid = f->tgid, .rule = rule,
					       .gen = gen };

			bpf_map_update_elem(&killtg, &f->tgid, &kv, BPF_ANY);
		}
	}
	emit_name(skb, sk, f, w, rule, action, gen, flags);
	return (flags & RW_NF_ENFORCED) ? 0 : 1;
}

/* the full socket a global function's packet is from, or NULL */
static __always_inline struct bpf_sock *full_sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb ? skb->sk : NULL;

	return sk ? bpf_sk_fullsock(sk) : NULL;
}

/*
 * verdict() for the flow in scratch (sc->jflow, what its bytes named in
 * sc->flow): a global function on the context and scalars, so the
 * verifier checks it once instead of once for every state the rules'
 * walk leaves (flow_egress 51,045 -> 45,291 instructions on 6.18).
 * act: action | enforce << 8; tag: gen | flags << 8.
 */
__weak __noinline int RW_HOOK(rw_flow_act)(struct __sk_buff *skb, int rule,
					   __u32 act, __u32 tag)
{
	struct scratch *sc = scratch();
	struct bpf_sock *sk = full_sock(skb);

	if (!sc || !sk)
		return 1;
	return verdict(skb, sk, &sc->jflow, &sc->flow, rule, (__u8)act,
		       (__u8)(act >> 8), (__u8)tag, (__u8)(tag >> 8));
}

static __always_inline int flow_act(struct __sk_buff *skb, int rule,
				    __u8 action, __u8 enforce, __u8 gen,
				    __u8 flags)
{
	return RW_HOOK(rw_flow_act)(skb, rule, action | (__u32)enforce << 8,
				    gen | (__u32)flags << 8);
}

/* first bytes that stayed unreadable past the bound (or broke their
 * protocol): the policy's `undecided` action, never a silent pass */
static __always_inline int undecided(struct __sk_buff *skb,
				     struct wire_flow *w)
{
	struct rw_settings *s;
	__u8 gen;

	count(RW_CNT_FLOW_UNDECIDED);
	/* whatever of a name the parser had read is no name */
	w->host.name[0] = 0;
	s = policy_now(&gen);
	if (!s || s->undecided <= RW_ACT_ALLOW || s->undecided > RW_ACT_DENY)
		return 1;
	return flow_act(skb, RW_RULE_UNDECIDED, s->undecided,
			s->default_enforce, gen, RW_NF_UNDECIDED);
}

/* the name a DNS answer gave an address (host-wide or the sender's) */
static __always_inline void target_names(struct caller *c, __u32 tgid)
{
	struct rw_dns_key k = { .tgid = tgid,
				.family = c->d.v4 ? AF_INET : AF_INET6 };
	struct rw_dns_val *v;

	__builtin_memcpy(k.addr, c->d.addr, 16);
	v = bpf_map_lookup_elem(&dns_ips, &k);
	if (!v || v->expires <= bpf_ktime_get_boot_ns()) {
		k.tgid = 0;
		v = bpf_map_lookup_elem(&dns_ips, &k);
		if (!v || v->expires <= bpf_ktime_get_boot_ns())
			return;
	}
	match_name(RW_SLOT_EGRESS, c->gen, v->hash, v->sfx, v->labels, v->name,
		   v->len, &c->kind[RW_KIND_DOMAIN], &c->kind[RW_KIND_INTEL]);
}

/*
 * Decide a flow on what its first bytes name; 0 drops the packet. A name
 * (SNI, Host, a proxy's named target) is looked up like a DNS answer's;
 * a proxy's address target like a connect's address: sets, country,
 * overseas, and the name a DNS answer gave it.
 */
static __always_inline int judge_name(struct __sk_buff *skb,
				      const struct rw_flow *f,
				      const struct wire_flow *w)
{
	struct rw_settings *s;
	struct caller c = {};
	struct rw_proc *proc;
	struct rw_dest *m;
	struct rw_cc *cr;
	__u8 action = 0, enforce = 0;
	int rule;

	s = policy_now(&c.gen);
	if (!s)
		return 1;
	if (w->family) {
		/* the proxy's target address, not the proxy's */
		__builtin_memcpy(c.d.addr, w->addr, 16);
		c.d.family = w->family == WIRE_AF_INET ? AF_INET : AF_INET6;
		c.d.v4 = w->family == WIRE_AF_INET;
		c.d.port = w->port;
	} else {
		__builtin_memcpy(c.d.addr, f->daddr, 16);
		c.d.family = f->family;
		c.d.v4 = f->family == AF_INET;
		/* through a proxy the rule's port is the target's */
		c.d.port = wire_flow_is_proxy(w) && w->port ? w->port :
							      f->dport;
	}
	c.uid = f->uid;
	c.proto = IPPROTO_TCP;
	m = lookup_dest(&c.d, c.gen);
	if (m)
		c.home = m->home;
	if (m && (w->family || !wire_flow_is_proxy(w))) {
		c.kind[RW_KIND_CIDR] = m->kind[RW_KIND_CIDR];
		c.kind[RW_KIND_INTEL] = m->kind[RW_KIND_INTEL];
	}
	if (w->family) {
		if (s->has_names)
			target_names(&c, f->tgid);
		c.cand = c.kind[RW_KIND_CIDR] | c.kind[RW_KIND_INTEL] |
			 c.kind[RW_KIND_DOMAIN];
		cr = country_of(&c.d, s, c.gen);
		if (cr) {
			if (c.home != RW_SPECIAL)
				c.home = cr->home;
			c.kind[RW_KIND_COUNTRY] = cr->rules;
			c.cand |= cr->rules;
		}
		if (!c.cand)
			return 1;
	} else {
		match_name(RW_SLOT_EGRESS, c.gen, w->host.hash, w->host.sfx,
			   w->host.labels, w->host.name, w->host.len,
			   &c.kind[RW_KIND_DOMAIN], &c.kind[RW_KIND_INTEL]);
		/* only names decide here: the address was judged at
		 * connect */
		c.cand = c.kind[RW_KIND_DOMAIN] | c.kind[RW_KIND_INTEL];
		if (!c.cand)
			return 1;
		/* the country (a search of the table) only for a name a
		 * rule names: countries add no candidate here */
		cr = country_of(&c.d, s, c.gen);
		if (cr && c.home != RW_SPECIAL)
			c.home = cr->home;
		if (cr && !wire_flow_is_proxy(w))
			c.kind[RW_KIND_COUNTRY] = cr->rules;
	}
	c.cand |= s->any_mask;
	if (s->has_cgroup)
		for (__u32 l = 0; l < RW_CG_LEVELS; l++)
			c.anc[l] = bpf_skb_ancestor_cgroup_id(skb, l);
	proc = s->has_exe ? bpf_map_lookup_elem(&procs, &f->tgid) : NULL;
	c.exe_mask = exe_rules(proc, c.gen);
	rule = decide(RW_SLOT_EGRESS, &c, s, &action, &enforce);
	if (rule < 0)
		return 1;
	return flow_act(skb, rule, action, enforce, c.gen,
			c.deadman ? RW_NF_DEADMAN : 0);
}

/*
 * The verdict on a flow's first bytes (sc->flow, parsed with result rc)
 * for the flow copied into sc->jflow: a global function on the context
 * and a scalar, so the verifier checks it once, on its own, in both
 * builds. Returns 0 to drop the packet.
 */
__weak __noinline int RW_HOOK(rw_flow_verdict)(struct __sk_buff *skb, int rc)
{
	struct scratch *sc = scratch();

	/* flow_egress calls this for a full socket only; rw_flow_act,
	 * which needs the socket, checks it */
	if (!sc || !skb)
		return 1;
	if (rc != WIRE_OK)
		return undecided(skb, &sc->flow);
	return judge_name(skb, &sc->jflow, &sc->flow);
}

#endif /* RW_VERDICT_BPF_H */
