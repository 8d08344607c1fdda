// SPDX-License-Identifier: MIT
/* The context records are built in, and their dispatch to the sinks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "record.h"
#include "sink.h"
#include "util.h"

int output_format_parse(const char *s)
{
	return !strcmp(s, "text") ? OUT_TEXT : !strcmp(s, "json") ? OUT_JSON :
	       !strcmp(s, "ocsf") ? OUT_OCSF : -1;
}

void output_init(struct output *o, FILE *f, enum output_format fmt)
{
	memset(o, 0, sizeof(*o));
	o->boot_to_real_ns = (__s64)wall_ns() - (__s64)boot_ns();
	o->text_fd = -1;
	if (gethostname(o->host, sizeof(o->host) - 1) || !o->host[0])
		strcpy(o->host, "unknown");
	o->sinks[o->nr_sinks++] = fmt == OUT_JSON ? sink_json_new(f) :
				  fmt == OUT_OCSF ? sink_ocsf_new(f) :
						    sink_text_new(f);
	if (!o->sinks[0])
		o->nr_sinks = 0;
}

int output_add_sink(struct output *o, struct sink *s)
{
	if (o->nr_sinks >= OUTPUT_SINKS)
		return -ENOSPC;
	o->sinks[o->nr_sinks++] = s;
	return 0;
}

void output_set_file(struct output *o, FILE *f)
{
	for (int i = 0; i < o->nr_sinks; i++)
		if (o->sinks[i]->f)
			o->sinks[i]->f = f;
}

void output_free(struct output *o)
{
	for (int i = 0; i < o->nr_sinks; i++)
		o->sinks[i]->free(o->sinks[i]);
	o->nr_sinks = 0;
}

void output_set_policy(struct output *o, unsigned gen,
		       const struct policy *p, const struct intel *in)
{
	o->gen = gen % RW_GENS;
	o->policy[o->gen] = p;
	o->intel = in;
}

void output_emit(struct output *o, const struct record *r)
{
	struct record now;

	/* "now" is taken once, so every sink writes the same time */
	if (!r->ktime) {
		now = *r;
		now.ktime = boot_ns();
		r = &now;
	}
	for (int i = 0; i < o->nr_sinks; i++)
		o->sinks[i]->emit(o->sinks[i], o, r);
}

void output_tick(struct output *o, bool all)
{
	for (int i = 0; i < o->nr_sinks; i++)
		if (o->sinks[i]->tick)
			o->sinks[i]->tick(o->sinks[i], all);
}

const char *output_action(int action, bool enforced)
{
	switch (action) {
	case RW_ACT_ALLOW: return "allow";
	case RW_ACT_ALERT: return "alert";
	case RW_ACT_DENY: return enforced ? "deny" : "would_deny";
	case RW_ACT_KILL: return enforced ? "kill" : "would_kill";
	default: return "none";
	}
}

void output_ts(const struct output *o, __u64 ktime, char *buf, size_t len)
{
	__s64 ns = ktime ? (__s64)ktime + o->boot_to_real_ns : (__s64)wall_ns();
	time_t sec = ns / 1000000000LL;
	struct tm tm;
	char day[32];

	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lldZ", day, (long long)(ns % 1000000000LL));
}

void output_addr(const __u8 *addr, bool v4, char *buf, size_t len)
{
	inet_ntop(v4 ? AF_INET : AF_INET6, addr, buf, len);
}
