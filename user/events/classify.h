/* SPDX-License-Identifier: MIT */
/* What the intelligence and the country table say of a destination: one
 * place for check, event annotation and the start-up scan. */
#ifndef RW_CLASSIFY_H
#define RW_CLASSIFY_H

#include <linux/types.h>

struct intel;
struct intel_entry;
struct geo;
struct policy;
struct policy_query;

struct dest_info {
	const struct intel_entry *entry; /* NULL: not in the intelligence */
	int category;                    /* 0 when entry is NULL */
	const char *provider;
	const char *country;             /* NULL: unknown */
	int overseas;                    /* -1 unknown, 0, 1 */
};

/* An address (4 or 16 bytes, network order); p gives home_countries
 * (default CN when p is NULL); in and g may be NULL. */
void classify_addr(const struct intel *in, const struct geo *g,
		   const struct policy *p, int family, const __u8 *addr,
		   struct dest_info *d);
/* A host name: intelligence only (a name has no country until resolved). */
void classify_name(const struct intel *in, const char *name,
		   struct dest_info *d);
/* Copies d into the destination fields of q; d must outlive q. */
void classify_query(const struct dest_info *d, struct policy_query *q);

#endif
