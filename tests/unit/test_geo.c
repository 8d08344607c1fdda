// SPDX-License-Identifier: MIT
/* geo: the embedded table, lookups at range edges, special space, the
 * overseas test, range -> CIDR, RIR import, and damaged blobs. Run from the
 * repository root (fixtures in tests/unit/data/). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "geo.h"

#define DATA "tests/unit/data/"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct geo *emb; /* the embedded table, loaded once */
static const char *const home_cn[] = { "CN" };

static int ip(const char *s, __u8 a[16])
{
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	memset(a, 0, 16);
	assert_int_equal(inet_pton(af, s, a), 1);
	return af;
}

static const char *cc_of(const struct geo *g, const char *s)
{
	__u8 a[16];
	int af = ip(s, a);

	return geo_country(g, af, a);
}

/* a macro, so that a failure names the caller's line */
#define assert_cc(g, addr, want)                                         \
	do {                                                             \
		const char *got_ = cc_of(g, addr), *want_ = (want);      \
		if (got_ && want_)                                       \
			assert_string_equal(got_, want_);                \
		else                                                     \
			assert_ptr_equal(got_, want_);                   \
	} while (0)

/* a += d (d = +1 or -1), big-endian with carry */
static void step(__u8 *a, int n, int d)
{
	for (int i = n - 1; i >= 0; i--) {
		a[i] += d;
		if (a[i] != (d > 0 ? 0 : 0xff))
			break;
	}
}

