/* SPDX-License-Identifier: MIT */
/*
 * The ABI shared by the BPF programs (bpf/) and the daemon (user/): event
 * records, map keys and values, limits. One definition, included by both
 * sides. Fixed-width fields only, explicit padding, a size assertion on
 * every record. Addresses are in network byte order; ports in host order
 * unless a field says otherwise.
 */
#ifndef RELAYWATCH_H
#define RELAYWATCH_H

#ifdef __BPF__
/* vmlinux.h already defines the __u* types */
#else
#include <linux/types.h>
#endif

#define RW_MAX_RULES 64      /* rule ids are bit positions in a __u64 mask */
#define RW_COMM_LEN 16       /* TASK_COMM_LEN */
#define RW_EXE_LEN 256       /* path passed to execve, truncated */
#define RW_ARGS_LEN 256      /* NUL-separated argv, truncated */
#define RW_RULE_NONE 0xff    /* no rule matched */
#define RW_RULE_UNDECIDED 0xfe /* first bytes that stayed unreadable: the
				* policy's `undecided` action */

/* Actions, in rising severity. Values are stable: never reuse one. */
enum rw_action {
	RW_ACT_NONE = 0,
	RW_ACT_ALLOW = 1,
	RW_ACT_ALERT = 2,
	RW_ACT_DENY = 3,
	RW_ACT_KILL = 4,
	RW_ACT__MAX = 5,
};

/* Event types: stable values, never reused. */
enum rw_event_type {
	RW_EV_CONNECT = 1, /* cgroup/connect4|6 matched a rule */
	RW_EV_SENDMSG = 2, /* cgroup/sendmsg4|6 matched a rule */
	RW_EV_EXEC = 3,    /* a tagged process called execve */
	RW_EV_EXIT = 4,    /* a tagged process exited */
	RW_EV_KILL = 5,    /* SIGKILL sent in-kernel at syscall exit */
	RW_EV_EXISTING = 6, /* userspace: connection open before start-up */
	RW_EV_DNS = 7,     /* a DNS answer for a listed name, as mapped */
	RW_EV_TLS = 8,     /* first bytes: ClientHello SNI matched a rule */
	RW_EV_HTTP = 9,    /* first bytes: HTTP Host matched a rule */
	RW_EV_PROXY = 10,  /* first bytes: CONNECT / SOCKS5 target matched */
	RW_EV_FLOW = 11,   /* a flow to a matched destination closed */
	RW_EV_ESCAPE = 12, /* a process moved out of the watched cgroup */
	RW_EV_KEY = 13,    /* a credential header in a matched flow's
			    * cleartext HTTP request (never written out) */
};

/* Indexes into the per-CPU counters array. Stable values. */
enum rw_counter {
	RW_CNT_MATCHED = 0,    /* connects/sends that matched a rule */
	RW_CNT_EMITTED = 1,    /* events written to the ring buffer */
	RW_CNT_SUPPRESSED = 2, /* matched, folded into a later event (dedup) */
	RW_CNT_RB_FULL = 3,    /* ring buffer full: a match's event lost */
	RW_CNT_ACT_ALLOW = 4,  /* decisions by action: RW_CNT_ACT_ALLOW + act - 1 */
	RW_CNT_ACT_ALERT = 5,
	RW_CNT_ACT_DENY = 6,
	RW_CNT_ACT_KILL = 7,
	RW_CNT_BLOCKED = 8,    /* calls that returned EPERM */
	RW_CNT_KILLS = 9,      /* SIGKILLs sent in-kernel */
	RW_CNT_RB_FULL_PROC = 10, /* ring buffer full: exec/exit/kill event lost */
	RW_CNT_DNS_MAPPED = 11,   /* addresses learned from DNS answers */
	RW_CNT_DNS_UNPARSED = 12, /* DNS responses the parser refused */
	RW_CNT_FLOW_UNPARSED = 13, /* first payloads with no name found */
	RW_CNT_DROPPED = 14,      /* packets dropped for a denied flow */
	RW_CNT_PENDING_LOST = 15, /* TCP flows whose pending slot was taken
				   * before their first bytes: not inspected */
	/* ring buffer full, by the lost event's type: + enum rw_event_type */
	RW_CNT_LOST_TYPE = 16,
	RW_CNT_DNS_TCP_LOST = 32, /* DNS over TCP: streams given up (a gap,
				   * joined mid-stream, no socket storage) */
	RW_CNT_DNS_TCP_BIG = 33,  /* DNS over TCP: answers longer than
				   * RW_DNS_TCP_MAX, passed over unread */
	RW_CNT_FLOW_HELD = 34,      /* first payloads held back: incomplete */
	RW_CNT_FLOW_UNDECIDED = 35, /* flows given the `undecided` action */
	RW_CNT__MAX = 40,
};
#define RW_CNT_LOST_TYPES 16  /* event types counted from RW_CNT_LOST_TYPE */

