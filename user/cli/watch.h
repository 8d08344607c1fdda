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
	long uid;              /* trace --uid: -1 all */
	const char *container; /* trace --container: an id prefix */
	bool time;             /* trace -T: an HH:MM:SS column */
	long dedup_ms;
	long ringbuf_kb;
	long ttl_min, ttl_max;
	unsigned int require;  /* --require: features (enum rw_feature) */
	bool json;
	int output;            /* --output: enum output_format, -1 default */
	bool no_persist;       /* run --no-persist: detach at exit */
	bool reload_on_change; /* run --reload-on-change */
	const char *syslog;    /* run --syslog[=TARGET]: NULL off, "" /dev/log */
	const char *metrics;   /* run --metrics ADDR:PORT */
	long log_max_mb;       /* run --log-max-mb: rotate above; 0 never */
	long process_rate;     /* --process-rate: records/s per process */
	bool all;              /* detach --all */
};

/* the options of trace, run, probe, status, detach; `allowed` lists the
 * short codes of the long options this command takes; --help prints
 * help and exits */
int parse_opts(int argc, char **argv, const char *help, const char *allowed,
	       struct cmd_opts *o);
int cmd_probe(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_detach(int argc, char **argv);

/* trace (enforce false: monitor, text) or run; the process's exit code */
int watch(const struct cmd_opts *o, bool enforce);

#endif
