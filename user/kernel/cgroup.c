// SPDX-License-Identifier: MIT
#include "cgroup.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <mntent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_CACHE_SIZE 256
#define CG_MAX_DEPTH 64

struct cg_entry {
	__u64 id;
	char *path;
};

static pthread_mutex_t cg_lock = PTHREAD_MUTEX_INITIALIZER;
static char cg_root[PATH_MAX];
static struct cg_entry cg_cache[CG_CACHE_SIZE];

static int copy_out(char *out, size_t len, const char *s, size_t n)
{
	if (!len || n >= len)
		return -ENOSPC;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

const char *cgroup2_root(void)
{
	struct mntent ent, *m;
	char buf[4096];
	FILE *f;

	pthread_mutex_lock(&cg_lock);
	/* only a hit is remembered: cgroup2 may be mounted after start-up */
	if (cg_root[0])
		goto out;
	f = setmntent("/proc/mounts", "re");
	if (!f)
		goto out;
	while ((m = getmntent_r(f, &ent, buf, sizeof(buf)))) {
		if (strcmp(m->mnt_type, "cgroup2") == 0 &&
		    strlen(m->mnt_dir) < sizeof(cg_root)) {
			strcpy(cg_root, m->mnt_dir);
			break;
		}
	}
	endmntent(f);
out:
	pthread_mutex_unlock(&cg_lock);
	return cg_root[0] ? cg_root : NULL;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return n > 0;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
	size_t pl = strlen(p);

	return n >= pl && memcmp(s, p, pl) == 0;
}

/* Container id named by one path component, or NULL; *idlen gets its size. */
static const char *component_id(const char *c, size_t n, size_t *idlen)
{
	static const char *const runtimes[] = {
		"docker-", "cri-containerd-", "crio-", "libpod-", "nerdctl-",
	};

	/* cgroupfs drivers: /docker/<id>, /kubepods/.../pod<uid>/<id> */
	if (n == 64 && is_hex(c, n)) {
		*idlen = n;
		return c;
	}
	if (has_prefix(c, n, "lxc.payload.") && n > 12) {
		*idlen = n - 12;
		return c + 12;
	}
	if (n > 6 && memcmp(c + n - 6, ".scope", 6) == 0)
		n -= 6;
	/* the id must be all hex, which leaves out the conmon monitor
	 * scopes (crio-conmon-<id>, libpod-conmon-<id>) */
	for (size_t i = 0; i < ARRAY_SIZE(runtimes); i++) {
		size_t pl = strlen(runtimes[i]);

		if (has_prefix(c, n, runtimes[i]) && n - pl >= 12 &&
		    n - pl <= 64 && is_hex(c + pl, n - pl)) {
			*idlen = n - pl;
			return c + pl;
		}
	}
	return NULL;
}

/* Steps through the components of a path from the innermost outwards:
 * *end starts at strlen(path); returns the length of the next one. */
static size_t prev_component(const char *path, size_t *end, const char **c)
{
	size_t e = *end, b;

	while (e > 0 && path[e - 1] == '/')
		e--;
	b = e;
	while (b > 0 && path[b - 1] != '/')
		b--;
	*c = path + b;
	*end = b;
	return e - b;
}

int cgroup_container_id(const char *cgpath, char *out, size_t len)
{
	size_t end = strlen(cgpath), n, idlen;
	const char *c, *id;

	while ((n = prev_component(cgpath, &end, &c)) > 0) {
		id = component_id(c, n, &idlen);
		if (id)
			return copy_out(out, len, id, idlen);
	}
	return -ENOENT;
}

int cgroup_systemd_unit(const char *cgpath, char *out, size_t len)
{
	size_t end = strlen(cgpath), n, idlen;
	const char *c;

	while ((n = prev_component(cgpath, &end, &c)) > 0) {
		if (n > 8 && memcmp(c + n - 8, ".service", 8) == 0)
			return copy_out(out, len, c, n);
		if (n > 6 && memcmp(c + n - 6, ".scope", 6) == 0 &&
		    !component_id(c, n, &idlen))
			return copy_out(out, len, c, n);
	}
	return -ENOENT;
}

int cgroup_parse(const char *text, const char *ctrl, char *out, size_t len)
{
	const char *line = text, *nl, *f1, *f2;
	size_t cl = strlen(ctrl), n;

	for (; *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		f1 = memchr(line, ':', nl - line);
		f2 = f1 ? memchr(f1 + 1, ':', nl - f1 - 1) : NULL;
		if (f2) {
			/* controllers are a comma list: "cpu,cpuacct" */
			const char *p = f1 + 1;

			while (p <= f2) {
				const char *q = memchr(p, ',', f2 - p);

				q = q ? q : f2;
				if ((size_t)(q - p) == cl &&
				    memcmp(p, ctrl, cl) == 0)
					goto found;
				p = q + 1;
			}
		}
		if (!*nl)
			break;
		continue;
found:
		n = nl - f2 - 1;
		/* a removed cgroup still listed by v2 */
		if (n >= 10 && memcmp(nl - 10, " (deleted)", 10) == 0)
			n -= 10;
		return copy_out(out, len, f2 + 1, n);
	}
	return -ENOENT;
}

int cgroup_of_pid(pid_t pid, char *out, size_t len)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = errno == ESRCH ? -ESRCH : -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return cgroup_parse(buf, "", out, len);
}

