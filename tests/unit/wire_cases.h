/* SPDX-License-Identifier: MIT */
/*
 * Payloads for the bpf/wire.h parsers, built by hand, with what the parser
 * must make of each. Shared by tests/unit/test_wire.c (checks the
 * expectations) and tests/bpf/wire_check.c (runs the same bytes through
 * the BPF build and compares its output with the userspace build's).
 */
#ifndef WIRE_CASES_H
#define WIRE_CASES_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/wire.h"

#define PKT_MAX 8192

struct pkt {
	__u8 d[PKT_MAX];
	size_t n;
};

enum wire_kind { WK_DNS = 1, WK_TLS = 2, WK_HTTP = 3, WK_SOCKS5 = 4,
		 WK_SOCKS4 = 5 };

struct wire_case {
	const char *name;
	int kind;
	void (*build)(struct pkt *p);
	int rc;            /* enum wire_rc */
	const char *host;  /* on WIRE_OK: qname or host; NULL: not checked */
	__u16 port;
	__u8 proto;        /* flows, on WIRE_OK: enum wire_proto */
	const char *addrs; /* DNS: the addresses in order; SOCKS5: the target */
};

static inline void put8(struct pkt *p, unsigned v)
{
	if (p->n >= PKT_MAX)
		abort();
	p->d[p->n++] = (__u8)v;
}

static inline void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static inline void put32(struct pkt *p, unsigned v)
{
	put16(p, v >> 16);
	put16(p, v);
}

static inline void putb(struct pkt *p, const void *s, size_t n)
{
	const __u8 *b = s;

	while (n--)
		put8(p, *b++);
}

static inline void puts_(struct pkt *p, const char *s)
{
	putb(p, s, strlen(s));
}

static inline void putn(struct pkt *p, unsigned v, size_t n)
{
	while (n--)
		put8(p, v);
}

static inline void patch16(struct pkt *p, size_t at, size_t v)
{
	p->d[at] = (__u8)(v >> 8);
	p->d[at + 1] = (__u8)v;
}

static inline void patch24(struct pkt *p, size_t at, size_t v)
{
	p->d[at] = (__u8)(v >> 16);
	patch16(p, at + 1, v);
}

/* "api.openai.com" as wire labels, root included */
static inline void put_dname(struct pkt *p, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");

		put8(p, l);
		putb(p, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	put8(p, 0);
}

/* ---- DNS ---------------------------------------------------------------- */

#define DNS_RESP 0x8180 /* QR, RD, RA, NOERROR */
#define PTR_Q "\xc0\x0c" /* pointer to the question name */

static inline void dns_hdr(struct pkt *p, unsigned flags, unsigned qd,
			   unsigned an)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

static inline void dns_q(struct pkt *p, const char *name, unsigned type,
			 unsigned class)
{
	put_dname(p, name);
	put16(p, type);
	put16(p, class);
}

static inline void dns_rr(struct pkt *p, const void *owner, size_t olen,
			  unsigned type, unsigned class, unsigned ttl,
			  const void *rd, size_t rdlen)
{
	putb(p, owner, olen);
	put16(p, type);
	put16(p, class);
	put32(p, ttl);
	put16(p, rdlen);
	putb(p, rd, rdlen);
}

static inline void rr_a(struct pkt *p, const void *owner, size_t olen,
			const char *ip, unsigned ttl)
{
	__u8 a[16];

	if (strchr(ip, ':')) {
		inet_pton(AF_INET6, ip, a);
		dns_rr(p, owner, olen, 28, 1, ttl, a, 16);
	} else {
		inet_pton(AF_INET, ip, a);
		dns_rr(p, owner, olen, 1, 1, ttl, a, 4);
	}
}

static inline void c_dns_a(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 2);
	dns_q(p, "api.openai.com", 1, 1);
	rr_a(p, PTR_Q, 2, "104.18.33.45", 60);
	rr_a(p, PTR_Q, 2, "172.64.154.211", 300);
}

static inline void c_dns_aaaa(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.anthropic.com", 28, 1);
	rr_a(p, PTR_Q, 2, "2607:6bc0::10", 120);
}

/* CNAME into a CDN, then the A records owned by the CNAME's target */
static inline void c_dns_cname_a(struct pkt *p)
{
	size_t target;

	dns_hdr(p, DNS_RESP, 1, 3);
	dns_q(p, "api.openai.com", 1, 1);
	putb(p, PTR_Q, 2);
	put16(p, 5);
	put16(p, 1);
	put32(p, 30);
	put16(p, 0);
	target = p->n;
	put_dname(p, "api.openai.com.cdn.cloudflare.net");
	patch16(p, target - 2, p->n - target);
	put8(p, 0xc0);
	put8(p, target);
	put16(p, 1);
	put16(p, 1);
	put32(p, 60);
	put16(p, 4);
	putb(p, "\x68\x12\x21\x2d", 4);
	put8(p, 0xc0);
	put8(p, target);
	put16(p, 1);
	put16(p, 1);
	put32(p, 60);
	put16(p, 4);
	putb(p, "\xac\x40\x9a\xd3", 4);
}

