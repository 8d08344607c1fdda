// SPDX-License-Identifier: MIT
/*
 * The country table in the kernel's layout (relaywatch.h: struct
 * rw_geo4, rw_geo6), for the loader's geomap: how many entries, written
 * straight into the maps, compared with what a pinned set holds.
 */
#include <string.h>

#define GEO_INTERNAL
#include "geo.h" /* with relaywatch.h: the kernel's layout */

_Static_assert(GEO_NR_CC == RW_NR_CC, "the kernel's country codes are geo.c's");

void geo_entries(const struct geo *g, size_t *n4, size_t *n6)
{
	*n4 = g->t[0].nr;
	*n6 = g->t[1].nr;
}

/* the tables are kept in the kernel's layout (geo.h): one copy each */
int geo_kernel_fill(void *ctx, void *v4, void *v6)
{
	const struct geo *g = ctx;

	memcpy(v4, g->t[0].e4, g->t[0].nr * sizeof(struct rw_geo4));
	memcpy(v6, g->t[1].e6, g->t[1].nr * sizeof(struct rw_geo6));
	return 0;
}

bool geo_kernel_same(void *ctx, const void *v4, const void *v6)
{
	const struct geo *g = ctx;

	return !memcmp(v4, g->t[0].e4, g->t[0].nr * sizeof(struct rw_geo4)) &&
	       !memcmp(v6, g->t[1].e6, g->t[1].nr * sizeof(struct rw_geo6));
}
