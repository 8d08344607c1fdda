// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for bpf/wire.h. WIRE_FUZZ picks the parser (dns, tls,
 * http, socks5, flow, dnstcp; default: dns, flow and dnstcp on every
 * input). Beyond what
 * ASan/UBSan catch, every input is parsed twice with different junk past
 * len (the outputs must match: nothing past len is read), and every
 * result is checked for what the BPF side relies on: counts within their
 * arrays, a NUL-ended lower-case name whose keys equal those the loader
 * computes from the same text.
 *
 * WIRE_FUZZ_SEEDS=DIR writes the wire_cases.h payloads into DIR first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/wire_cases.h"

enum { F_DNS = 1, F_TLS = 2, F_HTTP = 4, F_SOCKS5 = 8, F_FLOW = 16,
       F_DNSTCP = 32 };

static int which = F_DNS | F_FLOW | F_DNSTCP;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_wire: broken invariant: %s\n", what);
		abort();
	}
}

/* The keys from the printed name must be the keys the parser computed:
 * what a rule written as that text would be stored under. */
static void check_name(const struct wire_name *n)
{
	struct wire_name again;
	size_t i;

	check(n->len <= WIRE_DNAME_MAX, "name length");
	check(n->name[n->len] == 0, "name NUL-ended");
	memset(&again, 0, sizeof(again));
	wire_name_init(&again);
	for (i = 0; i < n->len; i++) {
		check(n->name[i] < 'A' || n->name[i] > 'Z', "name lower-case");
		wire_name_put(&again, (__u8)n->name[i]);
	}
	check(!wire_name_end(&again), "name refused on re-reading");
	check(again.len == n->len, "name re-read length");
	check(again.hash == n->hash, "hash matches the text");
	check(!memcmp(again.sfx, n->sfx, sizeof(n->sfx)), "suffix keys");
	check(again.labels == n->labels, "label count");
}

static void check_rc(int rc)
{
	check(rc >= WIRE_OK && rc <= WIRE_LIMIT, "result code");
}

static void fuzz_dns(const __u8 *data, size_t size)
{
	static struct wire_buf b;
	struct wire_dns d, d2;
	int rc, i;

	wire_buf_set(&b, data, size, 0);
	rc = wire_dns_parse(&b, &d);
	wire_buf_set(&b, data, size, 0xff);
	check(wire_dns_parse(&b, &d2) == rc, "dns rc depends on junk");
	check(!memcmp(&d, &d2, sizeof(d)), "dns output depends on junk");
	check_rc(rc);
	check(rc != WIRE_NO_SNI && rc != WIRE_NO_HOST && rc != WIRE_LIMIT &&
		      rc != WIRE_INCOMPLETE, "dns result code");
	if (rc != WIRE_OK)
		return;
	check(d.naddr <= WIRE_DNS_ADDRS, "naddr");
	check(d.nanswers <= WIRE_DNS_ANSWERS, "nanswers");
	check(d.nanswers <= d.ancount, "nanswers <= ancount");
	check(d.qclass == 1, "qclass");
	for (i = 0; i < d.naddr; i++)
		check(d.addr[i].family == WIRE_AF_INET ||
			      d.addr[i].family == WIRE_AF_INET6,
		      "address family");
	check_name(&d.qname);
}

static void fuzz_flow(const __u8 *data, size_t size,
		      int (*parse)(const struct wire_buf *, struct wire_flow *))
{
	static struct wire_buf b;
	struct wire_flow f, f2;
	int rc;

	wire_buf_set(&b, data, size, 0);
	rc = parse(&b, &f);
	wire_buf_set(&b, data, size, 0xff);
	check(parse(&b, &f2) == rc, "flow rc depends on junk");
	check(!memcmp(&f, &f2, sizeof(f)), "flow output depends on junk");
	check_rc(rc);
	check(rc != WIRE_TRUNCATED, "streams are never TRUNCATED");
	if (rc != WIRE_OK)
		return;
	check(f.proto >= WIRE_P_TLS && f.proto <= WIRE_P_FORWARD, "proto");
	if (f.family) {
		check(wire_flow_is_proxy(&f), "an address only from a proxy");
		check(f.family == WIRE_AF_INET || f.family == WIRE_AF_INET6,
		      "address family");
	} else {
		check(f.host.len > 0, "a name on success");
	}
	if (wire_flow_is_proxy(&f) && f.proto != WIRE_P_SOCKS5)
		check(f.port != 0, "a proxy target has a port");
	check_name(&f.host);
}

/* the whole egress reading (records joined, address literals): the same
 * answer whatever lies past the bytes, and what fuzz_flow promises */
static int read_copy(const struct wire_buf *b, struct wire_flow *out)
{
	static struct wire_buf c;

	memcpy(&c, b, sizeof(c));
	return wire_flow_read(&c, out);
}

