// SPDX-License-Identifier: MIT
/*
 * The reader side of the ring buffer. The kernel submits without waking us
 * (a wakeup per event cost half of connect() throughput), so we poll with a
 * bounded timeout and always drain; kills force a wakeup. Each event is
 * attributed from /proc while the process lives, else from the exec-time
 * snapshot the kernel attached. A kill the kernel could not deliver at
 * syscall exit (io_uring workers never return to user space) is delivered
 * after a short grace period (kills.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "session.h"
#include "record.h"
#include "session_impl.h"
#include "sink.h"
#include "logfile.h"
#include "fold.h"
#include "util.h"
#include "kstate.h"
#include "loader.h"
#include "proc.h"
#include "log.h"

#define POLL_MS 100

volatile sig_atomic_t session_stop, session_hup, session_reopen;

static bool filtered(struct session *s, __u32 tgid, long kuid,
		     const struct proc_info *pi)
{
	if (!view_hides(&s->view, tgid, kuid, pi))
		return false;
	s->view.hidden++;
	return true;
}

/* the name DNS gave the process (or the host) for an address, or NULL */
static const char *dns_name(struct session *s, __u32 tgid, bool v4,
			    const __u8 *addr)
{
	static char name[256];

	if (!s->l->name_hooks ||
	    kstate_dns_name(s->l, tgid, v4 ? AF_INET : AF_INET6, addr, name,
			    sizeof(name)))
		return NULL;
	return name;
}

static void on_net(struct session *s, const struct rw_net_event *e)
{
	char comm[RW_COMM_LEN + 1];
	struct rw_proc snap;
	struct proc_info *pi;

	s->folded += e->suppressed;
	/* actions first: the per-process cap holds back records only */
	if (e->action == RW_ACT_KILL && (e->flags & RW_NF_ENFORCED)) {
		snprintf(comm, sizeof(comm), "%s", e->comm);
		session_queue_kill(s, e->tgid, e->gen, e->rule, comm);
	}
	if (!fold_admit(&s->fold, e->tgid, e->hdr.type, mono_ns()))
		return;
	/* the entry outlives a tagged process until its exit is read, and
	 * is kept a while after (attrib.c) */
	pi = session_attribute(e->tgid, (e->flags & RW_NF_PROC) &&
				session_snapshot(s->l, e->tgid, e->hdr.ktime,
						 mono_ns(), &snap) == 0 ?
				&snap : NULL);
	if (filtered(s, e->tgid, e->uid, pi))
		return;
	view_count(&s->view, e->hdr.type, e->action, e->suppressed);
	record_net(&s->out, e, pi, dns_name(s, e->tgid, e->family == AF_INET ||
				      (e->flags & RW_NF_MAPPED), e->daddr));
}

/* an event's process, from /proc or the table entry the kernel kept (or
 * its copy once the exit was read); before: the event's time, boot ns */
static struct proc_info *attribute_at(struct session *s, __u32 tgid,
				      __u64 before)
{
	struct rw_proc snap;

	if (!tgid)
		return NULL;
	return session_attribute(tgid, session_snapshot(s->l, tgid, before,
							mono_ns(), &snap) == 0 ?
				 &snap : NULL);
}

static struct proc_info *attribute_tgid(struct session *s, __u32 tgid)
{
	return attribute_at(s, tgid, 0);
}

/* the name a flow's first bytes carried, kept for its flow record */
#define FLOW_NAMES 4096
static struct {
	__u64 cookie;
	char name[RW_NAME_LEN + 1];
} flow_names[FLOW_NAMES];

static const char *flow_name(__u64 cookie)
{
	unsigned i = cookie % FLOW_NAMES;

	return flow_names[i].cookie == cookie ? flow_names[i].name : NULL;
}

static void on_name(struct session *s, const struct rw_name_event *e)
{
	static struct proc_info conn; /* attribution's buffer is shared */
	struct proc_info *pi = NULL, *cpi = NULL;
	unsigned slot = e->cookie % FLOW_NAMES;

	/* a deny at the first bytes resets the connection now */
	if (e->action >= RW_ACT_DENY && (e->flags & RW_NF_ENFORCED))
		session_reset(s, e);
	if ((e->flags & RW_NF_SENDER) && (cpi = attribute_tgid(s, e->connector))) {
		conn = *cpi;
		cpi = &conn;
	}

	flow_names[slot].cookie = e->cookie;
	snprintf(flow_names[slot].name, sizeof(flow_names[slot].name), "%s",
		 e->name);

	if (e->action == RW_ACT_KILL && (e->flags & RW_NF_ENFORCED)) {
		pi = attribute_tgid(s, e->tgid);
		session_queue_kill(s, e->tgid, e->gen, e->rule, pi ? pi->comm : "");
	}
	if (!fold_admit(&s->fold, e->tgid, e->hdr.type, mono_ns()))
		return;
	if (!pi)
		pi = attribute_tgid(s, e->tgid);
	if (filtered(s, e->tgid, e->uid, pi))
		return;
	view_count(&s->view, e->hdr.type, e->action, 0);
	record_name(&s->out, e, pi, cpi);
}

