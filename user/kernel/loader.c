// SPDX-License-Identifier: MIT
/*
 * Open → size → load → attach, always split, so a failure names its stage.
 * What persistence adds (finding, adopting and pinning sets) is attach.c;
 * the policy itself reaches the maps through enforce.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <sys/mman.h>

#include "relaywatch.skel.h"
#include "attach.h"
#include "cgroup.h"
#include "corebtf.h"
#include "digest.h"
#include "kstate.h"
#include "loader.h"
#include "premaps.h"
#include "log.h"
#include "progload.h"
#include "util.h"

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	/* libbpf's own messages sit one level below ours */
	if (log_level < LV_DEBUG && level != LIBBPF_WARN)
		return 0;
	if (log_level < LV_INFO)
		return 0;
	if (log_stderr_is_journal())
		fputs(level == LIBBPF_WARN ? "<4>" : "<7>", stderr);
	return vfprintf(stderr, fmt, ap);
}

int cgroup_check_v2(const char *path, char *err, size_t errlen)
{
	struct statfs sf;
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "cgroup %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cgroup %s is not a directory", path);
		return -ENOTDIR;
	}
	if (statfs(path, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen,
			 "%s is not a cgroup v2 directory (see the cgroup2 "
			 "line of /proc/mounts)", path);
		return -EINVAL;
	}
	return 0;
}

int cgroup_level_of(const char *path, __u32 *level)
{
	const char *root = cgroup2_root();
	char real[PATH_MAX], rroot[PATH_MAX];
	size_t n;

	if (!root || !realpath(path, real) || !realpath(root, rroot))
		return -ENOENT;
	n = strlen(rroot);
	if (strncmp(real, rroot, n) || (real[n] && real[n] != '/'))
		return -EINVAL;
	*level = 0;
	for (const char *p = real + n; *p; p++)
		if (*p == '/' && p[1])
			(*level)++;
	return 0;
}

/* root, BTF, the ring buffer, the cgroup: one sentence each */
static int preflight(const struct loader_opts *o)
{
	char err[512];
	int ret, fd;

	if (geteuid() != 0) {
		pr_warn("needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON): "
			"run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		pr_warn("this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			"relaywatch needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	/* root without the capabilities (a container, a unit's bounding
	 * set) must not read as an old kernel below */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	if (fd < 0 && (errno == EPERM || errno == EACCES)) {
		pr_warn("not permitted to use BPF (bpf(2): %s): relaywatch "
			"needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN at least "
			"(docs/deploy.md, Capabilities)", strerror(errno));
		return -EPERM;
	}
	if (fd >= 0)
		close(fd);
	/* the oldest kernel relaywatch supports is 5.10 (README: Kernels);
	 * what sets the floor is the event ring buffer (5.8) */
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		struct utsname u;

		uname(&u);
		pr_warn("this kernel (%s) has no BPF ring buffer: relaywatch "
			"needs Linux 5.10 or later", u.release);
		return -ENOTSUP;
	}
	ret = o->probe ? 0 : cgroup_check_v2(o->cgroup, err, sizeof(err));
	if (ret)
		pr_warn("%s", err);
	return ret;
}

/* what the features that loaded say, and whether that is enough */
static int judge_features(struct loader *l, const struct loader_opts *o)
{
	l->features = progload_features(l);
	for (int i = 0; i < l->nr_progs; i++)
		pr_info("%s: %s, %u instructions verified", l->progs[i].name,
			l->progs[i].err ? "off" : "on", l->progs[i].insns);
	for (int f = 0; f < RW_F__MAX; f++)
		if (!(l->features & (1u << f)))
			pr_warn("%s: off on this kernel (%s); %s",
				feature_name(f), progload_why(l, f),
				feature_loss(f));
	if (!(l->features & (1u << RW_F_CONNECT | 1u << RW_F_SENDMSG))) {
		pr_warn("nothing can be enforced on this kernel: neither the "
			"connect nor the sendmsg hooks load");
		return -ENOTSUP;
	}
	if (o->require & ~l->features) {
		for (int f = 0; f < RW_F__MAX; f++)
			if (o->require & ~l->features & (1u << f))
				pr_warn("--require %s: the feature is off, so "
					"relaywatch does not start",
					feature_name(f));
		return -ENOTSUP;
	}
	l->name_hooks = l->features & (1u << RW_F_DNS);
	l->proc_hooks = l->features & (1u << RW_F_PROC_TABLE);
	return 0;
}