/* rw_net_event.flags */
#define RW_NF_ENFORCED 0x01  /* deny/kill took effect (enforce mode) */
#define RW_NF_MAPPED 0x02    /* IPv4-mapped IPv6 destination, judged as v4 */
#define RW_NF_PROC 0x04      /* the process table had the caller */
#define RW_NF_DEADMAN 0x08   /* an alert denied: no daemon reads (meta) */
#define RW_NF_UNDECIDED 0x10 /* first bytes unreadable: `undecided` decided */
#define RW_NF_SENDER 0x20    /* the sender is not the connector */

/* Every record starts with this header so the reader can dispatch. */
struct rw_event_hdr {
	__u16 type;  /* enum rw_event_type */
	__u16 size;  /* sizeof the whole record */
	__u32 cpu;
	__u64 ktime; /* bpf_ktime_get_boot_ns() */
};
_Static_assert(sizeof(struct rw_event_hdr) == 16, "rw_event_hdr size");

/*
 * Process table entry, keyed by tgid. Written at exec (and copied at fork)
 * by the tracepoints, and by the daemon at start-up for processes that
 * already existed. A tagged process's entry outlives it until the daemon
 * has read its events and its exit; others are removed at exit. exe_ino/exe_dev identify the binary for exe rules;
 * exe_dev uses the kernel's encoding (major << 20 | minor).
 */
struct rw_proc {
	__u32 ppid;
	__u32 uid;
	__u64 exec_ktime; /* boot-time ns of the exec, 0 if unknown */
	__u64 cgroup_id;
	__u64 exe_ino;
	__u32 exe_dev;
	__u16 args_len;   /* bytes used in args */
	__u16 pad;
	char comm[RW_COMM_LEN];
	char exe[RW_EXE_LEN];   /* as passed to execve; may be relative */
	char args[RW_ARGS_LEN]; /* argv, NUL-separated */
};
_Static_assert(sizeof(struct rw_proc) == 40 + RW_COMM_LEN + RW_EXE_LEN +
		       RW_ARGS_LEN, "rw_proc size");

/* connect/sendmsg that matched a rule */
struct rw_net_event {
	struct rw_event_hdr hdr;
	__u32 tgid;
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u64 cgroup_id;
	__u64 cookie;     /* socket cookie: same at connect and at egress */
	__u8 daddr[16];   /* network order; v4 in the first 4 bytes */
	__u16 dport;      /* host order */
	__u8 family;      /* AF_INET or AF_INET6 (of the socket) */
	__u8 proto;       /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 action;      /* enum rw_action of the rule */
	__u8 rule;        /* rule index, RW_RULE_NONE if none */
	__u8 flags;       /* RW_NF_* */
	__u8 gen;         /* policy generation that decided */
	__u32 suppressed; /* matches for this key folded since the last event */
	char comm[RW_COMM_LEN];
	__u32 pad2;
};
_Static_assert(sizeof(struct rw_net_event) == 96, "rw_net_event size");

