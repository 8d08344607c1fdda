/* SPDX-License-Identifier: MIT */
/*
 * What a trace shows: the filters (--pid, --exe, --uid, --container)
 * and the Ctrl-C summary, whose figures count only the records the
 * filters let through, so they agree with the lines on the screen.
 */
#ifndef RW_VIEW_H
#define RW_VIEW_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "relaywatch.h"

struct proc_info;

struct view {
	pid_t pid;             /* --pid: this tgid only; 0 all */
	const char *exe;       /* --exe: this binary (resolved); NULL all */
	long uid;              /* --uid: this user; -1 all */
	const char *container; /* --container: an id prefix; NULL all */
	/* what was let through */
	__u64 calls[RW_ACT_KILL + 1]; /* decisions shown, by action */
	__u64 connect, sendmsg, named; /* of them: by event */
	__u64 folded;          /* repeats the kernel folded into them */
	__u64 hidden;          /* records the filters held back */
};

/* true when a filter hides the process; kuid: the uid the kernel saw,
 * -1 unknown (pi's is used when there is one) */
bool view_hides(const struct view *v, __u32 tgid, long kuid,
		const struct proc_info *pi);
/* a decision shown: type enum rw_event_type, action RW_ACT_* */
void view_count(struct view *v, int type, int action, __u64 suppressed);
/* the summary line: would_deny/would_kill, as trace enforces nothing;
 * lost: events the kernel could not queue (of any process) */
void view_summary(const struct view *v, __u64 lost, FILE *f);

#endif
