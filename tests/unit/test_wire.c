// SPDX-License-Identifier: MIT
/*
 * bpf/wire.h, built as userspace C: every case in wire_cases.h against its
 * expectation, every prefix of the sweep cases, the name keys the loader
 * will compute, and a ClientHello that a real openssl s_client sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "wire_cases.h"

/* "a b" against the parsed addresses, in order */
static void check_addrs(const struct wire_dns *d, const char *want)
{
	char buf[512] = "", one[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < d->naddr; i++) {
		int af = d->addr[i].family == WIRE_AF_INET ? AF_INET : AF_INET6;

		assert_non_null(inet_ntop(af, d->addr[i].addr, one, sizeof(one)));
		if (i)
			strcat(buf, " ");
		strcat(buf, one);
	}
	assert_string_equal(buf, want);
}

/* Does wire_flow_parse() hand a payload starting with c to this kind? */
static int routed(int kind, __u8 c)
{
	return (kind == WK_TLS && c == 22) || (kind == WK_SOCKS5 && c == 5) ||
	       (kind == WK_SOCKS4 && c == 4) ||
	       (kind == WK_HTTP && c >= 'A' && c <= 'Z');
}

/* One case: the expected result; the same output whatever lies past len;
 * for flows, the dispatcher agrees with the protocol's own parser. */
static void test_case(void **state)
{
	const struct wire_case *c = *state;
	static struct wire_buf b;
	static struct pkt p;
	struct wire_dns d, d2;
	struct wire_flow f, f2;
	int rc;

	c->build(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	rc = wire_case_parse(c->kind, &b, &d, &f);
	assert_int_equal(rc, c->rc);

	wire_buf_set(&b, p.d, p.n, 0xff);
	assert_int_equal(wire_case_parse(c->kind, &b, &d2, &f2), rc);
	if (c->kind == WK_DNS)
		assert_memory_equal(&d, &d2, sizeof(d));
	else
		assert_memory_equal(&f, &f2, sizeof(f));

	if (c->kind != WK_DNS && routed(c->kind, p.n ? p.d[0] : 0)) {
		assert_int_equal(wire_flow_parse(&b, &f2), rc);
		assert_memory_equal(&f, &f2, sizeof(f));
	} else if (c->kind != WK_DNS) {
		assert_int_equal(wire_flow_parse(&b, &f2), WIRE_NOT_PROTO);
	}
	if (rc != WIRE_OK)
		return;
	if (c->kind == WK_DNS) {
		if (c->host)
			assert_string_equal(d.qname.name, c->host);
		check_addrs(&d, c->addrs);
		return;
	}
	if (c->host)
		assert_string_equal(f.host.name, c->host);
	assert_int_equal(f.port, c->port);
	assert_int_equal(f.proto, c->proto);
	if (c->addrs) {
		char one[INET6_ADDRSTRLEN];
		int af = f.family == WIRE_AF_INET ? AF_INET : AF_INET6;

		assert_true(f.family == WIRE_AF_INET ||
			    f.family == WIRE_AF_INET6);
		assert_non_null(inet_ntop(af, f.addr, one, sizeof(one)));
		assert_string_equal(one, c->addrs);
	} else {
		assert_int_equal(f.family, 0);
	}
}

/* First prefix length at which a sweep case parses completely. */
static size_t complete_at(const struct wire_case *c, const struct pkt *p)
{
	const char *s = (const char *)p->d;
	const char *at;

	switch (c->kind) {
	case WK_TLS:
		/* the SNI's last byte */
		at = memmem(s, p->n, c->host, strlen(c->host));
		return at - s + strlen(c->host);
	case WK_HTTP:
		/* Host's line end, or for CONNECT the request line's */
		if (c->proto == WIRE_P_CONNECT)
			return (const char *)memchr(s, '\n', p->n) - s + 1;
		at = memmem(s, p->n, c->host, strlen(c->host));
		return at - s + strlen(c->host) + 1;
	default:
		return p->n;
	}
}

/* Every prefix of a sweep case: a cut datagram is TRUNCATED, a cut stream
 * INCOMPLETE until the answer is in, then the full result. */
static void test_sweep(void **state)
{
	const struct wire_case *c = *state;
	static struct wire_buf b;
	static struct pkt p;
	struct wire_dns d;
	struct wire_flow f;
	size_t n, done;

	c->build(&p);
	done = complete_at(c, &p);
	for (n = 0; n <= p.n; n++) {
		int want, rc;

		wire_buf_set(&b, p.d, n, 0xa5);
		rc = wire_case_parse(c->kind, &b, &d, &f);
		if (n >= done)
			want = WIRE_OK;
		else if (c->kind == WK_DNS)
			want = WIRE_TRUNCATED;
		else if (c->kind == WK_SOCKS5 && n == 3)
			want = WIRE_NOT_PROTO; /* "05 01 00" is a greeting */
		else
			want = WIRE_INCOMPLETE;
		if (rc != want)
			fail_msg("%s cut at %zu of %zu: rc %d, want %d", c->name,
				 n, p.n, rc, want);
	}
}

/* 64-bit FNV-1a written out again, independently of wire.h */
static __u64 fnv1a(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (__u8)*s) * 0x100000001b3ULL;
	return h;
}

