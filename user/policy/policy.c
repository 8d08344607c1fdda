// SPDX-License-Identifier: MIT
/*
 * Policy loader. The whole YAML document is loaded first, then walked; the
 * first problem found is reported as "FILE:LINE:COL: reason" and nothing
 * is returned, so a reload with a broken file leaves the running policy as
 * it was. Matching and the reachability test are in policy_match.c.
 */
#include "digest.h"
#include "log.h"
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

/* Rule names end up in log lines and JSON: keep them to one plain word. */
#define NAME_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
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

static int country_one(struct ydoc *d, const struct yfield *f,
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

/* arg: the directory of the policy file with its '/', or "" */
static int intel_one(struct ydoc *d, const struct yfield *f,
		     const yaml_node_t *e, void *out, const void *arg)
{
	const char *s = ydoc_str(e), *dir = arg;

	(void)f;
	if (!*s)
		return ydoc_err(d, e, "intel entries must be file names");
	if (asprintf((char **)out, "%s%s", *s == '/' ? "" : dir, s) < 0) {
		*(char **)out = NULL;
		return ydoc_nomem(d);
	}
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

/* every check of a rule runs, even after one fails: the first error is
 * the result, and each is reported (parse_each_rule collects them) */
static int first_err(int ret, int next)
{
	return ret ? ret : next;
}

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
				&r->countries, &r->nr_countries, country_one,
				NULL));
	return ret;
}

static int parse_match(struct ydoc *d, const struct yfield *mf,
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

/* the rule's name, into r->name when it is good */
static int parse_name(struct ydoc *d, const struct yfield *f,
		      const yaml_node_t *n, struct policy *p, size_t idx)
{
	struct policy_rule *r = &p->rules[idx];
	const char *name = f->s;
	size_t len;

	if (!f->k)
		return ydoc_err(d, n, "rule %zu: missing 'name'", idx + 1);
	len = strlen(name);
	if (len >= sizeof(r->name))
		return ydoc_err(d, f->v, "rule name longer than %zu characters",
				sizeof(r->name) - 1);
	if (strspn(name, NAME_CHARS) != len)
		return ydoc_err(d, f->v,
				"rule name '%.64s' may hold only letters, digits, '.', '_' and '-'",
				name);
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(p->rules[i].name, name))
			return ydoc_err(d, f->v,
					"duplicate rule name '%s' (first at line %d)",
					name, p->rules[i].line);
	memcpy(r->name, name, len + 1);
	return 0;
}

/* rules[idx]; the rules before it are complete (for the duplicate check) */
static int parse_rule(struct ydoc *d, yaml_node_t *n, struct policy *p,
		      size_t idx)
{
	enum { NAME, MATCH, ACTION, MODE };
	struct yfield f[] = {
		[NAME] = { .key = "name" },
		[MATCH] = { .key = "match", .nested = true },
		[ACTION] = { .key = "action" }, [MODE] = { .key = "mode" },
	};
	struct policy_rule *r = &p->rules[idx];
	const char *name;
	int ret;

	r->mode = -1;
	r->overseas = -1;
	r->line = (int)n->start_mark.line + 1;
	r->col = (int)n->start_mark.column + 1;
	if (n->type != YAML_MAPPING_NODE)
		return ydoc_err(d, n, "rule %zu must be a mapping with name, match and action",
				idx + 1);
	ret = ydoc_fields(d, n, f, ARRAY_SIZE(f), "in rule");
	if (ret)
		return ret;

	ret = parse_name(d, &f[NAME], n, p, idx);
	name = r->name[0] ? r->name : "?";
	if (!f[MATCH].k)
		ret = first_err(ret, ydoc_err(d, n, "rule '%s': missing 'match'",
					      name));
	else
		ret = first_err(ret, parse_match(d, &f[MATCH], r));
	if (!f[ACTION].k)
		ret = first_err(ret, ydoc_err(d, n, "rule '%s': missing "
					      "'action'", name));
	else
		ret = first_err(ret, ydoc_enum(d, &f[ACTION], action_name,
					       RW_ACT_ALLOW, RW_ACT__MAX,
					       &r->action));
	if (f[MODE].k)
		ret = first_err(ret, ydoc_enum(d, &f[MODE], mode_name, 0, 2,
					       &r->mode));
	return ret;
}

/*
 * Every rule is checked even after one fails, and every key of a rule, so
 * a file's mistakes come out together, one line each (at most
 * POLICY_MAX_ERRORS, and what fits in the message).
 */
