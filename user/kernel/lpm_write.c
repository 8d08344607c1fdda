// SPDX-License-Identifier: MIT
/*
 * The map-writing half of enforce.c: each prefix of a destination set goes
 * into an LPM trie under the idle generation with the rule masks of every
 * prefix enclosing it (one lookup in the kernel finds them all), with the
 * special ranges (never overseas), in batches; a generation is cleared
 * key by key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lpm_write.h"
#include "util.h"

static struct lpm_ent *push(struct lpm_vec *v, const struct cidr *c)
{
	struct lpm_ent *e;

	if (GROW(v->v, v->cap, v->n, 1024))
		return NULL;
	e = &v->v[v->n++];
	memset(e, 0, sizeof(*e));
	e->c = *c;
	return e;
}

int lpm_push(struct lpm_vec *v, const struct cidr *c, int kind, __u64 bit)
{
	struct lpm_ent *e = push(v, c);

	if (!e)
		return -ENOMEM;
	e->m[kind] = bit;
	e->in_set = true;
	return 0;
}

int lpm_push_home(struct lpm_vec *v, const struct cidr *c, __u8 cls)
{
	struct lpm_ent *e = push(v, c);

	if (!e)
		return -ENOMEM;
	e->home = cls;
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

/* a prefix in both a rule set and a home range: special wins over home */
static void merge(struct lpm_ent *into, const struct lpm_ent *e)
{
	for (int k = 0; k < RW_KIND__LPM; k++)
		into->m[k] |= e->m[k];
	if (e->home > into->home)
		into->home = e->home;
	into->in_set |= e->in_set;
}

size_t lpm_dedup(struct lpm_vec *v)
{
	size_t out = 0;

	qsort(v->v, v->n, sizeof(*v->v), ent_cmp);
	for (size_t i = 0; i < v->n; i++) {
		if (out && !ent_cmp(&v->v[out - 1], &v->v[i]))
			merge(&v->v[out - 1], &v->v[i]);
		else
			v->v[out++] = v->v[i];
	}
	v->n = out;
	return out;
}

/*
 * Sorted by (address, length), an enclosing prefix comes before what it
 * encloses; a stack holds the chain of enclosing prefixes, whose masks
 * each prefix inherits, and whose home class it takes unless it is a home
 * range itself (the innermost range decides). Written in batches.
 */
int write_dest(struct bpf_map *map, struct lpm_vec *v, __u8 gen,
	       size_t *sets)
{
	size_t i, out = 0, depth = 0, ks = bpf_map__key_size(map);
	struct lpm_ent **stack;
	struct rw_dest *vals;
	char *keys;
	int ret;

	out = lpm_dedup(v);
	*sets = 0;
	for (i = 0; i < out; i++)
		*sets += v->v[i].in_set;
	stack = calloc(out + 1, sizeof(*stack));
	keys = calloc(out + 1, ks);
	vals = calloc(out + 1, sizeof(*vals));
	if (!stack || !keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < out; i++) {
		struct lpm_ent *e = &v->v[i];
		struct rw_lpm6 key;

		while (depth && !cidr_contains(&stack[depth - 1]->c,
					       e->c.family, e->c.addr))
			depth--;
		if (depth) {
			for (int k = 0; k < RW_KIND__LPM; k++)
				e->m[k] |= stack[depth - 1]->m[k];
			if (!e->home)
				e->home = stack[depth - 1]->home;
		}
		stack[depth++] = e;
		memcpy(vals[i].kind, e->m, sizeof(vals[i].kind));
		vals[i].home = e->home;
		lpm_key(&key, &e->c, gen);
		memcpy(keys + i * ks, &key, ks);
	}
	ret = update_many(map, keys, vals, out);
out:
	free(stack);
	free(keys);
	free(vals);
	return ret;
}

/* delete every key of generation gen (at byte offset off of the key) */
int clear_gen(struct bpf_map *map, size_t off, __u8 gen)
{
	size_t ksz = bpf_map__key_size(map), n = 0, cap = 0;
	int fd = bpf_map__fd(map), ret = 0;
	char *keys = NULL, *prev = NULL, cur[64];

	while (bpf_map_get_next_key(fd, prev, cur) == 0) {
		if (grow_array((void **)&keys, &cap, n, ksz, 256)) {
			free(keys);
			return -ENOMEM;
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
