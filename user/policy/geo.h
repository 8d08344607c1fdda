/* SPDX-License-Identifier: MIT */
/* Country of an address, for the "overseas" test: an embedded table built
 * from etc/geo/country.bin.z (see etc/geo/README.md), optionally overlaid
 * by RIR delegated-stats files that a user brings. Addresses are network
 * order, 4 bytes for AF_INET and 16 for AF_INET6; an IPv4-mapped
 * (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address is judged as IPv4.
 * Every loader returns 0 or -errno, sets *out only on success, and on
 * error writes one lower-case sentence into err (when err != NULL); a
 * corrupt blob is -EBADMSG, a bad RIR line -EINVAL naming path:line.
 * A loaded table is read-only: lookups may run from several threads. */
#ifndef RW_GEO_H
#define RW_GEO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct geo;

/* One range for geo_overlay(): first..last inclusive, same family. */
struct geo_range {
	int family;
	__u8 first[16];
	__u8 last[16];
	char cc[3];  /* "US"; "" marks the range unknown */
	int line;    /* source line for error messages, 0 if none */
};

typedef int (*geo_cidr_cb)(int family, const __u8 *addr, int prefixlen,
			   void *ctx);
typedef int (*geo_range_cb)(int family, const __u8 *first, const __u8 *last,
			    const char *cc, void *ctx);

/* The table compiled into the binary (user/geo_data.c). */
int geo_load_embedded(struct geo **out, char *err, size_t errlen);
void geo_embedded_blob(const void **blob, size_t *len);
/* Its entries per family (geo_entries), from its header alone. */
int geo_embedded_entries(size_t *n4, size_t *n6);
/* A zlib-compressed table in memory or in a file (a refreshed
 * country.bin.z from scripts/refresh-geo.sh). */
int geo_load_blob(struct geo **out, const void *blob, size_t len, char *err,
		  size_t errlen);
int geo_load_file(struct geo **out, const char *path, char *err,
		  size_t errlen);
/* A new table holding only the file's allocated/assigned ranges. */
int geo_load_rir_file(struct geo **out, const char *path, char *err,
		      size_t errlen);
/* The file's ranges replace what g says for the addresses they cover; on
 * error g is unchanged. Errors name path:line. */
int geo_merge_rir_file(struct geo *g, const char *path, char *err,
		       size_t errlen);

/* An empty table (every address unknown), for converters and tests. */
int geo_new(struct geo **out, const char *source);
/* The ranges (any order, not overlapping each other) replace what g says
 * for the addresses they cover; on error g is unchanged. */
int geo_overlay(struct geo *g, const struct geo_range *r, size_t nr,
		char *err, size_t errlen);
/* Forget the country of every geo_is_special() range. */
int geo_clear_special(struct geo *g);
/* The zlib-compressed blob for g; *blob is malloc'ed. Same table, same
 * payload bytes. */
int geo_encode(const struct geo *g, void **blob, size_t *len);

/* ISO 3166 code ("US"), or NULL when unknown or family is bad. */
const char *geo_country(const struct geo *g, int family, const __u8 *addr);
/* Private, loopback, link-local, CGNAT, multicast, unspecified, reserved,
 * benchmarking and documentation space (IANA special-purpose registries,
 * not globally reachable): never overseas. */
bool geo_is_special(int family, const __u8 *addr);
/* Public, of a known country, and that country is not in home ("CN",
 * case-insensitive). An address of unknown country is not overseas. */
bool geo_is_overseas(const struct geo *g, int family, const __u8 *addr,
		     const char *const *home, size_t nr_home);

/* Every range of the home countries as minimal CIDRs, adjacent ranges
 * joined, v4 then v6, for the kernel's LPM tries. Special space is in no
 * country, so it is not in this list: see geo_special_cidrs(). A non-zero
 * cb return stops the walk and is returned; -EINVAL for a malformed code. */
int geo_home_cidrs(const struct geo *g, const char *const *home,
		   size_t nr_home, geo_cidr_cb cb, void *ctx);
/* Every geo_is_special() block as a CIDR: the kernel's never-overseas set.
 * Mapped and NAT64 v6 forms are not listed: the kernel maps them to v4. */
int geo_special_cidrs(geo_cidr_cb cb, void *ctx);
/* first..last (same family, first <= last) as the minimal CIDR list. */
int geo_range_cidrs(int family, const __u8 *first, const __u8 *last,
		    geo_cidr_cb cb, void *ctx);
