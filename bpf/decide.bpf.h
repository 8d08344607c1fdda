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
#include <bpf/bpf_endian.h>

/*
 * Kernels before 5.17 have no bpf_loop, and those before 5.12 no global
 * functions with pointer arguments. The hooks that use them are built
 * twice: as is, and by a *_compat.bpf.c unit with RW_COMPAT, whose
 * programs are called NAME_compat. There the walks run in bounded loops
 * inside global functions that take scalars only (5.6+) and find their
 * input in per-CPU scratch (struct rw_walk): each is still verified once,
 * not once per path of its caller. The decisions are the same; the
 * loader probes bpf_loop and loads one build of each hook.
 * RW_LOOP(n, cb, ctx): cb(i, ctx) for i in [0, n) until it returns 1.
 */
#ifdef RW_COMPAT
#define RW_HOOK(name) name##_compat
#define RW_LOOP(n, cb, ctx)                                                 \
	do {                                                                \
		_Pragma("clang loop unroll(disable)")                      \
		for (__u32 _i = 0; _i < (n); _i++)                          \
			if (cb(_i, ctx))                                    \
				break;                                      \
	} while (0)
#else
#define RW_HOOK(name) name
#define RW_LOOP(n, cb, ctx) bpf_loop(n, cb, ctx, 0)
#endif

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
 * The country table's entry for an address (hi: the first 64 bits in host
 * order, an IPv4 address in its low 32; lo: the last 64), by binary
 * search over the n entries of geo4 or geo6: the last range that starts
 * at or below it. Returns its country code (0: unknown). A global
 * function on scalars: verified once, on its own; weak, as rule_test.
 * Where the kernel has bpf_loop its step is the loop's callback, verified
 * once, not once per step. Each build has its own name (RW_HOOK): a weak
 * global of one name in both would link one body into the other's
 * programs, and 5.10 refuses a body with a callback it cannot run.
 */
struct geo_search {
	__u64 hi, lo;
	__u32 first, end;
	__u32 v6;
	__u32 miss;  /* an entry below n was not there: unknown */
};

/* one step: halves [first, end); 1 ends the search */
static __always_inline int geo_step(__u32 k, struct geo_search *g)
{
	__u32 first = g->first, end = g->end, mid;
	bool below;

	(void)k;
	if (end - first <= 1)
		return 1;
	mid = first + (end - first) / 2;
	if (g->v6) {
		struct rw_geo6 *e = bpf_map_lookup_elem(&geo6, &mid);

		if (!e) {
			g->miss = 1;
			return 1;
		}
		below = e->hi < g->hi || (e->hi == g->hi && e->lo <= g->lo);
	} else {
		struct rw_geo4 *e = bpf_map_lookup_elem(&geo4, &mid);

		if (!e) {
			g->miss = 1;
			return 1;
		}
		below = e->start <= (__u32)g->hi;
	}
	if (below)
		g->first = mid;
	else
		g->end = mid;
	return 0;
}

#ifndef RW_COMPAT
static int geo_cb(__u64 k, void *arg)
{
	return geo_step((__u32)k, arg);
}
#endif

__weak __noinline int RW_HOOK(geo_find)(__u64 hi, __u64 lo, __u32 v6, __u32 n)
{
	struct geo_search g = { .hi = hi, .lo = lo, .end = n, .v6 = v6 };
	__u32 first;

	if (!n)
		return 0;
#ifndef RW_COMPAT
	bpf_loop(RW_GEO_STEPS, geo_cb, &g, 0);
#else
#pragma clang loop unroll(disable)
	for (__u32 k = 0; k < RW_GEO_STEPS; k++)
		if (geo_step(k, &g))
			break;
#endif
	if (g.miss)
		return 0;
	first = g.first;
	if (v6) {
		struct rw_geo6 *e = bpf_map_lookup_elem(&geo6, &first);

		return e ? e->cc : 0;
	} else {
		struct rw_geo4 *e = bpf_map_lookup_elem(&geo4, &first);

		return e ? e->cc : 0;
	}
}

/* what generation gen makes of the address's country: NULL when no rule
 * asks (or the country is not in the table) */
