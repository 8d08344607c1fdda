// SPDX-License-Identifier: MIT
/*
 * Degrading per feature: a program the kernel refuses (here made to fail
 * on purpose: loaded as the wrong program type) turns off its feature
 * only; the other programs load, attach and enforce. Drives the loader
 * and the policy compiler directly, in a test cgroup, with real connects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "integ/harness.h"
#include "config.h"
#include "enforce.h"
#include "loader.h"
#include "log.h"
#include "progload.h"

static struct h_env env;

static int setup(void **state)
{
	(void)state;
	return h_setup(&env, "degrade");
}

static int teardown(void **state)
{
	(void)state;
	h_teardown(&env);
	return 0;
}

/* loads with fail_prog refused; applies a deny-127.0.0.2 policy */
static int load_with(struct loader *l, const char *fail_prog,
		     unsigned int require, struct config *c)
{
	struct loader_opts lo = { .cgroup = env.cg, .fail_prog = fail_prog,
				  .require = require };
	struct enforce_opts eo = { .ttl_min = 30, .ttl_max = 3600 };
	struct enforce_stats st;
	char err[512];
	int ret;

	ret = loader_open(l, &lo);
	if (ret)
		return ret;
	assert_int_equal(h_write_policy(&env,
		"mode: enforce\n"
		"rules:\n"
		"  - name: deny-addr\n"
		"    match: {cidr: [127.0.0.2/32]}\n"
		"    action: deny\n"
		"  - name: kill-addr\n"
		"    match: {cidr: [127.0.0.3/32]}\n"
		"    action: kill\n"), 0);
	assert_int_equal(config_load(c, env.policy, NULL, false, err,
				     sizeof(err)), 0);
	ret = enforce_apply(l, c->policy, c->intel, &eo, &st, NULL, NULL,
			    err, sizeof(err));
	if (ret)
		print_error("enforce_apply: %s\n", err);
	return ret;
}

static int connect_denied(void *arg)
{
	(void)arg;
	return h_connect(AF_INET, "127.0.0.2", 9, SOCK_STREAM);
}

static const struct prog_state *state_of(const struct loader *l,
					 const char *name)
{
	for (int i = 0; i < l->nr_progs; i++)
		if (!strcmp(l->progs[i].name, name))
			return &l->progs[i];
	return NULL;
}

/* dns_ingress refused: dns off, said with the program and the verifier's
 * reason; every other program loads and the deny still holds */
static void t_one_refused(void **state)
{
	struct loader l;
	struct config c = {};
	int st;

	(void)state;
	assert_int_equal(load_with(&l, "dns_ingress", 0, &c), 0);
	assert_int_equal(l.features, RW_F_ALL & ~(1u << RW_F_DNS));
	assert_non_null(strstr(progload_why(&l, RW_F_DNS),
			       "dns_ingress: load failed"));
	assert_string_equal(progload_why(&l, RW_F_CONNECT), "");
	for (int i = 0; i < l.nr_progs; i++) {
		bool refused = !strcmp(l.progs[i].name, "dns_ingress");

		assert_int_equal(l.progs[i].prog == NULL, refused);
		/* the verifier's statistics came back for those it passed */
		if (!refused)
			assert_true(l.progs[i].insns > 0);
	}
	assert_false(l.name_hooks);
	/* the connect hooks and first-bytes egress are attached */
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 1);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET_EGRESS), 1);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET_INGRESS), 0);
	st = h_in_cgroup(&env, connect_denied, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EPERM);
	loader_close(&l, LOADER_FAIL);
	config_free(&c);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 0);
}

/* the build for kernels without bpf_loop (forced here): it is the one
 * that loads and attaches, every feature is on, and the deny holds */
static void t_compat_build(void **state)
{
	struct loader_opts lo = { .compat = true };
	struct loader l;
	struct config c = {};
	struct enforce_opts eo = { .ttl_min = 30, .ttl_max = 3600 };
	struct enforce_stats st;
	char err[512];

	(void)state;
	lo.cgroup = env.cg;
	assert_int_equal(loader_open(&l, &lo), 0);
	assert_true(l.compat);
	assert_int_equal(l.features, RW_F_ALL);
	for (int i = 0; i < l.nr_progs; i++) {
		const char *n = l.progs[i].name;
		bool twin = !strncmp(n, "connect", 7) ||
			    !strncmp(n, "sendmsg", 7) ||
			    !strncmp(n, "dns_ingress", 11) ||
			    !strncmp(n, "flow_egress", 11);

		/* one build of each hook, and the compat one */
		assert_int_equal(strstr(n, "_compat") != NULL, twin);
	}
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 1);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET_EGRESS), 1);
	assert_int_equal(h_write_policy(&env,
		"mode: enforce\n"
		"rules:\n"
		"  - name: deny-addr\n"
		"    match: {cidr: [127.0.0.2/32]}\n"
		"    action: deny\n"), 0);
	assert_int_equal(config_load(&c, env.policy, NULL, false, err,
				     sizeof(err)), 0);
	assert_int_equal(enforce_apply(&l, c.policy, c.intel, &eo, &st,
				       NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_denied, NULL)),
			 EPERM);
	loader_close(&l, LOADER_FAIL);
	config_free(&c);
}