static void write_flow(struct session *s, const struct rw_flow_event *e,
		       __u64 flows)
{
	struct proc_info *pi = attribute_at(s, e->tgid, e->first_ktime);

	if (!filtered(s, e->tgid, e->uid, pi))
		record_flow(&s->out, e, pi, flow_name(e->cookie) ?:
			    dns_name(s, e->tgid, e->family == AF_INET,
				     e->daddr), flows);
}

static void folded_flow(void *ctx, const struct rw_flow_event *agg,
			__u64 flows)
{
	write_flow(ctx, agg, flows);
}

static void capped_proc(void *ctx, __u32 tgid, __u64 n, const __u64 *by)
{
	struct session *s = ctx;
	struct proc_info *pi = attribute_tgid(s, tgid);

	if (!filtered(s, tgid, -1, pi))
		record_rate_limited(&s->out, tgid, n, by, FOLD_TYPES, pi);
}

static int handle_event(struct session *s, void *data, size_t size)
{
	const struct rw_event_hdr *h = data;

	if (size < sizeof(*h) || size < h->size)
		return 0;
	if (h->type < RW_EV__SEEN)
		s->seen[h->type]++;
	switch (h->type) {
	case RW_EV_CONNECT:
	case RW_EV_SENDMSG:
		if (size >= sizeof(struct rw_net_event))
			on_net(s, data);
		break;
	case RW_EV_EXEC:
	case RW_EV_EXIT: {
		const struct rw_proc_event *e = data;
		struct proc_info *pi;

		if (size < sizeof(*e))
			break;
		pi = session_attribute(e->tgid, e->proc.exe_ino ? &e->proc : NULL);
		if (h->type == RW_EV_EXIT) {
			/* what the cap held back, said while it can be named */
			__u64 n, by[FOLD_TYPES];

			fold_take_proc(&s->fold, e->tgid, &n, by);
			if (n && !view_hides(&s->view, e->tgid, -1, pi))
				record_rate_limited(&s->out, e->tgid, n, by,
						    FOLD_TYPES, pi);
		}
		if (!filtered(s, e->tgid, -1, pi))
			record_proc(&s->out, e, pi);
		if (h->type == RW_EV_EXIT) {
			/* its sockets close after: their flow records */
			if (e->proc.exe_ino)
				session_exited(e->tgid, &e->proc, mono_ns());
			kstate_proc_forget(s->l, e->tgid, e->proc.exec_ktime);
		}
		break;
	}
	case RW_EV_TLS:
	case RW_EV_HTTP:
	case RW_EV_PROXY:
		if (size >= sizeof(struct rw_name_event))
			on_name(s, data);
		break;
	case RW_EV_KEY: {
		const struct rw_key_event *e = data;
		struct proc_info *pi;

		if (size < sizeof(*e))
			break;
		pi = attribute_tgid(s, e->tgid);
		if (!filtered(s, e->tgid, e->uid, pi))
			record_key(&s->out, e, pi);
		break;
	}
	case RW_EV_DNS: {
		const struct rw_dns_event *e = data;
		struct proc_info *pi;

		if (size < sizeof(*e) ||
		    !fold_admit(&s->fold, e->tgid, h->type, mono_ns()))
			break;
		pi = attribute_tgid(s, e->tgid);
		if (!filtered(s, e->tgid, -1, pi))
			record_dns(&s->out, e, pi);
		break;
	}
	case RW_EV_FLOW: {
		const struct rw_flow_event *e = data;

		if (size < sizeof(*e) || !fold_flow(&s->fold, e, mono_ns()) ||
		    !fold_admit(&s->fold, e->tgid, h->type, mono_ns()))
			break;
		write_flow(s, e, 1);
		break;
	}
	case RW_EV_ESCAPE: {
		const struct rw_escape_event *e = data;
		char to[sizeof(e->to_path) + 1];

		if (size < sizeof(*e))
			break;
		snprintf(to, sizeof(to), "%.*s", (int)sizeof(e->to_path),
			 e->to_path);
		/* the process table's entry came with it: it may be gone */
		record_escape(&s->out, e, session_attribute(e->tgid,
			e->proc.exe_ino ? &e->proc : NULL), to);
		break;
	}
	case RW_EV_KILL: {
		const struct rw_proc_event *e = data;
		char comm[RW_COMM_LEN + 1];
		struct proc_info *pi;

		if (size < sizeof(*e))
			break;
		session_kernel_killed(s, e->tgid);
		snprintf(comm, sizeof(comm), "%s", e->comm);
		pi = attribute_at(s, e->tgid, e->hdr.ktime);
		if (!filtered(s, e->tgid, -1, pi))
			record_kill(&s->out, e->hdr.ktime, e->tgid, e->tid,
				    comm, e->gen, e->rule, "kernel",
				    e->syscall_nr, pi);
		break;
	}
	default:
		break;
	}
	return 0;
}

