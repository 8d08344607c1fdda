// SPDX-License-Identifier: MIT
/*
 * Start-up socket scan: inet_diag dumps over NETLINK_SOCK_DIAG, then one pass
 * over /proc/PID/fd to attribute each socket inode to its owner(s). Sockets
 * opened after the dump are the BPF hooks' business, not ours.
 *
 * Order matters: dumping first and reading /proc second means a socket that
 * closes in between is reported without an owner (pid 0), never with a pid
 * that has since been reused by an unrelated process's socket.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "log.h"
#include "sockscan.h"
#include "util.h"

#define TCPF(state) (1U << (state))
/* the kernel never builds a dump skb larger than 32 KiB */
#define NL_BUFSZ 32768

struct listener {
	int family;
	__u8 addr[16];
	__u16 port;
};

struct scan {
	struct sock_entry *ents;
	size_t nr_ents, cap_ents;
	struct listener *lsns;
	size_t nr_lsns, cap_lsns;
	int proto; /* of the dump in progress */
};

/* The inode -> owner table: one slot per dumped socket, sorted by inode so
 * each /proc/PID/fd link is a binary search. It holds only the sockets we
 * report, not every socket on the host. last is the pid that counted it most
 * recently. */
struct owner_ref {
	struct sock_entry *e;
	pid_t last;
};

typedef int (*nl_msg_fn)(const struct nlmsghdr *nlh, void *ctx);

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*v, ncap, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