static inline void c_dns_uncompressed(struct pkt *p)
{
	struct pkt o = { .n = 0 };

	put_dname(&o, "api.openai.com");
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	rr_a(p, o.d, o.n, "104.18.33.45", 60);
}

static inline void c_dns_zero(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 0);
	dns_q(p, "api.openai.com", 1, 1);
}

static inline void c_dns_qclass_ch(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 0);
	dns_q(p, "version.bind", 16, 3);
}

/* an A record of class CH is skipped, not collected */
static inline void c_dns_ans_class_ch(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	dns_rr(p, PTR_Q, 2, 1, 3, 60, "\x01\x02\x03\x04", 4);
}

static inline void c_dns_label64(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 0);
	put8(p, 64);
	putn(p, 'a', 64);
	put8(p, 0);
	put16(p, 1);
	put16(p, 1);
}

static inline void c_dns_ans_label64(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	put8(p, 64);
	putn(p, 'a', 64);
	put8(p, 0);
	put16(p, 1);
	put16(p, 1);
	put32(p, 60);
	put16(p, 4);
	put32(p, 0x01020304);
}

static inline void c_dns_qd2(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 2, 0);
	dns_q(p, "api.openai.com", 1, 1);
	dns_q(p, "api.anthropic.com", 1, 1);
}

static inline void c_dns_query(struct pkt *p)
{
	dns_hdr(p, 0x0100, 1, 0);
	dns_q(p, "api.openai.com", 1, 1);
}

static inline void c_dns_nxdomain(struct pkt *p)
{
	dns_hdr(p, 0x8183, 1, 0);
	dns_q(p, "nothing.openai.com", 1, 1);
}

static inline void c_dns_opcode(struct pkt *p)
{
	dns_hdr(p, 0x9180, 1, 0); /* opcode 2, STATUS */
	dns_q(p, "api.openai.com", 1, 1);
}

/* an owner name that points at itself: skipped, never followed */
static inline void c_dns_ptr_self(struct pkt *p)
{
	size_t at;

	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	at = p->n;
	put8(p, 0xc0);
	put8(p, at);
	put16(p, 1);
	put16(p, 1);
	put32(p, 60);
	put16(p, 4);
	putb(p, "\x09\x09\x09\x09", 4);
}

/* a label, then a pointer back to that label: a loop if followed */
static inline void c_dns_ptr_loop(struct pkt *p)
{
	size_t at;

	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	at = p->n;
	putb(p, "\x01x", 2);
	put8(p, 0xc0);
	put8(p, at);
	put16(p, 1);
	put16(p, 1);
	put32(p, 60);
	put16(p, 4);
	putb(p, "\x08\x08\x08\x08", 4);
}

static inline void c_dns_qname_long(struct pkt *p)
{
	int i;

	dns_hdr(p, DNS_RESP, 1, 0);
	for (i = 0; i < 5; i++) {
		put8(p, 63);
		putn(p, 'a' + i, 63);
	}
	put8(p, 0);
	put16(p, 1);
	put16(p, 1);
}

static inline void c_dns_ans_name_long(struct pkt *p)
{
	int i;

	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	for (i = 0; i < 5; i++) {
		put8(p, 63);
		putn(p, 'a' + i, 63);
	}
	put8(p, 0);
	put16(p, 1);
	put16(p, 1);
	put32(p, 60);
	put16(p, 4);
	put32(p, 0x01020304);
}

static inline void c_dns_rdlen5(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	dns_rr(p, PTR_Q, 2, 1, 1, 60, "\x01\x02\x03\x04\x05", 5);
}

static inline void c_dns_many(struct pkt *p)
{
	char ip[32];
	int i;

	dns_hdr(p, DNS_RESP, 1, 12);
	dns_q(p, "api.openai.com", 1, 1);
	for (i = 0; i < 12; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		rr_a(p, PTR_Q, 2, ip, 60);
	}
}

/* 17 CNAMEs before the A: the walk stops after 16 answers */
static inline void c_dns_17_cnames(struct pkt *p)
{
	int i;

	dns_hdr(p, DNS_RESP, 1, 18);
	dns_q(p, "api.openai.com", 1, 1);
	for (i = 0; i < 17; i++)
		dns_rr(p, PTR_Q, 2, 5, 1, 60, PTR_Q, 2);
	rr_a(p, PTR_Q, 2, "1.2.3.4", 60);
}

