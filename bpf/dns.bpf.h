/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * cgroup_skb/ingress: DNS answers, included by skb.bpf.c (after its
 * scratch, parse_l4 and the parser wrappers). Answers come over UDP, or
 * over TCP framed by a 2-byte length and reassembled across segments
 * (wire.h wire_dns_tcp_*), from the ports the policy's dns_ports lists;
 * each address is mapped to the question's name before the application
 * reads the answer. Ingress only reads: every packet passes.
 */
#ifndef RW_DNS_BPF_H
#define RW_DNS_BPF_H

/* ---- ingress: DNS answers ---------------------------------------------- */

struct dns_put {
	struct wire_dns *dns;
	struct rw_dns_val *val;
	__u32 tgid;
	__u64 now;
	__u32 ttl_min, ttl_max, min_ttl;
};

static int dns_put_cb(__u64 i, void *arg)
{
	struct dns_put *p = arg;
	struct wire_dns_addr *a;
	struct rw_dns_key k = {};
	__u32 ttl;

	if (i >= p->dns->naddr || i >= WIRE_DNS_ADDRS)
		return 1;
	a = &p->dns->addr[i & (WIRE_DNS_ADDRS - 1)];
	ttl = a->ttl;
	if (ttl < p->ttl_min)
		ttl = p->ttl_min;
	if (ttl > p->ttl_max)
		ttl = p->ttl_max;
	if (ttl < p->min_ttl)
		p->min_ttl = ttl;
	p->val->expires = p->now + (__u64)ttl * 1000000000ULL;
	__builtin_memcpy(k.addr, a->addr, 16);
	k.family = a->family;
	/* host-wide first, then the process's own: both before the
	 * application can read the answer */
	bpf_map_update_elem(&dns_ips, &k, p->val, BPF_ANY);
	if (p->tgid) {
		k.tgid = p->tgid;
		bpf_map_update_elem(&dns_ips, &k, p->val, BPF_ANY);
	}
	count(RW_CNT_DNS_MAPPED);
	return 0;
}

/* the dns_ips value being written: per CPU, like the parser scratch */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_dns_val);
} dns_scratch __weak SEC(".maps");

/* DNS over TCP: a socket's reassembly (wire.h), made at its first
 * answer bytes and freed with the socket */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct wire_dns_tcp);
} dns_tcp __weak SEC(".maps");

_Static_assert(WIRE_DNS_TCP_MAX == RW_DNS_TCP_MAX, "one limit, two names");

/*
 * What an answer in sc->msg teaches, once parsed: each address mapped to
 * the question's name, host-wide and for tgid (0: unknown), and an event
 * when a rule names the name. A global function on scalars: verified
 * once, however many answers a segment carries (5.6+).
 */
__weak __noinline int RW_HOOK(dns_learn)(__u32 tgid, __u64 cookie)
{
	struct scratch *sc = scratch();
	struct rw_dns_event *e;
	struct dns_put p = {};
	struct rw_settings *s;
	__u64 dom = 0, intel = 0;
	__u32 zero = 0;
	__u8 gen;

	if (!sc || !sc->dns.naddr)
		return 0;
	s = policy_now(&gen);
	p.val = bpf_map_lookup_elem(&dns_scratch, &zero);
	if (!s || !p.val)
		return 0;
	p.dns = &sc->dns;
	p.now = bpf_ktime_get_boot_ns();
	p.ttl_min = s->ttl_min;
	p.ttl_max = s->ttl_max;
	p.min_ttl = 0xffffffff;
	p.tgid = tgid;
	__builtin_memset(p.val, 0, sizeof(*p.val));
	p.val->hash = sc->dns.qname.hash;
	for (int i = 0; i < RW_SFX_MAX; i++)
		p.val->sfx[i] = sc->dns.qname.sfx[i];
	p.val->len = sc->dns.qname.len;
	p.val->labels = sc->dns.qname.labels;
	__builtin_memcpy(p.val->name, sc->dns.qname.name, sizeof(p.val->name));

	/* report only names a rule refers to, like connects */
	match_name(RW_SLOT_INGRESS, gen, p.val->hash, p.val->sfx, p.val->labels, p.val->name,
		   p.val->len, &dom, &intel);
	RW_LOOP(WIRE_DNS_ADDRS, dns_put_cb, &p);
	if (!(dom | intel))
		return 0;
	/* reserved only after the loop: Linux 6.1's verifier refuses a
	 * reservation held across bpf_loop ("Unreleased reference") */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(RW_CNT_RB_FULL_PROC, RW_EV_DNS);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	hdr_init(&e->hdr, RW_EV_DNS, sizeof(*e), p.now);
	e->tgid = p.tgid;
	e->naddr = sc->dns.naddr;
	e->cookie = cookie;
	e->ttl = p.min_ttl;
	e->qtype = sc->dns.qtype;
	e->rule = RW_RULE_NONE;
	e->gen = gen;
	for (int i = 0; i < WIRE_DNS_ADDRS; i++) {
		if (i >= sc->dns.naddr)
			break;
		__builtin_memcpy(e->addr[i], sc->dns.addr[i].addr, 16);
		e->family[i] = sc->dns.addr[i].family;
	}
	__builtin_memcpy(e->name, sc->dns.qname.name, RW_NAME_LEN);
	count(RW_CNT_EMITTED);
	submit(e, false);
	return 0;
}

