/* SPDX-License-Identifier: MIT */
/* cgroup v2 attribution: where cgroup2 is mounted, the cgroup of a process,
 * the path behind a cgroup id from the BPF side, and the container id or
 * systemd unit a cgroup path names. Paths are relative to the cgroup2 root
 * and start with "/". Thread-safe. */
#ifndef RW_CGROUP_H
#define RW_CGROUP_H

#include <linux/types.h>
#include <stddef.h>
#include <sys/types.h>

/* first cgroup2 mount point from /proc/mounts ("/sys/fs/cgroup/unified" on
 * hybrid hosts, "/sys/fs/cgroup" on unified ones), NULL if none */
const char *cgroup2_root(void);
/* container id from a cgroup path: docker (/docker/<64hex>,
 * docker-<64hex>.scope), containerd/CRI (cri-containerd-<id>.scope,
 * /kubepods/.../<64hex>), cri-o (crio-<id>.scope), podman (libpod-<id>.scope,
 * libpod-conmon excluded), nerdctl, kubepods slices
 * (kubepods-burstable-pod<uid>.slice/...), LXC (lxc.payload.<name>).
 * The innermost match wins. 0 and the id, -ENOENT, or -ENOSPC. */
int cgroup_container_id(const char *cgpath, char *out, size_t len);
/* systemd unit: the innermost component ending in .service or .scope that
 * is not a container scope; 0, -ENOENT if none, or -ENOSPC */
int cgroup_systemd_unit(const char *cgpath, char *out, size_t len);
/* cgroup v2 id (inode number of the cgroup directory, what
 * bpf_get_current_cgroup_id returns) -> path relative to the root; walks
 * the tree, caches results. 0, -ENOENT or -ENOSPC. */
int cgroup_path_by_id(__u64 id, char *out, size_t len);
/* drop every cached id -> path entry (tests, shutdown) */
void cgroup_cache_clear(void);
/* the outermost cgroup under root (absolute) of the container whose id
 * starts with prefix; returns how many cgroups matched, 0 if none */
int cgroup_find_container(const char *root, const char *prefix, char *path,
			  size_t len);
/* inode id of a cgroup directory given an absolute path; 0 or -errno */
int cgroup_id_of(const char *abs_path, __u64 *id);
/* read /proc/PID/cgroup "0::/path" line; -ESRCH if the process is gone,
 * -ENOENT if it has no v2 line */
int cgroup_of_pid(pid_t pid, char *out, size_t len);
/* Path of the line for hierarchy ctrl in /proc/PID/cgroup text: "" for the
 * v2 line "0::", "name=systemd" or "memory" for v1 ones. 0, -ENOENT or
 * -ENOSPC. */
int cgroup_parse(const char *text, const char *ctrl, char *out, size_t len);

#endif