/* Every range of a known country, in address order. */
int geo_foreach(const struct geo *g, int family, geo_range_cb cb, void *ctx);

/* Ranges of a known country (adjacent ranges of one country joined). */
size_t geo_count(const struct geo *g, int family);
/* A country's code: 1 + (c0 - 'A') * 26 + (c1 - 'A'), 0 if cc is not two
 * letters. */
__u16 geo_cc_code(const char *cc);
/* The whole table (unknown ranges too) in the kernel's layout (the
 * loader's struct geomap, relaywatch.h): its entries per family, and
 * with ctx = g, writing it to v4 (struct rw_geo4[n4]) and v6 (struct
 * rw_geo6[n6]) and comparing it with what they hold. */
void geo_entries(const struct geo *g, size_t *n4, size_t *n6);
int geo_kernel_fill(void *ctx, void *v4, void *v6);
bool geo_kernel_same(void *ctx, const void *v4, const void *v6);
/* Heap bytes held by g. */
size_t geo_mem(const struct geo *g);
/* "geo-whois-asn-country 2.3.2026061719", or what a loader set. */
const char *geo_source(const struct geo *g);
void geo_free(struct geo *g);

#ifdef GEO_INTERNAL
/* Shared by user/geo.c (tables, lookups) and user/geo_data.c (blob codec,
 * embedded copy, RIR import); nothing else includes this part. */
#include <string.h>
#include <sys/socket.h>

#include "relaywatch.h" /* struct rw_geo4, rw_geo6: the kernel's layout */

typedef unsigned __int128 u128;

#define GEO_SRC_LEN 40
#define GEO_NR_CC (26 * 26 + 1)

/* Entry i: start[i] .. start[i+1]-1 (the last one: to the top of the
 * space) is country cc[i]; entry 0 starts at address 0. Kept in the
 * kernel's layout (relaywatch.h), so the table goes into the kernel's
 * arrays as one copy per family (geo_kernel.c); cc: 0 unknown, or
 * 1 + (c0 - 'A') * 26 + (c1 - 'A'). */
struct geo_tab {
	size_t nr;    /* entries, >= 1 */
	size_t known; /* entries with a country */
	struct rw_geo4 *e4; /* AF_INET: start in host order, cc */
	struct rw_geo6 *e6; /* AF_INET6: start's halves in host order, cc */
};

struct geo {
	struct geo_tab t[2]; /* [fi]: 0 v4, 1 v6 */
	char source[GEO_SRC_LEN];
	char names[GEO_NR_CC][3];
};

/* A range in table terms; fi: 0 v4, 1 v6; line: for error messages. */
struct geo_span {
	u128 lo, hi;
	__u16 cc;
	int fi, line;
};

static inline int geo_bits(int fi) { return fi ? 128 : 32; }
static inline u128 geo_max(int fi) { return fi ? ~(u128)0 : 0xffffffffu; }
static inline int geo_af(int fi) { return fi ? AF_INET6 : AF_INET; }

static inline u128 geo_get_be(const __u8 *a, int n)
{
	u128 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | a[i];
	return v;
}

static inline u128 geo_start(const struct geo_tab *t, int fi, size_t k)
{
	return fi ? (u128)t->e6[k].hi << 64 | t->e6[k].lo : t->e4[k].start;
}

static inline __u16 geo_cc(const struct geo_tab *t, int fi, size_t k)
{
	return fi ? t->e6[k].cc : t->e4[k].cc;
}

/* Trailing zero bits of v, v != 0. */
static inline int geo_ctz(u128 v)
{
	__u64 lo = (__u64)v;

	return lo ? __builtin_ctzll(lo) :
		    64 + __builtin_ctzll((__u64)(v >> 64));
}

void geo_seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct geo *geo_alloc(const char *source);
void *geo_big_alloc(size_t len);
void geo_big_free(void *p, size_t len);
int geo_tab_alloc(struct geo_tab *t, int fi, size_t nr);
void geo_tab_set(struct geo_tab *t, int fi, size_t k, u128 start, __u16 cc);
void geo_tab_free(struct geo_tab *t);
u128 geo_prefix_mask(int fi, int len);
/* Lay sp (any order; overlaps are an error naming path:line) over g, then
 * clear the special blocks if asked; g changes only on success. */
int geo_apply(struct geo *g, struct geo_span *sp, size_t n, bool clear,
	      const char *path, char *err, size_t errlen);
#endif

#endif