/* exec or exit of a tagged process; SIGKILL delivered in-kernel */
struct rw_proc_event {
	struct rw_event_hdr hdr;
	__u32 tgid;
	__u32 tid;
	__u64 first_ktime; /* tag: first match */
	__u64 last_ktime;  /* tag: last match */
	__u64 matches;     /* tag: number of matches */
	__u32 actions;     /* tag: bit (1 << action) for each action seen */
	__s32 code;        /* exit: exit code; kill: syscall return value */
	__u32 syscall_nr;  /* kill: the syscall that was interrupted */
	__u8 rule;         /* kill: the kill rule */
	__u8 gen;          /* kill: the policy generation of that rule */
	__u8 pad[2];
	__u64 bytes;       /* exit: bytes its matched flows sent (closed ones) */
	char comm[RW_COMM_LEN];
	struct rw_proc proc; /* exec: the new image; exit: last known */
};
_Static_assert(sizeof(struct rw_proc_event) == 88 + sizeof(struct rw_proc),
	       "rw_proc_event size");

/* Per-process tag, keyed by tgid: which rules and actions it touched. */
struct rw_tag {
	__u64 first_ktime;
	__u64 last_ktime;
	__u64 matches;
	__u64 rules;   /* bit per rule index */
	__u32 actions; /* bit (1 << action) */
	__u32 pad;
	__u64 bytes;   /* sent by its matched flows, added as they close */
};

/*
 * Policies are double-buffered for atomic reload: every policy map is keyed
 * by a generation (0 or 1). The loader fills the idle generation completely,
 * then flips `active`; a program reads the generation once per call.
 */
#define RW_GENS 2
#define RW_RULE_DEFAULT RW_MAX_RULES /* event.rule when the default decided */
#define RW_RULE_QUIC (RW_MAX_RULES + 1) /* event.rule: `quic: deny-unnamed`
					 * denied UDP/443 to an unnamed address */
#define RW_CG_LEVELS 8  /* cgroup rules up to this depth (loader checks) */

/* Destination sets a rule can name; the destination must be in each one
 * the rule names (cidr list, intel category/provider, countries, names). */
enum rw_kind {
	RW_KIND_CIDR = 0,
	RW_KIND_INTEL = 1,
	RW_KIND_COUNTRY = 2,
	RW_KIND_DOMAIN = 3,  /* the name: from DNS answers, SNI, Host, proxies */
	RW_KIND__LPM = 3,    /* kinds kept in the address tries */
	RW_KIND__MAX = 4,
};

/* A rule as the kernel sees it; index = gen * RW_MAX_RULES + position. */
#define RW_RF_ENFORCE 0x01  /* deny/kill are carried out (else would_*) */
#define RW_RF_EXE 0x02      /* the process's binary must be in `exes` */
#define RW_RF_UID 0x04      /* uid must match */
#define RW_RF_OVERSEAS 0x08 /* public address outside the home countries */
#define RW_RF_DOMESTIC 0x10 /* address inside the home countries */
#define RW_RF_CGROUP 0x20   /* caller below cgroup_id (at cgroup_level) */
struct rw_rule {
	__u8 action;  /* enum rw_action */
	__u8 flags;   /* RW_RF_* */
	__u8 proto;   /* 0 = any, else IPPROTO_TCP / IPPROTO_UDP */
	__u8 kinds;   /* bit (1 << RW_KIND_*) per destination set named */
	__u16 port;   /* host order, 0 = any */
	__u16 cgroup_level;
	__u32 uid;
	__u32 pad;
	__u64 cgroup_id;
};
_Static_assert(sizeof(struct rw_rule) == 24, "rw_rule size");

