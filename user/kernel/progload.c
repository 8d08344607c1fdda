// SPDX-License-Identifier: MIT
/*
 * The verifier is most of the start-up, and it checks one program on one
 * CPU. So the maps are created once, by an instance of the object whose
 * programs stay unloaded (loader.c), and the programs are loaded by more
 * instances, one per CPU (up to LOADER_WORKERS), each sharing those maps by
 * fd, in parallel threads.
 *
 * Kernels differ in what their verifier accepts, and libbpf loads an
 * object all or nothing: a worker stops at its first refused program and
 * unloads the rest. So a worker that fails has each of its programs loaded
 * again in an instance of its own, and what still fails is that
 * program's: its feature goes off, the others enforce. Every program gets
 * a small log at the verifier's statistics level (instructions processed,
 * and the error when it is refused), so the reason costs no second load.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "relaywatch.skel.h"
#include "corebtf.h"
#include "loader.h"
#include "progload.h"
#include "log.h"
#include "util.h"

/* each program's feature; weights: its verification time in ms on 6.18
 * (-vv prints the time per worker), so the heaviest go first, each to the
 * least loaded worker. The connect/sendmsg hooks come in two builds
 * (bpf/sock_addr_compat.bpf.c): one walks the rules under bpf_loop (Linux
 * 5.17+), the other in a bounded loop; exactly one of each pair loads. */
enum { ANY, LOOP, NO_LOOP };
#define CG(t) (BPF_##t + 1) /* attached to the cgroup; 0: tracing */
static const struct {
	const char *name;
	int feature, ms, variant, cg;
} prog_table[] = {
	{ "flow_egress", RW_F_FIRST_BYTES, 40, LOOP, CG(CGROUP_INET_EGRESS) },
	{ "dns_ingress", RW_F_DNS, 12, LOOP, CG(CGROUP_INET_INGRESS) },
	{ "flow_egress_compat", RW_F_FIRST_BYTES, 58, NO_LOOP,
	  CG(CGROUP_INET_EGRESS) },
	{ "dns_ingress_compat", RW_F_DNS, 37, NO_LOOP,
	  CG(CGROUP_INET_INGRESS) },
	{ "connect6", RW_F_CONNECT, 11, LOOP, CG(CGROUP_INET6_CONNECT) },
	{ "sendmsg6", RW_F_SENDMSG, 9, LOOP, CG(CGROUP_UDP6_SENDMSG) },
	{ "connect4", RW_F_CONNECT, 7, LOOP, CG(CGROUP_INET4_CONNECT) },
	{ "sendmsg4", RW_F_SENDMSG, 6, LOOP, CG(CGROUP_UDP4_SENDMSG) },
	{ "connect6_compat", RW_F_CONNECT, 26, NO_LOOP,
	  CG(CGROUP_INET6_CONNECT) },
	{ "sendmsg6_compat", RW_F_SENDMSG, 14, NO_LOOP,
	  CG(CGROUP_UDP6_SENDMSG) },
	{ "connect4_compat", RW_F_CONNECT, 12, NO_LOOP,
	  CG(CGROUP_INET4_CONNECT) },
	{ "sendmsg4_compat", RW_F_SENDMSG, 7, NO_LOOP,
	  CG(CGROUP_UDP4_SENDMSG) },
	{ "sock_release", RW_F_FLOW_BYTES, 1, ANY,
	  CG(CGROUP_INET_SOCK_RELEASE) },
	{ "handle_exec", RW_F_PROC_TABLE, 1, ANY, 0 },
	{ "handle_fork", RW_F_PROC_TABLE, 1, ANY, 0 },
	{ "handle_exit", RW_F_PROC_TABLE, 1, ANY, 0 },
	{ "sys_exit", RW_F_KILL, 1, ANY, 0 },
	{ "cgroup_escape", RW_F_ESCAPE, 1, ANY, 0 },
};

static int table_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(prog_table); i++)
		if (!strcmp(prog_table[i].name, name))
			return i;
	return -1;
}

/* ---- loading ---------------------------------------------------------- */