/* the answer in sc->msg: parsed, counted when refused, learned from */
static __always_inline void dns_answer(struct scratch *sc, __u32 tgid,
				       __u64 cookie)
{
	int rc = rw_dns_parse(sc);

	if (rc != WIRE_OK) {
		if (rc != WIRE_NOT_PROTO)
			count(RW_CNT_DNS_UNPARSED);
		return;
	}
	RW_HOOK(dns_learn)(tgid, cookie);
}

/* the message at payload offset off, len bytes, into sc->msg */
static __always_inline int dns_msg_load(struct __sk_buff *skb, __u32 off,
					__u32 len, struct scratch *sc)
{
	if (wire_buf_load(skb, off, &sc->msg))
		return -1;
	if (sc->msg.len > len)
		sc->msg.len = len;
	return 0;
}

/* a segment's walk: what each step needs */
struct dns_tcp_walk {
	struct __sk_buff *skb;
	struct wire_dns_tcp *st;
	struct scratch *sc;
	__u64 cookie;
	__u32 off;      /* the payload's offset in the packet */
	__u32 tgid;
	__u32 stop;     /* the walk ended before its steps ran out */
};

/* a message made whole, copied 64 bytes a step (aligned, 8 at a time) */
struct dns_copy {
	__u8 *to;
	const __u8 *from;
};
_Static_assert(WIRE_DNS_TCP_MAX % 64 == 0 && WIRE_DNS_TCP_MAX <= WIRE_BUF,
	       "dns_copy_cb");

static int dns_copy_cb(__u64 i, void *arg)
{
	struct dns_copy *c = arg;
	__u32 k = (__u32)(i * 64) & (WIRE_DNS_TCP_MAX - 64);

	for (int j = 0; j < 64; j += 8)
		*(__u64 *)&c->to[k + j] = *(__u64 *)&c->from[k + j];
	return 0;
}

/* one step of wire_dns_tcp_next(), carried out; 1 ends the walk. Its
 * own function: bpf_loop's callback where the kernel has it (verified
 * once), the body of a bounded loop elsewhere (RW_LOOP) */
static int dns_tcp_step(__u64 i, void *arg)
{
	struct dns_tcp_walk *w = arg;
	struct wire_dns_tcp *st = w->st;
	struct scratch *sc = w->sc;
	struct wire_tcp_step *step = &sc->step;
	struct dns_copy copy;
	__u64 at, len;
	int op = wire_dns_tcp_next(st, &sc->buf, step);

	(void)i;
	if (op == WIRE_TCP_END) {
		w->stop = 1;
		return 1;
	}
	if (op == WIRE_TCP_LOST) {
		count(RW_CNT_DNS_TCP_LOST);
		w->stop = 1;
		return 1;
	}
	if (op == WIRE_TCP_BIG)
		count(RW_CNT_DNS_TCP_BIG);
	if (op == WIRE_TCP_MSG &&
	    !dns_msg_load(w->skb, w->off + step->off, step->len, sc))
		dns_answer(sc, w->tgid, w->cookie);
	if (op != WIRE_TCP_KEEP)
		return 0;
	at = step->at & (WIRE_DNS_TCP_MAX - 1);
	/* 64-bit and hidden from clang, less one (see wire_buf_load): the
	 * verifier must see 1..WIRE_DNS_TCP_MAX */
	len = step->len;
	len -= 1;
	asm volatile("" : "+r"(len));
	if (len >= WIRE_DNS_TCP_MAX ||
	    bpf_skb_load_bytes(w->skb, w->off + step->off, &st->data[at],
			       len + 1)) {
		st->state = WIRE_TCP_GONE;
		count(RW_CNT_DNS_TCP_LOST);
		w->stop = 1;
		return 1;
	}
	if (!step->done)
		return 0;
	/* whole: to where the parser reads */
	copy.to = sc->msg.data;
	copy.from = st->data;
	RW_LOOP(WIRE_DNS_TCP_MAX / 64, dns_copy_cb, &copy);
	sc->msg.len = st->msglen;
	dns_answer(sc, w->tgid, w->cookie);
	return 0;
}

