/* SPDX-License-Identifier: MIT */
/*
 * Parsers for what relaywatch reads on the wire: DNS answers (ingress) and
 * the first payload of a flow (egress): TLS ClientHello SNI, HTTP Host,
 * HTTP CONNECT, SOCKS5 request. One source, two compilers: a .bpf.c
 * includes it after vmlinux.h and bpf_helpers.h; userspace (unit tests,
 * fuzzer, the loader's rule hashing) includes it as plain C. So the bounds
 * logic the verifier accepts is the logic the tests and the fuzzer run.
 * docs/wire.md lists what each parser accepts and what counts as unparsed.
 *
 * What keeps the verifier's work small (each rule was measured):
 * - input is a struct wire_buf in map memory and every read goes through
 *   wire_u8(), which masks the index into the buffer. Whether a byte is
 *   there is always decided by an explicit compare with len: the mask only
 *   keeps a wrong offset inside the buffer, it never decides anything;
 * - a masked index is marked precise, and so is everything it came from.
 *   WIRE_LAUNDER passes the read offset through map memory at each loop
 *   head, which ends that chain there; without it no two states prune;
 * - counters that index output arrays (name length, label count, address
 *   count) are re-read from map memory with WIRE_ONCE for the same reason;
 * - loops have constant bounds and are never nested byte loops: DNS
 *   answers are one flat walk of steps. Every loop iteration leaves a
 *   pending verifier state per early exit, and at most 8192 may wait, so
 *   the long HTTP scans have caps (WIRE_HTTP_LINE, WIRE_HTTP_HEAD);
 * - the long byte walks (a host name, the question name, an absolute
 *   URI's authority, the request line, the search for Host) are
 *   WIRE_WALK steps: under bpf_loop their step is verified once, not once
 *   per byte (flow_egress 259,652 -> 74,724 instructions verified on 6.18,
 *   dns_ingress 76,636 -> 21,606), so their caps no longer cost start-up
 *   time where the kernel has bpf_loop.
 */
#ifndef RELAYWATCH_WIRE_H
#define RELAYWATCH_WIRE_H

#ifdef __BPF__
/* vmlinux.h and bpf/bpf_helpers.h come first, from the including .bpf.c */
#define WIRE_FN static __always_inline
#else
#include <linux/types.h>
#include <string.h>
#define WIRE_FN static inline
#endif
/*
 * The byte walks that every parser path repeats (a host name, a DNS
 * record) become global functions in the one BPF object that defines
 * WIRE_GLOBAL_FNS: the verifier checks a global function once, on its own,
 * instead of once per calling path. Their pointers may then be NULL.
 */
#if defined(__BPF__) && defined(WIRE_GLOBAL_FNS)
#define WIRE_GLOBAL __noinline
#else
#define WIRE_GLOBAL WIRE_FN
#endif

#define WIRE_ONCE(x) (*(volatile __typeof__(x) *)&(x))
/*
 * A byte walk: bpf_loop's where the kernel has it (5.17+), else a plain
 * loop. Under bpf_loop the verifier checks the step once, not once per
 * byte, so a walk's cost at load is its step's, whatever its bound. The
 * step keeps what changes in memory (map memory in BPF), its context on
 * the stack holds what does not: then its states agree at once.
 */
#if defined(__BPF__) && !defined(RW_COMPAT)
#define WIRE_WALK(n, cb, ctx) bpf_loop(n, cb, ctx, 0)
#else
#define WIRE_WALK(n, cb, ctx)                                               \
	do {                                                                \
		for (__u32 _i = 0; _i < (n); _i++)                          \
			if (cb(_i, ctx))                                    \
				break;                                      \
	} while (0)
#endif

/* v, stored to and loaded back from slot: an unknown u32 to the verifier */
#define WIRE_LAUNDER(slot, v) (WIRE_ONCE(slot) = (v), WIRE_ONCE(slot))

#define WIRE_BUF 4096 /* bytes of payload kept; a power of two */
#define WIRE_MASK (WIRE_BUF - 1)
#define WIRE_NAME_MAX 256      /* any DNS name and its NUL; power of two */
#define WIRE_DNAME_MAX 253     /* longest dotted name (255 bytes on the wire) */
#define WIRE_SFX 4             /* suffix keys kept; power of two */
#define WIRE_DNS_ANSWERS 16    /* answers walked */
#define WIRE_DNS_ADDRS 8       /* addresses kept; power of two */
#define WIRE_DNS_STEPS 128     /* answer walk: labels, pointers, records */
#define WIRE_TLS_EXTS 32       /* extensions walked looking for server_name */
#define WIRE_HTTP_METHOD 16    /* longest method token + 1 */
#define WIRE_HTTP_LINE 1024    /* request line bytes scanned for its end */
#define WIRE_HTTP_HEAD 512     /* header bytes scanned for Host */
#define WIRE_AF_INET 2         /* AF_INET */
#define WIRE_AF_INET6 10       /* AF_INET6 */

#define WIRE_FNV_BASIS 0xcbf29ce484222325ULL
#define WIRE_FNV_PRIME 0x100000001b3ULL

/* Parser results. Stable values, never reused. */
enum wire_rc {
	WIRE_OK = 0,
	WIRE_NOT_PROTO = 1,  /* not this protocol (or not a kind we learn from) */
	WIRE_TRUNCATED = 2,  /* DNS: the datagram ends inside the message */
	WIRE_MALFORMED = 3,  /* a field breaks the protocol or a length limit */
	WIRE_INCOMPLETE = 4, /* stream: the answer lies past the captured bytes */
	WIRE_NO_SNI = 5,     /* complete ClientHello without a host_name */
	WIRE_NO_HOST = 6,    /* HTTP request headers end without Host */
	WIRE_LIMIT = 7,      /* a walk cap ran out before the answer */
};
#define WIRE_NOT_DNS WIRE_NOT_PROTO

/* What the first payload of a flow was; stable values. */
enum wire_proto {
	WIRE_P_NONE = 0,
	WIRE_P_TLS = 1,
	WIRE_P_HTTP = 2,
	WIRE_P_CONNECT = 3,
	WIRE_P_SOCKS5 = 4,
	WIRE_P_SOCKS4 = 5,   /* SOCKS4 / SOCKS4a CONNECT */
	WIRE_P_FORWARD = 6,  /* a forward proxy's absolute-URI request */
};

/* Payload bytes [0, len); nothing past len is ever used. */
struct wire_buf {
	__u32 len;
	__u32 pad;
	__u8 data[WIRE_BUF];
};

/*
 * A host or DNS name, lower-cased (A-Z only), dotted, no trailing dot.
 * hash is 64-bit FNV-1a over exactly that text, so the loader's key for a
 * domain rule is wire_name_from_str(rule).hash. sfx[i] keys the name's last
 * i + 1 labels (sfx[0] "com", sfx[1] "openai.com", ...; 0 past labels): a
 * rule "openai.com" matches any name whose sfx[1] equals the rule's own
 * sfx[1]. The suffix keys are a mix of per-label FNV-1a hashes, computed
 * only by this file.
 */
struct wire_name {
	__u64 hash;
	__u64 sfx[WIRE_SFX];
	__u64 lh;    /* parser state: hash of the label being read */
	__u16 len;   /* dotted length of the whole name */
	__u8 labels;
	__u8 dot;    /* parser state: a separator is pending */
	__u32 cur;   /* parser scratch for WIRE_LAUNDER */
	char name[WIRE_NAME_MAX]; /* the name, NUL-ended */
};
_Static_assert(sizeof(struct wire_name) == 56 + WIRE_NAME_MAX, "wire_name");

struct wire_dns_addr {
	__u8 addr[16]; /* network order; IPv4 in the first 4 bytes */
	__u32 ttl;
	__u8 family;   /* WIRE_AF_INET or WIRE_AF_INET6 */
	__u8 pad[3];
};
_Static_assert(sizeof(struct wire_dns_addr) == 24, "wire_dns_addr");

struct wire_dns {
	struct wire_name qname;
	__u16 id;
	__u16 qtype;
	__u16 qclass;
	__u16 ancount;  /* as in the header */
	__u8 nanswers;  /* answers walked */
	__u8 naddr;     /* entries used in addr */
	__u8 qrc;       /* the question's walk: what ended it */
	__u8 pad;
	__u32 qnext;    /* the question's walk: its next length byte */
	struct wire_dns_addr addr[WIRE_DNS_ADDRS];
};
_Static_assert(sizeof(struct wire_dns) == sizeof(struct wire_name) + 16 +
		       WIRE_DNS_ADDRS * sizeof(struct wire_dns_addr), "wire_dns");

/* wire_ip_literal's walk state, also the scratch of wire_uri and
 * wire_http's walks (map memory in BPF: nothing precise) */
struct wire_ip {
	__u32 pos, acc, dec, digits;
	__u32 ng, dc, nd, colon;
	__u32 v6, bad;
	__u32 lpos, lhex, lnon, l0; /* the last label: numeric (inet_aton)? */
	__u32 lead0;  /* a dotted number with a leading 0 (octal to inet_aton) */
	__u32 len;    /* of the text */
	__u16 g[8];
	__u8 q[4];
	__u32 hit;    /* wire_http's header walk: what ended it */
	__u64 win;    /* wire_http's header walk: the last 8 bytes */
};
_Static_assert(sizeof(struct wire_ip) == 96, "wire_ip");

