// SPDX-License-Identifier: MIT
/*
 * Connections open before start-up: the hooks never saw their connect, so
 * sock_diag lists them, each is judged by the policy in userspace like a
 * connect, reported as `existing`, and under enforce its owner is killed
 * (kill) or the socket destroyed (deny).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "session.h"
#include "record.h"
#include "session_impl.h"
#include "loader.h"
#include "policy.h"
#include "proc.h"
#include "cgroup.h"
#include "sockscan.h"
#include "classify.h"
#include "log.h"

struct scan_ctx {
	struct session *s;
	const char *cg;        /* attached cgroup, relative to the v2 root */
};

/* is the process inside the attached cgroup (or below it)? */
static bool in_cgroup(pid_t pid, const char *cg)
{
	char path[4096];
	size_t n = strlen(cg);

	if (cgroup_of_pid(pid, path, sizeof(path)))
		return false;
	if (!strcmp(cg, "/"))
		return true;
	return !strncmp(path, cg, n) && (path[n] == 0 || path[n] == '/');
}

static int scan_one(const struct sock_entry *se, void *arg)
{
	struct scan_ctx *c = arg;
	struct session *s = c->s;
	struct policy_query q = { .port = se->dport, .proto = se->proto };
	struct dest_info dst;
	char sha[65];
	int action;
	struct rw_net_event e = {};
	const struct policy_rule *r;
	bool mapped = false, enforce;
	int idx;

	if (!se->pid || !in_cgroup(se->pid, c->cg))
		return 0;
	q.family = se->family;
	memcpy(q.addr, se->daddr, 16);
	if (se->family == AF_INET6 && !memcmp(se->daddr,
			"\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		q.family = AF_INET;
		memmove(q.addr, se->daddr + 12, 4);
		memset(q.addr + 4, 0, 12);
		mapped = true;
	}
	classify_addr(s->out.intel, s->out.geo, s->policy, q.family, q.addr,
		      &dst);
	classify_query(&dst, &q);
	struct proc_info *pi = session_attribute(se->pid, NULL);

	if (pi) {
		q.uid = pi->uid;
		q.exe = pi->exe;
		q.cgroup = pi->cgroup;
		q.container = pi->container[0] ? pi->container : NULL;
		if (pi->sha256[0]) {
			memcpy(sha, pi->sha256, sizeof(sha));
			q.sha256 = sha;
		}
	}
	idx = policy_decide(s->policy, &q, &action);
	if (idx < 0 && action <= RW_ACT_ALLOW)
		return 0;
	r = idx >= 0 ? &s->policy->rules[idx] : NULL;
	enforce = (r ? policy_rule_mode(s->policy, r) : s->policy->mode) ==
			  POLICY_ENFORCE && action >= RW_ACT_DENY;
	if (idx < 0)
		idx = RW_RULE_DEFAULT;
	e.hdr.type = RW_EV_EXISTING;
	e.hdr.size = sizeof(e);
	e.tgid = e.tid = se->pid;
	e.cookie = se->cookie;
	memcpy(e.daddr, q.addr, 16);
	e.dport = se->dport;
	e.family = se->family;
	e.proto = se->proto;
	e.action = action;
	e.rule = idx;
	e.gen = s->out.gen;
	e.flags = (enforce ? RW_NF_ENFORCED : 0) | (mapped ? RW_NF_MAPPED : 0);
	if (pi)
		snprintf(e.comm, sizeof(e.comm), "%s", pi->comm);
	s->existing++;
	record_net(&s->out, &e, pi, NULL);
	if (!enforce)
		return 0;
	if (action == RW_ACT_KILL) {
		int ret = session_kill_now(se->pid);

		if (ret == 0) {
			s->user_kills++;
			record_kill(&s->out, 0, se->pid, se->pid, e.comm,
				    e.gen, idx, "userspace", -1, NULL);
		} else if (ret != -ESRCH) {
			pr_warn("cannot kill pid %d, open connection to a "
				"destination of a kill rule: %s%s", se->pid,
				strerror(-ret), ret == -EPERM ?
				" (another user's process needs CAP_KILL)" : "");
		}
	} else {
		int ret = sockscan_destroy(se);

		if (ret)
			pr_warn("cannot close the open connection of pid %d "
				"to a denied destination: %s", se->pid,
				ret == -EOPNOTSUPP ? "this kernel lacks "
				"SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY)" :
				strerror(-ret));
	}
	return 0;
}

int session_scan_existing(struct session *s)
{
	const char *root = cgroup2_root();
	struct scan_ctx c = { .s = s, .cg = "/" };
	size_t n;

	if (root) {
		n = strlen(root);
		if (!strncmp(s->l->cgroup, root, n) && s->l->cgroup[n] == '/')
			c.cg = s->l->cgroup + n;
	}
	return sockscan_all(scan_one, &c);
}
