// SPDX-License-Identifier: MIT
/* Watches the files a configuration is read from (cfgwatch.h). Any event
 * in their directories marks a change; the contents decide. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "cfgwatch.h"
#include "intel.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | \
		  IN_DELETE | IN_ATTRIB | IN_ONLYDIR)

int cfgwatch_init(struct cfgwatch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void clear(struct cfgwatch *w)
{
	for (size_t i = 0; i < w->nr; i++)
		free(w->paths[i]);
	free(w->paths);
	w->paths = NULL;
	w->nr = 0;
	if (w->fd >= 0) {
		/* the simplest way to drop every watch: a new instance */
		close(w->fd);
		w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	}
}

/* the directory of path, and of what it resolves to (a ConfigMap's file
 * is a symlink through ..data into a directory kubelet replaces) */
static void watch_dirs(struct cfgwatch *w, const char *path)
{
	char buf[PATH_MAX], real[PATH_MAX];

	struct stat st;

	/* an intel directory: the files in it */
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		inotify_add_watch(w->fd, path, DIR_MASK);
	snprintf(buf, sizeof(buf), "%s", path);
	if (inotify_add_watch(w->fd, dirname(buf), DIR_MASK) < 0)
		pr_warn("--reload-on-change: cannot watch the directory of "
			"%s: %s", path, strerror(errno));
	if (realpath(path, real) && strcmp(real, path))
		inotify_add_watch(w->fd, dirname(real), DIR_MASK);
}

/* SHA-256 over each file's name and contents (a missing file counts as
 * such, so its return is a change too) */
static void digest_file(EVP_MD_CTX *ctx, const char *path)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	int fd;

	EVP_DigestUpdate(ctx, path, strlen(path) + 1);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		/* an intel directory: the files read from it */
		char **files;
		size_t nr;

		if (intel_dir_files(path, &files, &nr))
			return;
		for (size_t i = 0; i < nr; i++) {
			digest_file(ctx, files[i]);
			free(files[i]);
		}
		free(files);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		EVP_DigestUpdate(ctx, "\0missing", 8);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	close(fd);
}

static void digest(const struct cfgwatch *w, __u8 out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;

	memset(out, 0, 32);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < w->nr; i++)
		digest_file(ctx, w->paths[i]);
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

static int add_path(struct cfgwatch *w, const char *path)
{
	char **p = realloc(w->paths, (w->nr + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	w->paths = p;
	p[w->nr] = strdup(path);
	if (!p[w->nr])
		return -ENOMEM;
	w->nr++;
	if (w->fd >= 0)
		watch_dirs(w, path);
	return 0;
}

int cfgwatch_set(struct cfgwatch *w, const struct policy *p,
		 const char *extra_intel)
{
	int ret;

	clear(w);
	if (w->fd < 0)
		return -EBADF;
	ret = add_path(w, p->path);
	for (size_t i = 0; !ret && i < p->nr_intel_files; i++)
		ret = add_path(w, p->intel_files[i]);
	if (!ret && extra_intel)
		ret = add_path(w, extra_intel);
	digest(w, w->digest);
	w->dirty_ns = 0;
	return ret;
}

int cfgwatch_due(struct cfgwatch *w, __u64 now_ns)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	__u8 now[32];

	if (w->fd < 0 || !w->nr)
		return 0;
	while (read(w->fd, buf, sizeof(buf)) > 0)
		w->dirty_ns = now_ns;   /* any event: the contents decide */
	if (!w->dirty_ns || now_ns - w->dirty_ns < CFGWATCH_SETTLE_NS)
		return 0;
	w->dirty_ns = 0;
	digest(w, now);
	return memcmp(now, w->digest, 32) != 0;
}

void cfgwatch_free(struct cfgwatch *w)
{
	clear(w);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
