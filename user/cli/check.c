// SPDX-License-Identifier: MIT
/*
 * `check` answers "what would relaywatch do with this destination?" from
 * the same data the daemon loads: the merged intelligence, the country
 * table and the policy, decided by policy_decide(), the userspace twin of
 * the kernel's decision. A name is not resolved (no network): its country
 * is unknown, check its addresses too.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "check.h"
#include "classify.h"
#include "cidr.h"
#include "config.h"
#include "geo.h"
#include "intel.h"
#include "log.h"
#include "policy.h"
#include "proc.h"

static const char check_help[] =
"usage: relaywatch check NAME|IP [--policy FILE] [--intel FILE]\n"
"                        [--rir FILE] [--port N] [--proto tcp|udp]\n"
"                        [--exe PATH] [--uid N] [--json]\n"
"\n"
"How the intelligence, the country table and a policy classify a\n"
"destination: category, provider, country, overseas, the rule that\n"
"matches, its action, and why. Needs neither root nor the kernel. A name\n"
"is not resolved: its country is unknown, so check its addresses too.\n"
"Without --policy the built-in monitor policy is used. Rules that name\n"
"a process (exe, uid, user, cgroup, container) match only when --exe or\n"
"--uid describe one.\n"
"\n"
"  --policy FILE   the policy to decide with\n"
"  --intel FILE    extra intelligence, merged after the built-in set\n"
"  --rir FILE      an RIR delegated-stats file overriding countries\n"
"  --port N, --proto tcp|udp   the destination port and protocol\n"
"  --exe PATH, --uid N         the process making the call\n"
"  --json          one JSON object instead of text\n"
"\n"
"EXAMPLES\n"
"  relaywatch check api.openai.com\n"
"  relaywatch check 8.8.8.8 --policy etc/policy.yaml\n"
"  relaywatch check api.anthropic.com --policy p.yaml \\\n"
"                   --exe /usr/local/bin/approved-agent\n";

struct check_opts {
	const char *policy, *intel, *rir, *exe, *target;
	long port, uid;
	int proto;
	bool json;
};

static int parse(int argc, char **argv, struct check_opts *o)
{
	static const struct option longs[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "intel", required_argument, NULL, 'i' },
		{ "rir", required_argument, NULL, 'g' },
		{ "port", required_argument, NULL, 'P' },
		{ "proto", required_argument, NULL, 't' },
		{ "exe", required_argument, NULL, 'e' },
		{ "uid", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	int c;

	o->uid = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->policy = optarg; break;
		case 'i': o->intel = optarg; break;
		case 'g': o->rir = optarg; break;
		case 'e': o->exe = optarg; break;
		case 'j': o->json = true; break;
		case 'v': log_level++; break;
		case 'h':
			fputs(check_help, stdout);
			exit(0);
		case 'P':
			o->port = strtol(optarg, &end, 10);
			if (*end || end == optarg || o->port < 1 || o->port > 65535) {
				pr_warn("--port expects a number from 1 to 65535, not '%s'", optarg);
				return -EINVAL;
			}
			break;
		case 'u':
			o->uid = strtol(optarg, &end, 10);
			if (*end || end == optarg || o->uid < 0 || o->uid > 4294967294L) {
				pr_warn("--uid expects a number from 0 to 4294967294, not '%s'", optarg);
				return -EINVAL;
			}
			break;
		case 't':
			if (!strcasecmp(optarg, "tcp"))
				o->proto = IPPROTO_TCP;
			else if (!strcasecmp(optarg, "udp"))
				o->proto = IPPROTO_UDP;
			else {
				pr_warn("--proto expects tcp or udp, not '%s'", optarg);
				return -EINVAL;
			}
			break;
		default:
			pr_warn("unknown option '%s' (see relaywatch check --help)",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		pr_warn("check takes one NAME or IP (see relaywatch check --help)");
		return -EINVAL;
	}
	o->target = argv[optind];
	return 0;
}

static const char *overseas_text(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

/* the reason in words: which of the rule's conditions the destination met */
static void explain(const struct policy_rule *r, const struct policy_query *q,
		    char *buf, size_t len)
{
	size_t n = 0;

#define SAY(...) n += snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__)
	if (r->nr_categories && q->nr_categories)
		SAY("category %s is listed; ",
		    intel_category_name(q->categories[0]));
	if (r->nr_providers && q->provider)
		SAY("provider %s is listed; ", q->provider);
	if (r->nr_domains && q->domain)
		SAY("name %s is listed; ", q->domain);
	if (r->nr_cidrs)
		SAY("the address is in the rule's cidr list; ");
	if (r->nr_countries && q->country)
		SAY("country %s is listed; ", q->country);
	if (r->overseas >= 0)
		SAY("the address is %s; ", r->overseas ? "overseas" : "domestic");
	if (r->port)
		SAY("port %d; ", r->port);
	if (r->exe)
		SAY("the binary is %s; ", r->exe);
	if (r->has_uid)
		SAY("uid %u; ", r->uid);
	if (!n)
		SAY("the rule matches every destination; ");
#undef SAY
	if (n >= 2 && n < len)
		buf[n - 2] = 0;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = {};
	struct policy_query q = { .overseas = -1 };
	const struct intel_entry *e;
	struct config c;
	struct geo *g = NULL;
	char err[1024], why[512] = "", sha[65], exe[PATH_MAX];
	int family, action, idx, ret = 2;
	struct dest_info d;
	bool is_addr;

	if (parse(argc, argv, &o))
		return 2;
	if (config_load(&c, o.policy, o.intel, false, err, sizeof(err))) {
		pr_warn("%s", err);
		return 2;
	}
	if (geo_load_embedded(&g, err, sizeof(err)) ||
	    (o.rir && geo_merge_rir_file(g, o.rir, err, sizeof(err)))) {
		pr_warn("%s", err);
		goto out;
	}
	is_addr = addr_parse(o.target, &family, q.addr) == 0;
	q.port = o.port;
	q.proto = o.proto;
	if (is_addr) {
		q.family = family;
		classify_addr(c.intel, g, c.policy, family, q.addr, &d);
	} else {
		classify_name(c.intel, o.target, &d);
		q.domain = o.target;
	}
	classify_query(&d, &q);
	e = d.entry;
	if (o.exe) {
		if (!realpath(o.exe, exe)) {
			pr_warn("--exe %s: %s", o.exe, strerror(errno));
			goto out;
		}
		q.exe = exe;
		if (file_sha256(exe, sha) == 0)
			q.sha256 = sha;
	}
	if (o.uid >= 0)
		q.uid = o.uid;
	idx = policy_decide(c.policy, &q, &action);
	if (idx >= 0)
		explain(&c.policy->rules[idx], &q, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "no rule matches: the policy's "
			 "default applies");

	const struct policy_rule *r = idx >= 0 ? &c.policy->rules[idx] : NULL;
	int mode = r ? policy_rule_mode(c.policy, r) : c.policy->mode;

	if (o.json) {
		json_object *j = json_object_new_object();

#define S(k, v) json_object_object_add(j, k, (v) ? json_object_new_string(v) : NULL)
		S("target", o.target);
		S("category", e ? intel_category_name(e->category) : NULL);
		S("provider", e ? e->provider : NULL);
		S("source", e ? e->source : NULL);
		S("country", q.country);
		json_object_object_add(j, "overseas", q.overseas < 0 ? NULL :
				       json_object_new_boolean(q.overseas));
		S("rule", r ? r->name : "default");
		S("action", action_name(action));
		S("mode", mode == POLICY_ENFORCE ? "enforce" : "monitor");
		S("policy", c.policy->path);
		json_object_object_add(j, "why", json_object_new_string(why));
#undef S
		printf("%s\n", json_object_to_json_string_ext(j,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		printf("%s\n", o.target);
		printf("  category  %s\n", e ? intel_category_name(e->category) : "none (not in the intelligence)");
		printf("  provider  %s\n", e && e->provider ? e->provider : "-");
		if (e)
			printf("  source    %s:%d\n", e->source, e->line);
		printf("  country   %s\n", q.country ? q.country :
		       is_addr ? "unknown" : "unknown (a name: check its addresses)");
		printf("  overseas  %s\n", overseas_text(q.overseas));
		if (r)
			printf("  rule      %s (%s:%d)\n", r->name, c.policy->path, r->line);
		else
			printf("  rule      none; the default applies\n");
		printf("  action    %s (%s)\n", action_name(action),
		       mode == POLICY_ENFORCE ? "enforce" : "monitor");
		printf("  why       %s\n", why);
	}
	ret = 0;
out:
	geo_free(g);
	config_free(&c);
	return ret;
}
