// SPDX-License-Identifier: MIT
/* relaywatch: the CLI. Subcommands from a table, each with --help and
 * examples; exit 0 on success, 1 on a runtime failure, 2 on a usage or
 * policy error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cgroup.h"
#include "defaults.h"
#include "loader.h"
#include "log.h"
#include "policy.h"
#include "session.h"

#define VERSION "0.1.0"
#define EXIT_USAGE 2

struct cmd_opts {
	const char *policy;
	const char *cgroup;
	const char *log;
	const char *exe;
	long pid;
	long dedup_ms;
	long ringbuf_kb;
	bool json;
};

static const char trace_help[] =
"usage: relaywatch trace [--policy FILE] [--cgroup PATH] [--pid N]\n"
"                        [--exe PATH] [--json] [--dedup-ms N]\n"
"                        [--ringbuf-kb N] [-v]\n"
"\n"
"Live view of processes talking to listed destinations, for incident\n"
"responders. Monitor only: nothing is blocked, deny and kill rules show\n"
"as would_deny and would_kill. Without --policy it uses the built-in\n"
"monitor policy (etc/trace-policy.yaml). Ctrl-C prints a summary.\n"
"\n"
"  --policy FILE   rules to match (their mode is forced to monitor)\n"
"  --cgroup PATH   cgroup v2 directory to watch (default: the cgroup v2\n"
"                  root, i.e. the whole host)\n"
"  --pid N         show only this process\n"
"  --exe PATH      show only this binary\n"
"  --json          JSON lines instead of one line per event\n"
"  --dedup-ms N    fold repeats of (process, destination, rule) within\n"
"                  N ms into one event with a count (default 1000, 0 off)\n"
"  --ringbuf-kb N  event ring buffer size, a power of two (default 8192:\n"
"                  100 ms of events at this host's peak connect rate)\n"
"  -v, -vv         more detail; -vv includes libbpf's log\n"
"\n"
"EXAMPLES\n"
"  relaywatch trace\n"
"  relaywatch trace --json --exe /usr/bin/python3\n"
"  relaywatch trace --cgroup /sys/fs/cgroup/system.slice/app.service\n";

static const char run_help[] =
"usage: relaywatch run --policy FILE [--cgroup PATH] [--log FILE]\n"
"                      [--dedup-ms N] [--ringbuf-kb N] [-v]\n"
"\n"
"The daemon: enforces the policy (deny = EPERM, kill = SIGKILL before the\n"
"call returns) and writes one JSON line per event to the log. SIGHUP\n"
"reopens the log (for logrotate); SIGTERM or SIGINT detaches and exits.\n"
"\n"
"  --policy FILE   the policy (see README, 'Policy file')\n"
"  --cgroup PATH   cgroup v2 directory to enforce on (default: the cgroup\n"
"                  v2 root, i.e. the whole host)\n"
"  --log FILE      append JSON lines here (default: standard output)\n"
"  --dedup-ms N    fold repeats within N ms (default 1000, 0 off)\n"
"  --ringbuf-kb N  event ring buffer size, a power of two (default 8192)\n"
"  -v, -vv         more detail on standard error\n"
"\n"
"EXAMPLES\n"
"  relaywatch run --policy /etc/relaywatch/policy.yaml \\\n"
"                 --log /var/log/relaywatch.jsonl\n"
"  relaywatch run --policy p.yaml --cgroup /sys/fs/cgroup/ci.slice\n";

static const char validate_help[] =
"usage: relaywatch policy validate FILE\n"
"\n"
"Checks a policy file without loading anything (no root needed). Prints\n"
"every error as FILE:LINE:COL: reason and exits 2 on error, else prints\n"
"a one-line summary and exits 0.\n"
"\n"
"EXAMPLES\n"
"  relaywatch policy validate /etc/relaywatch/policy.yaml\n";

static const char main_help[] =
"usage: relaywatch COMMAND [OPTIONS]\n"
"\n"
"Watch and stop processes that send data to AI relay stations and\n"
"overseas AI APIs, with eBPF.\n"
"\n"
"COMMANDS\n"
"  trace             live, monitor-only view of matching connections\n"
"  run               the enforcing daemon (JSON lines log)\n"
"  policy validate   check a policy file\n"
"  version           print the version\n"
"\n"
"Run 'relaywatch COMMAND --help' for a command's options.\n"
"\n"
"EXAMPLES\n"
"  relaywatch trace\n"
"  relaywatch run --policy etc/policy.yaml --log /var/log/relaywatch.jsonl\n"
"  relaywatch policy validate etc/policy.yaml\n";

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

static int parse_long(const char *flag, const char *s, long lo, long hi,
		      long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		pr_warn("%s expects a number from %ld to %ld, not '%s'", flag,
			lo, hi, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* shared option parsing; `allowed` lists the long options a command takes */
