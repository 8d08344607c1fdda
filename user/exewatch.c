// SPDX-License-Identifier: MIT
/*
 * Watches the directories that exe rules point into. A rule's path is
 * split into directory and file name; a glob's directory part may itself
 * be a pattern, and then every directory it names now is watched (one
 * created later is not, until a reload). Events for other files in those
 * directories are ignored.
 */
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "exewatch.h"
#include "policy.h"
#include "log.h"

#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | \
		    IN_DELETE | IN_MOVED_FROM)

int exewatch_init(struct exewatch *x)
{
	memset(x, 0, sizeof(*x));
	x->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return x->fd < 0 ? -errno : 0;
}

static void clear(struct exewatch *x)
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
}

static int add(struct exewatch *x, const char *dir, const char *base)
{
	int wd = inotify_add_watch(x->fd, dir, WATCH_MASK | IN_ONLYDIR);

	if (wd < 0) {
		pr_debug("exe rules: cannot watch %s: %s", dir,
			 strerror(errno));
		return 0;
	}
	if (x->nr == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		void *n = realloc(x->pats, cap * sizeof(*x->pats));

		if (!n)
			return -ENOMEM;
		x->pats = n;
		x->cap = cap;
	}
	x->pats[x->nr].wd = wd;
	x->pats[x->nr].base = strdup(base);
	if (!x->pats[x->nr].base)
		return -ENOMEM;
	x->nr++;
	return 1;
}

/* the directories of one rule's path: itself, or every match of a glob */
static int add_rule(struct exewatch *x, const struct policy_rule *r)
{
	char *dir = strdup(r->exe), *slash;
	int ret = 0;
	glob_t g;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash) {
		free(dir);
		return 0;
	}
	*slash = 0;
	if (!r->exe_glob || !strpbrk(dir, "*?[")) {
		ret = add(x, dir[0] ? dir : "/", slash + 1);
	} else if (glob(dir, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && ret >= 0; i++) {
			int n = add(x, g.gl_pathv[i], slash + 1);

			ret = n < 0 ? n : ret + n;
		}
		globfree(&g);
	}
	free(dir);
	return ret;
}

int exewatch_set(struct exewatch *x, const struct policy *p)
{
	int total = 0;

	if (x->fd < 0)
		return -EBADF;
	clear(x);
	for (size_t i = 0; i < p->nr_rules; i++) {
		int n;

		if (!p->rules[i].exe)
			continue;
		n = add_rule(x, &p->rules[i]);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

bool exewatch_due(struct exewatch *x, __u64 now_ns)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while (x->fd >= 0 && (n = read(x->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				x->dirty_ns = now_ns; /* events lost: assume */
				continue;
			}
			for (size_t i = 0; ev->len && i < x->nr; i++)
				if (x->pats[i].wd == ev->wd &&
				    !fnmatch(x->pats[i].base, ev->name, 0))
					x->dirty_ns = now_ns;
		}
	}
	if (!x->dirty_ns || now_ns - x->dirty_ns < EXEWATCH_SETTLE_NS)
		return false;
	x->dirty_ns = 0;
	return true;
}

void exewatch_free(struct exewatch *x)
{
	clear(x);
	free(x->pats);
	x->pats = NULL;
	x->cap = 0;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}
