// SPDX-License-Identifier: MIT
/*
 * The kernel's copy of bpf/wire.h against the userspace copy. Loads
 * tests/bpf/wire_check.bpf.c (which proves the verifier accepts every
 * parser), then sends each payload of tests/unit/wire_cases.h, every
 * prefix of the sweep cases and the openssl fixture through
 * BPF_PROG_TEST_RUN, and requires the kernel's output to equal the
 * userspace parser's byte for byte. Nothing is attached. Needs root.
 * WIRE_CHECK_CORPUS=build/fuzz also replays the fuzzer's corpora.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "wire_check.h"
#include "wire_check.skel.h"
#include "../unit/wire_cases.h"

/* BPF_PROG_TEST_RUN takes an skb of about a page: longer payloads are cut,
 * for the kernel and the userspace run alike. */
#define PAYLOAD_MAX 3600

static struct wire_check *skel;
static char vlog[5][4096];

static int print_warn(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int setup(void **state)
{
	struct bpf_program *progs[5];
	int i;

	(void)state;
	if (geteuid() != 0)
		return 0; /* each test skips */
	libbpf_set_print(print_warn);
	skel = wire_check__open();
	if (!skel)
		return -1;
	progs[0] = skel->progs.wc_dns;
	progs[1] = skel->progs.wc_tls;
	progs[2] = skel->progs.wc_http;
	progs[3] = skel->progs.wc_socks5;
	progs[4] = skel->progs.wc_flow;
	/* log level 4: the verifier's statistics, even on success */
	for (i = 0; i < 5; i++) {
		bpf_program__set_log_level(progs[i], 4);
		bpf_program__set_log_buf(progs[i], vlog[i], sizeof(vlog[i]));
	}
	if (wire_check__load(skel)) {
		wire_check__destroy(skel);
		skel = NULL;
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	wire_check__destroy(skel);
	return 0;
}

#define NEED_ROOT()                                                            \
	do {                                                                   \
		if (!skel) {                                                   \
			print_message("wire_check: needs root\n");             \
			skip();                                                \
		}                                                              \
	} while (0)

/* eth + IPv4 or IPv6 + UDP (DNS, from port 53) or TCP, then the payload */
static size_t packet(__u8 *pkt, int v6, int udp, const __u8 *pl, size_t n)
{
	size_t l4 = udp ? sizeof(struct udphdr) : sizeof(struct tcphdr);
	struct ethhdr *eth = (struct ethhdr *)pkt;
	__u8 *p = pkt + sizeof(*eth);
	__u8 proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	size_t l3;

	memset(pkt, 0, sizeof(*eth) + 40 + l4);
	eth->h_proto = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)p;

		ip6->version = 6;
		ip6->payload_len = htons(l4 + n);
		ip6->nexthdr = proto;
		ip6->hop_limit = 64;
		ip6->saddr.s6_addr[15] = 1;
		ip6->daddr.s6_addr[15] = 1;
		l3 = sizeof(*ip6);
	} else {
		struct iphdr *ip = (struct iphdr *)p;

		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->tot_len = htons(sizeof(*ip) + l4 + n);
		ip->protocol = proto;
		ip->saddr = ip->daddr = htonl(INADDR_LOOPBACK);
		l3 = sizeof(*ip);
	}
	p += l3;
	if (udp) {
		struct udphdr *uh = (struct udphdr *)p;

		uh->source = htons(53);
		uh->dest = htons(40000);
		uh->len = htons(l4 + n);
	} else {
		struct tcphdr *th = (struct tcphdr *)p;

		th->source = htons(40000);
		th->dest = htons(443);
		th->doff = 5;
		th->ack = th->psh = 1;
	}
	memcpy(p + l4, pl, n);
	return sizeof(*eth) + l3 + l4 + n;
}

static int prog_fd(int kind)
{
	switch (kind) {
	case WK_DNS:
		return bpf_program__fd(skel->progs.wc_dns);
	case WK_TLS:
		return bpf_program__fd(skel->progs.wc_tls);
	case WK_HTTP:
		return bpf_program__fd(skel->progs.wc_http);
	case WK_SOCKS5:
		return bpf_program__fd(skel->progs.wc_socks5);
	default:
		return bpf_program__fd(skel->progs.wc_flow);
	}
}

/* One payload through one program; the result left in the res map. */
static void run(int fd, int v6, int udp, const __u8 *pl, size_t n,
		struct wc_res *res)
{
	static __u8 pkt[PAYLOAD_MAX + 128];
	__u32 key = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .repeat = 1);

	opts.data_size_in = packet(pkt, v6, udp, pl, n);
	if (bpf_prog_test_run_opts(fd, &opts))
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(errno));
	assert_int_equal(opts.retval, 1);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.res), &key,
					     res), 0);
}

static void first_diff(const char *what, const void *a, const void *b,
		       size_t n)
{
	const __u8 *x = a, *y = b;
	size_t i;

	for (i = 0; i < n && x[i] == y[i]; i++)
		;
	if (i < n)
		fail_msg("%s: kernel and userspace differ at byte %zu of %zu "
			 "(%02x vs %02x)", what, i, n, x[i], y[i]);
}

