// SPDX-License-Identifier: MIT
/*
 * A rule's match keys (policy_parse.h), for policy.c: each key's value
 * checked and stored, every key checked even after one fails, each error
 * at its own line and column.
 */
#include "digest.h"
#include "policy.h"

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel.h"
#include "relaywatch.h"
#include "ydoc.h"
#include "util.h"
#include "policy_parse.h"

#define PROVIDER_MAX 128 /* as in intel files */
#define CGROUP_MAX 4096

static const char *proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

static int cidr_one(struct ydoc *d, const struct yfield *f,
		    const yaml_node_t *e, void *out, const void *arg)
{
	char why[160];

	(void)f, (void)arg;
	if (cidr_parse(ydoc_str(e), out, why, sizeof(why)))
		return ydoc_err(d, e, "bad cidr: %s", why);
	return 0;
}

static int category_one(struct ydoc *d, const struct yfield *f,
			const yaml_node_t *e, void *out, const void *arg)
{
	char known[160];
	size_t off = 0;
	int c;

	(void)f, (void)arg;
	*(int *)out = intel_category_parse(ydoc_str(e));
	if (*(int *)out > 0)
		return 0;
	known[0] = '\0';
	for (c = INTEL_CAT_NONE + 1; c < INTEL_CAT__MAX && off < sizeof(known);
	     c++)
		off += (size_t)snprintf(known + off, sizeof(known) - off,
					"%s%s", off ? ", " : "",
					intel_category_name(c));
	return ydoc_err(d, e, "unknown category '%.64s' (known: %s)",
			ydoc_str(e), known);
}

static int provider_one(struct ydoc *d, const struct yfield *f,
			const yaml_node_t *e, void *out, const void *arg)
{
	(void)f, (void)arg;
	if (!str_printable(ydoc_str(e), PROVIDER_MAX))
		return ydoc_err(d, e,
				"provider must be 1 to %d printable characters",
				PROVIDER_MAX);
	*(char **)out = strdup(ydoc_str(e));
	return *(char **)out ? 0 : ydoc_nomem(d);
}

static int domain_one(struct ydoc *d, const struct yfield *f,
		      const yaml_node_t *e, void *out, const void *arg)
{
	char buf[HOSTNAME_MAX + 3];

	(void)f, (void)arg;
	if (ydoc_hostname(d, e, buf))
		return -EINVAL;
	*(char **)out = strdup(buf);
	return *(char **)out ? 0 : ydoc_nomem(d);
}

int policy_country_one(struct ydoc *d, const struct yfield *f,
		       const yaml_node_t *e, void *out, const void *arg)
{
	const char *s = ydoc_str(e);
	char *c = out;
	int i;

	(void)arg;
	for (i = 0; i < 2; i++) {
		c[i] = (char)(s[i] & ~0x20);
		if (c[i] < 'A' || c[i] > 'Z')
			break;
	}
	if (i < 2 || s[2])
		return ydoc_err(d, e, "bad %s '%.16s' (expected a two-letter ISO 3166 code such as US)",
				f->key, s);
	return 0;
}

/* The exe and what only a path-known binary can have: a content hash. */
static int parse_exe(struct ydoc *d, const struct yfield *exe,
		     const struct yfield *sha, struct policy_rule *r)
{
	if (sha->k && !exe->k)
		return ydoc_err(d, sha->k,
				"sha256 needs exe: the kernel knows binaries by path");
	if (sha->k && ydoc_hex(d, sha, 64, 64, "64 hex digits", r->sha256))
		return -EINVAL;
	if (!exe->k)
		return 0;
	/* the kernel matches the binary's inode, found from this path */
	if (exe->s[0] != '/')
		return ydoc_err(d, exe->v, "exe '%.64s' is not an absolute path",
				exe->s);
	if (strlen(exe->s) >= RW_EXE_LEN)
		return ydoc_err(d, exe->v, "exe path longer than %d bytes",
				RW_EXE_LEN - 1);
	r->exe_glob = strpbrk(exe->s, "*?[") != NULL;
	r->exe = strdup(exe->s);
	return r->exe ? 0 : ydoc_nomem(d);
}

/* Resolved once, at load: the kernel sees uids, and a user renamed later
 * keeps the rule. */
static int parse_user(struct ydoc *d, const struct yfield *uid,
		      const struct yfield *user, struct policy_rule *r)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int ret;

	if (uid->k)
		return ydoc_err(d, user->k, "give uid or user, not both");
	ret = getpwnam_r(user->s, &pw, buf, sizeof(buf), &res);
	if (!res && ret && ret != ENOENT && ret != ESRCH)
		return ydoc_err(d, user->v, "cannot look up user '%.32s': %s",
				user->s, strerror(ret));
	if (!res)
		return ydoc_err(d, user->v, "unknown user '%.32s'", user->s);
	r->has_uid = true;
	r->uid = pw.pw_uid;
	return 0;
}

static int parse_cgroup(struct ydoc *d, const struct yfield *f,
			struct policy_rule *r)
{
	const char *s = f->s;

	if (s[0] != '/')
		return ydoc_err(d, f->v, "cgroup '%.64s' is not an absolute path (as in /proc/PID/cgroup: /system.slice/app.service)",
				s);
	/* /proc/PID/cgroup and the kernel name cgroups within the hierarchy:
	 * a mount path would never match */
	if (!strncmp(s, "/sys/fs/cgroup", 14) && (!s[14] || s[14] == '/'))
		return ydoc_err(d, f->v, "cgroup '%.64s' is a file system path: give it within the hierarchy, without /sys/fs/cgroup",
				s);
	if (strlen(s) >= CGROUP_MAX)
		return ydoc_err(d, f->v, "cgroup path longer than %d bytes",
				CGROUP_MAX - 1);
	r->cgroup = malloc(strlen(s) + 2);
	if (!r->cgroup)
		return ydoc_nomem(d);
	if (path_norm(s, r->cgroup))
		return ydoc_err(d, f->v, "cgroup '%.64s' holds '.' or '..'", s);
	return 0;
}

