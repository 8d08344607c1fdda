// SPDX-License-Identifier: MIT
/*
 * Enrichment, in one place: each kernel event becomes one record with
 * its verdict named (the rule of the policy generation that decided),
 * its destination classified (intelligence, country, overseas, the name
 * when one is known) and its process attributed. Sinks render records
 * and never classify.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "classify.h"
#include "output.h"
#include "policy.h"
#include "proc.h"
#include "record.h"
#include "exposure.h"
#include "keys.h"
#include "util.h"
#include "../../bpf/wire.h"

static const char *rule_name(const struct output *o, unsigned gen, int rule)
{
	const struct policy *p = o->policy[gen % RW_GENS];

	if (rule == RW_RULE_DEFAULT)
		return "default";
	if (rule == RW_RULE_UNDECIDED)
		return "undecided";
	if (rule == RW_RULE_QUIC)
		return "quic-unnamed";
	if (!p || rule < 0 || (size_t)rule >= p->nr_rules)
		return NULL;
	return p->rules[rule].name;
}

/* the destination: its address, and what is known of it, the name (when
 * there is one) saying more than a shared CDN address */
static void dest(struct record *r, const struct output *o, unsigned gen,
		 int family, bool v4, const __u8 *addr, const char *domain)
{
	struct dest_info n;

	r->has_addr = true;
	r->has_class = true;
	output_addr(addr, v4, r->daddr, sizeof(r->daddr));
	classify_addr(o->intel, o->geo, o->policy[gen % RW_GENS],
		      v4 ? AF_INET : family, addr, &r->dest);
	if (domain && *domain) {
		r->domain = domain;
		classify_name(o->intel, domain, &n);
		if (n.entry) {
			r->dest.entry = n.entry;
			r->dest.category = n.category;
			r->dest.provider = n.provider;
		}
	}
}

static void who(struct record *r, __u32 pid, const char *comm,
		const struct proc_info *pi)
{
	r->pid = pid;
	r->pi = pi;
	snprintf(r->comm, sizeof(r->comm), "%s",
		 comm && *comm ? comm : pi ? pi->comm : "");
}

/* the verdict: the action, and the rule of the generation that decided */
static void verdict(struct record *r, const struct output *o, int action,
		    bool enforced, unsigned gen, int rule)
{
	r->enforced = enforced;
	r->action = output_action(action, enforced);
	r->rule = rule_name(o, gen, rule);
}

/* the uid the kernel saw (written when attribution has none) */
static void uid_of(struct record *r, __u32 uid)
{
	r->uid = uid;
	r->has_uid = true;
}

static void init(struct record *r, enum rec_kind kind, const char *event,
		 __u64 ktime)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->event = event;
	r->ktime = ktime;
	r->suppressed = -1;
}

static void emit(struct output *o, struct record *r)
{
	output_emit(o, r);
	json_object_put(r->extra);
}

const char *event_type_name(int type)
{
	static const char *const names[] = {
		[RW_EV_CONNECT] = "connect", [RW_EV_SENDMSG] = "sendmsg",
		[RW_EV_EXEC] = "exec", [RW_EV_EXIT] = "exit",
		[RW_EV_KILL] = "kill", [RW_EV_EXISTING] = "existing",
		[RW_EV_DNS] = "dns", [RW_EV_TLS] = "tls", [RW_EV_HTTP] = "http",
		[RW_EV_PROXY] = "proxy", [RW_EV_FLOW] = "flow",
		[RW_EV_ESCAPE] = "cgroup_escape", [RW_EV_KEY] = "key",
	};

	return type > 0 && type < (int)ARRAY_SIZE(names) ? names[type] : NULL;
}

