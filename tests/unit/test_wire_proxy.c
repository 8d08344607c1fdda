// SPDX-License-Identifier: MIT
/*
 * The egress reading past one simple first payload (bpf/wire.h): SOCKS4
 * and SOCKS4a requests, a forward proxy's absolute-URI request, proxy
 * targets written as address literals (checked against inet_pton), and a
 * ClientHello split over TLS records, joined before it is read. Every
 * case goes through wire_flow_read, the sequence the egress program runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "wire_cases.h"

static struct wire_buf b;

static int read_str(const char *s, size_t n, struct wire_flow *f)
{
	wire_buf_set(&b, (const __u8 *)s, n, 0xa5);
	return wire_flow_read(&b, f);
}

#define READ(lit, f) read_str(lit, sizeof(lit) - 1, f)

/* the target address as inet_pton reads the text */
static void assert_target(const struct wire_flow *f, const char *text)
{
	__u8 want[16] = { 0 };

	if (inet_pton(AF_INET, text, want) == 1) {
		assert_int_equal(f->family, WIRE_AF_INET);
		assert_memory_equal(f->addr, want, 4);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, want), 1);
		assert_int_equal(f->family, WIRE_AF_INET6);
		assert_memory_equal(f->addr, want, 16);
	}
}

static void test_socks4(void **state)
{
	struct wire_flow f;

	(void)state;
	/* SOCKS4: 1.2.3.4:443, userid "bob" */
	assert_int_equal(READ("\x04\x01\x01\xbb\x01\x02\x03\x04" "bob\0", &f),
			 WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_SOCKS4);
	assert_int_equal(f.port, 443);
	assert_target(&f, "1.2.3.4");
	assert_int_equal(f.host.len, 0);
	/* SOCKS4a: 0.0.0.1 and the name after the (empty) userid */
	assert_int_equal(READ("\x04\x01\x01\xbb\x00\x00\x00\x01" "\0"
			      "API.OpenAI.com\0", &f), WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_SOCKS4);
	assert_string_equal(f.host.name, "api.openai.com");
	assert_int_equal(f.family, 0);
	/* SOCKS4a whose name is a literal: judged as the address */
	assert_int_equal(READ("\x04\x01\x01\xbb\x00\x00\x00\x01" "u\0"
			      "10.9.8.7\0", &f), WIRE_OK);
	assert_target(&f, "10.9.8.7");
	/* cut: in the userid, in the name */
	assert_int_equal(READ("\x04\x01\x01\xbb\x01\x02\x03\x04" "bo", &f),
			 WIRE_INCOMPLETE);
	assert_int_equal(READ("\x04\x01\x01\xbb\x00\x00\x00\x01" "\0api.op",
			      &f), WIRE_INCOMPLETE);
	assert_int_equal(READ("\x04\x01\x01", &f), WIRE_INCOMPLETE);
	/* BIND is no way out; port 0 is malformed */
	assert_int_equal(READ("\x04\x02\x01\xbb\x01\x02\x03\x04\0", &f),
			 WIRE_NOT_PROTO);
	assert_int_equal(READ("\x04\x01\x00\x00\x01\x02\x03\x04\0", &f),
			 WIRE_MALFORMED);
}

static void test_socks5_literal(void **state)
{
	struct wire_flow f;

	(void)state;
	/* a "domain" target that is an address: judged as the address */
	assert_int_equal(READ("\x05\x01\x00\x03\x07" "1.2.3.4" "\x01\xbb", &f),
			 WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_SOCKS5);
	assert_target(&f, "1.2.3.4");
	assert_int_equal(READ("\x05\x01\x00\x03\x0b" "2001:db8::1" "\x01\xbb",
			      &f), WIRE_OK);
	assert_target(&f, "2001:db8::1");
}

static void test_connect_literal(void **state)
{
	static const char *v6[] = { "2001:db8::1", "::1", "2001:db8:0:0:1:0:0:1",
				    "fe80::", "1:2:3:4:5:6:7:8", "::",
				    "64:ff9b::192.0.2.33" };
	char req[160];
	struct wire_flow f;
	size_t i;
	int n;

	(void)state;
	assert_int_equal(READ("CONNECT 1.2.3.4:443 HTTP/1.1\r\n\r\n", &f),
			 WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_CONNECT);
	assert_int_equal(f.port, 443);
	assert_target(&f, "1.2.3.4");
	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		n = snprintf(req, sizeof(req),
			     "CONNECT [%s]:8443 HTTP/1.1\r\n\r\n", v6[i]);
		assert_int_equal(read_str(req, (size_t)n, &f), WIRE_OK);
		assert_int_equal(f.port, 8443);
		assert_target(&f, v6[i]);
	}
	/* IPv4-mapped: the IPv4 address */
	assert_int_equal(READ("CONNECT [::ffff:1.2.3.4]:443 HTTP/1.1\r\n\r\n",
			      &f), WIRE_OK);
	assert_target(&f, "1.2.3.4");
	/* a name stays a name */
	assert_int_equal(READ("CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n",
			      &f), WIRE_OK);
	assert_int_equal(f.family, 0);
	assert_string_equal(f.host.name, "api.openai.com");
	/* numbers a resolver's inet_aton takes but no DNS name is: unknown,
	 * never a name that matches nothing */
	assert_int_equal(READ("CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", &f),
			 WIRE_MALFORMED);
	assert_int_equal(READ("CONNECT 0x7f.1:443 HTTP/1.1\r\n\r\n", &f),
			 WIRE_MALFORMED);
	assert_int_equal(READ("CONNECT 010.0.0.1:443 HTTP/1.1\r\n\r\n", &f),
			 WIRE_MALFORMED);
	assert_int_equal(READ("CONNECT 1.2.3.4.5:443 HTTP/1.1\r\n\r\n", &f),
			 WIRE_MALFORMED);
	/* control: a name with a numeric label inside is a name */
	assert_int_equal(READ("CONNECT 1.2.example.com:443 HTTP/1.1\r\n\r\n",
			      &f), WIRE_OK);
	assert_int_equal(f.family, 0);
}