static void write_seeds(const char *dir)
{
	static struct pkt p;
	char path[4096];
	size_t i;

	for (i = 0; i < WIRE_NCASES; i++) {
		FILE *f;

		wire_cases[i].build(&p);
		snprintf(path, sizeof(path), "%s/case-%02zu", dir, i);
		f = fopen(path, "wb");
		if (!f)
			continue;
		fwrite(p.d, 1, p.n, f);
		fclose(f);
	}
	if (!wire_fixture_load(&p)) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/openssl-hello", dir);
		f = fopen(path, "wb");
		if (f) {
			fwrite(p.d, 1, p.n, f);
			fclose(f);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *w = getenv("WIRE_FUZZ"), *seeds = getenv("WIRE_FUZZ_SEEDS");

	(void)argc;
	(void)argv;
	if (w && !strcmp(w, "dns"))
		which = F_DNS;
	else if (w && !strcmp(w, "tls"))
		which = F_TLS;
	else if (w && !strcmp(w, "http"))
		which = F_HTTP;
	else if (w && !strcmp(w, "socks5"))
		which = F_SOCKS5;
	else if (w && !strcmp(w, "flow"))
		which = F_FLOW;
	else if (w && !strcmp(w, "dnstcp"))
		which = F_DNSTCP;
	if (seeds)
		write_seeds(seeds);
	return 0;
}

/* the credential header scan: the same answer whatever lies past the
 * bytes, and a value inside them, bounded, without space or line end */
static void fuzz_key(const __u8 *data, size_t size)
{
	static struct wire_buf b;
	struct wire_key k = { 0 }, k2 = { 0 };
	int rc;

	wire_buf_set(&b, data, size, 0);
	rc = wire_http_key(&b, &k);
	wire_buf_set(&b, data, size, 0xff);
	check(wire_http_key(&b, &k2) == rc, "key rc depends on junk");
	check_rc(rc);
	if (rc != WIRE_OK)
		return;
	check(k.off == k2.off && k.len == k2.len && k.hdr == k2.hdr,
	      "key output depends on junk");
	check(k.len >= 1 && k.len <= WIRE_KEY_MAX, "key length");
	check((size_t)k.off + k.len <= size, "key inside the bytes");
	check(k.hdr <= WIRE_KEY_X_GOOG_API_KEY, "key header");
	for (__u32 i = 0; i < k.len; i++)
		check(data[k.off + i] != ' ' && data[k.off + i] != '\r' &&
		      data[k.off + i] != '\n', "key holds no separator");
}

/* DNS over TCP: the input is a stream (after one byte that picks the
 * cuts and the first sequence number). Cut into segments, it must frame
 * the same answers as fed one byte per segment (no step cap can bite
 * there: every step takes a byte), unless it was given up (a segment
 * took more steps than allowed, a prefix lay past WIRE_BUF), and then
 * what it framed before is the start of that list. */
struct tcp_got {
	int n;
	int rc[256];
	__u64 hash[256];
};

static void tcp_collect(int rc, const struct wire_dns *d, void *arg)
{
	struct tcp_got *g = arg;

	check_rc(rc);
	if (rc == WIRE_OK)
		check_name(&d->qname);
	if (g->n < 256) {
		g->rc[g->n] = rc;
		g->hash[g->n] = rc == WIRE_OK ? d->qname.hash : 0;
	}
	g->n++;
}

static void check_tcp_state(const struct wire_dns_tcp *st)
{
	check(st->state <= WIRE_TCP_GONE, "tcp state");
	check(st->npfx <= 2, "tcp prefix state");
	check(st->msglen <= WIRE_DNS_TCP_MAX, "tcp message length");
	check(st->npfx != 2 || st->have < st->msglen, "tcp kept bytes");
}

static void fuzz_dnstcp(const __u8 *data, size_t size)
{
	static struct wire_dns_tcp a, b;
	static struct tcp_got ga, gb;
	static struct wire_dns out;
	__u32 seq, cut;
	size_t pos;
	int big_a = 0, big_b = 0, lost = 0, r;

	if (size < 1)
		return;
	cut = 1 + data[0] % 61;
	seq = 0xffffff00u + data[0]; /* wraps inside the stream */
	data++;
	size--;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&ga, 0, sizeof(ga));
	memset(&gb, 0, sizeof(gb));
	for (pos = 0; pos < size; pos++) {
		r = wire_dns_tcp_feed(&a, seq + pos, data + pos, 1, &out,
				      &big_a, tcp_collect, &ga);
		check(r >= 0, "one byte per segment is never lost");
		check_tcp_state(&a);
	}
	for (pos = 0; pos < size && !lost;) {
		size_t n = size - pos < cut ? size - pos : cut;

		r = wire_dns_tcp_feed(&b, seq + pos, data + pos, n, &out,
				      &big_b, tcp_collect, &gb);
		check_tcp_state(&b);
		lost = r < 0;
		pos += n;
		/* cut grows: segments of every size up to 3 KiB */
		cut = cut * 2 > 3072 ? 1 : cut * 2 + 1;
	}
	check(gb.n <= ga.n, "tcp: no more answers than the stream holds");
	for (int i = 0; i < gb.n && i < 256; i++)
		check(ga.rc[i] == gb.rc[i] && ga.hash[i] == gb.hash[i],
		      "tcp: the same answers whatever the cuts");
	if (!lost) {
		check(gb.n == ga.n, "tcp: every answer framed");
		check(big_a == big_b, "tcp: the same answers passed over");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (which & F_DNSTCP)
		fuzz_dnstcp(data, size);
	if (which & F_DNS)
		fuzz_dns(data, size);
	if (which & F_TLS)
		fuzz_flow(data, size, wire_tls_sni);
	if (which & F_HTTP) {
		fuzz_flow(data, size, wire_http);
		fuzz_key(data, size);
	}
	if (which & F_SOCKS5) {
		fuzz_flow(data, size, wire_socks5);
		fuzz_flow(data, size, wire_socks4);
	}
	if (which & F_FLOW) {
		fuzz_flow(data, size, wire_flow_parse);
		fuzz_flow(data, size, read_copy);
		fuzz_key(data, size);
	}
	return 0;
}
