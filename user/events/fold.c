// SPDX-License-Identifier: MIT
/* Folding repeats before attribution (fold.h). Open addressing, bounded:
 * a full table folds nothing more, it never drops. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

#define SECOND_NS 1000000000ULL

int fold_init(struct fold *f, __u64 window_ns, __u32 rate)
{
	memset(f, 0, sizeof(*f));
	f->window_ns = window_ns;
	f->rate = rate;
	f->flows = calloc(FOLD_FLOWS, sizeof(*f->flows));
	f->procs = calloc(FOLD_PROCS, sizeof(*f->procs));
	if (!f->flows || !f->procs) {
		fold_free(f);
		return -ENOMEM;
	}
	return 0;
}

void fold_free(struct fold *f)
{
	free(f->flows);
	free(f->procs);
	f->flows = NULL;
	f->procs = NULL;
}

static bool same_flow(const struct rw_flow_event *a,
		      const struct rw_flow_event *b)
{
	return a->tgid == b->tgid && a->dport == b->dport &&
	       a->family == b->family && a->rule == b->rule &&
	       a->gen == b->gen && a->action == b->action &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

static size_t hash(__u32 tgid, const __u8 *addr, size_t n, __u16 port)
{
	__u64 h = 1469598103934665603ULL ^ tgid ^ ((__u64)port << 32);

	for (size_t i = 0; i < n; i++)
		h = (h ^ addr[i]) * 1099511628211ULL;
	return h;
}

bool fold_flow(struct fold *f, const struct rw_flow_event *e, __u64 now_ns)
{
	size_t h;

	if (!f->window_ns || !f->flows)
		return true;
	h = hash(e->tgid, e->daddr, sizeof(e->daddr), e->dport);
	for (size_t i = 0; i < 64; i++) {
		struct fold_flow *s = &f->flows[(h + i) % FOLD_FLOWS];

		if (!s->used) {
			/* the first of its window: written now */
			s->used = true;
			s->start_ns = now_ns;
			s->flows = 0;
			s->agg = *e;
			s->agg.bytes = s->agg.pkts = 0;
			s->agg.first_ktime = s->agg.last_ktime = 0;
			return true;
		}
		if (!same_flow(&s->agg, e))
			continue;
		if (!s->flows) {
			s->agg.first_ktime = e->first_ktime;
			s->agg.hdr = e->hdr;
		}
		s->flows++;
		s->agg.bytes += e->bytes;
		s->agg.pkts += e->pkts;
		s->agg.cookie = e->cookie;
		s->agg.flags |= e->flags;
		if (e->last_ktime > s->agg.last_ktime)
			s->agg.last_ktime = e->last_ktime;
		if (e->first_ktime && (!s->agg.first_ktime ||
				       e->first_ktime < s->agg.first_ktime))
			s->agg.first_ktime = e->first_ktime;
		s->agg.hdr.ktime = e->hdr.ktime;
		f->folded_flows++;
		return false;
	}
	return true; /* no room near its slot: unfolded */
}

bool fold_admit(struct fold *f, __u32 tgid, int type, __u64 now_ns)
{
	struct fold_proc *free_slot = NULL;
	size_t h;

	if (!f->rate || !f->procs)
		return true;
	h = hash(tgid, NULL, 0, 0);
	for (size_t i = 0; i < 64; i++) {
		struct fold_proc *p = &f->procs[(h + i) % FOLD_PROCS];

		if (!p->tgid) {
			free_slot = free_slot ?: p;
			break;
		}
		if (p->tgid != tgid)
			continue;
		if (p->records < f->rate) {
			p->records++;
			return true;
		}
		p->capped++;
		if (type >= 0 && type < FOLD_TYPES)
			p->capped_by[type]++;
		f->capped++;
		return false;
	}
	if (!free_slot)
		return true; /* no room: not capped */
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->tgid = tgid;
	free_slot->start_ns = now_ns;
	free_slot->records = 1;
	return true;
}

/* removing from open addressing: the entries after it that hashed before
 * it move back (backward shift), so lookups never stop early */
#define REMOVE(tab, size, idx, home_of)                                        \
	do {                                                                   \
		size_t _i = (idx), _j = (idx);                                 \
		for (;;) {                                                     \
			_j = (_j + 1) % (size);                                \
			if (!home_of(&(tab)[_j], &_home))                      \
				break;                                         \
			if ((_j > _i && (_home <= _i || _home > _j)) ||        \
			    (_j < _i && (_home <= _i && _home > _j))) {        \
				(tab)[_i] = (tab)[_j];                         \
				_i = _j;                                       \
			}                                                      \
		}                                                              \
		memset(&(tab)[_i], 0, sizeof((tab)[_i]));                      \
	} while (0)

static bool flow_home(const struct fold_flow *s, size_t *home)
{
	if (!s->used)
		return false;
	*home = hash(s->agg.tgid, s->agg.daddr, sizeof(s->agg.daddr),
		     s->agg.dport) % FOLD_FLOWS;
	return true;
}

static bool proc_home(const struct fold_proc *p, size_t *home)
{
	if (!p->tgid)
		return false;
	*home = hash(p->tgid, NULL, 0, 0) % FOLD_PROCS;
	return true;
}

void fold_take_proc(struct fold *f, __u32 tgid, __u64 *n, __u64 *by_type)
{
	size_t h = hash(tgid, NULL, 0, 0), _home;

	*n = 0;
	for (size_t i = 0; f->procs && i < 64; i++) {
		size_t idx = (h + i) % FOLD_PROCS;
		struct fold_proc *p = &f->procs[idx];

		if (!p->tgid)
			return;
		if (p->tgid != tgid)
			continue;
		*n = p->capped;
		memcpy(by_type, p->capped_by, sizeof(p->capped_by));
		REMOVE(f->procs, FOLD_PROCS, idx, proc_home);
		return;
	}
}

void fold_flush(struct fold *f, __u64 now_ns, bool all,
		void (*flow)(void *ctx, const struct rw_flow_event *agg,
			     __u64 flows),
		void (*capped)(void *ctx, __u32 tgid, __u64 n,
			       const __u64 *by_type),
		void *ctx)
{
	size_t _home;

	for (size_t i = 0; f->flows && i < FOLD_FLOWS; i++) {
		struct fold_flow *s = &f->flows[i];

		while (s->used && (all || now_ns - s->start_ns >= f->window_ns)) {
			if (s->flows)
				flow(ctx, &s->agg, s->flows);
			REMOVE(f->flows, FOLD_FLOWS, i, flow_home);
		}
	}
	for (size_t i = 0; f->procs && i < FOLD_PROCS; i++) {
		struct fold_proc *p = &f->procs[i];

		while (p->tgid && (all || now_ns - p->start_ns >= SECOND_NS)) {
			if (p->capped)
				capped(ctx, p->tgid, p->capped, p->capped_by);
			REMOVE(f->procs, FOLD_PROCS, i, proc_home);
		}
	}
}