static bool all_bytes(const __u8 *a, int n, __u8 v)
{
	for (int i = 0; i < n; i++)
		if (a[i] != v)
			return false;
	return true;
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_geo.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	return geo_load_embedded(&emb, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	geo_free(emb);
	return 0;
}

/* The compiled-in blob loads, is the documented source, and is the full
 * table, not a stub. */
static void test_embedded(void **state)
{
	(void)state;
	assert_non_null(emb);
	assert_true(!strncmp(geo_source(emb), "geo-whois-asn-country ", 22));
	assert_true(geo_count(emb, AF_INET) > 300000);
	assert_true(geo_count(emb, AF_INET6) > 200000);
	assert_int_equal(geo_count(emb, AF_UNIX), 0);
}

/* Stable, well-known allocations (checked against the data). */
static void test_known(void **state)
{
	(void)state;
	assert_cc(emb, "8.8.8.8", "US");
	assert_cc(emb, "114.114.114.114", "CN");
	assert_cc(emb, "223.5.5.5", "CN");
	assert_cc(emb, "180.76.76.76", "CN");
	assert_cc(emb, "1.1.1.1", "AU");
	assert_cc(emb, "2001:4860:4860::8888", "US");
	assert_cc(emb, "2400:3200::1", "CN");
	assert_cc(emb, "240e::1", "CN");
	assert_cc(emb, "4000::1", NULL); /* unallocated */
}

struct edges {
	size_t seen, checked;
	int af;
};

/* Every 997th range: both ends have its country, the addresses just
 * outside do not (adjacent entries always differ). */
static int check_edges(int af, const __u8 *first, const __u8 *last,
		       const char *cc, void *ctx)
{
	struct edges *e = ctx;
	int n = af == AF_INET ? 4 : 16;
	const char *out;
	__u8 a[16];

	assert_int_equal(af, e->af);
	if (e->seen++ % 997)
		return 0;
	e->checked++;
	assert_string_equal(geo_country(emb, af, first), cc);
	assert_string_equal(geo_country(emb, af, last), cc);
	memcpy(a, first, n);
	if (!all_bytes(a, n, 0)) {
		step(a, n, -1);
		out = geo_country(emb, af, a);
		assert_true(!out || strcmp(out, cc));
	}
	memcpy(a, last, n);
	if (!all_bytes(a, n, 0xff)) {
		step(a, n, 1);
		out = geo_country(emb, af, a);
		assert_true(!out || strcmp(out, cc));
	}
	if (af == AF_INET) { /* the same, through a v4-mapped address */
		__u8 m[16] = { [10] = 0xff, [11] = 0xff };

		memcpy(m + 12, last, 4);
		assert_string_equal(geo_country(emb, AF_INET6, m), cc);
	}
	return 0;
}

static void test_edges(void **state)
{
	struct edges e4 = { .af = AF_INET }, e6 = { .af = AF_INET6 };

	(void)state;
	assert_int_equal(geo_foreach(emb, AF_INET, check_edges, &e4), 0);
	assert_int_equal(geo_foreach(emb, AF_INET6, check_edges, &e6), 0);
	assert_int_equal(e4.seen, geo_count(emb, AF_INET));
	assert_int_equal(e6.seen, geo_count(emb, AF_INET6));
	assert_true(e4.checked > 300 && e6.checked > 200);
	assert_int_equal(geo_foreach(emb, AF_UNIX, check_edges, &e4), -EINVAL);
}

/* v4-mapped and NAT64 forms are judged as the v4 address inside. */
static void test_mapped(void **state)
{
	(void)state;
	assert_cc(emb, "::ffff:8.8.8.8", "US");
	assert_cc(emb, "::ffff:114.114.114.114", "CN");
	assert_cc(emb, "64:ff9b::808:808", "US");
	assert_cc(emb, "::ffff:192.168.1.1", NULL);
}

static const char *const special[] = {
	"10.0.0.1", "10.255.255.255", "192.168.1.1", "172.16.0.1",
	"172.31.255.255", "127.0.0.1", "127.255.255.254", "169.254.1.1",
	"100.64.0.1", "100.127.255.255", "0.0.0.0", "224.0.0.251",
	"239.255.255.250", "255.255.255.255", "192.0.2.1", "198.51.100.1",
	"203.0.113.1", "198.18.0.1", "::", "::1", "fe80::1",
	"febf:ffff::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
	"::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2001:2::1",
	"fec0::1", "3fff::1", "2001:10::1", "100::1", "::a00:1",
};

static const char *const public[] = {
	"8.8.8.8", "114.114.114.114", "100.63.255.255", "100.128.0.0",
	"172.15.255.255", "172.32.0.0", "169.253.255.255", "11.0.0.0",
	"2001:4860:4860::8888", "240e::1", "2001:3::", "2001:db7:ffff::",
	"2001:db9::", "fe7f:ffff::", "::1:0:0:0", "64:ff9b:2::",
};

/* Special space is never overseas, even with an empty home list, and has
 * no country (the data says 192.168.0.0/16 is AU: cleared). */
static void test_special(void **state)
{
	__u8 a[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(special); i++) {
		int af = ip(special[i], a);

		if (!geo_is_special(af, a))
			fail_msg("%s should be special", special[i]);
		assert_false(geo_is_overseas(emb, af, a, NULL, 0));
		assert_null(geo_country(emb, af, a));
	}
	for (size_t i = 0; i < ARRAY_SIZE(public); i++) {
		int af = ip(public[i], a);

		if (geo_is_special(af, a))
			fail_msg("%s should not be special", public[i]);
	}
	assert_false(geo_is_special(AF_UNIX, a));
}

/* Overseas = public, known, not home; home codes compare case-blind. */
static void test_overseas(void **state)
{
	const char *const home2[] = { "cn", "us" };
	__u8 a[16];
	int af;

	(void)state;
	af = ip("8.8.8.8", a);
	assert_true(geo_is_overseas(emb, af, a, home_cn, 1));
	assert_false(geo_is_overseas(emb, af, a, home2, 2));
	af = ip("114.114.114.114", a);
	assert_false(geo_is_overseas(emb, af, a, home_cn, 1));
	assert_true(geo_is_overseas(emb, af, a, NULL, 0));
	af = ip("2001:4860:4860::8888", a);
	assert_true(geo_is_overseas(emb, af, a, home_cn, 1));
	af = ip("::ffff:8.8.8.8", a);
	assert_true(geo_is_overseas(emb, af, a, home_cn, 1));
	af = ip("240e::1", a);
	assert_false(geo_is_overseas(emb, af, a, home_cn, 1));
	af = ip("4000::1", a); /* unknown country: not judged overseas */
	assert_false(geo_is_overseas(emb, af, a, home_cn, 1));
}

typedef unsigned __int128 u128;

static u128 be(const __u8 *a, int n)
{
	u128 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | a[i];
	return v;
}

/* The last address of addr/plen. */
static void cidr_last(const __u8 *addr, int n, int plen, __u8 *last)
{
	memcpy(last, addr, n);
	for (int k = 8 * n - plen, i = n - 1; k > 0; k -= 8, i--)
		last[i] |= k >= 8 ? 0xff : (1 << k) - 1;
}

/* What a CIDR walk saw. joined: blocks must continue each other; cc: both
 * ends of every block must be that country in the embedded table. */
struct walk {
	int af, n;
	u128 next, total;
	bool joined;
	const char *cc;
	char text[4096];
};

static int walk_cb(int af, const __u8 *addr, int plen, void *ctx)
{
	struct walk *w = ctx;
	int n = af == AF_INET ? 4 : 16, bits = 8 * n;
	u128 lo = be(addr, n), size;
	char buf[INET6_ADDRSTRLEN];
	size_t len = strlen(w->text);
	__u8 last[16];

	if (af != w->af) { /* v4 blocks come first, then v6 */
		assert_int_equal(w->af, AF_INET);
		w->af = af;
		w->n = 0;
		w->total = 0;
	}
	assert_true(plen >= 0 && plen <= bits);
	size = bits - plen == 128 ? 0 : (u128)1 << (bits - plen);
	if (size)
		assert_true(lo % size == 0); /* aligned */
	if (w->n)
		assert_true(w->joined ? lo == w->next : lo >= w->next);
	w->next = lo + size;
	w->total += size;
	w->n++;
	inet_ntop(af, addr, buf, sizeof(buf));
	if (len + 64 < sizeof(w->text))
		snprintf(w->text + len, sizeof(w->text) - len, "%s%s/%d",
			 len ? " " : "", buf, plen);
	if (w->cc) {
		cidr_last(addr, n, plen, last);
		assert_string_equal(geo_country(emb, af, addr), w->cc);
		assert_string_equal(geo_country(emb, af, last), w->cc);
	}
	return 0;
}

static const struct {
	const char *first, *last, *want;
	int count;
} cidr_cases[] = {
	{ "1.0.0.1", "1.0.0.6",
	  "1.0.0.1/32 1.0.0.2/31 1.0.0.4/31 1.0.0.6/32", 4 },
	{ "0.0.0.0", "255.255.255.255", "0.0.0.0/0", 1 },
	{ "1.2.3.4", "1.2.3.4", "1.2.3.4/32", 1 },
	{ "0.0.0.0", "0.0.0.0", "0.0.0.0/32", 1 },
	{ "255.255.255.255", "255.255.255.255", "255.255.255.255/32", 1 },
	{ "1.0.1.0", "1.0.3.255", "1.0.1.0/24 1.0.2.0/23", 2 },
	{ "0.0.0.1", "255.255.255.254", NULL, 62 },
	{ "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0", 1 },
	{ "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1", 1 },
	{ "2001:db8::1", "2001:db8::2", "2001:db8::1/128 2001:db8::2/128", 2 },
	{ "2001:db8::", "2001:db9:ffff:ffff:ffff:ffff:ffff:ffff",
	  "2001:db8::/31", 1 },
	{ "2001:200::", "2001:218:2000:51:ffff:ffff:ffff:ffff",
	  "2001:200::/28 2001:210::/29 2001:218::/35 2001:218:2000::/58 "
	  "2001:218:2000:40::/60 2001:218:2000:50::/63", 6 },
	{ "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL, 254 },
};

/* Range -> minimal CIDR list on the tricky shapes (expected lists from
 * Python's ipaddress.summarize_address_range). */
static void test_range_cidrs(void **state)
{
	struct walk *w = malloc(sizeof(*w));
	__u8 a[16], b[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cidr_cases); i++) {
		int af = ip(cidr_cases[i].first, a);

		memset(w, 0, sizeof(*w));
		w->af = af;
		w->joined = true;
		assert_int_equal(ip(cidr_cases[i].last, b), af);
		assert_int_equal(geo_range_cidrs(af, a, b, walk_cb, w), 0);
		assert_int_equal(w->n, cidr_cases[i].count);
		assert_true(w->total == be(b, af == AF_INET ? 4 : 16) -
					be(a, af == AF_INET ? 4 : 16) + 1);
		if (cidr_cases[i].want)
			assert_string_equal(w->text, cidr_cases[i].want);
	}
	assert_int_equal(geo_range_cidrs(AF_INET, b, a, walk_cb, w), -EINVAL);
	assert_int_equal(geo_range_cidrs(AF_UNIX, a, a, walk_cb, w), -EINVAL);
	free(w);
}

/* Random v4 ranges: the blocks tile the range exactly, at most 62. */
static void test_cidr_random(void **state)
{
	struct walk *w = malloc(sizeof(*w));

	(void)state;
	srand(42);
	for (int i = 0; i < 5000; i++) {
		__u32 x = (__u32)rand() << 16 ^ rand();
		__u32 y = (__u32)rand() << 16 ^ rand();
		__u32 lo = x < y ? x : y, hi = x < y ? y : x;
		__u8 a[4] = { lo >> 24, lo >> 16, lo >> 8, lo };
		__u8 b[4] = { hi >> 24, hi >> 16, hi >> 8, hi };

		memset(w, 0, sizeof(*w));
		w->af = AF_INET;
		w->joined = true;
		assert_int_equal(geo_range_cidrs(AF_INET, a, b, walk_cb, w), 0);
		assert_true(w->total == (u128)hi - lo + 1);
		assert_true(w->n <= 62);
	}
	free(w);
}

static int sum_cc(int af, const __u8 *first, const __u8 *last,
		  const char *cc, void *ctx)
{
	struct walk *w = ctx;
	int n = af == AF_INET ? 4 : 16;

	if (!strcmp(cc, w->cc))
		w->total += be(last, n) - be(first, n) + 1;
	return 0;
}

static int stop_at_3(int af, const __u8 *a, int plen, void *ctx)
{
	(void)af, (void)a, (void)plen;
	return ++*(int *)ctx == 3 ? 77 : 0;
}

/* Home CIDRs: aligned, sorted blocks whose ends are all CN, v4 then v6;
 * no home, no blocks; a callback's non-zero return stops the walk. */
static void test_home_cidrs(void **state)
{
	const char *const bad[] = { "C" };
	struct walk *w = calloc(1, sizeof(*w));
	int calls = 0;

	(void)state;
	w->af = AF_INET;
	w->cc = "CN";
	assert_int_equal(geo_home_cidrs(emb, home_cn, 1, walk_cb, w), 0);
	assert_int_equal(w->af, AF_INET6);
	assert_true(w->n > 1000); /* v6 blocks */
	memset(w, 0, sizeof(*w));
	w->af = AF_INET;
	assert_int_equal(geo_home_cidrs(emb, home_cn, 0, walk_cb, w), 0);
	assert_int_equal(w->n, 0);
	assert_int_equal(geo_home_cidrs(emb, home_cn, 1, stop_at_3, &calls),
			 77);
	assert_int_equal(calls, 3);
	assert_int_equal(geo_home_cidrs(emb, bad, 1, walk_cb, w), -EINVAL);
	free(w);
}

static int v4_only(int af, const __u8 *addr, int plen, void *ctx)
{
	return af == AF_INET ? walk_cb(af, addr, plen, ctx) : 0;
}

/* The v4 home blocks add up to the home ranges, address for address,
 * with one home country or two. */
static void test_home_cidrs_total(void **state)
{
	const char *const cn_hk[] = { "CN", "HK" };
	struct walk *w = calloc(1, sizeof(*w)), *sum = calloc(1, sizeof(*sum));
	u128 both;

	(void)state;
	sum->cc = "CN";
	assert_int_equal(geo_foreach(emb, AF_INET, sum_cc, sum), 0);
	w->af = AF_INET;
	assert_int_equal(geo_home_cidrs(emb, home_cn, 1, v4_only, w), 0);
	assert_true(w->total == sum->total);
	assert_true(sum->total > 300000000); /* CN holds ~343M v4 addresses */
	sum->cc = "HK";
	assert_int_equal(geo_foreach(emb, AF_INET, sum_cc, sum), 0);
	both = sum->total;
	memset(w, 0, sizeof(*w));
	w->af = AF_INET;
	assert_int_equal(geo_home_cidrs(emb, cn_hk, 2, v4_only, w), 0);
	assert_true(w->total == both);
	free(sum);
	free(w);
}

static int special_cb(int af, const __u8 *addr, int plen, void *ctx)
{
	__u8 last[16];

	cidr_last(addr, af == AF_INET ? 4 : 16, plen, last);
	assert_true(geo_is_special(af, addr) && geo_is_special(af, last));
	assert_null(geo_country(emb, af, addr));
	assert_null(geo_country(emb, af, last));
	++*(int *)ctx;
	return 0;
}

/* The kernel's never-overseas set agrees with geo_is_special at both ends
 * of every block, and the table has no country there. */
static void test_special_cidrs(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(geo_special_cidrs(special_cb, &n), 0);
	assert_true(n >= 20);
}

/* The fixture alone: each record's first and last address, one past each
 * end, skipped records (asn, available, reserved, summary), special space
 * cleared, a /128, counts and the source name. */
static void test_rir_load(void **state)
{
	struct geo *g;
	char err[256] = "";

	(void)state;
	assert_int_equal(geo_load_rir_file(&g, DATA "delegated-test.txt", err,
					   sizeof(err)), 0);
	assert_string_equal(geo_source(g), "rir delegated-test.txt");
	assert_int_equal(geo_count(g, AF_INET), 4);
	assert_int_equal(geo_count(g, AF_INET6), 4);
	assert_cc(g, "1.0.0.255", NULL);
	assert_cc(g, "1.0.1.0", "CN");
	assert_cc(g, "1.0.3.255", "CN"); /* 768 addresses: not a CIDR */
	assert_cc(g, "1.0.4.0", NULL);
	assert_cc(g, "1.0.8.1", NULL);	/* available */
	assert_cc(g, "1.0.9.1", NULL);	/* reserved */
	assert_cc(g, "1.0.15.255", NULL);
	assert_cc(g, "1.0.16.0", "JP");	/* extended format, 8 fields */
	assert_cc(g, "1.0.31.255", "JP");
	assert_cc(g, "1.0.32.0", NULL);
	assert_cc(g, "8.8.4.4", "DE");
	assert_cc(g, "8.8.8.8", "US");
	assert_cc(g, "8.8.9.0", NULL);
	assert_cc(g, "10.1.0.1", NULL);	/* special: cleared */
	assert_cc(g, "::ffff:1.0.1.0", "CN");
	assert_cc(g, "240e::", "CN");
	assert_cc(g, "240e:fff:ffff:ffff:ffff:ffff:ffff:ffff", "CN");
	assert_cc(g, "240e:1000::", NULL);
	assert_cc(g, "2001:200:1fff:ffff:ffff:ffff:ffff:ffff", "JP");
	assert_cc(g, "2001:200:2000::", NULL);
	assert_cc(g, "2400:cb00::", NULL);
	assert_cc(g, "2400:cb00::1", "AU");
	assert_cc(g, "2400:cb00::2", NULL);
	geo_free(g);
}

/* Merged over the embedded table, the file wins where it speaks and
 * everything else is untouched. (2001:da8::/32, CERNET, is in the fixture
 * because the embedded data has it as AU: this is the way to fix such
 * entries from the registries' own files.) */
static void test_rir_merge(void **state)
{
	struct geo *g;
	char err[256];

	(void)state;
	assert_int_equal(geo_load_embedded(&g, err, sizeof(err)), 0);
	assert_cc(g, "8.8.4.4", "US");
	assert_int_equal(geo_merge_rir_file(g, DATA "delegated-test.txt", err,
					    sizeof(err)), 0);
	assert_cc(g, "2001:da8::1", "CN");
	assert_cc(g, "8.8.4.4", "DE");
	assert_cc(g, "8.8.3.255", "US");
	assert_cc(g, "8.8.5.0", "US");
	assert_cc(g, "8.8.8.8", "US");
	assert_cc(g, "114.114.114.114", "CN");
	assert_cc(g, "192.168.1.1", NULL);
	/* a bad file changes nothing */
	assert_int_equal(geo_merge_rir_file(g, DATA "delegated-bad.txt", err,
					    sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    DATA "delegated-bad.txt:4: range overlaps line 2");
	assert_cc(g, "1.0.1.1", "CN");
	assert_cc(g, "1.0.0.1", "AU");
	assert_cc(g, "2001:da8::1", "CN");
	geo_free(g);
}

static const struct {
	const char *text, *msg; /* msg follows "PATH" */
} rir_bad[] = {
	{ "test|CN|ipv4|1.0.0.0|256\n",
	  ":1: expected registry|cc|type|start|value|date|status" },
	{ "# c\r\ntest|CN|ipv5|1.0.0.0|256|0|allocated\r\n",
	  ":2: unknown record type 'ipv5'" },
	{ "test|C1|ipv4|1.0.0.0|256|0|allocated\n",
	  ":1: bad country code 'C1'" },
	{ "test|CHN|ipv4|1.0.0.0|256|0|allocated\n",
	  ":1: bad country code 'CHN'" },
	{ "\n\ntest|CN|ipv4|1.0.0.256|256|0|allocated\n",
	  ":3: bad ipv4 address '1.0.0.256'" },
	{ "test|CN|ipv6|240e::g|20|0|allocated\n",
	  ":1: bad ipv6 address '240e::g'" },
	{ "test|CN|ipv4|1.0.0.0|0|0|allocated\n", ":1: bad count '0'" },
	{ "test|CN|ipv4|1.0.0.0|12x|0|allocated\n", ":1: bad count '12x'" },
	{ "test|CN|ipv4|1.0.0.0|-1|0|allocated\n", ":1: bad count '-1'" },
	{ "test|CN|ipv4|255.255.255.0|512|0|allocated\n",
	  ":1: 255.255.255.0 + 512 runs past 255.255.255.255" },
	{ "test|CN|ipv6|240e::|129|0|allocated\n",
	  ":1: bad prefix length '129'" },
	{ "test|CN|ipv6|240e::1|64|0|allocated\n",
	  ":1: 240e::1/64 has host bits set" },
	{ "test|CN|ipv4|1.0.0.0|256|0|frozen\n",
	  ":1: unknown status 'frozen'" },
	{ "test|CN|ipv4|1.0.0.0|512|0|allocated\n"
	  "test|JP|ipv6|240e::|20|0|allocated\n"
	  "test|JP|ipv4|1.0.1.0|256|0|allocated\n",
	  ":3: range overlaps line 1" },
	{ "2|test|1|0|0|0|+0000\ntest|*|ipv4|*|0|summary\n",
	  ": no allocated or assigned ipv4/ipv6 records" },
};

/* Every malformed line is refused with the file name and line number. */
static void test_rir_errors(void **state)
{
	char err[512], want[512];
	struct geo *g = (struct geo *)1;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rir_bad); i++) {
		char *path = write_tmp(rir_bad[i].text);

		assert_int_equal(geo_load_rir_file(&g, path, err, sizeof(err)),
				 -EINVAL);
		assert_null(g);
		snprintf(want, sizeof(want), "%s%s", path, rir_bad[i].msg);
		assert_string_equal(err, want);
		unlink(path);
		free(path);
	}
	assert_int_equal(geo_load_rir_file(&g, DATA "missing.txt", err,
					   sizeof(err)), -ENOENT);
	assert_string_equal(err, "failed to open " DATA
			    "missing.txt: No such file or directory");
}

