// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * cgroup_skb ingress and egress: names. AI APIs sit behind shared CDNs, so
 * an address says little; these programs learn which name a process is
 * talking to and decide on it before data leaves.
 * - ingress parses DNS answers (UDP and TCP from the policy's dns_ports,
 *   TCP messages reassembled across segments) before the application
 *   reads them, and maps each answered address to the question's name, for
 *   the receiving process and host-wide. A connect() right after
 *   getaddrinfo() is then judged by name every time.
 * - egress reads the first payload of each TCP flow opened through
 *   connect4/6 (ClientHello SNI, HTTP Host, CONNECT, SOCKS5), decides on
 *   the name, and drops the packet and every later one of a denied flow,
 *   so the handshake never completes. It counts what matched flows send.
 * - sock_release reports a matched flow's totals when its socket goes
 *   (not a flow that sent nothing and never got through the handshake,
 *   or was denied), and frees the pending slot of a flow that never
 *   sent a byte.
 * The parsers are bpf/wire.h, shared with the userspace tests and fuzzer;
 * the ingress half is bpf/dns.bpf.h.
 * Built twice (skb_compat.bpf.c): see RW_COMPAT in decide.bpf.h.
 */
#ifndef RW_COMPAT
#define WIRE_GLOBAL_FNS
#endif
#include "decide.bpf.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* payload scratch and parser output: too big for the stack */
struct scratch {
	struct wire_buf buf;
	union {
		struct wire_dns dns;
		struct wire_flow flow;
	};
	/* a credential header's scan (wire_http_key): its offsets, and
	 * the flow it belongs to, for the global function that reports it */
	struct wire_key key;
	__u64 key_cookie;
	struct rw_flow key_flow;
	/* the flow being decided, for rw_flow_verdict */
	struct rw_flow jflow;
	/* ingress: the DNS message parsed (a datagram, or one message of a
	 * TCP stream) and the TCP walk's step */
	struct wire_buf msg;
	struct wire_tcp_step step;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} skb_scratch __weak SEC(".maps");

struct l4 {
	__u32 off;      /* payload offset */
	__u32 hdr;      /* the TCP or UDP header's offset */
	__u16 sport;
};

/*
 * The payload offset of a `want` (TCP or UDP) packet; skb data starts at
 * the IP header. Runs on every packet of the cgroup, so the headers are
 * read in place (locally built packets carry them in the linear part); a
 * header outside it is copied out with bpf_skb_load_bytes instead.
 */
static __always_inline int parse_l4_copy(struct __sk_buff *skb, __u8 want,
					 struct l4 *h)
{
	__u8 b, proto, hl;
	__u32 ihl;
	__u16 sport;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 9, &proto, 1) || proto != want ||
		    bpf_skb_load_bytes(skb, 0, &b, 1))
			return -1;
		ihl = (b & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 6, &proto, 1) || proto != want)
			return -1;
		ihl = 40;  /* extension headers: not inspected */
	} else {
		return -1;
	}
	if (ihl < 20 || bpf_skb_load_bytes(skb, ihl, &sport, 2))
		return -1;
	h->sport = bpf_ntohs(sport);
	h->hdr = ihl;
	if (want == IPPROTO_UDP) {
		h->off = ihl + 8;
		return 0;
	}
	if (bpf_skb_load_bytes(skb, ihl + 12, &hl, 1))
		return -1;
	h->off = ihl + (hl >> 4) * 4;
	return 0;
}

static __always_inline int parse_l4(struct __sk_buff *skb, __u8 want,
				    struct l4 *h)
{
	__u8 *data = (__u8 *)(long)skb->data;
	__u8 *end = (__u8 *)(long)skb->data_end;
	__u8 *l4;
	__u32 ihl;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (data + 20 > end)
			return parse_l4_copy(skb, want, h);
		if (data[9] != want)
			return -1;
		ihl = (data[0] & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (data + 40 > end)
			return parse_l4_copy(skb, want, h);
		if (data[6] != want)
			return -1;
		ihl = 40;  /* extension headers: not inspected */
	} else {
		return -1;
	}
	if (ihl < 20)
		return -1;
	l4 = data + ihl;
	if (l4 + 13 > end)
		return parse_l4_copy(skb, want, h);
	h->sport = (__u16)l4[0] << 8 | l4[1];
	h->hdr = ihl;
	h->off = ihl + (want == IPPROTO_UDP ? 8 : (l4[12] >> 4) * 4);
	return 0;
}

static __always_inline struct scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&skb_scratch, &zero);
}

/*
 * The parsers as global functions: the verifier checks each once, on its
 * own, instead of once per path of the program that calls it (fewer
 * states, less start-up). Global-function pointers may be NULL. The
 * compat build's take no pointer (see RW_COMPAT): they parse the scratch,
 * which is where the callers' buffers are.
 */
