// SPDX-License-Identifier: MIT
/* report: what a line adds (connects with suppressed, flow bytes,
 * decisions, credentials), the time filters, bad lines named file:line,
 * every grouping adding up to the totals, the timeline losing nothing
 * when it widens, gzip and long lines. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "report.h"

#define NS 1000000000LL

static const char curl[] = "/usr/bin/curl\t"
	"58824afa640f512e07e895c0f2d1e1fe2c3fd1456acab689b6e4c1c75cef2593";

/* a record as the daemon writes it, with the fields the report reads */
static char *rec(const char *event, const char *ts, const char *exe,
		 const char *user, const char *cgroup, const char *more)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "{\"ts\":\"%s\",\"event\":\"%s\",\"pid\":42,"
		 "\"uid\":0,\"user\":\"%s\",\"exe\":\"%s\",\"sha256\":"
		 "\"58824afa640f512e07e895c0f2d1e1fe2c3fd1456acab689b6e4c1c75cef2593\","
		 "\"cgroup\":\"%s\",\"container\":null,\"unit\":null%s%s,"
		 "\"host\":\"h\",\"schema\":\"relaywatch/1\"}", ts, event, user,
		 exe, cgroup, *more ? "," : "", more);
	return buf;
}

static void line(struct report *r, const char *s, __u64 n)
{
	report_line(r, s, strlen(s), "t.jsonl", n);
}

static void feed_sample(struct report *r)
{
	line(r, "{\"ts\":\"2026-12-05T10:00:00.000000000Z\",\"event\":\"start\","
	     "\"host\":\"h\",\"schema\":\"relaywatch/1\"}", 1);
	line(r, rec("connect", "2026-12-05T10:00:01.000000000Z",
		    "/usr/bin/curl", "root", "/a",
		    "\"action\":\"alert\",\"rule\":\"w\",\"daddr\":\"1.2.3.4\","
		    "\"dport\":443,\"category\":\"ai-relay\",\"provider\":"
		    "\"aihubmix\",\"country\":\"US\",\"suppressed\":2"), 2);
	line(r, rec("flow", "2026-12-05T10:00:02.000000000Z", "/usr/bin/curl",
		    "root", "/a", "\"action\":\"alert\",\"category\":"
		    "\"ai-relay\",\"provider\":\"aihubmix\",\"bytes\":1000,"
		    "\"packets\":3,\"flows\":2,\"first_seen\":"
		    "\"2026-12-05T09:59:59.000000000Z\""), 3);
	line(r, rec("tls", "2026-12-05T10:00:03.000000000Z", "/usr/bin/curl",
		    "root", "/a", "\"action\":\"deny\",\"rule\":\"d\","
		    "\"daddr\":\"1.2.3.4\",\"dport\":443,\"domain\":\"x.ai\","
		    "\"category\":\"ai-overseas\",\"provider\":\"x\""), 4);
	line(r, rec("connect", "2026-12-05T10:00:04.000000000Z", "/usr/bin/nc",
		    "bob", "/b", "\"action\":\"deny\",\"rule\":\"d\","
		    "\"daddr\":\"5.6.7.8\",\"dport\":80,\"suppressed\":0"), 5);
	line(r, rec("kill", "2026-12-05T10:00:05.000000000Z", "/usr/bin/nc",
		    "bob", "/b", "\"action\":\"kill\",\"rule\":\"k\","
		    "\"by\":\"kernel\""), 6);
}

/* a connect counts 1 + suppressed, a flow its bytes and flows; a kill
 * record is a kill, not a second decision */