static void meta_init(struct loader *l, const struct loader_opts *o)
{
	struct rw_meta *m = &l->meta;

	if (l->adopt.kind == ADOPT_SAME || l->adopt.kind == ADOPT_RELOAD) {
		*m = l->adopt.prev; /* the set's history goes on */
	} else {
		memset(m, 0, sizeof(*m));
		m->created = wall_ns();
	}
	m->magic = RW_META_MAGIC;
	m->format = attach_format();
	if (!l->committed)
		m->state = RW_SET_BUILDING;
	m->cgroup_id = l->cgroup_id;
	m->cgroup_level = l->cgroup_level;
	m->features = l->features;
	memcpy(m->build, l->build, sizeof(m->build));
	m->daemon_pid = getpid();
	m->daemon_start = wall_ns();
	m->flags = l->persist ? RW_MF_PERSIST : 0;
	m->heartbeat = boot_ns();
	m->heartbeat_wall = wall_ns();
	snprintf(m->cgroup_path, sizeof(m->cgroup_path), "%.511s", l->cgroup);
	snprintf(m->version, sizeof(m->version), "%s",
		 o->version ? o->version : "");
}

/*
 * The object that owns the maps loads no program, so it applies no CO-RE
 * relocation; but libbpf parses the kernel's BTF for any object that has
 * relocations, unless it is given a BTF of its own: a one-type BTF (in a
 * memfd, read at load: closed after, in loader_open) spares that
 * (corebtf.h). Without a memfd, the plain way.
 */
static struct relaywatch *open_owner(int *btf_fd)
{
	struct btf *tiny = corebtf_tiny();
	struct relaywatch *skel = NULL;
	char path[64];
	int fd = tiny ? corebtf_memfd(tiny, path, sizeof(path)) : -ENOMEM;

	if (fd >= 0) {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = path);

		skel = relaywatch__open_opts(&oo);
	}
	btf__free(tiny);
	*btf_fd = fd;
	return skel ? skel : relaywatch__open();
}

/* the country table into the kernel's arrays: progload_all's meanwhile */
struct geo_write {
	struct bpf_object *obj;
	const struct geomap *t;
	int ret;
};

static void write_geo(void *arg)
{
	struct geo_write *g = arg;

	g->ret = geomap_write(g->obj, g->t);
}

