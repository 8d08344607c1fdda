// SPDX-License-Identifier: MIT
/*
 * Intel sets. A source is parsed whole into a scratch set (intel_load.c),
 * then merged. Domains and CIDRs share one open-addressing hash keyed by
 * (name, wildcard) or (family, prefix length, network); an address lookup
 * probes only the prefix lengths present, longest first.
 */
#include "intel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "intel_impl.h"
#include "cidr.h"
#include "names.h"

_Static_assert(INTEL_NAME_MAX == HOSTNAME_MAX, "one host name syntax");

struct intel {
	struct intel_entry **ents; /* first-added order */
	size_t n, cap;
	size_t *tab;               /* index + 1 into ents, 0 = free */
	size_t tabcap;             /* power of two, kept >= 2 * cap */
	struct intel_source *srcs;
	size_t nsrc;
	__u64 plens[2][3];         /* [v6][len / 64]: prefix lengths present */
	size_t count[INTEL_CAT__MAX];
};

static const char *const cat_names[INTEL_CAT__MAX] = {
	[INTEL_CAT_AI_OVERSEAS] = "ai-overseas",
	[INTEL_CAT_AI_RELAY] = "ai-relay",
	[INTEL_CAT_AI_DOMESTIC] = "ai-domestic",
	[INTEL_CAT_AI_DOMESTIC_INTL] = "ai-domestic-intl",
	[INTEL_CAT_AI_TELEMETRY] = "ai-telemetry",
	[INTEL_CAT_DNS_ENCRYPTED] = "dns-encrypted",
};

const char *intel_category_name(int cat)
{
	return cat > INTEL_CAT_NONE && cat < INTEL_CAT__MAX ? cat_names[cat]
							    : NULL;
}

int intel_category_parse(const char *s)
{
	int i;

	for (i = INTEL_CAT_NONE + 1; s && i < INTEL_CAT__MAX; i++)
		if (!strcasecmp(s, cat_names[i]))
			return i;
	return -EINVAL;
}

const char *intel_confidence_name(int conf)
{
	if (conf == INTEL_CONF_VERIFIED)
		return "verified";
	return conf == INTEL_CONF_LIKELY ? "likely" : "";
}

