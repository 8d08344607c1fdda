// SPDX-License-Identifier: MIT
/* JSON lines through json-c (escaping done by a library, not by hand) and a
 * short human line per event. Field names are an interface: README lists
 * them; add fields, never rename. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "output.h"
#include "policy.h"
#include "proc.h"
#include "intel.h"
#include "geo.h"
#include "classify.h"

static __s64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void output_init(struct output *o, FILE *f, bool json)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->json = json;
	o->boot_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
}

void output_set_policy(struct output *o, unsigned gen,
		       const struct policy *p, const struct intel *in)
{
	o->gen = gen % RW_GENS;
	o->policy[o->gen] = p;
	o->intel = in;
}

const char *output_action(int action, bool enforced)
{
	switch (action) {
	case RW_ACT_ALLOW: return "allow";
	case RW_ACT_ALERT: return "alert";
	case RW_ACT_DENY: return enforced ? "deny" : "would_deny";
	case RW_ACT_KILL: return enforced ? "kill" : "would_kill";
	default: return "none";
	}
}

void output_ts(const struct output *o, __u64 ktime, char *buf, size_t len)
{
	__s64 ns = (__s64)ktime + o->boot_to_real_ns;
	time_t sec = ns / 1000000000LL;
	struct tm tm;
	char day[32];

	if (!ktime)
		ns = clock_ns(CLOCK_REALTIME), sec = ns / 1000000000LL;
	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lldZ", day, (long long)(ns % 1000000000LL));
}

void output_addr(const __u8 *addr, bool v4, char *buf, size_t len)
{
	inet_ntop(v4 ? AF_INET : AF_INET6, addr, buf, len);
}

static void add_str(json_object *j, const char *k, const char *v)
{
	json_object_object_add(j, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(json_object *j, const char *k, __s64 v)
{
	json_object_object_add(j, k, json_object_new_int64(v));
}

static const char *rule_name(const struct output *o, unsigned gen, int rule)
{
	const struct policy *p = o->policy[gen % RW_GENS];

	if (rule == RW_RULE_DEFAULT)
		return "default";
	if (!p || rule < 0 || (size_t)rule >= p->nr_rules)
		return NULL;
	return p->rules[rule].name;
}

/* what the intelligence and the country table say of the destination */
static void add_dest(json_object *j, const struct output *o, unsigned gen,
		     int family, const __u8 *addr, const char *domain)
{
	struct dest_info d, n;

	classify_addr(o->intel, o->geo, o->policy[gen % RW_GENS], family,
		      addr, &d);
	/* the name, when known, says more than a shared CDN address */
	if (domain && *domain) {
		classify_name(o->intel, domain, &n);
		if (n.entry) {
			d.entry = n.entry;
			d.category = n.category;
			d.provider = n.provider;
		}
	}
	add_str(j, "category", d.entry ? intel_category_name(d.category) : NULL);
	add_str(j, "provider", d.provider);
	add_str(j, "domain", domain && *domain ? domain : NULL);
	add_str(j, "country", d.country);
	json_object_object_add(j, "overseas", d.overseas < 0 ? NULL :
			       json_object_new_boolean(d.overseas));
}

/* the attribution fields shared by every process-related record */
static void add_proc(json_object *j, const struct proc_info *pi)
{
	json_object *par;

	if (!pi) {
		add_str(j, "attribution", "none");
		return;
	}
	add_str(j, "attribution", pi->from_snapshot ? "snapshot" : "proc");
	add_int(j, "ppid", pi->ppid);
	add_int(j, "uid", pi->uid);
	add_str(j, "user", pi->user);
	add_str(j, "exe", pi->exe);
	json_object_object_add(j, "exe_deleted",
			       json_object_new_boolean(pi->exe_deleted));
	add_str(j, "sha256", pi->sha256[0] ? pi->sha256 : NULL);
	add_str(j, "cmdline", pi->cmdline);
	add_str(j, "cgroup", pi->cgroup[0] ? pi->cgroup : NULL);
	add_str(j, "container", pi->container[0] ? pi->container : NULL);
	add_str(j, "unit", pi->unit[0] ? pi->unit : NULL);
	par = json_object_new_array();
	for (int i = 0; i < pi->nr_parents; i++) {
		json_object *p = json_object_new_object();

		add_int(p, "pid", pi->parents[i].pid);
		add_str(p, "exe", pi->parents[i].exe);
		json_object_array_add(par, p);
	}
	json_object_object_add(j, "parents", par);
}

