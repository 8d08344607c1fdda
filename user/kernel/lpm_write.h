/* SPDX-License-Identifier: MIT */
/* Writing the policy's maps: prefix sets (rule sets and home ranges) folded
 * into the LPM tries under a generation, batch updates, clearing a
 * generation. Used by enforce.c. */
#ifndef RW_LPM_WRITE_H
#define RW_LPM_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include "relaywatch.h"
#include "cidr.h"

struct bpf_map;

struct lpm_ent {
	struct cidr c;
	__u64 m[RW_KIND__LPM];
	__u8 home;              /* RW_HOME, RW_SPECIAL, 0 = not a home range */
	bool in_set;            /* pushed by a rule set (not only a home range) */
};

struct lpm_vec {
	struct lpm_ent *v;
	size_t n, cap;
};

/* appends c with bit set in its kind's mask */
int lpm_push(struct lpm_vec *v, const struct cidr *c, int kind, __u64 bit);
/* sorts v and merges equal prefixes; their number */
size_t lpm_dedup(struct lpm_vec *v);
/* appends c as a home range of class cls (RW_HOME or RW_SPECIAL) */
int lpm_push_home(struct lpm_vec *v, const struct cidr *c, __u8 cls);
/* folds enclosing prefixes' masks (and the innermost home class) into each
 * prefix and writes v under gen; *sets = distinct rule-set prefixes */
int write_dest(struct bpf_map *map, struct lpm_vec *v, __u8 gen,
	       size_t *sets);
/* deletes every key of generation gen (a byte at offset off of the key) */
int clear_gen(struct bpf_map *map, size_t off, __u8 gen);
/* n keys and values, batched where the kernel can */
int update_many(struct bpf_map *map, const void *keys, const void *vals,
		__u32 n);

#endif
