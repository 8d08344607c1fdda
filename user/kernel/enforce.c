// SPDX-License-Identifier: MIT
/*
 * Policy → maps. Each rule's destination sets (its cidr list, the intel
 * CIDRs of its categories/providers, the ranges of its countries) go into
 * one pair of LPM tries whose value holds, per kind, the mask of rules
 * whose set contains the prefix — and every prefix that encloses it, so the
 * kernel needs one longest-prefix lookup per call. Everything is written
 * under the idle generation and published by flipping `active` last.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relaywatch.skel.h"
#include "enforce.h"
#include "loader.h"
#include "policy.h"
#include "intel.h"
#include "geo.h"
#include "cgroup.h"
#include "proc.h"
#include "../../bpf/wire.h"
#include "lpm_write.h"
#include "util.h"

struct exe_ent {
	struct rw_exe_key k;
	__u64 mask;
};

struct name_ent {
	struct rw_name_key k;
	struct rw_name_val v;
};

struct build {
	struct lpm_vec v4, v6;
	struct exe_ent *exes;
	size_t nr_exes, cap_exes;
	struct name_ent *names;
	size_t nr_names, cap_names;
	__u64 cc_rules[RW_NR_CC]; /* per country: the country rules */
	__u8 cc_home[RW_NR_CC];   /* RW_HOME for a home country */
	bool has_geo;             /* a rule asks for the country */
	void (*warn)(const char *msg, void *ctx);
	void *wctx;
};

static void warnf(struct build *b, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->warn)
		b->warn(msg, b->wctx);
}

static int add(struct build *b, const struct cidr *c, int kind, __u64 bit)
{
	return lpm_push(c->family == AF_INET ? &b->v4 : &b->v6, c, kind, bit);
}

/* countries are found in the kernel's country table: a rule naming one
 * sets its bit in the country's entry, no prefix */
static int add_countries(struct build *b, char (*cc)[3], size_t n,
			 __u64 bit, __u8 home)
{
	for (size_t j = 0; j < n; j++) {
		__u16 code = geo_cc_code(cc[j]);

		if (!code || code >= RW_NR_CC)
			return -EINVAL;
		b->cc_rules[code] |= bit;
		if (home)
			b->cc_home[code] = home;
	}
	b->has_geo = true;
	return 0;
}

static int add_exe(struct build *b, const char *path, const char *sha256,
		   __u8 gen, __u64 bit)
{
	struct stat st;
	char hash[65];
	size_t i;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (sha256[0] && (file_sha256(path, hash) || strcmp(hash, sha256)))
		return 0;
	for (i = 0; i < b->nr_exes; i++)
		if (b->exes[i].k.ino == st.st_ino &&
		    b->exes[i].k.dev == dev_to_kernel(st.st_dev))
			break;
	if (i == b->nr_exes) {
		if (GROW(b->exes, b->cap_exes, b->nr_exes, 16))
			return -ENOMEM;
		memset(&b->exes[i], 0, sizeof(b->exes[i]));
		b->exes[i].k.ino = st.st_ino;
		b->exes[i].k.dev = dev_to_kernel(st.st_dev);
		b->exes[i].k.gen = gen;
		b->nr_exes++;
	}
	b->exes[i].mask |= bit;
	return 1;
}

/* the binaries an exe rule accepts: a path, or every file a glob names */
static int rule_exes(struct build *b, const struct policy_rule *r, __u8 gen,
		     __u64 bit)
{
	int found = 0, ret = 0;
	glob_t g;

	if (!r->exe_glob) {
		ret = add_exe(b, r->exe, r->sha256, gen, bit);
		found = ret;
	} else if (glob(r->exe, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			ret = add_exe(b, g.gl_pathv[i], r->sha256, gen, bit);
			if (ret < 0)
				break;
			found += ret;
		}
		globfree(&g);
	}
	if (ret < 0)
		return ret;
	if (!found)
		warnf(b, "rule '%s' (line %d): no binary at %s%s; the rule "
		      "matches nothing until one appears", r->name,
		      r->line, r->exe, r->sha256[0] ? " has that sha256" : "");
	return 0;
}