/* Whole-space records: the v4 count 2^32 and the v6 /0 are accepted. */
static void test_rir_whole_space(void **state)
{
	char *path = write_tmp("t|US|ipv4|0.0.0.0|4294967296|0|allocated\n"
			       "t|JP|ipv6|::|0|0|assigned\n");
	struct geo *g;
	char err[256];

	(void)state;
	assert_int_equal(geo_load_rir_file(&g, path, err, sizeof(err)), 0);
	assert_cc(g, "1.0.0.0", "US");
	assert_cc(g, "223.255.255.255", "US");
	assert_cc(g, "255.255.255.255", NULL); /* 240/4: special */
	assert_cc(g, "2000::", "JP");
	assert_cc(g, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
	assert_cc(g, "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "JP");
	geo_free(g);
	unlink(path);
	free(path);
}

/* A small table's inflated payload: header (64), v4 = 3 entries (0, AU
 * from 1.0.0.0, 0 from 1.0.1.0: 6 cc + 2 shift + 2 varint bytes), v6 =
 * 1 entry (2 cc bytes). */
static size_t tiny_payload(__u8 *raw, size_t cap)
{
	struct geo_range r = { .family = AF_INET, .first = { 1 },
			       .last = { 1, 0, 0, 255 }, .cc = "AU" };
	struct geo *g;
	void *z;
	size_t zlen;
	uLongf n = cap;

	assert_int_equal(geo_new(&g, "tiny"), 0);
	assert_int_equal(geo_overlay(g, &r, 1, NULL, 0), 0);
	assert_int_equal(geo_encode(g, &z, &zlen), 0);
	assert_int_equal(uncompress(raw, &n, z, zlen), Z_OK);
	free(z);
	geo_free(g);
	return n;
}

static int load_payload(const __u8 *raw, size_t n, char *err, size_t errlen)
{
	uLongf zlen = compressBound(n);
	__u8 *z = malloc(zlen);
	struct geo *g = NULL;
	int ret;

	assert_int_equal(compress2(z, &zlen, raw, n, 6), Z_OK);
	ret = geo_load_blob(&g, z, zlen, err, errlen);
	if (!ret) {
		__u8 a[4] = { 1, 0, 0, 128 };

		assert_string_equal(geo_country(g, AF_INET, a), "AU");
	} else {
		assert_null(g);
	}
	geo_free(g);
	free(z);
	return ret;
}

static const struct {
	size_t off;
	__u8 val;
	const char *msg;
} damage[] = {
	{ 0, 'X', "not a geo table: bad magic" },
	{ 4, 2, "unsupported geo table version 2" },
	{ 6, 65, "unsupported geo table version 1" },
	{ 8, 0, "corrupt geo table: v4 section too short" },
	{ 8, 4, "corrupt geo table: v4 section too short" },
	{ 12, 0, "corrupt geo table: v6 section too short" },
	{ 16, 11, "corrupt geo table: sizes do not add up" },
	{ 67, 3, "corrupt geo table: bad v4 entry" },	/* cc 0x3xx > 676 */
	{ 70, 32, "corrupt geo table: bad v4 entry" },	/* shift >= 32 */
	{ 73, 0x80, "corrupt geo table: bad v4 entry" }, /* unended varint */
	{ 75, 0xff, "corrupt geo table: bad v6 entry" },
};

/* Damaged payloads (checked fields, one at a time) are refused with a
 * reason; the undamaged one loads. */
static void test_blob_damage(void **state)
{
	__u8 raw[256], bad[257];
	char err[256];
	size_t n = tiny_payload(raw, sizeof(raw));

	(void)state;
	assert_int_equal(n, 76);
	assert_int_equal(load_payload(raw, n, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(damage); i++) {
		memcpy(bad, raw, n);
		bad[damage[i].off] = damage[i].val;
		assert_int_equal(load_payload(bad, n, err, sizeof(err)),
				 -EBADMSG);
		assert_string_equal(err, damage[i].msg);
	}
	/* 2^31 + 2^31 runs past 255.255.255.255 */
	memcpy(bad, raw, n);
	bad[70] = bad[71] = 31;
	assert_int_equal(load_payload(bad, n, err, sizeof(err)), -EBADMSG);
	/* a byte the v6 section does not use */
	memcpy(bad, raw, n);
	bad[n] = 0;
	bad[20]++;
	assert_int_equal(load_payload(bad, n + 1, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "corrupt geo table: bad v6 entry");
	assert_int_equal(load_payload(raw, 63, err, sizeof(err)), -EBADMSG);
}

/* The embedded blob cut short, bit-flipped or with bytes after the zlib
 * stream is an error, never a crash; so is a stream that inflates past the
 * cap. */
static void test_blob_corrupt(void **state)
{
	const void *blob;
	size_t len, cuts[] = { 0, 1, 2, 10, 100, 4096, 0, 0, 0 };
	__u8 *copy;
	struct geo *g;
	char err[256];
	uLongf zlen;

	(void)state;
	geo_embedded_blob(&blob, &len);
	cuts[6] = len / 2;
	cuts[7] = len - 4;
	cuts[8] = len - 1;
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		assert_int_equal(geo_load_blob(&g, blob, cuts[i], err,
					       sizeof(err)), -EBADMSG);
		assert_null(g);
	}
	copy = malloc(len + 1);
	for (size_t off = 2; off < len; off += len / 7) {
		memcpy(copy, blob, len);
		copy[off] ^= 0x10;
		assert_int_equal(geo_load_blob(&g, copy, len, err, sizeof(err)),
				 -EBADMSG);
		assert_null(g);
	}
	memcpy(copy, blob, len);
	copy[len] = 0;
	assert_int_equal(geo_load_blob(&g, copy, len + 1, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(err, "corrupt geo table: trailing bytes");
	free(copy);

	len = 40u << 20; /* a "bomb": 40 MiB of zeros */
	copy = calloc(1, len);
	zlen = compressBound(len);
	__u8 *z = malloc(zlen);
	assert_int_equal(compress2(z, &zlen, copy, len, 1), Z_OK);
	assert_int_equal(geo_load_blob(&g, z, zlen, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "inflates past"));
	free(z);
	free(copy);
}

/* Encoding a loaded table gives back the same payload; a blob file loads
 * like the embedded one; a missing file is -ENOENT. */
static void test_encode_roundtrip(void **state)
{
	const void *blob;
	void *again;
	size_t len, alen;
	uLongf n1 = 8u << 20, n2 = 8u << 20;
	__u8 *r1 = malloc(n1), *r2 = malloc(n2);
	char path[] = "/tmp/test_geo.XXXXXX", err[256];
	struct geo *g;
	int fd;

	(void)state;
	geo_embedded_blob(&blob, &len);
	assert_int_equal(geo_encode(emb, &again, &alen), 0);
	assert_int_equal(uncompress(r1, &n1, blob, len), Z_OK);
	assert_int_equal(uncompress(r2, &n2, again, alen), Z_OK);
	assert_int_equal(n1, n2);
	assert_memory_equal(r1, r2, n1);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, again, alen), (ssize_t)alen);
	close(fd);
	assert_int_equal(geo_load_file(&g, path, err, sizeof(err)), 0);
	assert_int_equal(geo_count(g, AF_INET), geo_count(emb, AF_INET));
	assert_cc(g, "8.8.8.8", "US");
	geo_free(g);
	unlink(path);
	assert_int_equal(geo_load_file(&g, path, err, sizeof(err)), -ENOENT);
	assert_null(g);
	free(again);
	free(r1);
	free(r2);
}

/* geo_overlay: ranges replace what was there ("" clears), a later
 * overlay cuts into an earlier one; overlapping or malformed input is
 * refused and leaves the table as it was. */
static void test_overlay(void **state)
{
	struct geo_range r[3] = {
		{ .family = AF_INET, .first = { 5 },
		  .last = { 5, 255, 255, 255 }, .cc = "FR" },
		{ .family = AF_INET, .first = { 5, 1 },
		  .last = { 5, 1, 0, 255 } },
		{ .family = AF_INET6, .first = { 0x20, 0x01 },
		  .last = { 0x20, 0x01, 0xff }, .cc = "de" },
	};
	struct geo *g;
	char err[256];

	(void)state;
	assert_int_equal(geo_new(&g, "overlay"), 0);
	assert_int_equal(geo_overlay(g, r, 3, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: range overlaps line 1");
	assert_cc(g, "5.0.0.1", NULL);
	r[1].line = 9;
	assert_int_equal(geo_overlay(g, r, 1, err, sizeof(err)), 0);
	assert_int_equal(geo_overlay(g, r + 1, 2, err, sizeof(err)), 0);
	assert_cc(g, "4.255.255.255", NULL);
	assert_cc(g, "5.0.0.0", "FR");
	assert_cc(g, "5.0.255.255", "FR");
	assert_cc(g, "5.1.0.0", NULL);
	assert_cc(g, "5.1.0.255", NULL);
	assert_cc(g, "5.1.1.0", "FR");
	assert_cc(g, "5.255.255.255", "FR");
	assert_cc(g, "6.0.0.0", NULL);
	assert_cc(g, "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
	assert_cc(g, "2001::", "DE");
	assert_cc(g, "2001:ff00::", "DE");
	assert_cc(g, "2001:ff00::1", NULL);
	assert_int_equal(geo_count(g, AF_INET), 2);
	assert_int_equal(geo_count(g, AF_INET6), 1);
	/* a neighbour of the same country joins the range before it */
	r[0].first[0] = r[0].last[0] = 6;
	assert_int_equal(geo_overlay(g, r, 1, err, sizeof(err)), 0);
	assert_int_equal(geo_count(g, AF_INET), 2);
	assert_cc(g, "6.255.255.255", "FR");
	r[0].first[0] = r[0].last[0] = 5;
	strcpy(r[0].cc, "F1");
	assert_int_equal(geo_overlay(g, r, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1: bad range");
	r[2].first[0] = 0x30; /* first > last */
	assert_int_equal(geo_overlay(g, r + 2, 1, err, sizeof(err)), -EINVAL);
	assert_cc(g, "5.0.0.0", "FR");
	assert_cc(g, "2001::", "DE");
	geo_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_special),
		cmocka_unit_test(test_overseas),
		cmocka_unit_test(test_range_cidrs),
		cmocka_unit_test(test_cidr_random),
		cmocka_unit_test(test_home_cidrs),
		cmocka_unit_test(test_home_cidrs_total),
		cmocka_unit_test(test_special_cidrs),
		cmocka_unit_test(test_rir_load),
		cmocka_unit_test(test_rir_merge),
		cmocka_unit_test(test_rir_errors),
		cmocka_unit_test(test_rir_whole_space),
		cmocka_unit_test(test_blob_damage),
		cmocka_unit_test(test_blob_corrupt),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_overlay),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
