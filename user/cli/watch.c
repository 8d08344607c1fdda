// SPDX-License-Identifier: MIT
/*
 * What trace and run share: read the policy, intelligence and country
 * table, load and attach, apply the policy, and read events until a
 * signal; SIGHUP and changed binaries or cgroups apply it again.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cgroup.h"
#include "cfgwatch.h"
#include "config.h"
#include "enforce.h"
#include "geo.h"
#include "geo_bg.h"
#include "exposure.h"
#include "guard.h"
#include "intel.h"
#include "kstate.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "polwatch.h"
#include "progload.h"
#include "service.h"
#include "sink.h"
#include "session.h"
#include "record.h"
#include "util.h"
#include "watch.h"

/* SIGUSR2: `relaywatch detach` asks a persistent daemon to stop and
 * take its enforcement with it */
static volatile sig_atomic_t detach_asked;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		session_hup = 1;
		return;
	}
	if (sig == SIGUSR1) {
		session_reopen = 1; /* logrotate */
		return;
	}
	if (sig == SIGUSR2)
		detach_asked = 1;
	session_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
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
	struct cfgwatch cw;  /* --reload-on-change: the policy's files */
	struct metrics *mx;  /* --metrics; NULL off */
	__u64 next_guard;    /* mono ns of the next tamper check */
};

/* tamper evidence: what another process did to our attachment */
static void on_tamper(const char *what, const char *object, bool restored,
		      int err, void *ctx)
{
	struct watcher *w = ctx;
	json_object *j = json_object_new_object();

	pr_warn("tamper: %s %s; %s%s", object, what, restored ? "restored" :
		"NOT restored: ", restored ? "" : strerror(-err));
	json_object_object_add(j, "what", json_object_new_string(what));
	json_object_object_add(j, "object", json_object_new_string(object));
	json_object_object_add(j, "restored", json_object_new_boolean(restored));
	if (!restored)
		json_object_object_add(j, "error",
				       json_object_new_string(strerror(-err)));
	record_meta(&w->s.out, "tamper", j);
}

static void on_warning(const char *msg, void *ctx)
{
	struct watcher *w = ctx;

	pr_warn("%s", msg);
	if (w->session_up) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "message", json_object_new_string(msg));
		record_meta(&w->s.out, "warning", j);
	}
}

static int apply(struct watcher *w, struct config *c, char *err, size_t len)
{
	struct enforce_opts eo = { .dedup_ns = w->o->dedup_ms * 1000000ULL,
				   .ttl_min = w->o->ttl_min,
				   .ttl_max = w->o->ttl_max };
	struct enforce_stats st;
	json_object *j;
	__u64 t0 = mono_ns();
	int ret;

	/* watch first: a binary replaced while the policy is being built
	 * is then seen, at worst applied twice */
	if (w->pw.fd >= 0 && polwatch_set(&w->pw, c->policy) < 0)
		pr_warn("cannot watch the binaries and cgroups the rules "
			"name: one replaced later is matched only after a "
			"reload");
	if (!exposure_policy(c->policy))
		pr_warn("no fingerprint key (%s, /etc/machine-id): credential "
			"records carry no fingerprint", c->policy->fingerprint_key ?
			c->policy->fingerprint_key :
			"/etc/relaywatch/fingerprint.key");
	ret = enforce_apply(&w->l, c->policy, c->intel, &eo, &st,
			    on_warning, w, err, len);
	if (ret) {
		/* the policy in force stays, and so do its watches */
		if (w->pw.fd >= 0 && c != &w->cur && w->cur.policy)
			polwatch_set(&w->pw, w->cur.policy);
		return ret;
	}
	if (w->mx)
		metrics_policy(w->mx, st.gen, c->policy->nr_rules,
			       (mono_ns() - t0) / 1e9);
	output_set_policy(&w->s.out, st.gen, c->policy, c->intel);
	w->s.policy = c->policy;
	loader_commit(&w->l, c->policy->sha256, c->policy->path);
	j = json_object_new_object();
	json_object_object_add(j, "policy", json_object_new_string(c->policy->path));
	json_object_object_add(j, "mode", json_object_new_string(
		c->policy->mode == POLICY_ENFORCE ? "enforce" : "monitor"));
	json_object_object_add(j, "rules", json_object_new_int64(c->policy->nr_rules));
	json_object_object_add(j, "default", json_object_new_string(
		action_name(c->policy->default_action)));
	json_object_object_add(j, "quic", json_object_new_string(
		c->policy->quic == RW_QUIC_DENY_UNNAMED ? "deny-unnamed" :
							  "allow"));
	json_object_object_add(j, "prefixes_v4", json_object_new_int64(st.lpm4));
	json_object_object_add(j, "prefixes_v6", json_object_new_int64(st.lpm6));
	json_object_object_add(j, "special_prefixes", json_object_new_int64(st.special));
	json_object_object_add(j, "home_countries", json_object_new_int64(st.home_countries));
	json_object_object_add(j, "binaries", json_object_new_int64(st.exes));
	json_object_object_add(j, "names", json_object_new_int64(st.names));
	json_object_object_add(j, "intel_entries", json_object_new_int64(
		intel_count(c->intel, INTEL_CAT_NONE)));
	json_object_object_add(j, "generation", json_object_new_int64(st.gen));
	record_meta(&w->s.out, "policy", j);
	return 0;
}

