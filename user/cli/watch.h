/* SPDX-License-Identifier: MIT */
/* trace and run: load, apply the policy, read events until a signal. */
#ifndef RW_WATCH_H
#define RW_WATCH_H

#include <stdbool.h>

#define VERSION "0.1.0"
#define EXIT_USAGE 2

/* what the command line of trace and run says */
struct cmd_opts {
	const char *policy;
	const char *cgroup;
	const char *log;
	const char *exe;
	const char *intel;
	const char *rir;
	long pid;
	long dedup_ms;
	long ringbuf_kb;
	long ttl_min, ttl_max;
	unsigned int require;  /* --require: features (enum rw_feature) */
	bool json;
};

/* trace (enforce false: monitor, text) or run; the process's exit code */
int watch(const struct cmd_opts *o, bool enforce);

#endif