#ifdef RW_COMPAT
__weak __noinline int dns_parse_compat(void)
{
	struct scratch *sc = scratch();

	return sc ? wire_dns_parse(&sc->msg, &sc->dns) : WIRE_MALFORMED;
}

__weak __noinline int flow_parse_compat(void)
{
	struct scratch *sc = scratch();

	return sc ? wire_flow_parse(&sc->buf, &sc->flow) : WIRE_MALFORMED;
}
__weak __noinline int ip_step_compat(__u32 c)
{
	struct scratch *sc = scratch();

	if (sc)
		wire_ip_step(&sc->flow.ip, (__u8)c);
	return 0;
}

__weak __noinline int ip_literal_compat(void)
{
	struct scratch *sc = scratch();

	return sc ? wire_ip_literal(&sc->flow) : WIRE_NOT_PROTO;
}
#define rw_dns_parse(sc) dns_parse_compat()
#define rw_flow_parse(sc) flow_parse_compat()
#define rw_ip_literal(sc) ip_literal_compat()
#else
__noinline int rw_dns_parse(struct scratch *sc)
{
	if (!sc)
		return WIRE_MALFORMED;
	return wire_dns_parse(&sc->msg, &sc->dns);
}

__noinline int rw_flow_parse(struct scratch *sc)
{
	if (!sc)
		return WIRE_MALFORMED;
	return wire_flow_parse(&sc->buf, &sc->flow);
}

#define rw_ip_literal(sc) wire_ip_literal(&(sc)->flow)
#endif

/* the credential header of a matched flow's cleartext request, to the
 * daemon (sc->key_flow, key_cookie: the flow). Only where the kernel has
 * bpf_loop (5.17+): 5.10's verifier refuses the walk's plain loop, and
 * there a key sent in clear is not reported (README). */
#ifndef RW_COMPAT
static __always_inline int key_report(struct scratch *sc)
{
	struct rw_key_event *e;
	__u32 n;

	if (wire_http_key(&sc->buf, &sc->key) != WIRE_OK)
		return 0;
	e = event_new(sizeof(*e), RW_EV_KEY, RW_CNT_RB_FULL);
	if (!e)
		return 0;
	e->tgid = sc->key_flow.tgid;
	e->uid = sc->key_flow.uid;
	e->cookie = sc->key_cookie;
	__builtin_memcpy(e->daddr, sc->key_flow.daddr, 16);
	e->dport = sc->key_flow.dport;
	e->family = sc->key_flow.family;
	e->action = sc->key_flow.action;
	e->rule = sc->key_flow.rule;
	e->flags = sc->key_flow.flags;
	e->gen = sc->key_flow.gen;
	e->header = sc->key.hdr;
	__builtin_memcpy(e->name, sc->flow.host.name, RW_NAME_LEN);
	n = sc->key.len < RW_KEY_LEN ? sc->key.len : RW_KEY_LEN;
	e->klen = n;
	/* 8 bytes at a time; past klen, zeros (none of the rest of the
	 * request: other headers may be secrets too). Little-endian: the
	 * mask keeps a word's first bytes. No branch on n: one per word
	 * had the verifier walk the rest of the copy once for every word
	 * the key could end in (20,481 of flow_egress's 68,193
	 * instructions on 6.18) */
	for (__u32 i = 0; i < RW_KEY_LEN; i += 8) {
		__s64 left = (__s64)n - i, neg = left, big;
		__u64 v, mask;

		/* the sign spread in asm: from C, clang makes them branches */
		asm volatile("%[x] s>>= 63" : [x] "+r"(neg));
		left &= ~neg;                   /* below 0: 0 */
		big = 7 - left;
		asm volatile("%[x] s>>= 63" : [x] "+r"(big));
		mask = (__u64)big;              /* 8 or more: all ones */
		mask |= (1ULL << ((left & 7) * 8)) - 1;
		__builtin_memcpy(&v, &sc->buf.data[(sc->key.off + i) &
						   WIRE_MASK], 8);
		v &= mask;
		__builtin_memcpy(&e->key[i], &v, 8);
	}
	count(RW_CNT_EMITTED);
	submit(e, false);
	return 1;
}

__noinline int rw_key_scan(struct scratch *sc)
{
	return sc ? key_report(sc) : 0;
}
#endif

#include "dns.bpf.h"

/* ---- egress: the first bytes of a flow -------------------------------- */

#include "verdict.bpf.h"

