// SPDX-License-Identifier: MIT
/*
 * Where tables come from: the blob compiled in from etc/geo/country.bin.z,
 * blob files, and RIR delegated-stats files. The blob is untrusted input
 * (a refreshed file may be damaged): every size, count and entry is
 * checked before use, and inflating stops at GEO_MAX_RAW.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

#define GEO_INTERNAL
#include "geo.h"

#define GEO_MAGIC "RWGC"
#define GEO_VERSION 1
#define GEO_HDR_LEN 64
#define GEO_MAX_RAW (32u << 20) /* the real table inflates to ~3 MiB */

/* .incbin resolves the path against the compiler's working directory: the
 * build runs from the repository root, and the Makefile makes this object
 * depend on the blob. GEO_NO_EMBED is for scripts/geo-convert.c, which
 * writes the file this would include. */
#ifndef GEO_NO_EMBED
__asm__("	.pushsection .rodata, \"a\"\n"
	"	.balign 16\n"
	"	.globl geo_blob\n"
	"	.hidden geo_blob\n"
	"	.type geo_blob, %object\n"
	"geo_blob:\n"
	"	.incbin \"etc/geo/country.bin.z\"\n"
	"geo_blob_end:\n"
	"	.size geo_blob, . - geo_blob\n"
	"	.balign 4\n"
	"	.globl geo_blob_len\n"
	"	.hidden geo_blob_len\n"
	"	.type geo_blob_len, %object\n"
	"geo_blob_len:\n"
	"	.long geo_blob_end - geo_blob\n"
	"	.size geo_blob_len, 4\n"
	"	.popsection\n");
extern const unsigned char geo_blob[];
extern const __u32 geo_blob_len;
#else
static const unsigned char geo_blob[1];
static const __u32 geo_blob_len;
#endif

void geo_embedded_blob(const void **blob, size_t *len)
{
	*blob = geo_blob;
	*len = geo_blob_len;
}

int geo_load_embedded(struct geo **out, char *err, size_t errlen)
{
	return geo_load_blob(out, geo_blob, geo_blob_len, err, errlen);
}

/* Blob payload (little-endian; etc/geo/README.md has the byte layout): a
 * 64-byte header, then per family nr cc codes (u16), nr-1 shift bytes and
 * nr-1 LEB128 varints m, where start[i] - start[i-1] = (2m + 1) << shift.
 * Deltas of CIDR-like ranges end in long runs of zero bits, so an entry
 * takes ~5 bytes before zlib and ~1 after, for v6 as for v4. */
static int decode_tab(struct geo_tab *t, int fi, const __u8 *p, size_t len,
		      size_t nr, char *err, size_t errlen)
{
	const __u8 *sh, *m, *end = p + len;
	u128 start = 0, max = geo_max(fi);

	/* 2 cc bytes per entry, then at least 2 bytes per delta */
	if (nr < 1 || nr > len / 4 + 1 || len < 4 * nr - 2) {
		geo_seterr(err, errlen,
			   "corrupt geo table: v%d section too short",
			   fi ? 6 : 4);
		return -EBADMSG;
	}
	sh = p + 2 * nr;
	m = sh + nr - 1;
	if (geo_tab_alloc(t, fi, nr))
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		__u16 cc = p[2 * i] | p[2 * i + 1] << 8;
		u128 v = 0;
		int s = 0;

		if (cc >= GEO_NR_CC)
			goto bad;
		if (i) {
			if (sh[i - 1] >= geo_bits(fi))
				goto bad;
			/* no bits may fall off the top of a u128 */
			do {
				if (m == end || s > 126 ||
				    (s > 121 && (*m & 0x7f) >> (128 - s)))
					goto bad;
				v |= (u128)(*m & 0x7f) << s;
				s += 7;
			} while (*m++ & 0x80);
			/* the delta must stay inside the address space */
			if (v > (max >> sh[i - 1]) >> 1)
				goto bad;
			v = (v << 1 | 1) << sh[i - 1];
			if (v > max - start)
				goto bad;
			start += v;
		}
		geo_tab_set(t, fi, i, start, cc);
	}
	if (m == end)
		return 0;
bad:
	geo_tab_free(t);
	geo_seterr(err, errlen, "corrupt geo table: bad v%d entry", fi ? 6 : 4);
	return -EBADMSG;
}

/* The stream must end exactly where the input does: bytes after it mean
 * the blob is not what geo_encode() wrote. */