struct wire_flow {
	struct wire_name host; /* SNI, Host, proxy target, SOCKS4a/5 domain */
	__u8 addr[16];         /* a proxy's address target, network order */
	__u16 port;            /* host order; 0 when the bytes name none */
	__u8 proto;            /* enum wire_proto */
	__u8 family;           /* WIRE_AF_* when addr is the target, else 0 */
	__u32 pad;
	struct wire_ip ip;     /* scratch of wire_flow_target */
};
_Static_assert(sizeof(struct wire_flow) == sizeof(struct wire_name) + 24 +
		       sizeof(struct wire_ip), "wire_flow");

WIRE_FN __u32 wire_len(const struct wire_buf *b)
{
	__u32 len = b->len;

	return len > WIRE_BUF ? WIRE_BUF : len;
}

/* Callers have checked off < len; the mask is for the verifier only. */
WIRE_FN __u8 wire_u8(const struct wire_buf *b, __u32 off)
{
	return b->data[off & WIRE_MASK];
}

WIRE_FN __u16 wire_be16(const struct wire_buf *b, __u32 off)
{
	return (__u16)(wire_u8(b, off) << 8 | wire_u8(b, off + 1));
}

WIRE_FN __u32 wire_be32(const struct wire_buf *b, __u32 off)
{
	return (__u32)wire_be16(b, off) << 16 | wire_be16(b, off + 2);
}

/* Branch-free (a branch per byte is a verifier state per byte): 'A'-'Z'
 * are the bytes where both c - 'A' and 'Z' - c are non-negative. */
WIRE_FN __u8 wire_lower(__u8 c)
{
	__u64 x = c;

	return (__u8)(c | ((((x - 'A') | ('Z' - x)) >> 63 ^ 1) << 5));
}

WIRE_FN __u64 wire_fnv(__u64 h, __u8 c)
{
	return (h ^ c) * WIRE_FNV_PRIME;
}

/* one label hash into a suffix key */
WIRE_FN __u64 wire_mix(__u64 h, __u64 v)
{
	h = (h ^ v) * WIRE_FNV_PRIME;
	return h ^ (h >> 29);
}

/*
 * A second hash of a name's text, independent of FNV-1a: a key that matches
 * by hash is confirmed with it before it decides anything (a crafted name
 * would have to collide both).
 */
#define WIRE_CHK_BASIS 0x6a09e667f3bcc909ULL
WIRE_FN __u64 wire_chk(__u64 h, __u8 c)
{
	h = (h ^ c) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 31);
}

#ifndef __BPF__
static inline __u64 wire_chk_str(const char *s, size_t len)
{
	__u64 h = WIRE_CHK_BASIS;

	for (size_t i = 0; i < len; i++)
		h = wire_chk(h, (__u8)s[i]);
	return h;
}
#endif

/* ---- names -------------------------------------------------------------- */

WIRE_FN void wire_name_init(struct wire_name *n)
{
	n->hash = WIRE_FNV_BASIS;
}

/* The label just read goes into the ring sfx[] until wire_name_end(). */
WIRE_FN void wire_name_label_end(struct wire_name *n)
{
	__u8 labels = WIRE_ONCE(n->labels);

	n->sfx[(labels - 1) & (WIRE_SFX - 1)] = n->lh;
}

WIRE_FN void wire_name_feed(struct wire_name *n, __u8 c)
{
	__u32 len = WIRE_ONCE(n->len);

	n->hash = wire_fnv(n->hash, c);
	n->name[len & (WIRE_NAME_MAX - 1)] = (char)c;
	WIRE_ONCE(n->len) = (__u16)(len + 1);
}

/*
 * Add one byte of a dotted name. Dots only separate: leading, trailing and
 * repeated dots vanish, so "API.OpenAI.com." and "api.openai.com" agree.
 * The length is checked once, by wire_name_end().
 */
WIRE_FN void wire_name_put(struct wire_name *n, __u8 c)
{
	__u32 len;

	if (c == '.') {
		WIRE_ONCE(n->dot) = 1;
		return;
	}
	len = WIRE_ONCE(n->len);
	if (WIRE_ONCE(n->dot) || !len) {
		if (len) {
			wire_name_label_end(n);
			wire_name_feed(n, '.');
		}
		WIRE_ONCE(n->dot) = 0;
		WIRE_ONCE(n->labels) = WIRE_ONCE(n->labels) + 1;
		n->lh = WIRE_FNV_BASIS;
	}
	c = wire_lower(c);
	n->lh = wire_fnv(n->lh, c);
	wire_name_feed(n, c);
}

/*
 * Finish a name: fold the ring of the last label hashes into the suffix
 * keys. Returns -1 if the name is longer than a DNS name can be.
 */
WIRE_FN int wire_name_end(struct wire_name *n)
{
	__u64 r[WIRE_SFX], h = WIRE_FNV_BASIS;
	__u32 labels, len = WIRE_ONCE(n->len);
	int m;

	if (len > WIRE_DNAME_MAX)
		return -1;
	n->name[len & (WIRE_NAME_MAX - 1)] = 0;
	labels = WIRE_ONCE(n->labels);
	if (labels)
		wire_name_label_end(n);
	for (m = 0; m < WIRE_SFX; m++)
		r[m] = n->sfx[m];
	for (m = 0; m < WIRE_SFX; m++) {
		if ((__u32)m < labels) {
			h = wire_mix(h, r[(labels - 1 - m) & (WIRE_SFX - 1)]);
			n->sfx[m] = h;
		} else {
			n->sfx[m] = 0;
		}
	}
	n->lh = 0;
	n->dot = 0;
	return 0;
}

#ifndef __BPF__
/* The loader's side: the keys a domain rule is stored under. */
static inline int wire_name_from_str(struct wire_name *n, const char *s)
{
	const char *start = s;

	memset(n, 0, sizeof(*n));
	wire_name_init(n);
	for (; *s; s++) {
		if (s - start >= WIRE_NAME_MAX)
			return -1;
		wire_name_put(n, (__u8)*s);
	}
	return wire_name_end(n);
}
#endif

/* wire_host_copy's walk: the offset is n->cur */
struct wire_host_walk {
	const struct wire_buf *b;
	struct wire_name *n;
	__u32 end;
	__u32 stop;
};

/* one byte of a host name; 1 ends the copy */
WIRE_FN int wire_host_step(__u64 i, void *arg)
{
	struct wire_host_walk *w = arg;
	struct wire_name *n = w->n;
	__u32 off = WIRE_ONCE(n->cur);
	__u64 c;

	(void)i;
	if (off >= w->end)
		return 1;
	c = wire_u8(w->b, off);
	/* c outside '!'..'~', or c == stop: sign bits, one branch */
	if (((c - '!') | ('~' - c) | ((c ^ w->stop) - 1)) >> 63)
		return 1;
	wire_name_put(n, (__u8)c);
	WIRE_ONCE(n->cur) = off + 1;
	return 0;
}

/*
 * Copy host-name bytes from b[off, end) into n and finish it, stopping at
 * the first byte that cannot be part of one: space, control, DEL or stop.
 * Returns the offset it stopped at, or -1 for an empty or too long name. The
 * end is found by position, never by comparing the loop counter with data
 * (that would make the data precise).
 */
WIRE_GLOBAL long wire_host_copy(const struct wire_buf *b, __u32 off,
				__u32 end, struct wire_name *n, __u8 stop)
{
	struct wire_host_walk w = { .b = b, .n = n, .end = end, .stop = stop };

	if (!b || !n)
		return -1;
	WIRE_ONCE(n->cur) = off;
	WIRE_WALK(WIRE_NAME_MAX, wire_host_step, &w);
	if (!WIRE_ONCE(n->len) || wire_name_end(n))
		return -1;
	return WIRE_ONCE(n->cur);
}

/* ---- DNS ---------------------------------------------------------------- */

WIRE_FN void wire_dns_add(struct wire_dns *out, const struct wire_buf *b,
			  __u32 off, __u32 rdlen, __u32 ttl)
{
	__u32 n = WIRE_ONCE(out->naddr);
	struct wire_dns_addr *d;
	int k;

	if (n >= WIRE_DNS_ADDRS)
		return;
	d = &out->addr[n & (WIRE_DNS_ADDRS - 1)];
	/* straight-line copies: a per-byte "k < rdlen" is a branch per byte */
	for (k = 0; k < 4; k++)
		d->addr[k] = wire_u8(b, off + k);
	if (rdlen == 16)
		for (k = 4; k < 16; k++)
			d->addr[k] = wire_u8(b, off + k);
	d->ttl = ttl;
	d->family = rdlen == 4 ? WIRE_AF_INET : WIRE_AF_INET6;
	WIRE_ONCE(out->naddr) = (__u8)(n + 1);
}

/*
 * One record of the answer section at off: its fixed fields and rdata,
 * the owner name already skipped. Returns the offset past it, or -rc.
 */