/* long uncompressed owner names use up WIRE_DNS_STEPS before the A */
static inline void c_dns_steps(struct pkt *p)
{
	struct pkt o = { .n = 0 };
	int i;

	put_dname(&o, "a.b.c.d.e.f.g.h.i.j.k.l.example.com");
	dns_hdr(p, DNS_RESP, 1, 12);
	dns_q(p, "api.openai.com", 1, 1);
	for (i = 0; i < 11; i++)
		dns_rr(p, o.d, o.n, 16, 1, 60, "\x01x", 2);
	rr_a(p, PTR_Q, 2, "1.2.3.4", 60);
}

static inline void c_dns_upper(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 1);
	dns_q(p, "API.OpenAI.COM", 1, 1);
	rr_a(p, PTR_Q, 2, "104.18.33.45", 60);
}

static inline void c_dns_cut_rdata(struct pkt *p)
{
	c_dns_a(p);
	p->n -= 2;
}

static inline void c_dns_short(struct pkt *p)
{
	p->n = 0;
	putb(p, "\x12\x34\x81\x80\x00", 5);
}

static inline void c_dns_tc(struct pkt *p)
{
	dns_hdr(p, DNS_RESP | 0x0200, 1, 1);
	dns_q(p, "api.openai.com", 1, 1);
	rr_a(p, PTR_Q, 2, "104.18.33.45", 60);
}

static inline void c_dns_q_pointer(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 0);
	putb(p, PTR_Q, 2);
	put16(p, 1);
	put16(p, 1);
}

static inline void c_dns_root(struct pkt *p)
{
	dns_hdr(p, DNS_RESP, 1, 0);
	dns_q(p, "", 2, 1);
}

/* ---- TLS ---------------------------------------------------------------- */

static const __u8 tls_suites[] = {
	0x0a, 0x0a, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f,
	0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0x00, 0x9c, 0x00, 0x9d,
};

/* Record, handshake header, hello up to the extensions; returns where the
 * extensions' length goes (tls_end() fills in every length). */
static inline size_t tls_begin(struct pkt *p, unsigned rec_ver, int sid_len)
{
	int i;

	p->n = 0;
	put8(p, 22);
	put16(p, rec_ver);
	put16(p, 0);
	put8(p, 1);
	put8(p, 0);
	put16(p, 0);
	put16(p, 0x0303);
	for (i = 0; i < 32; i++)
		put8(p, i * 7);
	put8(p, sid_len);
	for (i = 0; i < sid_len; i++)
		put8(p, 0xa0 + i);
	put16(p, sizeof(tls_suites));
	putb(p, tls_suites, sizeof(tls_suites));
	put8(p, 1);
	put8(p, 0);
	put16(p, 0);
	return p->n - 2;
}

static inline void tls_ext(struct pkt *p, unsigned type, const void *d,
			   size_t n)
{
	put16(p, type);
	put16(p, n);
	putb(p, d, n);
}

static inline void tls_ext_fill(struct pkt *p, unsigned type, unsigned v,
				size_t n)
{
	put16(p, type);
	put16(p, n);
	putn(p, v, n);
}

static inline void tls_sni(struct pkt *p, const char *host)
{
	size_t n = strlen(host);

	put16(p, 0);
	put16(p, n + 5);
	put16(p, n + 3);
	put8(p, 0);
	put16(p, n);
	puts_(p, host);
}

static inline void tls_end(struct pkt *p, size_t ext_at)
{
	patch16(p, ext_at, p->n - ext_at - 2);
	patch24(p, 6, p->n - 9);
	patch16(p, 3, p->n - 5);
}

/* the usual TLS 1.3 extensions around the SNI, Chrome's order of old */
static inline void tls13_exts(struct pkt *p, const char *sni, int sni_last)
{
	tls_ext(p, 0x0a0a, "", 0);
	if (!sni_last)
		tls_sni(p, sni);
	tls_ext(p, 23, "", 0);
	tls_ext(p, 0xff01, "\0", 1);
	tls_ext(p, 10, "\x00\x08\x0a\x0a\x00\x1d\x00\x17\x00\x18", 10);
	tls_ext(p, 11, "\x01\x00", 2);
	tls_ext(p, 35, "", 0);
	tls_ext(p, 16, "\x00\x0c\x02h2\x08http/1.1", 14);
	tls_ext(p, 5, "\x01\x00\x00\x00\x00", 5);
	tls_ext(p, 13, "\x00\x08\x04\x03\x08\x04\x04\x01\x05\x03", 10);
	tls_ext(p, 18, "", 0);
	/* key_share with a post-quantum sized share */
	put16(p, 51);
	put16(p, 2 + 4 + 1216 + 4 + 32);
	put16(p, 4 + 1216 + 4 + 32);
	put16(p, 0x11ec);
	put16(p, 1216);
	putn(p, 0x5a, 1216);
	put16(p, 0x001d);
	put16(p, 32);
	putn(p, 0x33, 32);
	tls_ext(p, 45, "\x01\x01", 2);
	tls_ext(p, 43, "\x06\x1a\x1a\x03\x04\x03\x03", 7);
	tls_ext(p, 27, "\x02\x00\x02", 3);
	if (sni_last)
		tls_sni(p, sni);
	tls_ext(p, 0x1a1a, "\0", 1);
}

