// SPDX-License-Identifier: MIT
/*
 * --output ocsf: each network record as an OCSF 1.8.0 Network Activity
 * event (class 4001), built from the native record (sink_json_object) so
 * nothing is classified twice; what OCSF has no attribute for goes to
 * `unmapped`. The mapping table is docs/ocsf.md; tests validate every
 * record against docs/schema/ocsf-1.8.0-network_activity.schema.json,
 * compiled from the OCSF sources by scripts/ocsf_schema.py. Records that
 * are not network activity (exec, exit, cgroup_escape, rate_limited and
 * the daemon's own: start, policy, stats, ...) are not written in this
 * format: they stay in the native JSON (--output json, --syslog).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "output.h"
#include "record.h"
#include "sink.h"
#include "watch.h"

#define OCSF_VERSION "1.8.0"
#define CLASS_UID 4001
#define CATEGORY_UID 4

enum { ACT_OPEN = 1, ACT_CLOSE = 2, ACT_REFUSE = 5, ACT_TRAFFIC = 6,
       ACT_OTHER = 99 };

static const char *activity_name(int a)
{
	switch (a) {
	case ACT_OPEN: return "Open";
	case ACT_CLOSE: return "Close";
	case ACT_REFUSE: return "Refuse";
	case ACT_TRAFFIC: return "Traffic";
	default: return "Other";
	}
}

static json_object *take(json_object *native, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(native, k, &v) || !v)
		return NULL;
	return json_object_get(v);
}

static void put(json_object *o, const char *k, json_object *v)
{
	if (v)
		json_object_object_add(o, k, v);
}

static const char *str(json_object *native, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(native, k, &v) && v &&
	       json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

static void put_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

/* the acting process, from the native attribution fields */
static json_object *actor(json_object *n)
{
	json_object *a = json_object_new_object(), *p = json_object_new_object();
	json_object *u = json_object_new_object(), *f, *pp, *v;
	const char *exe = str(n, "exe"), *sha = str(n, "sha256");

	put(p, "pid", take(n, "pid"));
	put(p, "tid", take(n, "tid"));
	put_str(p, "name", str(n, "comm"));
	put_str(p, "cmd_line", str(n, "cmdline"));
	if (exe) {
		const char *base = strrchr(exe, '/');

		f = json_object_new_object();
		put_str(f, "path", exe);
		put_str(f, "name", base ? base + 1 : exe);
		/* type_id 8: Executable File */
		json_object_object_add(f, "type_id", json_object_new_int(8));
		if (sha) {
			json_object *h = json_object_new_object();
			json_object *arr = json_object_new_array();

			/* algorithm_id 3: SHA-256 */
			json_object_object_add(h, "algorithm_id",
					       json_object_new_int(3));
			put_str(h, "value", sha);
			json_object_array_add(arr, h);
			json_object_object_add(f, "hashes", arr);
		}
		json_object_object_add(p, "file", f);
	}
	if (json_object_object_get_ex(n, "uid", &v) && v) {
		put_str(u, "uid", json_object_get_string(v));
		put_str(u, "name", str(n, "user"));
		json_object_object_add(p, "user", json_object_get(u));
		json_object_object_add(a, "user", json_object_get(u));
	}
	json_object_put(u);
	if (json_object_object_get_ex(n, "ppid", &v) && v) {
		pp = json_object_new_object();
		put(pp, "pid", json_object_get(v));
		json_object_object_add(p, "parent_process", pp);
	}
	json_object_object_add(a, "process", p);
	return a;
}