void intel_entry_free(struct intel_entry *e)
{
	if (!e)
		return;
	free(e->domain);
	free(e->provider);
	free(e);
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static __u64 fnv1a(__u64 h, const void *p, size_t n)
{
	const __u8 *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static __u64 key_hash(const struct intel_entry *e)
{
	__u64 h = 0xcbf29ce484222325ULL;
	__u8 k[2];

	if (e->is_cidr) {
		k[0] = e->cidr.family == AF_INET6 ? 6 : 4;
		k[1] = e->cidr.prefixlen;
		h = fnv1a(h, k, 2);
		return fnv1a(h, e->cidr.addr, addr_len(e->cidr.family));
	}
	k[0] = e->wildcard;
	h = fnv1a(h, k, 1);
	return fnv1a(h, e->domain, strlen(e->domain));
}

static bool key_equal(const struct intel_entry *a, const struct intel_entry *b)
{
	if (a->is_cidr != b->is_cidr)
		return false;
	if (a->is_cidr)
		return a->cidr.family == b->cidr.family &&
		       a->cidr.prefixlen == b->cidr.prefixlen &&
		       !memcmp(a->cidr.addr, b->cidr.addr,
			       addr_len(a->cidr.family));
	return a->wildcard == b->wildcard && !strcmp(a->domain, b->domain);
}

/* Linear probing: the slot holding k, or the free slot where k would go.
 * The table never fills (load <= 1/2), so the loop ends. */
static size_t *slot_of(const struct intel *in, const struct intel_entry *k)
{
	size_t mask = in->tabcap - 1, i = key_hash(k) & mask;

	while (in->tab[i] && !key_equal(in->ents[in->tab[i] - 1], k))
		i = (i + 1) & mask;
	return &in->tab[i];
}

static const struct intel_entry *find(const struct intel *in,
				      const struct intel_entry *k)
{
	size_t *s = slot_of(in, k);

	return *s ? in->ents[*s - 1] : NULL;
}

/* Room for need entries, so that a merge cannot fail half-way. */
static int reserve(struct intel *in, size_t need)
{
	struct intel_entry **ents;
	size_t cap, i, *tab, *old = in->tab;

	if (need <= in->cap)
		return 0;
	for (cap = in->cap ? in->cap : 64; cap < need; cap *= 2)
		;
	ents = realloc(in->ents, cap * sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	in->ents = ents;
	tab = calloc(cap * 2, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	in->cap = cap;
	in->tab = tab;
	in->tabcap = cap * 2;
	for (i = 0; i < in->n; i++)
		*slot_of(in, in->ents[i]) = i + 1;
	free(old);
	return 0;
}

int intel_new(struct intel **out)
{
	struct intel *in = calloc(1, sizeof(*in));

	if (!in || reserve(in, 64)) {
		intel_free(in);
		return -ENOMEM;
	}
	*out = in;
	return 0;
}

void intel_free(struct intel *in)
{
	size_t i;

	if (!in)
		return;
	for (i = 0; i < in->n; i++)
		intel_entry_free(in->ents[i]);
	for (i = 0; i < in->nsrc; i++) {
		free(in->srcs[i].name);
		free(in->srcs[i].updated);
	}
	free(in->srcs);
	free(in->ents);
	free(in->tab);
	free(in);
}


static void mask_addr(__u8 *a, unsigned int plen, unsigned int bits)
{
	unsigned int i;

	for (i = plen; i < bits; i++)
		a[i / 8] &= (__u8)~(0x80 >> (i % 8));
}

const struct intel_entry *intel_lookup_name(const struct intel *in,
					    const char *name)
{
	struct intel_entry k = {};
	const struct intel_entry *e;
	char buf[INTEL_NAME_MAX + 1];
	const char *p;

	if (!in || !name || hostname_norm(name, buf, NULL))
		return NULL;
	k.domain = buf;
	e = find(in, &k);
	k.wildcard = true;
	/* suffixes from the longest: the first hit is the longest wildcard */
	for (p = strchr(buf, '.'); !e && p; p = strchr(p + 1, '.')) {
		k.domain = (char *)p + 1;
		e = find(in, &k);
	}
	return e;
}

/* One probe per prefix length in use, longest first: the first hit is the
 * longest match, and a set of /32s costs one probe, not a scan. */
const struct intel_entry *intel_lookup_addr(const struct intel *in,
					    int family, const __u8 *addr)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct intel_entry k = { .is_cidr = true };
	const struct intel_entry *e;
	unsigned int bits;
	int len, v6;

	if (!in || !addr || (family != AF_INET && family != AF_INET6))
		return NULL;
	if (family == AF_INET6 && !memcmp(addr, v4mapped, sizeof(v4mapped))) {
		family = AF_INET;
		addr += 12;
	}
	v6 = family == AF_INET6;
	bits = v6 ? 128 : 32;
	k.cidr.family = family;
	for (len = (int)bits; len >= 0; len--) {
		if (!(in->plens[v6][len / 64] & (1ULL << (len % 64))))
			continue;
		memcpy(k.cidr.addr, addr, bits / 8);
		mask_addr(k.cidr.addr, (unsigned int)len, bits);
		k.cidr.prefixlen = (__u8)len;
		e = find(in, &k);
		if (e)
			return e;
	}
	return NULL;
}

const struct intel_entry *intel_lookup(const struct intel *in, const char *s)
{
	__u8 addr[16];
	int family;

	if (s && !addr_parse(s, &family, addr))
		return intel_lookup_addr(in, family, addr);
	return intel_lookup_name(in, s);
}

size_t intel_count(const struct intel *in, int cat)
{
	if (!in || cat < INTEL_CAT_NONE || cat >= INTEL_CAT__MAX)
		return 0;
	return cat == INTEL_CAT_NONE ? in->n : in->count[cat];
}

const struct intel_entry *intel_entry(const struct intel *in, size_t i)
{
	return in && i < in->n ? in->ents[i] : NULL;
}

const struct intel_source *intel_sources(const struct intel *in, size_t *n)
{
	*n = in ? in->nsrc : 0;
	return in ? in->srcs : NULL;
}

/* Move tmp's entries into in; cannot fail once reserve() succeeded. A
 * replaced entry keeps its index, so map loading order stays stable. */
static void merge(struct intel *in, struct intel *tmp, struct intel_source *src)
{
	struct intel_entry *e, *old;
	size_t i, *slot;
	int v6;

	for (i = 0; i < tmp->n; i++) {
		e = tmp->ents[i];
		e->source = src->name;
		slot = slot_of(in, e);
		if (*slot) {
			old = in->ents[*slot - 1];
			in->count[old->category]--;
			intel_entry_free(old);
			in->ents[*slot - 1] = e;
			src->replaced++;
		} else {
			in->ents[in->n++] = e;
			*slot = in->n;
			src->added++;
		}
		in->count[e->category]++;
		if (e->is_cidr) {
			v6 = e->cidr.family == AF_INET6;
			in->plens[v6][e->cidr.prefixlen / 64] |=
				1ULL << (e->cidr.prefixlen % 64);
		}
	}
	tmp->n = 0;
}

int intel_insert(struct intel *in, struct intel_entry *e,
		 const struct intel_entry **dup)
{
	size_t *slot;

	if (reserve(in, in->n + 1))
		return -ENOMEM;
	slot = slot_of(in, e);
	if (*slot) {
		*dup = in->ents[*slot - 1];
		return -EEXIST;
	}
	in->ents[in->n++] = e;
	*slot = in->n;
	in->count[e->category]++;
	return 0;
}

int intel_merge(struct intel *in, struct intel *tmp, const char *name,
		const char *updated)
{
	struct intel_source src = {}, *srcs;
	int ret = -ENOMEM;

	/* every allocation the merge needs happens before it starts */
	src.name = strdup(name);
	src.updated = updated ? strdup(updated) : NULL;
	srcs = realloc(in->srcs, (in->nsrc + 1) * sizeof(*srcs));
	if (srcs)
		in->srcs = srcs;
	if (!src.name || (updated && !src.updated) || !srcs ||
	    reserve(in, in->n + tmp->n))
		goto cleanup;
	merge(in, tmp, &src);
	in->srcs[in->nsrc++] = src;
	return 0;
cleanup:
	free(src.name);
	free(src.updated);
	return ret;
}
