/* SPDX-License-Identifier: MIT */
#ifndef RW_GEOMAP_H
#define RW_GEOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>

/* The country table the daemon's classification uses, for the loader:
 * n4 and n6 entries, which fill() writes in the kernel's layout
 * (relaywatch.h: struct rw_geo4 v4[n4], struct rw_geo6 v6[n6]) and
 * same() compares with what a pinned set holds. */
struct geomap {
	size_t n4, n6;
	int (*fill)(void *ctx, void *v4, void *v6);
	bool (*same)(void *ctx, const void *v4, const void *v6);
	void *ctx;
};

/* Sizes the geo4/geo6 arrays of an opened object for the table (one
 * entry at least: an empty table gives no country). */
void geomap_size(struct bpf_object *obj, const struct geomap *t);
/* Writes the table into the maps (through mmap: one copy, no syscall
 * per entry). */
int geomap_write(struct bpf_object *obj, const struct geomap *t);
/* Do the pinned geo4 and geo6 maps of a set (fds) hold what t has? */
bool geomap_same(int fd4, int fd6, const struct geomap *t);

#endif
