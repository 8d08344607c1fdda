// SPDX-License-Identifier: MIT
/*
 * Intel sets. A source is loaded with libyaml's document API (it keeps each
 * node's position for messages), checked whole into a scratch set, then
 * merged. Domains and CIDRs share one open-addressing hash keyed by
 * (name, wildcard) or (family, prefix length, network); an address lookup
 * probes only the prefix lengths present, longest first.
 */
#include "intel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

#define PROVIDER_MAX 128 /* it is printed in events and `check` output */

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

static void entry_free(struct intel_entry *e)
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
		entry_free(in->ents[i]);
	for (i = 0; i < in->nsrc; i++) {
		free(in->srcs[i].name);
		free(in->srcs[i].updated);
	}
	free(in->srcs);
	free(in->ents);
	free(in->tab);
	free(in);
}

/*
 * Lower-case a host name into out (INTEL_NAME_MAX + 1 bytes), dropping one
 * trailing dot. Labels of 1..63 letters, digits, '-' or '_'. Returns 0 or
 * -EINVAL with *why set.
 */
static int norm_name(const char *s, char *out, const char **why)
{
	size_t i, n = strlen(s), label = 0;
	const char *dummy;
	char ch;

	if (!why)
		why = &dummy;
	if (n && s[n - 1] == '.')
		n--;
	if (!n || n > INTEL_NAME_MAX) {
		*why = n ? "longer than 253 characters" : "empty name";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '.') {
			if (!label) {
				*why = "empty label";
				return -EINVAL;
			}
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			   ch == '-' || ch == '_') {
			if (++label > 63) {
				*why = "label longer than 63 characters";
				return -EINVAL;
			}
		} else {
			*why = ch == '*' ? "a wildcard must be a leading '*.'"
					 : "characters other than letters, digits, '-', '_' and '.'";
			return -EINVAL;
		}
		out[i] = ch;
	}
	out[n] = '\0';
	return 0;
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

	if (!in || !name || norm_name(name, buf, NULL))
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

/* ---- parsing ---- */

struct ctx {
	const char *name;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
};

struct field {
	const char *key;
	yaml_node_t *k, *v;
};

__attribute__((format(printf, 3, 4)))
static int perr_at(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name, m.line + 1,
		     m.column + 1);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

#define perr(c, node, ...) perr_at(c, (node)->start_mark, __VA_ARGS__)

static int nomem(struct ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
	return -ENOMEM;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* YAML's plain null forms; a quoted "null" stays a string */
static bool is_null(const yaml_node_t *n)
{
	const char *s = sval(n);

	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"));
}

/* Fill f[] from a mapping; unknown, repeated or non-string keys are errors. */
static int get_fields(struct ctx *c, yaml_node_t *map, struct field *f,
		      size_t nf, const char *where)
{
	yaml_node_pair_t *pr;
	char allowed[96];
	yaml_node_t *k;
	size_t i, off;

	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		k = node(c, pr->key);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k, "keys %s must be strings", where);
		for (i = 0; i < nf && strcmp(sval(k), f[i].key); i++)
			;
		if (i == nf) {
			for (i = 0, off = 0; i < nf && off < sizeof(allowed); i++)
				off += (size_t)snprintf(allowed + off,
							sizeof(allowed) - off, "%s%s",
							i ? ", " : "", f[i].key);
			return perr(c, k, "unknown key '%.64s' %s (allowed: %s)",
				    sval(k), where, allowed);
		}
		if (f[i].k)
			return perr(c, k, "duplicate key '%s' (first at line %zu)",
				    f[i].key, f[i].k->start_mark.line + 1);
		f[i].k = k;
		f[i].v = node(c, pr->value);
	}
	return 0;
}

static int field_str(struct ctx *c, const struct field *f, const char **out)
{
	const yaml_node_t *v = f->v;

	if (v->type != YAML_SCALAR_NODE)
		return perr(c, v, "'%s' must be a single value, not a %s", f->key,
			    v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
	if (is_null(v))
		return perr(c, f->k, "'%s' needs a value", f->key);
	if (strlen(sval(v)) != v->data.scalar.length)
		return perr(c, v, "'%s' holds a NUL byte", f->key);
	*out = sval(v);
	return 0;
}

/* 1..max bytes, no control characters (they would garble text output) */
static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return n && n <= max;
}

static int parse_domain(struct ctx *c, const struct field *f,
			struct intel_entry *e)
{
	char buf[INTEL_NAME_MAX + 1];
	const char *s, *name, *why;
	__u8 addr[16];
	int fam, ret;

	ret = field_str(c, f, &s);
	if (ret)
		return ret;
	e->wildcard = !strncmp(s, "*.", 2);
	name = e->wildcard ? s + 2 : s;
	/* an IP never arrives as SNI or DNS name: the entry would never match */
	if (!addr_parse(name, &fam, addr))
		return perr(c, f->v, "bad domain '%.64s': an address, use cidr", s);
	if (norm_name(name, buf, &why))
		return perr(c, f->v, "bad domain '%.64s': %s", s, why);
	e->domain = strdup(buf);
	return e->domain ? 0 : nomem(c);
}

