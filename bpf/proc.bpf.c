// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Process table and in-kernel kills, from raw tracepoints (raw_tp): they
 * need no kprobes and no tracefs, and unlike tp_btf no parse of the
 * kernel's whole BTF by libbpf to find their target (the structs they read
 * are relocated against the loader's copy of just those: corebtf.c). exec
 * records what the new image is (its path, inode, argv) so that a process
 * that connects and exits within a millisecond is still attributed, and so
 * exe rules can be decided in the kernel; fork copies the parent's entry;
 * exit reports a tagged process's totals (and leaves its entry for the
 * daemon to attribute queued events). sys_exit delivers SIGKILL to a
 * thread whose connect/sendmsg hit a kill rule, before the call returns to
 * user space; the daemon attaches it only while the policy has a kill
 * rule, since any syscall tracepoint puts every syscall of every process
 * on the slow path. cgroup_attach_task reports a process that leaves the
 * watched cgroup, out of reach of its hooks.
 */
#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define SIGKILL 9
/* tests build a second object with another tag: other bytes, the same
 * maps (an upgrade whose programs differ) */
#ifndef RW_BUILD_TAG
#define RW_BUILD_TAG 0
#endif

static __always_inline void fill_args(struct rw_proc *s, struct task_struct *p)
{
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	unsigned long start, end;
	__u64 len;

	s->args_len = 0;
	if (!mm)
		return;
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (end <= start)
		return;
	len = end - start;
	if (len > RW_ARGS_LEN)
		len = RW_ARGS_LEN;
	if (bpf_probe_read_user(s->args, len, (void *)start) == 0)
		s->args_len = len;
}

static __always_inline void emit_proc(__u16 type, __u32 tgid,
				      const struct rw_tag *t,
				      const struct rw_proc *s, int code)
{
	struct rw_proc_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(RW_CNT_RB_FULL_PROC, type);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e) - sizeof(e->proc));
	hdr_init(&e->hdr, type, sizeof(*e), 0);
	e->tgid = tgid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->first_ktime = t->first_ktime;
	e->last_ktime = t->last_ktime;
	e->matches = t->matches;
	e->actions = t->actions;
	e->bytes = t->bytes;
	e->code = code;
	e->rule = RW_RULE_NONE;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (s)
		__builtin_memcpy(&e->proc, s, sizeof(e->proc));
	else
		__builtin_memset(&e->proc, 0, sizeof(e->proc));
	count(RW_CNT_EMITTED);
	submit(e, false);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 zero = 0, tgid = BPF_CORE_READ(p, tgid);
	struct rw_proc *s = bpf_map_lookup_elem(&proc_scratch, &zero);
	struct rw_tag *t;
	const char *path;

	if (!s)
		return 0;
	s->ppid = BPF_CORE_READ(p, real_parent, tgid);
	s->uid = (__u32)bpf_get_current_uid_gid();
	s->exec_ktime = bpf_ktime_get_boot_ns();
	s->cgroup_id = bpf_get_current_cgroup_id();
	/* the binary that runs: for a script, its interpreter */
	s->exe_ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	s->exe_dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	s->pad = RW_BUILD_TAG;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	path = BPF_CORE_READ(bprm, interp);
	if (bpf_probe_read_kernel_str(s->exe, sizeof(s->exe), path) < 0)
		s->exe[0] = 0;
	fill_args(s, p);
	bpf_map_update_elem(&procs, &tgid, s, BPF_ANY);

	t = bpf_map_lookup_elem(&tags, &tgid);
	if (t)
		emit_proc(RW_EV_EXEC, tgid, t, s, 0);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 zero = 0, ptgid, ctgid = BPF_CORE_READ(child, tgid);
	struct rw_proc *src, *s;

	if ((__u32)BPF_CORE_READ(child, pid) != ctgid)
		return 0; /* a new thread, not a new process */
	ptgid = BPF_CORE_READ(parent, tgid);
	/* a child starts in its parent's cgroup */
	if (bpf_map_lookup_elem(&inside, &ptgid)) {
		__u8 one = 1;

		bpf_map_update_elem(&inside, &ctgid, &one, BPF_ANY);
	}
	src = bpf_map_lookup_elem(&procs, &ptgid);
	s = bpf_map_lookup_elem(&proc_scratch, &zero);
	if (!src || !s)
		return 0;
	__builtin_memcpy(s, src, sizeof(*s));
	s->ppid = ptgid;
	bpf_map_update_elem(&procs, &ctgid, s, BPF_ANY);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct rw_tag *t;

	if ((__u32)BPF_CORE_READ(p, pid) != tgid)
		return 0;
	bpf_map_delete_elem(&inside, &tgid);
	t = bpf_map_lookup_elem(&tags, &tgid);
	if (!t) {
		bpf_map_delete_elem(&procs, &tgid);
		return 0;
	}
	/* its events may still be queued: the daemon removes the entry
	 * once it has read this exit */
	emit_proc(RW_EV_EXIT, tgid, t, bpf_map_lookup_elem(&procs, &tgid),
		  BPF_CORE_READ(p, exit_code));
	bpf_map_delete_elem(&tags, &tgid);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct rw_kill *k = bpf_map_lookup_elem(&kills, &tid);
	struct rw_proc_event *e;
	struct rw_kill kv;

	if (k) {
		kv = *k;
		bpf_map_delete_elem(&kills, &tid);
	} else {
		/* flagged at a packet, where the thread was not known */
		k = bpf_map_lookup_elem(&killtg, &tgid);
		if (!k)
			return 0;
		kv = *k;
		bpf_map_delete_elem(&killtg, &tgid);
	}
	if (bpf_send_signal(SIGKILL) != 0)
		return 0; /* the daemon's fallback kills it */
	count(RW_CNT_KILLS);

	e = event_new(sizeof(*e), RW_EV_KILL, RW_CNT_RB_FULL_PROC);
	if (!e)
		return 0;
	e->tgid = kv.tgid;
	e->tid = tid;
	e->code = ret;
