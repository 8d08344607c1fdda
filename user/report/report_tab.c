// SPDX-License-Identifier: MIT
/* The report's tables: open addressing over string keys (FNV-1a, linear
 * probing, grown at 1/2 full), and the orders a report lists them in. */
#include <stdlib.h>
#include <string.h>

#include "report.h"

static __u64 fnv1a(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

void rtab_init(struct rtab *t, size_t vsize)
{
	memset(t, 0, sizeof(*t));
	t->vsize = vsize;
}

static int rtab_grow(struct rtab *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	struct rtab_ent *e = calloc(cap, sizeof(*e));

	if (!e)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->e[i].key)
			continue;
		j = t->e[i].hash & (cap - 1);
		while (e[j].key)
			j = (j + 1) & (cap - 1);
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->cap = cap;
	return 0;
}

void *rtab_get(struct rtab *t, const char *key)
{
	__u64 h = fnv1a(key);
	size_t i;

	if (2 * (t->n + 1) > t->cap && rtab_grow(t))
		return NULL;
	for (i = h & (t->cap - 1); t->e[i].key; i = (i + 1) & (t->cap - 1))
		if (t->e[i].hash == h && !strcmp(t->e[i].key, key))
			return t->e[i].val;
	t->e[i].val = calloc(1, t->vsize);
	t->e[i].key = strdup(key);
	if (!t->e[i].val || !t->e[i].key) {
		free(t->e[i].val);
		free(t->e[i].key);
		t->e[i].key = NULL;
		return NULL;
	}
	t->e[i].hash = h;
	t->n++;
	return t->e[i].val;
}

struct rtab_ent **rtab_list(const struct rtab *t,
			    int (*cmp)(const void *, const void *))
{
	struct rtab_ent **l = calloc(t->n + 1, sizeof(*l));
	size_t n = 0;

	if (!l)
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].key)
			l[n++] = &t->e[i];
	if (cmp)
		qsort(l, n, sizeof(*l), cmp);
	return l;
}

void rtab_free(struct rtab *t, void (*free_val)(void *))
{
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->e[i].key)
			continue;
		if (free_val)
			free_val(t->e[i].val);
		free(t->e[i].val);
		free(t->e[i].key);
	}
	free(t->e);
	t->e = NULL;
	t->cap = t->n = 0;
}

/* ties broken by key, so two runs over the same logs print the same */
#define BY(field)							\
static int by_##field(const void *a, const void *b)			\
{									\
	const struct rtab_ent *x = *(struct rtab_ent *const *)a;	\
	const struct rtab_ent *y = *(struct rtab_ent *const *)b;	\
	__u64 u = ((struct rep_group *)x->val)->s.field;		\
	__u64 v = ((struct rep_group *)y->val)->s.field;		\
									\
	return u != v ? (u < v ? 1 : -1) : strcmp(x->key, y->key);	\
}
BY(records)
BY(bytes)
BY(connects)

static int by_count(const void *a, const void *b)
{
	const struct rtab_ent *x = *(struct rtab_ent *const *)a;
	const struct rtab_ent *y = *(struct rtab_ent *const *)b;
	__u64 u = *(__u64 *)x->val, v = *(__u64 *)y->val;

	return u != v ? (u < v ? 1 : -1) : strcmp(x->key, y->key);
}

struct rtab_ent **report_groups_by_records(const struct rtab *t)
{
	return rtab_list(t, by_records);
}

struct rtab_ent **report_groups_by_bytes(const struct rtab *t)
{
	return rtab_list(t, by_bytes);
}

struct rtab_ent **report_groups_by_connects(const struct rtab *t)
{
	return rtab_list(t, by_connects);
}

struct rtab_ent **report_by_count(const struct rtab *t)
{
	return rtab_list(t, by_count);
}

/* the chart's bars: the destinations' bytes summed over providers */
size_t report_category_bytes(const struct report *r, const char **cat,
			     __u64 *bytes, size_t max)
{
	const struct rtab *t = &r->total.dests;
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++) {
		const struct rep_dest *d = t->e[i].val;
		const char *k = t->e[i].key;
		size_t j, klen;

		if (!k)
			continue;
		klen = strcspn(k, "\t");
		for (j = 0; j < n; j++)
			if (strlen(cat[j]) == klen && !strncmp(cat[j], k, klen))
				break;
		if (j == n) {
			if (n == max)
				continue;
			cat[n] = strndup(k, klen);	/* the caller's */
			bytes[n++] = 0;
		}
		bytes[j] += d->bytes;
	}
	/* few categories: insertion sort, largest first */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && bytes[j] > bytes[j - 1]; j--) {
			const char *c = cat[j];
			__u64 b = bytes[j];

			cat[j] = cat[j - 1];
			bytes[j] = bytes[j - 1];
			cat[j - 1] = c;
			bytes[j - 1] = b;
		}
	return n;
}