void record_net(struct output *o, const struct rw_net_event *e,
		const struct proc_info *pi, const char *domain)
{
	bool mapped = e->flags & RW_NF_MAPPED, v4 = e->family == AF_INET || mapped;
	char comm[RW_COMM_LEN + 1];
	struct record r;

	init(&r, REC_NET, e->hdr.type == RW_EV_SENDMSG ? "sendmsg" :
		e->hdr.type == RW_EV_EXISTING ? "existing" : "connect",
	     e->hdr.ktime);
	verdict(&r, o, e->action, e->flags & RW_NF_ENFORCED, e->gen, e->rule);
	r.daemon_loss = e->flags & RW_NF_DEADMAN;
	r.family = e->family == AF_INET ? "ipv4" : mapped ? "ipv4-mapped" :
							    "ipv6";
	r.proto = e->proto == 17 ? "udp" : e->proto == 6 ? "tcp" : "other";
	r.dport = e->dport;
	dest(&r, o, e->gen, e->family, v4, e->daddr, domain);
	snprintf(comm, sizeof(comm), "%s", e->comm);
	who(&r, e->tgid, comm, pi);
	r.tid = e->tid;
	uid_of(&r, e->uid);
	r.cookie = e->cookie;
	r.suppressed = e->suppressed;
	emit(o, &r);
	exposure_check(o, &r);
}

void record_credential(struct output *o, const struct record *about,
		       const struct cred_report *c)
{
	struct record r = *about;
	json_object *x = json_object_new_object();
	const struct key_hit *h = c->hit;

	r.kind = REC_CRED;
	r.event = "credential";
	r.suppressed = -1;
	r.extra = x;
	json_object_object_add(x, "where", json_object_new_string(c->where));
	if (c->name)
		json_object_object_add(x, "name", json_object_new_string(c->name));
	if (c->path)
		json_object_object_add(x, "path", json_object_new_string(c->path));
	if (h) {
		json_object_object_add(x, "key_provider",
				       json_object_new_string(h->provider));
		json_object_object_add(x, "key_kind",
				       json_object_new_string(h->kind));
		json_object_object_add(x, "display",
				       json_object_new_string(h->display));
		json_object_object_add(x, "fingerprint", h->fingerprint[0] ?
			json_object_new_string(h->fingerprint) : NULL);
		json_object_object_add(x, "fingerprint_scope", c->scope ?
			json_object_new_string(c->scope) : NULL);
		json_object_object_add(x, "recognised_by",
			json_object_new_string(h->by_name ? "name" : "shape"));
		if (h->source)
			json_object_object_add(x, "format_source",
					       json_object_new_string(h->source));
	}
	if (c->error)
		json_object_object_add(x, "error", json_object_new_string(c->error));
	emit(o, &r);
}

void record_key(struct output *o, const struct rw_key_event *e,
		const struct proc_info *pi)
{
	char name[RW_NAME_LEN + 1];
	struct record r;

	snprintf(name, sizeof(name), "%s", e->name);
	init(&r, REC_NAME, "http", e->hdr.ktime);
	verdict(&r, o, e->action, e->flags & RW_FF_BLOCKED, e->gen, e->rule);
	r.family = e->family == AF_INET ? "ipv4" : "ipv6";
	r.proto = "tcp";
	r.dport = e->dport;
	dest(&r, o, e->gen, e->family, e->family == AF_INET, e->daddr,
	     name[0] ? name : NULL);
	who(&r, e->tgid, NULL, pi);
	uid_of(&r, e->uid);
	r.cookie = e->cookie;
	/* not a record of its own: the flow's connect or name record is */
	exposure_wire(o, &r, e->key, e->klen < RW_KEY_LEN ? e->klen :
		      RW_KEY_LEN, e->header);
}

static const char *wire_proto_name(int proto)
{
	static const char *const names[] = {
		[WIRE_P_TLS] = "tls", [WIRE_P_HTTP] = "http",
		[WIRE_P_CONNECT] = "http-connect", [WIRE_P_SOCKS5] = "socks5",
		[WIRE_P_SOCKS4] = "socks4", [WIRE_P_FORWARD] = "http-proxy",
	};

	return proto > 0 && proto < (int)ARRAY_SIZE(names) ? names[proto] :
							      NULL;
}

