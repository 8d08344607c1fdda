// SPDX-License-Identifier: MIT
/*
 * The daemon checks its own attachment once a second: each link it holds
 * must still attach its program (bpftool link detach, or BPF_LINK_DETACH
 * from any root process, leaves a link that attaches nothing), and with
 * persistence each pin must still be there and be ours (rm under
 * /sys/fs/bpf would otherwise end enforcement at the daemon's next exit).
 * What is found is put back at once: a new link, a new pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relaywatch.skel.h"
#include "attach.h"
#include "guard.h"
#include "loader.h"
#include "pin.h"

/* the object's id, 0 if unknown */
static __u32 id_of(int fd)
{
	struct bpf_prog_info info = {}; /* id first in every info struct */
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* is the object pinned at setdir/kind/name the one fd refers to? */
static bool pinned_here(const char *setdir, const char *kind,
			const char *name, int fd)
{
	int p = pin_get(setdir, kind, name);
	bool same;

	if (p < 0)
		return false;
	same = id_of(p) == id_of(fd);
	close(p);
	return same;
}

/* the directories, and the lock on the cgroup's one, made again when
 * someone removed them */
static void dirs_back(struct loader *l)
{
	struct stat a, b;
	int fd;

	if (!stat(l->setdir, &a))
		return;
	mkdir(PIN_ROOT, 0700);
	mkdir(l->cgdir, 0700);
	mkdir(l->setdir, 0700);
	if (l->lock_fd >= 0 && !fstat(l->lock_fd, &a) && !stat(l->cgdir, &b) &&
	    a.st_ino != b.st_ino) {
		fd = open(l->cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB)) {
			close(l->lock_fd);
			l->lock_fd = fd;
		} else if (fd >= 0) {
			close(fd);
		}
	}
}

static int repin(struct loader *l, int fd, const char *kind,
		 const char *name, guard_report_fn report, void *ctx)
{
	int err;

	if (pinned_here(l->setdir, kind, name, fd))
		return 0;
	err = pin_put(fd, l->setdir, kind, name);
	report("unpinned", name, !err, err, ctx);
	return 1;
}

int guard_check(struct loader *l, guard_report_fn report, void *ctx)
{
	struct bpf_map *m;
	int found = 0;

	for (int i = 0; i < l->nr_progs; i++) {
		struct prog_state *ps = &l->progs[i];
		int err;

		if (ps->link_fd < 0 || attach_link_alive(ps->link_fd))
			continue;
		err = loader_reattach(l, ps);
		report("detached", ps->name, !err, err, ctx);
		found++;
	}
	if (!l->persist || !l->setdir[0])
		return found;
	dirs_back(l);
	found += repin(l, bpf_map__fd(l->skel->maps.meta), NULL, "meta",
		       report, ctx);
	bpf_object__for_each_map(m, l->skel->obj)
		found += repin(l, bpf_map__fd(m), "maps", bpf_map__name(m),
			       report, ctx);
	for (int i = 0; i < l->nr_progs; i++) {
		struct prog_state *ps = &l->progs[i];

		if (ps->fd >= 0)
			found += repin(l, ps->fd, "progs", ps->name, report,
				       ctx);
		if (ps->link_fd >= 0)
			found += repin(l, ps->link_fd, "links", ps->name,
				       report, ctx);
	}
	return found;
}