/* what a matched flow sends: the data-exposure figure */
static __always_inline int count_sent(struct __sk_buff *skb, struct rw_flow *f)
{
	if (f->flags & RW_FF_TRACKED) {
		__sync_fetch_and_add(&f->bytes, skb->len);
		__sync_fetch_and_add(&f->pkts, 1);
		f->last_ktime = bpf_ktime_get_boot_ns();
	}
	return 1;
}

static __always_inline void key_out(struct __sk_buff *skb,
				    struct scratch *sc, struct rw_flow *f)
{
#ifndef RW_COMPAT
	__builtin_memcpy(&sc->key_flow, f, sizeof(*f));
	sc->key_cookie = bpf_get_socket_cookie(skb);
	rw_key_scan(sc);
#else
	(void)skb, (void)sc, (void)f;
#endif
}

/* a TCP segment with RST: a denied flow's reset goes out */
static __always_inline bool tcp_rst(struct __sk_buff *skb, __u32 l4)
{
	__u8 fl;

	return !bpf_skb_load_bytes(skb, l4 + 13, &fl, 1) && (fl & 0x04);
}

/*
 * The process that sends the first bytes: the egress hook runs in its
 * context for a direct write (and for connect's, with TCP Fast Open).
 * A socket passed over a unix socket, or inherited, is then blamed on
 * its sender; the connector stays in f->connector. Only on a flow's
 * first send (later ones may come from a timer). How to ask depends on
 * the kernel (cfg_sender; the calls the loader's probe ruled out are
 * dead code the verifier drops); where neither way exists the connector
 * stays. The uid is the process table's.
 */
static __always_inline void take_sender(struct rw_flow *f)
{
	struct rw_proc *pr;
	__u32 tgid = 0;

	if (cfg_sender == RW_SENDER_PID) {
		tgid = bpf_get_current_pid_tgid() >> 32;
	} else if (cfg_sender == RW_SENDER_TASK) {
		struct task_struct *t = (void *)bpf_get_current_task();

		if (bpf_probe_read_kernel(&tgid, sizeof(tgid),
					  __builtin_preserve_access_index(&t->tgid)))
			return;
	} else {
		return;
	}
	if (!tgid || tgid == f->tgid || f->connector)
		return;
	f->connector = f->tgid;
	f->tgid = tgid;
	pr = bpf_map_lookup_elem(&procs, &tgid);
	if (pr)
		f->uid = pr->uid;
}