#define POLICY_MAX_ERRORS 20
static int parse_each_rule(struct ydoc *d, yaml_node_item_t *items, size_t n,
			   struct policy *p)
{
	size_t before = d->nr_errors;
	int ret, first = 0;

	if (d->err && d->errlen)
		d->err[0] = 0;
	d->collect = true;
	for (size_t i = 0; i < n && d->nr_errors - before < POLICY_MAX_ERRORS;
	     i++) {
		ret = parse_rule(d, ydoc_node(d, items[i]), p, i);
		if (!ret)
			continue;
		if (ret != -EINVAL) {
			first = ret; /* out of memory: stop */
			break;
		}
		if (!first)
			first = ret;
	}
	d->collect = false;
	if (d->dropped)
		pr_debug("%s: %zu more errors than fit in the message", d->name,
			 d->dropped);
	return first;
}

static int parse_rules(struct ydoc *d, struct yfield *f, struct policy *p)
{
	yaml_node_t *v = f->v;
	yaml_node_item_t *items;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return ydoc_err(d, ydoc_is_null(v) ? f->k : v,
				"'rules' must be a list");
	items = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - items);
	/* rule ids are bits of a __u64 mask in the kernel */
	if (n > RW_MAX_RULES)
		return ydoc_err(d, ydoc_node(d, items[RW_MAX_RULES]),
				"too many rules: %zu (at most %d)", n,
				RW_MAX_RULES);
	if (!n) /* valid: nothing matches, the daemon only watches */
		return 0;
	p->rules = calloc(n, sizeof(*p->rules));
	if (!p->rules)
		return ydoc_nomem(d);
	p->nr_rules = n;
	return parse_each_rule(d, items, n, p);
}

static const char *loss_name(int v)
{
	return v == 0 ? "keep" : v == 1 ? "deny-alerts" : NULL;
}

static const char *quic_name(int v)
{
	return v == RW_QUIC_ALLOW ? "allow" :
	       v == RW_QUIC_DENY_UNNAMED ? "deny-unnamed" : NULL;
}