static int inflate_blob(const void *in, size_t len, __u8 **out, size_t *olen,
			size_t *ocap, char *err, size_t errlen)
{
	z_stream zs = { .next_in = (Bytef *)in, .avail_in = len };
	size_t cap = 4u << 20;
	__u8 *buf, *nb;
	int rc, ret = -EBADMSG;

	if (len > UINT32_MAX) {
		geo_seterr(err, errlen, "geo table of %zu bytes is too big",
			   len);
		return -EFBIG;
	}
	buf = geo_big_alloc(cap);
	if (!buf || inflateInit(&zs) != Z_OK) {
		geo_big_free(buf, cap);
		return -ENOMEM;
	}
	/* grow the output until the stream ends or the cap is hit */
	for (;;) {
		if (zs.total_out == cap) {
			if (cap >= GEO_MAX_RAW) {
				geo_seterr(err, errlen,
					   "geo table inflates past %u bytes",
					   GEO_MAX_RAW);
				goto out;
			}
			nb = geo_big_alloc(2 * cap);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			memcpy(nb, buf, cap);
			geo_big_free(buf, cap);
			buf = nb;
			cap *= 2;
		}
		zs.next_out = buf + zs.total_out;
		zs.avail_out = cap - zs.total_out;
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_OK || (rc == Z_BUF_ERROR && !zs.avail_out))
			continue;
		geo_seterr(err, errlen, "corrupt geo table: %s",
			   rc == Z_BUF_ERROR ? "truncated" :
			   zs.msg ? zs.msg : "inflate failed");
		ret = rc == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
		goto out;
	}
	if (zs.avail_in) {
		geo_seterr(err, errlen, "corrupt geo table: trailing bytes");
		goto out;
	}
	*out = buf;
	*olen = zs.total_out;
	*ocap = cap;
	buf = NULL;
	ret = 0;
out:
	inflateEnd(&zs);
	geo_big_free(buf, cap);
	return ret;
}

static __u32 le32(const __u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

int geo_embedded_entries(size_t *n4, size_t *n6)
{
	z_stream zs = { .next_in = (Bytef *)geo_blob,
			.avail_in = geo_blob_len };
	__u8 hdr[GEO_HDR_LEN];
	int rc;

	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_out = hdr;
	zs.avail_out = sizeof(hdr);
	rc = inflate(&zs, Z_SYNC_FLUSH);
	inflateEnd(&zs);
	if ((rc != Z_OK && rc != Z_STREAM_END) || zs.avail_out ||
	    memcmp(hdr, GEO_MAGIC, 4))
		return -EBADMSG;
	*n4 = le32(hdr + 8);
	*n6 = le32(hdr + 12);
	return 0;
}

int geo_load_blob(struct geo **out, const void *blob, size_t len, char *err,
		  size_t errlen)
{
	struct geo *g = NULL;
	__u8 *raw = NULL;
	size_t n, cap, l4, l6;
	int ret;

	*out = NULL;
	ret = inflate_blob(blob, len, &raw, &n, &cap, err, errlen);
	if (ret)
		return ret;
	/* the header first: no count or length in it is trusted before */
	ret = -EBADMSG;
	if (n < GEO_HDR_LEN || memcmp(raw, GEO_MAGIC, 4)) {
		geo_seterr(err, errlen, "not a geo table: bad magic");
		goto cleanup;
	}
	if ((raw[4] | raw[5] << 8) != GEO_VERSION ||
	    (raw[6] | raw[7] << 8) != GEO_HDR_LEN) {
		geo_seterr(err, errlen, "unsupported geo table version %d",
			   raw[4] | raw[5] << 8);
		goto cleanup;
	}
	l4 = le32(raw + 16);
	l6 = le32(raw + 20);
	if (l4 + l6 != n - GEO_HDR_LEN) {
		geo_seterr(err, errlen,
			   "corrupt geo table: sizes do not add up");
		goto cleanup;
	}
	ret = -ENOMEM;
	g = geo_alloc(NULL);
	if (!g)
		goto cleanup;
	memcpy(g->source, raw + 24, GEO_SRC_LEN - 1);
	ret = decode_tab(&g->t[0], 0, raw + GEO_HDR_LEN, l4, le32(raw + 8),
			 err, errlen);
	if (!ret)
		ret = decode_tab(&g->t[1], 1, raw + GEO_HDR_LEN + l4, l6,
				 le32(raw + 12), err, errlen);
	if (!ret) {
		*out = g;
		g = NULL;
	}
cleanup:
	geo_free(g);
	geo_big_free(raw, cap);
	return ret;
}

/* Read whole: a table is well under a megabyte compressed. */
int geo_load_file(struct geo **out, const char *path, char *err,
		  size_t errlen)
{
	char *buf = NULL, why[160] = "out of memory";
	long n = -1;
	FILE *f;
	int ret;

	*out = NULL;
	errno = 0;
	f = fopen(path, "re");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc(n + 1)) ||
	    fread(buf, 1, n, f) != (size_t)n) {
		ret = errno ? -errno : -EIO;
		geo_seterr(err, errlen, "failed to read %s: %s", path,
			   strerror(-ret));
		goto cleanup;
	}
	ret = geo_load_blob(out, buf, n, why, sizeof(why));
	if (ret)
		geo_seterr(err, errlen, "%s: %s", path, why);
