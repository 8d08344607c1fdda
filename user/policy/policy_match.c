// SPDX-License-Identifier: MIT
/*
 * The decision half of the policy: action and mode names, first-match
 * evaluation (the userspace twin of the kernel's), and the reachability
 * test behind the loader's warnings. Nothing here reads YAML.
 */
#include "policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "intel.h"
#include "relaywatch.h"
#include "ydoc.h"

static const char *const action_names[RW_ACT__MAX] = {
	[RW_ACT_NONE] = "none",   [RW_ACT_ALLOW] = "allow",
	[RW_ACT_ALERT] = "alert", [RW_ACT_DENY] = "deny",
	[RW_ACT_KILL] = "kill",
};

static const char *const mode_names[] = {
	[POLICY_MONITOR] = "monitor",
	[POLICY_ENFORCE] = "enforce",
};

const char *action_name(int action)
{
	if (action < 0 || action >= RW_ACT__MAX)
		return "unknown";
	return action_names[action];
}

int action_parse(const char *s)
{
	return str_index(action_names, RW_ACT_ALLOW, RW_ACT__MAX, s);
}

const char *mode_name(int mode)
{
	if (mode != POLICY_MONITOR && mode != POLICY_ENFORCE)
		return "unknown";
	return mode_names[mode];
}

int mode_parse(const char *s)
{
	return str_index(mode_names, POLICY_MONITOR, POLICY_ENFORCE + 1, s);
}

int policy_rule_mode(const struct policy *p, const struct policy_rule *r)
{
	return r->mode >= 0 ? r->mode : p->mode;
}

/* name equals entry, or entry is "*.suffix" and name lies below suffix;
 * one trailing dot of name is ignored. Also true for a "*.x.suffix" name,
 * which is what makes it usable for rule-to-rule comparison. */
static bool domain_in(const char *name, const char *entry)
{
	size_t n = strlen(name), e = strlen(entry);

	if (n && name[n - 1] == '.')
		n--;
	if (entry[0] == '*')
		return n > e - 1 && !strncasecmp(name + n - (e - 1), entry + 1,
						  e - 1);
	return n == e && !strncasecmp(name, entry, n);
}

/* path is prefix or lies below it: "/a" holds "/a/b", not "/ab" */
static bool cgroup_in(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 1)
		return path[0] == '/';
	return !strncmp(path, prefix, n) && (!path[n] || path[n] == '/');
}

static bool str_in(const char *s, char *const *set, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcasecmp(s, set[i]))
			return true;
	return false;
}

static bool int_in(int v, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static bool country_in(const char *c, const char (*set)[3], size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		if (!strcasecmp(c, set[i]))
			return true;
	return false;
}

/* The destination keys: each one named must hold (any entry of it). */
static bool dest_holds(const struct policy_rule *r,
		       const struct policy_query *q)
{
	size_t i;
	bool hit;

	for (i = 0, hit = false; i < r->nr_cidrs && !hit; i++)
		hit = cidr_contains(&r->cidrs[i], q->family, q->addr);
	if (r->nr_cidrs && !hit)
		return false;
	for (i = 0, hit = false; i < q->nr_categories && !hit; i++)
		hit = int_in(q->categories[i], r->categories, r->nr_categories);
	if (r->nr_categories && !hit)
		return false;
	for (i = 0, hit = false; q->domain && i < r->nr_domains && !hit; i++)
		hit = domain_in(q->domain, r->domains[i]);
	if (r->nr_domains && !hit)
		return false;
	if (r->nr_providers && !str_in(q->provider, r->providers,
				       r->nr_providers))
		return false;
	return !r->nr_countries ||
	       country_in(q->country, r->countries, r->nr_countries);
}

static bool proc_holds(const struct policy_rule *r,
		       const struct policy_query *q)
{
	if (r->has_uid && r->uid != q->uid)
		return false;
	if (r->exe && (!q->exe || (r->exe_glob
					   ? fnmatch(r->exe, q->exe, FNM_PATHNAME)
					   : strcmp(r->exe, q->exe))))
		return false;
	if (r->sha256[0] && (!q->sha256 || strcasecmp(r->sha256, q->sha256)))
		return false;
	if (r->cgroup && (!q->cgroup || !cgroup_in(q->cgroup, r->cgroup)))
		return false;
	return !r->container ||
	       (q->container && !strncasecmp(q->container, r->container,
					     strlen(r->container)));
}

/* The cheap scalar tests go first; the kernel does the LPM lookup first,
 * but the outcome is the same since every condition must hold. */
int policy_match(const struct policy *p, const struct policy_query *q)
{
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < p->nr_rules; i++) {
		r = &p->rules[i];
		if ((r->port && r->port != q->port) ||
		    (r->proto && r->proto != q->proto) ||
		    (r->overseas >= 0 && r->overseas != q->overseas))
			continue;
		if (proc_holds(r, q) && dest_holds(r, q))
			return (int)i;
	}
	return -1;
}

int policy_hint(const struct policy *p, const struct policy_query *q,
		size_t from, size_t upto, int *port, int *proto)
{
	struct policy_query w = *q;
	const struct policy_rule *r;

	for (size_t i = from; i < upto && i < p->nr_rules; i++) {
		r = &p->rules[i];
		/* only what the question left open may be filled in */
		if ((!r->port || q->port) && (!r->proto || q->proto))
			continue;
		if ((r->port && q->port && r->port != q->port) ||
		    (r->proto && q->proto && r->proto != q->proto) ||
		    (r->overseas >= 0 && r->overseas != q->overseas))
			continue;
		w.port = q->port ?: r->port;
		w.proto = q->proto ?: r->proto;
		if (proc_holds(r, &w) && dest_holds(r, &w)) {
			*port = r->port;
			*proto = r->proto;
			return (int)i;
		}
	}
	return -1;
}

