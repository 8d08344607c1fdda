// SPDX-License-Identifier: MIT
/*
 * The bpffs layout of pinned state (pin.h): sets, their meta, pins put
 * and taken, removal. bpffs needs no more than mkdir, rename and unlink;
 * a pinned object lives as long as a pin or an fd refers to it, so
 * removing a link's pin (with no fd open) detaches it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "pin.h"
#include "util.h"

static bool is_bpffs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

int pin_root(char *err, size_t len)
{
	if (!is_bpffs("/sys/fs/bpf")) {
		mkdir("/sys/fs/bpf", 0700);
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") ||
		    !is_bpffs("/sys/fs/bpf")) {
			snprintf(err, len, "bpffs is not mounted on /sys/fs/bpf "
				 "and mounting it failed (%s): mount it with "
				 "'mount -t bpf bpf /sys/fs/bpf', or run with "
				 "--no-persist", strerror(errno));
			return -ENOTSUP;
		}
	}
	if (mkdir(PIN_ROOT, 0700) && errno != EEXIST) {
		snprintf(err, len, "cannot make %s: %s", PIN_ROOT,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

void pin_cgdir(__u64 cgid, char *out, size_t len)
{
	snprintf(out, len, PIN_ROOT "/%llu", (unsigned long long)cgid);
}

int pin_lock(const char *cgdir, int wait_ms)
{
	int fd;

	if (mkdir(cgdir, 0700) && errno != EEXIST)
		return -errno;
	fd = open(cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (int waited = 0;; waited += 50) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return fd;
		if (errno != EWOULDBLOCK || waited >= wait_ms)
			break;
		usleep(50000);
	}
	close(fd);
	return -EWOULDBLOCK;
}

int pin_path(char *out, size_t len, const char *setdir, const char *kind,
	     const char *name)
{
	int n = kind ? snprintf(out, len, "%s/%s/", setdir, kind)
		     : snprintf(out, len, "%s/", setdir);
	size_t i = n;

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* bpffs refuses names with a dot (libbpf's ".rodata" maps) */
	for (; *name && i + 1 < len; name++)
		out[i++] = *name == '.' ? '_' : *name;
	out[i] = 0;
	return *name ? -ENAMETOOLONG : 0;
}

int pin_get(const char *setdir, const char *kind, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (pin_path(path, sizeof(path), setdir, kind, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pin_put(int fd, const char *setdir, const char *kind, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX];

	if (pin_path(path, sizeof(path), setdir, kind, name))
		return -ENAMETOOLONG;
	if (kind) {
		snprintf(dir, sizeof(dir), "%s/%s", setdir, kind);
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
	}
	snprintf(tmp, sizeof(tmp), "%s-new", path);
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

int pin_drop(const char *setdir, const char *kind, const char *name)
{
	char path[PATH_MAX];

	if (pin_path(path, sizeof(path), setdir, kind, name))
		return -ENAMETOOLONG;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

int pin_meta_read(const char *setdir, struct rw_meta *m, char *why,
		  size_t len)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info), zero = 0;
	void *buf;
	int fd, ret;

	memset(m, 0, sizeof(*m));
	fd = pin_get(setdir, NULL, "meta");
	if (fd < 0) {
		snprintf(why, len, "no meta map (%s)", strerror(-fd));
		return fd;
	}
	ret = bpf_obj_get_info_by_fd(fd, &info, &ilen) ? -errno : 0;
	if (!ret && (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		     info.value_size < 16)) {
		snprintf(why, len, "its meta is no relaywatch map");
		ret = -EINVAL;
	}
	buf = ret ? NULL : calloc(1, info.value_size);
	if (!ret && !buf)
		ret = -ENOMEM;
	if (!ret && bpf_map_lookup_elem(fd, &zero, buf))
		ret = -errno;
	if (!ret) {
		memcpy(m, buf, info.value_size < sizeof(*m) ? info.value_size :
							      sizeof(*m));
		if (m->magic != RW_META_MAGIC) {
			snprintf(why, len, "its meta has no relaywatch magic");
			ret = -EINVAL;
		}
	} else if (ret != -EINVAL) {
		snprintf(why, len, "cannot read its meta (%s)", strerror(-ret));
	}
	free(buf);
	close(fd);
	return ret;
}

static int by_n(const void *a, const void *b)
{
	return ((const struct pin_set *)a)->n - ((const struct pin_set *)b)->n;
}

int pin_sets(const char *cgdir, struct pin_set **sets, int *nr)
{
	size_t cap = 0, n = 0;
	struct dirent *de;
	DIR *d;

	*sets = NULL;
	*nr = 0;
	d = opendir(cgdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct pin_set *s;
		char *end;
		long k;

		if (strncmp(de->d_name, "set-", 4))
			continue;
		k = strtol(de->d_name + 4, &end, 10);
		if (*end || k < 0 || k > 1000000)
			continue; /* a temporary set-<n>-new, being made */
		if (GROW(*sets, cap, n, 4)) {
			closedir(d);
			free(*sets);
			*sets = NULL;
			return -ENOMEM;
		}
		s = &(*sets)[n++];
		memset(s, 0, sizeof(*s));
		s->n = k;
		snprintf(s->dir, sizeof(s->dir), "%s/%s", cgdir, de->d_name);
		s->ours = !pin_meta_read(s->dir, &s->meta, s->why,
					 sizeof(s->why));
	}
	closedir(d);
	if (n)
		qsort(*sets, n, sizeof(**sets), by_n);
	*nr = n;
	return 0;
}

const struct pin_set *pin_newest(const struct pin_set *sets, int nr)
{
	for (int i = nr - 1; i >= 0; i--)
		if (sets[i].ours)
			return &sets[i];
	return NULL;
}

int pin_new_set(const char *cgdir, int n, int meta_fd, char *out, size_t len)
{
	char tmp[PATH_MAX];
	int ret;

	snprintf(out, len, "%s/set-%d", cgdir, n);
	snprintf(tmp, sizeof(tmp), "%s/set-%d-new", cgdir, n);
	pin_remove(tmp); /* left by a start that did not finish */
	if (mkdir(tmp, 0700))
		return -errno;
	ret = pin_put(meta_fd, tmp, NULL, "meta");
	if (!ret && rename(tmp, out))
		ret = -errno;
	if (ret)
		pin_remove(tmp);
	return ret;
}

int pin_remove(const char *dir)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (!is_bpffs(dir))
		return errno == ENOENT ? 0 : -EINVAL; /* never outside bpffs */
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			ret = pin_remove(path) ?: ret;
		else if (unlink(path))
			ret = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		ret = -errno;
	return ret;
}