/*
 * A turn of the loop reads at most TURN_EVENTS events or for TURN_NS,
 * whichever comes first: under a flood the loop still comes round to
 * signals, reloads, kill fallbacks and loss reports (libbpf stops a
 * drain when the callback returns < 0, the event it was given consumed).
 */
#define TURN_EVENTS 4096
#define TURN_NS (20 * 1000000ULL)
#define TURN_OVER (-EAGAIN)

static int on_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	handle_event(s, data, size);
	if (--s->turn_left <= 0 ||
	    (!(s->turn_left & 63) && mono_ns() >= s->turn_end_ns))
		return TURN_OVER;
	return 0;
}

/* one bounded drain; waits up to timeout_ms for the first event. 1 when
 * the bound stopped it (more is waiting), 0 when the ring is empty, or
 * -errno */
static int drain(struct session *s, int timeout_ms, __u64 budget_ns)
{
	int ret;

	s->turn_left = TURN_EVENTS;
	s->turn_end_ns = mono_ns() + budget_ns;
	/* most events are submitted without a wakeup (the kernel side wakes
	 * the reader only once a backlog builds): after the wait, read what
	 * is there either way */
	ret = timeout_ms ? ring_buffer__poll(s->rb, timeout_ms) : 0;
	if (ret >= 0 || ret == -EINTR)
		ret = ring_buffer__consume(s->rb);
	if (ret == TURN_OVER)
		return 1;
	if (ret < 0 && ret != -EINTR)
		return ret;
	return 0;
}

/* drains in bounded turns for at most ns (start-up's backlog, exit) */
void session_drain_for(struct session *s, __u64 ns)
{
	__u64 end = mono_ns() + ns;

	while (drain(s, 0, TURN_NS) == 1 && mono_ns() < end)
		;
}

/* what the log file has to say: writing works again after a failure, or
 * it was deleted or renamed and is open anew */
static void check_log(struct session *s)
{
	const char *why;
	__u64 dropped;
	json_object *j;

	switch (logfile_check(s->lf, &why, &dropped)) {
	case LOGFILE_RECOVERED:
		j = json_object_new_object();
		json_object_object_add(j, "dropped", json_object_new_int64(dropped));
		pr_warn("writing the log works again; %llu records were "
			"dropped meanwhile", (unsigned long long)dropped);
		record_meta(&s->out, "log_error", j);
		break;
	case LOGFILE_REOPENED:
		j = json_object_new_object();
		json_object_object_add(j, "why", json_object_new_string(why));
		record_meta(&s->out, "log_reopened", j);
		break;
	default:
		break;
	}
}