static __always_inline struct rw_cc *country_of(const struct dest *d,
						const struct rw_settings *s,
						__u8 gen)
{
	__u64 hi, lo = 0;
	__u32 idx;
	int cc;

	if (!s->has_geo)
		return NULL;
	if (d->v4) {
		__u32 a;

		__builtin_memcpy(&a, d->addr, 4);
		hi = bpf_ntohl(a);
		cc = RW_HOOK(geo_find)(hi, 0, 0, s->geo_n4);
	} else {
		__builtin_memcpy(&hi, d->addr, 8);
		__builtin_memcpy(&lo, d->addr + 8, 8);
		hi = bpf_be64_to_cpu(hi);
		lo = bpf_be64_to_cpu(lo);
		cc = RW_HOOK(geo_find)(hi, lo, 1, s->geo_n6);
	}
	if (cc <= 0 || cc >= RW_NR_CC)
		return NULL;
	idx = gen * RW_NR_CC + cc;
	return bpf_map_lookup_elem(&ccrules, &idx);
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
	__u8 home;            /* RW_SPECIAL (the tries), else its country's
			       * rw_cc.home */
	__u8 deadman;         /* an alert made a deny: no daemon reads */
	int found;            /* the rule, or -1 */
};

/* Does rule i hold for this call? Sets c->found and returns 1 if so. */
static __always_inline int rule_holds(struct caller *c, __u32 i)
{
	__u32 idx;
	__u64 bit = 1ULL << (i & 63);
	struct rw_rule *r;

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

/*
 * rule_holds as a global function: the verifier checks it once, on its
 * own, rather than once per state of each caller (IPv4 or IPv6, each
 * bpf_loop iteration). Weak, because every .bpf.c includes this header
 * and the link keeps one copy.
 */
#ifndef RW_COMPAT /* which has rule_walk_compat instead */
__weak __noinline int rule_test(struct caller *c, __u32 i)
{
	if (!c)
		return 1;
	return rule_holds(c, i);
}

static int rule_cb(__u64 i, void *arg)
{
	struct caller *c = arg;

	/* most rules are no candidate: skip them without the call */
	if (!(c->cand & (1ULL << (i & 63))))
		return 0;
	return rule_test(c, (__u32)i) ? 1 : 0;
}
#endif

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
#ifdef RW_COMPAT
/* all ones when a < b, else 0 (|a - b| < 2^63). In asm: clang would turn
 * the C for it into a compare and a jump */
static __always_inline __u64 lt_mask(__s64 a, __s64 b)
{
	__s64 d = a - b;

	asm volatile("%[d] s>>= 63" : [d] "+r"(d));
	return d;
}

/*
 * As a bounded loop, every branch that depends on start or end would have
 * the verifier follow one path per value of theirs through the rest of
 * the walk; so every byte is visited, and those outside [start, end)
 * leave the hash as it is, with no branch at all.
 */
static __always_inline __u64 chk_range(const char *text, __u32 start,
				       __u32 end)
{
	__u64 h = WIRE_CHK_BASIS;

#pragma clang loop unroll(disable)
	for (__s64 i = 0; i < 256; i++) {
		__u64 in = lt_mask(i, end) & ~lt_mask(i, start);
		__u64 n = wire_chk(h, (__u8)text[i]);

		h = (n & in) | (h & ~in);
	}
	return h;
}
#else
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
#endif

/* text: the name's 256-byte buffer; adds name and intel masks to out */
static __always_inline void names_of(__u8 gen, __u64 hash, const __u64 *sfx,
				     __u32 labels, const char *text, __u32 len,
				     __u64 *dom, __u64 *intel)
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

/* which hook family uses a scratch slot: a packet hook in softirq never
 * overwrites what the connect or egress hook it interrupted left there */
enum rw_slot { RW_SLOT_SOCK, RW_SLOT_EGRESS, RW_SLOT_INGRESS, RW_SLOT__MAX };

#ifdef RW_COMPAT
/* the compat walks' input and output, per CPU and hook family */
struct rw_walk {
	struct caller c;          /* the rule walk's call */
	__u64 hash, sfx[RW_SFX_MAX]; /* the name walk's name ... */
	__u32 labels, len;
	char text[256];
	__u64 dom, intel;         /* ... and the masks it found */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RW_SLOT__MAX);
	__type(key, __u32);
	__type(value, struct rw_walk);
} walk_scratch __weak SEC(".maps");

