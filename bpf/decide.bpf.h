/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The decision both hook families share: which rule, in policy order,
 * holds for a destination (address sets, names) and a caller (uid, binary,
 * cgroup). The connect/sendmsg hooks know the address; the packet hooks
 * also know the name from the first bytes. Included by each .bpf.c.
 */
#ifndef RW_DECIDE_BPF_H
#define RW_DECIDE_BPF_H

#include "maps.bpf.h"

#include "wire.h"

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

/*
 * The rule walk runs under bpf_loop(): the verifier checks its body once,
 * not once per unrolled iteration (which cost ~0.5 s of load time per
 * program). Everything it needs is copied into this context by value.
 */
struct caller {
	struct dest d;
	__u64 cand;           /* candidate rules */
	__u64 kind[RW_KIND__MAX]; /* per destination kind: rules containing it */
	__u64 anc[RW_CG_LEVELS];  /* the caller's cgroup ancestors, by level */
	__u64 exe_mask;       /* rules accepting this binary */
	__u32 uid;
	__u8 proto;
	__u8 gen;
	__u8 home;            /* the address's rw_dest.home */
	__u8 pad;
	int found;            /* the rule, or -1 */
};

/*
 * Does rule i hold for this call? 1 stops the loop. A global function:
 * the verifier checks it once, on its own, rather than once per state of
 * each caller (IPv4 or IPv6, each bpf_loop iteration). Weak, because every
 * .bpf.c includes this header and the link keeps one copy.
 */
__weak __noinline int rule_test(struct caller *c, __u32 i)
{
	__u32 idx;
	__u64 bit = 1ULL << (i & 63);
	struct rw_rule *r;

	if (!c)
		return 1;
	idx = c->gen * RW_MAX_RULES + i;
	r = bpf_map_lookup_elem(&rules, &idx);
	if (!r)
		return 1;
	if ((r->kinds & (1 << RW_KIND_DOMAIN)) &&
	    !(c->kind[RW_KIND_DOMAIN] & bit))
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
	if ((r->flags & RW_RF_OVERSEAS) && c->home != 0)
		return 0;
	if ((r->flags & RW_RF_DOMESTIC) && c->home != RW_HOME)
		return 0;
	if ((r->flags & RW_RF_CGROUP) &&
	    (r->cgroup_level >= RW_CG_LEVELS ||
	     c->anc[r->cgroup_level & (RW_CG_LEVELS - 1)] != r->cgroup_id))
		return 0;
	if ((r->flags & RW_RF_EXE) && !(c->exe_mask & bit))
		return 0;
	c->found = i;
	return 1;
}

static int rule_cb(__u64 i, void *arg)
{
	struct caller *c = arg;

	/* most rules are no candidate: skip them without the call */
	if (!(c->cand & (1ULL << (i & 63))))
		return 0;
	return rule_test(c, (__u32)i) ? 1 : 0;
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
	/* plain or: a bit lost to a race between CPUs is set again by the
	 * next match; keeps the file buildable for -mcpu=v2 (no atomic or) */
	if (rule < RW_MAX_RULES)
		t->rules |= 1ULL << rule;
	t->actions |= 1U << action;
}


/* Rules of names: the exact name, then each "*.suffix" it is below. A key
 * hit decides only when the second hash of the text agrees. */
struct chk_ctx {
	const char *text;
	__u32 start, end;
	__u64 h;
};

static int chk_cb(__u64 i, void *arg)
{
	struct chk_ctx *c = arg;
	__u32 at = c->start + (__u32)i;

	if (at >= c->end)
		return 1;
	c->h = wire_chk(c->h, (__u8)c->text[at & 255]);
	return 0;
}

static __always_inline __u64 chk_range(const char *text, __u32 start,
				       __u32 end)
{
	struct chk_ctx c = { .text = text, .start = start, .end = end,
			     .h = WIRE_CHK_BASIS };

	bpf_loop(256, chk_cb, &c, 0);
	return c.h;
}

/* text: the name's 256-byte buffer; adds name and intel masks to out */
static __always_inline void match_name(__u8 gen, __u64 hash, const __u64 *sfx,
				       __u32 labels, const char *text,
				       __u32 len, __u64 *dom, __u64 *intel)
{
	struct rw_name_key k = { .h = hash, .gen = gen };
	struct rw_name_val *v;

	if (!len || len > 253)
		return;
	v = bpf_map_lookup_elem(&names, &k);
	if (v && v->len == len && chk_range(text, 0, len) == v->check) {
		*dom |= v->kind[0];
		*intel |= v->kind[1];
	}
	for (__u32 i = 0; i < RW_SFX_MAX; i++) {
		__u32 start;

		if (i + 1 >= labels)
			break;
		k.h = sfx[i];
		k.wild = i + 1;
		v = bpf_map_lookup_elem(&names, &k);
		if (!v || v->len >= len)
			continue;
		start = len - v->len;
		if (text[(start - 1) & 255] != '.' ||
		    chk_range(text, start, len) != v->check)
			continue;
		*dom |= v->kind[0];
		*intel |= v->kind[1];
	}
}

/* Runs the rule walk; returns the rule (RW_RULE_DEFAULT when the default
 * decides) or -1 to let the call pass without a word. */
static __always_inline int decide(struct caller *c, struct rw_settings *s,
				  __u8 *action, __u8 *enforce)
{
	__u32 ridx;
	struct rw_rule *r;

	c->found = -1;
	/* rule ids are below nr_rules: walk no further */
	if (c->cand)
		bpf_loop(s->nr_rules < RW_MAX_RULES ? s->nr_rules :
						      RW_MAX_RULES, rule_cb, c, 0);
	if (c->found >= 0 && c->found < RW_MAX_RULES) {
		ridx = c->gen * RW_MAX_RULES + c->found;
		r = bpf_map_lookup_elem(&rules, &ridx);
		if (!r)
			return -1;
		*action = r->action;
		*enforce = r->flags & RW_RF_ENFORCE;
	} else {
		/* the default allows silently, like no policy at all */
		if (s->default_action <= RW_ACT_ALLOW)
			return -1;
		*action = s->default_action;
		*enforce = s->default_enforce;
		c->found = RW_RULE_DEFAULT;
	}
	if (*action <= RW_ACT_NONE || *action >= RW_ACT__MAX)
		return -1;
	return c->found;
}

/* the policy generation in force and its settings */
static __always_inline struct rw_settings *policy_now(__u8 *gen)
{
	__u32 zero = 0, idx, *g = bpf_map_lookup_elem(&active, &zero);

	if (!g)
		return NULL;
	*gen = *g & 1;
	idx = *gen;
	return bpf_map_lookup_elem(&settings, &idx);
}

#endif /* RW_DECIDE_BPF_H */
