/* SPDX-License-Identifier: MIT */
/*
 * What a policy names by path the kernel knows by number: a binary by its
 * inode, a cgroup or container by its cgroup id. A package upgrade (a new
 * file renamed over the old), a new file a glob names, a service restart
 * (systemd recreates its cgroup) or a container (re)start would escape the
 * rules until the next reload. polwatch watches those places (inotify;
 * a container not running yet is looked for every 2 s) and says when the
 * policy should be applied again to learn the new numbers.
 */
#ifndef RW_POLWATCH_H
#define RW_POLWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct policy;

/* quiet time after the last change before re-applying: a package manager
 * writes and renames in bursts */
#define POLWATCH_SETTLE_NS (200 * 1000000ULL)
/* how often a container that no cgroup holds yet is looked for */
#define POLWATCH_PROBE_NS (2000 * 1000000ULL)

enum { PW_BINARIES = 1, PW_CGROUPS = 2 };

struct polwatch_pat {
	int wd;                /* the watched directory */
	int kind;              /* PW_BINARIES or PW_CGROUPS */
	char *base;            /* file name or fnmatch(3) pattern in it */
};

struct polwatch {
	int fd;                /* inotify, non-blocking; -1 = off */
	struct polwatch_pat *pats;
	size_t nr, cap;
	char **absent;         /* container id prefixes no cgroup holds */
	size_t nr_absent;
	__u64 dirty_ns;        /* a change not acted on yet; 0 none */
	int dirty;             /* its kinds */
	__u64 next_probe_ns;
};

int polwatch_init(struct polwatch *x);
/* watches what p's exe, cgroup and container rules name, instead of what
 * was watched before; 0 or -errno */
int polwatch_set(struct polwatch *x, const struct policy *p);
/* reads what happened; once a change has been quiet for
 * POLWATCH_SETTLE_NS, returns its kinds (PW_*) and forgets it; else 0 */
int polwatch_due(struct polwatch *x, __u64 now_ns);
void polwatch_free(struct polwatch *x);

#endif
