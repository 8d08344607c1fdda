/* SPDX-License-Identifier: MIT */
/* Small helpers the userspace modules share. */
#ifndef RW_UTIL_H
#define RW_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* room for element n of an array of *cap elements of size bytes: doubles
 * it (from first) when n == *cap. 0, or -ENOMEM with *p and *cap kept. */
static inline int grow_array(void **p, size_t *cap, size_t n, size_t size,
			     size_t first)
{
	size_t c = *cap ? 2 * *cap : first;
	void *q;

	if (n < *cap)
		return 0;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}
#define GROW(arr, cap, n, first) \
	grow_array((void **)&(arr), &(cap), (n), sizeof(*(arr)), (first))

/*
 * The pages of a fresh large allocation (malloc maps those itself) that
 * the caller is about to write all of, faulted in by one call instead of
 * one page fault per page: each costs ~10 us in a VM, and start-up
 * writes ~15 MB of country table. Below 1 MiB, or where the kernel does
 * not know the advice (before 5.14), nothing: the pages fault as before.
 */
static inline void prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)4095;

	if (p && len >= (1u << 20) && e > a)
		madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

static inline __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline __u64 mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
/* what bpf_ktime_get_boot_ns() reads */
static inline __u64 boot_ns(void) { return clock_ns(CLOCK_BOOTTIME); }
static inline __u64 wall_ns(void) { return clock_ns(CLOCK_REALTIME); }

#endif