int policy_decide(const struct policy *p, const struct policy_query *q,
		  int *action)
{
	int i = policy_match(p, q);

	*action = i >= 0 ? p->rules[i].action : p->default_action;
	return i;
}

/* c's first and last address both in one of a's prefixes */
static bool cidrs_cover(const struct policy_rule *a, const struct cidr *c)
{
	unsigned int bits = c->family == AF_INET6 ? 128 : 32, i;
	__u8 last[16];

	memcpy(last, c->addr, sizeof(last));
	for (i = c->prefixlen; i < bits; i++)
		last[i / 8] |= (__u8)(0x80 >> (i % 8));
	for (i = 0; i < a->nr_cidrs; i++)
		if (cidr_contains(&a->cidrs[i], c->family, c->addr) &&
		    cidr_contains(&a->cidrs[i], c->family, last))
			return true;
	return false;
}

static bool domains_cover(const struct policy_rule *a, const char *name)
{
	for (size_t i = 0; i < a->nr_domains; i++)
		if (domain_in(name, a->domains[i]))
			return true;
	return false;
}

static bool exe_covers(const struct policy_rule *a,
		       const struct policy_rule *b)
{
	if (!b->exe)
		return false;
	if (!strcmp(a->exe, b->exe))
		return true;
	/* a path matching a's pattern; a pattern against a pattern is
	 * undecidable here, so it never counts */
	return a->exe_glob && !b->exe_glob &&
	       !fnmatch(a->exe, b->exe, FNM_PATHNAME);
}

/* Every value set b names is inside a's; a set a does not name is "any". */
static bool sets_cover(const struct policy_rule *a,
		       const struct policy_rule *b)
{
	size_t i;

	if (a->nr_cidrs && !b->nr_cidrs)
		return false;
	for (i = 0; i < b->nr_cidrs && a->nr_cidrs; i++)
		if (!cidrs_cover(a, &b->cidrs[i]))
			return false;
	if (a->nr_categories && !b->nr_categories)
		return false;
	for (i = 0; i < b->nr_categories && a->nr_categories; i++)
		if (!int_in(b->categories[i], a->categories, a->nr_categories))
			return false;
	if (a->nr_providers && !b->nr_providers)
		return false;
	for (i = 0; i < b->nr_providers && a->nr_providers; i++)
		if (!str_in(b->providers[i], a->providers, a->nr_providers))
			return false;
	if (a->nr_countries && !b->nr_countries)
		return false;
	for (i = 0; i < b->nr_countries && a->nr_countries; i++)
		if (!country_in(b->countries[i], a->countries, a->nr_countries))
			return false;
	if (a->nr_domains && !b->nr_domains)
		return false;
	for (i = 0; i < b->nr_domains && a->nr_domains; i++)
		if (!domains_cover(a, b->domains[i]))
			return false;
	return true;
}

bool policy_rule_covers(const struct policy_rule *a,
			const struct policy_rule *b)
{
	if ((a->port && a->port != b->port) ||
	    (a->proto && a->proto != b->proto) ||
	    (a->has_uid && (!b->has_uid || a->uid != b->uid)) ||
	    (a->overseas >= 0 && a->overseas != b->overseas))
		return false;
	if ((a->exe && !exe_covers(a, b)) ||
	    (a->sha256[0] && strcmp(a->sha256, b->sha256)))
		return false;
	if (a->cgroup && (!b->cgroup || !cgroup_in(b->cgroup, a->cgroup)))
		return false;
	if (a->container && (!b->container ||
			     strncmp(b->container, a->container,
				     strlen(a->container))))
		return false;
	return sets_cover(a, b);
}

int policy_shadowed_by(const struct policy *p, size_t i)
{
	for (size_t k = 0; k < i && i < p->nr_rules; k++)
		if (policy_rule_covers(&p->rules[k], &p->rules[i]))
			return (int)k;
	return -1;
}

__attribute__((format(printf, 3, 4)))
static int warn(struct policy *p, const struct policy_rule *r,
		const char *fmt, ...)
{
	char **w, *msg;
	va_list ap;
	int n;

	w = realloc(p->warnings, (p->nr_warnings + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	p->warnings = w;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	n = asprintf(&w[p->nr_warnings], "%s:%d:%d: warning: %s", p->path,
		     r->line, r->col, msg);
	free(msg);
	if (n < 0)
		return -ENOMEM;
	p->nr_warnings++;
	return 0;
}

int policy_find_warnings(struct policy *p)
{
	const struct policy_rule *r, *a;
	size_t i, k;
	int s, ret = 0;

	for (i = 0; i < p->nr_rules && !ret; i++) {
		r = &p->rules[i];
		s = policy_shadowed_by(p, i);
		if (s >= 0) {
			a = &p->rules[s];
			ret = warn(p, r, "rule '%s' is unreachable: rule '%s' (line %d) matches everything it matches",
				   r->name, a->name, a->line);
		}
		for (k = 0; k < r->nr_categories; k++)
			if (r->categories[k] == INTEL_CAT_AI_OVERSEAS)
				break;
		/* the category is defined as endpoints abroad */
		if (!ret && !r->overseas && k < r->nr_categories)
			ret = warn(p, r, "rule '%s': category ai-overseas never holds with overseas: false",
				   r->name);
	}
	return ret;
}