/* Policy-wide settings, one entry per generation. */
#define RW_DNS_PORTS 8       /* dns_ports: at most this many */
#define RW_DNS_TCP_MAX 2048  /* DNS over TCP: longest answer reassembled */
struct rw_settings {
	__u64 any_mask;  /* rules naming no destination set: every address */
	__u64 dedup_ns;  /* fold repeats of (tgid, dest, rule) within this */
	__u32 nr_rules;
	__u8 has_kill;   /* an enforced kill rule: sys_exit hook attached */
	__u8 default_action;  /* when no rule matches; ALLOW = no event */
	__u8 default_enforce; /* the policy mode, for the default action */
	__u8 has_names;  /* rules that need names: look up DNS at connect */
	__u32 ttl_min;   /* clamp of DNS answer TTLs, seconds */
	__u32 ttl_max;
	__u8 has_cgroup; /* cgroup rules: read the caller's ancestors */
	__u8 has_exe;    /* exe/sha256 rules: look the binary up */
	__u8 has_geo;    /* country or overseas rules: find the country */
	__u8 pad;
	__u32 geo_n4;    /* entries of the country tables (geo4, geo6) */
	__u32 geo_n6;
	__u8 quic;       /* RW_QUIC_*: UDP to port 443 of an address no DNS
			  * answer named (QUIC: no SNI to read) */
	__u8 pad2[3];
	__u64 deadman_ns; /* on_daemon_loss: deny-alerts once no daemon has
			   * read the ring for this long (rw_meta.heartbeat);
			   * 0 = keep */
	__u16 dns_ports[RW_DNS_PORTS]; /* dns_ports: answers from these
					* source ports (UDP and TCP) are
					* parsed; 0 = unused entry */
	__u8 undecided;   /* action for first bytes that stay unreadable */
	__u8 pad3[7];
};

#define RW_QUIC_ALLOW 0         /* judged like any other UDP */
#define RW_QUIC_DENY_UNNAMED 1  /* denied (would_deny in monitor mode)
				 * unless a rule allows or denies it */

/* LPM keys: the generation is the first byte of the matched data, so a
 * key's prefixlen is 8 + the address prefix length. */
struct rw_lpm4 {
	__u32 prefixlen;
	__u8 gen;
	__u8 addr[4];
	__u8 pad[3];
};
struct rw_lpm6 {
	__u32 prefixlen;
	__u8 gen;
	__u8 addr[16];
	__u8 pad[3];
};

/* Value of the address tries: per kind, the mask of rules whose set holds
 * the prefix (and every prefix that encloses it; the country kind stays
 * 0: countries are in the country table below), and RW_SPECIAL when a
 * special range holds it. Special ranges are written only when a rule
 * asks about overseas/domestic. */
struct rw_dest {
	__u64 kind[RW_KIND__LPM];
	__u8 home;      /* RW_SPECIAL or 0 */
	__u8 pad[7];
};
#define RW_HOME 1     /* in a home country (rw_cc.home) */
#define RW_SPECIAL 2  /* private, loopback, link-local, CGNAT, ...: never overseas */

/*
 * The country table, written once at start-up (it changes only with the
 * binary or --rir): the ranges of the address space in order, each from
 * its start to the next one's, as the geo4/geo6 arrays; the programs find
 * an address's range by binary search. Per generation, ccrules[gen *
 * RW_NR_CC + cc] holds what the policy makes of country cc: the country
 * rules naming it and whether it is a home country. A country rule of
 * the largest countries costs no prefix in the tries.
 */
#define RW_NR_CC (26 * 26 + 1) /* 0 unknown, 1 + (c0 - 'A') * 26 + (c1 - 'A') */
#define RW_GEO_STEPS 32        /* binary search steps: 2^32 entries */

/* how the egress hook may ask who sends (its cfg_sender, set by the
 * loader's probe): RW_SENDER_PID bpf_get_current_pid_tgid (cgroup_skb from
 * Linux 6.10), RW_SENDER_TASK bpf_get_current_task and a read of its tgid
 * (earlier kernels offer these to every program of a CAP_PERFMON loader),
 * or 0 */