WIRE_GLOBAL long wire_dns_record(struct wire_dns *out,
				 const struct wire_buf *b, __u32 off, __u32 len)
{
	__u32 rdlen, ttl;
	__u16 type, class;

	if (!out || !b)
		return -WIRE_MALFORMED;
	if (off + 10 > len)
		return -WIRE_TRUNCATED;
	type = wire_be16(b, off);
	class = wire_be16(b, off + 2);
	ttl = wire_be32(b, off + 4);
	rdlen = wire_be16(b, off + 8);
	off += 10;
	if (off + rdlen > len)
		return -WIRE_TRUNCATED;
	if (class == 1 && (type == 1 || type == 28)) {
		if (rdlen != (type == 1 ? 4u : 16u))
			return -WIRE_MALFORMED;
		wire_dns_add(out, b, off, rdlen, ttl);
	}
	WIRE_ONCE(out->nanswers) = WIRE_ONCE(out->nanswers) + 1;
	return off + rdlen;
}

/*
 * Parse a DNS response (a UDP payload). On WIRE_OK, qname holds the one
 * question and addr[] the IN A/AAAA records among the first 16 answers
 * (fewer when WIRE_DNS_STEPS runs out: nanswers says how many were read).
 * Answer names are skipped, never decompressed, so a pointer loop cannot
 * loop here; every A/AAAA belongs to the question (CNAME chains included).
 */
/* the question name's walk: the offset is qname.cur */
struct wire_qname_walk {
	const struct wire_buf *b;
	struct wire_dns *out;
	__u32 len;
	__u32 pad;
};
#define WIRE_QNAME_END 0xff /* out->qrc: its end found; else a WIRE_ rc */

/*
 * One byte of the question name. A length byte is recognised by position
 * (qnext), not by counting a label down: a counter's range shifts every
 * byte and splits the states.
 */
WIRE_FN int wire_qname_step(__u64 i, void *arg)
{
	struct wire_qname_walk *w = arg;
	struct wire_dns *out = w->out;
	__u32 off = WIRE_ONCE(out->qname.cur);
	__u8 c;

	(void)i;
	if (off >= w->len) {
		out->qrc = WIRE_TRUNCATED;
		return 1;
	}
	c = wire_u8(w->b, off);
	if (off == WIRE_ONCE(out->qnext)) {
		if (!c) {
			out->qrc = WIRE_QNAME_END;
			return 1;
		}
		if (c > 63) {
			out->qrc = WIRE_MALFORMED;
			return 1;
		}
		out->qnext = off + 1 + c;
		c = '.';
	}
	wire_name_put(&out->qname, c);
	WIRE_ONCE(out->qname.cur) = off + 1;
	return 0;
}

WIRE_FN int wire_dns_parse(const struct wire_buf *b, struct wire_dns *out)
{
	struct wire_qname_walk qw;
	__u32 *cur = &out->qname.cur;
	__u32 len, off = 12, an, name = 0, in_name = 1;
	__u16 flags;
	long r;
	int i;

	__builtin_memset(out, 0, sizeof(*out));
	wire_name_init(&out->qname);
	len = WIRE_LAUNDER(*cur, wire_len(b));
	if (len < 12)
		return WIRE_TRUNCATED;
	flags = wire_be16(b, 2);
	/* a response (QR), standard query (opcode 0), NOERROR */
	if (!(flags & 0x8000) || (flags & 0x780f))
		return WIRE_NOT_DNS;
	if (wire_be16(b, 4) != 1)
		return WIRE_NOT_DNS;
	out->id = wire_be16(b, 0);
	an = out->ancount = wire_be16(b, 6);
	if (an > WIRE_DNS_ANSWERS)
		an = WIRE_DNS_ANSWERS;

	/* the question name, at most 255 bytes (never compressed) */
	*cur = off;
	out->qnext = off;
	qw.b = b;
	qw.out = out;
	qw.len = len;
	WIRE_WALK(255, wire_qname_step, &qw);
	if (WIRE_ONCE(out->qrc) != WIRE_QNAME_END)
		return WIRE_ONCE(out->qrc) ? WIRE_ONCE(out->qrc) :
					     WIRE_MALFORMED;
	off = WIRE_ONCE(*cur) + 1;
	if (wire_name_end(&out->qname))
		return WIRE_MALFORMED;
	if (off + 4 > len)
		return WIRE_TRUNCATED;
	out->qtype = wire_be16(b, off);
	out->qclass = wire_be16(b, off + 2);
	off += 4;
	if (out->qclass != 1)
		return WIRE_NOT_DNS;

	/*
	 * Answers: each step reads one label, pointer, terminator or record.
	 * The owner name's length is measured from where it started, for
	 * the same reason as above.
	 */
	name = off;
	for (i = 0; i < WIRE_DNS_STEPS; i++) {
		__u8 c;

		if (WIRE_ONCE(out->nanswers) >= an ||
		    WIRE_ONCE(out->naddr) >= WIRE_DNS_ADDRS)
			break;
		off = WIRE_LAUNDER(*cur, off);
		if (!in_name) {
			r = wire_dns_record(out, b, off, len);
			if (r < 0)
				return (int)-r;
			off = name = (__u32)r;
			in_name = 1;
			continue;
		}
		if (off >= len)
			return WIRE_TRUNCATED;
		c = wire_u8(b, off);
		if (c >= 0xc0) {
			off += 2; /* a pointer ends the name */
			in_name = 0;
			continue;
		}
		if (c > 63)
			return WIRE_MALFORMED;
		off += c + 1;
		if (off - name > 255)
			return WIRE_MALFORMED;
		if (!c)
			in_name = 0;
	}
	return WIRE_OK;
}

/* ---- DNS over TCP ------------------------------------------------------- */

/*
 * RFC 1035 4.2.2: over TCP every message follows a 2-byte length, network
 * order. An answer may share a segment with others, or be split across
 * segments. struct wire_dns_tcp is one socket's reassembly (socket storage
 * in BPF): wire_dns_tcp_seg() places a segment in the stream by its
 * sequence number, then wire_dns_tcp_next() says, one step at a time, what
 * to do with its bytes; the caller moves them (bpf_skb_load_bytes in BPF,
 * memcpy in wire_dns_tcp_feed()). Only the length prefixes are read here.
 * A segment that starts past the next byte expected (one missed, or
 * queued out of order) ends the socket's reassembly: what follows cannot
 * be framed. A message longer than WIRE_DNS_TCP_MAX is passed over.
 */
#define WIRE_DNS_TCP_MAX 2048  /* longest message kept; a power of two */
#define WIRE_DNS_TCP_STEPS 8   /* steps per segment (a message is one or
				* two: its prefix may end a segment) */

enum wire_tcp_state {
	WIRE_TCP_FRESH = 0,    /* no byte seen: the next segment starts it */
	WIRE_TCP_SYNCED = 1,
	WIRE_TCP_GONE = 2,     /* given up: the stream cannot be framed */
};

struct wire_dns_tcp {
	__u32 next_seq;  /* sequence number of the next byte expected */
	__u32 skip;      /* bytes of a message too long, still to pass */
	__u16 msglen;    /* the message being kept: its length ... */
	__u16 have;      /* ... and its bytes in data so far */
	__u8 npfx;       /* 0 between messages, 1 after a prefix's first
			  * byte (pfx), 2 inside a message kept */
	__u8 pfx;
	__u8 state;      /* enum wire_tcp_state */
	__u8 pad;
	/* twice what is kept: any offset below WIRE_DNS_TCP_MAX plus any
	 * length up to it stays inside (the verifier's bound) */
	__u8 data[2 * WIRE_DNS_TCP_MAX];
};
_Static_assert(sizeof(struct wire_dns_tcp) == 16 + 2 * WIRE_DNS_TCP_MAX,
	       "wire_dns_tcp");

/* what wire_dns_tcp_next() asks of the caller; stable values */
enum wire_tcp_op {
	WIRE_TCP_END = 0,  /* nothing more in this segment */
	WIRE_TCP_MSG = 1,  /* a whole message: segment bytes [off, off + len) */
	WIRE_TCP_KEEP = 2, /* copy segment [off, off + len) to data[at]; with
			    * done, data[0, msglen) is now a whole message */
	WIRE_TCP_SKIP = 3, /* bytes passed over: nothing to do */
	WIRE_TCP_BIG = 4,  /* a message longer than WIRE_DNS_TCP_MAX: count it */
	WIRE_TCP_LOST = 5, /* the stream cannot be followed: count it; the
			    * state is WIRE_TCP_GONE from now on */
};

/* a segment being walked, and the step asked for */
struct wire_tcp_step {
	__u32 pos;     /* segment offset of the next step */
	__u32 seglen;  /* payload bytes of the segment (wire_buf holds the
			* first WIRE_BUF of them) */
	__u32 off, len, at;
	__u8 op;       /* enum wire_tcp_op */
	__u8 done;
	__u8 pad[2];
};

/*
 * Place a segment of seglen payload bytes starting at sequence number seq.
 * Returns WIRE_TCP_LOST when it starts past the next byte expected (the
 * socket is given up), else WIRE_TCP_END; step->pos skips the bytes seen
 * already (a retransmission).
 */
WIRE_FN int wire_dns_tcp_seg(struct wire_dns_tcp *st, __u32 seq,
			     __u32 seglen, struct wire_tcp_step *step)
{
	__s32 d;

	step->pos = seglen;
	step->seglen = seglen;
	if (st->state == WIRE_TCP_GONE || !seglen)
		return WIRE_TCP_END;
	if (st->state == WIRE_TCP_FRESH) {
		st->next_seq = seq;
		st->state = WIRE_TCP_SYNCED;
	}
	d = (__s32)(seq - st->next_seq);
	if (d > 0) {
		st->state = WIRE_TCP_GONE;
		return WIRE_TCP_LOST;
	}
	if ((__u32)-d >= seglen)
		return WIRE_TCP_END;
	step->pos = (__u32)-d;
	st->next_seq = seq + seglen;
	return WIRE_TCP_END;
}

