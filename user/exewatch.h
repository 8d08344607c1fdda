/* SPDX-License-Identifier: MIT */
/*
 * exe rules name binaries by path, but the kernel knows them by inode: a
 * package upgrade (new file renamed over the old) or a new file matching
 * a glob would escape the rule until the next reload. exewatch watches the
 * directories the rules point into (inotify) and says when the policy
 * should be applied again to pick up the new inodes.
 */
#ifndef RW_EXEWATCH_H
#define RW_EXEWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct policy;

/* quiet time after the last change before re-applying: a package manager
 * writes and renames in bursts */
#define EXEWATCH_SETTLE_NS (200 * 1000000ULL)

struct exewatch_pat {
	int wd;                /* the watched directory */
	char *base;            /* file name or fnmatch(3) pattern in it */
};

struct exewatch {
	int fd;                /* inotify, non-blocking; -1 = off */
	struct exewatch_pat *pats;
	size_t nr, cap;
	__u64 dirty_ns;        /* a matching change not acted on yet; 0 none */
};

int exewatch_init(struct exewatch *x);
/* watches the directories of p's exe rules instead of the earlier ones;
 * returns how many rule paths are watched, or -errno */
int exewatch_set(struct exewatch *x, const struct policy *p);
/* reads what happened; true once a change to a watched binary has been
 * quiet for EXEWATCH_SETTLE_NS (and then forgets it) */
bool exewatch_due(struct exewatch *x, __u64 now_ns);
void exewatch_free(struct exewatch *x);

#endif
