/* SPDX-License-Identifier: MIT */
/*
 * run --reload-on-change: the files a configuration is read from (the
 * policy, its intel: files, --intel) are watched through their
 * directories, so an editor's rename, a package's new file or
 * Kubernetes' ConfigMap update (a `..data` symlink swapped to a new
 * directory) is seen. Once the changes are quiet, the files' combined
 * SHA-256 says whether anything really changed; only then is a reload due.
 */
#ifndef RW_CFGWATCH_H
#define RW_CFGWATCH_H

#include <stddef.h>
#include <linux/types.h>

struct policy;

/* quiet time after the last change: editors and kubelet write in bursts */
#define CFGWATCH_SETTLE_NS (300 * 1000000ULL)

struct cfgwatch {
	int fd;                /* inotify, non-blocking; -1 = off */
	char **paths;          /* the files, as given */
	size_t nr;
	__u8 digest[32];       /* of their contents when last applied */
	__u64 dirty_ns;        /* a change not looked at yet; 0 none */
};

/* 0 or -errno (inotify unavailable) */
int cfgwatch_init(struct cfgwatch *w);
/* watches p's file, its intel: files and extra_intel (may be NULL) and
 * takes their contents now as applied; 0 or -errno */
int cfgwatch_set(struct cfgwatch *w, const struct policy *p,
		 const char *extra_intel);
/* 1 once a change has been quiet for CFGWATCH_SETTLE_NS and the files'
 * contents differ from those applied, else 0 */
int cfgwatch_due(struct cfgwatch *w, __u64 now_ns);
void cfgwatch_free(struct cfgwatch *w);

#endif
