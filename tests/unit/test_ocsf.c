// SPDX-License-Identifier: MIT
/* sinks/ocsf.c: which records become OCSF Network Activity, the verdict's
 * mapping (docs/ocsf.md), the fields of a record with everything known.
 * With RW_OCSF_OUT=FILE every record written is appended to FILE, so
 * tests/e2e/ocsf.bats validates these variants against the vendored
 * schema too (the daemon's tests cannot easily produce all of them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "output.h"
#include "proc.h"
#include "record.h"
#include "util.h"

static char *buf;
static size_t len, seen;   /* seen: what emit() has read of buf */
static struct output o;
static FILE *f;            /* the sink's file, writing to buf */

/* an output with only the OCSF sink, writing to buf */
static int setup(void **state)
{
	(void)state;
	f = open_memstream(&buf, &len);
	if (!f)
		return -1;
	seen = 0;
	output_init(&o, f, OUT_OCSF);
	return o.nr_sinks == 1 ? 0 : -1;
}

static int teardown(void **state)
{
	const char *out = getenv("RW_OCSF_OUT");

	(void)state;
	fflush(f);
	if (out && len) {
		FILE *g = fopen(out, "a");

		if (g) {
			fwrite(buf, 1, len, g);
			fclose(g);
		}
	}
	output_free(&o);
	fclose(f);
	free(buf);
	buf = NULL;
	return 0;
}

/* the record r as written: NULL when nothing was; each call reads the
 * next line */
static json_object *emit(const struct record *r)
{
	json_object *j;

	output_emit(&o, r);
	fflush(f);
	if (len == seen)
		return NULL;
	j = json_tokener_parse(buf + seen);
	assert_non_null(j);
	assert_int_equal(buf[len - 1], '\n');
	seen = len;
	return j;
}

/* a dotted path of j: NULL when absent */
static json_object *at(json_object *j, const char *path)
{
	char key[64];

	while (j && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(j, key, &j))
			return NULL;
		path += n + (path[n] == '.');
	}
	return j;
}

static int num(json_object *j, const char *path)
{
	json_object *v = at(j, path);

	assert_non_null(v);
	return json_object_get_int(v);
}

static const char *text(json_object *j, const char *path)
{
	json_object *v = at(j, path);

	assert_non_null(v);
	return json_object_get_string(v);
}

static struct record net(const char *action, bool enforced)
{
	struct record r = {
		.kind = REC_NET, .event = "connect", .ktime = boot_ns(),
		.action = action, .rule = action ? "r1" : NULL,
		.enforced = enforced, .has_addr = true, .family = "ipv4",
		.proto = "tcp", .daddr = "192.0.2.7", .dport = 443,
		.pid = 4242, .comm = "agent", .suppressed = -1,
	};

	return r;
}

static void test_network_records_only(void **state)
{
	struct record r = net("deny", true);
	json_object *j;

	(void)state;
	r.kind = REC_META;
	r.event = "start";
	r.action = NULL;
	r.has_addr = false;
	assert_null(emit(&r));
	r.kind = REC_PROC;
	r.event = "exec";
	assert_null(emit(&r));
	r.kind = REC_ESCAPE;
	r.event = "cgroup_escape";
	assert_null(emit(&r));
	r = net("deny", true);
	j = emit(&r);
	assert_non_null(j);
	assert_int_equal(num(j, "class_uid"), 4001);
	assert_int_equal(num(j, "category_uid"), 4);
	assert_string_equal(text(j, "metadata.log_name"), "connect");
	json_object_put(j);
}