#define LOG_BYTES 16384
/* -vv: a program refused is loaded alone with the verifier's whole log
 * (level 1), of which the end is printed: where and why it stopped */
#define LOG_FULL_BYTES (16 << 20)
#define LOG_TAIL_LINES 40

/* an instance of the object and the programs it loads: opened, given
 * its programs and loaded in its own thread (load_worker) */
struct load_job {
	struct loader *l;
	const char *btf_path;    /* its CO-RE relocations against this, */
	bool kernel_types;       /* ... or against the kernel's types, copied
				  * in its thread (kernel_btf); neither: the
				  * kernel's BTF as libbpf parses it */
	const char *fail_prog;
	bool full_log;
	struct relaywatch *inst;
	struct prog_state *ps[RW_PROGS_MAX]; /* what this instance loads */
	char *logs[RW_PROGS_MAX];
	int nr, cost;            /* programs, estimated ms */
	int ret;
	double ms;
};

bool progload_describe(struct prog_state *ps, const struct bpf_program *p)
{
	const char *name = bpf_program__name(p);
	const char *sec = bpf_program__section_name(p);
	int t = table_index(name);

	ps->name = name;
	ps->feature = t >= 0 ? prog_table[t].feature : -1;
	ps->cgroup = t >= 0 && prog_table[t].cg;
	ps->attach_type = ps->cgroup ? prog_table[t].cg - 1 : 0;
	/* a raw tracepoint's name is its section's: "raw_tp/NAME" */
	ps->tp = !ps->cgroup && strchr(sec, '/') ? strchr(sec, '/') + 1 : NULL;
	ps->fd = -1;
	ps->link_fd = -1;
	return t >= 0;
}

static int cost_of(const char *name)
{
	int i = table_index(name);

	return i < 0 ? 1 : prog_table[i].ms;
}

static int job_open(struct load_job *j, int *btf_fd);

static void *load_worker(void *arg)
{
	struct load_job *j = arg;
	__u64 t0 = mono_ns();
	int btf_fd = -1;

	if (!j->nr)
		return NULL; /* more CPUs than programs */
	j->ret = job_open(j, &btf_fd);
	if (!j->ret)
		j->ret = bpf_object__load(j->inst->obj);
	if (btf_fd >= 0) /* open until the load has read it */
		close(btf_fd);
	j->ms = (mono_ns() - t0) / 1e6;
	return NULL;
}

/* an instance of the object: every map is the owner's, no program is
 * loaded yet; its CO-RE relocations against btf_path (NULL: the
 * kernel's BTF) */
static struct relaywatch *open_instance(struct loader *l, const char *btf_path,
					int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);
	struct relaywatch *w = relaywatch__open_opts(&oo);
	struct bpf_program *p;
	struct bpf_map *m;

	if (!w) {
		*err = -errno;
		return NULL;
	}
	bpf_object__for_each_program(p, w->obj)
		bpf_program__set_autoload(p, false);
	bpf_object__for_each_map(m, w->obj) {
		struct bpf_map *own = bpf_object__find_map_by_name(
			l->skel->obj, bpf_map__name(m));

		*err = own ? bpf_map__reuse_fd(m, bpf_map__fd(own)) : -ENOENT;
		if (*err) {
			relaywatch__destroy(w);
			return NULL;
		}
	}
	return w;
}

/* a job's instance to the loader, which keeps its programs' fds */
static void keep(struct loader *l, struct load_job *j)
{
	if (!j->inst)
		return;
	if (l->nr_work < LOADER_WORKERS_MAX) {
		l->work[l->nr_work++] = j->inst;
		return;
	}
	relaywatch__destroy(j->inst); /* never: a slot for every job */
	j->inst = NULL;
	if (!j->ret)
		j->ret = -E2BIG;
}

/* is name, or the hook it is a build of (NAME_compat), in the comma-
 * separated list? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (n > 7 && !strcmp(name + n - 7, "_compat"))
		n -= 7;
	for (const char *p = list; p && *p;) {
		const char *e = strchrnul(p, ',');

		if ((size_t)(e - p) == n && !strncmp(p, name, n))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* gives program ps to job j (before it runs) */
