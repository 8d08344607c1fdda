// SPDX-License-Identifier: MIT
/*
 * The country table in the kernel's layout (relaywatch.h: struct
 * rw_geo4, rw_geo6), for the loader's geomap: how many entries, written
 * straight into the maps, compared with what a pinned set holds.
 */
#include <string.h>

#define GEO_INTERNAL
#include "geo.h"
#include "relaywatch.h"

_Static_assert(GEO_NR_CC == RW_NR_CC, "the kernel's country codes are geo.c's");

void geo_entries(const struct geo *g, size_t *n4, size_t *n6)
{
	*n4 = g->t[0].nr;
	*n6 = g->t[1].nr;
}

static void kernel_entry6(const struct geo_tab *t, size_t k,
			  struct rw_geo6 *e)
{
	memset(e, 0, sizeof(*e));
	e->hi = (__u64)(t->s6[k] >> 64);
	e->lo = (__u64)t->s6[k];
	e->cc = t->cc[k];
}

int geo_kernel_fill(void *ctx, void *v4, void *v6)
{
	const struct geo *g = ctx;
	const struct geo_tab *t4 = &g->t[0], *t6 = &g->t[1];
	struct rw_geo4 *a = v4;
	struct rw_geo6 *b = v6;

	for (size_t k = 0; k < t4->nr; k++)
		a[k] = (struct rw_geo4){ .start = t4->s4[k], .cc = t4->cc[k] };
	for (size_t k = 0; k < t6->nr; k++)
		kernel_entry6(t6, k, &b[k]);
	return 0;
}

bool geo_kernel_same(void *ctx, const void *v4, const void *v6)
{
	const struct geo *g = ctx;
	const struct geo_tab *t4 = &g->t[0], *t6 = &g->t[1];
	const struct rw_geo4 *a = v4;
	const struct rw_geo6 *b = v6;

	for (size_t k = 0; k < t4->nr; k++)
		if (a[k].start != t4->s4[k] || a[k].cc != t4->cc[k])
			return false;
	for (size_t k = 0; k < t6->nr; k++) {
		struct rw_geo6 e;

		kernel_entry6(t6, k, &e);
		if (memcmp(&e, &b[k], sizeof(e)))
			return false;
	}
	return true;
}