#define RW_SENDER_PID 1
#define RW_SENDER_TASK 2
struct rw_geo4 {
	__u32 start;   /* host order */
	__u16 cc;
	__u16 pad;
};
struct rw_geo6 {
	__u64 hi, lo;  /* the start's two halves, host order */
	__u16 cc;
	__u16 pad[3];
};
struct rw_cc {
	__u64 rules;   /* country rules naming it */
	__u8 home;     /* RW_HOME for a home country, else 0 */
	__u8 pad[7];
};

/* A binary exe rules accept: (inode, device) -> mask of rules. */
struct rw_exe_key {
	__u64 ino;
	__u32 dev;  /* kernel encoding: major << 20 | minor */
	__u32 gen;
};

/*
 * Names (domain rules, and the intelligence's names for category/provider
 * rules), keyed by the hashes of bpf/wire.h: an exact name by its FNV-1a
 * hash, a "*.suffix" by the suffix key of its label count. `check` is a
 * second, independent hash of the same text (wire_chk), so a colliding
 * key alone never decides.
 */
#define RW_NAME_LEN 128     /* name bytes carried in events */
#define RW_SFX_MAX 4        /* a wildcard suffix has at most 4 labels */
struct rw_name_key {
	__u64 h;
	__u32 gen;
	__u32 wild;  /* 0 exact, else the suffix's label count */
};
struct rw_name_val {
	__u64 kind[2];  /* [0] rules naming it (domain:), [1] via intel */
	__u64 check;    /* wire_chk over the text */
	__u32 len;      /* length of the text */
	__u32 pad;
};

/* An address learned from a DNS answer: per process (tgid) and host-wide
 * (tgid 0). The name is kept, not the verdict, so a reload re-judges it;
 * the verdict is cached per generation. */
struct rw_dns_key {
	__u8 addr[16];
	__u32 tgid;
	__u32 family;
};
struct rw_dns_val {
	__u64 expires;      /* boot-time ns */
	__u64 hash;         /* wire_name.hash */
	__u64 sfx[RW_SFX_MAX];
	__u64 cache[2];     /* name masks (see rw_name_val.kind) ... */
	__u32 cache_gen;    /* ... valid for this generation + 1; 0 = none */
	__u16 len;
	__u8 labels;
	__u8 pad;
	char name[256];
};

/* Per-flow state: who opened it, and how far its first bytes were
 * inspected. A TCP flow no rule matched at connect waits for its first
 * bytes in a pending slot (struct rw_pending); a flow that matched, and a
 * DNS client socket, get socket local storage. */
enum rw_flow_state {
	RW_FS_NEW = 0,     /* first payload not seen yet */
	RW_FS_DONE = 1,    /* inspected: pass */
	RW_FS_DENIED = 2,  /* denied: drop every packet */
	RW_FS_SOCKS = 3,   /* SOCKS5 greeting seen: inspect the request */
	RW_FS_AUTH = 4,    /* matched at connect: the first bytes are read
			    * only for a credential sent in clear */
};
#define RW_HOLD_TRIES 4     /* sends of an incomplete first payload held */
#define RW_FF_TRACKED 0x01  /* matched a rule: count bytes, report at close */
#define RW_FF_HOSTONLY 0x02 /* name known host-wide only: decide at first bytes */
#define RW_FF_DNS 0x04      /* a DNS client socket (answers attributed) */
#define RW_FF_BLOCKED 0x08  /* the deny/kill was carried out */
#define RW_FF_EST 0x10      /* a packet left past SYN_SENT: the handshake
			     * completed (a flow that never got this far
			     * and sent nothing is not reported) */
