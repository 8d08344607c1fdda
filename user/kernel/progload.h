/* SPDX-License-Identifier: MIT */
/* Loading the programs one feature at a time: a program a kernel refuses
 * turns its feature off (said in one line: program, errno, the verifier's
 * last line) and the others load and enforce. */
#ifndef RW_PROGLOAD_H
#define RW_PROGLOAD_H

#include <stdbool.h>

/* what a site can ask for with --require, and what the start record and
 * `relaywatch probe` report; each needs every program the table names */
enum rw_feature {
	RW_F_CONNECT,     /* connect4, connect6: TCP and connected UDP */
	RW_F_SENDMSG,     /* sendmsg4, sendmsg6: unconnected UDP */
	RW_F_DNS,         /* dns_ingress: names from DNS answers */
	RW_F_FIRST_BYTES, /* flow_egress: SNI, Host, proxy requests */
	RW_F_FLOW_BYTES,  /* sock_release: flow records, bytes sent */
	RW_F_PROC_TABLE,  /* handle_exec/fork/exit: the process table */
	RW_F_KILL,        /* sys_exit: SIGKILL before the call returns */
	RW_F_ESCAPE,      /* cgroup_escape: a process leaving the cgroup */
	RW_F__MAX,
};

#define RW_F_ALL ((1u << RW_F__MAX) - 1)

/* one program: the instance that loaded it, or why it did not */
struct prog_state {
	const char *name;
	int feature;
	bool cgroup;               /* attached to the cgroup (else tracing) */
	int attach_type;           /* enum bpf_attach_type, for cgroup ones */
	const char *tp;            /* the raw tracepoint, for tracing ones */
	struct bpf_program *prog;  /* the loaded instance, NULL if none */
	int fd;                    /* the program: loaded, or from its pin;
				    * -1 when the kernel refused it */
	int link_fd;               /* its attachment, -1 if none */
	int err;                   /* -errno of its load or attach, else 0 */
	unsigned int insns;        /* instructions the verifier processed */
	char why[256];             /* the verifier's last line, or attach's */
};

#define RW_PROGS_MAX 20

const char *feature_name(int f);
/* what is lost when feature f is off, for the warning */
const char *feature_loss(int f);
/* "dns,kill" (or "all") into a mask; 0, or -EINVAL with a reason */
int feature_parse(const char *list, unsigned int *mask, char *err,
		  size_t errlen);

struct loader;
/* Lists in l->progs the programs this kernel is to load: of the hooks
 * built twice, the build without bpf_loop when the kernel lacks it or
 * compat is set. 0 or -errno. */
int progload_list(struct loader *l, bool compat);
/* Loads the listed programs, in parallel; a worker whose load fails has
 * its programs loaded again one per instance, so each failure is the
 * program's own. fail_prog (tests only: names, comma-separated) are
 * loaded as the wrong program type, so that the kernel refuses them.
 * Each worker opens its instance of the object in its own thread; one
 * that cannot (memory) has its programs tried one by one like a refusal,
 * so what fails is always some program's, with its reason. meanwhile(ctx),
 * if given, runs on the calling thread while the other workers verify
 * (the calling thread's own share is small). */
void progload_all(struct loader *l, const char *fail_prog,
		  void (*meanwhile)(void *), void *ctx);
/* fills ps's fields that follow from program p (of the owner object,
 * which outlives ps): name, feature, how it attaches; false when p is no
 * program of this build's table */
bool progload_describe(struct prog_state *ps, const struct bpf_program *p);
/* records an attach failure: the program's feature goes off */
void progload_attach_failed(struct loader *l, struct prog_state *p, int err);
/* features whose every program loaded (and attached) */
unsigned int progload_features(const struct loader *l);
/* the first failing program's reason for feature f, "" when it is on */
const char *progload_why(const struct loader *l, int f);
/* {"connect": "on", ...}; with reasons, {"dns": "why", ...} of those off */
struct json_object *progload_json(const struct loader *l, bool reasons);

#endif