SEC("cgroup_skb/egress")
int RW_HOOK(flow_egress)(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct rw_pending *p = NULL;
	struct scratch *sc;
	struct rw_flow *f;
	struct l4 h;
	int rc, pass;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	/* a flow that matched has socket storage; one still waiting for
	 * its first bytes has a pending slot */
	f = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!f) {
		__u64 ck = bpf_get_socket_cookie(skb);

		p = pending_slot(ck);
		if (!p || p->cookie != ck)
			return 1;
		f = &p->flow;
	}
	/* a packet out of a socket past SYN_SENT: the peer took the
	 * handshake (a SYN's retransmits, or none, when it refused) */
	if (sk->state != BPF_TCP_SYN_SENT) {
		if (!(f->flags & RW_FF_EST))
			f->flags |= RW_FF_EST;
	} else if (f->state == RW_FS_DONE) {
		return 1; /* a SYN is not what the flow sent */
	}
	if (f->state == RW_FS_DENIED) {
		/* the reset the daemon's destroy sends goes out */
		if (!parse_l4(skb, IPPROTO_TCP, &h) && tcp_rst(skb, h.hdr))
			return 1;
		count(RW_CNT_DROPPED);
		return 0;
	}
	if (f->state != RW_FS_NEW && f->state != RW_FS_SOCKS &&
	    f->state != RW_FS_AUTH)
		return count_sent(skb, f);
	if (parse_l4(skb, IPPROTO_TCP, &h) || h.off >= skb->len)
		return 1; /* no payload yet: the handshake */
	sc = scratch();
	if (!sc || wire_buf_load(skb, h.off, &sc->buf))
		return 1;
	if (f->state == RW_FS_NEW && !f->tries)
		take_sender(f);
	/* a ClientHello over several records is joined first */
	rc = WIRE_OK;
	if (wire_u8(&sc->buf, 0) == 22) {
		struct wire_src src = { .skb = skb, .off = h.off };

		rc = wire_tls_join(&src, &sc->buf);
	}
	/* a SOCKS5 request starts with 5 like its greeting: the same
	 * dispatcher parses both, and a greeting waits for the request */
	if (rc == WIRE_OK)
		rc = rw_flow_parse(sc);
	else
		sc->flow.proto = WIRE_P_TLS;
	if (f->state == RW_FS_AUTH) {
		/* judged at connect: read only for a key sent in clear */
		f->state = RW_FS_DONE;
		if (sc->flow.proto == WIRE_P_HTTP &&
		    (rc == WIRE_OK || rc == WIRE_NO_HOST))
			key_out(skb, sc, f);
		return count_sent(skb, f);
	}
	if (rc == WIRE_NOT_PROTO && f->state == RW_FS_NEW &&
	    wire_u8(&sc->buf, 0) == 5) {
		f->state = RW_FS_SOCKS;
		return count_sent(skb, f);
	}
	/* a proxy's target written as an address is judged as one */
	if (rc == WIRE_OK && wire_flow_is_proxy(&sc->flow) &&
	    !sc->flow.family && rw_ip_literal(sc) == WIRE_MALFORMED)
		rc = WIRE_MALFORMED;
	/*
	 * Incomplete: the bytes stay unsent. TCP keeps a segment the
	 * egress path refused at the head of its queue and appends the
	 * sender's next write to it, so the next try carries more of the
	 * same start (a hello split over writes arrives whole) — and none
	 * of it has left. Up to RW_HOLD_TRIES sends and WIRE_JOIN_MAX bytes.
	 */
	if (rc == WIRE_INCOMPLETE) {
		if (f->tries < RW_HOLD_TRIES - 1 &&
		    sc->buf.len < WIRE_JOIN_MAX) {
			f->tries++;
			count(RW_CNT_FLOW_HELD);
			return 0;
		}
		rc = WIRE_LIMIT;
	}
	f->state = RW_FS_DONE;
	if (rc == WIRE_NOT_PROTO || rc == WIRE_NO_SNI || rc == WIRE_NO_HOST ||
	    (rc == WIRE_OK && !sc->flow.host.len && !sc->flow.family)) {
		/* nothing named: judged at connect by address */
		if (rc != WIRE_NOT_PROTO)
			count(RW_CNT_FLOW_UNPARSED);
		return count_sent(skb, f);
	}
	if (rc != WIRE_OK)
		count(RW_CNT_FLOW_UNPARSED);
	__builtin_memcpy(&sc->jflow, f, sizeof(*f));
	pass = RW_HOOK(rw_flow_verdict)(skb, rc);
	__builtin_memcpy(f, &sc->jflow, sizeof(*f));
	/* matched: the flow moves to socket storage, where its bytes are
	 * counted and its verdict outlives the slot (which stays as it is
	 * should the storage fail) */
	if (p && (f->flags & RW_FF_TRACKED)) {
		struct rw_flow *sf = bpf_sk_storage_get(
			&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

		if (sf) {
			__builtin_memcpy(sf, f, sizeof(*sf));
			f = sf;
		}
	}
	if (!pass)
		return 0;
	if ((f->flags & RW_FF_TRACKED) && sc->flow.proto == WIRE_P_HTTP)
		key_out(skb, sc, f);
	return count_sent(skb, f);
}

#ifndef RW_COMPAT /* one build: no loop, no global function */
SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *sk)
{
	struct rw_flow_event *e;
	struct rw_pending *p;
	struct rw_flow *f;
	struct rw_tag *t;
	__u64 ck;

	/* only TCP flows have slots and are tracked */
	if (sk->protocol != IPPROTO_TCP)
		return 1;
	ck = bpf_get_socket_cookie(sk);
	/* a flow closed before its first bytes frees its slot */
	p = pending_slot(ck);
	if (p && p->cookie == ck)
		p->cookie = 0;
	f = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!f || !(f->flags & RW_FF_TRACKED))
		return 1;
	/* nothing left the host: a connect the peer refused (RST, timeout),
	 * or a flow whose first bytes were denied. Its connect or name
	 * record is the only one */
	if (!f->bytes && (!(f->flags & RW_FF_EST) ||
			  (f->flags & RW_FF_BLOCKED)))
		return 1;
	/* the owner's total, reported with its exit */
	t = bpf_map_lookup_elem(&tags, &f->tgid);
	if (t)
		__sync_fetch_and_add(&t->bytes, f->bytes);
	e = event_new(sizeof(*e), RW_EV_FLOW, RW_CNT_RB_FULL_PROC);
	if (!e)
		return 1;
	e->tgid = f->tgid;
	e->uid = f->uid;
	e->cookie = ck;
	e->bytes = f->bytes;
	e->pkts = f->pkts;
	e->first_ktime = f->first_ktime;
	e->last_ktime = f->last_ktime;
	__builtin_memcpy(e->daddr, f->daddr, 16);
	e->dport = f->dport;
	e->family = f->family;
	e->rule = f->rule;
	e->action = f->action;
	e->gen = f->gen;
	e->flags = f->flags;
	count(RW_CNT_EMITTED);
	submit(e, false);
	return 1;
}
#endif
