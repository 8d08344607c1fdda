// SPDX-License-Identifier: MIT
/*
 * Test-only cgroup_skb programs that run bpf/wire.h on a packet handed in by
 * BPF_PROG_TEST_RUN and leave the result in the res map. Loading them is the
 * proof that the verifier accepts each parser; tests/bpf/wire_check.c
 * compares what they write with the userspace build of the same parsers.
 * One program per parser, so each reports its own verifier cost. Never
 * attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* the parsers as bpf/skb.bpf.c builds them: byte walks as global functions */
#define WIRE_GLOBAL_FNS
#include "wire_check.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* the last run's result, read by the runner */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wc_res);
} res SEC(".maps");

/* payload bytes: too big for the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wire_buf);
} scratch SEC(".maps");

/* Offset of the TCP/UDP payload; skb data starts at the IP header. */
static __always_inline int payload_off(struct __sk_buff *skb, __u32 *off)
{
	__u8 b, proto;
	__u32 hlen;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &b, 1) ||
		    bpf_skb_load_bytes(skb, 9, &proto, 1))
			return -1;
		hlen = (b & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 6, &proto, 1))
			return -1;
		hlen = 40;
	} else {
		return -1;
	}
	if (proto == IPPROTO_UDP) {
		*off = hlen + 8;
		return 0;
	}
	if (proto != IPPROTO_TCP || bpf_skb_load_bytes(skb, hlen + 12, &b, 1))
		return -1;
	*off = hlen + (b >> 4) * 4;
	return 0;
}

static __always_inline struct wc_res *setup(struct __sk_buff *skb,
					    struct wire_buf **b)
{
	__u32 k = 0, off;
	struct wc_res *r = bpf_map_lookup_elem(&res, &k);

	*b = bpf_map_lookup_elem(&scratch, &k);
	if (!r || !*b)
		return 0;
	r->rc = -1;
	if (payload_off(skb, &off) || wire_buf_load(skb, off, *b))
		return 0;
	return r;
}

SEC("cgroup_skb/ingress")
int wc_dns(struct __sk_buff *skb)
{
	struct wire_buf *b;
	struct wc_res *r = setup(skb, &b);

	if (r)
		r->rc = wire_dns_parse(b, &r->dns);
	return 1;
}

SEC("cgroup_skb/egress")
int wc_tls(struct __sk_buff *skb)
{
	struct wire_buf *b;
	struct wc_res *r = setup(skb, &b);

	if (r)
		r->rc = wire_tls_sni(b, &r->flow);
	return 1;
}

SEC("cgroup_skb/egress")
int wc_http(struct __sk_buff *skb)
{
	struct wire_buf *b;
	struct wc_res *r = setup(skb, &b);

	if (r)
		r->rc = wire_http(b, &r->flow);
	return 1;
}

SEC("cgroup_skb/egress")
int wc_socks5(struct __sk_buff *skb)
{
	struct wire_buf *b;
	struct wc_res *r = setup(skb, &b);

	if (r)
		r->rc = wire_socks5(b, &r->flow);
	return 1;
}

SEC("cgroup_skb/egress")
int wc_flow(struct __sk_buff *skb)
{
	struct wire_buf *b;
	struct wc_res *r = setup(skb, &b);

	__u32 off;

	/* the egress reading as flow_egress does it: records joined (from
	 * the packet), parsed, a proxy target's literal made an address */
	if (!r || payload_off(skb, &off))
		return 1;
	if (wire_len(b) && wire_u8(b, 0) == 22) {
		struct wire_src src = { .skb = skb, .off = off };

		r->rc = wire_tls_join(&src, b);
		if (r->rc != WIRE_OK) {
			__builtin_memset(&r->flow, 0, sizeof(r->flow));
			wire_name_init(&r->flow.host);
			r->flow.proto = WIRE_P_TLS;
			return 1;
		}
	}
	r->rc = wire_flow_parse(b, &r->flow);
	if (r->rc == WIRE_OK && wire_flow_is_proxy(&r->flow) &&
	    wire_ip_literal(&r->flow) == WIRE_MALFORMED)
		r->rc = WIRE_MALFORMED;
	return 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
