/* SPDX-License-Identifier: MIT */
/*
 * The policy file: which egress to allow, alert on, deny or kill. Loaded
 * from YAML, checked as a whole (a bad file loads nothing), then turned into
 * the kernel's rule array and CIDR tries by another module. policy_match()
 * is the userspace twin of the kernel's decision, for `check` and tests.
 *
 *   mode: enforce                  # monitor | enforce (default monitor)
 *   rules:                         # at most RW_MAX_RULES, first match wins
 *     - name: block-relay
 *       match:                     # every condition must hold, at least one
 *         cidr: [203.0.113.0/24, "2001:db8::/32"]   # or a single string
 *         port: 443
 *         proto: tcp               # tcp | udp
 *         exe: /usr/bin/curl       # absolute path
 *         uid: 1000
 *       action: deny               # allow | alert | deny | kill
 *       mode: monitor              # per-rule override
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
};

struct policy {
	char *path;            /* file name used in messages */
	int mode;              /* POLICY_MONITOR default */
	struct policy_rule *rules;
	size_t nr_rules;
};

/*
 * Both return 0, -EINVAL for a bad policy, -ENOMEM, or (file) -errno when
 * the file cannot be read. On error err holds one line, "FILE:LINE:COL:
 * reason" (1-based) or "cannot read FILE: reason", and *out is not written.
 * The `rules` key is required; an empty list is a valid policy.
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
};

/* first rule (in file order) whose every condition holds; -1 if none.
 * Same semantics as the kernel: cidr list (any of them contains addr; a
 * rule without cidr matches any address), port, proto, uid, exe. */
int policy_match(const struct policy *p, const struct policy_query *q);

#endif
