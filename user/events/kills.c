// SPDX-License-Identifier: MIT
/*
 * The kills the kernel could not deliver at syscall exit (io_uring
 * workers never return to user space): each held by a pidfd, delivered
 * here after a short grace period unless the kernel's kill record came
 * first; and a kill by pid for existing connections. Split from
 * session.c.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "session.h"
#include "session_impl.h"
#include "sockscan.h"
#include "log.h"
#include "proc.h"
#include "record.h"
#include "util.h"

#define KILL_GRACE_NS (100 * 1000000ULL)

struct pending_kill {
	__u32 tgid;
	int pidfd;
	int rule;
	unsigned gen;
	__u64 deadline;
	char comm[RW_COMM_LEN + 1];
};

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_kill(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

int session_kill_now(pid_t pid)
{
	int fd = pidfd_open(pid), ret;

	if (fd < 0)
		return -errno;
	ret = pidfd_kill(fd) ? -errno : 0;
	close(fd);
	return ret;
}

/* a zombie counts as gone: it was killed, it just was not reaped */
static bool alive(pid_t pid)
{
	char state;

	return !proc_stat(pid, &state, NULL) && state != 'Z' && state != 'X';
}

void session_queue_kill(struct session *s, __u32 tgid, unsigned gen, int rule,
		       const char *comm)
{
	struct pending_kill *k;
	int fd = pidfd_open(tgid);

	if (fd < 0)
		return; /* already gone: the kernel's kill got there first */
	if (GROW(s->kills, s->cap_kills, s->nr_kills, 16)) {
		pidfd_kill(fd); /* cannot wait: act now */
		close(fd);
		return;
	}
	k = &s->kills[s->nr_kills++];
	k->tgid = tgid;
	k->pidfd = fd;
	k->rule = rule;
	k->gen = gen;
	k->deadline = mono_ns() + KILL_GRACE_NS;
	snprintf(k->comm, sizeof(k->comm), "%s", comm);
}

static void drop_kill(struct session *s, size_t i)
{
	close(s->kills[i].pidfd);
	s->kills[i] = s->kills[--s->nr_kills];
}

void session_kernel_killed(struct session *s, __u32 tgid)
{
	for (size_t i = 0; i < s->nr_kills; i++)
		if (s->kills[i].tgid == tgid) {
			drop_kill(s, i);
			return;
		}
}

void session_fallback_kills(struct session *s, bool all)
{
	__u64 now = mono_ns();

	for (size_t i = 0; i < s->nr_kills;) {
		struct pending_kill *k = &s->kills[i];

		if (!all && k->deadline > now) {
			i++;
			continue;
		}
		if (alive(k->tgid)) {
			struct rw_proc snap;
			/* named while it lives: its record carries the
			 * binary like any other */
			struct proc_info *pi = session_attribute(k->tgid,
				session_snapshot(s->l, k->tgid, 0, now,
						 &snap) == 0 ? &snap : NULL);

			if (pidfd_kill(k->pidfd) == 0) {
				s->user_kills++;
				record_kill(&s->out, 0, k->tgid, k->tgid,
					    k->comm, k->gen, k->rule,
					    "userspace", -1, pi);
			}
		}
		drop_kill(s, i);
	}
}

void session_drop_kills(struct session *s)
{
	while (s->nr_kills)
		drop_kill(s, 0);
	free(s->kills);
	s->kills = NULL;
}

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/*
 * The socket found in pid's file table by its cookie (each socket
 * duplicated with pidfd_getfd, Linux 5.6, and asked SO_COOKIE), and
 * disconnected: connect(AF_UNSPEC) sends the peer a RST and fails the
 * owner's calls with ECONNRESET. 0, or -errno (-ENOENT: not there).
 */
static int reset_in(pid_t pid, __u64 cookie)
{
	int pidfd = pidfd_open(pid), ret = -ENOENT;
	char path[64];
	struct dirent *de;
	DIR *d;

	if (pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && ret == -ENOENT && (de = readdir(d))) {
		char link[32] = "";
		__u64 ck = 0;
		socklen_t len = sizeof(ck);
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1) < 7 ||
		    strncmp(link, "socket:", 7))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		if (fd < 0)
			continue;
		if (!getsockopt(fd, SOL_SOCKET, SO_COOKIE, &ck, &len) &&
		    ck == cookie) {
			struct sockaddr sa = { .sa_family = AF_UNSPEC };

			ret = connect(fd, &sa, sizeof(sa)) ? -errno : 0;
		}
		close(fd);
	}
	if (d)
		closedir(d);
	close(pidfd);
	return ret;
}

/*
 * A deny at a flow's first bytes: the kernel drops its packets, and here
 * the socket is destroyed (SOCK_DESTROY by its 4-tuple and cookie, as the
 * kernel reported them), so the peer gets a RST and the caller's next
 * call fails with ECONNABORTED instead of waiting for its timeout. Where
 * SOCK_DESTROY cannot (no inet_diag module loaded, as in a bare initramfs;
 * CONFIG_INET_DIAG_DESTROY off) the socket is disconnected in the file
 * table of the process that sent, or connected: ECONNRESET.
 */
void session_reset(struct session *s, const struct rw_name_event *e)
{
	struct sock_entry se = {
		.family = e->sfamily,
		.proto = IPPROTO_TCP,
		.sport = e->sport,
		.dport = e->dport,
		.ifindex = e->ifindex,
		.cookie = e->cookie,
	};
	int ret;

	memcpy(se.saddr, e->saddr, 16);
	if (e->sfamily == AF_INET6 && e->family == AF_INET) {
		/* a v4-mapped destination of an IPv6 socket */
		se.daddr[10] = se.daddr[11] = 0xff;
		memcpy(se.daddr + 12, e->daddr, 4);
	} else {
		memcpy(se.daddr, e->daddr, 16);
	}
	/* for tests: RELAYWATCH_NO_SOCK_DESTROY=1 acts as a kernel without */
	ret = getenv("RELAYWATCH_NO_SOCK_DESTROY") ? -EOPNOTSUPP :
						     sockscan_destroy(&se);
	if (ret && ret != -EPERM) {
		int r2 = reset_in(e->tgid, e->cookie);

		if (r2 == -ENOENT && e->connector)
			r2 = reset_in(e->connector, e->cookie);
		if (!r2 || ret == -EOPNOTSUPP || r2 != -ENOENT)
			ret = r2;
	}
	if (!ret) {
		s->resets++;
		return;
	}
	s->reset_failed++;
	/* gone already (closed, or reset by a peer): nothing is waiting */
	if (ret != -ENOENT)
		pr_warn("cannot reset a denied flow of pid %u (its packets are "
			"dropped; it fails at its own timeout): %s", e->tgid,
			ret == -EOPNOTSUPP ? "this kernel lacks SOCK_DESTROY "
			"(CONFIG_INET_DIAG_DESTROY)" : strerror(-ret));
}