static void assign(struct load_job *j, struct prog_state *ps)
{
	j->ps[j->nr++] = ps;
	j->cost += cost_of(ps->name);
}

/* in the job's thread, its k-th program in its instance: autoload, its
 * log, the test's sabotage */
static int prepare(struct load_job *j, int k)
{
	struct bpf_program *p =
		bpf_object__find_program_by_name(j->inst->obj, j->ps[k]->name);
	size_t len = j->full_log ? LOG_FULL_BYTES : LOG_BYTES;
	char *log = calloc(1, len);

	if (!p || !log) {
		free(log);
		return p ? -ENOMEM : -ENOENT;
	}
	bpf_program__set_autoload(p, true);
	/* statistics level: "processed N insns", and the error if refused */
	bpf_program__set_log_level(p, j->full_log ? 1 | 4 : 4);
	bpf_program__set_log_buf(p, log, len);
	if (listed(j->fail_prog, j->ps[k]->name))
		bpf_program__set_type(p, BPF_PROG_TYPE_XDP);
	j->logs[k] = log;
	return 0;
}

/* the verifier's last word: its last line that is no statistic, and
 * where in the source (newer kernels follow it with "; code @ file:line") */
static void last_line(const char *log, char *out, size_t len)
{
	const char *p = log, *msg = NULL, *msg_end = NULL, *at = NULL;
	int at_len = 0;

	while (*p) {
		const char *e = strchrnul(p, '\n');
		const char *src = p[0] == ';' ? strstr(p, " @ ") : NULL;

		if (src && src < e) {
			at = src + 3;
			at_len = e - at;
		} else if (e > p && p[0] != ';' && strncmp(p, "processed ", 10) &&
			   strncmp(p, "verification time", 17) &&
			   strncmp(p, "stack depth", 11)) {
			msg = p;
			msg_end = e;
		}
		p = *e ? e + 1 : e;
	}
	out[0] = 0;
	if (msg)
		snprintf(out, len, "%.*s%s%.*s", (int)(msg_end - msg), msg,
			 at ? " at " : "", at_len, at ? at : "");
}

/* after a job: each program's result, unless it must be tried alone */
static void settle(struct load_job *j, bool alone)
{
	for (int k = 0; k < j->nr; k++) {
		struct prog_state *ps = j->ps[k];
		struct bpf_program *p = j->inst ?
			bpf_object__find_program_by_name(j->inst->obj, ps->name) :
			NULL;
		const char *at = j->logs[k] ? strstr(j->logs[k], "processed ") :
					      NULL;
		char line[200];

		ps->insns = at ? strtoul(at + 10, NULL, 10) : 0;
		if (!j->ret && p && bpf_program__fd(p) >= 0) {
			ps->prog = p;
			ps->fd = bpf_program__fd(p);
			ps->err = 0;
		} else if (alone) {
			ps->prog = NULL;
			ps->fd = -1;
			ps->err = j->ret ? j->ret : -ENOENT;
			last_line(j->logs[k] ? j->logs[k] : "", line,
				  sizeof(line));
			snprintf(ps->why, sizeof(ps->why), "%s: %s (%s)%s%s",
				 ps->name, "load failed", strerror(-ps->err),
				 line[0] ? ": " : "", line);
		}
		free(j->logs[k]);
		j->logs[k] = NULL;
	}
}

/* -vv: the end of the verifier's whole log for a program it refused,
 * from one more load of it alone (the figures above come from loads at
 * the statistics level: a whole log costs time and memory) */
static void print_full_log(struct loader *l, const struct prog_state *ps,
			   const char *fail_prog)
{
	struct load_job j = { .l = l, .fail_prog = fail_prog,
			      .full_log = true };
	const char *tail;
	int lines = 0;

	assign(&j, (struct prog_state *)ps);
	load_worker(&j);
	if (!j.logs[0]) {
		relaywatch__destroy(j.inst);
		return;
	}
	tail = j.logs[0] + strlen(j.logs[0]);
	while (tail > j.logs[0] && lines <= LOG_TAIL_LINES)
		if (*--tail == '\n')
			lines++;
	fprintf(stderr, "relaywatch: %s: the verifier's log%s:\n%s\n",
		ps->name, tail > j.logs[0] ? ", its end" : "",
		tail + (tail > j.logs[0]));
	free(j.logs[0]);
	relaywatch__destroy(j.inst);
}

