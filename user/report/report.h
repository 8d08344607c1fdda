/* SPDX-License-Identifier: MIT */
/*
 * relaywatch report: a responder's summary of the daemon's JSON logs.
 * Lines are streamed (plain or gzip), each parsed with json-c's tokener
 * and folded into hash tables by binary, user and workload; no record is
 * kept, so a gigabyte of logs needs the memory of its distinct keys only.
 * Every process record goes to exactly one group of each kind, so each
 * kind's sums equal the totals.
 */
#ifndef RW_REPORT_H
#define RW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <json-c/json.h>

/* open addressing over string keys; values are zeroed blocks of vsize */
struct rtab_ent {
	char *key;
	void *val;
	__u64 hash;
};

struct rtab {
	struct rtab_ent *e;
	size_t cap, n, vsize;
};

void rtab_init(struct rtab *t, size_t vsize);
/* the value of key, created zeroed when absent; NULL without memory */
void *rtab_get(struct rtab *t, const char *key);
/* the entries, in a new array (free it), sorted by cmp or unsorted */
struct rtab_ent **rtab_list(const struct rtab *t,
			    int (*cmp)(const void *, const void *));
void rtab_free(struct rtab *t, void (*free_val)(void *));

enum rep_action {
	RA_ALLOW, RA_ALERT, RA_DENY, RA_KILL, RA_WOULD_DENY, RA_WOULD_KILL,
	RA_NONE, RA_OTHER, RA_N,
};
extern const char *const rep_action_names[RA_N];

/* a credential row: the record's key fields, joined by tabs; a record
 * with error has key_provider "(not inspected)" and the error as kind */
#define REP_CRED_N 7
extern const char *const rep_cred_fields[REP_CRED_N];

/* one destination kind: category and provider, as the daemon named them */
struct rep_dest {
	__u64 connects, names, flows, bytes;
};

struct rep_stats {
	__u64 records;		/* process records (every event with a pid) */
	__u64 connects;		/* connect + sendmsg, each 1 + suppressed */
	__u64 names;		/* tls, http, proxy */
	__u64 existing, dns, exits, kills;
	__u64 credentials;	/* credential records that name a key */
	__u64 cred_errors;	/* ... that say the process was not read */
	__u64 flows, bytes, packets;	/* flow records: flows, their sums */
	__u64 actions[RA_N];	/* decisions: connects, names, existing */
	__s64 first_ns, last_ns;	/* 0: none seen */
	struct rtab dests;	/* "category\tprovider" -> rep_dest */
	struct rtab countries;	/* country -> __u64 connects */
};

/* the timeline: per binary, counts in NBINS bins of 2^shift ms */
#define REP_NBINS 256

struct rep_group {
	struct rep_stats s;
	struct rtab creds;	/* credential fields joined by tabs -> __u64 */
	__u32 tl[REP_NBINS], tl_blocked[REP_NBINS];
};

struct rep_bad {
	char *where;		/* file:line */
	const char *why;
};

/* what a pid last ran: a record without attribution is credited to it */
struct rep_pid {
	__u32 pid;
	__s64 ts;
	char comm[16], host[64];
	char *bin, *user, *work;	/* the three groups' keys */
};

#define REP_PIDS 4096
#define REP_BAD_KEPT 1000	/* named in the footer; the rest counted */

struct report {
	__s64 since_ns, until_ns;	/* 0: no bound */
	const char *since, *until;	/* as given */
	/* what was read */
	const char **files;
	size_t nr_files;
	__u64 lines, records, filtered, meta, bytes_read;
	struct rtab events;	/* event -> __u64 records in range */
	/* what it says */
	struct rep_stats total;
	struct rtab bins;	/* "exe\tsha256" -> rep_group */
	struct rtab users;	/* user name (or uid N) -> rep_group */
	struct rtab works;	/* container:ID, unit:NAME, cgroup:PATH */
	/* action, rule, exe, sha256, destination, domain -> __u64 */
	struct rtab blocked;
	/* timeline bins: 2^tl_shift ms, the first at tl_base */
	int tl_shift;
	__s64 tl_base, tl_lo, tl_hi;	/* tl_lo, tl_hi: ms seen, first, last */
	bool tl_on;
	struct rep_pid *pids;
	__u64 by_pid;		/* records credited by pid (see report.c) */
	/* bad lines */
	__u64 nr_bad;
	struct rep_bad *bad;
	size_t nr_bad_kept, bad_cap;
	json_tokener *tok;
};

int report_init(struct report *r);
void report_free(struct report *r);
/* one line (no newline); where names it for the footer */
void report_line(struct report *r, const char *line, size_t len,
		 const char *file, __u64 lineno);
/* every line of a file, plain or gzip; 0 or -errno (nothing read) */
int report_read_file(struct report *r, const char *path);

/* RFC 3339 (…Z or ±hh:mm offset, fraction optional) to ns since the
 * epoch; relative "N[smhd]" is now minus that. 0 or -EINVAL. */
int report_parse_time(const char *s, __s64 now_ns, __s64 *ns);
/* ns since the epoch as the daemon writes ts */
void report_fmt_time(__s64 ns, char *buf, size_t len);
/* w events of g at ts into the timeline (report_time.c) */
void report_tl_add(struct report *r, struct rep_group *g, __s64 ts, __u64 w,
		   bool blocked);

/* the binaries, users or workloads in the order a report lists them */
struct rtab_ent **report_groups_by_records(const struct rtab *t);
struct rtab_ent **report_groups_by_bytes(const struct rtab *t);
struct rtab_ent **report_groups_by_connects(const struct rtab *t);
struct rtab_ent **report_by_count(const struct rtab *t);
/* the bytes per category (providers summed), largest first: n entries;
 * cat[] strings are the caller's to free */
size_t report_category_bytes(const struct report *r, const char **cat,
			     __u64 *bytes, size_t max);

void report_text(const struct report *r, FILE *f);
int report_json(const struct report *r, FILE *f);
void report_html(const struct report *r, FILE *f);

int cmd_report(int argc, char **argv);

#endif
