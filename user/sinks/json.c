// SPDX-License-Identifier: MIT
/* JSON lines through json-c (escaping done by a library, not by hand).
 * Field names are an interface: README lists them; add fields, never
 * rename. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "intel.h"
#include "output.h"
#include "proc.h"
#include "record.h"
#include "sink.h"

static void add_str(json_object *j, const char *k, const char *v)
{
	json_object_object_add(j, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(json_object *j, const char *k, __s64 v)
{
	json_object_object_add(j, k, json_object_new_int64(v));
}

/* the attribution fields shared by every process-related record */
static void add_proc(json_object *j, const struct proc_info *pi)
{
	json_object *par;

	if (!pi) {
		add_str(j, "attribution", "none");
		return;
	}
	add_str(j, "attribution", pi->from_snapshot ? "snapshot" : "proc");
	add_int(j, "ppid", pi->ppid);
	add_int(j, "uid", pi->uid);
	add_str(j, "user", pi->user);
	add_str(j, "exe", pi->exe);
	json_object_object_add(j, "exe_deleted",
			       json_object_new_boolean(pi->exe_deleted));
	add_str(j, "sha256", pi->sha256[0] ? pi->sha256 : NULL);
	add_str(j, "cmdline", pi->cmdline);
	add_str(j, "cgroup", pi->cgroup[0] ? pi->cgroup : NULL);
	add_str(j, "container", pi->container[0] ? pi->container : NULL);
	add_str(j, "unit", pi->unit[0] ? pi->unit : NULL);
	par = json_object_new_array();
	for (int i = 0; i < pi->nr_parents; i++) {
		json_object *p = json_object_new_object();

		add_int(p, "pid", pi->parents[i].pid);
		add_str(p, "exe", pi->parents[i].exe);
		json_object_array_add(par, p);
	}
	json_object_object_add(j, "parents", par);
}

json_object *sink_json_object(const struct output *o, const struct record *r)
{
	json_object *j = json_object_new_object();
	char ts[64];

	output_ts(o, r->ktime, ts, sizeof(ts));
	add_str(j, "ts", ts);
	add_str(j, "event", r->event);
	if (r->action) {
		add_str(j, "action", r->action);
		add_str(j, "rule", r->rule);
	}
	if (r->has_addr) {
		add_str(j, "family", r->family);
		add_str(j, "proto", r->proto);
		add_str(j, "daddr", r->daddr);
		add_int(j, "dport", r->dport);
		if (r->target_port)
			add_int(j, "target_port", r->target_port);
	}
	if (r->has_class) {
		add_str(j, "category", r->dest.entry ?
			intel_category_name(r->dest.category) : NULL);
		add_str(j, "provider", r->dest.provider);
		add_str(j, "domain", r->domain);
		if (r->has_addr) {
			add_str(j, "country", r->dest.country);
			json_object_object_add(j, "overseas",
				r->dest.overseas < 0 ? NULL :
				json_object_new_boolean(r->dest.overseas));
		}
	}
	if (r->kind != REC_META) {
		add_int(j, "pid", r->pid);
		if (r->tid)
			add_int(j, "tid", r->tid);
		add_str(j, "comm", r->comm[0] ? r->comm : NULL);
	}
	if (r->cookie)
		add_int(j, "cookie", (__s64)r->cookie);
	if (r->suppressed >= 0)
		add_int(j, "suppressed", r->suppressed);
	if (r->action)
		json_object_object_add(j, "enforced",
				       json_object_new_boolean(r->enforced));
	if (r->daemon_loss)
		json_object_object_add(j, "daemon_loss",
				       json_object_new_boolean(true));
	if (r->extra) {
		json_object_object_foreach(r->extra, k, v)
			json_object_object_add(j, k, json_object_get(v));
	}
	if (r->kind != REC_META) {
		add_proc(j, r->pi);
		if (!r->pi && r->has_uid)
			add_int(j, "uid", r->uid);
	}
	return j;
}

static void emit(struct sink *s, const struct output *o,
		 const struct record *r)
{
	json_object *j = sink_json_object(o, r);

	fprintf(s->f, "%s\n",
		json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(s->f);
	json_object_put(j);
}

static void sink_free(struct sink *s)
{
	free(s);
}

struct sink *sink_json_new(FILE *f)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = "json";
	s->emit = emit;
	s->free = sink_free;
	s->f = f;
	return s;
}
