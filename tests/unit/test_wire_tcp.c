// SPDX-License-Identifier: MIT
/*
 * DNS over TCP (bpf/wire.h wire_dns_tcp_*): the length prefix of RFC 1035
 * 4.2.2 and the reassembly of an answer split across segments, through
 * wire_dns_tcp_feed(), the userspace twin of dns_ingress's TCP path.
 * Answers are the crafted ones of wire_cases.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../unit/wire_cases.h"

/* what the feed handed over: each message's parse result and name */
struct got {
	int n;
	int rc[32];
	char name[32][WIRE_NAME_MAX];
	int naddr[32];
};

static void collect(int rc, const struct wire_dns *d, void *arg)
{
	struct got *g = arg;

	if (g->n >= 32)
		fail_msg("more than 32 messages");
	g->rc[g->n] = rc;
	g->naddr[g->n] = rc == WIRE_OK ? d->naddr : -1;
	snprintf(g->name[g->n], WIRE_NAME_MAX, "%s",
		 rc == WIRE_OK ? d->qname.name : "");
	g->n++;
}

/* the stream: each case's message after its 2-byte length */
static void frame(struct pkt *s, const char *case_name)
{
	const struct wire_case *c = wire_case_find(case_name);
	static struct pkt m;

	assert_non_null(c);
	m.n = 0;
	c->build(&m);
	put16(s, m.n);
	putb(s, m.d, m.n);
}

static int feed(struct wire_dns_tcp *st, __u32 seq, const struct pkt *s,
		size_t from, size_t to, struct got *g, int *big)
{
	static struct wire_dns out;

	return wire_dns_tcp_feed(st, seq + from, s->d + from, to - from, &out,
				 big, collect, g);
}

/* one segment, one answer: parsed where it lies */
static void test_one_segment(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	frame(&s, "dns A");
	assert_int_equal(feed(&st, 1000, &s, 0, s.n, &g, &big), 1);
	assert_int_equal(g.rc[0], WIRE_OK);
	assert_string_equal(g.name[0], "api.openai.com");
	assert_int_equal(g.naddr[0], 2);
	assert_int_equal(st.next_seq, 1000 + s.n);
	assert_int_equal(big, 0);
}

/* glibc asks A and AAAA on one connection: two answers, one segment */
static void test_two_in_one(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	frame(&s, "dns A");
	frame(&s, "dns AAAA");
	assert_int_equal(feed(&st, 7, &s, 0, s.n, &g, &big), 2);
	assert_string_equal(g.name[0], "api.openai.com");
	assert_string_equal(g.name[1], "api.anthropic.com");
	assert_int_equal(g.naddr[1], 1);
}

/* every cut of two answers into two and three segments (the prefix split
 * between its bytes too) gives the same two answers, in order */
static void test_every_split(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	int big = 0;

	(void)state;
	frame(&s, "dns CNAME then A");
	frame(&s, "dns AAAA");
	for (size_t a = 1; a < s.n; a++) {
		for (size_t b = a; b <= s.n; b += 7) {
			struct got g = {};
			__u32 seq = 0xfffffff0u; /* and across the wrap */

			memset(&st, 0, sizeof(st));
			assert_true(feed(&st, seq, &s, 0, a, &g, &big) >= 0);
			assert_true(feed(&st, seq, &s, a, b, &g, &big) >= 0);
			if (b < s.n)
				assert_true(feed(&st, seq, &s, b, s.n, &g, &big) >= 0);
			if (g.n != 2)
				fail_msg("cut at %zu, %zu: %d answers", a, b, g.n);
			assert_int_equal(g.rc[0], WIRE_OK);
			assert_int_equal(g.rc[1], WIRE_OK);
			assert_string_equal(g.name[0], "api.openai.com");
			assert_string_equal(g.name[1], "api.anthropic.com");
		}
	}
	assert_int_equal(big, 0);
}

/* a segment sent again, whole or overlapping, adds nothing twice */
static void test_retransmit(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;
	size_t k;

	(void)state;
	memset(&st, 0, sizeof(st));
	frame(&s, "dns A");
	k = s.n / 2;
	assert_int_equal(feed(&st, 50, &s, 0, k, &g, &big), 0);
	assert_int_equal(feed(&st, 50, &s, 0, k, &g, &big), 0);
	assert_int_equal(feed(&st, 50, &s, k - 5, s.n, &g, &big), 1);
	assert_int_equal(feed(&st, 50, &s, 0, s.n, &g, &big), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.name[0], "api.openai.com");
}

