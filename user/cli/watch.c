// SPDX-License-Identifier: MIT
/*
 * What trace and run share: read the policy, intelligence and country
 * table, load and attach, apply the policy, and read events until a
 * signal; SIGHUP and changed binaries or cgroups apply it again.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cgroup.h"
#include "config.h"
#include "enforce.h"
#include "geo.h"
#include "intel.h"
#include "loader.h"
#include "log.h"
#include "policy.h"
#include "polwatch.h"
#include "progload.h"
#include "session.h"
#include "util.h"
#include "watch.h"

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		session_hup = 1;
	else
		session_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* what a trace or run holds while it watches */
struct watcher {
	const struct cmd_opts *o;
	struct loader l;
	struct session s;
	struct geo *geo;
	struct config cur;   /* in force */
	struct config prev;  /* the other generation's: names its late events */
	bool enforce;
	bool session_up;
	struct polwatch pw;  /* the binaries and cgroups rules name */
};

static void on_warning(const char *msg, void *ctx)
{
	struct watcher *w = ctx;

	pr_warn("%s", msg);
	if (w->session_up) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "message", json_object_new_string(msg));
		output_record(&w->s.out, "warning", j);
	}
}

static int apply(struct watcher *w, struct config *c, char *err, size_t len)
{
	struct enforce_opts eo = { .dedup_ns = w->o->dedup_ms * 1000000ULL,
				   .ttl_min = w->o->ttl_min,
				   .ttl_max = w->o->ttl_max };
	struct enforce_stats st;
	json_object *j;
	int ret;

	/* watch first: a binary replaced while the policy is being built
	 * is then seen, at worst applied twice */
	if (w->pw.fd >= 0 && polwatch_set(&w->pw, c->policy) < 0)
		pr_warn("cannot watch the binaries and cgroups the rules "
			"name: one replaced later is matched only after a "
			"reload");
	ret = enforce_apply(&w->l, c->policy, c->intel, w->geo, &eo, &st,
			    on_warning, w, err, len);
	if (ret) {
		/* the policy in force stays, and so do its watches */
		if (w->pw.fd >= 0 && c != &w->cur && w->cur.policy)
			polwatch_set(&w->pw, w->cur.policy);
		return ret;
	}
	output_set_policy(&w->s.out, st.gen, c->policy, c->intel);
	w->s.policy = c->policy;
	j = json_object_new_object();
	json_object_object_add(j, "policy", json_object_new_string(c->policy->path));
	json_object_object_add(j, "mode", json_object_new_string(
		c->policy->mode == POLICY_ENFORCE ? "enforce" : "monitor"));
	json_object_object_add(j, "rules", json_object_new_int64(c->policy->nr_rules));
	json_object_object_add(j, "default", json_object_new_string(
		action_name(c->policy->default_action)));
	json_object_object_add(j, "prefixes_v4", json_object_new_int64(st.lpm4));
	json_object_object_add(j, "prefixes_v6", json_object_new_int64(st.lpm6));
	json_object_object_add(j, "home_prefixes", json_object_new_int64(st.home4 + st.home6));
	json_object_object_add(j, "binaries", json_object_new_int64(st.exes));
	json_object_object_add(j, "names", json_object_new_int64(st.names));
	json_object_object_add(j, "intel_entries", json_object_new_int64(
		intel_count(c->intel, INTEL_CAT_NONE)));
	json_object_object_add(j, "generation", json_object_new_int64(st.gen));
	output_record(&w->s.out, "policy", j);
	return 0;
}

/* SIGHUP: the new policy is built completely, then swapped in; on any
 * error the old one stays in force and the error is logged */
static void reload(struct session *s, void *ctx)
{
	struct watcher *w = ctx;
	struct config c;
	char err[1024];
	json_object *j = json_object_new_object();
	int ret;

	(void)s;
	ret = config_load(&c, w->o->policy, w->o->intel, !w->enforce, err,
			  sizeof(err));
	if (!ret) {
		ret = apply(w, &c, err, sizeof(err));
		if (ret)
			config_free(&c);
	}
	json_object_object_add(j, "ok", json_object_new_boolean(!ret));
	json_object_object_add(j, "reason", json_object_new_string("sighup"));
	if (ret) {
		pr_warn("reload failed, the previous policy stays in force: %s",
			err);
		json_object_object_add(j, "error", json_object_new_string(err));
	} else {
		config_free(&w->prev);
		w->prev = w->cur;
		w->cur = c;
	}
	output_record(&w->s.out, "reload", j);
}

/* a binary, cgroup or container a rule names changed: the same policy is
 * applied again, so the kernel learns the new inodes and cgroup ids */
