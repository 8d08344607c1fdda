/* SPDX-License-Identifier: MIT */
#ifndef RW_GEO_BG_H
#define RW_GEO_BG_H

#include <pthread.h>
#include <stdbool.h>
#include "geo.h"

/*
 * The embedded country table, decoded on a thread while the programs are
 * verified (it takes ~45 ms, the verifier ~200 on two cores): its size
 * comes from the header at once, so the kernel's arrays can be made, and
 * its entries when the loader writes them (geo_bg_fill joins).
 */
struct geo_bg {
	pthread_t tid;
	bool running;
	struct geo *g;
	size_t n4, n6; /* from the header */
	int ret;
	char err[256];
};

/* Starts the thread (or, if none can start, loads now). */
int geo_bg_start(struct geo_bg *b, char *err, size_t errlen);
/* Waits for the table: 0 and b->g, or the error in err. */
int geo_bg_join(struct geo_bg *b, char *err, size_t errlen);
/* struct geomap's callbacks, with ctx = b: join, then geo_kernel_*(). */
int geo_bg_fill(void *ctx, void *v4, void *v6);
bool geo_bg_same(void *ctx, const void *v4, const void *v6);

#endif