static void test_absolute_uri(void **state)
{
	struct wire_flow f;

	(void)state;
	assert_int_equal(READ("GET http://api.openai.com/v1/models HTTP/1.1\r\n"
			      "Host: example.com\r\n\r\n", &f), WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_FORWARD);
	assert_string_equal(f.host.name, "api.openai.com");
	assert_int_equal(f.port, 80);
	/* no Host header at all: the URI decides */
	assert_int_equal(READ("POST HTTPS://API.DeepSeek.com:8443?x=1 HTTP/1.1"
			      "\r\n\r\n", &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.deepseek.com");
	assert_int_equal(f.port, 8443);
	/* userinfo is not the host */
	assert_int_equal(READ("GET http://user:pw@api.openai.com/ HTTP/1.1\r\n"
			      "\r\n", &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.openai.com");
	assert_int_equal(f.port, 80);
	assert_int_equal(READ("GET http://api.openai.com#frag HTTP/1.0\r\n\r\n",
			      &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.openai.com");
	assert_int_equal(READ("GET https://[2001:db8::5]:444/ HTTP/1.1\r\n\r\n",
			      &f), WIRE_OK);
	assert_int_equal(f.port, 444);
	assert_target(&f, "2001:db8::5");
	assert_int_equal(READ("GET http://9.9.9.9/ HTTP/1.1\r\n\r\n", &f),
			 WIRE_OK);
	assert_target(&f, "9.9.9.9");
	/* bad ports */
	assert_int_equal(READ("GET http://h:99999/ HTTP/1.1\r\n\r\n", &f),
			 WIRE_MALFORMED);
	assert_int_equal(READ("GET http://h:/ HTTP/1.1\r\n\r\n", &f),
			 WIRE_MALFORMED);
	/* control: an origin-form request still reads Host */
	assert_int_equal(READ("GET /http://x HTTP/1.1\r\nHost: h.example\r\n"
			      "\r\n", &f), WIRE_OK);
	assert_int_equal(f.proto, WIRE_P_HTTP);
	assert_string_equal(f.host.name, "h.example");
}

/* p's ClientHello (one record) rewritten as records of at most `each`
 * bytes of handshake; with `alert`, an alert record after the first */
static void split_records(const struct pkt *p, struct pkt *out, size_t each,
			  int alert)
{
	size_t off = 5, n;

	out->n = 0;
	while (off < p->n) {
		n = p->n - off < each ? p->n - off : each;
		put8(out, 22);
		put16(out, 0x0301);
		put16(out, n);
		putb(out, p->d + off, n);
		off += n;
		if (alert) {
			putb(out, "\x15\x03\x03\x00\x02\x01\x00", 7);
			alert = 0;
		}
	}
}

static void test_tls_records(void **state)
{
	static struct pkt p, q;
	struct wire_flow f;

	(void)state;
	c_tls12(&p);
	/* two, three and four records: joined, the name read */
	split_records(&p, &q, p.n / 2 + 1, 0);
	wire_buf_set(&b, q.d, q.n, 0xa5);
	assert_int_equal(wire_tls_sni(&b, &f), WIRE_INCOMPLETE);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.deepseek.com");
	split_records(&p, &q, p.n / 3 + 1, 0);
	wire_buf_set(&b, q.d, q.n, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.deepseek.com");
	split_records(&p, &q, p.n / 4 + 1, 0);
	wire_buf_set(&b, q.d, q.n, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_OK);
	/* one byte of handshake per record: more records than joined */
	split_records(&p, &q, 1, 0);
	wire_buf_set(&b, q.d, q.n, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_LIMIT);
	/* an alert between the fragments */
	split_records(&p, &q, p.n / 2 + 1, 1);
	wire_buf_set(&b, q.d, q.n, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_MALFORMED);
	/* the second record cut short before the name: waits for more */
	c_tls13_sni_last(&p);
	split_records(&p, &q, p.n / 2 + 1, 0);
	wire_buf_set(&b, q.d, q.n - 10, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_INCOMPLETE);
	/* control: one record is read as it was */
	c_tls12(&p);
	wire_buf_set(&b, p.d, p.n, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.deepseek.com");
	/* a post-quantum hello (over 1,300 bytes) in two records */
	c_tls13(&p);
	split_records(&p, &q, 700, 0);
	wire_buf_set(&b, q.d, q.n, 0xa5);
	assert_int_equal(wire_flow_read(&b, &f), WIRE_OK);
	assert_string_equal(f.host.name, "api.openai.com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socks4),
		cmocka_unit_test(test_socks5_literal),
		cmocka_unit_test(test_connect_literal),
		cmocka_unit_test(test_absolute_uri),
		cmocka_unit_test(test_tls_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