#if defined(__TARGET_ARCH_x86)
	e->syscall_nr = BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	e->syscall_nr = BPF_CORE_READ(regs, syscallno);
#endif
	e->rule = kv.rule;
	e->gen = kv.gen;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	count(RW_CNT_EMITTED);
	submit(e, true);
	return 0;
}

/* Linux before 6.0 kept the ancestors' ids, not the ancestors (commit
 * 7f203bc89eb6 "cgroup: Replace cgroup->ancestor_ids[] with
 * ->ancestors[]") */
struct cgroup___ids {
	int level;
	__u64 ancestor_ids[];
} __attribute__((preserve_access_index));

/* the id of cg's ancestor at level (cg's own at its level), 0 if none */
static __always_inline __u64 ancestor_id(struct cgroup *cg, __u32 level)
{
	struct cgroup *a = NULL;
	__u64 id = 0;

	if (level > 255 || (int)level > BPF_CORE_READ(cg, level))
		return 0;
	if (bpf_core_field_exists(cg->ancestors)) {
		bpf_core_read(&a, sizeof(a), &cg->ancestors[level]);
		return a ? BPF_CORE_READ(a, kn, id) : 0;
	}
	bpf_core_read(&id, sizeof(id),
		      &((struct cgroup___ids *)cg)->ancestor_ids[level]);
	return id;
}

SEC("raw_tp/cgroup_attach_task")
int BPF_PROG(cgroup_escape, struct cgroup *dst, const char *path,
	     struct task_struct *task, bool threadgroup)
{
	__u32 zero = 0, tgid = BPF_CORE_READ(task, tgid);
	struct rw_escape_event *e;
	struct rw_meta *m = bpf_map_lookup_elem(&meta, &zero);
	struct rw_proc *snap;
	struct cgroup *home;
	__u8 one = 1;

	/* the whole host watched: nowhere to go */
	if (!m || !m->cgroup_level)
		return 0;
	/* cgroup v1 hierarchies of a hybrid host are not the hooks' */
	home = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!home || BPF_CORE_READ(dst, root) != BPF_CORE_READ(home, root))
		return 0;
	if (ancestor_id(dst, m->cgroup_level) == m->cgroup_id) {
		bpf_map_update_elem(&inside, &tgid, &one, BPF_ANY);
		return 0;
	}
	if (!bpf_map_lookup_elem(&inside, &tgid))
		return 0;
	bpf_map_delete_elem(&inside, &tgid);
	e = event_new(sizeof(*e), RW_EV_ESCAPE, RW_CNT_RB_FULL_PROC);
	if (!e)
		return 0;
	e->tgid = tgid;
	e->pid = BPF_CORE_READ(task, pid);
	e->mover = bpf_get_current_pid_tgid() >> 32;
	e->from_cgid = m->cgroup_id;
	e->to_cgid = BPF_CORE_READ(dst, kn, id);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_probe_read_kernel_str(e->to_path, sizeof(e->to_path), path);
	snap = bpf_map_lookup_elem(&procs, &tgid);
	if (snap)
		__builtin_memcpy(&e->proc, snap, sizeof(e->proc));
	count(RW_CNT_EMITTED);
	submit(e, true);
	return 0;
}