/*
 * A TCP segment from a DNS port (RFC 1035 4.2.2: each message after a
 * 2-byte length): its whole messages parsed where they lie, a message
 * split across segments kept in the socket's dns_tcp until it is whole.
 * What cannot be followed (a gap, a stream joined after its start, no
 * storage) is counted in RW_CNT_DNS_TCP_LOST; a message too long to keep
 * in RW_CNT_DNS_TCP_BIG. Ingress only reads: the packet always passes.
 */
static __always_inline void dns_tcp_in(struct __sk_buff *skb,
				       struct bpf_sock *sk, struct l4 *h,
				       struct scratch *sc, __u32 tgid,
				       __u64 cookie)
{
	struct wire_tcp_step *step = &sc->step;
	struct dns_tcp_walk w = {};
	struct wire_dns_tcp *st;
	__u32 seq, seglen, thoff;
	__u8 b0;

	if (h->off >= skb->len)
		return; /* no payload: the handshake, an ACK, FIN */
	seglen = skb->len - h->off;
	/* the sequence number: 4 bytes into the TCP header */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &b0, 1))
			return;
		thoff = (b0 & 0xf) * 4;
	} else {
		thoff = 40;
	}
	if (bpf_skb_load_bytes(skb, thoff + 4, &seq, 4))
		return;
	seq = bpf_ntohl(seq);
	st = bpf_sk_storage_get(&dns_tcp, sk, 0, 0);
	if (!st) {
		/* no state: this must be the stream's first byte */
		struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);

		if (!tp || tp->bytes_received || tp->rcv_nxt != seq) {
			count(RW_CNT_DNS_TCP_LOST);
			return;
		}
		st = bpf_sk_storage_get(&dns_tcp, sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
		if (!st) {
			count(RW_CNT_DNS_TCP_LOST);
			return;
		}
	}
	if (st->state == WIRE_TCP_GONE) {
		count(RW_CNT_DNS_TCP_LOST);
		return;
	}
	if (wire_buf_load(skb, h->off, &sc->buf))
		return;
	if (wire_dns_tcp_seg(st, seq, seglen, step) == WIRE_TCP_LOST) {
		count(RW_CNT_DNS_TCP_LOST);
		return;
	}
	w.skb = skb;
	w.st = st;
	w.sc = sc;
	w.off = h->off;
	w.tgid = tgid;
	w.cookie = cookie;
	RW_LOOP(WIRE_DNS_TCP_STEPS, dns_tcp_step, &w);
	if (w.stop)
		return;
	/* more steps than a segment may take: the rest cannot be framed */
	if (step->pos < step->seglen) {
		st->state = WIRE_TCP_GONE;
		count(RW_CNT_DNS_TCP_LOST);
	}
}

/* parse_l4 for a UDP or a TCP packet: 1 TCP, 0 UDP, -1 neither. One
 * call with the protocol read first: two inlined calls, one per
 * protocol, are merged by clang into context reads the verifier refuses */
static __always_inline int dns_l4(struct __sk_buff *skb, struct l4 *h)
{
	__u8 *data = (__u8 *)(long)skb->data;
	__u8 *end = (__u8 *)(long)skb->data_end;
	__u8 proto;

	if (data + 10 > end) {
		if (bpf_skb_load_bytes(skb, skb->protocol ==
				       bpf_htons(ETH_P_IP) ? 9 : 6, &proto, 1))
			return -1;
	} else {
		proto = skb->protocol == bpf_htons(ETH_P_IP) ? data[9] : data[6];
	}
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return -1;
	if (parse_l4(skb, proto, h))
		return -1;
	return proto == IPPROTO_TCP;
}

SEC("cgroup_skb/ingress")
int RW_HOOK(dns_ingress)(struct __sk_buff *skb)
{
	struct rw_settings *s;
	struct bpf_sock *sk;
	struct scratch *sc;
	struct rw_flow *f;
	__u32 tgid = 0;
	struct l4 h = {};
	__u64 cookie;
	__u8 gen;
	int tcp = 0;

	/* every packet of the cgroup comes here: its ports first, then
	 * the policy's DNS ports (one read of the settings) */
	tcp = dns_l4(skb, &h);
	if (tcp < 0)
		return 1;
	s = policy_now(&gen);
	if (!s || !dns_port(s, h.sport))
		return 1;
	sc = scratch();
	if (!sc)
		return 1;
	/* the receiving process, when its socket was tagged at connect or
	 * sendmsg to a DNS port */
	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk) {
		f = bpf_sk_storage_get(&flows, sk, 0, 0);
		if (f)
			tgid = f->tgid;
	}
	cookie = bpf_get_socket_cookie(skb);
	if (tcp) {
		if (sk)
			dns_tcp_in(skb, sk, &h, sc, tgid, cookie);
		return 1;
	}
	if (wire_buf_load(skb, h.off, &sc->msg))
		return 1;
	dns_answer(sc, tgid, cookie);
	return 1;
}

#endif /* RW_DNS_BPF_H */