static __u64 key_of(const char *s, int labels)
{
	struct wire_name n;

	assert_int_equal(wire_name_from_str(&n, s), 0);
	assert_int_equal(n.labels, labels);
	return n.sfx[labels - 1];
}

/* The loader's key for a rule equals the key every parser computes for
 * the same name, and is plain FNV-1a of the dotted lower-case name. */
static void test_name_keys(void **state)
{
	static struct wire_buf b;
	static struct pkt p;
	struct wire_name n;
	struct wire_dns d;
	struct wire_flow f;
	__u64 want = fnv1a("api.openai.com");

	(void)state;
	assert_int_equal(wire_name_from_str(&n, "api.openai.com"), 0);
	assert_true(n.hash == want);
	assert_int_equal(wire_name_from_str(&n, ".API.OpenAI.com."), 0);
	assert_true(n.hash == want);
	assert_string_equal(n.name, "api.openai.com");

	c_dns_upper(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_dns_parse(&b, &d), WIRE_OK);
	assert_true(d.qname.hash == want);
	assert_memory_equal(d.qname.sfx, n.sfx, sizeof(n.sfx));

	c_tls_upper(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_tls_sni(&b, &f), WIRE_OK);
	assert_true(f.host.hash == want);
	assert_memory_equal(f.host.sfx, n.sfx, sizeof(n.sfx));

	c_http_lower(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_http(&b, &f), WIRE_OK);
	assert_true(f.host.hash == want);

	c_socks_upper(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_socks5(&b, &f), WIRE_OK);
	assert_true(f.host.hash == want);
}

/* sfx[i] of a name is the key of its last i + 1 labels as a rule; zero
 * past its labels; distinct per suffix. */
static void test_suffix_keys(void **state)
{
	struct wire_name n;

	(void)state;
	assert_int_equal(wire_name_from_str(&n, "eu.api.openai.com"), 0);
	assert_int_equal(n.labels, 4);
	assert_true(n.sfx[0] == key_of("com", 1));
	assert_true(n.sfx[1] == key_of("openai.com", 2));
	assert_true(n.sfx[2] == key_of("api.openai.com", 3));
	assert_true(n.sfx[3] == key_of("eu.api.openai.com", 4));
	assert_true(n.sfx[1] != key_of("openai.net", 2));
	assert_true(n.sfx[1] != n.sfx[2]);

	assert_int_equal(wire_name_from_str(&n, "a.b.c.d.e.openai.com"), 0);
	assert_true(n.sfx[1] == key_of("openai.com", 2));
	assert_true(n.sfx[3] == key_of("d.e.openai.com", 4));

	assert_int_equal(wire_name_from_str(&n, "openai.com"), 0);
	assert_true(n.sfx[2] == 0 && n.sfx[3] == 0);
	/* label order matters */
	assert_true(key_of("com.openai", 2) != key_of("openai.com", 2));
}

