// SPDX-License-Identifier: MIT
/*
 * A country table's storage (geo.h: struct geo_tab): the kernel's layout
 * (struct rw_geo4, rw_geo6), so the loader writes it with one copy per
 * family, in 2 MB pages where the kernel gives them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GEO_INTERNAL
#include "geo.h"

#define GEO_HUGE (2u << 20)
#define GEO_PAGE 4096u

/*
 * Zeroed memory for a big table (the country tables are ~9 MB, the blob
 * inflates to ~3 MB), in 2 MB pages where the kernel gives them
 * (MADV_HUGEPAGE; transparent huge pages "always" or "madvise"): a first
 * touch of each 4 KB page cost ~16 us in the 2-CPU VM the start-up is
 * measured on, 10 MB ~40 ms, against ~1 ms in 2 MB pages. Only whole 2 MB
 * pages inside the table are huge, so it holds no more memory than
 * calloc would.
 */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define GEO_PLAIN_ALLOC /* the fuzzers: ASan sees the bounds of calloc's */
#endif

#ifdef GEO_PLAIN_ALLOC
void *geo_big_alloc(size_t len)
{
	return len ? calloc(1, len) : NULL;
}

void geo_big_free(void *p, size_t len)
{
	(void)len;
	free(p);
}
#else
static size_t page_up(size_t len)
{
	return (len + GEO_PAGE - 1) / GEO_PAGE * GEO_PAGE;
}

void *geo_big_alloc(size_t len)
{
	size_t want = page_up(len), map = want + GEO_HUGE;
	char *p, *a;

	if (!len || want < len || map < want)
		return NULL;
	p = mmap(NULL, map, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((unsigned long)p + GEO_HUGE - 1) & ~(GEO_HUGE - 1ul));
	if (a > p)
		munmap(p, a - p);
	if (p + map > a + want)
		munmap(a + want, p + map - (a + want));
	madvise(a, want, MADV_HUGEPAGE); /* a hint: without it, 4 KB pages */
	return a;
}

void geo_big_free(void *p, size_t len)
{
	if (p)
		munmap(p, page_up(len));
}
#endif

void geo_tab_free(struct geo_tab *t)
{
	geo_big_free(t->e4, t->nr * sizeof(*t->e4));
	geo_big_free(t->e6, t->nr * sizeof(*t->e6));
	memset(t, 0, sizeof(*t));
}

int geo_tab_alloc(struct geo_tab *t, int fi, size_t nr)
{
	memset(t, 0, sizeof(*t));
	if (nr > SIZE_MAX / sizeof(struct rw_geo6))
		return -ENOMEM;
	t->nr = nr;
	if (fi)
		t->e6 = geo_big_alloc(nr * sizeof(*t->e6));
	else
		t->e4 = geo_big_alloc(nr * sizeof(*t->e4));
	if (fi ? !t->e6 : !t->e4) {
		geo_tab_free(t);
		return -ENOMEM;
	}
	return 0;
}

void geo_tab_set(struct geo_tab *t, int fi, size_t k, u128 start, __u16 cc)
{
	if (fi) {
		t->e6[k].hi = (__u64)(start >> 64);
		t->e6[k].lo = (__u64)start;
		t->e6[k].cc = cc;
	} else {
		t->e4[k].start = (__u32)start;
		t->e4[k].cc = cc;
	}
	t->known += cc != 0;
}

