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
#include "target.h"

static const char check_help[] =
"usage: relaywatch check DEST [--policy FILE] [--intel FILE]\n"
"                        [--rir FILE] [--port N] [--proto tcp|udp]\n"
"                        [--exe PATH] [--uid N] [--json]\n"
"\n"
"How the intelligence, the country table and a policy classify a\n"
"destination: category, provider, country, overseas, the rule that\n"
"matches, its action, and why, each with its file:line. Needs neither\n"
"root nor the kernel. DEST is a name, an address, HOST:PORT or a URL\n"
"(https://api.openai.com/v1/chat: its host, and its port or the\n"
"scheme's, 443 or 80, over TCP). A name is not resolved: its country\n"
"is unknown, so check its addresses too. An earlier rule that needs a\n"
"port or protocol the question did not give is shown as \"would match\n"
"on port 853/tcp\".\n"
"Without --policy the built-in monitor policy is used. Rules that name\n"
"a process (exe, uid, user, cgroup, container) match only when --exe or\n"
"--uid describe one.\n"
"\n"
"  --policy FILE   the policy to decide with\n"
"  --intel FILE    extra intelligence, merged after the built-in set\n"
"  --rir FILE      an RIR delegated-stats file overriding countries\n"
"  --port N, --proto tcp|udp   the destination port and protocol (they\n"
"                  override a URL's)\n"
"  --exe PATH, --uid N         the process making the call\n"
"  --json          one JSON object instead of text\n"
"\n"
"EXAMPLES\n"
"  relaywatch check api.openai.com\n"
"  relaywatch check https://api.openai.com/v1/chat/completions\n"
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
		pr_warn("check takes one DEST: a name, an address or a URL "
			"(see relaywatch check --help)");
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

/* "port 853/tcp", "port 853", "udp": what a hint needs */
static void hint_text(int port, int proto, char *buf, size_t len)
{
	const char *p = proto == IPPROTO_UDP ? "udp" : "tcp";

	if (port && proto)
		snprintf(buf, len, "port %d/%s", port, p);
	else if (port)
		snprintf(buf, len, "port %d", port);
	else
		snprintf(buf, len, "%s", p);
}

