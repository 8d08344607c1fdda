// SPDX-License-Identifier: MIT
/*
 * Attachments as link fds (bpf_link_create for the cgroup hooks, raw
 * tracepoint links for the tracing programs), so that a link can be pinned, taken back
 * from its pin by a later daemon, and given a new program in one step
 * (BPF_LINK_UPDATE): a restart or an upgrade never leaves a moment in
 * which a call is not judged. README "Lifecycle" tells the states.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relaywatch.skel.h"
#include "attach.h"
#include "log.h"
#include "pin.h"
#include "util.h"

__u32 attach_format(void)
{
#ifdef RW_FORMAT_NEXT
	/* tests/integ/persist.c's "next build": the same code, claiming a
	 * format whose maps this one cannot use */
	return RW_FORMAT + 1000;
#else
	return RW_FORMAT;
#endif
}

/* the state of cgroups that no longer exist: removed, and said */
static void clean_stale(struct loader *l)
{
	struct dirent *de;
	DIR *d = opendir(PIN_ROOT);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char dir[PATH_MAX];
		const struct pin_set *s;
		struct pin_set *sets;
		struct stat st;
		int nr, fd;
		bool gone;

		if (de->d_name[0] == '.' ||
		    strtoull(de->d_name, NULL, 10) == l->cgroup_id)
			continue;
		snprintf(dir, sizeof(dir), PIN_ROOT "/%s", de->d_name);
		fd = pin_lock(dir, 0);
		if (fd < 0)
			continue; /* a daemon watches it */
		if (pin_sets(dir, &sets, &nr)) {
			close(fd);
			continue;
		}
		s = pin_newest(sets, nr);
		gone = s ? stat(s->meta.cgroup_path, &st) ||
				   st.st_ino != s->meta.cgroup_id
			 : nr == 0;
		if (gone) {
			pr_warn("removed the pinned state of cgroup %s (id %s): "
				"the cgroup no longer exists",
				s ? s->meta.cgroup_path : "?", de->d_name);
			pin_remove(dir);
			if (l->nr_stale < (int)ARRAY_SIZE(l->stale))
				snprintf(l->stale[l->nr_stale++],
					 sizeof(l->stale[0]), "%.120s (id %.20s)",
					 s ? s->meta.cgroup_path : "?",
					 de->d_name);
		}
		free(sets);
		close(fd);
	}
	closedir(d);
}

/* info of a pinned map against this build's definition */
static int map_fits(struct bpf_map *m, int fd, char *why, size_t len)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	const char *name = bpf_map__name(m);

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	/* the ring's size may differ; a prefix trie may be larger than
	 * this policy needs, not smaller */
	if (info.type != bpf_map__type(m) ||
	    info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m) ||
	    (info.max_entries != bpf_map__max_entries(m) &&
	     bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF &&
	     !(bpf_map__type(m) == BPF_MAP_TYPE_LPM_TRIE &&
	       info.max_entries > bpf_map__max_entries(m)))) {
		snprintf(why, len, "its map %s differs (value %u bytes, %u "
			 "entries; this build's %u, %u)", name,
			 info.value_size, info.max_entries,
			 bpf_map__value_size(m), bpf_map__max_entries(m));
		return -EINVAL;
	}
	if (info.max_entries != bpf_map__max_entries(m))
		pr_info("the pinned ring buffer holds %u KiB (--ringbuf-kb "
			"applies to a new set: relaywatch detach first)",
			info.max_entries / 1024);
	return 0;
}

/* every map of the set reused, or none (why says which did not fit) */
static int reuse_maps(struct loader *l, const struct loader_opts *o,
		      const char *setdir, char *why, size_t len)
{
	int fds[64], n = 0, nr, ret = 0, fd4 = -1, fd6 = -1;
	struct bpf_map *m;

	bpf_object__for_each_map(m, l->skel->obj) {
		int fd = pin_get(setdir, "maps", bpf_map__name(m));

		if (fd < 0 || n == (int)ARRAY_SIZE(fds)) {
			snprintf(why, len, "its map %s is not pinned",
				 bpf_map__name(m));
			ret = fd < 0 ? fd : -E2BIG;
			if (fd >= 0)
				close(fd);
			break;
		}
		fds[n++] = fd;
		if (!strcmp(bpf_map__name(m), "geo4"))
			fd4 = fd;
		if (!strcmp(bpf_map__name(m), "geo6"))
			fd6 = fd;
		ret = map_fits(m, fd, why, len);
		if (ret)
			break;
	}
	if (!ret && !geomap_same(fd4, fd6, &o->geo)) {
		snprintf(why, len, "its country table is not this one");
		ret = -EINVAL;
	}
	/* only the fds opened above (a map not pinned ended the walk) */
	nr = n;
	n = 0;
	bpf_object__for_each_map(m, l->skel->obj) {
		if (n == nr)
			break;
		if (!ret)
			ret = bpf_map__reuse_fd(m, fds[n]);
		close(fds[n++]);
	}
	return ret;
}