/* SIGHUP or a changed file (why): the new policy is built completely,
 * then swapped in; on any error the old one stays in force and the error
 * is logged */
static void reload_why(struct watcher *w, const char *why)
{
	struct config c;
	char err[1024];
	json_object *j = json_object_new_object();
	int ret;

	ret = config_load(&c, w->o->policy, w->o->intel, !w->enforce, err,
			  sizeof(err));
	if (!ret) {
		ret = apply(w, &c, err, sizeof(err));
		if (ret)
			config_free(&c);
	}
	json_object_object_add(j, "ok", json_object_new_boolean(!ret));
	json_object_object_add(j, "reason", json_object_new_string(why));
	if (w->mx)
		metrics_reload(w->mx, !ret);
	if (ret) {
		pr_warn("reload failed, the previous policy stays in force: %s",
			err);
		json_object_object_add(j, "error", json_object_new_string(err));
		service_status("reload failed, the previous policy stays: "
			       "%.300s", err);
	} else {
		config_free(&w->prev);
		w->prev = w->cur;
		w->cur = c;
		if (w->cw.fd >= 0)
			cfgwatch_set(&w->cw, c.policy, w->o->intel);
		service_status("enforcing %zu rules of %s on %s (reloaded: %s)",
			       c.policy->nr_rules, c.policy->path,
			       w->l.cgroup, why);
	}
	record_meta(&w->s.out, "reload", j);
}

static void reload(struct session *s, void *ctx)
{
	(void)s;
	reload_why(ctx, "sighup");
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
	service_watchdog(now_ns);
	if (now_ns >= w->next_guard) {
		guard_check(&w->l, on_tamper, w);
		w->next_guard = now_ns + 1000000000ULL;
	}
	if (w->cw.fd >= 0 && cfgwatch_due(&w->cw, now_ns))
		reload_why(w, "file-changed");
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
	record_meta(&w->s.out, "reload", j);
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

static const char *adopt_name(enum adopt_kind k)
{
	static const char *const names[] = {
		[ADOPT_NONE] = "none", [ADOPT_SAME] = "same-build",
		[ADOPT_RELOAD] = "new-programs", [ADOPT_BESIDE] = "beside",
	};

	return names[k];
}

static void start_record(struct watcher *w)
{
	json_object *start = json_object_new_object();
	struct loader *l = &w->l;

	json_object_object_add(start, "version", json_object_new_string(VERSION));
	json_object_object_add(start, "policy", json_object_new_string(w->cur.policy->path));
	json_object_object_add(start, "mode", json_object_new_string(
		w->cur.policy->mode == POLICY_ENFORCE ? "enforce" : "monitor"));
	json_object_object_add(start, "rules", json_object_new_int64(w->cur.policy->nr_rules));
	json_object_object_add(start, "cgroup", json_object_new_string(l->cgroup));
	json_object_object_add(start, "kill_in_kernel",
			       json_object_new_boolean(l->kill_hook));
	json_object_object_add(start, "process_table",
			       json_object_new_boolean(l->proc_hooks));
	json_object_object_add(start, "geo", json_object_new_string(geo_source(w->geo)));
	json_object_object_add(start, "features", progload_json(l, false));
	if (l->features != RW_F_ALL)
		json_object_object_add(start, "features_off",
				       progload_json(l, true));
	json_object_object_add(start, "persist", json_object_new_boolean(l->persist));
	if (l->persist) {
		json_object_object_add(start, "pinned", json_object_new_string(l->setdir));
		json_object_object_add(start, "adopted", json_object_new_string(
			adopt_name(l->adopt.kind)));
		if (l->adopt.kind != ADOPT_NONE)
			json_object_object_add(start, "adopted_why",
				json_object_new_string(l->adopt.why));
		json_object_object_add(start, "sets_replaced",
				       json_object_new_int64(l->adopt.removed));
	}
	record_meta(&w->s.out, "start", start);
	for (int i = 0; i < l->nr_stale; i++) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "removed", json_object_new_string(
			l->stale[i]));
		json_object_object_add(j, "why", json_object_new_string(
			"its cgroup no longer exists"));
		record_meta(&w->s.out, "stale", j);
	}
}