/* 253 characters is the longest name; one more is refused everywhere. */
static void test_name_length(void **state)
{
	static struct wire_buf b;
	static struct pkt p;
	char name[300];
	struct wire_name n;
	struct wire_flow f;
	size_t at;
	int i;

	(void)state;
	for (i = 0; i < 253; i++)
		name[i] = i % 50 == 49 ? '.' : 'a';
	name[253] = 0;
	assert_int_equal(wire_name_from_str(&n, name), 0);
	assert_int_equal(n.len, 253);

	at = tls_begin(&p, 0x0301, 0);
	tls_sni(&p, name);
	tls_end(&p, at);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_tls_sni(&b, &f), WIRE_OK);
	assert_string_equal(f.host.name, name);

	strcat(name, "a");
	assert_int_equal(wire_name_from_str(&n, name), -1);
	at = tls_begin(&p, 0x0301, 0);
	tls_sni(&p, name);
	tls_end(&p, at);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_tls_sni(&b, &f), WIRE_MALFORMED);
}

/* TTLs, families, ids and counts that the table does not spell out. */
static void test_dns_fields(void **state)
{
	static struct wire_buf b;
	static struct pkt p;
	struct wire_dns d;

	(void)state;
	c_dns_a(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_dns_parse(&b, &d), WIRE_OK);
	assert_int_equal(d.id, 0x1234);
	assert_int_equal(d.qtype, 1);
	assert_int_equal(d.qclass, 1);
	assert_int_equal(d.ancount, 2);
	assert_int_equal(d.nanswers, 2);
	assert_int_equal(d.addr[0].ttl, 60);
	assert_int_equal(d.addr[1].ttl, 300);
	assert_int_equal(d.addr[0].family, WIRE_AF_INET);
	assert_int_equal(d.qname.labels, 3);

	c_dns_aaaa(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_dns_parse(&b, &d), WIRE_OK);
	assert_int_equal(d.addr[0].family, WIRE_AF_INET6);
	assert_int_equal(d.addr[0].ttl, 120);
	assert_int_equal(d.qtype, 28);

	/* the caps: 16 answers walked, or fewer when the steps run out */
	c_dns_17_cnames(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_dns_parse(&b, &d), WIRE_OK);
	assert_int_equal(d.nanswers, WIRE_DNS_ANSWERS);
	c_dns_steps(&p);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_dns_parse(&b, &d), WIRE_OK);
	assert_true(d.nanswers < d.ancount);
	assert_int_equal(d.naddr, 0);
}