/* one step through the segment b (its first WIRE_BUF bytes); the op is
 * also in step->op */
WIRE_FN int wire_dns_tcp_next(struct wire_dns_tcp *st,
			      const struct wire_buf *b,
			      struct wire_tcp_step *step)
{
	__u32 pos = step->pos, seglen = step->seglen, blen = wire_len(b);
	__u32 avail, len, n;

	step->done = 0;
	step->op = WIRE_TCP_END;
	if (pos >= seglen || st->state != WIRE_TCP_SYNCED)
		return WIRE_TCP_END;
	avail = seglen - pos;
	step->op = WIRE_TCP_SKIP;
	if (st->skip) {
		n = st->skip < avail ? st->skip : avail;
		st->skip -= n;
		step->pos = pos + n;
		return WIRE_TCP_SKIP;
	}
	if (st->npfx < 2) {
		/* a length prefix, read from the bytes loaded */
		if (pos >= blen || (!st->npfx && avail >= 2 && pos + 1 >= blen)) {
			st->state = WIRE_TCP_GONE;
			step->op = WIRE_TCP_LOST;
			return WIRE_TCP_LOST;
		}
		if (!st->npfx && avail < 2) {
			st->pfx = wire_u8(b, pos);
			st->npfx = 1;
			step->pos = pos + 1;
			return WIRE_TCP_SKIP;
		}
		if (st->npfx) {
			len = (__u32)st->pfx << 8 | wire_u8(b, pos);
			pos += 1;
		} else {
			len = wire_be16(b, pos);
			pos += 2;
		}
		st->npfx = 0;
		step->pos = pos;
		if (len > WIRE_DNS_TCP_MAX) {
			st->skip = len;
			step->op = WIRE_TCP_BIG;
			return WIRE_TCP_BIG;
		}
		if (!len)
			return WIRE_TCP_SKIP;
		avail = seglen - pos;
		if (len <= avail) {
			step->off = pos;
			step->len = len;
			step->pos = pos + len;
			step->op = WIRE_TCP_MSG;
			return WIRE_TCP_MSG;
		}
		st->msglen = (__u16)len;
		st->have = 0;
		st->npfx = 2;
		if (!avail)
			return WIRE_TCP_SKIP; /* the segment ended after it */
	}
	/* the part of a split message this segment holds */
	n = (__u32)st->msglen - st->have;
	if (n > avail)
		n = avail;
	step->off = pos;
	step->len = n;
	step->at = st->have;
	step->pos = pos + n;
	st->have = (__u16)(st->have + n);
	if (st->have >= st->msglen) {
		step->done = 1;
		st->npfx = 0;
	}
	step->op = WIRE_TCP_KEEP;
	return WIRE_TCP_KEEP;
}

#ifndef __BPF__
/*
 * The userspace twin of dns_ingress's TCP path, for the tests and the
 * fuzzer: one segment (seg: its seglen payload bytes) through the steps,
 * each message parsed into out and passed to fn (its wire_dns_parse
 * result too). Returns how many messages were parsed, or -1 when the
 * stream was lost; *big counts messages passed over.
 */
typedef void (*wire_dns_tcp_fn)(int rc, const struct wire_dns *out,
				void *arg);
static inline int wire_dns_tcp_feed(struct wire_dns_tcp *st, __u32 seq,
				    const __u8 *seg, __u32 seglen,
				    struct wire_dns *out, int *big,
				    wire_dns_tcp_fn fn, void *arg)
{
	static struct wire_buf b, m;
	struct wire_tcp_step step = {};
	int i, n = 0;

	b.len = seglen < WIRE_BUF ? seglen : WIRE_BUF;
	memcpy(b.data, seg, b.len);
	if (wire_dns_tcp_seg(st, seq, seglen, &step) == WIRE_TCP_LOST)
		return -1;
	for (i = 0; i < WIRE_DNS_TCP_STEPS; i++) {
		switch (wire_dns_tcp_next(st, &b, &step)) {
		case WIRE_TCP_END:
			return n;
		case WIRE_TCP_LOST:
			return -1;
		case WIRE_TCP_BIG:
			++*big;
			continue;
		case WIRE_TCP_SKIP:
			continue;
		case WIRE_TCP_MSG:
			m.len = step.len;
			memcpy(m.data, seg + step.off, step.len);
			break;
		case WIRE_TCP_KEEP:
			/* what dns_ingress can copy, or it gives up */
			if (step.len < 1 || step.len > WIRE_DNS_TCP_MAX ||
			    step.at >= WIRE_DNS_TCP_MAX) {
				st->state = WIRE_TCP_GONE;
				return -1;
			}
			memcpy(st->data + step.at, seg + step.off, step.len);
			if (!step.done)
				continue;
			m.len = st->msglen;
			memcpy(m.data, st->data, st->msglen);
			break;
		}
		fn(wire_dns_parse(&m, out), out, arg);
		n++;
	}
	/* steps left: as dns_ingress, the rest cannot be framed */
	if (step.pos < step.seglen) {
		st->state = WIRE_TCP_GONE;
		return -1;
	}
	return n;
}
#endif

/* ---- TLS ClientHello ---------------------------------------------------- */

/* end: where the structure says it stops; avail: bytes we can read */
WIRE_FN int wire_tls_need(__u32 upto, __u32 end, __u32 avail)
{
	if (upto > end)
		return WIRE_MALFORMED;
	if (upto > avail)
		return WIRE_INCOMPLETE;
	return WIRE_OK;
}

/*
 * server_name from a ClientHello at the start of a TCP stream. Reading past
 * the captured bytes or past the first record (a hello split over records)
 * is WIRE_INCOMPLETE: the name may be there, we cannot see it.
 */
WIRE_FN int wire_tls_sni(const struct wire_buf *b, struct wire_flow *out)
{
	__u32 *cur = &out->host.cur;
	__u32 len, avail, end, off, ext_end, elen, nlen;
	int i, n, rc;

	__builtin_memset(out, 0, sizeof(*out));
	wire_name_init(&out->host);
	out->proto = WIRE_P_TLS;
	len = WIRE_LAUNDER(*cur, wire_len(b));
	if (len < 1)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, 0) != 22)
		return WIRE_NOT_PROTO;
	if (len < 6)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, 1) != 3 || wire_u8(b, 2) > 4 || wire_u8(b, 5) != 1)
		return WIRE_NOT_PROTO;
	/* record header (5), handshake header (4) */
	avail = 5 + wire_be16(b, 3);
	if (avail > len)
		avail = len;
	if (len < 9)
		return WIRE_INCOMPLETE;
	end = 9 + ((__u32)wire_u8(b, 6) << 16 | wire_be16(b, 7));

	/* legacy_version (2), random (32), session id */
	off = 9 + 34;
	if ((rc = wire_tls_need(off + 1, end, avail)))
		return rc;
	n = wire_u8(b, off);
	if (n > 32)
		return WIRE_MALFORMED;
	off += 1 + n;
	if ((rc = wire_tls_need(off + 2, end, avail)))
		return rc;
	off += 2 + wire_be16(b, off); /* cipher suites */
	if ((rc = wire_tls_need(off + 1, end, avail)))
		return rc;
	off += 1 + wire_u8(b, off); /* compression methods */
	if (off == end)
		return WIRE_NO_SNI; /* no extensions at all */
	if ((rc = wire_tls_need(off + 2, end, avail)))
		return rc;
	ext_end = off + 2 + wire_be16(b, off);
	off += 2;
	if (ext_end > end)
		return WIRE_MALFORMED;

	/* GREASE and every other type are just skipped */
	for (i = 0; i < WIRE_TLS_EXTS; i++) {
		off = WIRE_LAUNDER(*cur, off);
		if (off == ext_end)
			return WIRE_NO_SNI;
		if ((rc = wire_tls_need(off + 4, ext_end, avail)))
			return rc;
		elen = wire_be16(b, off + 2);
		if (off + 4 + elen > ext_end)
			return WIRE_MALFORMED;
		if (wire_be16(b, off) == 0)
			goto sni;
		off += 4 + elen;
	}
	return WIRE_LIMIT;

sni:
	/* list length (2), then the first entry: type (1), length (2), name */
	off += 4;
	ext_end = off + elen;
	if ((rc = wire_tls_need(off + 5, ext_end, avail)))
		return rc;
	if (wire_u8(b, off + 2) != 0)
		return WIRE_NO_SNI; /* host_name is the only type defined */
	nlen = wire_be16(b, off + 3);
	off += 5;
	if ((rc = wire_tls_need(off + nlen, ext_end, avail)))
		return rc;
	if (wire_host_copy(b, off, off + nlen, &out->host, 0) != off + nlen)
		return WIRE_MALFORMED;
	return WIRE_OK;
}

/* ---- HTTP --------------------------------------------------------------- */

/* 1-5 decimal digits at *pos, at most 65535 */
WIRE_FN int wire_port(const struct wire_buf *b, __u32 *pos, __u32 len,
		      struct wire_flow *out)
{
	__u32 off = *pos, v = 0;
	int i;