/* cgroup id and depth of a rule's cgroup (or its container's cgroup);
 * a cgroup that does not exist gets an id no cgroup has */
static int rule_cgroup(struct build *b, const struct policy_rule *r,
		       struct rw_rule *kr)
{
	const char *root = cgroup2_root(), *rel;
	char abs[4096];
	__u64 id;

	kr->flags |= RW_RF_CGROUP;
	kr->cgroup_id = ~0ULL;
	if (!root)
		return -ENOENT;
	if (r->container) {
		if (!cgroup_find_container(root, r->container, abs,
					   sizeof(abs))) {
			warnf(b, "rule '%s' (line %d): no running container "
			      "%s; the rule matches nothing until it starts "
			      "(looked for every 2 s)", r->name, r->line,
			      r->container);
			return 0;
		}
	} else {
		snprintf(abs, sizeof(abs), "%s%s", root, r->cgroup);
	}
	if (cgroup_id_of(abs, &id)) {
		warnf(b, "rule '%s' (line %d): cgroup %s does not exist; the "
		      "rule matches nothing until it is created", r->name,
		      r->line, abs);
		return 0;
	}
	rel = abs + strlen(root);
	kr->cgroup_level = 0;
	for (const char *p = rel; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			kr->cgroup_level++;
	if (kr->cgroup_level >= RW_CG_LEVELS) {
		warnf(b, "rule '%s' (line %d): cgroup %s is %u levels deep; the "
		      "kernel compares up to %d", r->name, r->line, abs,
		      kr->cgroup_level, RW_CG_LEVELS - 1);
		return 0;
	}
	kr->cgroup_id = id;
	return 0;
}

/*
 * A name for the kernel's names map: an exact name under its FNV-1a hash,
 * a "*.suffix" under the suffix key of its label count (bpf/wire.h), both
 * with a second hash of the text to confirm a hit.
 */
static int add_name(struct build *b, const struct policy_rule *r,
		    const char *text, bool wild, int kind, __u8 gen,
		    __u64 bit)
{
	struct wire_name n;
	struct name_ent *e;

	if (wire_name_from_str(&n, text) || !n.len)
		return 0;
	if (wild && n.labels > RW_SFX_MAX) {
		warnf(b, "rule '%s' (line %d): *.%s has more than %d labels; "
		      "the kernel matches wildcards of up to %d", r->name,
		      r->line, text, RW_SFX_MAX, RW_SFX_MAX);
		return 0;
	}
	if (GROW(b->names, b->cap_names, b->nr_names, 256))
		return -ENOMEM;
	e = &b->names[b->nr_names++];
	memset(e, 0, sizeof(*e));
	e->k.h = wild ? n.sfx[n.labels - 1] : n.hash;
	e->k.gen = gen;
	e->k.wild = wild ? n.labels : 0;
	e->v.kind[kind] = bit;
	e->v.len = n.len;
	e->v.check = wire_chk_str(n.name, n.len);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct name_ent *)a)->k,
		      &((const struct name_ent *)b)->k,
		      sizeof(struct rw_name_key));
}

/* merged by key: one name may serve several rules and both kinds */
static int write_names(struct bpf_map *map, struct build *b)
{
	size_t out = 0;

	qsort(b->names, b->nr_names, sizeof(*b->names), name_cmp);
	for (size_t i = 0; i < b->nr_names; i++) {
		struct name_ent *e = &b->names[i];

		if (out && !name_cmp(&b->names[out - 1], e)) {
			b->names[out - 1].v.kind[0] |= e->v.kind[0];
			b->names[out - 1].v.kind[1] |= e->v.kind[1];
			continue;
		}
		b->names[out++] = *e;
	}
	b->nr_names = out;
	for (size_t i = 0; i < out; i++)
		if (bpf_map_update_elem(bpf_map__fd(map), &b->names[i].k,
					&b->names[i].v, BPF_ANY))
			return -errno;
	return 0;
}

