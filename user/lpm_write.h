/* SPDX-License-Identifier: MIT */
/* Writing the policy's maps: prefix sets folded into the LPM tries under a
 * generation, batch updates, clearing a generation. Used by enforce.c. */
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
};

struct lpm_vec {
	struct lpm_ent *v;
	size_t n, cap;
};

/* appends c with bit set in its kind's mask */
int lpm_push(struct lpm_vec *v, const struct cidr *c, int kind, __u64 bit);
/* folds enclosing prefixes' masks into each prefix and writes v under gen */
int write_dest(struct bpf_map *map, struct lpm_vec *v, __u8 gen);
/* deletes every key of generation gen (a byte at offset off of the key) */
int clear_gen(struct bpf_map *map, size_t off, __u8 gen);
/* n keys and values, batched where the kernel can */
int update_many(struct bpf_map *map, const void *keys, const void *vals,
		__u32 n);

/* the home-country and special ranges, gathered then written in batches */
struct home_ctx {
	struct bpf_map *m4, *m6;
	__u8 gen, cls;
	size_t n4, n6;
	struct rw_lpm4 *k4;
	struct rw_lpm6 *k6;
	__u8 *v4, *v6;
	size_t cap4, cap6;
};

/* geo callback: gathers a home or special range into h */
int put_home(int family, const __u8 *addr, int plen, void *arg);
/* writes what was gathered unless told not to; frees it either way */
int write_home(struct home_ctx *h, bool write);

#endif
