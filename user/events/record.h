/* SPDX-License-Identifier: MIT */
/*
 * One enriched record per event: the kernel's event, what the
 * intelligence, the country table and the policy say of it, and who did
 * it, put together once (record.c). Sinks (sinks/) only render it: JSON
 * lines, the human line, and whatever comes next, so no sink classifies.
 */
#ifndef RW_RECORD_H
#define RW_RECORD_H

#include <stdbool.h>
#include <arpa/inet.h>
#include "relaywatch.h"
#include "classify.h"

struct proc_info;
struct output;
struct json_object;

/* what a record is about: decides which parts it has */
enum rec_kind {
	REC_NET,     /* connect, sendmsg, existing */
	REC_NAME,    /* tls, http, proxy: a flow's first bytes */
	REC_DNS,     /* a DNS answer for a listed name */
	REC_FLOW,    /* a matched flow closed */
	REC_PROC,    /* exec, exit of a tagged process */
	REC_KILL,    /* a SIGKILL, by the kernel or the daemon */
	REC_ESCAPE,  /* a process left the watched cgroup */
	REC_CRED,    /* a credential a matched process held (exposure.c) */
	REC_META,    /* the daemon's own: start, policy, gap, stats, ... */
};

struct record {
	enum rec_kind kind;
	const char *event;           /* the record's name */
	__u64 ktime;                 /* boot-time ns, 0 = now */
	/* the verdict: action NULL when there is none */
	const char *action;          /* "deny", "would_deny", ... */
	const char *rule;            /* NULL: unknown (another policy) */
	bool enforced;
	bool daemon_loss;            /* on_daemon_loss turned it into a deny */
	/* the destination: has_addr for the address part */
	bool has_addr;
	const char *family;          /* "ipv4", "ipv6", "ipv4-mapped" */
	const char *proto;           /* "tcp", "udp" */
	char daddr[INET6_ADDRSTRLEN];
	int dport;
	int target_port;             /* proxy: the port asked for, else 0 */
	bool has_class;              /* category ... overseas known to apply */
	const char *domain;          /* NULL: no name known */
	struct dest_info dest;       /* category, provider, country, overseas */
	/* who: pid 0 for META */
	__u32 pid, tid;              /* tid 0: not known */
	char comm[RW_COMM_LEN + 1];  /* "" when not known */
	const struct proc_info *pi;  /* NULL: attribution none */
	__u32 uid;                   /* from the kernel, when pi is NULL */
	bool has_uid;
	__u64 cookie;                /* 0: none */
	long long suppressed;        /* -1: not this kind */
	/* what only this kind has, in order (dns addresses, flow bytes, exit
	 * totals, kill details, escape target, a META record's fields) */
	struct json_object *extra;
};

/* "connect", "flow", ... for an enum rw_event_type; NULL unknown */
const char *event_type_name(int type);
/* the types a matched call produces (what the heartbeat counts) */
static inline bool rw_ev_matched(int type)
{
	return type == RW_EV_CONNECT || type == RW_EV_SENDMSG ||
	       type == RW_EV_TLS || type == RW_EV_HTTP || type == RW_EV_PROXY;
}

/* The records of each kernel event; pi may be NULL when attribution
 * failed, domain when no name is known. Each is built and handed to the
 * sinks of o. */
void record_net(struct output *o, const struct rw_net_event *e,
		const struct proc_info *pi, const char *domain);
/* connector: the process that connected, when another sent the bytes
 * (RW_NF_SENDER), else NULL */
void record_name(struct output *o, const struct rw_name_event *e,
		 const struct proc_info *pi, const struct proc_info *connector);
void record_dns(struct output *o, const struct rw_dns_event *e,
		const struct proc_info *pi);
/* flows: how many flows the record stands for (folded ones summed) */
void record_flow(struct output *o, const struct rw_flow_event *e,
		 const struct proc_info *pi, const char *domain, __u64 flows);
/* records of tgid the per-process cap held back in its last second */
void record_rate_limited(struct output *o, __u32 tgid, __u64 n,
			 const __u64 *by_type, int nr_types,
			 const struct proc_info *pi);
void record_proc(struct output *o, const struct rw_proc_event *e,
		 const struct proc_info *pi);
/* by "kernel" (at syscall exit) or "userspace" (fallback) */
void record_kill(struct output *o, __u64 ktime, __u32 tgid, __u32 tid,
		 const char *comm, unsigned gen, int rule, const char *by,
		 int syscall_nr, const struct proc_info *pi);
/* to: the cgroup it went to */
void record_escape(struct output *o, const struct rw_escape_event *e,
		   const struct proc_info *pi, const char *to);
/* a credential of the process a record (about) names: hit NULL when it
 * could not be looked for (error says why) */
struct key_hit;
struct cred_report {
	const struct key_hit *hit;
	const char *where;   /* "env", "file", "cmdline", "wire" */
	const char *name;    /* the variable or key name, or NULL */
	const char *path;    /* the file, or NULL */
	const char *error;   /* why it could not be read, or NULL */
	const char *scope;   /* the fingerprint's: "fleet", "host" */
};
void record_credential(struct output *o, const struct record *about,
		       const struct cred_report *c);
/* a credential header a matched flow sent in clear: a credential record
 * when its destination is an AI relay or overseas AI API (exposure.c) */
void record_key(struct output *o, const struct rw_key_event *e,
		const struct proc_info *pi);
/* the daemon's own record: start, policy, reload, gap, stats, ...;
 * takes fields */
void record_meta(struct output *o, const char *event,
		 struct json_object *fields);

#endif