int attach_find(struct loader *l, const struct loader_opts *o)
{
	const struct pin_set *cand = NULL, *newest;
	struct pin_set *sets = NULL;
	char err[512];
	int nr = 0, ret, top = 0;

	ret = pin_root(err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return ret;
	}
	clean_stale(l);
	pin_cgdir(l->cgroup_id, l->cgdir, sizeof(l->cgdir));
	l->lock_fd = pin_lock(l->cgdir, 0);
	ret = pin_sets(l->cgdir, &sets, &nr);
	newest = ret ? NULL : pin_newest(sets, nr);
	if (l->lock_fd < 0) {
		pr_warn("another relaywatch (pid %u) watches %s: stop it "
			"first, or see relaywatch status",
			newest ? newest->meta.daemon_pid : 0, l->cgroup);
		ret = l->lock_fd == -EWOULDBLOCK ? -EBUSY : l->lock_fd;
		goto out;
	}
	if (ret) {
		pr_warn("cannot read %s: %s", l->cgdir, strerror(-ret));
		goto out;
	}
	for (int i = 0; i < nr; i++) {
		if (!sets[i].ours) {
			pr_warn("%s is not relaywatch's state (%s): remove it, "
				"or watch another cgroup", sets[i].dir,
				sets[i].why);
			ret = -EEXIST;
			goto out;
		}
		top = sets[i].n > top ? sets[i].n : top;
		if (sets[i].meta.format == attach_format())
			cand = &sets[i];
	}
	l->adopt.kind = ADOPT_NONE;
	if (cand) {
		l->adopt.prev = cand->meta;
		ret = reuse_maps(l, o, cand->dir, l->adopt.why,
				 sizeof(l->adopt.why));
		if (!ret) {
			snprintf(l->setdir, sizeof(l->setdir), "%s", cand->dir);
			l->committed = cand->meta.state == RW_SET_READY;
			if (memcmp(cand->meta.build, l->build, 32)) {
				l->adopt.kind = ADOPT_RELOAD;
				snprintf(l->adopt.why, sizeof(l->adopt.why),
					 "another build's programs");
			} else {
				l->adopt.kind = ADOPT_SAME;
			}
			goto out;
		}
		/* nothing was reused: a set beside it */
	}
	if (newest) {
		l->adopt.kind = ADOPT_BESIDE;
		if (!cand) {
			l->adopt.prev = newest->meta;
			snprintf(l->adopt.why, sizeof(l->adopt.why),
				 "it was made by a build of format %u, this "
				 "one is %u", newest->meta.format,
				 attach_format());
		}
		pr_warn("the pinned set %s cannot be adopted (%s): a new one "
			"is attached beside it, and it is removed once the "
			"new one enforces", newest->dir, l->adopt.why);
	}
	/* a new set, numbered after the others */
	snprintf(l->setdir, sizeof(l->setdir), "%s/set-%d", l->cgdir, top + 1);
	l->committed = false;
	ret = 0;
out:
	free(sets);
	return ret;
}

int attach_take_programs(struct loader *l)
{
	for (int i = 0; i < l->nr_progs; i++) {
		struct prog_state *ps = &l->progs[i];

		ps->fd = pin_get(l->setdir, "progs", ps->name);
		if (ps->fd >= 0)
			continue;
		if (l->adopt.prev.features & (1u << ps->feature)) {
			for (int k = 0; k < i; k++) {
				close(l->progs[k].fd);
				l->progs[k].fd = -1;
			}
			return -ENOENT;
		}
		ps->err = -ENOENT;
		snprintf(ps->why, sizeof(ps->why), "%s: off when the set was "
			 "made (its start record says why)", ps->name);
	}
	return 0;
}

static int link_new(struct loader *l, struct prog_state *ps)
{
	int fd = ps->cgroup ? bpf_link_create(ps->fd, l->cgroup_fd,
					      ps->attach_type, NULL)
			    : bpf_raw_tracepoint_open(ps->tp, ps->fd);

	return fd < 0 ? -errno : fd;
}

