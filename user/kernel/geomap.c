// SPDX-License-Identifier: MIT
/*
 * The country table in the kernel: two arrays (geo4, geo6) the programs
 * search by address (decide.bpf.h: geo_find), written once at start-up
 * straight into the maps' memory (mmap), so a country rule of the largest
 * countries costs no prefix in the tries and no time at a reload. A
 * pinned set is adopted only when its table is this one (an upgrade with
 * refreshed data makes a set beside it instead of changing a table the
 * programs are reading).
 */
#include <errno.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "relaywatch.h"
#include "geomap.h"

void geomap_size(struct bpf_object *obj, const struct geomap *t)
{
	struct bpf_map *m4 = bpf_object__find_map_by_name(obj, "geo4");
	struct bpf_map *m6 = bpf_object__find_map_by_name(obj, "geo6");

	if (m4)
		bpf_map__set_max_entries(m4, t->n4 ? t->n4 : 1);
	if (m6)
		bpf_map__set_max_entries(m6, t->n6 ? t->n6 : 1);
}

/* an mmapable array's values start at the mapping's first byte, each
 * entry rounded up to 8 bytes (rw_geo4 and rw_geo6 are) */
static void *map_values(int fd, size_t bytes, int prot)
{
	void *p = mmap(NULL, bytes, prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int map_both(int fd4, int fd6, const struct geomap *t, int prot,
		    void **v4, void **v6)
{
	size_t b4 = t->n4 * sizeof(struct rw_geo4);
	size_t b6 = t->n6 * sizeof(struct rw_geo6);

	*v4 = map_values(fd4, b4, prot);
	*v6 = *v4 ? map_values(fd6, b6, prot) : NULL;
	if (*v6)
		return 0;
	if (*v4)
		munmap(*v4, b4);
	return -errno;
}

static void unmap_both(const struct geomap *t, void *v4, void *v6)
{
	munmap(v4, t->n4 * sizeof(struct rw_geo4));
	munmap(v6, t->n6 * sizeof(struct rw_geo6));
}

int geomap_write(struct bpf_object *obj, const struct geomap *t)
{
	struct bpf_map *m4 = bpf_object__find_map_by_name(obj, "geo4");
	struct bpf_map *m6 = bpf_object__find_map_by_name(obj, "geo6");
	void *v4, *v6;
	int ret;

	if (!m4 || !m6)
		return -ENOENT;
	if (!t->n4 || !t->n6)
		return 0; /* no table: no country (probe, tests) */
	ret = map_both(bpf_map__fd(m4), bpf_map__fd(m6), t,
		       PROT_READ | PROT_WRITE, &v4, &v6);
	if (ret)
		return ret;
	ret = t->fill(t->ctx, v4, v6);
	unmap_both(t, v4, v6);
	return ret;
}

bool geomap_same(int fd4, int fd6, const struct geomap *t)
{
	void *v4, *v6;
	bool same;

	if (!t->n4 || !t->n6)
		return true; /* no table to compare (probe) */
	if (map_both(fd4, fd6, t, PROT_READ, &v4, &v6))
		return false;
	same = t->same(t->ctx, v4, v6);
	unmap_both(t, v4, v6);
	return same;
}
