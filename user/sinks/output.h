/* SPDX-License-Identifier: MIT */
/* Event records as a security team keeps them: JSON lines with stable field
 * names (see README), or one human line under 80 columns. */
#ifndef RW_OUTPUT_H
#define RW_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include "relaywatch.h"

struct proc_info;
struct policy;
struct intel;
struct geo;

struct output {
	FILE *f;
	bool json;
	unsigned gen;                 /* generation in force (userspace events) */
	const struct policy *policy[RW_GENS]; /* rule names, by generation */
	const struct intel *intel;    /* destination category and provider */
	const struct geo *geo;        /* destination country */
	__s64 boot_to_real_ns;        /* add to a boot-time ktime for wall time */
};

void output_init(struct output *o, FILE *f, bool json);
/* the policy (and its intel) now in force under generation gen */
void output_set_policy(struct output *o, unsigned gen,
		       const struct policy *p, const struct intel *in);
/* a connect/sendmsg; pi may be NULL when attribution failed */
void output_net(struct output *o, const struct rw_net_event *e,
		const struct proc_info *pi, const char *domain);
/* first bytes that named a listed destination: tls, http, proxy */
void output_name(struct output *o, const struct rw_name_event *e,
		 const struct proc_info *pi);
/* a DNS answer for a listed name */
void output_dns(struct output *o, const struct rw_dns_event *e,
		const struct proc_info *pi);
/* a matched flow closed: bytes and packets it sent */
void output_flow(struct output *o, const struct rw_flow_event *e,
		 const struct proc_info *pi, const char *domain);
/* a process moved itself (or was moved) out of the watched cgroup, to
 * the cgroup `to` */
void output_escape(struct output *o, const struct rw_escape_event *e,
		   const struct proc_info *pi, const char *to);
/* exec/exit of a tagged process */
void output_proc(struct output *o, const struct rw_proc_event *e,
		 const struct proc_info *pi);
/* a SIGKILL: by "kernel" (at syscall exit) or "userspace" (fallback) */
void output_kill(struct output *o, __u64 ktime, __u32 tgid, __u32 tid,
		 const char *comm, unsigned gen, int rule, const char *by,
		 int syscall_nr, const struct proc_info *pi);
/* free-form record: start, stats, reload, error */
struct json_object;
void output_record(struct output *o, const char *event,
		   struct json_object *fields);

/* "deny", or "would_deny" when not enforced */
const char *output_action(int action, bool enforced);
/* RFC 3339 UTC with nanoseconds */
void output_ts(const struct output *o, __u64 ktime, char *buf, size_t len);
/* "1.2.3.4" / "2001:db8::1"; a mapped destination prints as IPv4 */
void output_addr(const __u8 *addr, bool v4, char *buf, size_t len);

#endif