static int is_zero(const __u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

static int nl_open(void)
{
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	return fd < 0 ? -errno : fd;
}

static int nl_send(int fd, __u16 type, __u16 flags, __u32 seq,
		   const struct inet_diag_req_v2 *req)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(msg.req));
	msg.nlh.nlmsg_type = type;
	msg.nlh.nlmsg_flags = flags;
	msg.nlh.nlmsg_seq = seq;
	msg.req = *req;
	if (sendto(fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* Reads replies to seq until DONE or an error/ack; fn sees the rest. */
static int nl_recv(int fd, __u32 seq, nl_msg_fn fn, void *ctx)
{
	char buf[NL_BUFSZ] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct sockaddr_nl sa;
	struct msghdr mh = {
		.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1,
	};
	const struct nlmsghdr *nlh;
	ssize_t n;
	int err;

	for (;;) {
		/* recvmsg writes it back: reset it on every read */
		mh.msg_namelen = sizeof(sa);
		n = recvmsg(fd, &mh, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (n == 0)
			return -EPROTO;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			/* only the kernel (port 0), only our request */
			if (sa.nl_pid || nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				/* a dump that failed part-way says why here */
				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					return *(const int *)NLMSG_DATA(nlh);
				return 0;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error; /* -errno, or 0 for an ack */
			}
			if (fn && (err = fn(nlh, ctx)))
				return err;
		}
	}
}

static int add_listener(struct scan *s, const struct inet_diag_msg *m)
{
	struct listener *l;
	int err;

	err = grow((void **)&s->lsns, &s->cap_lsns, s->nr_lsns, sizeof(*l));
	if (err)
		return err;
	l = &s->lsns[s->nr_lsns++];
	memset(l, 0, sizeof(*l));
	l->family = m->idiag_family;
	l->port = ntohs(m->id.idiag_sport);
	memcpy(l->addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	return 0;
}

static int on_diag(const struct nlmsghdr *nlh, void *ctx)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	struct scan *s = ctx;
	struct sock_entry *e;
	size_t alen;
	int err;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return 0;
	if (m->idiag_state == TCP_LISTEN)
		return add_listener(s, m);
	alen = m->idiag_family == AF_INET ? 4 : 16;
	/* belt and braces: the state filter already drops unconnected UDP */
	if (!m->id.idiag_dport ||
	    is_zero((const __u8 *)m->id.idiag_dst, alen))
		return 0;

	err = grow((void **)&s->ents, &s->cap_ents, s->nr_ents, sizeof(*e));
	if (err)
		return err;
	e = &s->ents[s->nr_ents++];
	memset(e, 0, sizeof(*e));
	e->family = m->idiag_family;
	e->proto = s->proto;
	memcpy(e->saddr, m->id.idiag_src, alen);
	memcpy(e->daddr, m->id.idiag_dst, alen);
	e->sport = ntohs(m->id.idiag_sport);
	e->dport = ntohs(m->id.idiag_dport);
	e->state = m->idiag_state;
	/* SO_BINDTODEVICE sockets: destroy's lookup needs the device */
	e->ifindex = m->id.idiag_if;
	e->inode = m->idiag_inode;
	e->cookie = m->id.idiag_cookie[0] |
		    (__u64)m->id.idiag_cookie[1] << 32;
	return 0;
}

static int dump(int fd, struct scan *s, int family, int proto, __u32 seq)
{
	/* Connected UDP sockets are TCP_ESTABLISHED, unconnected TCP_CLOSE.
	 * Listeners are dumped only to tell accepted sockets apart. */
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = proto,
		.idiag_states = proto == IPPROTO_TCP ?
			TCPF(TCP_ESTABLISHED) | TCPF(TCP_SYN_SENT) |
			TCPF(TCP_LISTEN) : TCPF(TCP_ESTABLISHED),
	};
	int err;

	s->proto = proto;
	err = nl_send(fd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP,
		      seq, &req);
	return err ?: nl_recv(fd, seq, on_diag, s);
}

static int cmp_listener(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;

	return (int)x->port - (int)y->port;
}

/* An accepted TCP socket shares its local port with a listener (wildcard or
 * same address); flag it so the caller can tell it from an outgoing one. */
static void mark_inbound(struct scan *s)
{
	size_t i, lo, hi, mid;

	qsort(s->lsns, s->nr_lsns, sizeof(*s->lsns), cmp_listener);
	for (i = 0; i < s->nr_ents; i++) {
		struct sock_entry *e = &s->ents[i];

		if (e->proto != IPPROTO_TCP)
			continue;
		for (lo = 0, hi = s->nr_lsns; lo < hi;) {
			mid = lo + (hi - lo) / 2;
			if (s->lsns[mid].port < e->sport)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < s->nr_lsns && s->lsns[lo].port == e->sport; lo++) {
			const struct listener *l = &s->lsns[lo];

			if (l->family == e->family &&
			    (is_zero(l->addr, 16) ||
			     !memcmp(l->addr, e->saddr, 16))) {
				e->inbound = 1;
				break;
			}
		}
	}
}

static int cmp_ref(const void *a, const void *b)
{
	__u64 x = ((const struct owner_ref *)a)->e->inode;
	__u64 y = ((const struct owner_ref *)b)->e->inode;

	return (x > y) - (x < y);
}

static void attribute(struct owner_ref *refs, size_t n, __u64 ino, pid_t pid)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (refs[mid].e->inode < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && refs[lo].e->inode == ino; lo++) {
		struct owner_ref *r = &refs[lo];

		/* several fds of one process count once */
		if (r->last == pid)
			continue;
		r->last = pid;
		if (!r->e->pid)
			r->e->pid = pid;
		r->e->nr_owners++;
	}
}

static void scan_fds(int procfd, pid_t pid, struct owner_ref *refs, size_t n)
{
	char path[64], link[64], *end;
	unsigned long long ino;
	struct dirent *de;
	ssize_t len;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "%d/fd", (int)pid);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return; /* exited meanwhile, or a kernel thread */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (len < 10 || memcmp(link, "socket:[", 8))
			continue;
		link[len] = '\0';
		ino = strtoull(link + 8, &end, 10);
		if (*end == ']')
			attribute(refs, n, ino, pid);
	}
	closedir(d);
}