static int parse_entry(struct ctx *c, yaml_node_t *n, struct intel *tmp)
{
	struct field f[] = { { .key = "domain" }, { .key = "cidr" },
			     { .key = "category" }, { .key = "provider" },
			     { .key = "confidence" } };
	char why[128], shown[CIDR_STRLEN + 2];
	const struct intel_entry *dup;
	struct intel_entry *e;
	const char *s;
	size_t *slot;
	int ret;

	if (n->type != YAML_MAPPING_NODE)
		return perr(c, n, "entry must be a mapping with domain or cidr, category and provider");
	ret = get_fields(c, n, f, 5, "in entry");
	if (ret)
		return ret;
	if (f[0].k && f[1].k)
		return perr(c, n, "entry has both domain and cidr");
	if (!f[0].k && !f[1].k)
		return perr(c, n, "entry has neither domain nor cidr");
	if (!f[2].k)
		return perr(c, n, "entry has no category");
	if (!f[3].k)
		return perr(c, n, "entry has no provider");
	e = calloc(1, sizeof(*e));
	if (!e)
		return nomem(c);
	e->line = (int)n->start_mark.line + 1;
	if (f[0].k) {
		ret = parse_domain(c, &f[0], e);
	} else {
		e->is_cidr = true;
		ret = field_str(c, &f[1], &s);
		if (!ret && cidr_parse(s, &e->cidr, why, sizeof(why)))
			ret = perr(c, f[1].v, "bad cidr: %s", why);
	}
	if (ret)
		goto cleanup;
	ret = field_str(c, &f[2], &s);
	if (ret)
		goto cleanup;
	e->category = intel_category_parse(s);
	if (e->category < 0) {
		ret = perr(c, f[2].v, "unknown category '%.64s' (known: ai-overseas, ai-relay, ai-domestic, ai-domestic-intl, ai-telemetry, dns-encrypted)",
			   s);
		goto cleanup;
	}
	ret = field_str(c, &f[3], &s);
	if (ret)
		goto cleanup;
	if (!printable(s, PROVIDER_MAX)) {
		ret = perr(c, f[3].v, "provider must be 1 to %d printable characters",
			   PROVIDER_MAX);
		goto cleanup;
	}
	e->provider = strdup(s);
	if (!e->provider) {
		ret = nomem(c);
		goto cleanup;
	}
	if (f[4].k) {
		ret = field_str(c, &f[4], &s);
		if (ret)
			goto cleanup;
		e->confidence = !strcmp(s, "verified") ? INTEL_CONF_VERIFIED
			      : !strcmp(s, "likely")   ? INTEL_CONF_LIKELY
						       : -1;
		if (e->confidence < 0) {
			ret = perr(c, f[4].v, "bad confidence '%.64s' (verified or likely)",
				   s);
			goto cleanup;
		}
	}
	/* a repeat inside one source is a typo or a conflict, never an
	 * override: overriding is what a later source is for */
	ret = reserve(tmp, tmp->n + 1);
	if (ret) {
		ret = nomem(c);
		goto cleanup;
	}
	slot = slot_of(tmp, e);
	if (*slot) {
		dup = tmp->ents[*slot - 1];
		if (!e->is_cidr)
			snprintf(shown, sizeof(shown), "%s%.48s",
				 e->wildcard ? "*." : "", e->domain);
		else if (cidr_format(&e->cidr, shown, sizeof(shown)))
			strcpy(shown, "?");
		ret = perr(c, f[0].k ? f[0].v : f[1].v,
			   "duplicate entry '%s' (first at line %d)", shown,
			   dup->line);
		goto cleanup;
	}
	tmp->ents[tmp->n++] = e;
	*slot = tmp->n;
	return 0;
cleanup:
	entry_free(e);
	return ret;
}

static int parse_top(struct ctx *c, yaml_node_t *root, struct intel *tmp,
		     const char **updated)
{
	struct field f[] = { { .key = "version" }, { .key = "updated" },
			     { .key = "entries" } };
	yaml_mark_t start = {};
	yaml_node_item_t *it;
	const char *s;
	int ret;

	if (!root)
		return perr_at(c, start, "empty file: expected version and entries");
	if (root->type != YAML_MAPPING_NODE)
		return perr(c, root, "top level must be a mapping with version and entries");
	ret = get_fields(c, root, f, 3, "at top level");
	if (ret)
		return ret;
	if (!f[0].k)
		return perr(c, root, "missing 'version'");
	ret = field_str(c, &f[0], &s);
	if (ret)
		return ret;
	if (strcmp(s, "1"))
		return perr(c, f[0].v, "unsupported version '%.16s' (this relaywatch reads 1)",
			    s);
	if (f[1].k) {
		ret = field_str(c, &f[1], updated);
		if (ret)
			return ret;
	}
	if (!f[2].k)
		return perr(c, root, "missing 'entries'");
	if (f[2].v->type != YAML_SEQUENCE_NODE)
		return perr(c, f[2].v, "'entries' must be a list");
	for (it = f[2].v->data.sequence.items.start;
	     it < f[2].v->data.sequence.items.top; it++) {
		ret = parse_entry(c, node(c, *it), tmp);
		if (ret)
			return ret;
	}
	return 0;
}

