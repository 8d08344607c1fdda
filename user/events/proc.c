// SPDX-License-Identifier: MIT
#include "proc.h"
#include "keys.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup.h"

#define SHA_WAYS 4
#define SHA_SETS (PROC_SHA_CACHE / SHA_WAYS)
#define USER_CACHE 32
#define DELETED " (deleted)"
#define DELETED_LEN (sizeof(DELETED) - 1)

/* One version of one file: a rewrite changes mtime/ctime/size, a
 * replacement changes the inode. */
struct sha_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	unsigned long age;  /* LRU tick within the set, 0 = free */
	char hex[65];
};

struct user_entry {
	uid_t uid;
	bool used;
	char name[64];
};

static char proc_root[PATH_MAX] = "/proc";
static pthread_mutex_t sha_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sha_entry sha_cache[SHA_SETS][SHA_WAYS];
static unsigned long sha_tick;
static pthread_mutex_t user_lock = PTHREAD_MUTEX_INITIALIZER;
static struct user_entry user_cache[USER_CACHE];

void proc_set_root(const char *procfs_root)
{
	snprintf(proc_root, sizeof(proc_root), "%s",
		 procfs_root ? procfs_root : "/proc");
}

/* The kernel's internal MKDEV (what inode->i_sb->s_dev holds), not glibc's
 * makedev() layout nor the new_encode_dev() one stat(2) reports. */
__u32 dev_to_kernel(dev_t dev)
{
	return (major(dev) << 20) | minor(dev);
}