static void emit_json(struct output *o, json_object *j)
{
	fprintf(o->f, "%s\n",
		json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(o->f);
	json_object_put(j);
}

static json_object *new_record(struct output *o, __u64 ktime,
			       const char *event)
{
	json_object *j = json_object_new_object();
	char ts[64];

	output_ts(o, ktime, ts, sizeof(ts));
	add_str(j, "ts", ts);
	add_str(j, "event", event);
	return j;
}

/* one line under 80 columns: time, action, who, where, why */
static void emit_text(struct output *o, __u64 ktime, const char *what,
		      const char *comm, __u32 pid, const char *detail)
{
	char ts[64], line[256];

	output_ts(o, ktime, ts, sizeof(ts));
	snprintf(line, sizeof(line), "%.12s %-10s %.15s[%u] %s", ts + 11,
		 what, comm, pid, detail);
	fprintf(o->f, "%.79s\n", line);
	fflush(o->f);
}

void output_net(struct output *o, const struct rw_net_event *e,
		const struct proc_info *pi, const char *domain)
{
	bool v4 = e->family == 2 || (e->flags & RW_NF_MAPPED);
	bool enforced = e->flags & RW_NF_ENFORCED;
	const char *ev = e->hdr.type == RW_EV_SENDMSG ? "sendmsg" :
			 e->hdr.type == RW_EV_EXISTING ? "existing" : "connect";
	const char *proto = e->proto == 17 ? "udp" : e->proto == 6 ? "tcp" : "other";
	const char *rule = rule_name(o, e->gen, e->rule);
	char addr[64], comm[RW_COMM_LEN + 1];
	json_object *j;

	output_addr(e->daddr, v4, addr, sizeof(addr));
	snprintf(comm, sizeof(comm), "%s", e->comm);
	if (!o->json) {
		char detail[160];

		snprintf(detail, sizeof(detail), "%s%s%s:%u/%s %s",
			 v4 ? "" : "[", domain && *domain ? domain : addr,
			 v4 ? "" : "]", e->dport, proto, rule ? rule : "");
		emit_text(o, e->hdr.ktime, output_action(e->action, enforced),
			  comm, e->tgid, detail);
		return;
	}
	j = new_record(o, e->hdr.ktime, ev);
	add_str(j, "action", output_action(e->action, enforced));
	add_str(j, "rule", rule);
	add_str(j, "family", e->family == 2 ? "ipv4" :
			     (e->flags & RW_NF_MAPPED) ? "ipv4-mapped" : "ipv6");
	add_str(j, "proto", proto);
	add_str(j, "daddr", addr);
	add_int(j, "dport", e->dport);
	add_dest(j, o, e->gen, v4 ? AF_INET : AF_INET6, e->daddr, domain);
	add_int(j, "pid", e->tgid);
	add_int(j, "tid", e->tid);
	add_str(j, "comm", comm);
	add_int(j, "cookie", (__s64)e->cookie);
	add_int(j, "suppressed", e->suppressed);
	json_object_object_add(j, "enforced", json_object_new_boolean(enforced));
	if (e->flags & RW_NF_DEADMAN)
		json_object_object_add(j, "daemon_loss",
				       json_object_new_boolean(true));
	add_proc(j, pi);
	if (!pi)
		add_int(j, "uid", e->uid);
	emit_json(o, j);
}

void output_escape(struct output *o, const struct rw_escape_event *e,
		   const struct proc_info *pi, const char *to)
{
	char comm[RW_COMM_LEN + 1];
	json_object *j;

	snprintf(comm, sizeof(comm), "%s", e->comm);
	if (!o->json) {
		char detail[160];

		snprintf(detail, sizeof(detail), "left the watched cgroup for "
			 "%s", to);
		emit_text(o, e->hdr.ktime, "escape", comm, e->tgid, detail);
		return;
	}
	j = new_record(o, e->hdr.ktime, "cgroup_escape");
	add_int(j, "pid", e->tgid);
	add_int(j, "tid", e->pid);
	add_str(j, "comm", comm);
	add_int(j, "moved_by", e->mover);
	add_str(j, "to_cgroup", to);
	add_int(j, "to_cgroup_id", (__s64)e->to_cgid);
	add_proc(j, pi);
	emit_json(o, j);
}

void output_proc(struct output *o, const struct rw_proc_event *e,
		 const struct proc_info *pi)
{
	const char *ev = e->hdr.type == RW_EV_EXEC ? "exec" : "exit";
	char comm[RW_COMM_LEN + 1];
	json_object *j;

	snprintf(comm, sizeof(comm), "%s", e->comm);
	if (!o->json) {
		char detail[128];

		snprintf(detail, sizeof(detail), "%llu matches%s%.60s",
			 (unsigned long long)e->matches, pi ? " " : "",
			 pi ? pi->exe : "");
		emit_text(o, e->hdr.ktime, ev, comm, e->tgid, detail);
		return;
	}
	j = new_record(o, e->hdr.ktime, ev);
	add_int(j, "pid", e->tgid);
	add_str(j, "comm", comm);
	add_int(j, "matches", (__s64)e->matches);
	if (e->hdr.type == RW_EV_EXIT) {
		add_int(j, "bytes_sent", (__s64)e->bytes);
		/* task->exit_code: status << 8, or the terminating signal */
		add_int(j, "exit_code", (e->code >> 8) & 0xff);
		add_int(j, "signal", e->code & 0x7f);
	}
	if (e->first_ktime) {
		char ts[64];

		output_ts(o, e->first_ktime, ts, sizeof(ts));
		add_str(j, "first_seen", ts);
		output_ts(o, e->last_ktime, ts, sizeof(ts));
		add_str(j, "last_seen", ts);
	}
	add_proc(j, pi);
	emit_json(o, j);
}

void output_kill(struct output *o, __u64 ktime, __u32 tgid, __u32 tid,
		 const char *comm, unsigned gen, int rule, const char *by,
		 int syscall_nr, const struct proc_info *pi)
{
	char c[RW_COMM_LEN + 1];
	json_object *j;

	snprintf(c, sizeof(c), "%s", comm ? comm : "");
	if (!o->json) {
		char detail[128];

		snprintf(detail, sizeof(detail), "SIGKILL by %s %s", by,
			 rule_name(o, gen, rule) ? rule_name(o, gen, rule) : "");
		emit_text(o, ktime, "killed", c, tgid, detail);
		return;
	}
	j = new_record(o, ktime, "kill");
	add_str(j, "action", "kill");
	add_str(j, "rule", rule_name(o, gen, rule));
	add_str(j, "by", by);
	add_int(j, "pid", tgid);
	add_int(j, "tid", tid);
	add_str(j, "comm", c);
	if (syscall_nr >= 0)
		add_int(j, "syscall", syscall_nr);
	if (pi)
		add_proc(j, pi);
	emit_json(o, j);
}

static const char *name_event(__u16 type)
{
	return type == RW_EV_TLS ? "tls" : type == RW_EV_HTTP ? "http" :
	       "proxy";
}

void output_name(struct output *o, const struct rw_name_event *e,
		 const struct proc_info *pi)
{
	bool enforced = e->flags & RW_NF_ENFORCED;
	const char *rule = rule_name(o, e->gen, e->rule);
	char addr[64], name[RW_NAME_LEN + 1];
	json_object *j;

	snprintf(name, sizeof(name), "%s", e->name);
	output_addr(e->daddr, e->family == AF_INET, addr, sizeof(addr));
	if (!o->json) {
		char detail[200];

		snprintf(detail, sizeof(detail), "%s %.60s %s",
			 name_event(e->hdr.type), name, rule ? rule : "");
		emit_text(o, e->hdr.ktime, output_action(e->action, enforced),
			  pi ? pi->comm : "?", e->tgid, detail);
		return;
	}
	j = new_record(o, e->hdr.ktime, name_event(e->hdr.type));
	add_str(j, "action", output_action(e->action, enforced));
	add_str(j, "rule", rule);
	add_str(j, "family", e->family == AF_INET ? "ipv4" : "ipv6");
	add_str(j, "proto", "tcp");
	add_str(j, "daddr", addr);
	add_int(j, "dport", e->dport);
	if (e->tport)
		add_int(j, "target_port", e->tport);
	add_dest(j, o, e->gen, e->family, e->daddr, name);
	add_int(j, "pid", e->tgid);
	add_str(j, "comm", pi ? pi->comm : NULL);
	add_int(j, "cookie", (__s64)e->cookie);
	json_object_object_add(j, "enforced", json_object_new_boolean(enforced));
	if (e->flags & RW_NF_DEADMAN)
		json_object_object_add(j, "daemon_loss",
				       json_object_new_boolean(true));
	add_proc(j, pi);
	if (!pi)
		add_int(j, "uid", e->uid);
	emit_json(o, j);
}

void output_dns(struct output *o, const struct rw_dns_event *e,
		const struct proc_info *pi)
{
	char name[RW_NAME_LEN + 1], addr[64];
	struct dest_info d;
	json_object *j, *arr;
	unsigned n = e->naddr < 8 ? e->naddr : 8;

	snprintf(name, sizeof(name), "%s", e->name);
	if (!o->json) {
		char detail[200];

		output_addr(e->addr[0], e->family[0] == AF_INET, addr,
			    sizeof(addr));
		snprintf(detail, sizeof(detail), "%.60s -> %s%s", name, addr,
			 n > 1 ? " ..." : "");
		emit_text(o, e->hdr.ktime, "dns", pi ? pi->comm : "?",
			  e->tgid, detail);
		return;
	}
	j = new_record(o, e->hdr.ktime, "dns");
	add_str(j, "domain", name);
	classify_name(o->intel, name, &d);
	add_str(j, "category", d.entry ? intel_category_name(d.category) : NULL);
	add_str(j, "provider", d.provider);
	arr = json_object_new_array();
	for (unsigned i = 0; i < n; i++) {
		output_addr(e->addr[i], e->family[i] == AF_INET, addr,
			    sizeof(addr));
		json_object_array_add(arr, json_object_new_string(addr));
	}
	json_object_object_add(j, "addresses", arr);
	add_int(j, "ttl", e->ttl);
	add_int(j, "qtype", e->qtype);
	add_int(j, "pid", e->tgid);
	add_str(j, "comm", pi ? pi->comm : NULL);
	add_proc(j, pi);
	emit_json(o, j);
}

void output_flow(struct output *o, const struct rw_flow_event *e,
		 const struct proc_info *pi, const char *domain)
{
	const char *rule = rule_name(o, e->gen, e->rule);
	char addr[64];
	json_object *j;

	output_addr(e->daddr, e->family == AF_INET, addr, sizeof(addr));
	if (!o->json) {
		char detail[200];

		snprintf(detail, sizeof(detail), "%.40s:%u sent %llu bytes",
			 domain && *domain ? domain : addr, e->dport,
			 (unsigned long long)e->bytes);
		emit_text(o, e->hdr.ktime, "flow", pi ? pi->comm : "?",
			  e->tgid, detail);
		return;
	}
	j = new_record(o, e->hdr.ktime, "flow");
	add_str(j, "action", output_action(e->action,
					   e->flags & RW_FF_BLOCKED));
	add_str(j, "rule", rule);
	add_str(j, "daddr", addr);
	add_int(j, "dport", e->dport);
	add_dest(j, o, e->gen, e->family, e->daddr, domain);
	add_int(j, "pid", e->tgid);
	add_str(j, "comm", pi ? pi->comm : NULL);
	add_int(j, "cookie", (__s64)e->cookie);
	add_int(j, "bytes", (__s64)e->bytes);
	add_int(j, "packets", (__s64)e->pkts);
	if (e->first_ktime) {
		char ts[64];

		output_ts(o, e->first_ktime, ts, sizeof(ts));
		add_str(j, "first_seen", ts);
		if (e->last_ktime) {
			output_ts(o, e->last_ktime, ts, sizeof(ts));
			add_str(j, "last_seen", ts);
		}
	}
	add_proc(j, pi);
	if (!pi)
		add_int(j, "uid", e->uid);
	emit_json(o, j);
}

void output_record(struct output *o, const char *event, json_object *fields)
{
	json_object *j = new_record(o, 0, event);
	char line[512];
	size_t n;

	json_object_object_foreach(fields, k, v)
		json_object_object_add(j, k, json_object_get(v));
	if (o->json) {
		json_object_put(fields);
		emit_json(o, j);
		return;
	}
	/* text: "# event key=value ..." cut to one short line */
	n = snprintf(line, sizeof(line), "# %s", event);
	json_object_object_foreach(fields, k2, v2) {
		if (!v2 || n >= sizeof(line))
			continue;
		n += snprintf(line + n, sizeof(line) - n, " %s=%s", k2,
			      json_object_get_string(v2));
	}
	fprintf(o->f, "%.79s\n", line);
	fflush(o->f);
	json_object_put(fields);
	json_object_put(j);
}