int loader_open(struct loader *l, const struct loader_opts *o)
{
	struct relaywatch *skel;
	struct geo_write geo;
	const void *elf;
	size_t elf_sz;
	int ret, btf_fd = -1;
	bool geo_now;

	memset(l, 0, sizeof(*l));
	l->cgroup_fd = -1;
	l->lock_fd = -1;
	libbpf_set_print(libbpf_log);
	ret = preflight(o);
	if (ret)
		return ret;
	if (!o->probe) {
		if (!realpath(o->cgroup, l->cgroup))
			snprintf(l->cgroup, sizeof(l->cgroup), "%s", o->cgroup);
		if (cgroup_id_of(l->cgroup, &l->cgroup_id) ||
		    cgroup_level_of(l->cgroup, &l->cgroup_level))
			pr_warn("cannot tell the id or depth of cgroup %s",
				l->cgroup);
	}

	skel = open_owner(&btf_fd);
	if (!skel) {
		ret = -errno;
		if (btf_fd >= 0)
			close(btf_fd);
		pr_warn("failed to open the BPF object: %s", strerror(-ret));
		return ret;
	}
	l->skel = skel;
	elf = relaywatch__elf_bytes(&elf_sz);
	sha256_buf(elf, elf_sz, l->build);
	if (o->ringbuf_bytes)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	/* sized for two generations of the policy (watch.c); the tries
	 * allocate per prefix, so a size is a bound, not memory taken */
	if (o->cidr4_max > bpf_map__max_entries(skel->maps.cidr4))
		bpf_map__set_max_entries(skel->maps.cidr4, o->cidr4_max);
	if (o->cidr6_max > bpf_map__max_entries(skel->maps.cidr6))
		bpf_map__set_max_entries(skel->maps.cidr6, o->cidr6_max);
	geomap_size(skel->obj, &o->geo);
	skel->rodata->cfg_wakeup_bytes =
		bpf_map__max_entries(skel->maps.events) / 8;
	/* who sends a flow's first bytes: cgroup_skb programs may ask for
	 * the pid from Linux 6.10, for the task (and read its tgid) before */
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB,
				    BPF_FUNC_get_current_pid_tgid, NULL) == 1)
		skel->rodata->cfg_sender = RW_SENDER_PID;
	else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB,
					 BPF_FUNC_get_current_task, NULL) == 1 &&
		 libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB,
					 BPF_FUNC_probe_read_kernel, NULL) == 1)
		skel->rodata->cfg_sender = RW_SENDER_TASK;
	/* for tests: RELAYWATCH_SENDER=task|none acts as an older kernel */
	if (getenv("RELAYWATCH_SENDER") && skel->rodata->cfg_sender)
		skel->rodata->cfg_sender =
			!strcmp(getenv("RELAYWATCH_SENDER"), "task") ?
				RW_SENDER_TASK :
			!strcmp(getenv("RELAYWATCH_SENDER"), "none") ? 0 :
			skel->rodata->cfg_sender;
	if (!skel->rodata->cfg_sender)
		pr_info("the first bytes are blamed on the process that "
			"connected: this kernel's packet hooks cannot ask who "
			"sends them (Linux 6.10+)");
	{
		struct bpf_program *p;

		bpf_object__for_each_program(p, skel->obj)
			bpf_program__set_autoload(p, false);
	}
	/* for tests: RELAYWATCH_COMPAT=1 loads the build for kernels
	 * without bpf_loop on any kernel; RELAYWATCH_REFUSE=PROG,... has
	 * the kernel refuse those programs (as a kernel might) */
	ret = progload_list(l, o->compat || getenv("RELAYWATCH_COMPAT"));
	if (ret)
		goto fail;

	/* persistent: a set pinned for this cgroup is adopted (its maps
	 * reused, and its programs too when they are this build's) */
	if (o->persist && !o->probe) {
		l->persist = true;
		ret = attach_find(l, o);
		if (ret)
			goto fail;
	}
	if (l->adopt.kind == ADOPT_SAME) {
		ret = attach_take_programs(l);
		if (ret) {
			/* a program pin is missing: load them after all */
			l->adopt.kind = ADOPT_RELOAD;
			snprintf(l->adopt.why, sizeof(l->adopt.why),
				 "a program of the set is no longer pinned");
		}
	}
	/* a set adopted holds this table already (attach.c checks) */
	geo = (struct geo_write){ .obj = skel->obj, .t = &o->geo };
	geo_now = l->adopt.kind == ADOPT_NONE || l->adopt.kind == ADOPT_BESIDE;
	if (l->adopt.kind != ADOPT_SAME) {
		premaps_create(skel->obj);
		ret = relaywatch__load(skel);
		if (ret) {
			pr_warn("failed to create the BPF maps: %s (run with "
				"-vv for libbpf's log)", strerror(-ret));
			goto fail;
		}
		/* the table is written while the programs are verified */
		progload_all(l, o->fail_prog ? o->fail_prog :
					 getenv("RELAYWATCH_REFUSE"),
			     geo_now ? write_geo : NULL, &geo);
	}
	if (btf_fd >= 0)
		close(btf_fd);
	btf_fd = -1;
	/* geo_now: the programs were loaded here, and progload_all's
	 * meanwhile wrote the table */
	if (geo_now) {
		ret = geo.ret;
		if (ret) {
			pr_warn("cannot write the country table: %s",
				strerror(-ret));
			goto fail;
		}
	}
	l->geo_n4 = o->geo.n4;
	l->geo_n6 = o->geo.n6;
	if (o->probe) {
		l->features = progload_features(l);
		return 0;
	}
	l->cgroup_fd = open(l->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		ret = -errno;
		pr_warn("failed to open cgroup %s: %s", l->cgroup,
			strerror(-ret));
		goto fail;
	}
	l->features = progload_features(l);
	meta_init(l, o);
	ret = kstate_meta_put(l);
	if (!ret)
		ret = attach_all(l);
	if (ret) {
		pr_warn("failed to attach to %s: %s", l->cgroup,
			strerror(-ret));
		goto fail;
	}
	ret = judge_features(l, o);
	if (ret)
		goto fail;
	l->meta.features = l->features;
	kstate_meta_put(l);
	return 0;