static bool intel_fits(const struct policy_rule *r, const struct intel_entry *e)
{
	bool ok = !r->nr_categories;

	for (size_t i = 0; !ok && i < r->nr_categories; i++)
		ok = r->categories[i] == e->category;
	if (!ok || !r->nr_providers)
		return ok;
	for (size_t i = 0; i < r->nr_providers; i++)
		if (e->provider && !strcasecmp(r->providers[i], e->provider))
			return true;
	return false;
}

static int compile_rule(struct build *b, const struct policy *p, int i,
			const struct intel *in, __u8 gen, struct rw_rule *kr,
			struct rw_settings *s)
{
	const struct policy_rule *r = &p->rules[i];
	__u64 bit = 1ULL << i;
	int ret = 0;

	memset(kr, 0, sizeof(*kr));
	kr->action = r->action;
	kr->proto = r->proto;
	kr->port = r->port;
	if (policy_rule_mode(p, r) == POLICY_ENFORCE)
		kr->flags |= RW_RF_ENFORCE;
	if (r->has_uid) {
		kr->flags |= RW_RF_UID;
		kr->uid = r->uid;
	}
	if (r->overseas == 1)
		kr->flags |= RW_RF_OVERSEAS;
	else if (r->overseas == 0)
		kr->flags |= RW_RF_DOMESTIC;
	for (size_t j = 0; !ret && j < r->nr_cidrs; j++)
		ret = add(b, &r->cidrs[j], RW_KIND_CIDR, bit);
	if (r->nr_cidrs)
		kr->kinds |= 1 << RW_KIND_CIDR;
	if (r->nr_categories || r->nr_providers) {
		const struct intel_entry *e;

		kr->kinds |= 1 << RW_KIND_INTEL;
		for (size_t j = 0; !ret && (e = intel_entry(in, j)); j++) {
			if (!intel_fits(r, e))
				continue;
			if (e->is_cidr)
				ret = add(b, &e->cidr, RW_KIND_INTEL, bit);
			else
				ret = add_name(b, r, e->domain, e->wildcard, 1,
					       gen, bit);
		}
	}
	if (r->nr_countries && !ret) {
		kr->kinds |= 1 << RW_KIND_COUNTRY;
		ret = add_countries(b, r->countries, r->nr_countries, bit, 0);
	}
	if (r->nr_domains)
		kr->kinds |= 1 << RW_KIND_DOMAIN;
	for (size_t j = 0; !ret && j < r->nr_domains; j++) {
		bool wild = !strncmp(r->domains[j], "*.", 2);

		ret = add_name(b, r, r->domains[j] + (wild ? 2 : 0), wild, 0,
			       gen, bit);
	}
	if (!ret && r->exe) {
		kr->flags |= RW_RF_EXE;
		s->has_exe = 1;
		ret = rule_exes(b, r, gen, bit);
	}
	if (!ret && (r->cgroup || r->container)) {
		ret = rule_cgroup(b, r, kr);
		s->has_cgroup = 1;
	}
	if (!kr->kinds)
		s->any_mask |= bit;
	if (kr->action == RW_ACT_KILL && (kr->flags & RW_RF_ENFORCE))
		s->has_kill = 1;
	return ret;
}

/* the special ranges (private, loopback, ...) go into the same tries as
 * the rule sets: one lookup at connect gives both; home countries are
 * found in the country table */
struct home_push {
	struct build *b;
	size_t n4, n6;
};

static int push_special(int family, const __u8 *addr, int plen, void *arg)
{
	struct home_push *h = arg;
	struct cidr c = { .family = family, .prefixlen = plen };

	memcpy(c.addr, addr, family == AF_INET ? 4 : 16);
	if (family == AF_INET)
		h->n4++;
	else
		h->n6++;
	return lpm_push_home(family == AF_INET ? &h->b->v4 : &h->b->v6, &c,
			     RW_SPECIAL);
}

