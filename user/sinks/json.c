// SPDX-License-Identifier: MIT
/* JSON lines through json-c (escaping done by a library, not by hand).
 * Field names are an interface: README lists them; add fields, never
 * rename. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "intel.h"
#include "output.h"
#include "proc.h"
#include "record.h"
#include "sink.h"
#include "utf8.h"

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
	json_object_object_add(j, "cmdline_truncated",
			       json_object_new_boolean(pi->cmdline_truncated));
	json_object_object_add(j, "exe_truncated",
			       json_object_new_boolean(pi->exe_truncated));
	if (pi->exe_relative)
		json_object_object_add(j, "exe_relative",
				       json_object_new_boolean(true));
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

/*
 * Every string of the record valid UTF-8 (RFC 8259): a process chooses
 * its path and command line, and a DNS answer or SNI its name. Invalid
 * bytes become U+FFFD; a member's original bytes go base64-encoded into
 * "<name>_raw" beside it, so the repair is reversible.
 */
static void fix_utf8(json_object *j)
{
	struct { char *key; json_object *raw; } add[16];
	int nr_add = 0;

	if (json_object_is_type(j, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(j); i++) {
			json_object *v = json_object_array_get_idx(j, i);

			if (json_object_is_type(v, json_type_string) &&
			    !utf8_valid(json_object_get_string(v))) {
				const char *s = json_object_get_string(v);
				size_t cap = 3 * strlen(s) + 4;
				char *fixed = malloc(cap);

				if (!fixed)
					continue;
				utf8_repair(s, fixed, cap);
				json_object_array_put_idx(j, i,
					json_object_new_string(fixed));
				free(fixed);
			} else {
				fix_utf8(v);
			}
		}
		return;
	}
	if (!json_object_is_type(j, json_type_object))
		return;
	json_object_object_foreach(j, k, v) {
		const char *s;
		char *fixed, *b64, *raw_key;
		size_t n;

		if (!json_object_is_type(v, json_type_string)) {
			fix_utf8(v);
			continue;
		}
		s = json_object_get_string(v);
		if (utf8_valid(s) || nr_add == 16)
			continue;
		n = strlen(s);
		b64 = malloc(4 * ((n + 2) / 3) + 1);
		fixed = malloc(3 * n + 4);
		if (!b64 || !fixed || asprintf(&raw_key, "%s_raw", k) < 0) {
			free(b64);
			free(fixed);
			continue;
		}
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)s, n);
		utf8_repair(s, fixed, 3 * n + 4);
		/* replacing a member's value while iterating is allowed;
		 * adding members is not: those come after the loop */
		json_object_object_add(j, k, json_object_new_string(fixed));
		free(fixed);
		add[nr_add].key = raw_key;
		add[nr_add++].raw = json_object_new_string(b64);
		free(b64);
	}
	for (int i = 0; i < nr_add; i++) {
		json_object_object_add(j, add[i].key, add[i].raw);
		free(add[i].key);
	}
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
	/* last: a record still reads "event":"x","field":... */
	add_str(j, "host", o->host);
	add_str(j, "schema", OUTPUT_SCHEMA);
	fix_utf8(j);
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