static void tick(struct session *s, void *ctx, __u64 now_ns)
{
	static const char *const reasons[] = {
		[PW_BINARIES] = "binaries", [PW_CGROUPS] = "cgroups",
		[PW_BINARIES | PW_CGROUPS] = "binaries,cgroups",
	};
	struct watcher *w = ctx;
	json_object *j;
	char err[1024];
	int kinds, ret;

	(void)s;
	kinds = polwatch_due(&w->pw, now_ns);
	if (!kinds)
		return;
	ret = apply(w, &w->cur, err, sizeof(err));
	j = json_object_new_object();
	json_object_object_add(j, "ok", json_object_new_boolean(!ret));
	json_object_object_add(j, "reason",
			       json_object_new_string(reasons[kinds & 3]));
	if (ret) {
		pr_warn("what the rules name changed (%s), but applying the "
			"policy again failed: %s", reasons[kinds & 3], err);
		json_object_object_add(j, "error", json_object_new_string(err));
	} else {
		/* both generations now name the policy in force */
		config_free(&w->prev);
		memset(&w->prev, 0, sizeof(w->prev));
	}
	output_record(&w->s.out, "reload", j);
}

/* -v: how long each start-up stage took, for whoever tunes a fleet */
static void stage(const char *what)
{
	static __u64 t0;
	__u64 t = mono_ns();

	if (!t0)
		t0 = t;
	pr_info("start-up: %s at %.0f ms", what, (t - t0) / 1e6);
}

/* trace and run differ in defaults only: monitor vs enforce, text vs JSON */
int watch(const struct cmd_opts *o, bool enforce)
{
	struct loader_opts lo = { .cgroup = o->cgroup,
				  .ringbuf_bytes = o->ringbuf_kb * 1024,
				  .require = o->require };
	struct session_opts so = {
		.pid = o->pid, .exe = o->exe, .log_path = o->log,
		.json = enforce || o->json, .summary = !enforce,
	};
	struct watcher w = { .o = o, .enforce = enforce, .pw = { .fd = -1 } };
	char err[1024], exe[PATH_MAX];
	int ret;

	stage("begin");
	if (config_load(&w.cur, o->policy, o->intel, !enforce, err,
			sizeof(err))) {
		pr_warn("%s", err);
		return EXIT_USAGE;
	}
	ret = EXIT_USAGE;
	if (o->exe) {
		if (!realpath(o->exe, exe)) {
			pr_warn("--exe %s: %s", o->exe, strerror(errno));
			goto out_config;
		}
		so.exe = exe;
	}
	ret = 1;
	if (geo_load_embedded(&w.geo, err, sizeof(err))) {
		pr_warn("cannot load the country table: %s", err);
		goto out_config;
	}
	if (o->rir && geo_merge_rir_file(w.geo, o->rir, err, sizeof(err))) {
		pr_warn("%s", err);
		ret = EXIT_USAGE;
		goto out_config;
	}
	if (!lo.cgroup)
		lo.cgroup = cgroup2_root();
	if (!lo.cgroup) {
		pr_warn("no cgroup v2 mount found in /proc/mounts: mount one "
			"(mount -t cgroup2 none /sys/fs/cgroup/unified)");
		goto out_config;
	}
	stage("policy, intelligence and country table read");
	if (loader_open(&w.l, &lo))
		goto out_config;
	stage("programs loaded and attached");
	if (w.l.proc_hooks)
		loader_seed_procs(&w.l);
	stage("process table seeded");
	if (session_init(&w.s, &w.l, w.cur.policy, &so))
		goto out_session;
	w.session_up = true;
	w.s.out.geo = w.geo;
	if (polwatch_init(&w.pw))
		pr_warn("inotify unavailable (%s): a binary or cgroup that "
			"the rules name and that is replaced later is "
			"matched only after a reload", strerror(errno));
	if (apply(&w, &w.cur, err, sizeof(err))) {
		pr_warn("%s", err);
		goto out_session;
	}
	stage("policy in force");
	w.s.reload = enforce || o->policy ? reload : NULL;
	w.s.tick = tick;
	w.s.reload_ctx = &w;
	install_signals();
	json_object *start = json_object_new_object();

	json_object_object_add(start, "version", json_object_new_string(VERSION));
	json_object_object_add(start, "policy", json_object_new_string(w.cur.policy->path));
	json_object_object_add(start, "mode", json_object_new_string(
		w.cur.policy->mode == POLICY_ENFORCE ? "enforce" : "monitor"));
	json_object_object_add(start, "rules", json_object_new_int64(w.cur.policy->nr_rules));
	json_object_object_add(start, "cgroup", json_object_new_string(w.l.cgroup));
	json_object_object_add(start, "kill_in_kernel",
			       json_object_new_boolean(w.l.kill_hook));
	json_object_object_add(start, "process_table",
			       json_object_new_boolean(w.l.proc_hooks));
	json_object_object_add(start, "geo", json_object_new_string(geo_source(w.geo)));
	json_object_object_add(start, "features", progload_json(&w.l, false));
	if (w.l.features != RW_F_ALL)
		json_object_object_add(start, "features_off",
				       progload_json(&w.l, true));
	output_record(&w.s.out, "start", start);
	if (session_scan_existing(&w.s))
		pr_warn("could not list open connections (sock_diag); "
			"connections open before start-up are not reported");
	ret = session_run(&w.s) ? 1 : 0;
	session_finish(&w.s);
out_session:
	polwatch_free(&w.pw);
	session_free(&w.s);
	loader_close(&w.l);
out_config:
	geo_free(w.geo);
	config_free(&w.cur);
	config_free(&w.prev);
	return ret;
}