static int syntax_error(struct ctx *c, const yaml_parser_t *ps,
			const char *text, size_t len)
{
	yaml_mark_t m = ps->problem_mark;
	size_t i;

	if (ps->error == YAML_MEMORY_ERROR)
		return nomem(c);
	if (ps->error == YAML_READER_ERROR) {
		/* the reader reports only a byte offset */
		m = (yaml_mark_t){};
		for (i = 0; i < ps->problem_offset && i < len; i++) {
			m.column = text[i] == '\n' ? 0 : m.column + 1;
			m.line += text[i] == '\n';
		}
	}
	/* an unquoted *.example.com reads as an alias: say what to do */
	return perr_at(c, m, "invalid YAML: %s%s%s%s",
		       ps->problem ? ps->problem : "parse error",
		       ps->context ? " " : "", ps->context ? ps->context : "",
		       ps->context && strstr(ps->context, "alias")
			       ? " (quote wildcards: \"*.example.com\")" : "");
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
			entry_free(old);
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

int intel_add_string(struct intel *in, const char *text, size_t len,
		     const char *name, char *err, size_t errlen)
{
	struct ctx c = { .name = name ? name : "<string>", .err = err,
			 .errlen = errlen };
	struct intel_source src = {}, *srcs;
	const char *updated = NULL;
	struct intel *tmp = NULL;
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	bool loaded = false;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!in || (!text && len))
		return -EINVAL;
	if (!yaml_parser_initialize(&parser))
		return nomem(&c);
	yaml_parser_set_input_string(&parser,
				     (const unsigned char *)(text ? text : ""), len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = syntax_error(&c, &parser, text, len);
		goto cleanup;
	}
	loaded = true;
	c.doc = &doc;
	ret = intel_new(&tmp);
	if (ret) {
		ret = nomem(&c);
		goto cleanup;
	}
	ret = parse_top(&c, yaml_document_get_root_node(&doc), tmp, &updated);
	if (ret)
		goto cleanup;
	/* a second "---" document is refused rather than silently ignored */
	if (!yaml_parser_load(&parser, &extra)) {
		ret = syntax_error(&c, &parser, text, len);
		goto cleanup;
	}
	if (yaml_document_get_root_node(&extra))
		ret = perr(&c, yaml_document_get_root_node(&extra),
			   "more than one YAML document (one intel set per file)");
	yaml_document_delete(&extra);
	if (ret)
		goto cleanup;

	/* every allocation the merge needs happens before it starts */
	src.name = strdup(c.name);
	src.updated = updated ? strdup(updated) : NULL;
	srcs = realloc(in->srcs, (in->nsrc + 1) * sizeof(*srcs));
	if (srcs)
		in->srcs = srcs;
	if (!src.name || (updated && !src.updated) || !srcs ||
	    reserve(in, in->n + tmp->n)) {
		ret = nomem(&c);
		goto cleanup;
	}
	merge(in, tmp, &src);
	in->srcs[in->nsrc++] = src;
	src = (struct intel_source){};
cleanup:
	free(src.name);
	free(src.updated);
	intel_free(tmp);
	if (loaded)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int intel_add_embedded(struct intel *in, char *err, size_t errlen)
{
	return intel_add_string(in, intel_yaml, intel_yaml_len, "<embedded>",
				err, errlen);
}

/* Whole file; one byte more than the limit is read to detect an overflow. */
static int read_all(const char *path, char **out, size_t *len)
{
	char *buf = malloc(INTEL_MAX_SIZE + 1);
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f || !buf) {
		ret = !f ? -errno : -ENOMEM;
		goto cleanup;
	}
	errno = 0;
	*len = fread(buf, 1, INTEL_MAX_SIZE + 1, f);
	if (ferror(f))
		ret = errno ? -errno : -EIO;
	else if (*len > INTEL_MAX_SIZE)
		ret = -EFBIG;
cleanup:
	if (f)
		fclose(f);
	if (ret)
		free(buf);
	else
		*out = buf;
	return ret;
}

int intel_add_file(struct intel *in, const char *path, char *err,
		   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = read_all(path, &text, &len);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(-ret));
		return ret;
	}
	ret = intel_add_string(in, text, len, path, err, errlen);
	free(text);
	return ret;
}
