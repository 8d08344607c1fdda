// SPDX-License-Identifier: MIT
/* The real dns_ingress program (not a test copy) through BPF_PROG_TEST_RUN
 * with the crafted answers of tests/unit/wire_cases.h: a good answer maps
 * each address to the question's name (host-wide: a test run has no
 * socket), TTLs are clamped, and a bad one maps nothing and is counted as
 * unparsed. Loaded, never attached. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relaywatch.h"
#include "relaywatch.skel.h"
#include "../unit/wire_cases.h"

static struct relaywatch *skel;

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	(void)f;
	(void)ap;
	return 0;
}

static int setup(void **state)
{
	struct rw_settings s = { .ttl_min = 30, .ttl_max = 3600,
				 .dns_ports = { 53 } };
	__u32 zero = 0;

	(void)state;
	libbpf_set_print(quiet);
	if (geteuid() != 0)
		return 0;
	skel = relaywatch__open_and_load();
	if (!skel)
		return -1;
	bpf_map_update_elem(bpf_map__fd(skel->maps.active), &zero, &zero, 0);
	bpf_map_update_elem(bpf_map__fd(skel->maps.settings), &zero, &s, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	relaywatch__destroy(skel);
	return 0;
}

/* eth + IPv4 + UDP from port 53 + payload */
static size_t packet(__u8 *pkt, const __u8 *pl, size_t n)
{
	struct ethhdr *eth = (void *)pkt;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);

	memset(pkt, 0, sizeof(*eth) + sizeof(*ip) + sizeof(*uh));
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*uh) + n);
	ip->saddr = ip->daddr = htonl(INADDR_LOOPBACK);
	uh->source = htons(53);
	uh->dest = htons(40000);
	uh->len = htons(sizeof(*uh) + n);
	memcpy(uh + 1, pl, n);
	return sizeof(*eth) + sizeof(*ip) + sizeof(*uh) + n;
}

static void clear_dns(void)
{
	int fd = bpf_map__fd(skel->maps.dns_ips);
	struct rw_dns_key k;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0)
		bpf_map_delete_elem(fd, &k);
}

static __u64 counter(__u32 idx)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[256] = {}, sum = 0;

	bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &idx, v);
	for (int i = 0; i < ncpu && i < 256; i++)
		sum += v[i];
	return sum;
}

static size_t count_dns(void)
{
	int fd = bpf_map__fd(skel->maps.dns_ips);
	struct rw_dns_key k, *prev = NULL;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		static struct rw_dns_key keep;

		keep = k;
		prev = &keep;
		n++;
	}
	return n;
}

/* every DNS case: mapped exactly as the parser says, or not at all */
static void t_cases(void **state)
{
	static __u8 pkt[PKT_MAX + 128];
	int fd;

	(void)state;
	if (!skel)
		skip();
	fd = bpf_program__fd(skel->progs.dns_ingress);
	for (size_t i = 0; i < sizeof(wire_cases) / sizeof(wire_cases[0]); i++) {
		const struct wire_case *c = &wire_cases[i];
		struct pkt p = {};
		__u64 unparsed = counter(RW_CNT_DNS_UNPARSED);
		size_t want = 0;
		char addrs[512], *tok, *save;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .repeat = 1);

		if (c->kind != WK_DNS)
			continue;
		clear_dns();
		c->build(&p);
		o.data_size_in = packet(pkt, p.d, p.n);
		assert_int_equal(bpf_prog_test_run_opts(fd, &o), 0);
		assert_int_equal(o.retval, 1); /* DNS is never dropped */
		if (c->rc == WIRE_OK && c->addrs && *c->addrs) {
			snprintf(addrs, sizeof(addrs), "%s", c->addrs);
			for (tok = strtok_r(addrs, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				struct rw_dns_key k = {};
				struct rw_dns_val v;

				if (inet_pton(AF_INET, tok, k.addr) == 1)
					k.family = AF_INET;
				else {
					assert_int_equal(inet_pton(AF_INET6, tok, k.addr), 1);
					k.family = AF_INET6;
				}
				if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.dns_ips),
							&k, &v))
					fail_msg("%s: %s not mapped", c->name, tok);
				v.name[sizeof(v.name) - 1] = 0;
				if (c->host)
					assert_string_equal(v.name, c->host);
				want++;
			}
		}
		if (count_dns() != want)
			fail_msg("%s: %zu mappings, want %zu", c->name,
				 count_dns(), want);
		if (c->rc == WIRE_MALFORMED || c->rc == WIRE_TRUNCATED)
			assert_int_equal(counter(RW_CNT_DNS_UNPARSED),
					 unparsed + 1);
		else
			assert_int_equal(counter(RW_CNT_DNS_UNPARSED), unparsed);
	}
}

/* a TTL of 0 is held for ttl_min, a day-long one for ttl_max */
static void t_ttl_clamp(void **state)
{
	static __u8 pkt[PKT_MAX + 128];
	const struct wire_case *c = wire_case_find("dns A");
	struct rw_dns_key k = { .family = AF_INET };
	struct rw_dns_val v;
	struct timespec ts;
	struct pkt p = {};
	__u64 now;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .repeat = 1);

	(void)state;
	if (!skel)
		skip();
	assert_non_null(c);
	clear_dns();
	c->build(&p);
	o.data_size_in = packet(pkt, p.d, p.n);
	assert_int_equal(bpf_prog_test_run_opts(
		bpf_program__fd(skel->progs.dns_ingress), &o), 0);
	inet_pton(AF_INET, "104.18.33.45", k.addr);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.dns_ips),
					     &k, &v), 0);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	/* the fixture's TTL lies inside [30, 3600]: expiry within that */
	assert_true(v.expires > now + 29ULL * 1000000000ULL);
	assert_true(v.expires <= now + 3600ULL * 1000000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cases),
		cmocka_unit_test(t_ttl_clamp),
	};

	return cmocka_run_group_tests_name("dns_ingress", tests, setup,
					   teardown);
}
