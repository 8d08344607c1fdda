/* SPDX-License-Identifier: MIT */
/* Small helpers the userspace modules share. */
#ifndef RW_UTIL_H
#define RW_UTIL_H

#include <errno.h>
#include <stdlib.h>
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