/* the verdict: action_id, disposition_id, severity_id, status_id */
static void verdict(json_object *e, const char *action, int *activity)
{
	int act = 1, disp = 17, sev = 1, status = 1; /* allowed, logged */
	const char *dname = "Logged";

	if (!action) {
		/* no verdict of its own (a DNS answer, a flow) */
	} else if (!strcmp(action, "deny") || !strcmp(action, "kill")) {
		act = 2;
		disp = 2;
		dname = "Blocked";
		sev = action[0] == 'k' ? 4 : 3;
		status = 2;
		if (*activity == ACT_OPEN)
			*activity = ACT_REFUSE;
	} else if (!strncmp(action, "would_", 6)) {
		disp = 15;
		dname = "Detected";
		sev = 2;
	} else if (!strcmp(action, "alert")) {
		disp = 19;
		dname = "Alert";
		sev = 2;
	} else if (!strcmp(action, "allow")) {
		disp = 1;
		dname = "Allowed";
	}
	json_object_object_add(e, "action_id", json_object_new_int(act));
	put_str(e, "action", act == 2 ? "Denied" : "Allowed");
	json_object_object_add(e, "disposition_id", json_object_new_int(disp));
	put_str(e, "disposition", dname);
	json_object_object_add(e, "severity_id", json_object_new_int(sev));
	put_str(e, "severity", (const char *[]){ "Unknown", "Informational",
		"Low", "Medium", "High" }[sev]);
	json_object_object_add(e, "status_id", json_object_new_int(status));
	put_str(e, "status", status == 1 ? "Success" : "Failure");
}

/* the native fields OCSF attributes carry; the rest go to unmapped */
static const char *const mapped[] = {
	"ts", "host", "pid", "tid", "comm", "cmdline", "exe", "sha256", "uid",
	"user", "ppid", "daddr", "dport", "domain", "country", "proto",
	"family", "bytes", "packets", "flows", "first_seen", "last_seen",
	"cookie",
};

/* a native RFC 3339 time (output_ts: 2026-01-02T03:04:05.123456789Z) as
 * OCSF's timestamp_t, milliseconds since the epoch; -1 when it is not one */
static long long epoch_ms(const char *ts)
{
	struct tm tm = { 0 };
	const char *rest = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	long long ms = 0;

	if (!rest)
		return -1;
	if (*rest == '.')
		for (int i = 0; i < 3 && rest[1] >= '0' && rest[1] <= '9'; i++)
			ms += (*++rest - '0') * (i == 0 ? 100 : i == 1 ? 10 : 1);
	return (long long)timegm(&tm) * 1000 + ms;
}

static void put_time(json_object *e, const char *k, const char *ts)
{
	long long ms = epoch_ms(ts);

	if (ms >= 0)
		json_object_object_add(e, k, json_object_new_int64(ms));
}

static json_object *unmapped(json_object *n)
{
	json_object *u = json_object_new_object();

	json_object_object_foreach(n, k, v) {
		size_t i;

		for (i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++)
			if (!strcmp(k, mapped[i]))
				break;
		if (i == sizeof(mapped) / sizeof(mapped[0]) && v)
			json_object_object_add(u, k, json_object_get(v));
	}
	return u;
}