	for (i = 0; i < 6; i++) {
		__u8 c;

		off = WIRE_LAUNDER(out->host.cur, off);
		if (off >= len)
			return WIRE_INCOMPLETE;
		c = wire_u8(b, off);
		if (c < '0' || c > '9') {
			if (!i)
				return WIRE_MALFORMED;
			break;
		}
		if (i == 5)
			return WIRE_MALFORMED;
		v = v * 10 + (c - '0');
		off++;
	}
	if (v > 65535)
		return WIRE_MALFORMED;
	out->port = (__u16)v;
	*pos = off;
	return WIRE_OK;
}

/* host[:port] or [v6-literal][:port] at *pos; ends at any non-host byte
 * (hend = len), or exactly at hend < len (an absolute URI's host, whose
 * port was read already) */
WIRE_FN int wire_authority(const struct wire_buf *b, __u32 *pos, __u32 len,
			   __u32 hend, struct wire_flow *out)
{
	__u32 off = *pos;
	__u8 stop = ':';
	long end;

	if (off >= len)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, off) == '[') {
		stop = ']';
		off++;
	}
	end = wire_host_copy(b, off, hend, &out->host, stop);
	if (end < 0)
		return WIRE_MALFORMED;
	if (hend < len) {
		/* an absolute URI's host: exactly [*pos, hend) */
		if (stop == ']' ? end + 1 != hend || wire_u8(b, end) != ']' :
				  end != hend)
			return WIRE_MALFORMED;
		*pos = hend;
		return WIRE_OK;
	}
	if (end >= len)
		return WIRE_INCOMPLETE;
	off = (__u32)end;
	if (stop == ']') {
		if (wire_u8(b, off) != ']')
			return WIRE_MALFORMED;
		off++;
		if (off >= len)
			return WIRE_INCOMPLETE;
	}
	*pos = off;
	if (wire_u8(b, off) != ':')
		return WIRE_OK;
	*pos = off + 1;
	return wire_port(b, pos, len, out);
}

#define WIRE_W_HTTP_URI 0x687474703a2f2fULL    /* "http://" */
#define WIRE_W_HTTPS_URI 0x68747470733a2f2fULL  /* "https://" */
#define WIRE_URI_AUTH 320 /* bytes of an absolute URI's authority */

/* the HTTP walks (wire_uri's, wire_http's): the bytes, where they keep
 * their state (st->pos: the offset) and where they must stop */
struct wire_http_walk {
	const struct wire_buf *b;
	struct wire_ip *st;
	__u32 len;
	__u32 pad;
};

/* wire_uri's walk over the authority, to len (its stop); st->len its end
 * once found (0 until then) */

WIRE_FN int wire_uri_step(__u64 i, void *arg)
{
	struct wire_http_walk *w = arg;
	struct wire_ip *st = w->st;
	__u32 p = WIRE_ONCE(st->pos);
	__u8 c;

	(void)i;
	if (p >= w->len) {
		st->len = w->len;
		return 1;
	}
	c = wire_u8(w->b, p);
	if (c == '/' || c == '?' || c == '#') {
		st->len = p;
		return 1;
	}
	if (c == '@') {
		st->acc = p + 1;
		st->dec = 0;
	} else if (c == ':') {
		st->dec = p;
	} else if (c == ']') {
		st->dec = 0;
	}
	WIRE_ONCE(st->pos) = p + 1;
	return 0;
}

/*
 * The authority of an absolute URI, from off (past "scheme://") to its
 * end at '/', '?', '#' or the space before the version (stop):
 * [userinfo@]host[:port], host a name or a [v6] literal. The last '@'
 * ends the userinfo, the last ':' after it (outside brackets) starts the
 * port; the positions are kept in memory (out->ip), not in registers. On
 * WIRE_OK the port is set and the host lies in [ip.acc, ip.dec), for
 * wire_http's one host copy.
 */
WIRE_FN int wire_uri(const struct wire_buf *b, __u32 off, __u32 stop,
		     __u16 defport, struct wire_flow *out)
{
	struct wire_ip *st = &out->ip;
	struct wire_http_walk w = { .b = b, .st = st, .len = stop };
	__u32 p, hs, he, end, v = 0;
	int i;

	out->proto = WIRE_P_FORWARD;
	st->acc = off;  /* host start */
	st->dec = 0;    /* the port's ':', 0 none */
	st->pos = off;
	st->len = 0;    /* the end: stop > off > 0 when found */
	WIRE_WALK(WIRE_URI_AUTH, wire_uri_step, &w);
	end = WIRE_ONCE(st->len);
	if (!end)
		return WIRE_LIMIT;
	hs = WIRE_ONCE(st->acc);
	he = WIRE_ONCE(st->dec);
	if (!he)
		he = end;
	if (he > end || hs >= he)
		return WIRE_MALFORMED;
	/* the port: 1-5 digits up to the end */
	if (he < end) {
		for (i = 0; i < 6; i++) {
			__u8 c;

			p = WIRE_LAUNDER(out->host.cur, he + 1 + i);
			if (p >= end)
				break;
			c = wire_u8(b, p);
			if (c < '0' || c > '9' || i == 5)
				return WIRE_MALFORMED;
			v = v * 10 + (c - '0');
		}
		if (!v || v > 65535)
			return WIRE_MALFORMED;
	} else {
		v = defport;
	}
	out->port = (__u16)v;
	/* the host, [hs, he): copied by wire_http's one wire_authority */
	st->acc = hs;
	st->dec = he;
	return WIRE_OK;
}

#define WIRE_W_CONNECT 0x434f4e4e454354ULL /* "CONNECT" */
#define WIRE_W_HTTP1 0x485454502f312e00ULL /* "HTTP/1." + version digit */
#define WIRE_W_HOST 0x0a686f73743aULL      /* "\nhost:" */

/* to the request line's LF; ends at it or past the bytes */
WIRE_FN int wire_line_step(__u64 i, void *arg)
{
	struct wire_http_walk *w = arg;
	struct wire_ip *st = w->st;
	__u32 off = WIRE_ONCE(st->pos);

	(void)i;
	if (off >= w->len || wire_u8(w->b, off) == '\n')
		return 1;
	WIRE_ONCE(st->pos) = off + 1;
	return 0;
}

/* a window over lower-cased header bytes (st->win) finds "\nhost:" (hit
 * 1, the offset past it) or the headers' end (hit 2) */
WIRE_FN int wire_hdr_step(__u64 i, void *arg)
{
	struct wire_http_walk *w = arg;
	struct wire_ip *st = w->st;
	__u32 off = WIRE_ONCE(st->pos);
	__u64 win;

	(void)i;
	if (off >= w->len)
		return 1;
	win = st->win << 8 | wire_lower(wire_u8(w->b, off));
	st->win = win;
	WIRE_ONCE(st->pos) = off + 1;
	if ((win & 0xffffffffffffULL) == WIRE_W_HOST)
		st->hit = 1;
	else if ((win & 0xffffffff) == 0x0d0a0d0a)
		st->hit = 2;
	return st->hit ? 1 : 0;
}

/*
 * An HTTP/1.x request: "METHOD target HTTP/1.x" CRLF, headers. CONNECT
 * takes host and port from its target; any other method from Host.
 */