static void test_verdicts(void **state)
{
	static const struct {
		const char *action;
		bool enforced;
		int disposition, action_id, severity, status, activity;
	} t[] = {
		{ "deny", true, 2, 2, 3, 2, 5 },
		{ "would_deny", false, 15, 1, 2, 1, 1 },
		{ "kill", true, 2, 2, 4, 2, 5 },
		{ "would_kill", false, 15, 1, 2, 1, 1 },
		{ "alert", false, 19, 1, 2, 1, 1 },
		{ "allow", false, 1, 1, 1, 1, 1 },
		{ NULL, false, 17, 1, 1, 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct record r = net(t[i].action, t[i].enforced);
		json_object *j = emit(&r);

		assert_non_null(j);
		assert_int_equal(num(j, "disposition_id"), t[i].disposition);
		assert_int_equal(num(j, "action_id"), t[i].action_id);
		assert_int_equal(num(j, "severity_id"), t[i].severity);
		assert_int_equal(num(j, "status_id"), t[i].status);
		assert_int_equal(num(j, "activity_id"), t[i].activity);
		assert_int_equal(num(j, "type_uid"), 400100 + t[i].activity);
		json_object_put(j);
	}
}

static void test_everything_known(void **state)
{
	static struct proc_info pi = {
		.pid = 4242, .ppid = 4200, .uid = 1000, .user = "dev",
		.comm = "agent", .exe = "/opt/agent/bin/agent",
		.sha256 = "aa11aa11aa11aa11aa11aa11aa11aa11"
			  "aa11aa11aa11aa11aa11aa11aa11aa11",
		.cmdline = "agent --chat", .cgroup = "/rw-unit",
	};
	struct record r = net("deny", true);
	json_object *j, *h;

	(void)state;
	r.kind = REC_NAME;
	r.event = "tls";
	r.family = "ipv6";
	snprintf(r.daddr, sizeof(r.daddr), "2001:db8::7");
	r.has_class = true;
	r.domain = "api.example.com";
	r.dest.country = "US";
	r.dest.overseas = 1;
	r.cookie = 77;
	r.tid = 4243;
	r.pi = &pi;
	j = emit(&r);
	assert_non_null(j);
	assert_string_equal(text(j, "dst_endpoint.ip"), "2001:db8::7");
	assert_int_equal(num(j, "dst_endpoint.port"), 443);
	assert_string_equal(text(j, "dst_endpoint.hostname"), "api.example.com");
	assert_string_equal(text(j, "dst_endpoint.location.country"), "US");
	assert_int_equal(num(j, "connection_info.protocol_ver_id"), 6);
	assert_int_equal(num(j, "connection_info.direction_id"), 2);
	assert_string_equal(text(j, "metadata.correlation_uid"), "77");
	assert_string_equal(text(j, "src_endpoint.hostname"), o.host);
	assert_int_equal(num(j, "actor.process.pid"), 4242);
	assert_int_equal(num(j, "actor.process.tid"), 4243);
	assert_string_equal(text(j, "actor.process.cmd_line"), "agent --chat");
	assert_string_equal(text(j, "actor.process.file.path"), pi.exe);
	assert_string_equal(text(j, "actor.process.file.name"), "agent");
	h = json_object_array_get_idx(at(j, "actor.process.file.hashes"), 0);
	assert_int_equal(num(h, "algorithm_id"), 3);
	assert_string_equal(text(h, "value"), pi.sha256);
	assert_string_equal(text(j, "actor.process.user.uid"), "1000");
	assert_string_equal(text(j, "actor.user.name"), "dev");
	assert_int_equal(num(j, "actor.process.parent_process.pid"), 4200);
	/* what OCSF has no attribute for, and only that, in unmapped */
	assert_string_equal(text(j, "unmapped.rule"), "r1");
	assert_string_equal(text(j, "unmapped.cgroup"), "/rw-unit");
	assert_null(at(j, "unmapped.daddr"));
	assert_null(at(j, "unmapped.cookie"));
	assert_null(at(j, "unmapped.exe"));
	json_object_put(j);
}

static void test_flow_dns_kill(void **state)
{
	struct record r = net("alert", false);
	json_object *j;

	(void)state;
	r.kind = REC_FLOW;
	r.event = "flow";
	r.extra = json_object_new_object();
	json_object_object_add(r.extra, "bytes", json_object_new_int64(1500));
	json_object_object_add(r.extra, "flows", json_object_new_int64(3));
	json_object_object_add(r.extra, "first_seen",
		json_object_new_string("2026-01-02T03:04:05.123456789Z"));
	json_object_object_add(r.extra, "last_seen",
		json_object_new_string("2026-01-02T03:04:06.000999999Z"));
	j = emit(&r);
	json_object_put(r.extra);
	assert_int_equal(num(j, "activity_id"), 2);
	assert_int_equal(num(j, "traffic.bytes_out"), 1500);
	assert_int_equal(num(j, "count"), 3);
	/* 2026-01-02T03:04:05Z is 1767323045 s after the epoch */
	assert_int_equal(json_object_get_int64(at(j, "start_time")),
			 1767323045123LL);
	assert_int_equal(json_object_get_int64(at(j, "end_time")),
			 1767323046000LL);
	json_object_put(j);

	r = net(NULL, false);
	r.kind = REC_DNS;
	r.event = "dns";
	r.has_addr = false;
	r.proto = NULL;
	r.family = NULL;
	r.has_class = true;
	r.domain = "api.example.com";
	j = emit(&r);
	assert_int_equal(num(j, "activity_id"), 6);
	assert_string_equal(text(j, "disposition"), "Logged");
	assert_string_equal(text(j, "dst_endpoint.hostname"), "api.example.com");
	assert_null(at(j, "dst_endpoint.ip"));
	assert_null(at(j, "connection_info"));
	json_object_put(j);

	r = net("kill", true);
	r.kind = REC_KILL;
	r.event = "kill";
	r.has_addr = false;
	r.proto = NULL;
	j = emit(&r);
	assert_int_equal(num(j, "activity_id"), 99);
	assert_string_equal(text(j, "activity_name"), "Process Killed");
	assert_int_equal(num(j, "severity_id"), 4);
	/* no destination: the endpoint would be empty, which OCSF refuses */
	assert_null(at(j, "dst_endpoint"));
	assert_non_null(at(j, "src_endpoint.hostname"));
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_network_records_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_everything_known,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_dns_kill,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