static void test_aggregate(void **state)
{
	struct report r;
	struct rep_group *g;
	__u64 *c;

	(void)state;
	assert_int_equal(report_init(&r), 0);
	feed_sample(&r);
	assert_int_equal(r.records, 6);
	assert_int_equal(r.meta, 1);
	assert_int_equal(r.nr_bad, 0);
	assert_int_equal(r.total.records, 5);
	assert_int_equal(r.total.connects, 4);
	assert_int_equal(r.total.names, 1);
	assert_int_equal(r.total.bytes, 1000);
	assert_int_equal(r.total.flows, 2);
	assert_int_equal(r.total.kills, 1);
	assert_int_equal(r.total.actions[RA_ALERT], 3);
	assert_int_equal(r.total.actions[RA_DENY], 2);
	assert_int_equal(r.total.actions[RA_KILL], 0);
	assert_int_equal(r.bins.n, 2);
	assert_int_equal(r.users.n, 2);
	assert_int_equal(r.works.n, 2);
	g = rtab_get(&r.bins, curl);
	assert_int_equal(g->s.connects, 3);
	assert_int_equal(g->s.bytes, 1000);
	/* first seen: the flow opened before its record was written */
	assert_true(g->s.first_ns < g->s.last_ns);
	assert_int_equal(g->s.dests.n, 2);
	c = rtab_get(&g->s.countries, "US");
	assert_int_equal(*c, 3);
	assert_int_equal(((struct rep_dest *)rtab_get(&g->s.dests,
		"ai-relay\taihubmix"))->bytes, 1000);
	g = rtab_get(&r.users, "bob");
	assert_int_equal(g->s.connects, 1);
	assert_int_equal(g->s.kills, 1);
	g = rtab_get(&r.works, "cgroup:/a");
	assert_int_equal(g->s.records, 3);
	/* what was blocked: the tls deny and nc's deny */
	assert_int_equal(r.blocked.n, 2);
	report_free(&r);
}

/* credential records as the daemon writes them: the matched record's
 * destination and action, the key's provider, kind, place, display form
 * and fingerprint; one a process that could not be read */
static void test_credentials(void **state)
{
	static const char key[] = "\"action\":\"alert\",\"daddr\":\"1.2.3.4\","
		"\"dport\":443,\"category\":\"ai-relay\",\"provider\":"
		"\"aihubmix\",\"where\":\"env\",\"name\":\"OPENAI_API_KEY\","
		"\"key_provider\":\"OpenAI\",\"key_kind\":\"project key\","
		"\"display\":\"sk-proj-\u2026abcd\",\"fingerprint\":"
		"\"hmac-sha256:0123456789abcdef\",\"fingerprint_scope\":\"host\"";
	struct report r;
	struct rep_group *g;
	char *buf;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(report_init(&r), 0);
	feed_sample(&r);
	assert_int_equal(r.total.credentials, 0);
	line(&r, rec("credential", "2026-12-05T10:00:06.000000000Z",
		     "/usr/bin/curl", "root", "/a", key), 7);
	line(&r, rec("credential", "2026-12-05T10:00:07.000000000Z",
		     "/usr/bin/curl", "root", "/a", key), 8);
	line(&r, rec("credential", "2026-12-05T10:00:08.000000000Z",
		     "/usr/bin/curl", "root", "/a", "\"action\":\"alert\","
		     "\"daddr\":\"1.2.3.4\",\"dport\":443,\"where\":\"env\","
		     "\"error\":\"the process exited before its environment "
		     "was read\""), 9);
	assert_int_equal(r.total.credentials, 2);
	assert_int_equal(r.total.cred_errors, 1);
	g = rtab_get(&r.bins, curl);
	assert_int_equal(g->creds.n, 2);
	assert_int_equal(*(__u64 *)rtab_get(&g->creds, "OpenAI\tproject key\t"
		"env OPENAI_API_KEY\tsk-proj-\u2026abcd\t"
		"hmac-sha256:0123456789abcdef\t1.2.3.4:443 (ai-relay)\talert"), 2);
	/* a credential record is no decision, and no destination */
	assert_int_equal(r.total.actions[RA_ALERT], 3);
	assert_int_equal(r.total.connects, 4);
	f = open_memstream(&buf, &len);
	report_text(&r, f);
	fclose(f);
	assert_non_null(strstr(buf, "rotate: OpenAI project key in env "
		"OPENAI_API_KEY: sk-proj-\u2026abcd hmac-sha256:0123456789abcdef "
		"-> 1.2.3.4:443 (ai-relay), alert (2 records)"));
	assert_non_null(strstr(buf, "not inspected (the process exited"));
	assert_null(strstr(buf, "no credential records"));
	free(buf);
	report_free(&r);
}