void record_name(struct output *o, const struct rw_name_event *e,
		 const struct proc_info *pi, const struct proc_info *connector)
{
	char name[RW_NAME_LEN + 1], taddr[INET6_ADDRSTRLEN];
	struct dest_info t;
	struct record r;

	snprintf(name, sizeof(name), "%s", e->name);
	init(&r, REC_NAME, e->hdr.type == RW_EV_TLS ? "tls" :
		e->hdr.type == RW_EV_HTTP ? "http" : "proxy", e->hdr.ktime);
	verdict(&r, o, e->action, e->flags & RW_NF_ENFORCED, e->gen, e->rule);
	r.daemon_loss = e->flags & RW_NF_DEADMAN;
	r.family = e->family == AF_INET ? "ipv4" : "ipv6";
	r.proto = "tcp";
	r.dport = e->dport;
	r.target_port = e->tport;
	/* a proxy's address target is the destination that was judged */
	dest(&r, o, e->gen, e->family, e->family == AF_INET, e->daddr,
	     e->tfamily ? NULL : name);
	who(&r, e->tgid, NULL, pi);
	uid_of(&r, e->uid);
	r.cookie = e->cookie;
	r.extra = json_object_new_object();
	if (wire_proto_name(e->proto))
		json_object_object_add(r.extra, "protocol",
			json_object_new_string(wire_proto_name(e->proto)));
	if (e->tfamily) {
		output_addr(e->taddr, e->tfamily == AF_INET, taddr,
			    sizeof(taddr));
		json_object_object_add(r.extra, "target_addr",
				       json_object_new_string(taddr));
		classify_addr(o->intel, o->geo, o->policy[e->gen % RW_GENS],
			      e->tfamily, e->taddr, &t);
		json_object_object_add(r.extra, "target_country",
			t.country ? json_object_new_string(t.country) : NULL);
		if (name[0])
			r.domain = NULL;
	}
	if (e->flags & RW_NF_UNDECIDED)
		json_object_object_add(r.extra, "undecided",
				       json_object_new_boolean(true));
	if (e->flags & RW_NF_SENDER) {
		json_object_object_add(r.extra, "connector_pid",
				       json_object_new_int64(e->connector));
		json_object_object_add(r.extra, "connector_exe",
			connector && connector->exe[0] ?
			json_object_new_string(connector->exe) : NULL);
	}
	emit(o, &r);
	exposure_check(o, &r);
}

void record_dns(struct output *o, const struct rw_dns_event *e,
		const struct proc_info *pi)
{
	char name[RW_NAME_LEN + 1], addr[INET6_ADDRSTRLEN];
	unsigned n = e->naddr < 8 ? e->naddr : 8;
	json_object *arr = json_object_new_array();
	struct record r;

	snprintf(name, sizeof(name), "%s", e->name);
	init(&r, REC_DNS, "dns", e->hdr.ktime);
	r.has_class = true;
	r.domain = name;
	classify_name(o->intel, name, &r.dest);
	who(&r, e->tgid, NULL, pi);
	r.cookie = e->cookie;
	r.extra = json_object_new_object();
	for (unsigned i = 0; i < n; i++) {
		output_addr(e->addr[i], e->family[i] == AF_INET, addr,
			    sizeof(addr));
		json_object_array_add(arr, json_object_new_string(addr));
	}
	json_object_object_add(r.extra, "addresses", arr);
	json_object_object_add(r.extra, "ttl", json_object_new_int64(e->ttl));
	json_object_object_add(r.extra, "qtype", json_object_new_int64(e->qtype));
	emit(o, &r);
}

static void add_ts(const struct output *o, json_object *j, const char *k,
		   __u64 ktime)
{
	char ts[64];

	output_ts(o, ktime, ts, sizeof(ts));
	json_object_object_add(j, k, json_object_new_string(ts));
}

void record_flow(struct output *o, const struct rw_flow_event *e,
		 const struct proc_info *pi, const char *domain, __u64 flows)
{
	struct record r;

	init(&r, REC_FLOW, "flow", e->hdr.ktime);
	verdict(&r, o, e->action, e->flags & RW_FF_BLOCKED, e->gen, e->rule);
	r.family = e->family == AF_INET ? "ipv4" : "ipv6";
	r.proto = "tcp";
	r.dport = e->dport;
	dest(&r, o, e->gen, e->family, e->family == AF_INET, e->daddr, domain);
	who(&r, e->tgid, NULL, pi);
	uid_of(&r, e->uid);
	r.cookie = e->cookie;
	r.extra = json_object_new_object();
	json_object_object_add(r.extra, "bytes",
			       json_object_new_int64((__s64)e->bytes));
	json_object_object_add(r.extra, "packets",
			       json_object_new_int64((__s64)e->pkts));
	json_object_object_add(r.extra, "flows",
			       json_object_new_int64((__s64)flows));
	if (e->first_ktime)
		add_ts(o, r.extra, "first_seen", e->first_ktime);
	if (e->first_ktime && e->last_ktime)
		add_ts(o, r.extra, "last_seen", e->last_ktime);
	emit(o, &r);
}