WIRE_FN int wire_http(const struct wire_buf *b, struct wire_flow *out)
{
	struct wire_http_walk walk = { 0 };
	__u32 *cur = &out->host.cur;
	__u32 len, off, start, lf, hend;
	__u64 w = 0;
	int i, rc;

	__builtin_memset(out, 0, sizeof(*out));
	wire_name_init(&out->host);
	out->proto = WIRE_P_HTTP;
	len = WIRE_LAUNDER(*cur, wire_len(b));
	walk.b = b;
	walk.st = &out->ip;
	walk.len = len;
	/* i >= len would narrow len by a constant that differs per exit */
	for (i = 0; i < WIRE_HTTP_METHOD; i++) {
		__u8 c;

		off = WIRE_LAUNDER(*cur, i);
		if (off >= len)
			return WIRE_INCOMPLETE;
		c = wire_u8(b, off);
		if (c == ' ' && i)
			break;
		if (c < 'A' || c > 'Z' || i == WIRE_HTTP_METHOD - 1)
			return WIRE_NOT_PROTO;
		w = w << 8 | c;
	}
	/*
	 * w holds the last 8 method bytes: equal only for exactly CONNECT.
	 * Kept in memory: w's range differs per method length, and a live
	 * w (or a flag that is a constant on some exits) splits every state.
	 */
	if (w == WIRE_W_CONNECT)
		out->proto = WIRE_P_CONNECT;
	start = off = WIRE_LAUNDER(*cur, off + 1);

	/* the request line ends in " HTTP/1.x\r\n" */
	walk.st->pos = start;
	WIRE_WALK(WIRE_HTTP_LINE, wire_line_step, &walk);
	off = WIRE_ONCE(walk.st->pos);
	if (off - start >= WIRE_HTTP_LINE)
		return WIRE_LIMIT;
	if (off >= len)
		return WIRE_INCOMPLETE;
	lf = off;
	if (lf < start + 11 || wire_u8(b, lf - 1) != '\r' ||
	    wire_u8(b, lf - 10) != ' ')
		return WIRE_NOT_PROTO;
	w = 0;
	for (i = 9; i >= 2; i--)
		w = w << 8 | wire_u8(b, lf - i);
	if ((w & ~0xffULL) != WIRE_W_HTTP1 || (__u8)((w & 0xff) - '0') > 1)
		return WIRE_NOT_PROTO;

	/* a forward proxy's request names its target in the URI:
	 * "GET http://host[:port]/path HTTP/1.1" (lf >= start + 11: the
	 * 8 bytes are there) */
	if (WIRE_ONCE(out->proto) != WIRE_P_CONNECT) {
		w = 0;
		for (i = 0; i < 8; i++)
			w = w << 8 | wire_lower(wire_u8(b, start + i));
		if (w >> 8 == WIRE_W_HTTP_URI)
			rc = wire_uri(b, start + 7, lf - 10, 80, out);
		else if (w == WIRE_W_HTTPS_URI)
			rc = wire_uri(b, start + 8, lf - 10, 443, out);
		else
			rc = WIRE_OK;
		if (rc)
			return rc;
	}
	/* CONNECT names its authority in the target; a forward proxy's
	 * request in the URI; others in Host */
	off = start;
	if (WIRE_ONCE(out->proto) == WIRE_P_FORWARD) {
		off = WIRE_ONCE(out->ip.acc);
	} else if (WIRE_ONCE(out->proto) != WIRE_P_CONNECT) {
		walk.st->pos = lf + 1;
		walk.st->win = '\r' << 8 | '\n';
		walk.st->hit = 0;
		WIRE_WALK(WIRE_HTTP_HEAD, wire_hdr_step, &walk);
		off = WIRE_ONCE(walk.st->pos);
		if (WIRE_ONCE(walk.st->hit) == 2)
			return WIRE_NO_HOST;
		if (!WIRE_ONCE(walk.st->hit))
			return off - (lf + 1) >= WIRE_HTTP_HEAD ? WIRE_LIMIT :
								 WIRE_INCOMPLETE;
		for (i = 0; i < 32; i++) {
			__u8 c;

			off = WIRE_LAUNDER(*cur, off);
			if (off >= len)
				return WIRE_INCOMPLETE;
			c = wire_u8(b, off);
			if (c != ' ' && c != '\t')
				break;
			if (i == 31)
				return WIRE_MALFORMED;
			off++;
		}
	}
	/* one call for both: each inlined copy costs the verifier as much */
	/* the end in memory on every path, so the verifier walks the one
	 * host copy once for all of them */
	if (WIRE_ONCE(out->proto) != WIRE_P_FORWARD)
		out->ip.dec = len;
	hend = WIRE_ONCE(out->ip.dec);
	off = WIRE_LAUNDER(*cur, off);
	if ((rc = wire_authority(b, &off, len, hend, out)))
		return rc;
	if (WIRE_ONCE(out->proto) == WIRE_P_FORWARD)
		return WIRE_OK;
	/* CONNECT: the authority is the whole target, port included */
	if (WIRE_ONCE(out->proto) == WIRE_P_CONNECT)
		return off == lf - 10 && out->port ? WIRE_OK : WIRE_MALFORMED;
	for (i = 0; i < 32; i++) {
		__u8 c;

		off = WIRE_LAUNDER(*cur, off);
		if (off >= len)
			return WIRE_INCOMPLETE;
		c = wire_u8(b, off);
		if (c == '\r' || c == '\n')
			return WIRE_OK;
		if ((c != ' ' && c != '\t') || i == 31)
			return WIRE_MALFORMED;
		off++;
	}
	return WIRE_MALFORMED;
}

/* ---- SOCKS5 ------------------------------------------------------------- */

/*
 * The CONNECT request "05 01 00 ATYP addr port" at the start of the buffer.
 * The greeting "05 n methods" is a packet of its own and reads as
 * WIRE_NOT_PROTO; the caller parses the flow's next payload.
 */
WIRE_FN int wire_socks5(const struct wire_buf *b, struct wire_flow *out)
{
	__u32 len, alen, off;
	__u8 atyp;
	int k;

	__builtin_memset(out, 0, sizeof(*out));
	wire_name_init(&out->host);
	out->proto = WIRE_P_SOCKS5;
	len = WIRE_LAUNDER(out->host.cur, wire_len(b));
	if (len < 1)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, 0) != 5)
		return WIRE_NOT_PROTO;
	if (len < 2)
		return WIRE_INCOMPLETE;
	if (len == 2u + wire_u8(b, 1))
		return WIRE_NOT_PROTO; /* the greeting */
	if (len < 5)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, 1) != 1 || wire_u8(b, 2) != 0)
		return WIRE_NOT_PROTO;
	atyp = wire_u8(b, 3);
	if (atyp == 3) {
		alen = wire_u8(b, 4);
		off = 5 + alen;
		if (off + 2 > len)
			return WIRE_INCOMPLETE;
		if (wire_host_copy(b, 5, off, &out->host, 0) != off)
			return WIRE_MALFORMED;
	} else if (atyp == 1 || atyp == 4) {
		alen = atyp == 1 ? 4 : 16;
		off = 4 + alen;
		if (off + 2 > len)
			return WIRE_INCOMPLETE;
		for (k = 0; k < 16; k++)
			if ((__u32)k < alen)
				out->addr[k] = wire_u8(b, 4 + k);
		out->family = atyp == 1 ? WIRE_AF_INET : WIRE_AF_INET6;
	} else {
		return WIRE_MALFORMED;
	}
	out->port = wire_be16(b, off);
	return WIRE_OK;
}

/* ---- SOCKS4 / SOCKS4a ---------------------------------------------------- */

#define WIRE_SOCKS4_USER 64 /* USERID bytes walked */

/*
 * "04 01 port(2) ip(4) userid NUL" (SOCKS4), and with ip 0.0.0.x (x != 0)
 * a host name and NUL after the userid (SOCKS4a). There is no greeting:
 * the request is the flow's first payload. BIND (02) is not a way out.
 */
WIRE_FN int wire_socks4(const struct wire_buf *b, struct wire_flow *out)
{
	__u32 len, off = 0;
	long end;
	int i;

	__builtin_memset(out, 0, sizeof(*out));
	wire_name_init(&out->host);
	out->proto = WIRE_P_SOCKS4;
	len = WIRE_LAUNDER(out->host.cur, wire_len(b));
	if (len < 1)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, 0) != 4)
		return WIRE_NOT_PROTO;
	if (len < 9)
		return WIRE_INCOMPLETE;
	if (wire_u8(b, 1) != 1)
		return WIRE_NOT_PROTO;
	for (i = 0; i < WIRE_SOCKS4_USER; i++) {
		off = WIRE_LAUNDER(out->host.cur, 8 + i);
		if (off >= len)
			return WIRE_INCOMPLETE;
		if (!wire_u8(b, off))
			break;
		if (i == WIRE_SOCKS4_USER - 1)
			return WIRE_LIMIT;
	}
	off++;
	out->port = wire_be16(b, 2);
	if (!out->port)
		return WIRE_MALFORMED;
	if (!wire_u8(b, 4) && !wire_u8(b, 5) && !wire_u8(b, 6) &&
	    wire_u8(b, 7)) {
		/* SOCKS4a: the name, NUL-ended */
		end = wire_host_copy(b, off, len, &out->host, 0);
		if (end < 0)
			return WIRE_MALFORMED;
		if (end >= len)
			return WIRE_INCOMPLETE;
		return wire_u8(b, (__u32)end) ? WIRE_MALFORMED : WIRE_OK;
	}
	for (i = 0; i < 4; i++)
		out->addr[i] = wire_u8(b, 4 + i);
	out->family = WIRE_AF_INET;
	return WIRE_OK;
}

/* ---- address literals ----------------------------------------------------- */

WIRE_FN __u32 wire_hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return 16;
}

/* one character of an address literal; the state is in st */
WIRE_FN void wire_ip_step(struct wire_ip *st, __u8 c)
{
	__u32 hv = wire_hexval(c);

	/* is the last label a number as inet_aton reads one: digits, or
	 * 0x and hex digits? */
	if (c == '.') {
		st->lpos = st->lhex = st->lnon = st->l0 = 0;
	} else {
		if (!st->lpos && c == '0')
			st->l0 = 1;
		if (st->lpos == 1 && st->l0 && c == 'x')
			st->lhex = 1;
		else if (hv > (st->lhex ? 15 : 9))
			st->lnon = 1;
		st->lpos++;
	}
	if (st->bad)
		return;

	if (c == ':') {
		if (st->nd)
			st->bad = 1;     /* a ':' after the dotted tail */
		st->v6 = 1;
		if (st->colon) {
			if (st->dc != 8)
				st->bad = 1; /* a second "::" */
			st->dc = st->ng;
		} else if (st->digits) {
			if (st->ng >= 8)
				st->bad = 1;
			st->g[st->ng & 7] = (__u16)st->acc;
			st->ng++;
		} else if (st->pos) {
			st->bad = 1;     /* ":" after nothing */
		}
		st->colon = 1;
		st->acc = st->dec = st->digits = st->lead0 = 0;
		return;
	}
	st->colon = 0;
	if (c == '.') {
		if (!st->digits || st->digits > 3 || st->dec > 255 ||
		    st->nd >= 3 || st->lead0)
			st->bad = 1;
		st->q[st->nd & 3] = (__u8)st->dec;
		st->nd++;
		st->acc = st->dec = st->digits = st->lead0 = 0;
		return;
	}
	if (hv > 15 || st->digits >= 4) {
		st->bad = 1;
		return;
	}
	if (st->digits == 1 && !st->acc)
		st->lead0 = 1;
	st->digits++;
	st->acc = st->acc << 4 | hv;
	st->dec = hv > 9 ? 1000 : st->dec * 10 + hv;
}