/* a kill record the daemon could not attribute (the process had gone)
 * counts for what its pid ran just before, same comm, same host; not
 * for another comm, nor a minute later */
static void test_by_pid(void **state)
{
	static const char kill_fmt[] = "{\"ts\":\"%s\",\"event\":\"kill\","
		"\"action\":\"kill\",\"rule\":\"k\",\"pid\":42,\"comm\":"
		"\"%s\",\"by\":\"kernel\",\"attribution\":\"none\","
		"\"host\":\"h\",\"schema\":\"relaywatch/1\"}";
	struct report r;
	struct rep_group *g;
	char buf[512];

	(void)state;
	assert_int_equal(report_init(&r), 0);
	line(&r, rec("connect", "2026-12-05T10:00:01Z", "/usr/bin/curl",
		     "root", "/a", "\"comm\":\"curl\",\"action\":\"kill\""), 1);
	snprintf(buf, sizeof(buf), kill_fmt, "2026-12-05T10:00:01.5Z", "curl");
	line(&r, buf, 2);
	snprintf(buf, sizeof(buf), kill_fmt, "2026-12-05T10:00:02Z", "bash");
	line(&r, buf, 3);
	snprintf(buf, sizeof(buf), kill_fmt, "2026-12-05T10:05:00Z", "curl");
	line(&r, buf, 4);
	assert_int_equal(r.by_pid, 1);
	g = rtab_get(&r.bins, curl);
	assert_int_equal(g->s.kills, 1);
	g = rtab_get(&r.bins, "(unattributed)\t-");
	assert_int_equal(g->s.kills, 2);
	assert_int_equal(((struct rep_group *)rtab_get(&r.users, "root"))->s.kills,
			 1);
	assert_int_equal(r.total.kills, 3);
	report_free(&r);
}

static void test_filter(void **state)
{
	struct report r;

	(void)state;
	assert_int_equal(report_init(&r), 0);
	assert_int_equal(report_parse_time("2026-12-05T10:00:02Z", 0,
					   &r.since_ns), 0);
	assert_int_equal(report_parse_time("2026-12-05T10:00:04.5Z", 0,
					   &r.until_ns), 0);
	feed_sample(&r);
	/* kept: flow (10:00:02), tls (10:00:03), nc's connect (10:00:04) */
	assert_int_equal(r.records, 6);
	assert_int_equal(r.filtered, 3);
	assert_int_equal(r.total.records, 3);
	assert_int_equal(r.total.connects, 1);
	assert_int_equal(r.total.bytes, 1000);
	report_free(&r);
}

static void test_bad_lines(void **state)
{
	static const char *const bad[] = {
		"not json at all",
		"{\"ts\":\"2026-12-05T10:00:01Z\",\"event\":\"conn",
		"{\"ts\":\"2026-12-05T10:00:01Z\",\"event\":\"stop\"} trailing",
		"[1,2,3]",
		"{\"event\":\"connect\"}",
		"{\"ts\":\"yesterday\",\"event\":\"connect\"}",
		"{\"ts\":\"2026-12-05T10:00:01Z\",\"event\":7}",
	};
	struct report r;

	(void)state;
	assert_int_equal(report_init(&r), 0);
	feed_sample(&r);
	line(&r, "", 7);
	line(&r, "   ", 8);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		line(&r, bad[i], 9 + i);
	/* blank lines are no record and no error */
	assert_int_equal(r.nr_bad, 7);
	assert_int_equal(r.nr_bad_kept, 7);
	assert_string_equal(r.bad[0].where, "t.jsonl:9");
	assert_string_equal(r.bad[0].why, "not JSON");
	assert_string_equal(r.bad[1].where, "t.jsonl:10");
	assert_string_equal(r.bad[1].why, "truncated JSON");
	assert_string_equal(r.bad[2].why, "more after the JSON object");
	assert_string_equal(r.bad[3].why, "not a JSON object");
	assert_string_equal(r.bad[6].where, "t.jsonl:15");
	/* and the rest is reported as before */
	assert_int_equal(r.records, 6);
	assert_int_equal(r.total.connects, 4);
	report_free(&r);
}

