// SPDX-License-Identifier: MIT
/*
 * The preallocated maps made ahead, in parallel (premaps.h).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "premaps.h"
#include "util.h"

/* largest first: they are shared out in this order, each to the share
 * with fewer bytes so far (the country table's arrays are as big as the
 * table: ~9 MB) */
static const char *const prealloc[] = {
	"procs", "events", "dedup", "geo6", "dns_ips", "pending", "geo4",
	"tags", "inside",
};
#define NR_PRE ARRAY_SIZE(prealloc)

struct premap {
	struct bpf_map *map;
	int btf_fd;
	int fd;      /* or -errno */
};

static void create(struct premap *p)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo,
		    .map_flags = bpf_map__map_flags(p->map),
		    .numa_node = bpf_map__numa_node(p->map));

	if (p->btf_fd >= 0) {
		mo.btf_fd = p->btf_fd;
		mo.btf_key_type_id = bpf_map__btf_key_type_id(p->map);
		mo.btf_value_type_id = bpf_map__btf_value_type_id(p->map);
	}
	p->fd = bpf_map_create(bpf_map__type(p->map), bpf_map__name(p->map),
			       bpf_map__key_size(p->map),
			       bpf_map__value_size(p->map),
			       bpf_map__max_entries(p->map), &mo);
	if (p->fd < 0)
		p->fd = -errno;
}

struct share {
	struct premap *pre[NR_PRE];
	size_t n;
	__u64 bytes;
};

static void *create_share(void *arg)
{
	struct share *s = arg;

	for (size_t i = 0; i < s->n; i++)
		create(s->pre[i]);
	return NULL;
}

/* what a map takes, roughly (to share them out): its entries, with the
 * ~48 bytes a hash map's element carries besides key and value */
static __u64 map_bytes(const struct bpf_map *m)
{
	__u64 n = bpf_map__max_entries(m);

	switch (bpf_map__type(m)) {
	case BPF_MAP_TYPE_RINGBUF:
		return n;
	case BPF_MAP_TYPE_ARRAY:
		return n * ((bpf_map__value_size(m) + 7) & ~7u);
	default:
		return n * (bpf_map__key_size(m) + bpf_map__value_size(m) + 48);
	}
}

void premaps_create(struct bpf_object *obj)
{
	struct premap pre[NR_PRE];
	const struct btf *obtf = bpf_object__btf(obj);
	struct btf *btf = NULL;
	struct share sh[2] = {};
	pthread_t tid;
	size_t n = 0;
	int btf_fd = -1;
	bool threaded;

	for (size_t i = 0; i < NR_PRE; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj,
								 prealloc[i]);

		if (m && bpf_map__fd(m) < 0 && bpf_map__autocreate(m))
			pre[n++] = (struct premap){ .map = m, .fd = -1 };
	}
	if (!n)
		return;
	/* a copy of the object's BTF (the load loads its own), for the
	 * maps' key and value types; a kernel that refuses it as it is gets
	 * the maps without (libbpf would have to sanitize it first) */
	if (obtf) {
		const void *raw;
		__u32 sz;

		raw = btf__raw_data(obtf, &sz);
		btf = raw ? btf__new(raw, sz) : NULL;
		if (libbpf_get_error(btf))
			btf = NULL;
		if (btf && !btf__load_into_kernel(btf))
			btf_fd = btf__fd(btf);
	}
	for (size_t i = 0; i < n; i++)
		pre[i].btf_fd = btf_fd;
	/* two shares, by size: this thread and one more */
	for (size_t i = 0; i < n; i++) {
		struct share *to = &sh[sh[1].bytes < sh[0].bytes];

		to->pre[to->n++] = &pre[i];
		to->bytes += map_bytes(pre[i].map);
	}
	threaded = !pthread_create(&tid, NULL, create_share, &sh[1]);
	create_share(&sh[0]);
	if (threaded)
		pthread_join(tid, NULL);
	else
		create_share(&sh[1]);
	for (size_t i = 0; i < n; i++) {
		int ret = pre[i].fd >= 0 ?
			  bpf_map__reuse_fd(pre[i].map, pre[i].fd) : pre[i].fd;

		if (ret)
			pr_debug("map %s not made ahead: %s (the load makes "
				 "it)", bpf_map__name(pre[i].map),
				 strerror(-ret));
		if (pre[i].fd >= 0)
			close(pre[i].fd); /* reuse_fd took a copy */
	}
	btf__free(btf); /* the maps hold the kernel's object */
}