/* jobs[0] on this thread, then meanwhile (if any), the rest on threads */
static void run_jobs(struct load_job *jobs, int n,
		     void (*meanwhile)(void *), void *ctx)
{
	pthread_t tid[RW_PROGS_MAX];
	bool threaded[RW_PROGS_MAX] = {};

	for (int i = 1; i < n; i++)
		threaded[i] = !pthread_create(&tid[i], NULL, load_worker,
					      &jobs[i]);
	if (n > 0)
		load_worker(&jobs[0]); /* this thread's share */
	if (meanwhile)
		meanwhile(ctx);
	for (int i = 1; i < n; i++)
		if (threaded[i])
			pthread_join(tid[i], NULL);
		else
			load_worker(&jobs[i]);
}

static int by_cost(const void *a, const void *b)
{
	return cost_of((*(const struct prog_state *const *)b)->name) -
	       cost_of((*(const struct prog_state *const *)a)->name);
}

int progload_list(struct loader *l, bool compat)
{
	struct bpf_program *p;

	/* bpf_loop (5.17) decides which build of the hooks loads */
	l->compat = compat || libbpf_probe_bpf_helper(
		BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_loop, NULL) != 1;
	if (l->compat)
		pr_info("no bpf_loop in this kernel (Linux 5.17+)%s: the "
			"connect and sendmsg hooks walk the rules in a bounded "
			"loop", compat ? " or told to act so" : "");
	l->nr_progs = 0;
	bpf_object__for_each_program(p, l->skel->obj) {
		int t = table_index(bpf_program__name(p));
		struct prog_state *ps;

		if (t >= 0 && prog_table[t].variant ==
			      (l->compat ? LOOP : NO_LOOP))
			continue; /* the other build of this hook */
		if (l->nr_progs == RW_PROGS_MAX)
			return -E2BIG;
		ps = &l->progs[l->nr_progs++];
		memset(ps, 0, sizeof(*ps));
		progload_describe(ps, p);
	}
	return 0;
}

/*
 * The BTF the cgroup programs' workers relocate against (corebtf_ctx),
 * in a memfd (its fd; -1: they use the kernel's). Not where flow_egress
 * reads the sending task (cfg_sender TASK: task_struct is the kernel's).
 */
static int ctx_btf(struct loader *l, char *path, size_t len)
{
	struct btf *b;
	int fd;

	if (l->skel->rodata->cfg_sender == RW_SENDER_TASK ||
	    getenv("RELAYWATCH_KERNEL_BTF")) /* for comparison */
		return -1;
	b = corebtf_ctx(bpf_object__btf(l->skel->obj));
	fd = b ? corebtf_memfd(b, path, len) : -1;
	btf__free(b);
	return fd < 0 ? -1 : fd;
}

/* the kernel's types the object names (corebtf_kernel), for the tracing
 * programs' worker, and for all of them where the cgroup programs need
 * the kernel's task_struct: one read of the kernel's BTF instead of a
 * parse by libbpf in every worker. -1: libbpf parses it */
static int kernel_btf(struct loader *l, char *path, size_t len)
{
	struct btf *b;
	int fd;

	if (getenv("RELAYWATCH_KERNEL_BTF"))
		return -1;
	b = corebtf_kernel(bpf_object__btf(l->skel->obj));
	if (!b) /* tests/kernels/suite.sh looks for this */
		pr_info("%s not read (missing, or a kind of type this build "
			"does not know): libbpf parses the kernel's BTF, a "
			"slower start", "/sys/kernel/btf/vmlinux");
	fd = b ? corebtf_memfd(b, path, len) : -1;
	btf__free(b);
	return fd < 0 ? -1 : fd;
}