static bool same_version(const struct sha_entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec &&
	       e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static __u64 sha_hits, sha_misses;

static struct sha_entry *sha_set(const struct stat *st)
{
	__u64 h = (__u64)st->st_ino * 0x9e3779b97f4a7c15ULL ^ st->st_dev;

	return sha_cache[(h >> 32) % SHA_SETS];
}

static bool sha_lookup(const struct stat *st, char out[65])
{
	struct sha_entry *set = sha_set(st);
	bool hit = false;

	pthread_mutex_lock(&sha_lock);
	for (int i = 0; i < SHA_WAYS && !hit; i++) {
		if (set[i].age && same_version(&set[i], st)) {
			set[i].age = ++sha_tick;
			memcpy(out, set[i].hex, 65);
			hit = true;
		}
	}
	if (hit)
		sha_hits++;
	else
		sha_misses++;
	pthread_mutex_unlock(&sha_lock);
	return hit;
}

int proc_sha_by_inode(__u32 kdev, __u64 ino, char out[65])
{
	struct stat st = { .st_dev = makedev(kdev >> 20, kdev & 0xfffff),
			   .st_ino = ino };
	struct sha_entry *set = sha_set(&st), *best = NULL;

	if (!ino)
		return -ENOENT;
	pthread_mutex_lock(&sha_lock);
	/* the version last hashed: what the process ran, unless the file
	 * was rewritten in place after that */
	for (int i = 0; i < SHA_WAYS; i++)
		if (set[i].age && set[i].dev == st.st_dev &&
		    set[i].ino == st.st_ino &&
		    (!best || set[i].age > best->age))
			best = &set[i];
	if (best)
		memcpy(out, best->hex, 65);
	pthread_mutex_unlock(&sha_lock);
	return best ? 0 : -ENOENT;
}

void proc_sha_cache_stats(__u64 *hits, __u64 *misses)
{
	pthread_mutex_lock(&sha_lock);
	*hits = sha_hits;
	*misses = sha_misses;
	pthread_mutex_unlock(&sha_lock);
}

static void sha_insert(const struct stat *st, const char hex[65])
{
	struct sha_entry *set = sha_set(st), *victim = &set[0];

	pthread_mutex_lock(&sha_lock);
	/* an older version of the same file goes first, then the LRU way */
	for (int i = 0; i < SHA_WAYS; i++) {
		if (set[i].age && set[i].dev == st->st_dev &&
		    set[i].ino == st->st_ino) {
			victim = &set[i];
			break;
		}
		if (set[i].age < victim->age)
			victim = &set[i];
	}
	victim->dev = st->st_dev;
	victim->ino = st->st_ino;
	victim->size = st->st_size;
	victim->mtime = st->st_mtim;
	victim->ctime = st->st_ctim;
	victim->age = ++sha_tick;
	memcpy(victim->hex, hex, 65);
	pthread_mutex_unlock(&sha_lock);
}


static int digest_fd(int fd, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[32768];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int err = 0;
	ssize_t n;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -EIO;
		goto cleanup;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (!EVP_DigestUpdate(ctx, buf, n)) {
			err = -EIO;
			goto cleanup;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) {
		err = -EIO;
		goto cleanup;
	}
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
cleanup:
	EVP_MD_CTX_free(ctx);
	return err;
}

/* Hash of the open file whose fstat() is st, through the cache. */
static int sha256_fd(int fd, const struct stat *st, char out[65])
{
	struct stat after;
	char hex[65];
	int err;

	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (sha_lookup(st, out))
		return 0;
	err = digest_fd(fd, hex);
	if (err)
		return err;
	/* written to while we read: the digest matches no version */
	if (fstat(fd, &after))
		return -errno;
	if (after.st_size != st->st_size ||
	    after.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
		return -EAGAIN;
	sha_insert(st, hex);
	memcpy(out, hex, 65);
	return 0;
}

int file_sha256(const char *path, char out[65])
{
	struct stat st;
	int fd, err;

	/* O_NONBLOCK: a FIFO at path must not hang us; no effect on files */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = fstat(fd, &st) ? -errno : sha256_fd(fd, &st, out);
	close(fd);
	return err;
}

static void user_name(uid_t uid, char *out, size_t len)
{
	struct user_entry *e = &user_cache[uid % USER_CACHE];
	struct passwd pw, *res = NULL;
	char buf[16384];

	pthread_mutex_lock(&user_lock);
	if (e->used && e->uid == uid) {
		snprintf(out, len, "%s", e->name);
		pthread_mutex_unlock(&user_lock);
		return;
	}
	pthread_mutex_unlock(&user_lock);

	/* unknown uids are not cached: the user may be created later */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res) {
		snprintf(out, len, "%u", (unsigned int)uid);
		return;
	}
	snprintf(out, len, "%s", res->pw_name);
	pthread_mutex_lock(&user_lock);
	e->uid = uid;
	e->used = true;
	snprintf(e->name, sizeof(e->name), "%s", res->pw_name);
	pthread_mutex_unlock(&user_lock);
}

/* Reads a /proc/PID file; a vanished process becomes -ESRCH. Returns the
 * number of bytes, NUL-terminated in buf. */
/* more (may be NULL): set when the file held more than cap - 1 bytes */
static ssize_t read_pidfile(pid_t pid, const char *name, char *buf, size_t cap,
			    bool *more)
{
	char path[PATH_MAX + 64];
	ssize_t n, got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", proc_root, (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((size_t)got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				got = errno == ENOENT ? -ESRCH : -errno;
			break;
		}
		got += n;
	}
	if (more) {
		char c;

		*more = (size_t)got == cap - 1 && read(fd, &c, 1) == 1;
	}
	close(fd);
	if (got >= 0)
		buf[got] = '\0';
	return got;
}

static int read_status(pid_t pid, pid_t *ppid, uid_t *uid, bool *zombie)
{
	char buf[4096], *p;
	ssize_t n;

	n = read_pidfile(pid, "status", buf, sizeof(buf), NULL);
	if (n < 0)
		return n;
	p = strstr(buf, "\nPPid:");
	if (!p || sscanf(p + 6, "%d", ppid) != 1)
		return -EINVAL;
	p = strstr(buf, "\nUid:");
	if (uid && (!p || sscanf(p + 5, "%u", uid) != 1))
		return -EINVAL;
	p = strstr(buf, "\nState:\t");
	if (zombie)
		*zombie = p && (p[8] == 'Z' || p[8] == 'X');
	return 0;
}

