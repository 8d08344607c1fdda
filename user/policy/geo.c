// SPDX-License-Identifier: MIT
/*
 * Country tables: per family, sorted range starts each with a country (or
 * unknown), so a lookup is one binary search and a gap costs one entry.
 * Here: lookups, the special-purpose blocks, overlays (how RIR files and
 * the converter change a table) and range-to-CIDR conversion.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define GEO_INTERNAL
#include "geo.h"
#include "util.h"

#define NR_SPECIAL ARRAY_SIZE(specials)

/* IANA special-purpose blocks that are not globally reachable, plus the
 * documentation and benchmarking ones. */
static const struct special {
	__u8 fi, len, a[16];
} specials[] = {
	{ 0, 8, { 0 } },		{ 0, 8, { 10 } },
	{ 0, 10, { 100, 64 } },		{ 0, 8, { 127 } },
	{ 0, 16, { 169, 254 } },	{ 0, 12, { 172, 16 } },
	{ 0, 24, { 192, 0, 0 } },	{ 0, 24, { 192, 0, 2 } },
	{ 0, 16, { 192, 168 } },	{ 0, 15, { 198, 18 } },
	{ 0, 24, { 198, 51, 100 } },	{ 0, 24, { 203, 0, 113 } },
	{ 0, 4, { 224 } },		{ 0, 4, { 240 } },
	{ 1, 96, { 0 } },		/* ::, ::1, deprecated v4-compatible */
	{ 1, 48, { 0, 0x64, 0xff, 0x9b, 0, 1 } }, /* local-use NAT64 */
	{ 1, 64, { 1, 0 } },		/* discard-only */
	{ 1, 48, { 0x20, 0x01, 0, 2 } },	/* benchmarking */
	{ 1, 28, { 0x20, 0x01, 0, 0x10 } },	/* ORCHID */
	{ 1, 28, { 0x20, 0x01, 0, 0x20 } },	/* ORCHIDv2 */
	{ 1, 32, { 0x20, 0x01, 0x0d, 0xb8 } },	/* documentation */
	{ 1, 20, { 0x3f, 0xff } },		/* documentation */
	{ 1, 16, { 0x5f, 0 } },			/* SRv6 SIDs */
	{ 1, 7, { 0xfc } },		{ 1, 10, { 0xfe, 0x80 } },
	{ 1, 10, { 0xfe, 0xc0 } },	{ 1, 8, { 0xff } },
};

void geo_seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* The low n bytes of v, network order (geo_get_be()'s inverse). */
static void put_be(u128 v, __u8 *a, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		a[i] = v & 0xff;
}

/* Table index for family+address; mapped and NAT64 forms become v4. */
static int norm(int family, const __u8 *a, u128 *v)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (family == AF_INET) {
		*v = geo_get_be(a, 4);
		return 0;
	}
	if (family != AF_INET6)
		return -1;
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) {
		*v = geo_get_be(a + 12, 4);
		return 0;
	}
	*v = geo_get_be(a, 16);
	return 1;
}

/* The top len bits of the family's width. */
u128 geo_prefix_mask(int fi, int len)
{
	if (len >= geo_bits(fi))
		return geo_max(fi);
	return len > 0 ? geo_max(fi) & ~(geo_max(fi) >> len) : 0;
}

/* "CN" (either case) -> its table code; 0 (unknown) for anything that is
 * not two letters, so a bad code can never match a real one. */
__u16 geo_cc_code(const char *cc)
{
	int a = cc[0] & ~0x20, b = cc[0] ? cc[1] & ~0x20 : 0;

	if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || cc[2])
		return 0;
	return 1 + (a - 'A') * 26 + (b - 'A');
}

/* The last address of entry k. */
static u128 tab_end(const struct geo_tab *t, int fi, size_t k)
{
	return k + 1 < t->nr ? geo_start(t, fi, k + 1) - 1 : geo_max(fi);
}