/* Kernel == userspace for one payload: kind's own program, and for flows
 * the dispatcher too. v6 alternates so both header paths are used. */
static void compare(const char *what, int kind, const __u8 *pl, size_t n,
		    int v6)
{
	static struct wire_buf b;
	struct wc_res res;
	struct wire_dns d;
	struct wire_flow f;
	int rc;

	if (n > PAYLOAD_MAX)
		n = PAYLOAD_MAX;
	wire_buf_set(&b, pl, n, 0);
	/* SOCKS4 has no program of its own: the dispatcher's full reading */
	rc = kind == WK_SOCKS4 ? wire_flow_read(&b, &f) :
				 wire_case_parse(kind, &b, &d, &f);
	wire_buf_set(&b, pl, n, 0);
	run(prog_fd(kind), v6, kind == WK_DNS, pl, n, &res);
	if (res.rc != rc)
		fail_msg("%s: kernel rc %d, userspace rc %d", what, res.rc, rc);
	if (kind == WK_DNS) {
		first_diff(what, &res.dns, &d, sizeof(d));
		return;
	}
	first_diff(what, &res.flow, &f, sizeof(f));
	rc = wire_flow_read(&b, &f);
	run(prog_fd(0), v6, 0, pl, n, &res);
	if (res.rc != rc)
		fail_msg("%s (wc_flow): kernel rc %d, userspace rc %d", what,
			 res.rc, rc);
	first_diff(what, &res.flow, &f, sizeof(f));
}

/* Loading was the verifier's yes; print what each parser cost it. */
static void test_verifier(void **state)
{
	struct bpf_program *prog;

	(void)state;
	NEED_ROOT();
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		size_t log_size;
		const char *log = bpf_program__log_buf(prog, &log_size);
		const char *stats = log ? strstr(log, "processed ") : NULL;

		assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(prog),
							&info, &len), 0);
		print_message("wire_check: %-10s %7u insns verified; %.*s\n",
			      bpf_program__name(prog), info.verified_insns,
			      stats ? (int)strcspn(stats, "\n") : 0,
			      stats ? stats : "");
		assert_true(info.verified_insns > 0);
		assert_true(info.verified_insns < 1000000);
	}
}

static void test_cases(void **state)
{
	static struct pkt p;
	size_t i;

	(void)state;
	NEED_ROOT();
	for (i = 0; i < WIRE_NCASES; i++) {
		wire_cases[i].build(&p);
		compare(wire_cases[i].name, wire_cases[i].kind, p.d, p.n, i & 1);
	}
}

/* Every prefix, from 1 byte (an empty payload never reaches a parser). */
static void test_sweeps(void **state)
{
	static struct pkt p;
	char what[128];
	size_t i, n;

	(void)state;
	NEED_ROOT();
	for (i = 0; i < WIRE_NSWEEPS; i++) {
		const struct wire_case *c = wire_case_find(wire_sweeps[i]);

		assert_non_null(c);
		c->build(&p);
		for (n = 1; n <= p.n && n <= PAYLOAD_MAX; n++) {
			snprintf(what, sizeof(what), "%s cut at %zu", c->name,
				 n);
			compare(what, c->kind, p.d, n, n & 1);
		}
	}
}

static void test_fixture(void **state)
{
	static struct pkt p;
	struct wc_res res;

	(void)state;
	NEED_ROOT();
	if (wire_fixture_load(&p))
		fail_msg("cannot read %s (run from the repository root)",
			 WIRE_FIXTURE);
	compare("openssl ClientHello", WK_TLS, p.d, p.n, 0);
	run(prog_fd(WK_TLS), 1, 0, p.d, p.n, &res);
	assert_int_equal(res.rc, WIRE_OK);
	assert_string_equal(res.flow.host.name, "api.openai.com");
}

/* Every file of DIR/corpus-<parser>, when WIRE_CHECK_CORPUS=DIR is set. */
static void test_corpus(void **state)
{
	static const struct {
		const char *dir;
		int kind;
	} sets[] = {
		{ "corpus-dns", WK_DNS },	{ "corpus-tls", WK_TLS },
		{ "corpus-http", WK_HTTP },	{ "corpus-socks5", WK_SOCKS5 },
		{ "corpus-flow", WK_HTTP },
	};
	const char *top = getenv("WIRE_CHECK_CORPUS");
	static struct pkt p;
	char path[4096];
	size_t i, files = 0;

	(void)state;
	NEED_ROOT();
	if (!top) {
		print_message("wire_check: corpus replay off "
			      "(WIRE_CHECK_CORPUS=build/fuzz after make fuzz)\n");
		skip();
	}
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "%s/%s", top, sets[i].dir);
		d = opendir(path);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", top,
				 sets[i].dir, e->d_name);
			f = fopen(path, "rb");
			if (!f)
				continue;
			p.n = fread(p.d, 1, PAYLOAD_MAX, f);
			fclose(f);
			if (p.n) {
				compare(path, sets[i].kind, p.d, p.n, files & 1);
				files++;
			}
		}
		closedir(d);
	}
	print_message("wire_check: %zu corpus files compared\n", files);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_sweeps),
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