/* nftw() takes no argument for its callback: the search in progress, per
 * thread */
struct ctr_find {
	const char *prefix;
	char *path;
	size_t len;
	int found;
};
static __thread struct ctr_find *ctr_search;

static int ctr_visit(const char *path, const struct stat *st, int type,
		     struct FTW *f)
{
	char id[80];

	(void)st;
	(void)f;
	if (type != FTW_D)
		return 0;
	if (cgroup_container_id(path, id, sizeof(id)) == 0 &&
	    !strncmp(id, ctr_search->prefix, strlen(ctr_search->prefix))) {
		/* the outermost cgroup of the container */
		if (!ctr_search->found ||
		    strlen(path) < strlen(ctr_search->path))
			snprintf(ctr_search->path, ctr_search->len, "%s",
				 path);
		ctr_search->found++;
	}
	return 0;
}

int cgroup_find_container(const char *root, const char *prefix, char *path,
			  size_t len)
{
	struct ctr_find f = { .prefix = prefix, .path = path, .len = len };

	ctr_search = &f;
	nftw(root, ctr_visit, 16, FTW_PHYS);
	ctr_search = NULL;
	return f.found;
}

int cgroup_id_of(const char *abs_path, __u64 *id)
{
	struct stat st;

	if (stat(abs_path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/* Depth-first search below dfd (which it closes) for a directory whose
 * inode is id; path holds the relative path so far, plen its length. On
 * cgroupfs d_ino is the kernfs id itself, so no stat per directory. */
static int walk(int dfd, char *path, size_t plen, __u64 id, int depth)
{
	struct dirent *de;
	struct stat st;
	int ret = -ENOENT, cfd;
	size_t nl;
	DIR *d;

	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -ENOENT;
	}
	while (ret && (de = readdir(d))) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		     !S_ISDIR(st.st_mode)))
			continue;
		nl = strlen(de->d_name);
		if (plen + 1 + nl >= PATH_MAX)
			continue;
		path[plen] = '/';
		memcpy(path + plen + 1, de->d_name, nl + 1);
		if (de->d_ino == id)
			ret = 0;
		else if (depth < CG_MAX_DEPTH &&
			 (cfd = openat(dirfd(d), de->d_name,
				       O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					       O_NOFOLLOW)) >= 0)
			ret = walk(cfd, path, plen + 1 + nl, id, depth + 1);
		if (ret)
			path[plen] = '\0';
	}
	closedir(d);
	return ret;
}

/* A cached path is checked against the tree: cgroups can be renamed or
 * removed, though their ids are never reused. */
static bool cache_get(const char *root, __u64 id, char *path)
{
	struct cg_entry *e = &cg_cache[id % CG_CACHE_SIZE];
	char abs[PATH_MAX * 2];
	struct stat st;
	bool hit = false;

	pthread_mutex_lock(&cg_lock);
	if (e->path && e->id == id) {
		snprintf(abs, sizeof(abs), "%s%s", root, e->path);
		hit = stat(abs, &st) == 0 && st.st_ino == id;
		if (hit)
			strcpy(path, e->path);
		else {
			free(e->path);
			e->path = NULL;
		}
	}
	pthread_mutex_unlock(&cg_lock);
	return hit;
}

static void cache_put(__u64 id, const char *path)
{
	struct cg_entry *e = &cg_cache[id % CG_CACHE_SIZE];
	char *dup = strdup(path);

	if (!dup)
		return;
	pthread_mutex_lock(&cg_lock);
	free(e->path);
	e->id = id;
	e->path = dup;
	pthread_mutex_unlock(&cg_lock);
}

void cgroup_cache_clear(void)
{
	pthread_mutex_lock(&cg_lock);
	for (int i = 0; i < CG_CACHE_SIZE; i++) {
		free(cg_cache[i].path);
		cg_cache[i].path = NULL;
	}
	pthread_mutex_unlock(&cg_lock);
}

int cgroup_path_by_id(__u64 id, char *out, size_t len)
{
	const char *root = cgroup2_root();
	char path[PATH_MAX] = "";
	struct stat st;
	int fd, err;

	if (!root || !id)
		return -ENOENT;
	if (cache_get(root, id, path))
		return copy_out(out, len, path, strlen(path));
	if (stat(root, &st))
		return -ENOENT;
	if (st.st_ino == id)
		return copy_out(out, len, "/", 1);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	err = walk(fd, path, 0, id, 0);
	if (err)
		return err;
	cache_put(id, path);
	return copy_out(out, len, path, strlen(path));
}