/* The entry that holds v: the last one starting at or below it. */
static size_t tab_find(const struct geo_tab *t, int fi, u128 v)
{
	size_t lo = 0, hi = t->nr;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (geo_start(t, fi, mid) <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* names[] gives geo_country() a stable string for every possible code. */
struct geo *geo_alloc(const char *source)
{
	struct geo *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	for (int i = 1; i < GEO_NR_CC; i++) {
		g->names[i][0] = 'A' + (i - 1) / 26;
		g->names[i][1] = 'A' + (i - 1) % 26;
	}
	snprintf(g->source, sizeof(g->source), "%s", source ? source : "");
	return g;
}

void geo_free(struct geo *g)
{
	if (!g)
		return;
	geo_tab_free(&g->t[0]);
	geo_tab_free(&g->t[1]);
	free(g);
}

/* One unknown entry per family: the whole space. */
int geo_new(struct geo **out, const char *source)
{
	struct geo *g = geo_alloc(source);

	*out = NULL;
	if (!g || geo_tab_alloc(&g->t[0], 0, 1) ||
	    geo_tab_alloc(&g->t[1], 1, 1)) {
		geo_free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
}

/* A table under construction, u128 for both families. Equal neighbours
 * merge on the way in, so every table stays canonical (adjacent entries
 * differ) whatever overlays built it. */
struct build {
	size_t nr, cap;
	u128 *s;
	__u16 *cc;
};

static int build_push(struct build *b, u128 start, __u16 cc)
{
	if (b->nr && b->cc[b->nr - 1] == cc)
		return 0;
	if (b->nr == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		u128 *s = realloc(b->s, cap * sizeof(*s));
		__u16 *c;

		if (!s)
			return -ENOMEM;
		b->s = s;
		c = realloc(b->cc, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		b->cc = c;
		b->cap = cap;
	}
	b->s[b->nr] = start;
	b->cc[b->nr++] = cc;
	return 0;
}

/* What t says for lo..hi, appended to b; *k is a cursor into t. */
static int build_copy(struct build *b, const struct geo_tab *t, int fi,
		      size_t *k, u128 lo, u128 hi)
{
	int ret;

	while (*k + 1 < t->nr && geo_start(t, fi, *k + 1) <= lo)
		(*k)++;
	ret = build_push(b, lo, geo_cc(t, fi, *k));
	while (!ret && *k + 1 < t->nr && geo_start(t, fi, *k + 1) <= hi) {
		(*k)++;
		ret = build_push(b, geo_start(t, fi, *k), geo_cc(t, fi, *k));
	}
	return ret;
}

/* out = t with sp[0..n) (sorted, disjoint, family fi) laid on top. cur is
 * the first address not yet written; done: a span reached the top of the
 * space, where cur would wrap to 0. */
static int overlay_tab(struct geo_tab *out, const struct geo_tab *t, int fi,
		       const struct geo_span *sp, size_t n)
{
	struct build b = { 0 };
	bool done = false;
	size_t k = 0;
	u128 cur = 0;
	int ret = 0;

	for (size_t i = 0; i < n && !ret && !done; i++) {
		if (cur < sp[i].lo)
			ret = build_copy(&b, t, fi, &k, cur, sp[i].lo - 1);
		ret = ret ?: build_push(&b, sp[i].lo, sp[i].cc);
		done = sp[i].hi == geo_max(fi);
		cur = sp[i].hi + 1;
	}
	if (!ret && !done)
		ret = build_copy(&b, t, fi, &k, cur, geo_max(fi));
	ret = ret ?: geo_tab_alloc(out, fi, b.nr);
	for (size_t i = 0; !ret && i < b.nr; i++)
		geo_tab_set(out, fi, i, b.s[i], b.cc[i]);
	free(b.s);
	free(b.cc);
	return ret;
}

/* sp is sorted v4 first (span_cmp), so one cut splits the families. */
static int overlay_tabs(struct geo_tab out[2], const struct geo_tab in[2],
			const struct geo_span *sp, size_t n)
{
	size_t n4 = 0;
	int ret;

	while (n4 < n && !sp[n4].fi)
		n4++;
	ret = overlay_tab(&out[0], &in[0], 0, sp, n4);
	ret = ret ?: overlay_tab(&out[1], &in[1], 1, sp + n4, n - n4);
	if (ret) {
		geo_tab_free(&out[0]);
		geo_tab_free(&out[1]);
	}
	return ret;
}

static int span_cmp(const void *a, const void *b)
{
	const struct geo_span *x = a, *y = b;

	if (x->fi != y->fi)
		return x->fi - y->fi;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->line - y->line;
}

/* Lay sp over g, then (if asked) clear the special blocks, last so that no
 * file can give them a country; g changes only when everything succeeded.
 * After sorting, any overlap shows between neighbours. */
int geo_apply(struct geo *g, struct geo_span *sp, size_t n, bool clear,
		 const char *path, char *err, size_t errlen)
{
	struct geo_span sv[NR_SPECIAL];
	struct geo_tab a[2] = { 0 }, b[2] = { 0 };
	int ret;

	if (n > 1)
		qsort(sp, n, sizeof(*sp), span_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct geo_span *x = &sp[i - 1], *y = &sp[i];

		if (x->fi != y->fi || x->hi < y->lo)
			continue;
		geo_seterr(err, errlen, "%s%s%d: range overlaps line %d",
			   path ?: "", path ? ":" : "line ",
			   x->line > y->line ? x->line : y->line,
			   x->line > y->line ? y->line : x->line);
		return -EINVAL;
	}
	ret = overlay_tabs(a, g->t, sp, n);
	if (!ret && clear) {
		for (size_t i = 0; i < NR_SPECIAL; i++) {
			int fi = specials[i].fi;
			u128 host = ~geo_prefix_mask(fi, specials[i].len);

			sv[i].fi = fi;
			sv[i].cc = 0;
			sv[i].line = 0;
			sv[i].lo = geo_get_be(specials[i].a, fi ? 16 : 4);
			sv[i].hi = (sv[i].lo | host) & geo_max(fi);
		}
		qsort(sv, NR_SPECIAL, sizeof(sv[0]), span_cmp);
		ret = overlay_tabs(b, a, sv, NR_SPECIAL);
		geo_tab_free(&a[0]);
		geo_tab_free(&a[1]);
		memcpy(a, b, sizeof(a));
	}
	if (ret) {
		geo_seterr(err, errlen, "failed to build geo table: %s",
			   strerror(-ret));
		return ret;
	}
	geo_tab_free(&g->t[0]);
	geo_tab_free(&g->t[1]);
	memcpy(g->t, a, sizeof(a));
	return 0;
}

int geo_overlay(struct geo *g, const struct geo_range *r, size_t nr,
		char *err, size_t errlen)
{
	struct geo_span *sp = calloc(nr ?: 1, sizeof(*sp));
	int ret = 0;

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < nr && !ret; i++) {
		int fi = r[i].family == AF_INET6, n = fi ? 16 : 4;

		sp[i].fi = fi;
		sp[i].line = r[i].line ?: (int)i + 1;
		sp[i].lo = geo_get_be(r[i].first, n);
		sp[i].hi = geo_get_be(r[i].last, n);
		sp[i].cc = r[i].cc[0] ? geo_cc_code(r[i].cc) : 0;
		if ((r[i].family != AF_INET && !fi) || sp[i].lo > sp[i].hi ||
		    (r[i].cc[0] && !sp[i].cc)) {
			geo_seterr(err, errlen, "line %d: bad range",
				   sp[i].line);
			ret = -EINVAL;
		}
	}
	ret = ret ?: geo_apply(g, sp, nr, false, NULL, err, errlen);
	free(sp);
	return ret;
}

int geo_clear_special(struct geo *g)
{
	struct geo_span none;

	return geo_apply(g, &none, 0, true, NULL, NULL, 0);
}

const char *geo_country(const struct geo *g, int family, const __u8 *addr)
{
	__u16 cc;
	u128 v;
	int fi = norm(family, addr, &v);

	if (fi < 0)
		return NULL;
	/* entry 0 starts at address 0: every address has an entry */
	cc = geo_cc(&g->t[fi], fi, tab_find(&g->t[fi], fi, v));
	return cc ? g->names[cc] : NULL;
}

bool geo_is_special(int family, const __u8 *addr)
{
	u128 v;
	int fi = norm(family, addr, &v);

	for (size_t i = 0; fi >= 0 && i < NR_SPECIAL; i++) {
		const struct special *s = &specials[i];

		if (s->fi == fi && (v & geo_prefix_mask(fi, s->len)) ==
					   geo_get_be(s->a, fi ? 16 : 4))
			return true;
	}
	return false;
}

/* An unknown country is not overseas: nothing shows that the traffic
 * leaves the country; policy can still match such addresses by CIDR. */
bool geo_is_overseas(const struct geo *g, int family, const __u8 *addr,
		     const char *const *home, size_t nr_home)
{
	const char *cc;

	if (geo_is_special(family, addr))
		return false;
	cc = geo_country(g, family, addr);
	if (!cc)
		return false;
	for (size_t i = 0; i < nr_home; i++)
		if (!strcasecmp(cc, home[i]))
			return false;
	return true;
}

/* Greedy: each block is the largest one aligned at lo that fits, which
 * gives the shortest list. */
static int emit_cidrs(int fi, u128 lo, u128 hi, geo_cidr_cb cb, void *ctx)
{
	int bits = geo_bits(fi), ret;
	__u8 a[16];

	for (;;) {
		int k = lo ? geo_ctz(lo) : bits;
		u128 span;

		for (;; k--) {
			span = k == 128 ? ~(u128)0 : ((u128)1 << k) - 1;
			if (span <= hi - lo)
				break;
		}
		put_be(lo, a, bits / 8);
		ret = cb(geo_af(fi), a, bits - k, ctx);
		if (ret || span == hi - lo)
			return ret;
		lo += span + 1;
	}
}

int geo_range_cidrs(int family, const __u8 *first, const __u8 *last,
		    geo_cidr_cb cb, void *ctx)
{
	int fi = family == AF_INET6, n = fi ? 16 : 4;
	u128 lo, hi;

	if (family != AF_INET && !fi)
		return -EINVAL;
	lo = geo_get_be(first, n);
	hi = geo_get_be(last, n);
	return lo > hi ? -EINVAL : emit_cidrs(fi, lo, hi, cb, ctx);
}

int geo_special_cidrs(geo_cidr_cb cb, void *ctx)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < NR_SPECIAL; i++)
		ret = cb(geo_af(specials[i].fi), specials[i].a, specials[i].len,
			 ctx);
	return ret;
}

int geo_home_cidrs(const struct geo *g, const char *const *home,
		   size_t nr_home, geo_cidr_cb cb, void *ctx)
{
	bool want[GEO_NR_CC] = { false };
	int ret;

	for (size_t i = 0; i < nr_home; i++) {
		__u16 c = geo_cc_code(home[i]);

		if (!c)
			return -EINVAL;
		want[c] = true;
	}
	/* a run of home entries (CN next to HK, both home) is one range, so
	 * the trie gets fewer and larger blocks */
	for (int fi = 0; fi < 2; fi++) {
		const struct geo_tab *t = &g->t[fi];

		for (size_t k = 0, e; k < t->nr; k = e + 1) {
			e = k;
			if (!want[geo_cc(t, fi, k)])
				continue;
			while (e + 1 < t->nr && want[geo_cc(t, fi, e + 1)])
				e++;
			ret = emit_cidrs(fi, geo_start(t, fi, k),
					 tab_end(t, fi, e), cb, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int geo_foreach(const struct geo *g, int family, geo_range_cb cb, void *ctx)
{
	int fi = family == AF_INET6, n = fi ? 16 : 4, ret;
	const struct geo_tab *t = &g->t[fi];
	__u8 a[16], b[16];

	if (family != AF_INET && !fi)
		return -EINVAL;
	for (size_t k = 0; k < t->nr; k++) {
		if (!geo_cc(t, fi, k))
			continue;
		put_be(geo_start(t, fi, k), a, n);
		put_be(tab_end(t, fi, k), b, n);
		ret = cb(family, a, b, g->names[geo_cc(t, fi, k)], ctx);
		if (ret)
			return ret;
	}
	return 0;
}

size_t geo_count(const struct geo *g, int family)
{
	return family == AF_INET ? g->t[0].known :
	       family == AF_INET6 ? g->t[1].known : 0;
}

/* The tables as allocated, without malloc's own overhead. */
size_t geo_mem(const struct geo *g)
{
	return sizeof(*g) + g->t[0].nr * sizeof(struct rw_geo4) +
	       g->t[1].nr * sizeof(struct rw_geo6);
}

const char *geo_source(const struct geo *g)
{
	return g->source;
}
