/* SPDX-License-Identifier: MIT */
/* What session.c lends existing.c (attribution, a kill by pid) and
 * session_gap.c (a bounded drain), and what they and kills.c lend
 * session.c. */
#ifndef RW_SESSION_IMPL_H
#define RW_SESSION_IMPL_H

#include <stdbool.h>
#include <sys/types.h>
#include "relaywatch.h"
#include "proc.h"

/* /proc while the process lives (and has not exec'd since snap), else
 * the kernel's snapshot; NULL if neither. Valid until the next call. */
struct proc_info *session_attribute(__u32 tgid, const struct rw_proc *snap);
/* attrib.c: the process table's entry of tgid (0 or -ENOENT): the
 * kernel's, else the copy an exit event brought (session_exited), kept
 * a minute; `before` (boot ns, 0: any) skips an image exec'd after the
 * event. now: mono ns */
struct loader;
int session_snapshot(struct loader *l, __u32 tgid, __u64 before, __u64 now,
		     struct rw_proc *out);
void session_exited(__u32 tgid, const struct rw_proc *snap, __u64 now);
/* SIGKILL through a pidfd; 0 or -errno */
int session_kill_now(pid_t pid);

struct session;
/* drains the ring in bounded turns for at most ns */
void session_drain_for(struct session *s, __u64 ns);
/* a `lost` record when the kernel counted losses since the last one */
void session_check_lost(struct session *s);
/* tells a pinned set a daemon reads it (what it consumed, when) */
void session_heartbeat(struct session *s);

/* kills.c: a kill rule's target the kernel may not reach (held by a
 * pidfd, SIGKILLed after a grace period); the kernel's kill record
 * (drops it); the fallbacks due (all: at exit); the held ones freed */
void session_queue_kill(struct session *s, __u32 tgid, unsigned gen,
			int rule, const char *comm);
void session_kernel_killed(struct session *s, __u32 tgid);
void session_fallback_kills(struct session *s, bool all);
void session_drop_kills(struct session *s);
/* a flow denied at its first bytes: its socket destroyed (RST) */
void session_reset(struct session *s, const struct rw_name_event *e);

#endif