/* the earlier rules a port or protocol would have made match */
static json_object *hints(const struct policy *p, const struct policy_query *q,
			  int idx, bool text)
{
	size_t upto = idx >= 0 ? (size_t)idx : p->nr_rules;
	json_object *arr = text ? NULL : json_object_new_array();
	int port, proto, i = -1;
	char on[64];

	while ((i = policy_hint(p, q, i + 1, upto, &port, &proto)) >= 0) {
		const struct policy_rule *r = &p->rules[i];
		json_object *j;
		char where[PATH_MAX + 16];

		hint_text(port, proto, on, sizeof(on));
		snprintf(where, sizeof(where), "%s:%d", p->path, r->line);
		if (text) {
			printf("  also      %s (%s) would match on %s: %s\n", r->name,
			       where, on, action_name(r->action));
			continue;
		}
		j = json_object_new_object();
		json_object_object_add(j, "rule", json_object_new_string(r->name));
		json_object_object_add(j, "rule_source",
				       json_object_new_string(where));
		json_object_object_add(j, "on", json_object_new_string(on));
		json_object_object_add(j, "port", port ?
				       json_object_new_int(port) : NULL);
		json_object_object_add(j, "proto", proto ?
			json_object_new_string(proto == IPPROTO_UDP ? "udp" :
					       "tcp") : NULL);
		json_object_object_add(j, "action", json_object_new_string(
			action_name(r->action)));
		json_object_array_add(arr, j);
	}
	return arr;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = {};
	struct policy_query q = { .overseas = -1 };
	const struct intel_entry *e;
	struct check_target t;
	struct config c;
	struct geo *g = NULL;
	char err[1024], why[512] = "", sha[65], exe[PATH_MAX];
	const char *quic = NULL;
	char isrc[PATH_MAX + 16] = "", rsrc[PATH_MAX + 16] = "";
	int family, action, idx, ret = 2;
	struct dest_info d;
	bool is_addr;

	if (parse(argc, argv, &o))
		return 2;
	if (check_target_parse(o.target, &t, err, sizeof(err))) {
		pr_warn("%s", err);
		return 2;
	}
	if (config_load(&c, o.policy, o.intel, false, err, sizeof(err))) {
		pr_warn("%s", err);
		return 2;
	}
	if (geo_load_embedded(&g, err, sizeof(err)) ||
	    (o.rir && geo_merge_rir_file(g, o.rir, err, sizeof(err)))) {
		pr_warn("%s", err);
		goto out;
	}
	is_addr = addr_parse(t.host, &family, q.addr) == 0;
	/* the flags say more than the URL */
	q.port = o.port ?: t.port;
	q.proto = o.proto ?: t.proto;
	if (is_addr) {
		q.family = family;
		classify_addr(c.intel, g, c.policy, family, q.addr, &d);
	} else {
		classify_name(c.intel, t.host, &d);
		q.domain = t.host;
	}
	classify_query(&d, &q);
	e = d.entry;
	if (e)
		intel_where(e, isrc, sizeof(isrc));
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
	/* an address asked alone is one no DNS answer named: as the kernel
	 * does (sock_addr.bpf.c), unless a rule allows or denies it */
	if (c.policy->quic == RW_QUIC_DENY_UNNAMED && is_addr &&
	    q.proto == IPPROTO_UDP && q.port == 443 &&
	    (action == RW_ACT_ALERT || (idx < 0 && action < RW_ACT_DENY))) {
		quic = "quic-unnamed";
		idx = -1;
		action = RW_ACT_DENY;
		snprintf(why, sizeof(why), "UDP to port 443 of an address no "
			 "DNS answer named (quic: deny-unnamed): QUIC's name "
			 "is not read; clients fall back to TCP");
	}

	const struct policy_rule *r = idx >= 0 ? &c.policy->rules[idx] : NULL;
	int mode = r ? policy_rule_mode(c.policy, r) : c.policy->mode;

	if (r)
		snprintf(rsrc, sizeof(rsrc), "%s:%d", c.policy->path, r->line);
	if (o.json) {
		json_object *j = json_object_new_object();
		const char *isp = isrc, *rsp = rsrc;

#define S(k, v) json_object_object_add(j, k, (v) ? json_object_new_string(v) : NULL)
		S("target", o.target);
		S("host", t.host);
		json_object_object_add(j, "port", q.port ?
				       json_object_new_int(q.port) : NULL);
		S("proto", q.proto == IPPROTO_TCP ? "tcp" :
			   q.proto == IPPROTO_UDP ? "udp" : NULL);
		S("category", e ? intel_category_name(e->category) : NULL);
		S("provider", e ? e->provider : NULL);
		S("source", e ? e->source : NULL);
		S("intel_source", e ? isp : NULL);
		S("country", q.country);
		json_object_object_add(j, "overseas", q.overseas < 0 ? NULL :
				       json_object_new_boolean(q.overseas));
		S("rule", r ? r->name : quic ?: "default");
		S("rule_source", r ? rsp : NULL);
		S("action", action_name(action));
		S("mode", mode == POLICY_ENFORCE ? "enforce" : "monitor");
		S("policy", c.policy->path);
		json_object_object_add(j, "why", json_object_new_string(why));
		json_object_object_add(j, "would_match",
				       hints(c.policy, &q, idx, false));
#undef S
		printf("%s\n", json_object_to_json_string_ext(j,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		printf("%s\n", o.target);
		if (strcmp(o.target, t.host) || q.port) {
			char on[64] = "";

			if (q.port || q.proto)
				hint_text(q.port, q.proto, on, sizeof(on));
			printf("  asked     %s%s%s\n", t.host, *on ? " " : "",
			       on);
		}
		printf("  category  %s\n", e ? intel_category_name(e->category) : "none (not in the intelligence)");
		printf("  provider  %s\n", e && e->provider ? e->provider : "-");
		if (e)
			printf("  source    %s\n", isrc);
		printf("  country   %s\n", q.country ? q.country :
		       is_addr ? "unknown" : "unknown (a name: check its addresses)");
		printf("  overseas  %s\n", overseas_text(q.overseas));
		if (r)
			printf("  rule      %s (%s)\n", r->name, rsrc);
		else if (quic)
			printf("  rule      %s (the policy's quic key)\n", quic);
		else
			printf("  rule      none; the default applies\n");
		printf("  action    %s (%s)\n", action_name(action),
		       mode == POLICY_ENFORCE ? "enforce" : "monitor");
		printf("  why       %s\n", why);
		hints(c.policy, &q, idx, true);
	}
	ret = 0;
out:
	geo_free(g);
	config_free(&c);
	return ret;
}
