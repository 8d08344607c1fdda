// SPDX-License-Identifier: MIT
/* A burst of 20,000 matched connects in a few seconds: every match is
 * either delivered as an event, folded into a later event's count, or
 * counted as lost — the totals add up, nothing disappears silently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "integ/harness.h"

#define DESTS 10000
#define ROUNDS 2

static struct h_env env;

static int burst(void *a)
{
	char addr[32];
	int eperm = 0;

	(void)a;
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < DESTS; i++) {
			snprintf(addr, sizeof(addr), "127.1.%d.%d", i / 200,
				 i % 200 + 1);
			eperm += h_connect(AF_INET, addr, 9, SOCK_STREAM) == EPERM;
		}
	return eperm == DESTS * ROUNDS ? 0 : 1;
}

struct totals {
	long long events, folded, matched, suppressed, lost, lost_records;
	long long capped;   /* connect records the per-process cap held back */
};

/* runs the burst under a daemon started with `extra`, sums up its log */
static void run_burst(const char *extra, struct totals *t)
{
	char line[65536];
	FILE *f;
	int st;

	memset(t, 0, sizeof(*t));
	t->matched = t->suppressed = t->lost = -1;
	assert_int_equal(h_setup(&env, "burst"), 0);
	assert_int_equal(h_write_policy(&env, "mode: enforce\n"
					     "rules:\n"
					     "  - name: deny-burst\n"
					     "    match: {cidr: [127.1.0.0/16]}\n"
					     "    action: deny\n"), 0);
	assert_int_equal(h_start(&env, extra), 0);
	st = h_in_cgroup(&env, burst, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(h_stop(&env), 0);

	f = fopen(env.log, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_object *j = json_tokener_parse(line);
		const char *ev = j ? h_str(j, "event") : NULL;

		if (ev && !strcmp(ev, "connect")) {
			t->events++;
			t->folded += h_int(j, "suppressed");
		} else if (ev && !strcmp(ev, "lost")) {
			t->lost_records++;
		} else if (ev && !strcmp(ev, "rate_limited")) {
			json_object *by, *n;

			if (json_object_object_get_ex(j, "by_type", &by) &&
			    json_object_object_get_ex(by, "connect", &n))
				t->capped += json_object_get_int64(n);
		} else if (ev && !strcmp(ev, "stats")) {
			t->matched = h_int(j, "matched");
			t->suppressed = h_int(j, "suppressed");
			t->lost = h_int(j, "lost");
		}
		json_object_put(j);
	}
	fclose(f);
	fprintf(stderr, "burst: %lld events (%lld written, %lld held back by "
		"the per-process cap), %lld suppressed (%lld folded into "
		"events), %lld lost, %lld matched\n", t->events + t->capped,
		t->events, t->capped, t->suppressed, t->folded, t->lost,
		t->matched);
	assert_int_equal(t->matched, DESTS * ROUNDS);
	/* every event read is a record or counted in rate_limited */
	assert_int_equal(t->events + t->capped + t->suppressed + t->lost,
			 DESTS * ROUNDS);
	assert_true(t->folded <= t->suppressed);
}

/* default ring and de-duplication: one event per destination, no loss */
static void t_burst(void **s)
{
	struct totals t;

	(void)s;
	if (h_missing())
		skip();
	run_burst(NULL, &t);
	assert_true(t.events + t.capped + t.lost >= DESTS);
}

/* a 4 KiB ring and no de-duplication: events are lost, and every loss is
 * counted and reported while it happens */
static void t_burst_overflow(void **s)
{
	struct totals t;

	(void)s;
	if (h_missing())
		skip();
	run_burst("--ringbuf-kb 4 --dedup-ms 0", &t);
	assert_int_equal(t.suppressed, 0);
	assert_true(t.lost > 0);
	assert_true(t.lost_records > 0);
}

static int teardown(void **s)
{
	(void)s;
	if (env.cg[0])
		h_teardown(&env);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_burst, teardown),
		cmocka_unit_test_teardown(t_burst_overflow, teardown),
	};

	return cmocka_run_group_tests_name("burst", tests, NULL, NULL);
}
