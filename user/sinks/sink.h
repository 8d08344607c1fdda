/* SPDX-License-Identifier: MIT */
/* A sink renders records: one small file each (json.c, text.c, ...). */
#ifndef RW_SINK_H
#define RW_SINK_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct output;
struct record;
struct json_object;

struct sink {
	const char *name;
	void (*emit)(struct sink *s, const struct output *o,
		     const struct record *r);
	void (*free)(struct sink *s);
	/* optional: write what the sink holds back (all: everything); at
	 * least every 100 ms */
	void (*tick)(struct sink *s, bool all);
	FILE *f;             /* file sinks: where they write */
};

/* JSON lines to f */
struct sink *sink_json_new(FILE *f);
/* OCSF 1.8.0 Network Activity (4001) JSON lines to f (docs/ocsf.md) */
struct sink *sink_ocsf_new(FILE *f);
/* one line under 80 columns to f: trace's view */
struct sink *sink_text_new(FILE *f);

/* the record as the JSON object of the native schema (README "JSON
 * events"): what the JSON sink writes, and what others can build on */
/* RFC 5424 to syslog: target NULL or "" (/dev/log), unix:PATH,
 * udp:HOST:PORT, tcp:HOST:PORT; NULL with err set on a bad target */
struct sink *sink_syslog_new(const char *target, char *err, size_t len);
/* whether target is one sink_syslog_new takes; 0 or -EINVAL, err set */
int sink_syslog_check(const char *target, char *err, size_t len);
/* records delivered to syslog, and dropped (the target failing) */
void sink_syslog_counts(const struct sink *s, __u64 *sent, __u64 *dropped);

struct json_object *sink_json_object(const struct output *o,
				     const struct record *r);

#endif