static bool needs_home(const struct policy *p)
{
	for (size_t i = 0; i < p->nr_rules; i++)
		if (p->rules[i].overseas >= 0)
			return true;
	return false;
}

/* the policy's rules, prefix sets (special ranges too) and countries for
 * generation gen, in b, kr and s */
static int build_sets(struct build *b, const struct policy *p,
		      const struct intel *in, __u8 gen, struct rw_rule *kr,
		      struct rw_settings *s, struct enforce_stats *st)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nr_rules; i++)
		ret = compile_rule(b, p, i, in, gen, &kr[i], s);
	if (!ret && needs_home(p)) {
		struct home_push h = { .b = b };

		ret = add_countries(b, p->home_countries,
				    p->nr_home_countries, 0, RW_HOME);
		if (!ret)
			ret = geo_special_cidrs(push_special, &h);
		st->special = h.n4 + h.n6;
		st->home_countries = p->nr_home_countries;
	}
	return ret;
}

static void build_free(struct build *b)
{
	free(b->v4.v);
	free(b->v6.v);
	free(b->exes);
	free(b->names);
}

/* every country's entry of generation gen, in one batch */
static int write_countries(struct bpf_map *map, const struct build *b,
			   __u8 gen)
{
	__u32 keys[RW_NR_CC];
	struct rw_cc vals[RW_NR_CC];

	memset(vals, 0, sizeof(vals));
	for (__u32 i = 0; i < RW_NR_CC; i++) {
		keys[i] = gen * RW_NR_CC + i;
		vals[i].rules = b->cc_rules[i];
		vals[i].home = b->cc_home[i];
	}
	return update_many(map, keys, vals, RW_NR_CC);
}

int enforce_check_limit(size_t n4, size_t n6, char *err, size_t errlen)
{
	const char *env = getenv("RELAYWATCH_PREFIX_LIMIT");
	size_t limit = env ? strtoul(env, NULL, 10) : 1u << 20;

	if (n4 <= limit && n6 <= limit)
		return 0;
	snprintf(err, errlen, "the policy needs %zu IPv4 and %zu IPv6 "
		 "prefixes; the limit is %zu per family", n4, n6, limit);
	return -E2BIG;
}

int enforce_measure(const struct policy *p, const struct intel *in,
		    size_t *n4, size_t *n6)
{
	struct build b = {};
	struct rw_settings s = {};
	struct rw_rule kr[RW_MAX_RULES];
	struct enforce_stats st = {};
	int ret = build_sets(&b, p, in, 0, kr, &s, &st);

	if (!ret) {
		*n4 = lpm_dedup(&b.v4);
		*n6 = lpm_dedup(&b.v6);
	}
	build_free(&b);
	return ret;
}

/* a trie that cannot take the new generation beside the one in force */
static void full_trie(char *err, size_t errlen, const char *family,
		      size_t want, const struct bpf_map *m)
{
	snprintf(err, errlen, "the %s prefix trie is full: this policy needs "
		 "%zu prefixes, and the policy in force keeps its own until "
		 "the switch (the trie holds %u, sized at start-up for the "
		 "policy then); the policy in force stays. Restart the daemon "
		 "to size the tries for this policy (a new set is made beside "
		 "the one in force)", family, want, bpf_map__max_entries(m));
}