/* in the job's thread: its instance, against its BTF (*btf_fd: a copy
 * of the kernel's types made here), its programs made ready in it */
static int job_open(struct load_job *j, int *btf_fd)
{
	const char *btf = j->btf_path;
	char path[64];
	int ret = 0;

	if (!btf && j->kernel_types) {
		*btf_fd = kernel_btf(j->l, path, sizeof(path));
		btf = *btf_fd >= 0 ? path : NULL;
	}
	j->inst = open_instance(j->l, btf, &ret);
	if (!j->inst)
		return ret ? ret : -ENOMEM;
	for (int k = 0; !ret && k < j->nr; k++)
		ret = prepare(j, k);
	return ret;
}

void progload_all(struct loader *l, const char *fail_prog,
		  void (*meanwhile)(void *), void *ctx)
{
	struct load_job jobs[LOADER_WORKERS + 1] = {}, alone[RW_PROGS_MAX] = {};
	struct prog_state *order[RW_PROGS_MAX], *retry[RW_PROGS_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n, first, nr_retry = 0, btf_fd, kbtf_fd;
	char btf_path[64], kbtf_path[64];
	const char *cgroup_btf;

	for (int i = 0; i < l->nr_progs; i++)
		order[i] = &l->progs[i];
	qsort(order, l->nr_progs, sizeof(order[0]), by_cost);

	/* with a BTF of their own for the cgroup programs, the tracing
	 * programs (the kernel's types, copied in its thread) are a job of
	 * their own, jobs[0]; else every job needs the kernel's types */
	btf_fd = ctx_btf(l, btf_path, sizeof(btf_path));
	first = btf_fd >= 0 ? 1 : 0;
	kbtf_fd = first ? -1 : kernel_btf(l, kbtf_path, sizeof(kbtf_path));
	cgroup_btf = btf_fd >= 0 ? btf_path : kbtf_fd >= 0 ? kbtf_path : NULL;
	n = ncpu < 1 ? 1 : ncpu > LOADER_WORKERS ? LOADER_WORKERS : ncpu;
	for (int i = 0; i < first + n; i++)
		jobs[i] = (struct load_job){ .l = l, .fail_prog = fail_prog,
					     .btf_path = i < first ? NULL :
							 cgroup_btf,
					     .kernel_types = i < first };
	for (int k = 0; k < l->nr_progs; k++) {
		int w = first;

		if (first && !order[k]->cgroup) {
			assign(&jobs[0], order[k]);
			continue;
		}
		for (int i = first + 1; i < first + n; i++)
			if (jobs[i].cost < jobs[w].cost)
				w = i;
		assign(&jobs[w], order[k]);
	}
	n += first;
	run_jobs(jobs, n, meanwhile, ctx);
	for (int i = 0; i < n; i++) {
		keep(l, &jobs[i]);
		pr_debug("load worker %d: %d ms estimated, %.0f ms taken%s%s",
			 i, jobs[i].cost, jobs[i].ms, i < first ? " (tracing)" :
			 first ? " (cgroup, context BTF)" : "",
			 jobs[i].ret ? ", failed: each of its programs again "
				       "on its own" : "");
		settle(&jobs[i], false);
		for (int k = 0; jobs[i].ret && k < jobs[i].nr; k++)
			retry[nr_retry++] = jobs[i].ps[k];
	}

	/* a refused program took its worker's others down with it: each
	 * alone, against the kernel's BTF */
	for (int k = 0; k < nr_retry; k++) {
		alone[k] = (struct load_job){ .l = l, .fail_prog = fail_prog };
		assign(&alone[k], retry[k]);
	}
	if (nr_retry)
		run_jobs(alone, nr_retry, NULL, NULL);
	for (int k = 0; k < nr_retry; k++) {
		keep(l, &alone[k]);
		settle(&alone[k], true);
		if (log_level >= LV_DEBUG && retry[k]->err)
			print_full_log(l, retry[k], fail_prog);
	}
	if (btf_fd >= 0)
		close(btf_fd);
	if (kbtf_fd >= 0)
		close(kbtf_fd);
}
