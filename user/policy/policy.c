// SPDX-License-Identifier: MIT
/*
 * Policy loader. The whole YAML document is loaded first, then walked; the
 * first problem found is reported as "FILE:LINE:COL: reason" and nothing
 * is returned, so a reload with a broken file leaves the running policy as
 * it was. A rule's match keys are read in policy_keys.c; matching and the
 * reachability test are in policy_match.c.
 */
#include "digest.h"
#include "log.h"
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel.h"
#include "relaywatch.h"
#include "ydoc.h"
#include "util.h"
#include "policy_parse.h"

/* Rule names end up in log lines and JSON: keep them to one plain word. */
#define NAME_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
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
		ret = first_err(ret, policy_parse_match(d, &f[MATCH], r));
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
				&p->nr_home_countries, policy_country_one, NULL);
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