static inline void c_tls13(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls13_exts(p, "api.openai.com", 0);
	tls_end(p, at);
}

static inline void c_tls13_sni_last(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls13_exts(p, "generativelanguage.googleapis.com", 1);
	tls_end(p, at);
}

static inline void c_tls12(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 0);

	tls_sni(p, "api.deepseek.com");
	tls_ext(p, 11, "\x03\x00\x01\x02", 4);
	tls_ext(p, 10, "\x00\x04\x00\x1d\x00\x17", 6);
	tls_ext(p, 35, "", 0);
	tls_ext(p, 13, "\x00\x04\x04\x01\x04\x03", 6);
	tls_end(p, at);
}

static inline void c_tls_no_sni(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_ext(p, 23, "", 0);
	tls_ext(p, 43, "\x02\x03\x04", 3);
	tls_end(p, at);
}

static inline void c_tls_no_ext(struct pkt *p)
{
	tls_begin(p, 0x0301, 0);
	p->n -= 2;
	patch24(p, 6, p->n - 9);
	patch16(p, 3, p->n - 5);
}

static inline void c_tls_grease_first(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0303, 32);

	tls_ext(p, 0x0a0a, "", 0);
	tls_ext(p, 0x1a1a, "\0", 1);
	tls_ext(p, 0xfafa, "\0\0\0", 3);
	tls_sni(p, "api.openai.com");
	tls_end(p, at);
}

/* padding pushes the SNI past the captured bytes */
static inline void c_tls_huge_ext(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_ext_fill(p, 21, 0, 5000);
	tls_sni(p, "api.openai.com");
	tls_end(p, at);
}

static inline void c_tls_upper(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_sni(p, "API.OpenAI.COM");
	tls_end(p, at);
}

static inline void c_tls_trailing_dot(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_sni(p, "api.openai.com.");
	tls_end(p, at);
}

/* the first record holds only part of the hello: the SNI is in the next */
static inline void c_tls_split_record(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_ext_fill(p, 21, 0, 200);
	tls_sni(p, "api.openai.com");
	tls_end(p, at);
	patch16(p, 3, 150);
}

static inline void c_tls_server_hello(struct pkt *p)
{
	c_tls12(p);
	p->d[5] = 2;
}

static inline void c_tls_app_data(struct pkt *p)
{
	c_tls12(p);
	p->d[0] = 23;
}

static inline void c_tls_sni_space(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_sni(p, "api openai.com");
	tls_end(p, at);
}

static inline void c_tls_sni_empty(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_sni(p, "");
	tls_end(p, at);
}

static inline void c_tls_many_ext(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);
	int i;

	for (i = 0; i < 40; i++)
		tls_ext(p, 0x4000 + i, "", 0);
	tls_sni(p, "api.openai.com");
	tls_end(p, at);
}

static inline void c_tls_ext_overrun(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 32);

	tls_ext(p, 23, "", 0);
	tls_sni(p, "api.openai.com");
	tls_end(p, at);
	patch16(p, at + 2 + 2, 4000); /* the first extension's length */
}

static inline void c_tls_sid33(struct pkt *p)
{
	size_t at = tls_begin(p, 0x0301, 33);

	tls_sni(p, "api.openai.com");
	tls_end(p, at);
}

/* ---- HTTP --------------------------------------------------------------- */

#define HTTP_CASE(fn, text)                                                    \
	static inline void fn(struct pkt *p)                                   \
	{                                                                      \
		p->n = 0;                                                      \
		puts_(p, text);                                                \
	}