static int parse_opts(int argc, char **argv, const char *help,
		      const char *allowed, struct cmd_opts *o)
{
	static const struct option longs[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{ "pid", required_argument, NULL, 'P' },
		{ "exe", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "dedup-ms", required_argument, NULL, 'd' },
		{ "ringbuf-kb", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, idx;

	o->dedup_ms = 1000;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", longs, &idx)) != -1) {
		if (c != '?' && c != 'v' && c != 'h' && !strchr(allowed, c)) {
			pr_warn("%s does not take --%s (see relaywatch %s "
				"--help)", argv[0], longs[idx].name, argv[0]);
			return -EINVAL;
		}
		switch (c) {
		case 'p': o->policy = optarg; break;
		case 'c': o->cgroup = optarg; break;
		case 'l': o->log = optarg; break;
		case 'e': o->exe = optarg; break;
		case 'j': o->json = true; break;
		case 'v': log_level++; break;
		case 'P':
			if (parse_long("--pid", optarg, 1, INT_MAX, &o->pid))
				return -EINVAL;
			break;
		case 'd':
			if (parse_long("--dedup-ms", optarg, 0, 3600000,
				       &o->dedup_ms))
				return -EINVAL;
			break;
		case 'r':
			if (parse_long("--ringbuf-kb", optarg, 4, 1048576,
				       &o->ringbuf_kb))
				return -EINVAL;
			if (o->ringbuf_kb & (o->ringbuf_kb - 1)) {
				pr_warn("--ringbuf-kb must be a power of two "
					"(4, 8, ... 1048576), not %ld",
					o->ringbuf_kb);
				return -EINVAL;
			}
			break;
		case 'h':
			fputs(help, stdout);
			exit(0);
		default:
			pr_warn("unknown option '%s' (see relaywatch %s --help)",
				argv[optind - 1], argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_warn("unexpected argument '%s' (see relaywatch %s --help)",
			argv[optind], argv[0]);
		return -EINVAL;
	}
	return 0;
}

static struct policy *load_policy(const char *path, bool force_monitor)
{
	struct policy *p = NULL;
	char err[1024];
	int ret;

	if (path)
		ret = policy_load_file(path, &p, err, sizeof(err));
	else
		ret = policy_load_string(trace_policy_yaml,
					 trace_policy_yaml_end -
						 trace_policy_yaml,
					 "built-in trace policy", &p, err,
					 sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		return NULL;
	}
	if (force_monitor) {
		p->mode = POLICY_MONITOR;
		for (size_t i = 0; i < p->nr_rules; i++)
			p->rules[i].mode = POLICY_MONITOR;
	}
	return p;
}

/* trace and run differ in defaults only: monitor vs enforce, text vs JSON */
static int watch(const struct cmd_opts *o, bool enforce)
{
	struct loader_opts lo = { .cgroup = o->cgroup,
				  .ringbuf_bytes = o->ringbuf_kb * 1024 };
	struct session_opts so = {
		.pid = o->pid, .exe = o->exe, .log_path = o->log,
		.json = enforce || o->json, .summary = !enforce,
	};
	struct loader l;
	struct session s;
	struct policy *p;
	char err[1024], exe[PATH_MAX];
	int ret;

	p = load_policy(o->policy, !enforce);
	if (!p)
		return EXIT_USAGE;
	if (!lo.cgroup)
		lo.cgroup = cgroup2_root();
	if (!lo.cgroup) {
		pr_warn("no cgroup v2 mount found in /proc/mounts: mount one "
			"(mount -t cgroup2 none /sys/fs/cgroup/unified)");
		policy_free(p);
		return 1;
	}
	if (o->exe) {
		if (!realpath(o->exe, exe)) {
			pr_warn("--exe %s: %s", o->exe, strerror(errno));
			policy_free(p);
			return EXIT_USAGE;
		}
		so.exe = exe;
	}
	if (loader_open(&l, &lo)) {
		policy_free(p);
		return 1;
	}
	ret = loader_apply_policy(&l, p, o->dedup_ms * 1000000ULL, err,
				  sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		ret = ret == -ENOENT ? EXIT_USAGE : 1;
		goto out_loader;
	}
	if (l.proc_hooks)
		loader_seed_procs(&l);
	install_signals();
	if (session_init(&s, &l, p, &so)) {
		ret = 1;
		goto out_session;
	}
	json_object *start = json_object_new_object();

	json_object_object_add(start, "version", json_object_new_string(VERSION));
	json_object_object_add(start, "policy", json_object_new_string(p->path));
	json_object_object_add(start, "mode", json_object_new_string(
				p->mode == POLICY_ENFORCE ? "enforce" : "monitor"));
	json_object_object_add(start, "rules", json_object_new_int64(p->nr_rules));
	json_object_object_add(start, "cgroup", json_object_new_string(l.cgroup));
	json_object_object_add(start, "kill_in_kernel",
			       json_object_new_boolean(l.kill_hook));
	json_object_object_add(start, "process_table",
			       json_object_new_boolean(l.proc_hooks));
	output_record(&s.out, "start", start);
	if (session_scan_existing(&s))
		pr_warn("could not list open connections (sock_diag); "
			"connections open before start-up are not reported");
	ret = session_run(&s) ? 1 : 0;
	session_finish(&s);
out_session:
	session_free(&s);
out_loader:
	loader_close(&l);
	policy_free(p);
	return ret;
}

static int cmd_trace(int argc, char **argv)
{
	struct cmd_opts o = {};

	if (parse_opts(argc, argv, trace_help, "pcPejdr", &o))
		return EXIT_USAGE;
	return watch(&o, false);
}

static int cmd_run(int argc, char **argv)
{
	struct cmd_opts o = {};

	if (parse_opts(argc, argv, run_help, "pcldr", &o))
		return EXIT_USAGE;
	if (!o.policy) {
		pr_warn("run needs --policy FILE (see relaywatch run --help)");
		return EXIT_USAGE;
	}
	return watch(&o, true);
}

static int cmd_policy(int argc, char **argv)
{
	struct policy *p = NULL;
	char err[1024];

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(validate_help, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "validate")) {
		pr_warn("usage: relaywatch policy validate FILE");
		return EXIT_USAGE;
	}
	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		fputs(validate_help, stdout);
		return 0;
	}
	if (argc != 3) {
		pr_warn("usage: relaywatch policy validate FILE");
		return EXIT_USAGE;
	}
	if (policy_load_file(argv[2], &p, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	printf("%s: ok, %zu rules, mode %s\n", argv[2], p->nr_rules,
	       p->mode == POLICY_ENFORCE ? "enforce" : "monitor");
	policy_free(p);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "trace", cmd_trace },
	{ "run", cmd_run },
	{ "policy", cmd_policy },
};

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(main_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("relaywatch %s\n", VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	pr_warn("unknown command '%s' (see relaywatch --help)", argv[1]);
	return EXIT_USAGE;
}