/* many records over binaries, users and workloads that do not nest:
 * each list sums to the totals */
static void test_totals_agree(void **state)
{
	struct rtab *tabs[3];
	struct report r;
	char exe[32], user[32], cg[32], ts[40], more[256];

	(void)state;
	assert_int_equal(report_init(&r), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(exe, sizeof(exe), "/bin/p%d", i % 7);
		snprintf(user, sizeof(user), "u%d", i % 5);
		snprintf(cg, sizeof(cg), "/cg%d", i % 3);
		report_fmt_time(1764928800LL * NS + (__s64)i * 997 * NS, ts,
				sizeof(ts));
		if (i % 4 == 0)
			snprintf(more, sizeof(more), "\"action\":\"alert\","
				 "\"bytes\":%d,\"flows\":1,\"category\":\"c%d\"",
				 i, i % 2);
		else
			snprintf(more, sizeof(more), "\"action\":\"%s\","
				 "\"suppressed\":%d,\"country\":\"C%d\"",
				 i % 3 ? "alert" : "deny", i % 4, i % 6);
		line(&r, rec(i % 4 ? "connect" : "flow", ts, exe, user, cg,
			     more), i + 1);
	}
	tabs[0] = &r.bins;
	tabs[1] = &r.users;
	tabs[2] = &r.works;
	for (int t = 0; t < 3; t++) {
		__u64 connects = 0, bytes = 0, records = 0, deny = 0;
		struct rtab_ent **l = rtab_list(tabs[t], NULL);

		for (size_t i = 0; l[i]; i++) {
			const struct rep_group *g = l[i]->val;

			connects += g->s.connects;
			bytes += g->s.bytes;
			records += g->s.records;
			deny += g->s.actions[RA_DENY];
		}
		free(l);
		assert_int_equal(connects, r.total.connects);
		assert_int_equal(bytes, r.total.bytes);
		assert_int_equal(records, r.total.records);
		assert_int_equal(deny, r.total.actions[RA_DENY]);
	}
	assert_int_equal(r.total.records, 3000);
	/* the timeline widened (3000 records over ~35 days) and kept every
	 * event: each binary's bins sum to its records + suppressed */
	assert_true(r.tl_shift > 10);
	for (size_t i = 0; i < r.bins.cap; i++) {
		const struct rep_group *g = r.bins.e[i].val;
		__u64 sum = 0;

		if (!r.bins.e[i].key)
			continue;
		for (int b = 0; b < REP_NBINS; b++)
			sum += g->tl[b];
		assert_int_equal(sum, g->s.connects + g->s.flows);
	}
	report_free(&r);
}

