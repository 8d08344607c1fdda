// SPDX-License-Identifier: MIT
/*
 * Finding credentials by shape and by name, and naming them without
 * their value (keys.h). The expressions compile once; a text is searched
 * with REG_STARTEND, so an environment's NUL separators are just bytes
 * no shape contains.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/hmac.h>

#include "keys.h"
#include "keys_impl.h"

#define MAX_FORMATS 32
static regex_t re[MAX_FORMATS];
static int nr_re = -1;

static unsigned char site_key[256];
static size_t site_key_len;
static const char *site_scope;

static void compile(void)
{
	if (nr_re >= 0)
		return;
	for (nr_re = 0; key_formats[nr_re].ere && nr_re < MAX_FORMATS; nr_re++)
		if (regcomp(&re[nr_re], key_formats[nr_re].ere, REG_EXTENDED))
			abort(); /* a table entry is wrong: test_keys fails */
}

static ssize_t read_small(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

const char *keys_set_site_key(const char *path)
{
	ssize_t n = read_small(path ? path : "/etc/relaywatch/fingerprint.key",
			       site_key, sizeof(site_key));

	site_scope = "fleet";
	if (n < 16) {
		n = read_small("/etc/machine-id", site_key, sizeof(site_key));
		site_scope = "host";
	}
	if (n <= 0) {
		site_key_len = 0;
		return site_scope = NULL;
	}
	site_key_len = (size_t)n;
	return site_scope;
}

static bool tokchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void keys_name(const char *s, size_t n, size_t prefix, struct key_hit *h)
{
	unsigned char mac[32];
	unsigned int maclen = 0;

	if (site_scope == NULL && !site_key_len)
		keys_set_site_key(NULL);
	/* at least 8 characters stay hidden; short ones show nothing */
	if (n < 16)
		prefix = 0;
	else if (prefix + 4 + 8 > n)
		prefix = n - 12;
	if (n < 16)
		snprintf(h->display, sizeof(h->display), "…");
	else
		snprintf(h->display, sizeof(h->display), "%.*s…%.4s",
			 (int)(prefix < 24 ? prefix : 24), s, s + n - 4);
	h->fingerprint[0] = 0;
	if (site_key_len && HMAC(EVP_sha256(), site_key, (int)site_key_len,
				 (const unsigned char *)s, n, mac, &maclen) &&
	    maclen >= 8) {
		int o = snprintf(h->fingerprint, sizeof(h->fingerprint),
				 "hmac-sha256:");

		for (int i = 0; i < 8; i++)
			o += snprintf(h->fingerprint + o,
				      sizeof(h->fingerprint) - o, "%02x",
				      mac[i]);
	}
	memset(mac, 0, sizeof(mac));
}

static size_t shown_prefix(const struct key_format *f, const char *s,
			   size_t n)
{
	const char *d;

	if (f->prefix)
		return f->prefix;
	/* sk-proj-: up to the second '-' */
	d = memchr(s, '-', n);
	d = d ? memchr(d + 1, '-', n - (size_t)(d + 1 - s)) : NULL;
	return d ? (size_t)(d + 1 - s) : 3;
}

static void fill(struct key_hit *h, int fi, const char *text, size_t off,
		 size_t len)
{
	const struct key_format *f = &key_formats[fi];

	memset(h, 0, sizeof(*h));
	h->provider = f->provider;
	h->kind = f->kind;
	h->source = f->source;
	h->off = off;
	h->len = len;
	keys_name(text + off, len, shown_prefix(f, text + off, len), h);
}

/* the first match of format fi in text[from..len) standing alone (no
 * token character either side), or -1 */
static int find(int fi, const char *text, size_t len, size_t from,
		size_t *off, size_t *mlen)
{
	regmatch_t m;

	while (from < len) {
		m.rm_so = (regoff_t)from;
		m.rm_eo = (regoff_t)len;
		if (regexec(&re[fi], text, 1, &m, REG_STARTEND))
			return -1;
		if ((m.rm_so == 0 || !tokchar(text[m.rm_so - 1])) &&
		    ((size_t)m.rm_eo == len || !tokchar(text[m.rm_eo]))) {
			*off = (size_t)m.rm_so;
			*mlen = (size_t)(m.rm_eo - m.rm_so);
			return 0;
		}
		from = (size_t)m.rm_so + 1;
	}
	return -1;
}

#define MAX_HITS 64
static int by_off(const void *a, const void *b)
{
	const struct key_hit *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int keys_scan(const char *text, size_t len,
	      int (*cb)(const struct key_hit *h, void *ctx), void *ctx)
{
	struct key_hit hits[MAX_HITS];
	int n = 0, ret = 0;

	compile();
	for (int fi = 0; fi < nr_re && n < MAX_HITS; fi++) {
		size_t from = 0, off, mlen;

		while (n < MAX_HITS && !find(fi, text, len, from, &off, &mlen)) {
			bool taken = false;

			for (int i = 0; i < n && !taken; i++)
				taken = off < hits[i].off + hits[i].len &&
					hits[i].off < off + mlen;
			if (!taken)
				fill(&hits[n++], fi, text, off, mlen);
			from = off + mlen;
		}
	}
	qsort(hits, n, sizeof(hits[0]), by_off);
	for (int i = 0; i < n && !ret; i++)
		ret = cb(&hits[i], ctx);
	return ret;
}

bool keys_named(const char *name, size_t nlen, const char *value,
		size_t vlen, struct key_hit *h)
{
	size_t off, mlen;

	compile();
	while (vlen && (*value == '"' || *value == '\'' || *value == ' ')) {
		value++;
		vlen--;
	}
	while (vlen && (value[vlen - 1] == '"' || value[vlen - 1] == '\'' ||
			value[vlen - 1] == ' ' || value[vlen - 1] == ',' ||
			value[vlen - 1] == '\r'))
		vlen--;
	if (vlen < 8)
		return false; /* empty, a placeholder */
	for (int fi = 0; fi < nr_re; fi++)
		if (!find(fi, value, vlen, 0, &off, &mlen) && off == 0 &&
		    mlen == vlen) {
			fill(h, fi, value, 0, vlen);
			return true;
		}
	for (const struct key_name *k = key_names; k->name; k++)
		if (strlen(k->name) == nlen && !strncasecmp(k->name, name, nlen)) {
			memset(h, 0, sizeof(*h));
			h->provider = k->provider;
			h->kind = k->kind;
			h->by_name = true;
			keys_name(value, vlen, 0, h);
			return true;
		}
	return false;
}

void keys_value(const char *v, size_t n, const char *kind, struct key_hit *h)
{
	if (keys_named("", 0, v, n, h))
		return;
	memset(h, 0, sizeof(*h));
	h->provider = "unknown";
	h->kind = kind;
	keys_name(v, n, 0, h);
}