/*
 * Where a walk cannot be bpf_loop's (the compat build: Linux before
 * 5.17) the step is a global function on a scalar, defined by the
 * program (skb.bpf.c): the verifier checks its branches once, not once
 * per character.
 */
#if defined(__BPF__) && defined(RW_COMPAT)
int ip_step_compat(__u32 c);
#define WIRE_IP_STEP(st, c) ((void)(st), ip_step_compat(c))
#else
#define WIRE_IP_STEP(st, c) wire_ip_step(st, c)
#endif

/* the walk's step: a character; 1 ends it */
struct wire_ip_walk {
	struct wire_ip *st;
	const char *text;
};

WIRE_FN int wire_ip_cb(__u64 i, void *arg)
{
	struct wire_ip_walk *w = arg;
	struct wire_ip *st = w->st;
	__u32 p = st->pos;

	(void)i;
	if (p >= st->len || p >= WIRE_NAME_MAX)
		return 1;
	WIRE_IP_STEP(st, (__u8)w->text[p & (WIRE_NAME_MAX - 1)]);
	st->pos = p + 1;
	return 0;
}

/*
 * A proxy target named by an address written as text (CONNECT 1.2.3.4:443,
 * a SOCKS5 or SOCKS4a "domain" that is a literal, an absolute URI's
 * [2001:db8::1]): its address in out->addr and out->family, as if the
 * bytes had carried it, so the address rules judge it. Dotted-quad IPv4
 * and IPv6 (with "::" and a dotted tail); ::ffff:a.b.c.d is IPv4.
 * Returns WIRE_OK when the host is a literal, else WIRE_NOT_PROTO.
 */
WIRE_GLOBAL int wire_ip_literal(struct wire_flow *out)
{
	struct wire_ip_walk walk;
	struct wire_ip *st;
	__u32 len, k, gap;

	if (!out || out->family)
		return out && out->family ? WIRE_OK : WIRE_NOT_PROTO;
	st = &out->ip;
	__builtin_memset(st, 0, sizeof(*st));
	st->dc = 8;
	len = WIRE_ONCE(out->host.len);
	if (len < 1 || len > 63)
		return WIRE_NOT_PROTO;
	walk.st = st;
	walk.text = out->host.name;
	st->len = len;
	WIRE_WALK(64, wire_ip_cb, &walk);
	/* no DNS name ends in a numeric label: a number this parser does not
	 * take (0x7f.1, 2130706433, 010.0.0.1) is an address to a resolver's
	 * inet_aton, and unknown here */
	if (WIRE_ONCE(st->bad) || (len > 45 && !st->v6)) {
		if (!st->v6 && st->lpos && !st->lnon && len <= 63)
			return WIRE_MALFORMED;
		return WIRE_NOT_PROTO;
	}
	if (WIRE_ONCE(st->nd)) {
		/* the dotted part's last number */
		if (st->nd != 3 || !st->digits || st->digits > 3 ||
		    st->dec > 255 || st->lead0)
			return st->v6 ? WIRE_NOT_PROTO : WIRE_MALFORMED;
		st->q[3] = (__u8)st->dec;
		if (!st->v6) {
			for (k = 0; k < 4; k++)
				out->addr[k] = st->q[k];
			out->family = WIRE_AF_INET;
			return WIRE_OK;
		}
		if (st->ng > 6)
			return WIRE_NOT_PROTO;
		st->g[st->ng & 7] = (__u16)(st->q[0] << 8 | st->q[1]);
		st->g[(st->ng + 1) & 7] = (__u16)(st->q[2] << 8 | st->q[3]);
		st->ng += 2;
	} else {
		if (!st->v6)  /* one number: 2130706433 is an address too */
			return st->lpos && !st->lnon ? WIRE_MALFORMED :
						       WIRE_NOT_PROTO;
		if (st->digits) {
			if (st->ng >= 8)
				return WIRE_NOT_PROTO;
			st->g[st->ng & 7] = (__u16)st->acc;
			st->ng++;
		} else if (!st->colon || st->dc != st->ng) {
			return WIRE_NOT_PROTO; /* ends in one ':' */
		}
	}
	if (st->dc == 8 ? st->ng != 8 : st->ng > 7)
		return WIRE_NOT_PROTO;
	/* the groups after "::" move to the end; zeros between */
	gap = 8 - st->ng;
	for (k = 0; k < 8; k++) {
		__u16 v = 0;

		if (k < st->dc)
			v = st->g[k & 7];
		else if (k >= st->dc + gap)
			v = st->g[(k - gap) & 7];
		out->addr[(2 * k) & 15] = v >> 8;
		out->addr[(2 * k + 1) & 15] = v & 0xff;
	}
	out->family = WIRE_AF_INET6;
	/* ::ffff:a.b.c.d is the IPv4 address */
	for (k = 0; k < 10; k++)
		if (out->addr[k])
			return WIRE_OK;
	if (out->addr[10] != 0xff || out->addr[11] != 0xff)
		return WIRE_OK;
	for (k = 0; k < 4; k++) {
		out->addr[k] = out->addr[12 + k];
		out->addr[12 + k] = 0;
	}
	out->addr[10] = out->addr[11] = 0;
	out->family = WIRE_AF_INET;
	return WIRE_OK;
}

/* ---- TLS records ------------------------------------------------------------ */

#define WIRE_TLS_RECORDS 4   /* records a ClientHello is joined from */
#define WIRE_JOIN_MAX 2048   /* bytes of a joined ClientHello; power of two */

#ifdef __BPF__
/* where the payload's bytes still are: the packet, from off */
struct wire_src {
	struct __sk_buff *skb;
	__u32 off;
};

/* n (1..WIRE_JOIN_MAX) bytes of payload at src into the buffer at dst */
WIRE_FN int wire_copy(const struct wire_src *s, struct wire_buf *b,
		      __u32 dst, __u32 src, __u32 n)
{
	__u64 m = n;

	m -= 1;
	asm volatile("" : "+r"(m));
	if (m >= WIRE_JOIN_MAX)
		return -1;
	return bpf_skb_load_bytes(s->skb, s->off + src,
				  &b->data[dst & (WIRE_JOIN_MAX - 1)], m + 1);
}
#else
struct wire_src {
	int unused;
};

WIRE_FN int wire_copy(const struct wire_src *s, struct wire_buf *b,
		      __u32 dst, __u32 src, __u32 n)
{
	(void)s;
	memmove(b->data + dst, b->data + src, n);
	return 0;
}
#endif

/*
 * A ClientHello sent in more than one handshake record (RFC 8446 5.1:
 * a handshake message may span records) is joined into the first, in
 * place, so that wire_tls_sni reads it as one: up to WIRE_TLS_RECORDS
 * records and WIRE_JOIN_MAX bytes. A record of another type in between
 * is malformed. Returns WIRE_OK (joined, or nothing to join) or the
 * reason it cannot be read: WIRE_LIMIT, WIRE_MALFORMED.
 */
WIRE_FN int wire_tls_join(const struct wire_src *s, struct wire_buf *b)
{
	__u32 len = wire_len(b), rlen, hs, dst, src, n, k;

	if (len < 9 || wire_u8(b, 0) != 22 || wire_u8(b, 5) != 1)
		return WIRE_OK;
	rlen = wire_be16(b, 3);
	hs = 4 + ((__u32)wire_u8(b, 6) << 16 | wire_be16(b, 7));
	if (rlen >= hs || 5 + rlen >= len)
		return WIRE_OK;  /* in one record, or cut inside it */
	dst = src = 5 + rlen;
	for (k = 1; k < WIRE_TLS_RECORDS; k++) {
		if (rlen >= hs || src + 5 > len)
			break;
		if (wire_u8(b, src) != 22 || wire_u8(b, src + 1) != 3)
			return WIRE_MALFORMED;
		n = wire_be16(b, src + 3);
		src += 5;
		if (!n)
			return WIRE_MALFORMED;
		if (n > len - src)
			n = len - src;
		if (dst + n > WIRE_JOIN_MAX)
			return WIRE_LIMIT;
		if (n && wire_copy(s, b, dst, src, n))
			return WIRE_MALFORMED;
		dst += n;
		src += n;
		rlen += n;
	}
	if (rlen < hs && src + 5 <= len)
		return WIRE_LIMIT;   /* more records than we join */
	b->data[3] = (__u8)(rlen >> 8);
	b->data[4] = (__u8)rlen;
	b->len = dst;
	return WIRE_OK;
}

/* The egress entry point: the first byte picks the parser. */
WIRE_FN int wire_flow_parse(const struct wire_buf *b, struct wire_flow *out)
{
	__u8 c = wire_len(b) ? wire_u8(b, 0) : 0;

	if (c == 22)
		return wire_tls_sni(b, out);
	if (c == 5)
		return wire_socks5(b, out);
	if (c == 4)
		return wire_socks4(b, out);
	if (c >= 'A' && c <= 'Z')
		return wire_http(b, out);
	__builtin_memset(out, 0, sizeof(*out));
	wire_name_init(&out->host);
	return wire_len(b) ? WIRE_NOT_PROTO : WIRE_INCOMPLETE;
}