static int parse_top(struct ydoc *d, struct policy *p)
{
	enum { MODE, DEFAULT, INTEL, HOME, RULES, LOSS, LOSS_AFTER, CRED_FILES,
	       FP_KEY, UNDECIDED, DNS_PORTS, QUIC };
	struct yfield f[] = {
		[MODE] = { .key = "mode" }, [DEFAULT] = { .key = "default" },
		[INTEL] = { .key = "intel", .nested = true },
		[HOME] = { .key = "home_countries", .nested = true },
		[RULES] = { .key = "rules", .nested = true },
		[LOSS] = { .key = "on_daemon_loss" },
		[LOSS_AFTER] = { .key = "daemon_loss_after" },
		[CRED_FILES] = { .key = "credential_files" },
		[FP_KEY] = { .key = "fingerprint_key" },
		[UNDECIDED] = { .key = "undecided" },
		[DNS_PORTS] = { .key = "dns_ports", .nested = true },
		[QUIC] = { .key = "quic" },
	};
	unsigned int after = 10;
	int loss = 0;
	yaml_node_t *root = ydoc_root(d);
	const char *slash = strrchr(d->name, '/');
	char *dir;
	int ret;

	if (!root || ydoc_is_null(root))
		return ydoc_err_at(d, (yaml_mark_t){},
				   "empty policy (expected a mapping with 'mode' and 'rules')");
	if (root->type != YAML_MAPPING_NODE)
		return ydoc_err(d, root,
				"top level must be a mapping with 'mode' and 'rules'");
	ret = ydoc_fields(d, root, f, ARRAY_SIZE(f), "at top level");
	if (!ret && f[MODE].k)
		ret = ydoc_enum(d, &f[MODE], mode_name, 0, 2, &p->mode);
	if (!ret && f[DEFAULT].k)
		ret = ydoc_enum(d, &f[DEFAULT], action_name, RW_ACT_ALLOW,
				RW_ACT__MAX, &p->default_action);
	if (!ret && f[INTEL].k) {
		dir = strndup(d->name, slash ? (size_t)(slash - d->name) + 1 : 0);
		if (!dir)
			return ydoc_nomem(d);
		ret = ydoc_list(d, &f[INTEL], "a file name", "file names",
				sizeof(char *), &p->intel_files,
				&p->nr_intel_files, intel_one, dir);
		free(dir);
	}
	if (!ret && f[LOSS].k)
		ret = ydoc_enum(d, &f[LOSS], loss_name, 0, 2, &loss);
	if (!ret && f[QUIC].k)
		ret = ydoc_enum(d, &f[QUIC], quic_name, 0, 2, &p->quic);
	if (!ret && f[LOSS_AFTER].k)
		ret = ydoc_uint(d, &f[LOSS_AFTER], 1, 3600, &after);
	if (!ret && loss)
		p->deadman_ns = after * 1000000000ULL;
	/* first bytes that stay unreadable: allow, alert or deny */
	p->undecided = RW_ACT_ALERT;
	if (!ret && f[UNDECIDED].k)
		ret = ydoc_enum(d, &f[UNDECIDED], action_name, RW_ACT_ALLOW,
				RW_ACT_KILL, &p->undecided);
	if (!ret && f[CRED_FILES].k)
		ret = ydoc_bool(d, &f[CRED_FILES], &p->credential_files);
	if (!ret && f[FP_KEY].k) {
		if (f[FP_KEY].s[0] != '/')
			return ydoc_err(d, f[FP_KEY].v, "fingerprint_key '%.64s' "
					"is not an absolute path", f[FP_KEY].s);
		p->fingerprint_key = strdup(f[FP_KEY].s);
		if (!p->fingerprint_key)
			return ydoc_nomem(d);
	}
	if (!ret && f[DNS_PORTS].k)
		ret = ydoc_ports(d, &f[DNS_PORTS], p->dns_ports,
				 POLICY_DNS_PORTS, &p->nr_dns_ports);
	if (!ret && !f[DNS_PORTS].k) {
		p->dns_ports[0] = 53;   /* DNS */
		p->dns_ports[1] = 5353; /* mDNS, and resolvers moved there */
		p->nr_dns_ports = 2;
	}
	if (!ret && f[HOME].k)
		ret = ydoc_list(d, &f[HOME], "a code", "country codes",
				sizeof(*p->home_countries), &p->home_countries,
				&p->nr_home_countries, country_one, NULL);
	if (ret)
		return ret;
	/* "overseas" is measured from mainland China unless told otherwise */
	if (!f[HOME].k) {
		p->home_countries = calloc(1, sizeof(*p->home_countries));
		if (!p->home_countries)
			return ydoc_nomem(d);
		memcpy(p->home_countries[0], "CN", 3);
		p->nr_home_countries = 1;
	}
	if (!f[RULES].k)
		return ydoc_err(d, root, "missing 'rules'");
	return parse_rules(d, &f[RULES], p);
}

int policy_load_string(const char *text, size_t len, const char *name,
		       struct policy **out, char *err, size_t errlen)
{
	struct ydoc d = { .name = name ? name : "<string>", .err = err,
			  .errlen = errlen };
	struct policy *p = NULL;
	int ret;

	ret = ydoc_load(&d, text, len, "one policy per file");
	if (!ret) {
		p = calloc(1, sizeof(*p));
		if (!p)
			ret = ydoc_nomem(&d);
	}
	if (!ret) {
		p->mode = POLICY_MONITOR;
		p->default_action = RW_ACT_ALLOW;
		ret = parse_top(&d, p);
	}
	if (!ret) {
		p->path = strdup(d.name);
		if (!p->path || policy_find_warnings(p))
			ret = ydoc_nomem(&d);
		else
			sha256_buf(text, len, p->sha256);
	}
	ydoc_free(&d);
	/* callers may pass their live pointer: it changes only on success */
	if (ret)
		policy_free(p);
	else
		*out = p;
	return ret;
}

int policy_load_file(const char *path, struct policy **out, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = ydoc_read_file(path, POLICY_MAX_SIZE, &buf, &len, err, errlen);
	if (ret)
		return ret;
	ret = policy_load_string(buf, len, path, out, err, errlen);
	free(buf);
	return ret;
}

static void free_strs(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

void policy_free(struct policy *p)
{
	struct policy_rule *r;

	if (!p)
		return;
	for (size_t i = 0; i < p->nr_rules; i++) {
		r = &p->rules[i];
		free(r->cidrs);
		free(r->exe);
		free(r->categories);
		free_strs(r->providers, r->nr_providers);
		free_strs(r->domains, r->nr_domains);
		free(r->countries);
		free(r->cgroup);
		free(r->container);
	}
	free(p->rules);
	free_strs(p->intel_files, p->nr_intel_files);
	free(p->fingerprint_key);
	free(p->home_countries);
	free_strs(p->warnings, p->nr_warnings);
	free(p->path);
	free(p);
}
