// SPDX-License-Identifier: MIT
/*
 * Prefixes are stored in network order with the host bits cleared, the form
 * the kernel's LPM trie keys (struct rw_lpm4/rw_lpm6) take as they are.
 * Text is parsed with inet_pton(), which, unlike inet_aton(), refuses the
 * "10.1" and "0x0a.0.0.1" shorthands: a policy address means one thing.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const __u8 v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static bool is_v4mapped(const __u8 *a16)
{
	return memcmp(a16, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

/* ::ffff:a.b.c.d becomes a.b.c.d in bytes 0..3, the rest zero */
static void unmap_v4(__u8 *a16)
{
	memmove(a16, a16 + 12, 4);
	memset(a16 + 4, 0, 12);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Decimal without sign, spaces or leading zeros; -1 if not one. */
static int parse_prefixlen(const char *s)
{
	int v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* Does the prefix of plen bits equal in a and b? */
static bool prefix_equal(const __u8 *a, const __u8 *b, unsigned int plen)
{
	unsigned int bytes = plen / 8, bits = plen % 8;
	__u8 mask;

	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	mask = (__u8)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static void clear_host_bits(__u8 *a, unsigned int plen, unsigned int max)
{
	unsigned int i;

	for (i = plen; i < max; i++)
		a[i / 8] &= (__u8)~(0x80 >> (i % 8));
}

int addr_parse(const char *s, int *family, __u8 addr[16])
{
	__u8 a[16] = {};

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		*family = AF_INET6;
		if (is_v4mapped(a)) {
			unmap_v4(a);
			*family = AF_INET;
		}
	} else {
		return -EINVAL;
	}
	memcpy(addr, a, 16);
	return 0;
}

int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen)
{
	char buf[CIDR_STRLEN + 8], norm[CIDR_STRLEN];
	struct cidr c = {};
	__u8 net[16];
	int plen = -1, max;
	char *slash;

	if (!s || !*s)
		return fail(err, errlen, "empty cidr");
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "cidr '%.20s...' is too long", s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		plen = parse_prefixlen(slash + 1);
		if (plen < 0)
			return fail(err, errlen,
				    "bad prefix length '%s' in '%s'",
				    slash + 1, s);
	}

	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return fail(err, errlen, "'%s' is not an IPv4 or IPv6 address",
			    buf);
	}
	if (plen > max)
		return fail(err, errlen,
			    "prefix length /%d of '%s' exceeds /%d", plen, s,
			    max);
	if (plen < 0)
		plen = max;
	/* below /96 the prefix spans more than the v4 space: keep it v6 */
	if (c.family == AF_INET6 && is_v4mapped(c.addr) && plen >= 96) {
		unmap_v4(c.addr);
		c.family = AF_INET;
		max = 32;
		plen -= 96;
	}
	c.prefixlen = (__u8)plen;

	/* reject "10.0.0.1/8": the user probably meant a host, or a typo */
	memcpy(net, c.addr, sizeof(net));
	clear_host_bits(net, c.prefixlen, max);
	if (memcmp(net, c.addr, sizeof(net))) {
		memcpy(c.addr, net, sizeof(net));
		if (cidr_format(&c, norm, sizeof(norm)))
			norm[0] = '\0';
		return fail(err, errlen,
			    "host bits set in '%s' (the network is %s)", s,
			    norm);
	}
	*out = c;
	return 0;
}

int cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		return -errno;
	n = snprintf(buf, len, "%s/%u", a, c->prefixlen);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

/* A mapped query is judged as v4, so "::/0" does not catch IPv4 traffic
 * that a dual-stack socket sends: that is what the v4 rules are for. */
bool cidr_contains(const struct cidr *c, int family, const __u8 *addr)
{
	if (family == AF_INET6 && is_v4mapped(addr)) {
		family = AF_INET;
		addr += 12;
	}
	if (family != c->family)
		return false;
	return prefix_equal(c->addr, addr, c->prefixlen);
}