/* The exe link names the binary even after a rename of comm; the kernel
 * appends " (deleted)" once the file is unlinked. */
static int read_exe(pid_t pid, char *out, size_t len, bool *deleted)
{
	char link[PATH_MAX + 64];
	struct stat a, b;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%d/exe", proc_root, (int)pid);
	n = readlink(link, out, len - 1);
	if (n < 0) {
		out[0] = '\0';
		return errno == ENOENT ? -ESRCH : -errno;
	}
	out[n] = '\0';
	*deleted = false;
	if ((size_t)n < DELETED_LEN || strcmp(out + n - DELETED_LEN, DELETED))
		return 0;
	/* a file really named "x (deleted)" is still on disk */
	if (stat(out, &a) == 0 && stat(link, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	out[n - DELETED_LEN] = '\0';
	*deleted = true;
	return 0;
}

/* Parents from ppid upwards; a parent already gone ends the chain with an
 * entry whose exe is empty. */
static void read_parents(pid_t ppid, struct proc_info *out)
{
	pid_t p = ppid, next;
	bool deleted;

	while (p > 0 && out->nr_parents < PROC_MAX_PARENTS) {
		struct proc_parent *pp = &out->parents[out->nr_parents++];

		pp->pid = p;
		read_exe(p, pp->exe, sizeof(pp->exe), &deleted);
		if (p == 1 || read_status(p, &next, NULL, NULL) || next == p)
			break;
		p = next;
	}
}

/* Container and unit from the v2 path. On hybrid hosts runtimes with the
 * cgroupfs driver leave the v2 path at the shim's ("/docker/<id>" exists in
 * v1 only), so a label missing there is looked for in name=systemd. */
static void cgroup_labels(struct proc_info *out, const char *text)
{
	char v1[PATH_MAX];

	cgroup_container_id(out->cgroup, out->container,
			    sizeof(out->container));
	cgroup_systemd_unit(out->cgroup, out->unit, sizeof(out->unit));
	if (!text || cgroup_parse(text, "name=systemd", v1, sizeof(v1)))
		return;
	if (!out->container[0])
		cgroup_container_id(v1, out->container,
				    sizeof(out->container));
	if (!out->unit[0])
		cgroup_systemd_unit(v1, out->unit, sizeof(out->unit));
}

/* argv as NUL-separated bytes -> one line joined by spaces */
static void join_args(char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[n] = '\0';
}

/* no credential of a command line goes further than this: each is
 * replaced by its display form, and kept (named, never its value) for
 * the credential records */
static void redact(struct proc_info *out)
{
	out->nr_cmdline_keys = keys_redact(out->cmdline, sizeof(out->cmdline),
					   out->cmdline_keys,
					   PROC_MAX_CMDLINE_KEYS);
}

int proc_wchan(pid_t pid, char *buf, size_t len)
{
	ssize_t n = read_pidfile(pid, "wchan", buf, len, NULL);

	if (n < 0) {
		buf[0] = '\0';
		return (int)n;
	}
	if (!strcmp(buf, "0")) /* running, or not waiting in the kernel */
		buf[0] = '\0';
	return 0;
}

int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char buf[1024], *p;
	ssize_t n = read_pidfile(pid, "stat", buf, sizeof(buf), NULL);

	if (n <= 0)
		return -ESRCH;
	/* the comm (field 2) may hold spaces and ')': after its last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	if (state)
		*state = p[2];
	/* field 22; p is at the end of field 2 */
	for (int f = 2; p && f < 22; f++)
		p = strchr(p + 1, ' ');
	if (start)
		*start = p ? strtoull(p + 1, NULL, 10) : 0;
	return 0;
}

int proc_read(pid_t pid, struct proc_info *out)
{
	char path[PATH_MAX + 64], text[8192];
	bool zombie;
	ssize_t n;
	int err;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (pid <= 0)
		return -EINVAL;
	err = read_status(pid, &out->ppid, &out->uid, &zombie);
	if (err)
		return err;
	if (zombie)
		return -ESRCH;
	user_name(out->uid, out->user, sizeof(out->user));

	n = read_pidfile(pid, "comm", text, sizeof(out->comm) + 1, NULL);
	if (n > 0) {
		n = strcspn(text, "\n");
		if ((size_t)n >= sizeof(out->comm))
			n = sizeof(out->comm) - 1;
		memcpy(out->comm, text, n);
	}
	/* kernel threads have no exe; other users' need CAP_SYS_PTRACE */
	if (read_exe(pid, out->exe, sizeof(out->exe), &out->exe_deleted) == 0) {
		snprintf(path, sizeof(path), "%s/%d/exe", proc_root, (int)pid);
		file_sha256(path, out->sha256);
	}
	n = read_pidfile(pid, "cmdline", out->cmdline, sizeof(out->cmdline),
			 &out->cmdline_truncated);
	if (n > 0 && out->cmdline_truncated)
		n = utf8_cut(out->cmdline, n); /* not inside a character */
	if (n > 0)
		join_args(out->cmdline, n);
	redact(out);
	if (read_pidfile(pid, "cgroup", text, sizeof(text), NULL) >= 0) {
		cgroup_parse(text, "", out->cgroup, sizeof(out->cgroup));
		cgroup_labels(out, text);
	}
	read_parents(out->ppid, out);
	return 0;
}

int proc_from_snapshot(pid_t pid, const struct rw_proc *snap,
		       struct proc_info *out)
{
	size_t n;
	struct stat st;
	int fd;

	memset(out, 0, sizeof(*out));
	if (!snap)
		return -EINVAL;
	out->pid = pid;
	out->ppid = snap->ppid;
	out->uid = snap->uid;
	out->from_snapshot = true;
	user_name(out->uid, out->user, sizeof(out->user));
	n = strnlen(snap->comm, sizeof(snap->comm));
	n = n < sizeof(out->comm) ? n : sizeof(out->comm) - 1;
	memcpy(out->comm, snap->comm, n);
	n = strnlen(snap->exe, sizeof(snap->exe));
	/* the kernel's copy is as long as it holds: the path went on */
	out->exe_truncated = n >= sizeof(snap->exe) - 1;
	if (out->exe_truncated)
		n = utf8_cut(snap->exe, n);
	memcpy(out->exe, snap->exe, n);
	out->exe[n] = 0;
	out->exe_relative = n && out->exe[0] != '/';
	n = snap->args_len < RW_ARGS_LEN ? snap->args_len : RW_ARGS_LEN;
	out->cmdline_truncated = n == RW_ARGS_LEN;
	if (out->cmdline_truncated)
		n = utf8_cut(snap->args, n);
	memcpy(out->cmdline, snap->args, n);
	join_args(out->cmdline, n);
	redact(out);

	/* a relative exe was resolved against a cwd we do not know; a
	 * truncated one names no file (not a deleted one) */
	if (out->exe[0] == '/' && !out->exe_truncated) {
		fd = open(out->exe,
			  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			out->exe_deleted = errno == ENOENT;
		} else {
			if (snap->exe_ino && fstat(fd, &st) == 0 &&
			    st.st_ino == snap->exe_ino &&
			    dev_to_kernel(st.st_dev) == snap->exe_dev) {
				char real[PATH_MAX];

				sha256_fd(fd, &st, out->sha256);
				/* the path as exec'd may go through links
				 * (/bin -> usr/bin): report it as /proc would */
				if (realpath(out->exe, real))
					memcpy(out->exe, real, sizeof(real));
			}
			close(fd);
		}
	}
	/* deleted or replaced since: the hash taken while it ran */
	if (!out->sha256[0])
		proc_sha_by_inode(snap->exe_dev, snap->exe_ino, out->sha256);
	if (snap->cgroup_id &&
	    cgroup_path_by_id(snap->cgroup_id, out->cgroup,
			      sizeof(out->cgroup)) == 0)
		cgroup_labels(out, NULL);
	read_parents(out->ppid, out);
	return 0;
}