struct rw_flow {
	__u64 bytes;
	__u64 pkts;
	__u64 first_ktime;
	__u64 last_ktime;
	__u32 tgid;
	__u32 uid;
	__u8 daddr[16];
	__u16 dport;
	__u8 family;
	__u8 state;    /* enum rw_flow_state */
	__u8 flags;    /* RW_FF_* */
	__u8 rule;
	__u8 action;
	__u8 gen;
	__u32 connector; /* the tgid that connected, when another sends */
	__u8 tries;      /* sends of the first payload held back so far */
	__u8 pad[3];
};

/*
 * TCP flows whose first bytes are still to be judged, in an array indexed
 * by socket cookie modulo RW_PENDING_SLOTS. Cookies are unique and handed
 * out in sequence, so a slot is taken again only RW_PENDING_SLOTS connects
 * later (counted in RW_CNT_PENDING_LOST if its flow had sent nothing by
 * then). Writing a slot costs a fraction of creating socket storage,
 * which only flows that match a rule get.
 */
#define RW_PENDING_SLOTS 65536
struct rw_pending {
	__u64 cookie;   /* 0 = free */
	struct rw_flow flow;
};

/* DNS answer for a listed name */
struct rw_dns_event {
	struct rw_event_hdr hdr;
	__u32 tgid;     /* the process whose socket received it, 0 unknown */
	__u32 naddr;
	__u64 cookie;
	__u32 ttl;      /* smallest TTL, after clamping */
	__u16 qtype;
	__u8 rule;      /* first rule naming it, RW_RULE_NONE if none */
	__u8 gen;
	__u8 addr[8][16];
	__u8 family[8];
	char name[RW_NAME_LEN];
};

/* first bytes of a flow named a listed destination (tls/http/proxy), or
 * stayed unreadable (RW_NF_UNDECIDED). tgid is the process that sent
 * them (Linux 5.17+; before, the connector), connector the one that
 * connected when it differs (RW_NF_SENDER). */
struct rw_name_event {
	struct rw_event_hdr hdr;
	__u32 tgid;
	__u32 uid;
	__u64 cookie;
	__u8 daddr[16];
	__u16 dport;
	__u16 tport;    /* proxy target port, else 0 */
	__u8 family;
	__u8 action;
	__u8 rule;      /* or RW_RULE_UNDECIDED */
	__u8 flags;     /* RW_NF_* */
	__u8 gen;
	__u8 proto;     /* enum wire_proto of the first bytes */
	__u8 tfamily;   /* AF_* when the proxy target is an address */
	__u8 sfamily;   /* the socket's family (destroy) */
	__u32 connector;
	__u8 taddr[16]; /* proxy target address, network order */
	__u8 saddr[16]; /* the socket's local address and port (destroy) */
	__u16 sport;
	__u16 pad;
	__u32 ifindex;  /* bound device, 0 none */
	char name[RW_NAME_LEN];
};
_Static_assert(sizeof(struct rw_name_event) == 104 + RW_NAME_LEN,
	       "rw_name_event size");

/* A matched flow's cleartext HTTP request carried a credential header
 * (enum wire_key_hdr): its value, for the daemon to name by shape and
 * fingerprint (exposure.c) and to drop; no output holds it. */
#define RW_KEY_LEN 192
struct rw_key_event {
	struct rw_event_hdr hdr;
	__u32 tgid;
	__u32 uid;
	__u64 cookie;
	__u8 daddr[16];
	__u16 dport;
	__u8 family;
	__u8 action;
	__u8 rule;
	__u8 flags;     /* RW_FF_* of the flow */
	__u8 gen;
	__u8 header;    /* enum wire_key_hdr */
	__u16 klen;     /* bytes of key used */
	__u8 pad[6];
	char name[RW_NAME_LEN]; /* the request's Host, "" if none */
	char key[RW_KEY_LEN];
};