HTTP_CASE(c_http_get, "GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n"
		      "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
HTTP_CASE(c_http_port, "POST /v1/chat/completions HTTP/1.1\r\n"
		       "Host: api.openai.com:8443\r\nContent-Length: 2\r\n\r\n{}")
HTTP_CASE(c_http_lower, "GET / HTTP/1.1\r\nhost: API.OpenAI.com\r\n\r\n")
HTTP_CASE(c_http_later, "GET / HTTP/1.0\r\nUser-Agent: x\r\nAccept: */*\r\n"
			"HOST:\tapi.openai.com  \r\n\r\n")
HTTP_CASE(c_http_no_host, "GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n")
HTTP_CASE(c_http_xfh, "GET / HTTP/1.1\r\nX-Forwarded-Host: evil.example\r\n"
		      "Host: api.openai.com\r\n\r\n")
HTTP_CASE(c_http_not, "hello world\r\n\r\n")
HTTP_CASE(c_http_ssh, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
HTTP_CASE(c_http2, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
HTTP_CASE(c_http_connect, "CONNECT api.openai.com:443 HTTP/1.1\r\n"
			  "Host: api.openai.com:443\r\n\r\n")
HTTP_CASE(c_http_connect6, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n")
HTTP_CASE(c_http_connect_noport, "CONNECT api.openai.com HTTP/1.1\r\n\r\n")
HTTP_CASE(c_http_cut, "GET / HTTP/1.1\r\nUser-Agent: x\r\n")
HTTP_CASE(c_http_body_host, "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n"
			    "Host: evil.example\r\n")
HTTP_CASE(c_http_uri_userinfo, "GET https://u:p@API.openai.com:8443/v1?x HTTP/1.1"
			      "\r\n\r\n")
HTTP_CASE(c_http_uri_v6, "GET http://[2001:db8::1]/ HTTP/1.1\r\n\r\n")
HTTP_CASE(c_connect_literal, "CONNECT 104.18.33.45:443 HTTP/1.1\r\n\r\n")
HTTP_CASE(c_connect_octal, "CONNECT 0150.18.33.45:443 HTTP/1.1\r\n\r\n")
HTTP_CASE(c_http_absolute, "GET http://api.openai.com/v1 HTTP/1.1\r\n"
			   "Host: api.openai.com\r\n\r\n")
HTTP_CASE(c_http_bad_port, "GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n")
HTTP_CASE(c_http_empty_host, "GET / HTTP/1.1\r\nHost: \r\n\r\n")
HTTP_CASE(c_http_bare_lf, "GET / HTTP/1.1\nHost: api.openai.com\n\n")
HTTP_CASE(c_http_v6_host, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")

static inline void http_long(struct pkt *p, size_t plen)
{
	p->n = 0;
	puts_(p, "GET /");
	putn(p, 'a', plen);
	puts_(p, " HTTP/1.1\r\nHost: api.openai.com\r\n\r\n");
}

static inline void c_http_long_path(struct pkt *p)
{
	http_long(p, WIRE_HTTP_LINE - 100);
}

static inline void c_http_path_limit(struct pkt *p)
{
	http_long(p, WIRE_HTTP_LINE + 100);
}

/* ---- SOCKS5 ------------------------------------------------------------- */

static inline void socks_domain(struct pkt *p, const char *host)
{
	p->n = 0;
	putb(p, "\x05\x01\x00\x03", 4);
	put8(p, strlen(host));
	puts_(p, host);
	put16(p, 443);
}

static inline void c_socks_domain(struct pkt *p)
{
	socks_domain(p, "api.openai.com");
}

static inline void c_socks_upper(struct pkt *p)
{
	socks_domain(p, "API.OPENAI.COM");
}

static inline void c_socks_v4(struct pkt *p)
{
	p->n = 0;
	putb(p, "\x05\x01\x00\x01\x68\x12\x21\x2d\x01\xbb", 10);
}

static inline void c_socks4_v4(struct pkt *p)
{
	p->n = 0;
	putb(p, "\x04\x01\x01\xbb\x68\x12\x21\x2d" "relay\0", 14);
}

static inline void c_socks4a(struct pkt *p)
{
	p->n = 0;
	putb(p, "\x04\x01\x01\xbb\x00\x00\x00\x01" "\0API.OpenAI.com\0", 24);
}

/* a ClientHello (its name last) spread over k records */
static inline void tls_records(struct pkt *p, size_t k)
{
	static struct pkt one;
	size_t each, off;

	c_tls13_sni_last(&one);
	each = (one.n - 5 + k - 1) / k;
	p->n = 0;
	for (off = 5; off < one.n; off += each) {
		size_t n = one.n - off < each ? one.n - off : each;

		put8(p, 22);
		put16(p, 0x0301);
		put16(p, n);
		putb(p, one.d + off, n);
	}
}

static inline void c_tls_records2(struct pkt *p) { tls_records(p, 2); }
static inline void c_tls_records4(struct pkt *p) { tls_records(p, 4); }

static inline void c_socks_v6(struct pkt *p)
{
	__u8 a[16];

	inet_pton(AF_INET6, "2606:4700::6812:212d", a);
	p->n = 0;
	putb(p, "\x05\x01\x00\x04", 4);
	putb(p, a, 16);
	put16(p, 8443);
}

static inline void c_socks_cut(struct pkt *p)
{
	c_socks_domain(p);
	p->n -= 6;
}

static inline void c_socks_greeting(struct pkt *p)
{
	p->n = 0;
	putb(p, "\x05\x01\x00", 3);
}

static inline void c_socks_greeting2(struct pkt *p)
{
	p->n = 0;
	putb(p, "\x05\x02\x00\x02", 4);
}

static inline void c_socks_udp(struct pkt *p)
{
	c_socks_v4(p);
	p->d[1] = 3;
}

static inline void c_socks_bad_atyp(struct pkt *p)
{
	c_socks_v4(p);
	p->d[3] = 7;
}

/* ---- the table ---------------------------------------------------------- */

#define OK_DNS(n, f, host, addrs) { n, WK_DNS, f, WIRE_OK, host, 0, 0, addrs }
#define RC(n, k, f, rc) { n, k, f, rc, NULL, 0, 0, NULL }
#define OK_FLOW(n, k, f, host, port, proto, addr)                              \
	{ n, k, f, WIRE_OK, host, port, proto, addr }

static const struct wire_case wire_cases[] = {
	OK_DNS("dns A", c_dns_a, "api.openai.com", "104.18.33.45 172.64.154.211"),
	OK_DNS("dns AAAA", c_dns_aaaa, "api.anthropic.com", "2607:6bc0::10"),
	OK_DNS("dns CNAME then A", c_dns_cname_a, "api.openai.com",
	       "104.18.33.45 172.64.154.211"),
	OK_DNS("dns uncompressed owner", c_dns_uncompressed, "api.openai.com",
	       "104.18.33.45"),
	OK_DNS("dns no answers", c_dns_zero, "api.openai.com", ""),
	RC("dns qclass CH", WK_DNS, c_dns_qclass_ch, WIRE_NOT_DNS),
	OK_DNS("dns answer class CH", c_dns_ans_class_ch, "api.openai.com", ""),
	RC("dns label 64", WK_DNS, c_dns_label64, WIRE_MALFORMED),
	RC("dns answer label 64", WK_DNS, c_dns_ans_label64, WIRE_MALFORMED),
	RC("dns qdcount 2", WK_DNS, c_dns_qd2, WIRE_NOT_DNS),
	RC("dns query", WK_DNS, c_dns_query, WIRE_NOT_DNS),
	RC("dns NXDOMAIN", WK_DNS, c_dns_nxdomain, WIRE_NOT_DNS),
	RC("dns opcode STATUS", WK_DNS, c_dns_opcode, WIRE_NOT_DNS),
	OK_DNS("dns pointer to itself", c_dns_ptr_self, "api.openai.com",
	       "9.9.9.9"),
	OK_DNS("dns pointer loop", c_dns_ptr_loop, "api.openai.com", "8.8.8.8"),
	RC("dns qname > 255", WK_DNS, c_dns_qname_long, WIRE_MALFORMED),
	RC("dns owner > 255", WK_DNS, c_dns_ans_name_long, WIRE_MALFORMED),
	RC("dns A rdlength 5", WK_DNS, c_dns_rdlen5, WIRE_MALFORMED),
	OK_DNS("dns 12 A, 8 kept", c_dns_many, "api.openai.com",
	       "10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6 "
	       "10.0.0.7 10.0.0.8"),
	OK_DNS("dns 17 CNAMEs", c_dns_17_cnames, "api.openai.com", ""),
	OK_DNS("dns step cap", c_dns_steps, "api.openai.com", ""),
	OK_DNS("dns uppercase question", c_dns_upper, "api.openai.com",
	       "104.18.33.45"),
	RC("dns cut rdata", WK_DNS, c_dns_cut_rdata, WIRE_TRUNCATED),
	RC("dns 5 bytes", WK_DNS, c_dns_short, WIRE_TRUNCATED),
	OK_DNS("dns TC flag", c_dns_tc, "api.openai.com", "104.18.33.45"),
	RC("dns pointer in question", WK_DNS, c_dns_q_pointer, WIRE_MALFORMED),
	OK_DNS("dns root question", c_dns_root, "", ""),

	OK_FLOW("tls 1.3", WK_TLS, c_tls13, "api.openai.com", 0, WIRE_P_TLS,
		NULL),
	OK_FLOW("tls 1.3 sni after key share", WK_TLS, c_tls13_sni_last,
		"generativelanguage.googleapis.com", 0, WIRE_P_TLS, NULL),
	OK_FLOW("tls 1.2", WK_TLS, c_tls12, "api.deepseek.com", 0, WIRE_P_TLS,
		NULL),
	RC("tls no sni", WK_TLS, c_tls_no_sni, WIRE_NO_SNI),
	RC("tls no extensions", WK_TLS, c_tls_no_ext, WIRE_NO_SNI),
	OK_FLOW("tls grease first", WK_TLS, c_tls_grease_first,
		"api.openai.com", 0, WIRE_P_TLS, NULL),
	RC("tls sni past the buffer", WK_TLS, c_tls_huge_ext, WIRE_INCOMPLETE),
	OK_FLOW("tls uppercase sni", WK_TLS, c_tls_upper, "api.openai.com", 0,
		WIRE_P_TLS, NULL),
	OK_FLOW("tls trailing dot", WK_TLS, c_tls_trailing_dot,
		"api.openai.com", 0, WIRE_P_TLS, NULL),
	RC("tls hello over two records", WK_TLS, c_tls_split_record,
	   WIRE_INCOMPLETE),
	RC("tls server hello", WK_TLS, c_tls_server_hello, WIRE_NOT_PROTO),
	RC("tls application data", WK_TLS, c_tls_app_data, WIRE_NOT_PROTO),
	RC("tls sni with a space", WK_TLS, c_tls_sni_space, WIRE_MALFORMED),
	RC("tls empty sni", WK_TLS, c_tls_sni_empty, WIRE_MALFORMED),
	RC("tls 40 extensions", WK_TLS, c_tls_many_ext, WIRE_LIMIT),
	RC("tls extension overrun", WK_TLS, c_tls_ext_overrun, WIRE_MALFORMED),
	RC("tls session id 33", WK_TLS, c_tls_sid33, WIRE_MALFORMED),

	OK_FLOW("http GET", WK_HTTP, c_http_get, "api.openai.com", 0,
		WIRE_P_HTTP, NULL),
	OK_FLOW("http Host with port", WK_HTTP, c_http_port, "api.openai.com",
		8443, WIRE_P_HTTP, NULL),
	OK_FLOW("http lowercase host", WK_HTTP, c_http_lower, "api.openai.com",
		0, WIRE_P_HTTP, NULL),
	OK_FLOW("http Host third", WK_HTTP, c_http_later, "api.openai.com", 0,
		WIRE_P_HTTP, NULL),
	RC("http no Host", WK_HTTP, c_http_no_host, WIRE_NO_HOST),
	OK_FLOW("http X-Forwarded-Host first", WK_HTTP, c_http_xfh,
		"api.openai.com", 0, WIRE_P_HTTP, NULL),
	RC("http lowercase words", WK_HTTP, c_http_not, WIRE_NOT_PROTO),
	RC("http ssh banner", WK_HTTP, c_http_ssh, WIRE_NOT_PROTO),
	RC("http/2 preface", WK_HTTP, c_http2, WIRE_NOT_PROTO),
	OK_FLOW("http CONNECT", WK_HTTP, c_http_connect, "api.openai.com", 443,
		WIRE_P_CONNECT, NULL),
	OK_FLOW("http CONNECT v6", WK_HTTP, c_http_connect6, "2001:db8::1", 443,
		WIRE_P_CONNECT, NULL),
	RC("http CONNECT without port", WK_HTTP, c_http_connect_noport,
	   WIRE_MALFORMED),
	RC("http headers cut", WK_HTTP, c_http_cut, WIRE_INCOMPLETE),
	RC("http Host in the body", WK_HTTP, c_http_body_host, WIRE_NO_HOST),
	OK_FLOW("http absolute form", WK_HTTP, c_http_absolute,
		"api.openai.com", 80, WIRE_P_FORWARD, NULL),
	RC("http port 99999", WK_HTTP, c_http_bad_port, WIRE_MALFORMED),
	RC("http empty Host", WK_HTTP, c_http_empty_host, WIRE_MALFORMED),
	RC("http bare LF", WK_HTTP, c_http_bare_lf, WIRE_NOT_PROTO),
	OK_FLOW("http Host v6 literal", WK_HTTP, c_http_v6_host, "::1", 8080,
		WIRE_P_HTTP, NULL),
	OK_FLOW("http path near the line cap", WK_HTTP, c_http_long_path,
		"api.openai.com", 0, WIRE_P_HTTP, NULL),
	RC("http path past the line cap", WK_HTTP, c_http_path_limit,
	   WIRE_LIMIT),

	OK_FLOW("socks5 domain", WK_SOCKS5, c_socks_domain, "api.openai.com",
		443, WIRE_P_SOCKS5, NULL),
	OK_FLOW("socks5 uppercase domain", WK_SOCKS5, c_socks_upper,
		"api.openai.com", 443, WIRE_P_SOCKS5, NULL),
	OK_FLOW("socks5 IPv4", WK_SOCKS5, c_socks_v4, "", 443, WIRE_P_SOCKS5,
		"104.18.33.45"),
	OK_FLOW("socks5 IPv6", WK_SOCKS5, c_socks_v6, "", 8443, WIRE_P_SOCKS5,
		"2606:4700::6812:212d"),
	RC("socks5 cut", WK_SOCKS5, c_socks_cut, WIRE_INCOMPLETE),
	OK_FLOW("socks4 IPv4", WK_SOCKS4, c_socks4_v4, "", 443, WIRE_P_SOCKS4,
		"104.18.33.45"),
	OK_FLOW("socks4a name", WK_SOCKS4, c_socks4a, "api.openai.com", 443,
		WIRE_P_SOCKS4, NULL),
	OK_FLOW("http absolute URI, userinfo, port", WK_HTTP,
		c_http_uri_userinfo, "api.openai.com", 8443, WIRE_P_FORWARD,
		NULL),
	OK_FLOW("http absolute URI, IPv6 literal", WK_HTTP, c_http_uri_v6,
		"2001:db8::1", 80, WIRE_P_FORWARD, NULL),
	OK_FLOW("CONNECT an address literal", WK_HTTP, c_connect_literal,
		"104.18.33.45", 443, WIRE_P_CONNECT, NULL),
	OK_FLOW("CONNECT an octal-looking literal", WK_HTTP, c_connect_octal,
		"0150.18.33.45", 443, WIRE_P_CONNECT, NULL),
	RC("tls hello over 2 records", WK_TLS, c_tls_records2,
	   WIRE_INCOMPLETE),
	RC("tls hello over 4 records", WK_TLS, c_tls_records4,
	   WIRE_INCOMPLETE),
	RC("socks5 greeting", WK_SOCKS5, c_socks_greeting, WIRE_NOT_PROTO),
	RC("socks5 greeting, 2 methods", WK_SOCKS5, c_socks_greeting2,
	   WIRE_NOT_PROTO),
	RC("socks5 UDP ASSOCIATE", WK_SOCKS5, c_socks_udp, WIRE_NOT_PROTO),
	RC("socks5 ATYP 7", WK_SOCKS5, c_socks_bad_atyp, WIRE_MALFORMED),
};

#define WIRE_NCASES (sizeof(wire_cases) / sizeof(wire_cases[0]))

/* The cases whose every prefix is also run (see test_wire.c). */
static const char *const wire_sweeps[] = {
	"dns A", "dns CNAME then A", "tls 1.3", "tls 1.2", "http GET",
	"http CONNECT", "socks5 domain", "socks5 IPv6",
};

#define WIRE_NSWEEPS (sizeof(wire_sweeps) / sizeof(wire_sweeps[0]))

static inline const struct wire_case *wire_case_find(const char *name)
{
	size_t i;

	for (i = 0; i < WIRE_NCASES; i++)
		if (!strcmp(wire_cases[i].name, name))
			return &wire_cases[i];
	return NULL;
}

static inline int wire_case_parse(int kind, const struct wire_buf *b,
				  struct wire_dns *d, struct wire_flow *f)
{
	switch (kind) {
	case WK_DNS:
		return wire_dns_parse(b, d);
	case WK_TLS:
		return wire_tls_sni(b, f);
	case WK_HTTP:
		return wire_http(b, f);
	case WK_SOCKS4:
		return wire_socks4(b, f);
	default:
		return wire_socks5(b, f);
	}
}

/* A payload into a wire_buf; bytes past len are filled with junk that a
 * parser must never look at. */
static inline void wire_buf_set(struct wire_buf *b, const __u8 *d, size_t n,
				__u8 junk)
{
	memset(b, junk, sizeof(*b));
	b->len = n > WIRE_BUF ? WIRE_BUF : (__u32)n;
	b->pad = 0;
	memcpy(b->data, d, b->len);
}

/* Where the fixture from tests/unit/data/gen-clienthello.sh lives. */
#define WIRE_FIXTURE "tests/unit/data/clienthello-openssl.bin"

static inline int wire_fixture_load(struct pkt *p)
{
	FILE *f = fopen(WIRE_FIXTURE, "rb");

	if (!f)
		return -1;
	p->n = fread(p->d, 1, sizeof(p->d), f);
	fclose(f);
	return p->n ? 0 : -1;
}

#endif /* WIRE_CASES_H */
