/* SPDX-License-Identifier: MIT */
/*
 * The policy file: which egress to allow, alert on, deny or kill. Loaded
 * from YAML, checked as a whole (a bad file loads nothing), then turned into
 * the kernel's rule array and CIDR tries by another module. policy_match()
 * is the userspace twin of the kernel's decision, for `check` and tests.
 *
 *   mode: enforce                  # monitor | enforce (default monitor)
 *   default: alert                 # action when no rule matches (allow)
 *   intel: [extra.yaml]            # more intel files, relative to this one
 *   home_countries: [CN]           # what "overseas" is measured from
 *   dns_ports: [53, 5353]          # answers from these ports are read
 *   rules:                         # at most RW_MAX_RULES, first match wins
 *     - name: block-relay
 *       match:                     # every condition must hold, at least one
 *         cidr: [203.0.113.0/24, "2001:db8::/32"]   # or a single string
 *         category: ai-relay       # intel categories (string or list)
 *         provider: [OpenAI]       # intel provider names
 *         domain: ["*.example.com", api.example.net]
 *         country: [US]            # destination country
 *         overseas: true           # outside home_countries
 *         port: 443
 *         proto: tcp               # tcp | udp
 *         exe: "/usr/bin/python3*" # absolute path or fnmatch glob
 *         sha256: 9f86d0...        # the exe's content, needs exe
 *         uid: 1000                # or user: alice
 *         cgroup: /system.slice    # cgroup v2 path prefix
 *         container: 3f4e1a2b9c0d  # container id prefix
 *       action: deny               # allow | alert | deny | kill
 *       mode: monitor              # per-rule override
 *
 * Destination keys (cidr, category, provider, domain, country) are ANDed
 * like every other key; each key's list is ORed.
 */
#ifndef RW_POLICY_H
#define RW_POLICY_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

enum policy_mode { POLICY_MONITOR = 0, POLICY_ENFORCE = 1 };

#define POLICY_NAME_LEN 64
#define POLICY_MAX_SIZE (1 << 20) /* bytes of a policy file */
#define POLICY_DNS_PORTS 8         /* dns_ports: at most (RW_DNS_PORTS) */

struct policy_rule {
	char name[POLICY_NAME_LEN]; /* [A-Za-z0-9._-], unique */
	int line;              /* 1-based line of the rule, for messages */
	int action;            /* enum rw_action */
	int mode;              /* -1 = inherit the policy mode, else POLICY_* */
	struct cidr *cidrs;    /* match.cidr, may be empty */
	size_t nr_cidrs;
	int port;              /* match.port, 0 = any (1..65535) */
	int proto;             /* match.proto: 0 any, IPPROTO_TCP or _UDP */
	char *exe;             /* match.exe, absolute path, NULL = any */
	bool has_uid;          /* match.uid */
	__u32 uid;
	int *categories;       /* match.category: intel category ids (enum
				* intel_category); one string or a list */
	size_t nr_categories;
	char **providers;      /* match.provider: names, compared
				* case-insensitively; string or list */
	size_t nr_providers;
	char **domains;        /* match.domain: lower-cased, trailing dot
				* removed; "*.suffix" kept as written (any name
				* below suffix); string or list */
	size_t nr_domains;
	int overseas;          /* match.overseas: -1 not given, 0 = domestic
				* only (false), 1 = overseas only (true) */
	char (*countries)[3];  /* match.country: ISO 3166 alpha-2, upper-case;
				* string or list */
	size_t nr_countries;
	bool exe_glob;         /* exe contains * ? or [: an fnmatch(3) pattern
				* with FNM_PATHNAME */
	char sha256[65];       /* match.sha256: 64 hex, lower-case; "" = none;
				* needs exe (the kernel knows binaries by path) */
	/* match.user sets has_uid/uid (getpwnam_r at load) */
	char *cgroup;          /* match.cgroup: cgroup v2 path prefix within the
				* hierarchy, "/system.slice/app.service";
				* no trailing slash, no //, no . or .. */
	char *container;       /* match.container: container id prefix, 12..64
				* lower-case hex */
	int col;               /* 1-based column of the rule, for warnings */
};

