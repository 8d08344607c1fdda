// SPDX-License-Identifier: MIT
/*
 * The kernel's counters against what was read: losses reported while
 * they last, the heartbeat a pinned set learns a daemon reads it by, and
 * the gap record of what happened while no daemon read (session.h).
 */
#include <string.h>
#include <json-c/json.h>

#include "kstate.h"
#include "log.h"
#include "record.h"
#include "session.h"
#include "session_impl.h"
#include "util.h"

/* lost events are reported while the loss lasts, at most once a
 * second, by the type of event lost */
void session_check_lost(struct session *s)
{
	__u64 c[RW_CNT__MAX] = {}, all;
	json_object *j, *by;

	if (kstate_counters(s->l, c))
		return;
	all = c[RW_CNT_RB_FULL] + c[RW_CNT_RB_FULL_PROC];
	if (all == s->lost)
		return;
	j = json_object_new_object();
	by = json_object_new_object();
	json_object_object_add(j, "lost", json_object_new_int64(all - s->lost));
	json_object_object_add(j, "lost_total", json_object_new_int64(all));
	for (int t = 0; t < RW_CNT_LOST_TYPES; t++) {
		__u64 n = c[RW_CNT_LOST_TYPE + t] - s->lost_type[t];

		if (n && event_type_name(t))
			json_object_object_add(by, event_type_name(t),
					       json_object_new_int64(n));
		s->lost_type[t] = c[RW_CNT_LOST_TYPE + t];
	}
	json_object_object_add(j, "by_type", by);
	pr_warn("%llu events lost: the ring buffer was full",
		(unsigned long long)(all - s->lost));
	s->lost = all;
	record_meta(&s->out, "lost", j);
}

/* matched events read from the ring, by every daemon of the set */
static __u64 consumed(const struct session *s)
{
	return s->consumed_base + s->seen[RW_EV_CONNECT] +
	       s->seen[RW_EV_SENDMSG] + s->seen[RW_EV_TLS] +
	       s->seen[RW_EV_HTTP] + s->seen[RW_EV_PROXY];
}

/* a persistent set learns that a daemon reads it (on_daemon_loss, the
 * next daemon's gap record) */
void session_heartbeat(struct session *s)
{
	__u64 c[RW_CNT__MAX] = {};

	if (kstate_counters(s->l, c))
		return;
	kstate_heartbeat(s->l, consumed(s), c);
}

void session_gap(struct session *s, const struct rw_meta *prev)
{
	__u64 c[RW_CNT__MAX] = {}, before[RW_EV__SEEN], now = wall_ns();
	__u64 drained = 0, emitted;
	__s64 unread;
	json_object *j = json_object_new_object(), *by = json_object_new_object();

	s->consumed_base = prev->consumed;
	memcpy(before, s->seen, sizeof(before));
	/* what queued meanwhile; a flood still going on is read by the loop */
	session_drain_for(s, 1000000000ULL);
	kstate_counters(s->l, c);
	for (int t = 0; t < RW_EV__SEEN; t++) {
		__u64 n = s->seen[t] - before[t];

		if (!event_type_name(t) || t == RW_EV_EXISTING)
			continue;
		json_object_object_add(by, event_type_name(t),
				       json_object_new_int64(n));
		if (rw_ev_matched(t))
			drained += n;
	}
	/* matched events the kernel queued, against those read by anyone */
	emitted = c[RW_CNT_MATCHED] - c[RW_CNT_SUPPRESSED] - c[RW_CNT_RB_FULL];
	unread = (__s64)(emitted - consumed(s));
#define D(k, i) json_object_object_add(j, k, json_object_new_int64( \
		(__s64)(c[i] - prev->counters[i])))
	json_object_object_add(j, "down_ms", json_object_new_int64(
		prev->heartbeat_wall && now > prev->heartbeat_wall ?
			(now - prev->heartbeat_wall) / 1000000 : 0));
	json_object_object_add(j, "previous_pid",
			       json_object_new_int64(prev->daemon_pid));
	D("matched", RW_CNT_MATCHED);
	D("suppressed", RW_CNT_SUPPRESSED);
	D("lost", RW_CNT_RB_FULL);
	D("lost_other", RW_CNT_RB_FULL_PROC);
	D("allow", RW_CNT_ACT_ALLOW);
	D("alert", RW_CNT_ACT_ALERT);
	D("deny", RW_CNT_ACT_DENY);
	D("kill", RW_CNT_ACT_KILL);
	D("blocked", RW_CNT_BLOCKED);
	D("kernel_kills", RW_CNT_KILLS);
#undef D
	json_object_object_add(j, "drained", json_object_new_int64(drained));
	json_object_object_add(j, "drained_by_type", by);
	/* > 0: queued, read by no one (cannot happen after a drain);
	 * < 0: read by the previous daemon after its last heartbeat, so
	 * perhaps never written */
	json_object_object_add(j, "read_unrecorded",
			       json_object_new_int64(unread < 0 ? -unread : 0));
	record_meta(&s->out, "gap", j);
}
