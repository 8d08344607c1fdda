/* SPDX-License-Identifier: MIT */
/*
 * Where records go: the context every record is built in (the policy of
 * each generation, the intelligence, the country table, the clock) and
 * the sinks that render them. A sink is a small file (sink.h); adding
 * one repeats no classification.
 */
#ifndef RW_OUTPUT_H
#define RW_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include "relaywatch.h"

struct policy;
struct intel;
struct geo;
struct record;
struct sink;

#define OUTPUT_SINKS 4

/* what the file sink writes (--output) */
enum output_format { OUT_TEXT, OUT_JSON, OUT_OCSF };
/* "text", "json", "ocsf"; -1 unknown */
int output_format_parse(const char *s);
/* the version of the native records' schema (docs/schema/) */
#define OUTPUT_SCHEMA "relaywatch/1"

struct output {
	unsigned gen;                 /* generation in force (userspace events) */
	const struct policy *policy[RW_GENS]; /* rule names, by generation */
	const struct intel *intel;    /* destination category and provider */
	const struct geo *geo;        /* destination country */
	__s64 boot_to_real_ns;        /* add to a boot-time ktime for wall time */
	struct sink *sinks[OUTPUT_SINKS];
	int nr_sinks;
	char host[256];               /* this machine's name, read once */
	bool text_time;               /* text: an HH:MM:SS column (trace -T) */
	int text_fd;                  /* under the file sinks' stream: is it a
				       * terminal? -1 unknown */
};

/* f: the log or the terminal, in format fmt */
void output_init(struct output *o, FILE *f, enum output_format fmt);
/* one more sink (syslog, metrics); -ENOSPC when there are enough */
int output_add_sink(struct output *o, struct sink *s);
/* the file sinks write to (after the log is reopened) */
void output_set_file(struct output *o, FILE *f);
void output_free(struct output *o);
/* the policy (and its intel) now in force under generation gen */
void output_set_policy(struct output *o, unsigned gen,
		       const struct policy *p, const struct intel *in);
/* hands a record to every sink */
void output_emit(struct output *o, const struct record *r);
/* lets the sinks write what they hold back (all: everything) */
void output_tick(struct output *o, bool all);

/* "deny", or "would_deny" when not enforced */
const char *output_action(int action, bool enforced);
/* RFC 3339 UTC with nanoseconds; ktime 0 = now */
void output_ts(const struct output *o, __u64 ktime, char *buf, size_t len);
/* "1.2.3.4" / "2001:db8::1"; a mapped destination prints as IPv4 */
void output_addr(const __u8 *addr, bool v4, char *buf, size_t len);

#endif
