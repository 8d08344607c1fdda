// SPDX-License-Identifier: MIT
/* cidr.c: parsing, canonical formatting, membership at the range edges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"

struct parse_ok {
	const char *in;
	int family;
	const char *net;  /* network address, in the cidr's own family */
	int prefixlen;
	const char *text; /* cidr_format() output */
};

static const struct parse_ok parse_ok[] = {
	{ "10.0.0.0/8", AF_INET, "10.0.0.0", 8, "10.0.0.0/8" },
	{ "0.0.0.0/0", AF_INET, "0.0.0.0", 0, "0.0.0.0/0" },
	{ "1.2.3.4", AF_INET, "1.2.3.4", 32, "1.2.3.4/32" },
	{ "1.2.3.4/32", AF_INET, "1.2.3.4", 32, "1.2.3.4/32" },
	{ "203.0.113.128/25", AF_INET, "203.0.113.128", 25,
	  "203.0.113.128/25" },
	{ "255.255.255.255/32", AF_INET, "255.255.255.255", 32,
	  "255.255.255.255/32" },
	{ "2001:db8::/32", AF_INET6, "2001:db8::", 32, "2001:db8::/32" },
	{ "2001:DB8:0:0::/48", AF_INET6, "2001:db8::", 48, "2001:db8::/48" },
	{ "::/0", AF_INET6, "::", 0, "::/0" },
	{ "::1", AF_INET6, "::1", 128, "::1/128" },
	{ "2001:db8::1/128", AF_INET6, "2001:db8::1", 128, "2001:db8::1/128" },
	{ "fe80::/10", AF_INET6, "fe80::", 10, "fe80::/10" },
	/* v4-mapped forms become plain v4 prefixes */
	{ "::ffff:10.0.0.0/104", AF_INET, "10.0.0.0", 8, "10.0.0.0/8" },
	{ "::ffff:1.2.3.4", AF_INET, "1.2.3.4", 32, "1.2.3.4/32" },
	{ "::ffff:1.2.3.4/128", AF_INET, "1.2.3.4", 32, "1.2.3.4/32" },
	{ "::ffff:0.0.0.0/96", AF_INET, "0.0.0.0", 0, "0.0.0.0/0" },
	{ "::ffff:0:0/96", AF_INET, "0.0.0.0", 0, "0.0.0.0/0" },
};

/* Each valid form parses to the expected family/network/length and formats
 * back canonically; the formatted text parses to the identical struct. */
static void test_parse_ok(void **state)
{
	struct cidr c, again;
	__u8 want[16];
	char buf[CIDR_STRLEN], err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
		const struct parse_ok *t = &parse_ok[i];

		memset(&c, 0xaa, sizeof(c));
		err[0] = '\0';
		assert_int_equal(cidr_parse(t->in, &c, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(c.family, t->family);
		assert_int_equal(c.prefixlen, t->prefixlen);
		memset(want, 0, sizeof(want));
		assert_int_equal(inet_pton(t->family, t->net, want), 1);
		assert_memory_equal(c.addr, want, sizeof(want));

		assert_int_equal(cidr_format(&c, buf, sizeof(buf)), 0);
		assert_string_equal(buf, t->text);
		assert_int_equal(cidr_parse(buf, &again, NULL, 0), 0);
		assert_memory_equal(&again, &c, sizeof(c));
	}
}

struct parse_bad {
	const char *in;
	const char *why; /* substring of the reason */
};

static const struct parse_bad parse_bad[] = {
	{ "", "empty" },
	{ "10.0.0.1/8",
	  "host bits set in '10.0.0.1/8' (the network is 10.0.0.0/8)" },
	{ "203.0.113.129/25", "the network is 203.0.113.128/25" },
	{ "2001:db8::1/32", "the network is 2001:db8::/32" },
	{ "::ffff:10.0.0.1/104", "the network is 10.0.0.0/8" },
	{ "::ffff:1.2.3.4/95", "host bits set" },
	{ "10.0.0.0/33", "exceeds /32" },
	{ "2001:db8::/129", "exceeds /128" },
	{ "::ffff:1.2.3.4/129", "exceeds /128" },
	{ "1.2.3.4/999", "prefix length /999 of '1.2.3.4/999' exceeds /32" },
	{ "1.2.3.4/1000", "bad prefix length '1000'" },
	{ "10.0.0.0/", "bad prefix length ''" },
	{ "10.0.0.0/-1", "bad prefix length" },
	{ "10.0.0.0/+8", "bad prefix length" },
	{ "10.0.0.0/08", "bad prefix length" },
	{ "10.0.0.0/8/8", "bad prefix length" },
	{ "10.0.0.0/ 8", "bad prefix length" },
	{ "10.0.0.0/8x", "bad prefix length" },
	{ "garbage", "'garbage' is not an IPv4 or IPv6 address" },
	{ "10.0.0/8", "not an IPv4 or IPv6 address" },
	{ "10.0.0.256", "not an IPv4 or IPv6 address" },
	{ " 10.0.0.0/8", "not an IPv4 or IPv6 address" },
	{ "2001:db8:::/32", "not an IPv4 or IPv6 address" },
	{ "/8", "not an IPv4 or IPv6 address" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/128",
	  "too long" },
};

/* Every malformed input is refused with -EINVAL, a reason, and *out left
 * alone. */
static void test_parse_bad(void **state)
{
	struct cidr c, sentinel;
	const char *in;
	char err[128];
	size_t i;

	(void)state;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
		in = parse_bad[i].in;
		c = sentinel;
		err[0] = '\0';
		assert_int_equal(cidr_parse(in, &c, err, sizeof(err)), -EINVAL);
		if (!strstr(err, parse_bad[i].why))
			fail_msg("'%s': reason '%s' lacks '%s'", in, err,
				 parse_bad[i].why);
		assert_null(strchr(err, '\n'));
		assert_memory_equal(&c, &sentinel, sizeof(c));
		/* err is optional */
		assert_int_equal(cidr_parse(in, &c, NULL, 0), -EINVAL);
	}
	assert_int_equal(cidr_parse(NULL, &c, err, sizeof(err)), -EINVAL);
}