/* A ClientHello that openssl s_client -servername api.openai.com sent. */
static void test_openssl_hello(void **state)
{
	static struct wire_buf b;
	static struct pkt p;
	struct wire_flow f;

	(void)state;
	if (wire_fixture_load(&p))
		fail_msg("cannot read %s (run from the repository root)",
			 WIRE_FIXTURE);
	assert_int_equal(p.d[0], 22);
	wire_buf_set(&b, p.d, p.n, 0);
	assert_int_equal(wire_tls_sni(&b, &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.openai.com");
	assert_int_equal(wire_flow_parse(&b, &f), WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_TLS);
}

/* the credential header of a cleartext request: each of the four, the
 * scheme word skipped, past other headers, mixed case; none, cut off */
static void test_http_key(void **state)
{
	static const struct {
		const char *req, *key;
		int rc, hdr;
	} cases[] = {
		{ "POST /v1/chat/completions HTTP/1.1\r\nHost: relay.example\r\n"
		  "Authorization: Bearer sk-abcdefghijklmnop\r\n\r\n",
		  "sk-abcdefghijklmnop", WIRE_OK, WIRE_KEY_AUTHORIZATION },
		{ "POST /v1/messages HTTP/1.1\r\nHost: h\r\nContent-Type: x\r\n"
		  "X-API-Key: sk-ant-api03-xyz\r\nanthropic-version: 1\r\n\r\n",
		  "sk-ant-api03-xyz", WIRE_OK, WIRE_KEY_X_API_KEY },
		{ "GET / HTTP/1.1\r\napi-key:abc123def456\r\n\r\n",
		  "abc123def456", WIRE_OK, WIRE_KEY_API_KEY },
		{ "GET /v1beta HTTP/1.1\r\nx-goog-api-key: AIzaSyXYZ\r\n\r\n",
		  "AIzaSyXYZ", WIRE_OK, WIRE_KEY_X_GOOG_API_KEY },
		{ "GET / HTTP/1.1\r\nauthorization: tok3n\r\n\r\n",
		  "tok3n", WIRE_OK, WIRE_KEY_AUTHORIZATION },
		/* a header whose name only ends like one is not it */
		{ "GET / HTTP/1.1\r\nX-Authorization-Hint: 1\r\n"
		  "Proxy-Api-Key: zzz\r\n\r\n", NULL, WIRE_NO_HOST, 0 },
		{ "GET / HTTP/1.1\r\nHost: h\r\n\r\n", NULL, WIRE_NO_HOST, 0 },
		{ "GET / HTTP/1.1\r\nHost: h\r\nAuthoriz", NULL,
		  WIRE_INCOMPLETE, 0 },
	};
	static struct wire_buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire_key k = { .hdr = 0xff };
		__u32 off, len;
		__u8 hdr;
		int rc;

		wire_buf_set(&b, (const __u8 *)cases[i].req,
			     strlen(cases[i].req), 0);
		rc = wire_http_key(&b, &k);
		off = k.off;
		len = k.len;
		hdr = k.hdr;
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
		if (!cases[i].key)
			continue;
		assert_int_equal(hdr, cases[i].hdr);
		assert_int_equal(len, strlen(cases[i].key));
		assert_memory_equal(b.data + off, cases[i].key, len);
	}
}

static void test_empty(void **state)
{
	static struct wire_buf b;
	struct wire_dns d;
	struct wire_flow f;

	(void)state;
	wire_buf_set(&b, (const __u8 *)"", 0, 0x16);
	assert_int_equal(wire_dns_parse(&b, &d), WIRE_TRUNCATED);
	assert_int_equal(wire_flow_parse(&b, &f), WIRE_INCOMPLETE);
	assert_int_equal(wire_tls_sni(&b, &f), WIRE_INCOMPLETE);
	assert_int_equal(wire_http(&b, &f), WIRE_INCOMPLETE);
	assert_int_equal(wire_socks5(&b, &f), WIRE_INCOMPLETE);
	/* a len past the buffer is clamped, never trusted */
	b.len = 0xffffffff;
	assert_int_equal(wire_len(&b), WIRE_BUF);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_name_keys),
		cmocka_unit_test(test_suffix_keys),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_dns_fields),
		cmocka_unit_test(test_openssl_hello),
		cmocka_unit_test(test_http_key),
		cmocka_unit_test(test_empty),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	size_t n = 0, i;
	struct CMUnitTest *t;
	char (*names)[96];

	t = calloc(WIRE_NCASES + WIRE_NSWEEPS + nfixed, sizeof(*t));
	names = calloc(WIRE_NCASES + WIRE_NSWEEPS, sizeof(*names));
	if (!t || !names)
		return 1;
	for (i = 0; i < WIRE_NCASES; i++, n++) {
		t[n].name = wire_cases[i].name;
		t[n].test_func = test_case;
		t[n].initial_state = (void *)&wire_cases[i];
	}
	for (i = 0; i < WIRE_NSWEEPS; i++, n++) {
		snprintf(names[i], sizeof(names[i]), "every prefix: %s",
			 wire_sweeps[i]);
		t[n].name = names[i];
		t[n].test_func = test_sweep;
		t[n].initial_state = (void *)wire_case_find(wire_sweeps[i]);
		if (!t[n].initial_state)
			return 1;
	}
	for (i = 0; i < nfixed; i++, n++)
		t[n] = fixed[i];
	return _cmocka_run_group_tests("wire", t, n, NULL, NULL);
}