static int resolve_owners(struct scan *s)
{
	struct owner_ref *refs;
	struct dirent *de;
	size_t i, n = 0;
	DIR *proc;
	char *end;
	long pid;
	int err = 0;

	if (!s->nr_ents)
		return 0;
	refs = calloc(s->nr_ents, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	/* inode 0: orphaned by its process, nobody to find in /proc */
	for (i = 0; i < s->nr_ents; i++)
		if (s->ents[i].inode)
			refs[n++].e = &s->ents[i];
	qsort(refs, n, sizeof(*refs), cmp_ref);

	proc = opendir("/proc");
	if (!proc) {
		err = -errno;
		pr_warn("failed to open /proc: %s", strerror(-err));
		goto cleanup;
	}
	/* /proc lists thread-group leaders only: threads share their fds */
	while ((de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		scan_fds(dirfd(proc), pid, refs, n);
	}
	closedir(proc);
cleanup:
	free(refs);
	return err;
}

int sockscan_all(sockscan_cb cb, void *ctx)
{
	static const struct {
		int family, proto;
		const char *name;
	} dumps[] = {
		{ AF_INET, IPPROTO_TCP, "tcp" },
		{ AF_INET6, IPPROTO_TCP, "tcp6" },
		{ AF_INET, IPPROTO_UDP, "udp" },
		{ AF_INET6, IPPROTO_UDP, "udp6" },
	};
	struct scan s = {};
	size_t i;
	int fd, err;

	fd = nl_open();
	if (fd < 0) {
		pr_warn("failed to open sock_diag netlink socket: %s",
			strerror(-fd));
		return fd;
	}
	for (i = 0; i < ARRAY_SIZE(dumps); i++) {
		err = dump(fd, &s, dumps[i].family, dumps[i].proto, i + 1);
		/* no udp_diag module: TCP is still worth reporting */
		if (err == -ENOENT && dumps[i].proto == IPPROTO_UDP) {
			pr_warn("%s sockets not scanned: kernel lacks %s",
				dumps[i].name, "CONFIG_INET_UDP_DIAG");
			err = 0;
		}
		if (err) {
			pr_warn("failed to dump %s sockets: %s", dumps[i].name,
				strerror(-err));
			goto cleanup;
		}
	}
	/* callbacks may destroy sockets: no dump may be in flight by then */
	close(fd);
	fd = -1;

	mark_inbound(&s);
	err = resolve_owners(&s);
	if (err)
		goto cleanup;
	for (i = 0; i < s.nr_ents; i++) {
		err = cb(&s.ents[i], ctx);
		if (err) {
			err = err < 0 ? err : 0;
			break;
		}
	}
cleanup:
	if (fd >= 0)
		close(fd);
	free(s.ents);
	free(s.lsns);
	return err;
}

int sockscan_destroy(const struct sock_entry *e)
{
	struct inet_diag_req_v2 req = {};
	size_t alen;
	int fd, err;

	if (!e || (e->family != AF_INET && e->family != AF_INET6) ||
	    (e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP))
		return -EINVAL;
	alen = e->family == AF_INET ? 4 : 16;
	req.sdiag_family = e->family;
	req.sdiag_protocol = e->proto;
	req.idiag_states = ~0U; /* the lookup is by tuple; states are unused */
	req.id.idiag_sport = htons(e->sport);
	req.id.idiag_dport = htons(e->dport);
	memcpy(req.id.idiag_src, e->saddr, alen);
	memcpy(req.id.idiag_dst, e->daddr, alen);
	req.id.idiag_if = e->ifindex;
	/* a reused 4-tuple carries another cookie: the kernel refuses it */
	req.id.idiag_cookie[0] = (__u32)e->cookie;
	req.id.idiag_cookie[1] = (__u32)(e->cookie >> 32);

	fd = nl_open();
	if (fd < 0)
		return fd;
	err = nl_send(fd, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, 1, &req);
	if (!err)
		err = nl_recv(fd, 1, NULL, NULL);
	close(fd);
	return err;
}
