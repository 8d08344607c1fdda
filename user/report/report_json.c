// SPDX-License-Identifier: MIT
/* report --format json: the same figures as the text, one JSON object
 * built with json-c (paths and names escaped by the library). */
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void add_u64(json_object *j, const char *k, __u64 v)
{
	json_object_object_add(j, k, json_object_new_uint64(v));
}

static void add_time(json_object *j, const char *k, __s64 ns)
{
	char t[40];

	report_fmt_time(ns, t, sizeof(t));
	json_object_object_add(j, k, ns ? json_object_new_string(t) : NULL);
}

/* the fields of a tab-joined key under names[] */
static json_object *split(const char *key, const char *const *names, int n)
{
	json_object *j = json_object_new_object();
	const char *p = key;

	for (int i = 0; i < n; i++) {
		size_t len = p ? strcspn(p, "\t") : 0;

		json_object_object_add(j, names[i], p ?
			json_object_new_string_len(p, len) : NULL);
		p = p && p[len] ? p + len + 1 : NULL;
	}
	return j;
}

static json_object *stats(const struct rep_stats *s)
{
	static const char *const dn[] = { "category", "provider" };
	json_object *j = json_object_new_object();
	json_object *acts = json_object_new_object();
	json_object *dests = json_object_new_array();
	json_object *cs = json_object_new_object();
	struct rtab_ent **l;

	add_u64(j, "records", s->records);
	add_u64(j, "connects", s->connects);
	add_u64(j, "names", s->names);
	add_u64(j, "existing", s->existing);
	add_u64(j, "dns", s->dns);
	add_u64(j, "flows", s->flows);
	add_u64(j, "bytes", s->bytes);
	add_u64(j, "packets", s->packets);
	add_u64(j, "exits", s->exits);
	add_u64(j, "kills", s->kills);
	add_u64(j, "credentials", s->credentials);
	add_u64(j, "credentials_not_inspected", s->cred_errors);
	for (int a = 0; a < RA_N; a++)
		if (s->actions[a])
			add_u64(acts, rep_action_names[a], s->actions[a]);
	json_object_object_add(j, "actions", acts);
	l = rtab_list(&s->dests, NULL);
	for (size_t i = 0; l && l[i]; i++) {
		const struct rep_dest *d = l[i]->val;
		json_object *o = split(l[i]->key, dn, 2);

		add_u64(o, "connects", d->connects);
		add_u64(o, "names", d->names);
		add_u64(o, "flows", d->flows);
		add_u64(o, "bytes", d->bytes);
		json_object_array_add(dests, o);
	}
	free(l);
	json_object_object_add(j, "destinations", dests);
	l = report_by_count(&s->countries);
	for (size_t i = 0; l && l[i]; i++)
		add_u64(cs, l[i]->key, *(__u64 *)l[i]->val);
	free(l);
	json_object_object_add(j, "countries", cs);
	add_time(j, "first_seen", s->first_ns);
	add_time(j, "last_seen", s->last_ns);
	return j;
}

static json_object *creds(const struct rep_group *g)
{
	struct rtab_ent **l = report_by_count(&g->creds);
	json_object *a = json_object_new_array();

	for (size_t i = 0; l && l[i]; i++) {
		json_object *o = split(l[i]->key, rep_cred_fields, REP_CRED_N);

		add_u64(o, "records", *(__u64 *)l[i]->val);
		json_object_array_add(a, o);
	}
	free(l);
	return a;
}

static json_object *groups(const struct rtab *t, const char *name,
			   bool binaries)
{
	static const char *const bn[] = { "exe", "sha256" };
	struct rtab_ent **l = report_groups_by_records(t);
	json_object *a = json_object_new_array();

	for (size_t i = 0; l && l[i]; i++) {
		const struct rep_group *g = l[i]->val;
		json_object *o = binaries ? split(l[i]->key, bn, 2) :
					    json_object_new_object();

		if (!binaries)
			json_object_object_add(o, name,
				json_object_new_string(l[i]->key));
		json_object_object_add(o, "stats", stats(&g->s));
		if (binaries)
			json_object_object_add(o, "credentials", creds(g));
		json_object_array_add(a, o);
	}
	free(l);
	return a;
}

static json_object *top(struct rtab_ent **l, const char *k, bool bytes)
{
	static const char *const bn[] = { "exe", "sha256" };
	json_object *a = json_object_new_array();

	for (size_t i = 0; l && l[i] && i < 10; i++) {
		const struct rep_stats *s = &((struct rep_group *)l[i]->val)->s;
		json_object *o;

		if (bytes ? !s->bytes : !s->connects)
			break;
		o = split(l[i]->key, bn, 2);
		add_u64(o, k, bytes ? s->bytes : s->connects);
		json_object_array_add(a, o);
	}
	free(l);
	return a;
}

int report_json(const struct report *r, FILE *f)
{
	static const char *const kn[] = { "action", "rule", "exe", "sha256",
		"destination", "domain" };
	json_object *j = json_object_new_object(), *a, *o;
	struct rtab_ent **l;

	a = json_object_new_array();
	for (size_t i = 0; i < r->nr_files; i++)
		json_object_array_add(a, json_object_new_string(r->files[i]));
	json_object_object_add(j, "files", a);
	add_u64(j, "lines", r->lines);
	add_u64(j, "records", r->records);
	add_u64(j, "in_range", r->records - r->filtered);
	add_u64(j, "filtered_out", r->filtered);
	add_u64(j, "credited_by_pid", r->by_pid);
	add_time(j, "since", r->since ? r->since_ns : 0);
	add_time(j, "until", r->until ? r->until_ns : 0);
	o = json_object_new_object();
	l = report_by_count(&r->events);
	for (size_t i = 0; l && l[i]; i++)
		add_u64(o, l[i]->key, *(__u64 *)l[i]->val);
	free(l);
	json_object_object_add(j, "events", o);
	json_object_object_add(j, "totals", stats(&r->total));
	json_object_object_add(j, "top_by_bytes",
			       top(report_groups_by_bytes(&r->bins), "bytes",
				   true));
	json_object_object_add(j, "top_by_connects",
			       top(report_groups_by_connects(&r->bins),
				   "connects", false));
	a = json_object_new_array();
	l = report_by_count(&r->blocked);
	for (size_t i = 0; l && l[i]; i++) {
		o = split(l[i]->key, kn, 6);
		add_u64(o, "count", *(__u64 *)l[i]->val);
		json_object_array_add(a, o);
	}
	free(l);
	json_object_object_add(j, "denied_and_killed", a);
	json_object_object_add(j, "binaries", groups(&r->bins, "exe", true));
	json_object_object_add(j, "users", groups(&r->users, "user", false));
	json_object_object_add(j, "workloads",
			       groups(&r->works, "workload", false));
	a = json_object_new_array();
	for (size_t i = 0; i < r->nr_bad_kept; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "where",
				       json_object_new_string(r->bad[i].where));
		json_object_object_add(o, "reason",
				       json_object_new_string(r->bad[i].why));
		json_object_array_add(a, o);
	}
	json_object_object_add(j, "bad_lines", a);
	add_u64(j, "bad_lines_total", r->nr_bad);
	fprintf(f, "%s\n", json_object_to_json_string_ext(j,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return 0;
}