enum { M_CIDR, M_PORT, M_PROTO, M_EXE, M_UID, M_USER, M_SHA256, M_CATEGORY,
       M_PROVIDER, M_DOMAIN, M_COUNTRY, M_OVERSEAS, M_CGROUP, M_CONTAINER,
       M__MAX };

/* The keys whose value may be a list. */
static int parse_lists(struct ydoc *d, const struct yfield *f,
		       struct policy_rule *r)
{
	int ret = 0;

	if (f[M_CIDR].k)
		ret = first_err(ret, ydoc_list(d, &f[M_CIDR], "a prefix",
				"addresses or prefixes", sizeof(*r->cidrs),
				&r->cidrs, &r->nr_cidrs, cidr_one, NULL));
	if (f[M_CATEGORY].k)
		ret = first_err(ret, ydoc_list(d, &f[M_CATEGORY], "a category",
				"category names", sizeof(int),
				&r->categories, &r->nr_categories,
				category_one, NULL));
	if (f[M_PROVIDER].k)
		ret = first_err(ret, ydoc_list(d, &f[M_PROVIDER], "a name",
				"provider names", sizeof(char *),
				&r->providers, &r->nr_providers, provider_one,
				NULL));
	if (f[M_DOMAIN].k)
		ret = first_err(ret, ydoc_list(d, &f[M_DOMAIN], "a name",
				"host names", sizeof(char *), &r->domains,
				&r->nr_domains, domain_one, NULL));
	if (f[M_COUNTRY].k)
		ret = first_err(ret, ydoc_list(d, &f[M_COUNTRY], "a code",
				"country codes", sizeof(*r->countries),
				&r->countries, &r->nr_countries, policy_country_one,
				NULL));
	return ret;
}

int policy_parse_match(struct ydoc *d, const struct yfield *mf,
		       struct policy_rule *r)
{
	struct yfield f[M__MAX] = {
		[M_CIDR] = { .key = "cidr", .nested = true },
		[M_PORT] = { .key = "port" }, [M_PROTO] = { .key = "proto" },
		[M_EXE] = { .key = "exe" }, [M_UID] = { .key = "uid" },
		[M_USER] = { .key = "user" }, [M_SHA256] = { .key = "sha256" },
		[M_CATEGORY] = { .key = "category", .nested = true },
		[M_PROVIDER] = { .key = "provider", .nested = true },
		[M_DOMAIN] = { .key = "domain", .nested = true },
		[M_COUNTRY] = { .key = "country", .nested = true },
		[M_OVERSEAS] = { .key = "overseas" },
		[M_CGROUP] = { .key = "cgroup" },
		[M_CONTAINER] = { .key = "container" },
	};
	const yaml_node_t *v = mf->v;
	bool empty = ydoc_is_null(v);
	unsigned int port = 0;
	bool yes;
	int ret;

	if (v->type == YAML_MAPPING_NODE)
		empty = v->data.mapping.pairs.top == v->data.mapping.pairs.start;
	if (empty)
		return ydoc_err(d, mf->k, "rule '%s': empty match (a rule with an empty match would catch everything: use 'default' for that)",
				r->name);
	if (v->type != YAML_MAPPING_NODE)
		return ydoc_err(d, v, "'match' must be a mapping");
	ret = ydoc_fields(d, mf->v, f, M__MAX, "in match");
	if (ret)
		return ret;
	ret = parse_lists(d, f, r);
	if (f[M_PORT].k) {
		int e = ydoc_uint(d, &f[M_PORT], 1, 65535, &port);

		r->port = e ? 0 : (int)port;
		ret = first_err(ret, e);
	}
	if (f[M_PROTO].k)
		ret = first_err(ret, ydoc_enum(d, &f[M_PROTO], proto_name, 0,
					       IPPROTO_UDP + 1, &r->proto));
	ret = first_err(ret, parse_exe(d, &f[M_EXE], &f[M_SHA256], r));
	/* (uid_t)-1 is "no uid" to the kernel, never a real owner */
	if (f[M_UID].k) {
		int e = ydoc_uint(d, &f[M_UID], 0, 0xfffffffe, &r->uid);

		r->has_uid = !e;
		ret = first_err(ret, e);
	}
	if (f[M_USER].k)
		ret = first_err(ret, parse_user(d, &f[M_UID], &f[M_USER], r));
	if (f[M_OVERSEAS].k) {
		int e = ydoc_bool(d, &f[M_OVERSEAS], &yes);

		if (!e)
			r->overseas = yes;
		ret = first_err(ret, e);
	}
	if (f[M_CGROUP].k)
		ret = first_err(ret, parse_cgroup(d, &f[M_CGROUP], r));
	if (!f[M_CONTAINER].k)
		return ret;
	/* the kernel tests one cgroup per rule: a container is one */
	if (f[M_CGROUP].k)
		return first_err(ret, ydoc_err(d, f[M_CONTAINER].k,
				 "give cgroup or container, not both"));
	/* 12 digits: the short id `docker ps` prints */
	r->container = malloc(65);
	if (!r->container)
		return ydoc_nomem(d);
	return first_err(ret, ydoc_hex(d, &f[M_CONTAINER], 12, 64,
			 "12 to 64 hex digits of a container id",
			 r->container));
}