/* a segment past the next byte expected (one missed, or out of order):
 * the socket is given up, once, and nothing after it is read */
static void test_gap(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;
	size_t k;

	(void)state;
	memset(&st, 0, sizeof(st));
	frame(&s, "dns A");
	frame(&s, "dns AAAA");
	k = 10;
	assert_int_equal(feed(&st, 0, &s, 0, k, &g, &big), 0);
	assert_int_equal(feed(&st, 0, &s, k + 1, s.n, &g, &big), -1);
	assert_int_equal(st.state, WIRE_TCP_GONE);
	assert_int_equal(feed(&st, 0, &s, k, s.n, &g, &big), 0);
	assert_int_equal(g.n, 0);
}

/* an answer longer than WIRE_DNS_TCP_MAX is passed over, counted, and
 * the one after it is read */
static void test_too_big(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	put16(&s, WIRE_DNS_TCP_MAX + 1);
	putn(&s, 0xab, WIRE_DNS_TCP_MAX + 1);
	frame(&s, "dns AAAA");
	assert_int_equal(feed(&st, 9, &s, 0, 1000, &g, &big), 0);
	assert_int_equal(big, 1);
	assert_int_equal(feed(&st, 9, &s, 1000, s.n, &g, &big), 1);
	assert_string_equal(g.name[0], "api.anthropic.com");
	assert_int_equal(big, 1);
	/* exactly the most kept: read */
	memset(&st, 0, sizeof(st));
	s.n = 0;
	frame(&s, "dns A");
	patch16(&s, 0, WIRE_DNS_TCP_MAX);
	putn(&s, 0, WIRE_DNS_TCP_MAX - (s.n - 2));
	g.n = 0;
	assert_int_equal(feed(&st, 9, &s, 0, 100, &g, &big), 0);
	assert_int_equal(feed(&st, 9, &s, 100, s.n, &g, &big), 1);
	assert_int_equal(g.rc[0], WIRE_OK);
	assert_int_equal(big, 1);
}

/* more answers in one segment than the steps a segment may take: those
 * within them are read, the socket is then given up (dns_tcp_lost) */
static void test_step_cap(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < WIRE_DNS_TCP_STEPS + 1; i++)
		frame(&s, "dns A");
	assert_int_equal(feed(&st, 0, &s, 0, s.n, &g, &big), -1);
	assert_int_equal(g.n, WIRE_DNS_TCP_STEPS);
	assert_int_equal(st.state, WIRE_TCP_GONE);
}

/* a length prefix past the bytes a segment load keeps (WIRE_BUF) cannot
 * be read: given up, not guessed */
static void test_prefix_past_buf(void **state)
{
	static struct wire_dns_tcp st;
	static struct pkt s;
	struct got g = {};
	int big = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	s.n = 0;
	put16(&s, WIRE_BUF + 100);
	putn(&s, 0, WIRE_BUF + 100);
	frame(&s, "dns A");
	assert_int_equal(feed(&st, 0, &s, 0, s.n, &g, &big), -1);
	assert_int_equal(big, 1);
	assert_int_equal(g.n, 0);
}

/* a zero length frames nothing; a refused answer is handed over with
 * its result (dns_unparsed), and the stream goes on */
static void test_empty_and_bad(void **state)
{
	static struct wire_dns_tcp st;
	struct pkt s = {};
	struct got g = {};
	int big = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	put16(&s, 0);
	frame(&s, "dns cut rdata");
	frame(&s, "dns A");
	assert_int_equal(feed(&st, 3, &s, 0, s.n, &g, &big), 2);
	assert_int_equal(g.rc[0], WIRE_TRUNCATED);
	assert_int_equal(g.rc[1], WIRE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_segment),
		cmocka_unit_test(test_two_in_one),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_step_cap),
		cmocka_unit_test(test_prefix_past_buf),
		cmocka_unit_test(test_empty_and_bad),
	};

	return cmocka_run_group_tests_name("wire_tcp", tests, NULL, NULL);
}
