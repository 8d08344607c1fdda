// SPDX-License-Identifier: MIT
/*
 * The embedded country table loaded beside the program verification
 * (geo_bg.h). The header's counts size the kernel's arrays; a table whose
 * decoded size is not what the header said is refused, never written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "geo_bg.h"

static void *load(void *arg)
{
	struct geo_bg *b = arg;

	b->ret = geo_load_embedded(&b->g, b->err, sizeof(b->err));
	return NULL;
}

int geo_bg_start(struct geo_bg *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	if (geo_embedded_entries(&b->n4, &b->n6)) {
		snprintf(err, errlen, "corrupt geo table: bad header");
		return -EBADMSG;
	}
	if (pthread_create(&b->tid, NULL, load, b) == 0) {
		b->running = true;
		return 0;
	}
	load(b);
	return geo_bg_join(b, err, errlen);
}

int geo_bg_join(struct geo_bg *b, char *err, size_t errlen)
{
	size_t n4, n6;

	if (b->running) {
		pthread_join(b->tid, NULL);
		b->running = false;
	}
	if (!b->ret) {
		geo_entries(b->g, &n4, &n6);
		if (n4 != b->n4 || n6 != b->n6) {
			snprintf(b->err, sizeof(b->err), "corrupt geo table: "
				 "%zu and %zu entries, its header says %zu "
				 "and %zu", n4, n6, b->n4, b->n6);
			b->ret = -EBADMSG;
		}
	}
	if (b->ret)
		snprintf(err, errlen, "%s", b->err);
	return b->ret;
}

int geo_bg_fill(void *ctx, void *v4, void *v6)
{
	struct geo_bg *b = ctx;
	char err[8];

	if (geo_bg_join(b, err, sizeof(err)))
		return b->ret;
	return geo_kernel_fill(b->g, v4, v6);
}

bool geo_bg_same(void *ctx, const void *v4, const void *v6)
{
	struct geo_bg *b = ctx;
	char err[8];

	return !geo_bg_join(b, err, sizeof(err)) &&
	       geo_kernel_same(b->g, v4, v6);
}