int session_init(struct session *s, struct loader *l, const struct policy *p,
		 const struct session_opts *o)
{
	char err[512];
	int ret;

	memset(s, 0, sizeof(*s));
	s->l = l;
	s->policy = p;
	s->o = *o;
	s->view.pid = o->pid;
	s->view.exe = o->exe;
	s->view.uid = o->by_uid ? (long)o->uid : -1;
	s->view.container = o->container;
	s->lf = logfile_open(o->log_path, o->log_max_bytes, err, sizeof(err));
	if (!s->lf) {
		pr_warn("%s", err);
		return -EIO;
	}
	output_init(&s->out, logfile_stream(s->lf), o->format);
	s->out.text_time = o->time;
	s->out.text_fd = logfile_fd(s->lf);
	if (fold_init(&s->fold, o->fold_ns, o->process_rate))
		return -ENOMEM;
	if (o->syslog) {
		struct sink *y = sink_syslog_new(o->syslog, err, sizeof(err));

		if (!y) {
			pr_warn("%s", err);
			return -EINVAL;
		}
		output_add_sink(&s->out, y);
		/* diagnostics to the local syslog too */
		if (!*o->syslog || !strncmp(o->syslog, "unix:", 5))
			log_to_syslog(true);
	}
	s->rb = ring_buffer__new(kstate_events_fd(l), on_event, s, NULL);
	if (!s->rb) {
		ret = -errno;
		pr_warn("failed to open the ring buffer: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int session_run(struct session *s)
{
	__u64 next_check = 0;
	int more = 0;

	while (!session_stop) {
		/* more waiting: no sleep; else wait for the first event */
		more = drain(s, more ? 0 : POLL_MS, TURN_NS);
		if (more < 0) {
			pr_warn("reading events failed: %s", strerror(-more));
			return more;
		}
		session_heartbeat(s);
		session_fallback_kills(s, false);
		fold_flush(&s->fold, mono_ns(), false, folded_flow,
			   capped_proc, s);
		output_tick(&s->out, false);
		if (mono_ns() >= next_check) {
			check_log(s);
			session_check_lost(s);
			next_check = mono_ns() + 1000000000ULL;
		}
		if (s->tick)
			s->tick(s, s->reload_ctx, mono_ns());
		if (session_reopen) {
			session_reopen = 0;
			logfile_reopen(s->lf);
		}
		if (session_hup) {
			session_hup = 0;
			if (s->reload)
				s->reload(s, s->reload_ctx);
		}
	}
	return 0;
}

void session_finish(struct session *s)
{
	__u64 c[RW_CNT__MAX] = {};
	json_object *j = json_object_new_object();
	__u64 used = 0, size = 0, written, dropped;

	/* bounded: a flood must not hold the exit; what stays queued is
	 * the next daemon's (a pinned set) and counted below */
	session_drain_for(s, 20000000ULL);
	session_fallback_kills(s, true);
	fold_flush(&s->fold, mono_ns(), true, folded_flow, capped_proc, s);
	output_tick(&s->out, true);
	kstate_counters(s->l, c);
	kstate_ring_fill(kstate_events_fd(s->l), &used, &size);
#define F(k, v) json_object_object_add(j, k, json_object_new_int64(v))
	F("matched", c[RW_CNT_MATCHED]);
	F("emitted", c[RW_CNT_EMITTED]);
	F("suppressed", c[RW_CNT_SUPPRESSED]);
	F("lost", c[RW_CNT_RB_FULL]);
	F("lost_other", c[RW_CNT_RB_FULL_PROC]);
	F("allow", c[RW_CNT_ACT_ALLOW]);
	F("alert", c[RW_CNT_ACT_ALERT]);
	F("deny", c[RW_CNT_ACT_DENY]);
	F("kill", c[RW_CNT_ACT_KILL]);
	F("blocked", c[RW_CNT_BLOCKED]);
	F("kernel_kills", c[RW_CNT_KILLS]);
	F("userspace_kills", s->user_kills);
	F("flow_resets", s->resets);
	F("flow_reset_failed", s->reset_failed);
	F("received_connect", s->seen[RW_EV_CONNECT]);
	F("received_sendmsg", s->seen[RW_EV_SENDMSG]);
	F("received_exec", s->seen[RW_EV_EXEC]);
	F("received_exit", s->seen[RW_EV_EXIT]);
	F("received_kill", s->seen[RW_EV_KILL]);
	F("received_dns", s->seen[RW_EV_DNS]);
	F("received_tls", s->seen[RW_EV_TLS]);
	F("received_http", s->seen[RW_EV_HTTP]);
	F("received_proxy", s->seen[RW_EV_PROXY]);
	F("received_flow", s->seen[RW_EV_FLOW]);
	F("dns_mapped", c[RW_CNT_DNS_MAPPED]);
	F("dns_unparsed", c[RW_CNT_DNS_UNPARSED]);
	F("flow_unparsed", c[RW_CNT_FLOW_UNPARSED]);
	F("packets_dropped", c[RW_CNT_DROPPED]);
	F("pending_lost", c[RW_CNT_PENDING_LOST]);
	F("flow_held", c[RW_CNT_FLOW_HELD]);
	F("flow_undecided", c[RW_CNT_FLOW_UNDECIDED]);
	F("dns_tcp_lost", c[RW_CNT_DNS_TCP_LOST]);
	F("dns_tcp_big", c[RW_CNT_DNS_TCP_BIG]);
	F("folded", s->folded);
	F("flows_folded", s->fold.folded_flows);
	F("rate_capped", s->fold.capped);
	F("filtered", s->view.hidden);
	F("existing", s->existing);
	F("unread_bytes", used);
	check_log(s);
	logfile_counts(s->lf, &written, &dropped);
	/* this record is written (or dropped) after these were taken */
	F("log_written", written);
	F("log_dropped", dropped);
	for (int i = 0; i < s->out.nr_sinks; i++) {
		__u64 sent, dropped;

		if (strcmp(s->out.sinks[i]->name, "syslog"))
			continue;
		sink_syslog_counts(s->out.sinks[i], &sent, &dropped);
		F("syslog_sent", sent);
		F("syslog_dropped", dropped);
	}
#undef F
	record_meta(&s->out, "stats", j);
	if (s->o.summary)
		view_summary(&s->view, c[RW_CNT_RB_FULL] +
			     c[RW_CNT_RB_FULL_PROC], stderr);
}

void session_free(struct session *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
	session_drop_kills(s);
	output_free(&s->out);
	logfile_close(s->lf);
	s->lf = NULL;
	fold_free(&s->fold);
}