/* a flow to a matched destination closed: how much it sent */
struct rw_flow_event {
	struct rw_event_hdr hdr;
	__u32 tgid;
	__u32 uid;
	__u64 cookie;
	__u64 bytes;
	__u64 pkts;
	__u64 first_ktime;
	__u64 last_ktime;
	__u8 daddr[16];
	__u16 dport;
	__u8 family;
	__u8 rule;
	__u8 action;
	__u8 gen;
	__u8 flags;     /* RW_FF_* */
	__u8 pad;
};

/* De-duplication key: one event per window per (process, dest, rule). */
struct rw_dedup_key {
	__u32 tgid;
	__u16 dport;
	__u8 proto;
	__u8 rule;
	__u8 daddr[16];
};
struct rw_dedup_val {
	__u64 last_ktime;
	__u32 suppressed;
	__u32 pad;
};

/* A pending in-kernel kill, keyed by thread id, consumed at syscall exit. */
struct rw_kill {
	__u32 tgid;
	__u8 rule;
	__u8 gen;
	__u8 pad[2];
};

/* a process left the watched cgroup (raw_tp/cgroup_attach_task) */
struct rw_escape_event {
	struct rw_event_hdr hdr;
	__u32 tgid;        /* the process moved */
	__u32 pid;         /* its thread that moved */
	__u32 mover;       /* tgid of whoever wrote cgroup.procs */
	__u32 pad;
	__u64 from_cgid;   /* the watched cgroup it left */
	__u64 to_cgid;     /* where it went */
	char comm[RW_COMM_LEN];
	char to_path[128]; /* the destination, as the tracepoint gives it */
	struct rw_proc proc; /* the process table's entry, if it had one */
};
_Static_assert(sizeof(struct rw_escape_event) == 192 + sizeof(struct rw_proc),
	       "rw_escape_event size");

/*
 * What a set of pinned kernel state is (one entry of the `meta` map,
 * pinned with the set: README "Lifecycle"). The daemon writes it; the
 * programs read the heartbeat (on_daemon_loss) and the watched cgroup
 * (escape). magic and format come first and never move, so any build can
 * tell whether a set is its own: RW_FORMAT changes whenever a map's
 * layout does.
 */
#define RW_META_MAGIC 0x00314154454d5752ULL /* "RWMETA1" */
#define RW_FORMAT 4
enum rw_set_state {
	RW_SET_BUILDING = 1, /* being made: not yet enforcing its policy */
	RW_SET_READY = 2,    /* enforcing */
};
#define RW_MF_DETACH 0x01    /* `relaywatch detach` asked the daemon to go */
#define RW_MF_PERSIST 0x02   /* the daemon leaves the set in force at exit */
struct rw_meta {
	__u64 magic;
	__u32 format;
	__u32 state;         /* enum rw_set_state */
	__u64 cgroup_id;     /* the watched cgroup */
	__u32 cgroup_level;  /* its depth below the cgroup v2 root */
	__u32 features;      /* 1 << feature (user/kernel/progload.h) on */
	__u8 build[32];      /* SHA-256 of the BPF object */
	__u64 created;       /* realtime ns: the set was made */
	__u8 policy_sha[32]; /* SHA-256 of the policy file in force */
	__u64 applied;       /* policies applied since the set was made */
	__u64 policy_since;  /* realtime ns of the last one */
	__u32 daemon_pid;    /* the daemon reading the set, 0 none */
	__u32 flags;         /* RW_MF_* */
	__u64 daemon_start;  /* realtime ns */
	__u64 heartbeat;     /* boot ns of the daemon's last read of the ring */
	__u64 heartbeat_wall; /* the same moment, realtime ns */
	__u64 consumed;      /* matched events read from the ring (connect,
			      * sendmsg, tls, http, proxy), by every daemon */
	__u64 counters[RW_CNT__MAX]; /* the kernel's, at the heartbeat */
	char policy_path[512];
	char cgroup_path[512];
	char version[32];    /* of the daemon that made or last adopted it */
};

#endif /* RELAYWATCH_H */