static void emit(struct sink *s, const struct output *o,
		 const struct record *r)
{
	json_object *n, *e, *meta, *prod, *dst, *src, *ci, *v;
	int activity;
	__s64 ms;
	char msg[512], dest[320], cookie[24];

	switch (r->kind) {
	case REC_NET: case REC_NAME: activity = ACT_OPEN; break;
	case REC_FLOW: activity = ACT_CLOSE; break;
	case REC_DNS: activity = ACT_TRAFFIC; break;
	case REC_KILL: activity = ACT_OTHER; break;
	default: return; /* not network activity */
	}
	n = sink_json_object(o, r);
	e = json_object_new_object();
	ms = ((__s64)r->ktime + o->boot_to_real_ns) / 1000000;
	json_object_object_add(e, "class_uid", json_object_new_int(CLASS_UID));
	put_str(e, "class_name", "Network Activity");
	json_object_object_add(e, "category_uid",
			       json_object_new_int(CATEGORY_UID));
	put_str(e, "category_name", "Network Activity");
	json_object_object_add(e, "time", json_object_new_int64(ms));
	verdict(e, r->action, &activity);
	json_object_object_add(e, "activity_id", json_object_new_int(activity));
	put_str(e, "activity_name", r->kind == REC_KILL ? "Process Killed" :
		activity_name(activity));
	json_object_object_add(e, "type_uid",
			       json_object_new_int64(CLASS_UID * 100 + activity));
	if (r->domain && r->has_addr)
		snprintf(dest, sizeof(dest), "%s (%s port %d)", r->domain,
			 r->daddr, r->dport);
	else if (r->has_addr)
		snprintf(dest, sizeof(dest), "%s port %d", r->daddr, r->dport);
	else
		snprintf(dest, sizeof(dest), "%s", r->domain ? r->domain : "");
	snprintf(msg, sizeof(msg), "%s %s %s by %s", r->action ? r->action :
		 "seen", r->event, dest, r->comm[0] ? r->comm : "?");
	put_str(e, "message", msg);
	meta = json_object_new_object();
	prod = json_object_new_object();
	put_str(prod, "name", "relaywatch");
	put_str(prod, "vendor_name", "relaywatch");
	put_str(prod, "version", VERSION);
	json_object_object_add(meta, "product", prod);
	put_str(meta, "version", OCSF_VERSION);
	put_str(meta, "log_name", r->event);
	if (r->cookie) {
		/* the socket's: a flow, its connect and its name record
		 * share it (a dns record's is the socket that asked) */
		snprintf(cookie, sizeof(cookie), "%llu",
			 (unsigned long long)r->cookie);
		put_str(meta, "correlation_uid", cookie);
	}
	v = json_object_new_array();
	json_object_array_add(v, json_object_new_string("host"));
	json_object_array_add(v, json_object_new_string("security_control"));
	json_object_object_add(meta, "profiles", v);
	json_object_object_add(e, "metadata", meta);
	dst = json_object_new_object();
	if (r->has_addr) {
		put_str(dst, "ip", r->daddr);
		json_object_object_add(dst, "port", json_object_new_int(r->dport));
	}
	put_str(dst, "hostname", r->domain);
	if (r->has_class && r->dest.country) {
		json_object *loc = json_object_new_object();

		put_str(loc, "country", r->dest.country);
		json_object_object_add(dst, "location", loc);
	}
	/* a kill has no destination: OCSF wants at least one attribute of an
	 * endpoint, and src_endpoint of a Network Activity is enough */
	if (json_object_object_length(dst))
		json_object_object_add(e, "dst_endpoint", dst);
	else
		json_object_put(dst);
	src = json_object_new_object();
	put_str(src, "hostname", o->host);
	json_object_object_add(e, "src_endpoint", src);
	v = json_object_new_object();
	put_str(v, "hostname", o->host);
	json_object_object_add(v, "type_id", json_object_new_int(1)); /* server */
	json_object_object_add(e, "device", v);
	if (r->proto) {
		ci = json_object_new_object();
		put_str(ci, "protocol_name", r->proto);
		json_object_object_add(ci, "direction_id", json_object_new_int(2));
		put_str(ci, "direction", "Outbound");
		if (r->family)
			json_object_object_add(ci, "protocol_ver_id",
				json_object_new_int(!strcmp(r->family, "ipv6") ?
						    6 : 4));
		json_object_object_add(e, "connection_info", ci);
	}
	if (r->kind == REC_FLOW) {
		v = json_object_new_object();
		put(v, "bytes_out", take(n, "bytes"));
		put(v, "packets_out", take(n, "packets"));
		json_object_object_add(e, "traffic", v);
		put(e, "count", take(n, "flows"));
		put_time(e, "start_time", str(n, "first_seen"));
		put_time(e, "end_time", str(n, "last_seen"));
	}
	json_object_object_add(e, "actor", actor(n));
	json_object_object_add(e, "unmapped", unmapped(n));
	json_object_put(n);
	fprintf(s->f, "%s\n", json_object_to_json_string_ext(e,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(s->f);
	json_object_put(e);
}

static void sink_free(struct sink *s)
{
	free(s);
}

struct sink *sink_ocsf_new(FILE *f)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = "ocsf";
	s->emit = emit;
	s->free = sink_free;
	s->f = f;
	return s;
}