static void test_time(void **state)
{
	__s64 t, u;

	(void)state;
	assert_int_equal(report_parse_time("1970-01-01T00:00:00Z", 0, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(report_parse_time("2026-12-05T19:08:16.5Z", 0, &t), 0);
	assert_int_equal(t, 1796497696LL * NS + NS / 2);
	/* an offset: the same instant */
	assert_int_equal(report_parse_time("2026-12-06T03:08:16.5+08:00", 0,
					   &u), 0);
	assert_int_equal(u, t);
	assert_int_equal(report_parse_time("90m", 100000 * NS, &u), 0);
	assert_int_equal(u, (100000 - 5400) * NS);
	assert_int_equal(report_parse_time("2d", 200000 * NS, &u), 0);
	assert_int_equal(u, (200000 - 172800) * NS);
	assert_int_equal(report_parse_time("2026-13-01T00:00:00Z", 0, &u),
			 -EINVAL);
	assert_int_equal(report_parse_time("2026-12-05", 0, &u), -EINVAL);
	assert_int_equal(report_parse_time("2026-12-05T10:00:00", 0, &u),
			 -EINVAL);
	assert_int_equal(report_parse_time("2999-01-01T00:00:00Z", 0, &u),
			 -EINVAL);
	assert_int_equal(report_parse_time("5w", 0, &u), -EINVAL);
	assert_int_equal(report_parse_time("", 0, &u), -EINVAL);
}

/* gzip, a line longer than the read buffer, a last line cut off */
static void test_gzip_file(void **state)
{
	char path[] = "/tmp/rw-test-report-XXXXXX", more[200000];
	struct report r;
	gzFile gz;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	memset(more, 'a', sizeof(more));
	memcpy(more, "\"cmdline\":\"", 11);
	memcpy(more + sizeof(more) - 2, "\"", 2);
	gzprintf(gz, "%s\n", rec("connect", "2026-12-05T10:00:01Z", "/x",
				 "root", "/a", "\"action\":\"deny\""));
	gzputs(gz, "{\"ts\":\"2026-12-05T10:00:01Z\",\"event\":\"connect\","
	       "\"pid\":1,");
	gzwrite(gz, more, strlen(more));
	gzwrite(gz, "}\n", 2);
	gzprintf(gz, "{\"ts\":\"2026-12-05T10:00:01Z\",\"ev");
	gzclose(gz);
	assert_int_equal(report_init(&r), 0);
	assert_int_equal(report_read_file(&r, path), 0);
	assert_int_equal(r.lines, 3);
	assert_int_equal(r.total.connects, 2);
	assert_int_equal(r.nr_bad, 1);
	assert_string_equal(r.bad[0].why, "truncated JSON");
	assert_int_equal(report_read_file(&r, "/nonexistent/x"), -ENOENT);
	assert_int_equal(report_read_file(&r, "/tmp"), -EISDIR);
	report_free(&r);
	unlink(path);
}

/* every format over a log whose exe and names are hostile: the HTML
 * escapes them and fetches nothing, the JSON parses back with the same
 * totals, the text names the bad line */
static void test_formats(void **state)
{
	struct report r;
	json_object *j, *t;
	char *buf;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(report_init(&r), 0);
	feed_sample(&r);
	line(&r, rec("connect", "2026-12-05T10:00:09Z",
		     "/tmp/<script src=https://x.example/a.js></script>",
		     "r\\\"oot", "/a", "\"action\":\"deny\",\"domain\":"
		     "\"<img src=http://y.example/>\""), 7);
	line(&r, "{oops", 8);

	f = open_memstream(&buf, &len);
	report_html(&r, f);
	fclose(f);
	assert_null(strstr(buf, "<script"));
	assert_null(strstr(buf, "<img"));
	assert_null(strstr(buf, "src="));
	assert_null(strstr(buf, "href="));
	assert_null(strstr(buf, "@import"));
	assert_null(strstr(buf, "://"));
	assert_non_null(strstr(buf, "&lt;script src&#61;https&#58;//x.example"));
	assert_non_null(strstr(buf, "<svg id=\"timeline\""));
	assert_non_null(strstr(buf, "t.jsonl:8: not JSON"));
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(report_json(&r, f), 0);
	fclose(f);
	j = json_tokener_parse(buf);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "totals", &t));
	assert_true(json_object_object_get_ex(t, "connects", &t));
	assert_int_equal(json_object_get_int64(t), r.total.connects);
	assert_true(json_object_object_get_ex(j, "bad_lines", &t));
	assert_int_equal(json_object_array_length(t), 1);
	json_object_put(j);
	free(buf);

	f = open_memstream(&buf, &len);
	report_text(&r, f);
	fclose(f);
	assert_non_null(strstr(buf, "BAD LINES (1)\n  t.jsonl:8: not JSON"));
	assert_non_null(strstr(buf, "no credential records"));
	free(buf);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregate),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_by_pid),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_totals_agree),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_gzip_file),
		cmocka_unit_test(test_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
