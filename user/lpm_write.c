// SPDX-License-Identifier: MIT
/*
 * The map-writing half of enforce.c: each prefix of a destination set goes
 * into an LPM trie under the idle generation with the rule masks of every
 * prefix enclosing it (one lookup in the kernel finds them all), home
 * ranges go in batches, and a generation is cleared key by key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lpm_write.h"

int lpm_push(struct lpm_vec *v, const struct cidr *c, int kind, __u64 bit)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		void *n = realloc(v->v, cap * sizeof(*v->v));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[0]));
	v->v[v->n].c = *c;
	v->v[v->n].m[kind] = bit;
	v->n++;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct lpm_ent *x = a, *y = b;
	int r = memcmp(x->c.addr, y->c.addr, 16);

	if (r)
		return r;
	return (int)x->c.prefixlen - (int)y->c.prefixlen;
}

static void lpm_key(void *key, const struct cidr *c, __u8 gen)
{
	struct rw_lpm6 *k = key; /* rw_lpm4 has the same head */

	memset(k, 0, sizeof(*k));
	k->prefixlen = 8 + c->prefixlen;
	k->gen = gen;
	memcpy(k->addr, c->addr, c->family == AF_INET ? 4 : 16);
}

/*
 * Sorted by (address, length), an enclosing prefix comes before what it
 * encloses; a stack holds the chain of enclosing prefixes, whose masks
 * each prefix inherits.
 */
int write_dest(struct bpf_map *map, struct lpm_vec *v, __u8 gen)
{
	size_t i, out = 0, depth = 0;
	struct lpm_ent **stack;
	int ret = 0;

	qsort(v->v, v->n, sizeof(*v->v), ent_cmp);
	for (i = 0; i < v->n; i++) {
		if (out && !ent_cmp(&v->v[out - 1], &v->v[i]))
			for (int k = 0; k < RW_KIND__LPM; k++)
				v->v[out - 1].m[k] |= v->v[i].m[k];
		else
			v->v[out++] = v->v[i];
	}
	v->n = out;
	stack = calloc(out + 1, sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	for (i = 0; i < out; i++) {
		struct lpm_ent *e = &v->v[i];
		struct rw_dest val;
		struct rw_lpm6 key;

		while (depth && !cidr_contains(&stack[depth - 1]->c,
					       e->c.family, e->c.addr))
			depth--;
		if (depth)
			for (int k = 0; k < RW_KIND__LPM; k++)
				e->m[k] |= stack[depth - 1]->m[k];
		stack[depth++] = e;
		memcpy(val.kind, e->m, sizeof(val.kind));
		lpm_key(&key, &e->c, gen);
		if (bpf_map_update_elem(bpf_map__fd(map), &key, &val, BPF_ANY)) {
			ret = -errno;
			break;
		}
	}
	free(stack);
	return ret;
}

/* delete every key of generation gen (at byte offset off of the key) */
int clear_gen(struct bpf_map *map, size_t off, __u8 gen)
{
	size_t ksz = bpf_map__key_size(map), n = 0, cap = 0;
	int fd = bpf_map__fd(map), ret = 0;
	char *keys = NULL, *prev = NULL, cur[64];

	while (bpf_map_get_next_key(fd, prev, cur) == 0) {
		if (n == cap) {
			char *k = realloc(keys, (cap = cap ? cap * 2 : 256) * ksz);

			if (!k) {
				free(keys);
				return -ENOMEM;
			}
			keys = k;
		}
		memcpy(keys + n * ksz, cur, ksz);
		prev = keys + n * ksz;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if ((__u8)keys[i * ksz + off] == gen &&
		    bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT)
			ret = -errno;
	free(keys);
	return ret;
}

/* n keys and values in one syscall where the kernel batches this map
 * type (an LPM trie does since 5.6), else one by one */
int update_many(struct bpf_map *map, const void *keys,
		       const void *vals, __u32 n)
{
	size_t ks = bpf_map__key_size(map), vs = bpf_map__value_size(map);
	int fd = bpf_map__fd(map);
	__u32 done = n;

	if (!n || bpf_map_update_batch(fd, keys, vals, &done, NULL) == 0)
		return 0;
	/* 524: the kernel's ENOTSUPP, which older kernels leak */
	if (errno != EINVAL && errno != EOPNOTSUPP && errno != 524)
		return -errno;
	for (__u32 i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * ks,
					(const char *)vals + i * vs, BPF_ANY))
			return -errno;
	return 0;
}


static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n < *cap)
		return 0;
	q = realloc(*p, (*cap ? *cap * 2 : 4096) * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = *cap ? *cap * 2 : 4096;
	return 0;
}

int put_home(int family, const __u8 *addr, int plen, void *arg)
{
	struct home_ctx *h = arg;
	struct cidr c = { .family = family, .prefixlen = plen };
	struct rw_lpm6 key;
	size_t cap;

	memcpy(c.addr, addr, family == AF_INET ? 4 : 16);
	lpm_key(&key, &c, h->gen);
	if (family == AF_INET) {
		cap = h->cap4;
		if (grow((void **)&h->k4, &h->cap4, h->n4, sizeof(*h->k4)) ||
		    grow((void **)&h->v4, &cap, h->n4, 1))
			return -ENOMEM;
		memcpy(&h->k4[h->n4], &key, sizeof(*h->k4));
		h->v4[h->n4++] = h->cls;
	} else {
		cap = h->cap6;
		if (grow((void **)&h->k6, &h->cap6, h->n6, sizeof(*h->k6)) ||
		    grow((void **)&h->v6, &cap, h->n6, 1))
			return -ENOMEM;
		h->k6[h->n6] = key;
		h->v6[h->n6++] = h->cls;
	}
	return 0;
}

/* writes what was gathered unless told not to; frees it either way */
int write_home(struct home_ctx *h, bool write)
{
	int ret = write ? update_many(h->m4, h->k4, h->v4, h->n4) : 0;

	if (!ret && write)
		ret = update_many(h->m6, h->k6, h->v6, h->n6);
	free(h->k4);
	free(h->v4);
	free(h->k6);
	free(h->v6);
	return ret;
}

