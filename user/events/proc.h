/* SPDX-License-Identifier: MIT */
/* Attribution of a tgid to a binary: identity, exe (by the kernel's link,
 * not comm, so renames do not fool it), SHA-256 of the binary, command line,
 * cgroup, container or unit, and the parent chain. Read from /proc while the
 * process lives, else from the exec-time snapshot the kernel sent. */
#ifndef RW_PROC_H
#define RW_PROC_H

#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <sys/types.h>

#include "relaywatch.h"
#include "keys.h"

#define PROC_MAX_PARENTS 16
#define PROC_MAX_CMDLINE_KEYS 4
#define PROC_SHA_CACHE 1024  /* file_sha256() cache entries */

struct proc_parent {
	pid_t pid;
	char exe[PATH_MAX];     /* "" if unreadable (gone, no permission) */
};

struct proc_info {
	pid_t pid, ppid;
	uid_t uid;
	char user[64];          /* getpwuid_r name, or the number as text */
	char comm[16];
	char exe[PATH_MAX];     /* readlink /proc/pid/exe without " (deleted)" */
	bool exe_deleted;
	bool from_snapshot;     /* filled from the kernel snapshot, /proc was gone */
	char sha256[65];        /* lower-case hex, "" if unknown */
	char cmdline[4096];     /* argv joined by spaces (no escaping needed: JSON encoder escapes) */
	bool cmdline_truncated; /* the process's command line went on */
	bool exe_truncated;     /* the kernel's copy of the path went on */
	bool exe_relative;      /* as passed to execve, relative to a cwd
				 * not known (the process had exited) */
	char cgroup[PATH_MAX];  /* cgroup v2 path relative to the cgroup2 root, e.g. "/system.slice/x.service" */
	char container[80];     /* container id (64 hex usually), "" if none */
	char unit[128];         /* systemd unit (x.service / x.scope), "" if none */
	struct key_hit cmdline_keys[PROC_MAX_CMDLINE_KEYS]; /* redacted */
	int nr_cmdline_keys;
	struct proc_parent parents[PROC_MAX_PARENTS];
	int nr_parents;         /* parent chain from ppid up to pid 1 */
};

/* Read a live process from /proc (root dir overridable for tests via
 * proc_set_root()). -ESRCH if it is gone or a zombie. Fields that cannot be
 * read (exe of another user's process without privilege) stay empty. */
int proc_read(pid_t pid, struct proc_info *out);
/* /proc/PID/stat: its state letter (R, S, Z, ...) and start time (clock
 * ticks since boot), either may be NULL; -ESRCH when it is gone. */
int proc_stat(pid_t pid, char *state, unsigned long long *start);
/* /proc/PID/wchan: the kernel function it sleeps in, "" when it is not
 * waiting (or the kernel does not say); -ESRCH when it is gone. */
int proc_wchan(pid_t pid, char *buf, size_t len);
/* Fallback for a process that exited before we looked: fill from the kernel
 * snapshot (exe = snap->exe; cmdline from the NUL-separated args; ppid, uid,
 * comm; cgroup via cgroup_path_by_id). sha256 when the file at exe
 * still has snap->exe_dev (kernel encoding major<<20|minor) and
 * snap->exe_ino, else the hash taken of that inode while it ran
 * (proc_sha_by_inode); exe_deleted when an absolute exe no longer
 * exists. Parent
 * chain from /proc starting at ppid. 0 or -EINVAL. */
int proc_from_snapshot(pid_t pid, const struct rw_proc *snap,
		       struct proc_info *out);
/* SHA-256 of a file, cached by st_dev+st_ino+mtime+ctime+size (bounded
 * cache of PROC_SHA_CACHE entries). For a live process hash "/proc/PID/exe"
 * (works even if deleted). 0 or -errno. */
int file_sha256(const char *path, char out[65]);
/* The hash file_sha256 last took of the file (kernel-encoded device,
 * inode), whatever its path now: a deleted or replaced binary that ran.
 * 0 or -ENOENT. */
int proc_sha_by_inode(__u32 kdev, __u64 ino, char out[65]);
/* file_sha256's cache: lookups answered from it, and not (any thread) */
void proc_sha_cache_stats(__u64 *hits, __u64 *misses);
void proc_set_root(const char *procfs_root);   /* default "/proc" */
/* dev_t (glibc) -> kernel encoding used in struct rw_proc.exe_dev */
__u32 dev_to_kernel(dev_t dev);

#endif