void record_rate_limited(struct output *o, __u32 tgid, __u64 n,
			 const __u64 *by_type, int nr_types,
			 const struct proc_info *pi)
{
	struct record r;
	json_object *by = json_object_new_object();

	init(&r, REC_PROC, "rate_limited", 0);
	who(&r, tgid, NULL, pi);
	r.extra = json_object_new_object();
	json_object_object_add(r.extra, "not_written",
			       json_object_new_int64((__s64)n));
	for (int t = 0; t < nr_types; t++)
		if (by_type[t] && event_type_name(t))
			json_object_object_add(by, event_type_name(t),
				json_object_new_int64((__s64)by_type[t]));
	json_object_object_add(r.extra, "by_type", by);
	emit(o, &r);
}

void record_proc(struct output *o, const struct rw_proc_event *e,
		 const struct proc_info *pi)
{
	char comm[RW_COMM_LEN + 1];
	struct record r;

	init(&r, REC_PROC, e->hdr.type == RW_EV_EXEC ? "exec" : "exit",
	     e->hdr.ktime);
	snprintf(comm, sizeof(comm), "%s", e->comm);
	who(&r, e->tgid, comm, pi);
	r.extra = json_object_new_object();
	json_object_object_add(r.extra, "matches",
			       json_object_new_int64((__s64)e->matches));
	if (e->hdr.type == RW_EV_EXIT) {
		json_object_object_add(r.extra, "bytes_sent",
				       json_object_new_int64((__s64)e->bytes));
		/* task->exit_code: status << 8, or the terminating signal */
		json_object_object_add(r.extra, "exit_code",
				       json_object_new_int64((e->code >> 8) & 0xff));
		json_object_object_add(r.extra, "signal",
				       json_object_new_int64(e->code & 0x7f));
	}
	if (e->first_ktime) {
		add_ts(o, r.extra, "first_seen", e->first_ktime);
		add_ts(o, r.extra, "last_seen", e->last_ktime);
	}
	emit(o, &r);
}

void record_kill(struct output *o, __u64 ktime, __u32 tgid, __u32 tid,
		 const char *comm, unsigned gen, int rule, const char *by,
		 int syscall_nr, const struct proc_info *pi)
{
	struct record r;

	init(&r, REC_KILL, "kill", ktime);
	verdict(&r, o, RW_ACT_KILL, true, gen, rule);
	who(&r, tgid, comm, pi);
	r.tid = tid;
	r.extra = json_object_new_object();
	json_object_object_add(r.extra, "by", json_object_new_string(by));
	if (syscall_nr >= 0)
		json_object_object_add(r.extra, "syscall",
				       json_object_new_int64(syscall_nr));
	emit(o, &r);
}

void record_escape(struct output *o, const struct rw_escape_event *e,
		   const struct proc_info *pi, const char *to)
{
	char comm[RW_COMM_LEN + 1];
	struct record r;

	init(&r, REC_ESCAPE, "cgroup_escape", e->hdr.ktime);
	snprintf(comm, sizeof(comm), "%s", e->comm);
	who(&r, e->tgid, comm, pi);
	r.tid = e->pid;
	r.extra = json_object_new_object();
	json_object_object_add(r.extra, "moved_by",
			       json_object_new_int64(e->mover));
	json_object_object_add(r.extra, "to_cgroup", json_object_new_string(to));
	json_object_object_add(r.extra, "to_cgroup_id",
			       json_object_new_int64((__s64)e->to_cgid));
	emit(o, &r);
}

void record_meta(struct output *o, const char *event, json_object *fields)
{
	struct record r;

	init(&r, REC_META, event, 0);
	r.extra = fields;
	emit(o, &r);
}