struct contains {
	const char *cidr;
	const char *addr; /* passed raw: v6 text stays AF_INET6, even mapped */
	bool in;
};

static const struct contains contains[] = {
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "::ffff:11.0.0.0", false },
	{ "10.0.0.0/8", "::a00:0", false }, /* v4-compatible is not mapped */
	{ "10.0.0.0/8", "2001:db8::", false },
	{ "203.0.113.128/25", "203.0.113.128", true },
	{ "203.0.113.128/25", "203.0.113.255", true },
	{ "203.0.113.128/25", "203.0.113.127", false },
	{ "203.0.113.128/25", "203.0.114.0", false },
	{ "1.2.3.4/32", "1.2.3.4", true },
	{ "1.2.3.4/32", "1.2.3.3", false },
	{ "1.2.3.4/32", "1.2.3.5", false },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "::ffff:8.8.8.8", true },
	{ "0.0.0.0/0", "::1", false },
	{ "2001:db8::/32", "2001:db8::", true },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8::/32", "32.1.13.184", false },
	{ "2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/33", "2001:db8:8000::", false },
	{ "::1", "::1", true },
	{ "::1", "::", false },
	{ "::1", "::2", false },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "::/0", "::ffff:1.2.3.4", false }, /* mapped is judged as v4 */
	{ "::/0", "1.2.3.4", false },
	{ "::ffff:10.0.0.0/104", "10.9.9.9", true },
	{ "::ffff:10.0.0.0/104", "::ffff:10.9.9.9", true },
};

/* Membership at the first and last address of a range and just outside. */
static void test_contains(void **state)
{
	__u8 a[16];
	struct cidr c;
	int family;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(contains) / sizeof(contains[0]); i++) {
		const struct contains *t = &contains[i];

		assert_int_equal(cidr_parse(t->cidr, &c, NULL, 0), 0);
		family = strchr(t->addr, ':') ? AF_INET6 : AF_INET;
		memset(a, 0, sizeof(a));
		assert_int_equal(inet_pton(family, t->addr, a), 1);
		if (cidr_contains(&c, family, a) != t->in)
			fail_msg("%s contains %s: expected %s", t->cidr,
				 t->addr, t->in ? "yes" : "no");
	}
}

/* addr_parse() maps ::ffff:a.b.c.d to v4 and zeroes the unused bytes. */
static void test_addr_parse(void **state)
{
	static const __u8 v4[16] = { 1, 2, 3, 4 };
	static const __u8 lo6[16] = { [15] = 1 };
	__u8 a[16];
	int family;

	(void)state;
	memset(a, 0xee, sizeof(a));
	assert_int_equal(addr_parse("1.2.3.4", &family, a), 0);
	assert_int_equal(family, AF_INET);
	assert_memory_equal(a, v4, sizeof(a));

	memset(a, 0xee, sizeof(a));
	assert_int_equal(addr_parse("::ffff:1.2.3.4", &family, a), 0);
	assert_int_equal(family, AF_INET);
	assert_memory_equal(a, v4, sizeof(a));

	assert_int_equal(addr_parse("::1", &family, a), 0);
	assert_int_equal(family, AF_INET6);
	assert_memory_equal(a, lo6, sizeof(a));

	family = 12345;
	assert_int_equal(addr_parse("1.2.3.4/32", &family, a), -EINVAL);
	assert_int_equal(addr_parse("", &family, a), -EINVAL);
	assert_int_equal(addr_parse("1.2.3", &family, a), -EINVAL);
	assert_int_equal(addr_parse("host.example", &family, a), -EINVAL);
	assert_int_equal(addr_parse(NULL, &family, a), -EINVAL);
	assert_int_equal(family, 12345);
}

/* A buffer one byte short is refused rather than silently truncated. */
static void test_format_errors(void **state)
{
	struct cidr c = { .family = AF_INET, .addr = { 10 }, .prefixlen = 8 };
	struct cidr bad = { .family = 12345 };
	char buf[CIDR_STRLEN];

	(void)state;
	assert_int_equal(cidr_format(&c, buf, sizeof("10.0.0.0/8")), 0);
	assert_string_equal(buf, "10.0.0.0/8");
	assert_int_equal(cidr_format(&c, buf, sizeof("10.0.0.0/8") - 1),
			 -ENOSPC);
	assert_int_equal(cidr_format(&bad, buf, sizeof(buf)), -EINVAL);

	/* the longest text form fits CIDR_STRLEN */
	c.family = AF_INET6;
	c.prefixlen = 128;
	memset(c.addr, 0xff, sizeof(c.addr));
	assert_int_equal(cidr_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_format_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