/* what a target's address literal changes: the proxy kinds only */
WIRE_FN int wire_flow_is_proxy(const struct wire_flow *f)
{
	return f->proto >= WIRE_P_CONNECT;
}

#ifndef __BPF__
/*
 * The egress reading as the programs do it, in one call (unit tests,
 * fuzzer, check): records joined, the first payload parsed, a proxy
 * target written as an address literal turned into its address. b is
 * changed by the join.
 */
static inline int wire_flow_read(struct wire_buf *b, struct wire_flow *out)
{
	struct wire_src src = { 0 };
	int rc = wire_tls_join(&src, b);

	if (rc != WIRE_OK) {
		__builtin_memset(out, 0, sizeof(*out));
		wire_name_init(&out->host);
		out->proto = WIRE_P_TLS;
		return rc;
	}
	rc = wire_flow_parse(b, out);
	if (rc == WIRE_OK && wire_flow_is_proxy(out) &&
	    wire_ip_literal(out) == WIRE_MALFORMED)
		rc = WIRE_MALFORMED;
	return rc;
}
#endif

/*
 * A cleartext HTTP request's credential header: Authorization (its
 * scheme word, Bearer/Basic/..., skipped), X-Api-Key, Api-Key or
 * X-Goog-Api-Key, within the first WIRE_KEY_HEAD bytes of headers. On
 * WIRE_OK, k->off and k->len give the value (1..WIRE_KEY_MAX bytes, up to
 * the first space or CR) and k->hdr which header (enum wire_key_hdr); else
 * WIRE_NO_HOST when the headers end without one. The bytes stay where
 * they are: the caller copies what it must.
 */
#define WIRE_KEY_HEAD 1024
#define WIRE_KEY_MAX 192
enum wire_key_hdr {
	WIRE_KEY_AUTHORIZATION = 0,
	WIRE_KEY_X_API_KEY = 1,
	WIRE_KEY_API_KEY = 2,
	WIRE_KEY_X_GOOG_API_KEY = 3,
};
/* where a credential header's scan keeps its state (map memory in BPF):
 * on WIRE_OK, the value is [off, off + len) and hdr which header */
struct wire_key {
	__u32 off, len;
	__u8 hdr;
	__u8 pad[7];
	__u64 w, w2;    /* the scan's windows */
};
#define WIRE_W_IZATION 0x697a6174696f6e3aULL /* "ization:" */
#define WIRE_W_APIKEY 0x6170692d6b65793aULL  /* "api-key:" */

/* 1 when x is 0, else 0, without a branch: the compiler cannot see
 * through the empty asm to turn it back into a compare (each compare in
 * a walk is one more state per step for the verifier) */
WIRE_FN __u64 wire_is0(__u64 x)
{
	__u64 neg = 0 - x;

	asm volatile("" : "+r"(neg));
	return ((x | neg) >> 63) ^ 1;
}

/* bit per header the two windows end (w: the last 8 bytes, w2: the 8
 * before), lower-cased: 1 << enum wire_key_hdr; bit 4: the headers' end */
WIRE_FN __u64 wire_key_bits(__u64 w, __u64 w2)
{
	__u64 api = wire_is0(w ^ WIRE_W_APIKEY);

	return (wire_is0(w ^ WIRE_W_IZATION) &
		wire_is0((w2 & 0xffffffffffffffULL) ^ 0x0a617574686f72ULL)) |
	       (api & wire_is0((w2 & 0xffffff) ^ 0x0a782d)) << 1 |
	       (api & wire_is0((w2 & 0xff) ^ '\n')) << 2 |
	       (api & wire_is0(w2 ^ 0x0a782d676f6f672dULL)) << 3 |
	       wire_is0((w & 0xffffffff) ^ 0x0d0a0d0a) << 4;
}

/*
 * The header walk is bpf_loop's (its step verified once) where the
 * kernel has it (5.17+), else a plain loop of one branch per step
 * (wire_key_bits); the header found is kept in memory (k->hdr) so its
 * four values do not split the states of the walks after it.
 */
/* the header walk's step (one byte): bpf_loop's callback where the
 * kernel has it, a plain loop's body elsewhere */
struct wire_key_walk {
	const struct wire_buf *b;
	struct wire_key *k;
	__u64 bits;     /* wire_key_bits, or 0x20: past the bytes */
	__u32 len;
	__u32 pad;
};

WIRE_FN int wire_key_step(__u64 i, void *arg)
{
	struct wire_key_walk *s = arg;
	struct wire_key *k = s->k;
	__u32 off = k->off;
	__u64 w = k->w;

	(void)i;
	if (off >= s->len || off >= WIRE_BUF) {
		s->bits = 0x20;
		return 1;
	}
	/* read again: a register the check bounded lets clang drop the
	 * mask that bounds the index for the verifier */
	k->w2 = k->w2 << 8 | w >> 56;
	k->w = w = w << 8 | wire_lower(wire_u8(s->b, WIRE_ONCE(k->off)));
	k->off = off + 1;
	s->bits = wire_key_bits(w, k->w2);
	return s->bits ? 1 : 0;
}

/* a step of the value: ends at a space, CR or LF (bits 1), or past the
 * bytes (0x20) */
WIRE_FN int wire_value_step(__u64 i, void *arg)
{
	struct wire_key_walk *s = arg;
	struct wire_key *k = s->k;
	__u32 off = k->off;
	__u8 c;

	(void)i;
	if (off >= s->len || off >= WIRE_BUF) {
		s->bits = 0x20;
		return 1;
	}
	c = wire_u8(s->b, WIRE_ONCE(k->off)); /* as in wire_key_step */
	if (c == '\r' || c == ' ' || c == '\n') {
		s->bits = 1;
		return 1;
	}
	k->off = off + 1;
	return 0;
}


WIRE_FN int wire_http_key(const struct wire_buf *b, struct wire_key *k)
{
	struct wire_key_walk walk = { .b = b, .k = k, .len = wire_len(b) };
	__u32 *koff = &k->off, len = walk.len, off, start;
	int i;

	/* from the first byte: a request line holds no "\n", so the
	 * window matches only at the start of a header line */
	k->off = 0;
	k->w = '\n';
	k->w2 = 0;
	WIRE_WALK(WIRE_KEY_HEAD, wire_key_step, &walk);
	if (walk.bits & 0x20)
		return WIRE_INCOMPLETE;
	if (!walk.bits)
		return WIRE_LIMIT;
	if (walk.bits & 0x10)
		return WIRE_NO_HOST;
	k->hdr = walk.bits & 1 ? WIRE_KEY_AUTHORIZATION :
		 walk.bits & 2 ? WIRE_KEY_X_API_KEY :
		 walk.bits & 4 ? WIRE_KEY_API_KEY : WIRE_KEY_X_GOOG_API_KEY;
	off = WIRE_LAUNDER(*koff, k->off);
	/* spaces, then Authorization's scheme word (Bearer, Basic, ...) */
	for (i = 0; i < 32; i++) {
		off = WIRE_LAUNDER(*koff, off);
		if (off >= len)
			return WIRE_INCOMPLETE;
		if (wire_u8(b, off) != ' ' && wire_u8(b, off) != '\t')
			break;
		off++;
	}
	start = WIRE_LAUNDER(*koff, off);
	if (WIRE_ONCE(k->hdr) == WIRE_KEY_AUTHORIZATION) {
		for (i = 0; i < 16; i++) {
			off = WIRE_LAUNDER(*koff, off);
			if (off >= len)
				return WIRE_INCOMPLETE;
			if (wire_u8(b, off) == ' ') {
				start = off + 1;
				break;
			}
			if (wire_u8(b, off) == '\r')
				break;
			off++;
		}
	}
	/* the value: up to a space or the line's end */
	k->off = start;
	walk.bits = 0;
	WIRE_WALK(WIRE_KEY_MAX, wire_value_step, &walk);
	if (walk.bits & 0x20)
		return WIRE_INCOMPLETE;
	off = k->off;
	if (off <= start)
		return WIRE_MALFORMED;
	k->len = off - start;
	*koff = start;
	return WIRE_OK;
}

#ifdef __BPF__
/*
 * Copy the payload at off (up to WIRE_BUF bytes) into b. Returns 0, or
 * -1 when there is no payload or the copy fails.
 */
WIRE_FN int wire_buf_load(struct __sk_buff *skb, __u32 off,
			  struct wire_buf *b)
{
	__u64 len = skb->len, n;

	if (off >= len)
		return -1;
	/* 64-bit and hidden from clang: the verifier must see both bounds */
	n = len - off;
	asm volatile("" : "+r"(n));
	if (n > WIRE_BUF)
		n = WIRE_BUF;
	if (n < 1)
		return -1;
	/* Linux 6.1's verifier learns no lower bound from n != 0, and a
	 * length that may be 0 is refused: bound n - 1 and pass n - 1 + 1 */
	n -= 1;
	asm volatile("" : "+r"(n));
	if (n >= WIRE_BUF)
		return -1;
	b->len = (__u32)n + 1;
	return bpf_skb_load_bytes(skb, off, b->data, n + 1) ? -1 : 0;
}
#endif

#endif /* RELAYWATCH_WIRE_H */