cleanup:
	free(buf);
	if (f)
		fclose(f);
	return ret;
}

/* A growing output buffer for geo_encode(). */
struct obuf {
	__u8 *p;
	size_t n, cap;
};

static int obuf_put(struct obuf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1u << 20;
		__u8 *np;

		while (cap < b->n + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
	return 0;
}

/* The inverse of decode_tab(), column by column (zlib likes columns). */
static int encode_tab(const struct geo_tab *t, int fi, struct obuf *b)
{
	int ret = 0;

	for (size_t i = 0; i < t->nr && !ret; i++) {
		__u16 cc = geo_cc(t, fi, i);
		__u8 c[2] = { cc & 0xff, cc >> 8 };

		ret = obuf_put(b, c, 2);
	}
	for (size_t i = 1; i < t->nr && !ret; i++) {
		__u8 s = geo_ctz(geo_start(t, fi, i) - geo_start(t, fi, i - 1));

		ret = obuf_put(b, &s, 1);
	}
	for (size_t i = 1; i < t->nr && !ret; i++) {
		u128 d = geo_start(t, fi, i) - geo_start(t, fi, i - 1);
		__u8 v[19];
		int n = 0;

		d = d >> geo_ctz(d) >> 1;
		do {
			v[n++] = (d & 0x7f) | (d >> 7 ? 0x80 : 0);
			d >>= 7;
		} while (d);
		ret = obuf_put(b, v, n);
	}
	return ret;
}

static void put_le32(__u8 *p, size_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = v >> (8 * k);
}

int geo_encode(const struct geo *g, void **blob, size_t *len)
{
	__u8 hdr[GEO_HDR_LEN] = { 0 }, *z = NULL;
	struct obuf b = { 0 };
	uLongf zlen;
	size_t l4;
	int ret;

	*blob = NULL;
	if (g->t[0].nr > UINT32_MAX || g->t[1].nr > UINT32_MAX)
		return -EFBIG;
	ret = obuf_put(&b, hdr, sizeof(hdr));
	ret = ret ?: encode_tab(&g->t[0], 0, &b);
	if (ret)
		goto cleanup;
	l4 = b.n - GEO_HDR_LEN;
	ret = encode_tab(&g->t[1], 1, &b);
	if (ret)
		goto cleanup;
	memcpy(b.p, GEO_MAGIC, 4);
	b.p[4] = GEO_VERSION;
	b.p[6] = GEO_HDR_LEN;
	put_le32(b.p + 8, g->t[0].nr);
	put_le32(b.p + 12, g->t[1].nr);
	put_le32(b.p + 16, l4);
	put_le32(b.p + 20, b.n - GEO_HDR_LEN - l4);
	memcpy(b.p + 24, g->source, strnlen(g->source, GEO_SRC_LEN - 1));
	/* fixed level, one-shot: the same table always gives the same bytes */
	ret = -ENOMEM;
	zlen = compressBound(b.n);
	z = malloc(zlen);
	if (!z || compress2(z, &zlen, b.p, b.n, Z_BEST_COMPRESSION) != Z_OK)
		goto cleanup;
	*blob = z;
	*len = zlen;
	z = NULL;
	ret = 0;
cleanup:
	free(z);
	free(b.p);
	return ret;
}


/* One delegated-stats line (registry|cc|type|start|value|date|status, the
 * extended format adding fields after status): 1 and *sp filled for a
 * range, 0 for a line to skip, -EINVAL with the reason in why. A v4 value
 * is an address count (often not a power of two), a v6 one a prefix
 * length. */
static int rir_line(char *line, struct geo_span *sp, char *why, size_t len)
{
	char *f[8], *end;
	unsigned long long val;
	__u8 a[16];
	int nf = 0, fi;

	/* f[7] keeps whatever follows status (extended format) */
	f[nf++] = line;
	for (char *p = line; nf < 8 && (p = strchr(p, '|'));) {
		*p++ = '\0';
		f[nf++] = p;
	}
	if (!*line || *line == '#' || isdigit((unsigned char)*line) ||
	    (nf == 6 && !strcmp(f[5], "summary")))
		return 0; /* comment, version header, summary */
	if (nf < 7) {
		snprintf(why, len,
			 "expected registry|cc|type|start|value|date|status");
		return -EINVAL;
	}
	if (!strcmp(f[2], "asn"))
		return 0;
	if (strcmp(f[2], "ipv4") && strcmp(f[2], "ipv6")) {
		snprintf(why, len, "unknown record type '%s'", f[2]);
		return -EINVAL;
	}
	/* the registries' own pools carry no country (ZZ or empty) */
	if (!strcmp(f[6], "available") || !strcmp(f[6], "reserved") ||
	    !*f[1] || !strcmp(f[1], "ZZ"))
		return 0;
	if (strcmp(f[6], "allocated") && strcmp(f[6], "assigned")) {
		snprintf(why, len, "unknown status '%s'", f[6]);
		return -EINVAL;
	}
	sp->cc = geo_cc_code(f[1]);
	if (!sp->cc) {
		snprintf(why, len, "bad country code '%s'", f[1]);
		return -EINVAL;
	}
	fi = sp->fi = f[2][3] == '6';
	if (inet_pton(geo_af(fi), f[3], a) != 1) {
		snprintf(why, len, "bad %s address '%s'", f[2], f[3]);
		return -EINVAL;
	}
	sp->lo = geo_get_be(a, fi ? 16 : 4);
	errno = 0;
	val = strtoull(f[4], &end, 10);
	if (!isdigit((unsigned char)*f[4]) || *end || errno ||
	    (fi ? val > 128 : !val || val > 1ull << 32)) {
		snprintf(why, len, "bad %s '%s'",
			 fi ? "prefix length" : "count", f[4]);
		return -EINVAL;
	}
	if (fi) {
		sp->hi = sp->lo | ~geo_prefix_mask(1, val);
		if (sp->lo & ~geo_prefix_mask(1, val)) {
			snprintf(why, len, "%s/%s has host bits set", f[3],
				 f[4]);
			return -EINVAL;
		}
	} else {
		sp->hi = sp->lo + val - 1;
		if (sp->hi > geo_max(0)) {
			snprintf(why, len, "%s + %s runs past 255.255.255.255",
				 f[3], f[4]);
			return -EINVAL;
		}
	}
	return 1;
}

/* Ranges of one file may not overlap each other (the registries' files
 * never do; two concatenated copies would); they do override g. */
int geo_merge_rir_file(struct geo *g, const char *path, char *err,
		       size_t errlen)
{
	struct geo_span *sp = NULL, *nsp;
	size_t n = 0, cap = 0, lcap = 0;
	FILE *f = fopen(path, "re");
	char *line = NULL, why[128];
	ssize_t l;
	int ret = 0, ln = 0;

	if (!f) {
		ret = -errno;
		geo_seterr(err, errlen, "failed to open %s: %s", path,
			   strerror(errno));
		return ret;
	}
	/* a free span slot is kept ahead of the parser */
	while (!ret && (l = getline(&line, &lcap, f)) >= 0) {
		ln++;
		while (l > 0 && isspace((unsigned char)line[l - 1]))
			line[--l] = '\0';
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			nsp = realloc(sp, cap * sizeof(*sp));
			if (!nsp) {
				ret = -ENOMEM;
				break;
			}
			sp = nsp;
		}
		ret = rir_line(line, &sp[n], why, sizeof(why));
		if (ret < 0)
			geo_seterr(err, errlen, "%s:%d: %s", path, ln, why);
		else if (ret)
			sp[n++].line = ln;
		ret = ret < 0 ? ret : 0;
	}
	if (!ret && ferror(f))
		ret = -EIO;
	if (ret == -ENOMEM || ret == -EIO)
		geo_seterr(err, errlen, "failed to read %s: %s", path,
			   strerror(-ret));
	if (!ret && !n) {
		geo_seterr(err, errlen,
			   "%s: no allocated or assigned ipv4/ipv6 records",
			   path);
		ret = -EINVAL;
	}
	if (!ret)
		ret = geo_apply(g, sp, n, true, path, err, errlen);
	free(line);
	free(sp);
	fclose(f);
	return ret;
}

int geo_load_rir_file(struct geo **out, const char *path, char *err,
		      size_t errlen)
{
	char src[GEO_SRC_LEN], *copy = strdup(path);
	struct geo *g;
	int ret;

	*out = NULL;
	if (!copy)
		return -ENOMEM;
	/* POSIX basename() may write to its argument */
	snprintf(src, sizeof(src), "rir %s", basename(copy));
	free(copy);
	ret = geo_new(&g, src);
	if (ret)
		return ret;
	ret = geo_merge_rir_file(g, path, err, errlen);
	if (ret)
		geo_free(g);
	else
		*out = g;
	return ret;
}