int enforce_apply(struct loader *l, const struct policy *p,
		  const struct intel *in, const struct enforce_opts *o, struct enforce_stats *st,
		  void (*warn)(const char *msg, void *ctx), void *wctx,
		  char *err, size_t errlen)
{
	struct relaywatch *sk = l->skel;
	struct build b = { .warn = warn, .wctx = wctx };
	struct rw_settings s = { .dedup_ns = o->dedup_ns };
	struct rw_rule kr[RW_MAX_RULES];
	__u32 zero = 0, cur = 0, gen;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	bpf_map_lookup_elem(bpf_map__fd(sk->maps.active), &zero, &cur);
	gen = !(cur & 1);
	ret = build_sets(&b, p, in, gen, kr, &s, st);
	if (ret) {
		snprintf(err, errlen, "cannot compile the policy: %s",
			 strerror(-ret));
		goto cleanup;
	}
	s.nr_rules = p->nr_rules;
	s.has_names = b.nr_names > 0;
	s.has_geo = b.has_geo;
	s.geo_n4 = l->geo_n4;
	s.geo_n6 = l->geo_n6;
	s.ttl_min = o->ttl_min;
	s.deadman_ns = p->deadman_ns;
	s.ttl_max = o->ttl_max;
	_Static_assert(POLICY_DNS_PORTS == RW_DNS_PORTS, "dns_ports");
	for (size_t i = 0; i < p->nr_dns_ports && i < RW_DNS_PORTS; i++)
		s.dns_ports[i] = p->dns_ports[i];
	s.default_action = p->default_action;
	s.default_enforce = p->mode == POLICY_ENFORCE;
	s.undecided = p->undecided;
	s.quic = p->quic;
	if (s.default_action == RW_ACT_KILL && s.default_enforce)
		s.has_kill = 1;

	/* the idle generation still holds the policy before the last one */
	ret = clear_gen(sk->maps.cidr4, offsetof(struct rw_lpm4, gen), gen);
	if (!ret)
		ret = clear_gen(sk->maps.cidr6, offsetof(struct rw_lpm6, gen), gen);
	if (!ret)
		ret = clear_gen(sk->maps.exes, offsetof(struct rw_exe_key, gen), gen);
	if (!ret)
		ret = clear_gen(sk->maps.names, offsetof(struct rw_name_key, gen), gen);
	if (!ret)
		ret = write_names(sk->maps.names, &b);
	if (!ret) {
		ret = write_dest(sk->maps.cidr4, &b.v4, gen, &st->lpm4);
		if (ret == -ENOSPC || ret == -E2BIG) {
			full_trie(err, errlen, "IPv4", b.v4.n, sk->maps.cidr4);
			goto full;
		}
	}
	if (!ret) {
		ret = write_dest(sk->maps.cidr6, &b.v6, gen, &st->lpm6);
		if (ret == -ENOSPC || ret == -E2BIG) {
			full_trie(err, errlen, "IPv6", b.v6.n, sk->maps.cidr6);
			goto full;
		}
	}
	for (size_t i = 0; !ret && i < b.nr_exes; i++)
		if (bpf_map_update_elem(bpf_map__fd(sk->maps.exes),
					&b.exes[i].k, &b.exes[i].mask, BPF_ANY))
			ret = -errno;
	if (!ret)
		ret = write_countries(sk->maps.ccrules, &b, gen);
	for (__u32 i = 0; !ret && i < p->nr_rules; i++) {
		__u32 idx = gen * RW_MAX_RULES + i;

		if (bpf_map_update_elem(bpf_map__fd(sk->maps.rules), &idx,
					&kr[i], BPF_ANY))
			ret = -errno;
	}
	if (!ret && bpf_map_update_elem(bpf_map__fd(sk->maps.settings), &gen,
					&s, BPF_ANY))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot write the policy maps: %s",
			 strerror(-ret));
		goto cleanup;
	}
	/* attach the kill hook before the kill rules take effect */
	if (s.has_kill)
		loader_set_kill_hook(l, true);
	if (bpf_map_update_elem(bpf_map__fd(sk->maps.active), &zero, &gen,
				BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "cannot switch to the new policy: %s",
			 strerror(errno));
		goto cleanup;
	}
	if (!s.has_kill)
		loader_set_kill_hook(l, false);
	st->exes = b.nr_exes;
	st->names = b.nr_names;
	st->gen = gen;
	goto cleanup;
full:
	/* what of the new generation got in goes: room for the next try */
	clear_gen(sk->maps.cidr4, offsetof(struct rw_lpm4, gen), gen);
	clear_gen(sk->maps.cidr6, offsetof(struct rw_lpm6, gen), gen);
cleanup:
	build_free(&b);
	return ret;
}
