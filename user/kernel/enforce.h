/* SPDX-License-Identifier: MIT */
/* Compiles a policy, with the intelligence and the country table it
 * refers to, into the kernel's maps, and swaps it in atomically. */
#ifndef RW_ENFORCE_H
#define RW_ENFORCE_H

#include <stddef.h>
#include <linux/types.h>

struct loader;
struct policy;
struct intel;
struct geo;

struct enforce_opts {
	__u64 dedup_ns;        /* fold repeats within this window */
	__u32 ttl_min, ttl_max; /* clamp of DNS answer TTLs, seconds */
};

struct enforce_stats {
	size_t lpm4, lpm6;     /* destination prefixes written */
	size_t special;        /* special-range prefixes written (private,
				* loopback, ...: never overseas) */
	size_t home_countries; /* countries overseas is measured from */
	size_t exes;           /* binaries accepted by exe rules */
	size_t names;          /* names (and *.suffixes) rules refer to */
	unsigned gen;          /* the generation now in force */
};

/*
 * Builds the idle generation completely, then flips `active` to it: a
 * connect is judged by the old policy or by the new one, never by a mix
 * and never by none. On error the policy in force is untouched and err
 * holds one line. warn(msg, ctx) receives non-fatal findings (an exe glob
 * that matches no file, a sha256 no binary has).
 */
/* The prefixes per family the policy writes into each generation of the
 * tries (rule sets, home and special ranges, after merging): what the
 * loader sizes the tries for, and what `policy validate` reports. */
int enforce_measure(const struct policy *p, const struct intel *in,
		    size_t *n4, size_t *n6);
/* the most prefixes per family a policy may have (two generations of it
 * live in one trie during a switch): 2^20, RELAYWATCH_PREFIX_LIMIT for
 * tests. 0 when n4 and n6 fit, else -E2BIG with err set. */
int enforce_check_limit(size_t n4, size_t n6, char *err, size_t errlen);

int enforce_apply(struct loader *l, const struct policy *p,
		  const struct intel *in, const struct enforce_opts *o, struct enforce_stats *st,
		  void (*warn)(const char *msg, void *ctx), void *wctx,
		  char *err, size_t errlen);

#endif
