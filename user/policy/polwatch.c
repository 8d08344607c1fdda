// SPDX-License-Identifier: MIT
/*
 * Watches the places a policy's rules name:
 * - exe: the directory of the path, or every directory a glob's directory
 *   part names now (one created later is not watched until a reload);
 *   events for other files there are ignored;
 * - cgroup: the parent of the rule's cgroup, for that name being created
 *   or removed (systemd recreates a unit's cgroup when it restarts);
 * - container: the parent of the container's cgroup, likewise; a
 *   container no cgroup holds yet is looked for every POLWATCH_PROBE_NS.
 */
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "polwatch.h"
#include "policy.h"
#include "cgroup.h"
#include "log.h"
#include "util.h"

#define FILE_MASK (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | \
		   IN_DELETE | IN_MOVED_FROM)
#define CGROUP_MASK (IN_CREATE | IN_DELETE)

int polwatch_init(struct polwatch *x)
{
	memset(x, 0, sizeof(*x));
	x->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return x->fd < 0 ? -errno : 0;
}

static void clear(struct polwatch *x)
{
	for (size_t i = 0; i < x->nr; i++) {
		/* a directory may carry several patterns: remove it once */
		bool first = true;

		for (size_t k = 0; k < i; k++)
			if (x->pats[k].wd == x->pats[i].wd)
				first = false;
		if (first && x->fd >= 0)
			inotify_rm_watch(x->fd, x->pats[i].wd);
		free(x->pats[i].base);
	}
	x->nr = 0;
	for (size_t i = 0; i < x->nr_absent; i++)
		free(x->absent[i]);
	free(x->absent);
	x->absent = NULL;
	x->nr_absent = 0;
}

/* a watch on dir for files named like base; 1 if watched, 0 if dir
 * cannot be watched, -ENOMEM */
static int add(struct polwatch *x, const char *dir, const char *base,
	       int kind)
{
	/* inotify merges masks of one directory: ask for both kinds' */
	int wd = inotify_add_watch(x->fd, dir, FILE_MASK | CGROUP_MASK |
				   IN_ONLYDIR | IN_MASK_ADD);

	if (wd < 0) {
		pr_debug("policy watch: cannot watch %s: %s", dir,
			 strerror(errno));
		return 0;
	}
	if (GROW(x->pats, x->cap, x->nr, 8))
		return -ENOMEM;
	x->pats[x->nr].wd = wd;
	x->pats[x->nr].kind = kind;
	x->pats[x->nr].base = strdup(base);
	if (!x->pats[x->nr].base)
		return -ENOMEM;
	x->nr++;
	return 1;
}

/* splits an absolute path at its last '/' and watches the parent */
static int add_path(struct polwatch *x, const char *path, int kind)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = 0;
	return add(x, dir[0] ? dir : "/", slash + 1, kind);
}

/* an exe rule's directories: its own, or every match of a glob's */
static int add_exe(struct polwatch *x, const struct policy_rule *r)
{
	char dir[PATH_MAX], *slash;
	int ret = 0;
	glob_t g;

	snprintf(dir, sizeof(dir), "%s", r->exe);
	slash = strrchr(dir, '/');
	if (!r->exe_glob || !slash || !strpbrk(dir, "*?[") ||
	    strpbrk(dir, "*?[") > slash)
		return add_path(x, r->exe, PW_BINARIES);
	*slash = 0;
	if (glob(dir, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && ret >= 0; i++) {
			int n = add(x, g.gl_pathv[i], slash + 1, PW_BINARIES);

			ret = n < 0 ? n : ret + n;
		}
		globfree(&g);
	}
	return ret;
}

static int add_cgroup(struct polwatch *x, const struct policy_rule *r)
{
	const char *root = cgroup2_root();
	char path[PATH_MAX];
	char **a;

	if (!root)
		return 0;
	if (r->cgroup) {
		snprintf(path, sizeof(path), "%s%s", root, r->cgroup);
		return add_path(x, path, PW_CGROUPS);
	}
	if (cgroup_find_container(root, r->container, path, sizeof(path)))
		return add_path(x, path, PW_CGROUPS);
	a = realloc(x->absent, (x->nr_absent + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	x->absent = a;
	a[x->nr_absent] = strdup(r->container);
	if (!a[x->nr_absent])
		return -ENOMEM;
	x->nr_absent++;
	return 0;
}

int polwatch_set(struct polwatch *x, const struct policy *p)
{
	if (x->fd < 0)
		return -EBADF;
	clear(x);
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		int ret = 0;

		if (r->exe)
			ret = add_exe(x, r);
		if (ret >= 0 && (r->cgroup || r->container))
			ret = add_cgroup(x, r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* has a container that no cgroup held started since? */
static bool absent_found(struct polwatch *x)
{
	const char *root = cgroup2_root();
	char path[PATH_MAX];

	for (size_t i = 0; root && i < x->nr_absent; i++)
		if (cgroup_find_container(root, x->absent[i], path,
					  sizeof(path)))
			return true;
	return false;
}

static void mark(struct polwatch *x, int kind, __u64 now_ns)
{
	x->dirty |= kind;
	x->dirty_ns = now_ns;
}

int polwatch_due(struct polwatch *x, __u64 now_ns)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int kinds;

	while (x->fd >= 0 && (n = read(x->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: assume the worst */
				mark(x, PW_BINARIES | PW_CGROUPS, now_ns);
				continue;
			}
			for (size_t i = 0; ev->len && i < x->nr; i++) {
				struct polwatch_pat *pt = &x->pats[i];
				__u32 want = pt->kind == PW_BINARIES ?
					     FILE_MASK : CGROUP_MASK;

				if (pt->wd == ev->wd && (ev->mask & want) &&
				    !fnmatch(pt->base, ev->name, 0))
					mark(x, pt->kind, now_ns);
			}
		}
	}
	if (x->nr_absent && now_ns >= x->next_probe_ns) {
		x->next_probe_ns = now_ns + POLWATCH_PROBE_NS;
		if (absent_found(x))
			mark(x, PW_CGROUPS, now_ns);
	}
	if (!x->dirty || now_ns - x->dirty_ns < POLWATCH_SETTLE_NS)
		return 0;
	kinds = x->dirty;
	x->dirty = 0;
	x->dirty_ns = 0;
	return kinds;
}

void polwatch_free(struct polwatch *x)
{
	clear(x);
	free(x->pats);
	x->pats = NULL;
	x->cap = 0;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}
