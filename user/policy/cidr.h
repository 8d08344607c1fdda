/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 prefixes for policy rules: parse, format, membership. An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is always judged as IPv4, the
 * same way the BPF side judges a v6 socket connecting to a mapped address. */
#ifndef RW_CIDR_H
#define RW_CIDR_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct cidr {
	int family;      /* AF_INET or AF_INET6 */
	__u8 addr[16];   /* network order, host bits zero; v4 in addr[0..3] */
	__u8 prefixlen;
};

/* Longest cidr_format() output: a full IPv6 address, "/128", NUL. */
#define CIDR_STRLEN 50

/* "10.0.0.0/8", "1.2.3.4" (= /32), "2001:db8::/32", "::1" (= /128).
 * IPv4-mapped "::ffff:a.b.c.d/N" (N >= 96) becomes the v4 cidr /N-96.
 * Host bits set ("10.0.0.1/8") is an error. Returns 0 or -EINVAL; on error
 * writes a one-line reason into err (if err != NULL). */
int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen);
/* "10.0.0.0/8"; 0, -EINVAL (bad family) or -ENOSPC (buf too small) */
int cidr_format(const struct cidr *c, char *buf, size_t len);
/* addr: 4 bytes for AF_INET, 16 for AF_INET6 (network order). A v4-mapped
 * v6 address is compared as v4. */
bool cidr_contains(const struct cidr *c, int family, const __u8 *addr);
/* Parse a plain address "1.2.3.4" / "::1" into family + 16-byte buffer,
 * mapping ::ffff:a.b.c.d to AF_INET. 0 or -EINVAL. */
int addr_parse(const char *s, int *family, __u8 addr[16]);

#endif
