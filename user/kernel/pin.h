/* SPDX-License-Identifier: MIT */
/*
 * Where `run` leaves its kernel state so that enforcement outlives the
 * daemon: one directory per watched cgroup in bpffs, holding sets.
 *
 *   /sys/fs/bpf/relaywatch/<cgroup id>/     locked (flock) by its daemon
 *     set-<N>/meta                          struct rw_meta, a BPF map
 *     set-<N>/maps/<name>, progs/<name>, links/<name>
 *
 * A set is complete kernel state: maps, programs, attachments. Usually
 * there is one; an upgrade whose maps differ makes set N+1 beside set N
 * and removes N only once N+1 enforces. A set directory is made under a
 * temporary name and renamed once its meta is pinned, so a set-<N>
 * without a readable meta is not relaywatch's.
 */
#ifndef RW_PIN_H
#define RW_PIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include "relaywatch.h"

#define PIN_ROOT "/sys/fs/bpf/relaywatch"

struct pin_set {
	int n;                  /* set-<n> */
	char dir[PATH_MAX];
	bool ours;              /* meta read, magic right */
	struct rw_meta meta;    /* what of it this build can read */
	char why[160];          /* !ours: what is wrong */
};

/* bpffs at /sys/fs/bpf (mounted here when it is not) and PIN_ROOT;
 * 0, or -errno with one sentence in err */
int pin_root(char *err, size_t len);
/* PIN_ROOT/<cgid> */
void pin_cgdir(__u64 cgid, char *out, size_t len);
/* creates cgdir if needed and takes its lock, waiting up to wait_ms: an
 * fd, or -EWOULDBLOCK while another daemon holds it, or -errno */
int pin_lock(const char *cgdir, int wait_ms);
/* the sets of cgdir, by n; *sets is malloc'd (free it); 0 or -errno */
int pin_sets(const char *cgdir, struct pin_set **sets, int *nr);
/* the newest set that is ours, or NULL */
const struct pin_set *pin_newest(const struct pin_set *sets, int nr);
/* reads set's meta whatever its format (magic, format and what this
 * build's struct holds); 0, or -errno with why */
int pin_meta_read(const char *setdir, struct rw_meta *m, char *why,
		  size_t len);
/* setdir/kind/name */
int pin_path(char *out, size_t len, const char *setdir, const char *kind,
	     const char *name);
/* pins fd at setdir/kind/name, replacing what is there in one step
 * (pinned under a temporary name, renamed over) */
int pin_put(int fd, const char *setdir, const char *kind, const char *name);
/* the object pinned at setdir/kind/name: an fd, or -errno */
int pin_get(const char *setdir, const char *kind, const char *name);
/* removes a pin */
int pin_drop(const char *setdir, const char *kind, const char *name);
/* makes set-<n> under cgdir: a temporary directory with meta_fd pinned,
 * renamed into place; 0 or -errno, out = its path */
int pin_new_set(const char *cgdir, int n, int meta_fd, char *out,
		size_t len);
/* removes a directory of pins and everything in it (bpffs only) */
int pin_remove(const char *dir);

#endif
