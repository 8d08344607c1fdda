// SPDX-License-Identifier: MIT
/*
 * Which process an event is about: /proc while it lives, else the process
 * table's entry the kernel kept (its exe, inode, argv as exec'd), else the
 * entry of an exited process kept here. Split from session.c.
 *
 * The kernel keeps a tagged process's entry until the daemon reads its
 * exit, and the daemon then removes it; but a process's sockets close
 * after its exit (do_exit runs the tracepoint, then exit_files), so its
 * flow records come after the entry is gone, as may its kill and name
 * records. Those are attributed from the exit event's copy of the entry,
 * kept in a table by tgid for EXITED_KEEP_NS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "session_impl.h"
#include "kstate.h"
#include "proc.h"

#define EXITED_SLOTS 1024
#define EXITED_KEEP_NS (60 * 1000000000ULL)

static struct proc_info pinfo; /* large; one event at a time */

/* a slot is taken again by the next exit of a tgid with the same index:
 * with pids handed out in sequence, about EXITED_SLOTS exits later */
static struct {
	__u32 tgid;       /* 0 = free */
	__u64 at;         /* when its exit was read (mono ns) */
	struct rw_proc snap;
} exited[EXITED_SLOTS];

struct proc_info *session_attribute(__u32 tgid, const struct rw_proc *snap)
{
	struct stat st;
	char path[64];

	if (proc_read(tgid, &pinfo) == 0) {
		/* exec'd since the event? then the snapshot is the truth */
		snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
		if (!snap || !snap->exe_ino ||
		    (stat(path, &st) == 0 && st.st_ino == snap->exe_ino &&
		     dev_to_kernel(st.st_dev) == snap->exe_dev))
			return &pinfo;
	}
	if (snap && proc_from_snapshot(tgid, snap, &pinfo) == 0)
		return &pinfo;
	return NULL;
}

void session_exited(__u32 tgid, const struct rw_proc *snap, __u64 now)
{
	unsigned i = tgid % EXITED_SLOTS;

	if (!tgid || !snap || !snap->exec_ktime)
		return;
	exited[i].tgid = tgid;
	exited[i].at = now;
	exited[i].snap = *snap;
}

static int exited_get(__u32 tgid, __u64 before, __u64 now,
		      struct rw_proc *out)
{
	unsigned i = tgid % EXITED_SLOTS;

	/* older than that: the pid may belong to another process now */
	if (exited[i].tgid != tgid || now - exited[i].at > EXITED_KEEP_NS)
		return -ENOENT;
	if (before && exited[i].snap.exec_ktime > before)
		return -ENOENT;
	*out = exited[i].snap;
	return 0;
}

int session_snapshot(struct loader *l, __u32 tgid, __u64 before, __u64 now,
		     struct rw_proc *out)
{
	struct rw_proc old;
	int ret;

	if (!tgid)
		return -ENOENT;
	ret = kstate_proc(l, tgid, out);
	if (!ret && (!before || !out->exec_ktime || out->exec_ktime <= before))
		return 0;
	/* none, or an image exec'd after the event (the pid taken by
	 * another process): the one that exited, if it is known */
	if (!exited_get(tgid, before, now, &old)) {
		*out = old;
		return 0;
	}
	return ret;
}
