/* SPDX-License-Identifier: MIT */
/* What session.c lends existing.c: attribution and a kill by pid. */
#ifndef RW_SESSION_IMPL_H
#define RW_SESSION_IMPL_H

#include <sys/types.h>
#include "relaywatch.h"
#include "proc.h"

/* /proc while the process lives (and has not exec'd since snap), else
 * the kernel's snapshot; NULL if neither. Valid until the next call. */
struct proc_info *session_attribute(__u32 tgid, const struct rw_proc *snap);
/* SIGKILL through a pidfd; 0 or -errno */
int session_kill_now(pid_t pid);

#endif
