/* SPDX-License-Identifier: MIT */
/* Start-up scan of connections that were open before the daemon attached:
 * TCP (established, SYN_SENT) and connected UDP sockets, IPv4 and IPv6, from
 * NETLINK_SOCK_DIAG, each with the pid that owns it (from /proc/PID/fd). */
#ifndef RW_SOCKSCAN_H
#define RW_SOCKSCAN_H

#include <linux/types.h>
#include <sys/types.h>

struct sock_entry {
	/* AF_INET / AF_INET6 (v4-mapped v6 stays AF_INET6 here; caller maps) */
	int family;
	int proto;         /* IPPROTO_TCP / IPPROTO_UDP */
	/* network order, v4 in the first 4 bytes */
	__u8 saddr[16], daddr[16];
	__u16 sport, dport;          /* host order */
	__u8 state;        /* TCP state as inet_diag reports it */
	__u8 inbound;      /* TCP: sport is a local listener's (accepted) */
	__u32 ifindex;     /* bound device, 0 if none; needed to destroy */
	__u64 inode;
	__u64 cookie;      /* idiag_cookie[0] | (__u64)idiag_cookie[1] << 32 */
	pid_t pid;         /* owner, 0 if not found (e.g. already closed) */
	int nr_owners;     /* distinct processes holding it, pid's included */
};

/* Callback per socket; return non-zero to stop. Returns 0 or -errno. */
typedef int (*sockscan_cb)(const struct sock_entry *e, void *ctx);

/* Dumps all sockets first, then resolves owners, then calls cb for each, so
 * cb may kill or destroy freely. A negative cb return stops the walk and is
 * returned; a positive one stops it and 0 is returned. Failures are logged
 * (pr_warn) with the step that failed; a kernel without udp_diag only loses
 * the UDP part, with a warning. */
int sockscan_all(sockscan_cb cb, void *ctx);

/* SOCK_DESTROY the socket (by its 4-tuple and cookie); 0, -EOPNOTSUPP if the
 * kernel lacks it (CONFIG_INET_DIAG_DESTROY), or -errno (-ENOENT: gone, or
 * the tuple now belongs to a socket with another cookie; -EPERM: needs
 * CAP_NET_ADMIN). TCP peers get a RST; the owner's next call fails with
 * ECONNABORTED. */
int sockscan_destroy(const struct sock_entry *e);

#endif