/* an adopted set's events were queued under its policy: named by it when
 * its file is still the one in force */
static void name_adopted_events(struct watcher *w)
{
	if (memcmp(w->l.adopt.prev.policy_sha, w->cur.policy->sha256, 32))
		return; /* another policy: rules show by number */
	output_set_policy(&w->s.out, kstate_active_gen(&w->l), w->cur.policy,
			  w->cur.intel);
}

/* trace and run differ in defaults only: monitor vs enforce, text vs JSON */
int watch(const struct cmd_opts *o, bool enforce)
{
	struct loader_opts lo = { .cgroup = o->cgroup,
				  .ringbuf_bytes = o->ringbuf_kb * 1024,
				  .require = o->require,
				  .persist = enforce && !o->no_persist,
				  .version = VERSION };
	struct session_opts so = {
		.pid = o->pid, .exe = o->exe, .log_path = o->log,
		.by_uid = o->uid >= 0, .uid = o->uid,
		.container = o->container, .time = o->time,
		.syslog = o->syslog,
		.log_max_bytes = (__u64)o->log_max_mb << 20,
		.fold_ns = o->dedup_ms * 1000000ULL,
		.process_rate = o->process_rate,
		.format = o->output >= 0 ? o->output : enforce || o->json ?
			  OUT_JSON : OUT_TEXT,
		.summary = !enforce,
	};
	struct watcher w = { .o = o, .enforce = enforce, .pw = { .fd = -1 },
			     .cw = { .fd = -1 } };
	char err[1024], exe[PATH_MAX];
	struct geo_bg bg = {};
	bool adopted, keep = false;
	int ret;

	stage("begin");
	/* it reads other processes' environments and credential files
	 * (exposure.c): no core dump of it, and no ptrace by its user */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		pr_warn("cannot turn core dumps off: %s", strerror(errno));
	if (o->syslog && sink_syslog_check(o->syslog, err, sizeof(err))) {
		pr_warn("%s", err);
		return EXIT_USAGE;
	}
	/* the port first: one that is taken fails before anything attaches */
	if (o->metrics && !(w.mx = metrics_start(o->metrics, err, sizeof(err)))) {
		pr_warn("%s", err);
		return 1;
	}
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
	if (o->rir) {
		/* a table of the user's: merged before its size is known */
		if (geo_load_embedded(&w.geo, err, sizeof(err))) {
			pr_warn("cannot load the country table: %s", err);
			goto out_config;
		}
		if (geo_merge_rir_file(w.geo, o->rir, err, sizeof(err))) {
			pr_warn("%s", err);
			ret = EXIT_USAGE;
			goto out_config;
		}
		geo_entries(w.geo, &lo.geo.n4, &lo.geo.n6);
		lo.geo.fill = geo_kernel_fill;
		lo.geo.same = geo_kernel_same;
		lo.geo.ctx = w.geo;
	} else {
		if (geo_bg_start(&bg, err, sizeof(err))) {
			pr_warn("cannot load the country table: %s", err);
			goto out_config;
		}
		lo.geo.n4 = bg.n4;
		lo.geo.n6 = bg.n6;
		lo.geo.fill = geo_bg_fill;
		lo.geo.same = geo_bg_same;
		lo.geo.ctx = &bg;
	}
	if (!lo.cgroup)
		lo.cgroup = cgroup2_root();
	if (!lo.cgroup) {
		pr_warn("no cgroup v2 mount found in /proc/mounts: mount one "
			"(mount -t cgroup2 none /sys/fs/cgroup/unified)");
		goto out_config;
	}
	/* the tries hold two generations of the policy during a switch,
	 * with room for it to grow by a quarter */
	{
		size_t n4 = 0, n6 = 0;

		if (enforce_measure(w.cur.policy, w.cur.intel, &n4, &n6)) {
			pr_warn("cannot compile the policy's prefix sets");
			goto out_config;
		}
		if (enforce_check_limit(n4, n6, err, sizeof(err))) {
			pr_warn("%s", err);
			ret = EXIT_USAGE;
			goto out_config;
		}
		lo.cidr4_max = 2 * n4 + n4 / 4 + 1024;
		lo.cidr6_max = 2 * n6 + n6 / 4 + 1024;
		pr_info("prefixes: %zu IPv4, %zu IPv6 (tries sized %u, %u)",
			n4, n6, lo.cidr4_max, lo.cidr6_max);
	}
	stage("policy and intelligence read");
	ret = loader_open(&w.l, &lo) ? 1 : 0;
	if (!o->rir) {
		if (geo_bg_join(&bg, err, sizeof(err)) && !ret) {
			pr_warn("cannot load the country table: %s", err);
			ret = 1;
			loader_close(&w.l, LOADER_FAIL);
		}
		w.geo = bg.g;
	}
	if (ret)
		goto out_config;
	ret = 1;
	adopted = w.l.adopt.kind == ADOPT_SAME ||
		  w.l.adopt.kind == ADOPT_RELOAD;
	stage(adopted ? "pinned state adopted" :
			"programs loaded and attached");
	if (w.l.proc_hooks)
		kstate_seed_procs(&w.l);
	kstate_seed_inside(&w.l);
	stage("process table seeded");
	if (session_init(&w.s, &w.l, w.cur.policy, &so))
		goto out_session;
	w.session_up = true;
	w.s.out.geo = w.geo;
	if (w.mx) {
		output_add_sink(&w.s.out, metrics_sink(w.mx));
		metrics_set_loader(w.mx, &w.l);
	}
	/* what queued while no daemon read: first, and said */
	if (adopted) {
		name_adopted_events(&w);
		session_gap(&w.s, &w.l.adopt.prev);
		stage("queued events read");
	}
	if (polwatch_init(&w.pw))
		pr_warn("inotify unavailable (%s): a binary or cgroup that "
			"the rules name and that is replaced later is "
			"matched only after a reload", strerror(errno));
	if (apply(&w, &w.cur, err, sizeof(err))) {
		pr_warn("%s", err);
		goto out_session;
	}
	stage("policy in force");
	if (o->reload_on_change && (cfgwatch_init(&w.cw) ||
				    cfgwatch_set(&w.cw, w.cur.policy, o->intel))) {
		pr_warn("--reload-on-change: cannot watch the policy's files "
			"(%s)", strerror(errno));
		goto out_session;
	}
	w.s.reload = enforce || o->policy ? reload : NULL;
	w.s.tick = tick;
	w.s.reload_ctx = &w;
	install_signals();
	start_record(&w);
	service_ready("%s %zu rules of %s on %s", w.cur.policy->mode ==
		      POLICY_ENFORCE ? "enforcing" : "monitoring",
		      w.cur.policy->nr_rules, w.cur.policy->path, w.l.cgroup);
	/* connections open at start-up: the kernel judged them already
	 * when it has watched all along under the same policy */
	if (!adopted || memcmp(w.l.adopt.prev.policy_sha,
			       w.cur.policy->sha256, 32)) {
		if (session_scan_existing(&w.s))
			pr_warn("could not list open connections (sock_diag); "
				"connections open before start-up are not "
				"reported");
	}
	ret = session_run(&w.s) ? 1 : 0;
	service_stopping();
	session_finish(&w.s);
	keep = w.l.persist && !detach_asked; /* an error too: fail closed */
	if (keep) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "persist", json_object_new_boolean(true));
		json_object_object_add(j, "pinned", json_object_new_string(w.l.setdir));
		record_meta(&w.s.out, "stop", j);
		pr_warn("stopped: enforcement stays attached to %s and keeps "
			"judging every call (relaywatch detach removes it)",
			w.l.cgroup);
	}
out_session:
	cfgwatch_free(&w.cw);
	polwatch_free(&w.pw);
	session_free(&w.s);
	metrics_stop(w.mx); /* its thread reads the loader's maps */
	/* a failed start removes only what it made; an adopted set, whose
	 * policy is still in force, stays */
	loader_close(&w.l, detach_asked ? LOADER_DETACH :
			   keep ? LOADER_KEEP : LOADER_FAIL);
out_config:
	if (bg.running)
		geo_bg_join(&bg, err, sizeof(err));
	if (w.geo != bg.g)
		geo_free(bg.g);
	geo_free(w.geo);
	config_free(&w.cur);
	config_free(&w.prev);
	return ret;
}