int attach_one(struct loader *l, struct prog_state *ps)
{
	int fd = link_new(l, ps), ret;

	if (fd < 0)
		return fd;
	if (l->persist && l->setdir[0]) {
		ret = pin_put(fd, l->setdir, "links", ps->name);
		if (ret) {
			close(fd);
			return ret;
		}
	}
	ps->link_fd = fd;
	return 0;
}

void attach_drop(struct loader *l, struct prog_state *ps)
{
	if (l->persist && l->setdir[0])
		pin_drop(l->setdir, "links", ps->name);
	if (ps->link_fd >= 0)
		close(ps->link_fd);
	ps->link_fd = -1;
}

/* a pinned link of the adopted set: kept, or this build's program put
 * in it (cgroup links in one step; a tracing link, which cannot take a
 * new program, is replaced by a new link before the old goes) */
static int adopt_link(struct loader *l, struct prog_state *ps, int old)
{
	int ret;

	if (l->adopt.kind == ADOPT_SAME) {
		ps->link_fd = old;
		return 0;
	}
	if (ps->cgroup && !bpf_link_update(old, ps->fd, NULL)) {
		ps->link_fd = old;
		return 0;
	}
	ret = attach_one(l, ps); /* its pin replaces the old one's */
	close(old);
	return ret;
}

/* a new set: the meta pinned first (it says what the directory is), then
 * the maps and programs */
static int make_set(struct loader *l)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(l->setdir, '/');
	struct bpf_map *m;
	int ret;

	ret = pin_new_set(l->cgdir, atoi(slash + 5),
			  bpf_map__fd(l->skel->maps.meta), dir, sizeof(dir));
	if (ret)
		return ret;
	l->made_set = true;
	bpf_object__for_each_map(m, l->skel->obj) {
		ret = pin_put(bpf_map__fd(m), l->setdir, "maps",
			      bpf_map__name(m));
		if (ret)
			return ret;
	}
	return 0;
}

/* link pins no program of ours claims (a build that had other ones) */
static void drop_strays(struct loader *l)
{
	char dir[PATH_MAX + 8];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/links", l->setdir);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		bool ours = de->d_name[0] == '.';

		for (int i = 0; i < l->nr_progs && !ours; i++)
			ours = !strcmp(l->progs[i].name, de->d_name) &&
			       l->progs[i].link_fd >= 0;
		if (!ours)
			pin_drop(l->setdir, "links", de->d_name);
	}
	closedir(d);
}

int attach_all(struct loader *l)
{
	bool fresh = l->adopt.kind == ADOPT_NONE ||
		     l->adopt.kind == ADOPT_BESIDE;
	int ret;

	if (l->persist && fresh) {
		ret = make_set(l);
		if (ret)
			return ret;
	}
	for (int i = 0; i < l->nr_progs; i++) {
		struct prog_state *ps = &l->progs[i];
		int old = -1;

		if (ps->fd < 0)
			continue;
		if (l->persist && (fresh || l->adopt.kind == ADOPT_RELOAD)) {
			ret = pin_put(ps->fd, l->setdir, "progs", ps->name);
			if (ret)
				return ret;
		}
		if (l->persist && !fresh)
			old = pin_get(l->setdir, "links", ps->name);
		if (old >= 0)
			ret = adopt_link(l, ps, old);
		else if (ps->feature == RW_F_KILL)
			continue; /* attached while a kill rule is in force */
		else
			ret = attach_one(l, ps);
		if (ret)
			progload_attach_failed(l, ps, ret);
		if (ps->feature == RW_F_KILL && ps->link_fd >= 0)
			l->kill_hook = true;
	}
	if (l->persist && !fresh)
		drop_strays(l);
	return 0;
}

bool attach_link_alive(int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	if (info.type == BPF_LINK_TYPE_CGROUP)
		return info.cgroup.cgroup_id != 0;
	return true;
}

int attach_remove_others(struct loader *l)
{
	struct pin_set *sets;
	int nr, removed = 0;

	if (pin_sets(l->cgdir, &sets, &nr))
		return 0;
	for (int i = 0; i < nr; i++)
		if (strcmp(sets[i].dir, l->setdir) && sets[i].ours &&
		    !pin_remove(sets[i].dir))
			removed++;
	free(sets);
	return removed;
}