fail:
	if (btf_fd >= 0)
		close(btf_fd);
	loader_close(l, LOADER_FAIL);
	return ret;
}

int loader_commit(struct loader *l, const __u8 *policy_sha,
		  const char *policy_path)
{
	memcpy(l->meta.policy_sha, policy_sha, sizeof(l->meta.policy_sha));
	snprintf(l->meta.policy_path, sizeof(l->meta.policy_path), "%s",
		 policy_path);
	l->meta.applied++;
	l->meta.policy_since = wall_ns();
	if (!l->committed) {
		l->committed = true;
		l->meta.state = RW_SET_READY;
		kstate_meta_put(l);
		/* ours enforces: what it replaces can go */
		if (l->persist)
			l->adopt.removed = attach_remove_others(l);
		return 0;
	}
	return kstate_meta_put(l);
}

static struct prog_state *state(struct loader *l, const char *name)
{
	for (int i = 0; i < l->nr_progs; i++)
		if (!strcmp(l->progs[i].name, name))
			return &l->progs[i];
	return NULL;
}

int loader_set_kill_hook(struct loader *l, bool want)
{
	struct prog_state *ps = state(l, "sys_exit");
	int ret;

	if (want == l->kill_hook)
		return 0;
	if (!ps || ps->fd < 0)
		return -ENOTSUP; /* said at start-up: kill is off */
	if (!want) {
		attach_drop(l, ps);
		l->kill_hook = false;
		return 0;
	}
	ret = attach_one(l, ps);
	if (ret) {
		pr_warn("in-kernel kill unavailable: cannot attach sys_exit "
			"(%s); kill rules fall back to a userspace SIGKILL "
			"after the call returns", strerror(-ret));
		return ret;
	}
	l->kill_hook = true;
	return 0;
}

int loader_reattach(struct loader *l, struct prog_state *ps)
{
	if (ps->link_fd >= 0)
		close(ps->link_fd);
	ps->link_fd = -1;
	return attach_one(l, ps);
}

void loader_close(struct loader *l, enum loader_end how)
{
	bool remove = l->persist && l->setdir[0] &&
		      (how == LOADER_DETACH ||
		       (how == LOADER_FAIL && l->made_set));

	if (l->persist && !remove && l->setdir[0] && l->skel) {
		l->meta.daemon_pid = 0;
		kstate_meta_put(l);
	}
	for (int i = 0; i < l->nr_progs; i++) {
		struct prog_state *ps = &l->progs[i];

		if (ps->link_fd >= 0)
			close(ps->link_fd);
		ps->link_fd = -1;
		/* a program taken from its pin has no libbpf object */
		if (!ps->prog && ps->fd >= 0)
			close(ps->fd);
		ps->fd = -1;
	}
	/* the pins were the last references: removing them detaches */
	if (remove)
		pin_remove(l->setdir);
	for (int i = 0; i < l->nr_work; i++)
		relaywatch__destroy(l->work[i]);
	l->nr_work = 0;
	relaywatch__destroy(l->skel);
	l->skel = NULL;
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	l->cgroup_fd = -1;
	if (remove) {
		rmdir(l->cgdir); /* fails while another set is in it */
		rmdir(PIN_ROOT); /* and while another cgroup has state */
	}
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	l->lock_fd = -1;
}