__weak __noinline int name_walk_compat(__u32 slot, __u32 gen)
{
	struct rw_walk *w = bpf_map_lookup_elem(&walk_scratch, &slot);

	if (!w)
		return 0;
	w->dom = 0;
	w->intel = 0;
	names_of(gen & 1, w->hash, w->sfx, w->labels, w->text, w->len,
		 &w->dom, &w->intel);
	return 0;
}

/* the first rule of the first n that holds for w->c, else -1 */
__weak __noinline int rule_walk_compat(__u32 slot, __u32 n)
{
	struct rw_walk *w = bpf_map_lookup_elem(&walk_scratch, &slot);

	if (!w)
		return -1;
	w->c.found = -1;
	for (__u32 i = 0; i < RW_MAX_RULES; i++) {
		if (i >= n)
			break;
		if ((w->c.cand & (1ULL << i)) && rule_holds(&w->c, i))
			break;
	}
	return w->c.found;
}
#endif

static __always_inline void match_name(enum rw_slot slot, __u8 gen,
				       __u64 hash, const __u64 *sfx,
				       __u32 labels, const char *text,
				       __u32 len, __u64 *dom, __u64 *intel)
{
#ifdef RW_COMPAT
	__u32 k = slot;
	struct rw_walk *w = bpf_map_lookup_elem(&walk_scratch, &k);

	if (!w)
		return;
	w->hash = hash;
	for (int i = 0; i < RW_SFX_MAX; i++)
		w->sfx[i] = sfx[i];
	w->labels = labels;
	w->len = len;
	__builtin_memcpy(w->text, text, sizeof(w->text));
	name_walk_compat(slot, gen);
	*dom |= w->dom;
	*intel |= w->intel;
#else
	names_of(gen, hash, sfx, labels, text, len, dom, intel);
#endif
}

/* Runs the rule walk; returns the rule (RW_RULE_DEFAULT when the default
 * decides) or -1 to let the call pass without a word. */
static __always_inline int decide(enum rw_slot slot, struct caller *c,
				  struct rw_settings *s, __u8 *action,
				  __u8 *enforce)
{
	__u32 ridx, n = s->nr_rules < RW_MAX_RULES ? s->nr_rules : RW_MAX_RULES;
	struct rw_rule *r;

	c->found = -1;
	/* rule ids are below nr_rules: walk no further */
#ifdef RW_COMPAT
	if (c->cand) {
		__u32 k = slot;
		struct rw_walk *w = bpf_map_lookup_elem(&walk_scratch, &k);

		if (w) {
			__builtin_memcpy(&w->c, c, sizeof(*c));
			c->found = rule_walk_compat(slot, n);
		}
	}
#else
	if (c->cand)
		bpf_loop(n, rule_cb, c, 0);
#endif
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
	/* on_daemon_loss: deny-alerts. What would only be recorded is
	 * denied while no daemon records it (its heartbeat is too old). */
	if (*action == RW_ACT_ALERT && s->deadman_ns) {
		__u32 zero = 0;
		struct rw_meta *m = bpf_map_lookup_elem(&meta, &zero);

		if (m && m->heartbeat &&
		    bpf_ktime_get_boot_ns() - m->heartbeat > s->deadman_ns) {
			*action = RW_ACT_DENY;
			*enforce = 1;
			c->deadman = 1;
		}
	}
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

/* whether answers from this port are DNS (the policy's dns_ports): a
 * fixed compare of every entry, no branch per entry */
static __always_inline int dns_port(const struct rw_settings *s, __u16 port)
{
	__u64 hit = 0;

	/* branch-free: a compare per port would be a verifier state each,
	 * for all that follows in the hook */
	for (int i = 0; i < RW_DNS_PORTS; i++)
		hit |= wire_is0((__u64)(s->dns_ports[i] ^ port));
	return (int)(hit & (wire_is0(port) ^ 1));
}

#endif /* RW_DECIDE_BPF_H */
