/* SPDX-License-Identifier: MIT */
/* The event loop shared by `trace` and `run`: read the ring buffer,
 * attribute, filter, write, deliver fallback kills, count. */
#ifndef RW_SESSION_H
#define RW_SESSION_H

#include <stdbool.h>
#include <signal.h>
#include <sys/types.h>
#include "relaywatch.h"
#include "output.h"
#include "fold.h"
#include "view.h"

struct loader;
struct policy;

struct session_opts {
	pid_t pid;            /* only this tgid (trace --pid), 0 = all */
	const char *exe;      /* only this binary (trace --exe), NULL = all */
	bool by_uid;          /* only the user uid (trace --uid) */
	uid_t uid;
	const char *container; /* only this container id prefix, NULL = all */
	bool time;            /* text: an HH:MM:SS column (trace -T) */
	const char *log_path; /* run --log; NULL = stdout */
	__u64 log_max_bytes;  /* run --log-max-mb: rotate above; 0 never */
	__u64 fold_ns;        /* flows of one key folded within (--dedup-ms) */
	__u32 process_rate;   /* records per process per second; 0 no cap */
	int format;           /* enum output_format */
	const char *syslog;   /* run --syslog[=TARGET]: NULL off, "" /dev/log */
	bool summary;         /* print a summary to stderr at the end */
};

struct session {
	struct loader *l;
	const struct policy *policy;  /* in force, for start-up scans */
	/* SIGHUP: reload the policy; keeps the old one on error */
	void (*reload)(struct session *s, void *ctx);
	/* every turn of the loop (at least every 100 ms) */
	void (*tick)(struct session *s, void *ctx, __u64 now_ns);
	void *reload_ctx;     /* for both */
	struct session_opts o;
	struct output out;
	struct ring_buffer *rb;
	struct logfile *lf;    /* the log (or standard output) */
	struct fold fold;      /* flows folded, records capped per process */
	/* what userspace saw, by type; the kernel's own counters are separate */
#define RW_EV__SEEN 16
	__u64 seen[RW_EV__SEEN];
	__u64 folded;          /* sum of the suppressed fields received */
	struct view view;      /* trace's filters; what they let through */
	__u64 user_kills;      /* fallback kills sent from userspace */
	__u64 resets;          /* flows denied at the first bytes, reset */
	__u64 reset_failed;    /* ... whose reset failed (gone, no support) */
	__u64 existing;        /* connections found open at start-up */
	__u64 lost;            /* ring-buffer losses already reported */
	__u64 lost_type[RW_CNT_LOST_TYPES]; /* the same, by type */
	int turn_left;         /* events this turn may still read */
	__u64 turn_end_ns;     /* mono ns the turn ends at */
	__u64 consumed_base;   /* matched events earlier daemons read */
	struct pending_kill *kills;
	size_t nr_kills, cap_kills;
};

extern volatile sig_atomic_t session_stop, session_hup, session_reopen;

/* the caller sets s->out's policy, intel and geo after this */
int session_init(struct session *s, struct loader *l,
		 const struct policy *p, const struct session_opts *o);
/* an adopted set: drains what queued while no daemon read, and writes
 * the `gap` record (prev: the set's meta as the previous daemon left it) */
void session_gap(struct session *s, const struct rw_meta *prev);
/* report (and act on) connections already open at start-up */
int session_scan_existing(struct session *s);
/* runs until SIGINT/SIGTERM; SIGHUP calls reload, SIGUSR1 reopens the
 * log (logrotate) */
int session_run(struct session *s);
/* final counters: a stats record, and the summary if asked */
void session_finish(struct session *s);
void session_free(struct session *s);

#endif