struct policy {
	char *path;            /* file name used in messages */
	int mode;              /* POLICY_MONITOR default */
	struct policy_rule *rules;
	size_t nr_rules;
	int default_action;    /* `default:`; RW_ACT_ALLOW (= no event) if absent */
	char **intel_files;    /* `intel:` extra intel files; a relative path is
				* resolved against the policy file's directory */
	size_t nr_intel_files;
	char (*home_countries)[3]; /* `home_countries:`, ["CN"] when absent */
	size_t nr_home_countries;
	char **warnings;       /* "FILE:LINE:COL: warning: reason", one a line */
	size_t nr_warnings;
	__u8 sha256[32];       /* of the text: which policy is in force */
	bool credential_files;  /* credential_files: scan a matched process's
				 * credential files too (its environment is
				 * scanned always) */
	char *fingerprint_key;  /* fingerprint_key: the site key file; NULL:
				 * /etc/relaywatch/fingerprint.key */
	__u64 deadman_ns;      /* on_daemon_loss: deny-alerts, after this long
				* without a daemon; 0 = keep */
	int undecided;         /* undecided: the action (allow, alert, deny)
				* for first bytes that stay unreadable */
	__u16 dns_ports[POLICY_DNS_PORTS]; /* dns_ports: source ports of DNS
				* answers (UDP and TCP); [53, 5353] when absent */
	size_t nr_dns_ports;
	int quic;              /* quic: RW_QUIC_ALLOW (default) or
				* RW_QUIC_DENY_UNNAMED */
};

/*
 * Both return 0, -EINVAL for a bad policy, -ENOMEM, or (file) -errno when
 * the file cannot be read. On error err holds one line, "FILE:LINE:COL:
 * reason" (1-based) or "cannot read FILE: reason", and *out is not written.
 * The `rules` key is required; an empty list is a valid policy. A loaded
 * policy may carry warnings (rules that can never match) for the caller
 * to print. Relative `intel:` paths are resolved against the directory of
 * path, or of name for a string.
 */
int policy_load_file(const char *path, struct policy **out, char *err,
		     size_t errlen);
/* text need not be NUL-terminated; name stands in for FILE in messages */
int policy_load_string(const char *text, size_t len, const char *name,
		       struct policy **out, char *err, size_t errlen);
void policy_free(struct policy *p);

const char *action_name(int action);   /* "allow","alert","deny","kill" */
int action_parse(const char *s);       /* -1 if unknown */
const char *mode_name(int mode);       /* "monitor", "enforce" */
int mode_parse(const char *s);         /* -1 if unknown */

/* effective mode of a rule */
int policy_rule_mode(const struct policy *p, const struct policy_rule *r);

struct policy_query {
	int family;            /* AF_INET / AF_INET6 (v4-mapped judged as v4) */
	__u8 addr[16];
	int port;              /* host order */
	int proto;             /* IPPROTO_TCP / IPPROTO_UDP */
	__u32 uid;
	const char *exe;       /* resolved exe path, NULL if unknown: an exe
				* rule then does not match */
	const int *categories; /* of the destination (from intel), may be 0 */
	size_t nr_categories;
	const char *provider;  /* NULL unknown */
	const char *domain;    /* destination name, lower-case, NULL unknown */
	const char *country;   /* "US", NULL unknown */
	int overseas;          /* -1 unknown, 0, 1: NOT 0 when unknown */
	const char *sha256;    /* of the process's exe, NULL unknown */
	const char *cgroup;    /* process's cgroup v2 path, NULL unknown */
	const char *container; /* NULL none */
};

/* First rule (in file order) whose every condition holds; -1 if none.
 * Same semantics as the kernel: within a key's list any entry may match;
 * a rule without cidr matches any address; a condition whose input is
 * unknown (NULL, -1) does not hold. Domains match exactly or below a
 * "*.suffix"; cgroup by path prefix on a '/' boundary; container by id
 * prefix. */
int policy_match(const struct policy *p, const struct policy_query *q);
/* The first rule in [from, upto) that needs a port or protocol q left
 * open (0) and matches once they are the rule's: what a question without
 * them would miss ("would match on port 853/tcp"). Its index, with the
 * rule's port and proto (0: it names none), or -1. */
int policy_hint(const struct policy *p, const struct policy_query *q,
		size_t from, size_t upto, int *port, int *proto);
/* policy_match(), and *action = the rule's action or p->default_action */
int policy_decide(const struct policy *p, const struct policy_query *q,
		  int *action);
/* Whether rule a matches every query b matches, by a conservative test:
 * every condition a names, b names too with a subset of a's values. */
bool policy_rule_covers(const struct policy_rule *a,
			const struct policy_rule *b);
/* The first rule before rules[i] that covers it, -1 if none */
int policy_shadowed_by(const struct policy *p, size_t i);
/* Append p->warnings: unreachable rules, conditions that contradict each
 * other. The loaders call it; 0 or -ENOMEM. */
int policy_find_warnings(struct policy *p);

#endif