/* the verifier's own words reach the reason */
static void t_reason_is_the_verifiers(void **state)
{
	struct loader l;
	struct config c = {};
	const struct prog_state *p;

	(void)state;
	assert_int_equal(load_with(&l, "connect6", 0, &c), 0);
	p = state_of(&l, "connect6");
	assert_non_null(p);
	assert_null(p->prog);
	assert_true(p->err < 0);
	/* "connect6: load failed (Permission denied): <verifier line>" */
	assert_non_null(strstr(p->why, "connect6: load failed ("));
	assert_non_null(strstr(p->why, "): invalid bpf_context access"));
	assert_false(l.features & (1u << RW_F_CONNECT));
	/* connect4 shares the feature but loaded, and enforces */
	assert_non_null(state_of(&l, "connect4")->prog);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_denied, NULL)),
			 EPERM);
	loader_close(&l, LOADER_FAIL);
	config_free(&c);
}

/* no in-kernel kill: the kill rule's hook cannot attach, nothing breaks */
static void t_kill_refused(void **state)
{
	struct loader l;
	struct config c = {};

	(void)state;
	assert_int_equal(load_with(&l, "sys_exit", 0, &c), 0);
	assert_false(l.features & (1u << RW_F_KILL));
	assert_false(l.kill_hook);
	assert_int_equal(WEXITSTATUS(h_in_cgroup(&env, connect_denied, NULL)),
			 EPERM);
	loader_close(&l, LOADER_FAIL);
	config_free(&c);
}

/* --require: a required feature that is off stops the start, attaching
 * nothing */
static void t_require(void **state)
{
	struct loader_opts lo = { .fail_prog = "flow_egress" };
	struct loader l;

	(void)state;
	lo.cgroup = env.cg;
	lo.require = 1u << RW_F_FIRST_BYTES;
	assert_int_equal(loader_open(&l, &lo), -ENOTSUP);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 0);
	/* a requirement that holds starts */
	lo.require = 1u << RW_F_CONNECT | 1u << RW_F_KILL;
	assert_int_equal(loader_open(&l, &lo), 0);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET4_CONNECT), 1);
	loader_close(&l, LOADER_FAIL);
}

/* neither connect nor sendmsg: nothing to enforce, start-up fails */
static void t_nothing_to_enforce(void **state)
{
	struct loader_opts lo = {
		.fail_prog = "connect4,connect6,sendmsg4,sendmsg6" };
	struct loader l;

	(void)state;
	lo.cgroup = env.cg;
	assert_int_equal(loader_open(&l, &lo), -ENOTSUP);
	assert_int_equal(h_attached(&env, BPF_CGROUP_INET_EGRESS), 0);
	/* one family of hooks is enough to start: sendmsg still judges */
	lo.fail_prog = "connect4,connect6";
	assert_int_equal(loader_open(&l, &lo), 0);
	assert_true(l.features & (1u << RW_F_SENDMSG));
	assert_int_equal(h_attached(&env, BPF_CGROUP_UDP4_SENDMSG), 1);
	loader_close(&l, LOADER_FAIL);
}

static void t_feature_parse(void **state)
{
	unsigned int m;
	char err[256];

	(void)state;
	assert_int_equal(feature_parse("names,kill", &m, err, sizeof(err)), 0);
	assert_int_equal(m, 1u << RW_F_DNS | 1u << RW_F_FIRST_BYTES |
				    1u << RW_F_KILL);
	assert_int_equal(feature_parse("all", &m, err, sizeof(err)), 0);
	assert_int_equal(m, RW_F_ALL);
	assert_int_equal(feature_parse("connect,dnss", &m, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown feature 'dnss'"));
	for (int f = 0; f < RW_F__MAX; f++) {
		assert_int_equal(feature_parse(feature_name(f), &m, err,
					       sizeof(err)), 0);
		assert_int_equal(m, 1u << f);
	}
}

int main(void)
{
	const char *why = h_missing();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_feature_parse),
		cmocka_unit_test_setup_teardown(t_one_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_compat_build, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reason_is_the_verifiers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(t_kill_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_require, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nothing_to_enforce, setup,
						teardown),
	};

	if (why) {
		printf("skipping degrade tests: %s\n", why);
		return 0;
	}
	log_level = LV_WARN;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
