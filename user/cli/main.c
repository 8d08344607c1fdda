// SPDX-License-Identifier: MIT
/* relaywatch: the CLI. Subcommands from a table, each with --help and
 * examples; exit 0 on success, 1 on a runtime failure, 2 on a usage or
 * policy error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "check.h"
#include "config.h"
#include "enforce.h"
#include "geo.h"
#include "util.h"
#include "loader.h"
#include "log.h"
#include "output.h"
#include "policy.h"
#include "progload.h"
#include "report.h"
#include "watch.h"



static const char trace_help[] =
"usage: relaywatch trace [--policy FILE] [--cgroup PATH] [-p|--pid N]\n"
"                        [--exe PATH] [--uid N] [--container ID] [-T]\n"
"                        [--json] [--intel FILE] [--rir FILE]\n"
"                        [--dns-ttl-min N] [--dns-ttl-max N]\n"
"                        [--dedup-ms N] [--ringbuf-kb N] [--require LIST]\n"
"                        [--process-rate N] [--output FORMAT] [-v]\n"
"\n"
"Live view of processes talking to listed destinations, for incident\n"
"responders. Monitor only: nothing is blocked, deny and kill rules show\n"
"as would_deny and would_kill. Without --policy it uses the built-in\n"
"monitor policy (etc/trace-policy.yaml: AI endpoints, relay stations,\n"
"encrypted DNS). One line per connection: a TCP connect's line waits up\n"
"to half a second for the bytes it sent; a flow or exit line only when\n"
"it adds something. Lines are whole when standard output is not a\n"
"terminal; on one, a long binary path loses its left part (.../bin/curl).\n"
"Ctrl-C prints a summary of what the filters let through. With --policy,\n"
"SIGHUP reloads.\n"
"\n"
"  --policy FILE   rules to match (their mode is forced to monitor)\n"
"  --cgroup PATH   cgroup v2 directory to watch (default: the cgroup v2\n"
"                  root, i.e. the whole host)\n"
"  -p, --pid N     show only this process\n"
"  --exe PATH      show only this binary (it must exist)\n"
"  --uid N         show only this user's processes\n"
"  --container ID  show only this container's processes: its id or a\n"
"                  prefix of it, as the records' container field shows\n"
"  -T, --time      a time column (HH:MM:SS, local time)\n"
"  --json          JSON lines instead of one line per event (--output json)\n"
"  --output FORMAT text (one line per event, trace's default), json (the\n"
"                  native records, run's default) or ocsf (OCSF 1.8.0\n"
"                  Network Activity, docs/ocsf.md)\n"
"  --intel FILE    extra intelligence, merged after the built-in set and\n"
"                  the policy's intel: files (a later entry wins)\n"
"  --rir FILE      an RIR delegated-stats file overriding countries\n"
"  --dns-ttl-min N, --dns-ttl-max N\n"
"                  clamp the TTL of names learned from DNS answers\n"
"                  (seconds; default 30 and 3600)\n"
"  --dedup-ms N    fold repeats of (process, destination, rule) within\n"
"                  N ms into one event with a count, flows into one flow\n"
"                  record with their bytes summed (default 1000, 0 off)\n"
"  --process-rate N\n"
"                  at most N records a second for one process (default\n"
"                  20, 0 no cap); the rest are counted in one\n"
"                  rate_limited record. Decisions are never capped\n"
"  --ringbuf-kb N  event ring buffer size, a power of two (default 2048:\n"
"                  ~20,000 events; losses are counted and reported)\n"
"  --require LIST  exit 1 unless these features load on this kernel:\n"
"                  connect, sendmsg, dns, first-bytes, flow-bytes,\n"
"                  proc-table, kill, escape, names (dns and first-bytes),\n"
"                  all.\n"
"                  Without it a feature the kernel refuses is turned off\n"
"                  with a warning and the rest runs\n"
"  -v, -vv         more detail; -vv includes libbpf's log\n"
"\n"
"EXAMPLES\n"
"  relaywatch trace\n"
"  relaywatch trace --json --exe /usr/bin/python3\n"
"  relaywatch trace -T --uid 1000\n"
"  relaywatch trace -p 4242 --container 3f2a9c1b7d4e\n"
"  relaywatch trace --cgroup /sys/fs/cgroup/system.slice/app.service\n";

static const char run_help[] =
"usage: relaywatch run --policy FILE [--cgroup PATH] [--log FILE]\n"
"                      [--intel FILE] [--rir FILE] [--dns-ttl-min N]\n"
"                      [--dns-ttl-max N] [--dedup-ms N] [--process-rate N]\n"
"                      [--ringbuf-kb N]\n"
"                      [--require LIST] [--no-persist]\n"
"                      [--reload-on-change] [--syslog[=TARGET]]\n"
"                      [--metrics ADDR:PORT] [--log-max-mb N]\n"
"                      [--output FORMAT] [-v]\n"
"\n"
"The daemon: enforces the policy (deny = EPERM, kill = SIGKILL before the\n"
"call returns) and writes one JSON line per event to the log. SIGUSR1\n"
"reopens the log (for logrotate). SIGHUP reloads the policy and intelligence:\n"
"the new policy is built completely and swapped in atomically; on any\n"
"error the old one stays in force and a reload record says why. When a\n"
"binary, cgroup or container that a rule names appears or is replaced,\n"
"the policy is applied again by itself.\n"
"\n"
"Enforcement outlives the daemon: its programs, maps and attachments are\n"
"pinned under /sys/fs/bpf/relaywatch/, so a crash, kill -9, restart or\n"
"upgrade leaves every call judged as before. The next run adopts them,\n"
"reads what queued meanwhile and reports it (a gap record). SIGTERM and\n"
"SIGINT stop the daemon and leave enforcement in force; only\n"
"'relaywatch detach' removes it.\n"
"\n"
"  --policy FILE   the policy (see README, 'Policy file')\n"
"  --cgroup PATH   cgroup v2 directory to enforce on (default: the cgroup\n"
"                  v2 root, i.e. the whole host)\n"
"  --output FORMAT json (default), ocsf or text (see trace --help)\n"
"  --log FILE      append JSON lines here (default: standard output). A\n"
"                  record is written whole or not at all; when the disk\n"
"                  is full, one warning, the records dropped are counted\n"
"                  and a log_error record says how many once writing\n"
"                  works again; a file deleted or renamed without SIGUSR1\n"
"                  is reopened\n"
"  --log-max-mb N  rotate the log when it would pass N MiB: FILE.1 (newest)\n"
"                  to FILE.5, for hosts without logrotate\n"
"  --syslog[=TARGET]\n"
"                  also send each record to syslog as RFC 5424 (MSGID the\n"
"                  event, its fields as structured data, the JSON record\n"
"                  as the message); TARGET: unix:PATH, udp:HOST:PORT or\n"
"                  tcp:HOST:PORT (default /dev/log: journald or the\n"
"                  syslog daemon). Diagnostics go to local syslog too.\n"
"                  A target that fails: a warning, the log goes on\n"
"  --metrics ADDR:PORT\n"
"                  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
"                  (e.g. 127.0.0.1:9411; :9411 for every address): kernel\n"
"                  counters, records by event, action, rule, category and\n"
"                  provider, ring fill, lost events, reloads, CPU, memory\n"
"  --intel FILE    extra intelligence (see trace --help)\n"
"  --rir FILE      an RIR delegated-stats file overriding countries\n"
"  --dns-ttl-min N, --dns-ttl-max N\n"
"                  clamp the TTL of names learned from DNS answers\n"
"                  (seconds; default 30 and 3600)\n"
"  --dedup-ms N    fold repeats within N ms (default 1000, 0 off)\n"
"  --process-rate N\n"
"                  records a second per process (default 20, 0 no cap;\n"
"                  see trace --help)\n"
"  --ringbuf-kb N  event ring buffer size, a power of two (default 8192:\n"
"                  ~80,000 events, what queues while no daemon reads)\n"
"  --require LIST  exit 1 unless these features load (see trace --help;\n"
"                  e.g. --require all, --require names,kill)\n"
"  --no-persist    pin nothing: SIGTERM, SIGINT or the daemon's death\n"
"                  detaches everything (a terminal session)\n"
"  --reload-on-change\n"
"                  reload by itself when the policy file or an intel file\n"
"                  it names changes (edited, renamed over, a Kubernetes\n"
"                  ConfigMap updated): as SIGHUP, once the writes settle\n"
"                  and only when the contents differ\n"
"  -v, -vv         more detail on standard error\n"
"\n"
"EXAMPLES\n"
"  relaywatch run --policy /etc/relaywatch/policy.yaml \\\n"
"                 --log /var/log/relaywatch.jsonl\n"
"  relaywatch run --policy p.yaml --cgroup /sys/fs/cgroup/ci.slice\n"
"  relaywatch status; relaywatch detach\n";

static const char validate_help[] =
"usage: relaywatch policy validate FILE\n"
"\n"
"Checks a policy file without loading anything (no root needed). Prints\n"
"every error as FILE:LINE:COL: reason (every bad rule and every bad key\n"
"of it; a YAML syntax error stops at the first) and exits 2, else prints warnings (unreachable\n"
"rules) and a one-line summary with the prefixes per family the kernel\n"
"will hold (over 2^20 per family: exit 2) and exits 0.\n"
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
"  check             how a name, address or URL is classified, and decided\n"
"  intel show        an entry of the intelligence, with its source\n"
"  report            a responder's summary of run's JSON logs\n"
"  policy validate   check a policy file\n"
"  status            is enforcement attached, by what, is a daemon reading\n"
"  detach            remove the enforcement run left in force\n"
"  probe             which features this kernel runs (loads, attaches nothing)\n"
"  version           print the version\n"
"\n"
"Run 'relaywatch COMMAND --help' for a command's options.\n"
"\n"
"EXAMPLES\n"
"  relaywatch trace\n"
"  relaywatch run --policy etc/policy.yaml --log /var/log/relaywatch.jsonl\n"
"  relaywatch check https://api.openai.com/v1/chat/completions\n"
"  relaywatch intel show api.openai.com\n"
"  relaywatch policy validate etc/policy.yaml\n"
"  relaywatch report --since 24h /var/log/relaywatch.jsonl*\n";

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
int parse_opts(int argc, char **argv, const char *help,
		      const char *allowed, struct cmd_opts *o)
{
	static const struct option longs[] = {
		{ "policy", required_argument, NULL, 'y' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{ "pid", required_argument, NULL, 'P' },
		{ "uid", required_argument, NULL, 'U' },
		{ "container", required_argument, NULL, 'C' },
		{ "time", no_argument, NULL, 'T' },
		{ "exe", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "dedup-ms", required_argument, NULL, 'd' },
		{ "ringbuf-kb", required_argument, NULL, 'r' },
		{ "intel", required_argument, NULL, 'i' },
		{ "rir", required_argument, NULL, 'g' },
		{ "dns-ttl-min", required_argument, NULL, 'm' },
		{ "dns-ttl-max", required_argument, NULL, 'M' },
		{ "require", required_argument, NULL, 'R' },
		{ "no-persist", no_argument, NULL, 'N' },
		{ "reload-on-change", no_argument, NULL, 'W' },
		{ "syslog", optional_argument, NULL, 'S' },
		{ "metrics", required_argument, NULL, 'X' },
		{ "log-max-mb", required_argument, NULL, 'Z' },
		{ "process-rate", required_argument, NULL, 'Q' },
		{ "output", required_argument, NULL, 'O' },
		{ "all", no_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, idx;

	o->dedup_ms = 1000;
	o->process_rate = 20;
	o->output = -1;
	o->ttl_min = 30;
	o->ttl_max = 3600;
	o->uid = -1;
	opterr = 0;
	/* -p and -T as bcc's tools have them: --pid, --time */
	while ((idx = -1, c = getopt_long(argc, argv, "vhp:T", longs,
					  &idx)) != -1) {
		if (c == 'p')
			c = 'P';
		if (c != '?' && c != 'v' && c != 'h' && !strchr(allowed, c)) {
			if (idx >= 0)
				pr_warn("%s does not take --%s (see relaywatch "
					"%s --help)", argv[0], longs[idx].name,
					argv[0]);
			else
				pr_warn("%s does not take -%c (see relaywatch "
					"%s --help)", argv[0], c == 'P' ? 'p' :
					c, argv[0]);
			return -EINVAL;
		}
		switch (c) {
		case 'y': o->policy = optarg; break;
		case 'C':
			if (!*optarg || strspn(optarg, "0123456789abcdefABCDEF")
					!= strlen(optarg)) {
				pr_warn("--container expects a container id or "
					"its prefix (hex digits), not '%s'",
					optarg);
				return -EINVAL;
			}
			o->container = optarg;
			break;
		case 'U':
			if (parse_long("--uid", optarg, 0, 4294967294L, &o->uid))
				return -EINVAL;
			break;
		case 'T': o->time = true; break;
		case 'c': o->cgroup = optarg; break;
		case 'l': o->log = optarg; break;
		case 'e': o->exe = optarg; break;
		case 'i': o->intel = optarg; break;
		case 'g': o->rir = optarg; break;
		case 'm':
			if (parse_long("--dns-ttl-min", optarg, 0, 604800,
				       &o->ttl_min))
				return -EINVAL;
			break;
		case 'M':
			if (parse_long("--dns-ttl-max", optarg, 1, 604800,
				       &o->ttl_max))
				return -EINVAL;
			break;
		case 'j': o->json = true; break;
		case 'N': o->no_persist = true; break;
		case 'W': o->reload_on_change = true; break;
		case 'S': o->syslog = optarg ? optarg : ""; break;
		case 'X': o->metrics = optarg; break;
		case 'O':
			o->output = output_format_parse(optarg);
			if (o->output < 0) {
				pr_warn("--output: unknown format '%s' (known: "
					"json, ocsf, text)", optarg);
				return -EINVAL;
			}
			break;
		case 'Q':
			if (parse_long("--process-rate", optarg, 0, 1000000,
				       &o->process_rate))
				return -EINVAL;
			break;
		case 'Z':
			if (parse_long("--log-max-mb", optarg, 1, 1048576,
				       &o->log_max_mb))
				return -EINVAL;
			break;
		case 'A': o->all = true; break;
		case 'R': {
			char err[256];

			if (feature_parse(optarg, &o->require, err,
					  sizeof(err))) {
				pr_warn("--require: %s", err);
				return -EINVAL;
			}
			break;
		}
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
	if (o->ttl_min > o->ttl_max) {
		pr_warn("--dns-ttl-min (%ld) is above --dns-ttl-max (%ld)",
			o->ttl_min, o->ttl_max);
		return -EINVAL;
	}
	if (optind < argc) {
		pr_warn("unexpected argument '%s' (see relaywatch %s --help)",
			argv[optind], argv[0]);
		return -EINVAL;
	}
	return 0;
}

static int cmd_trace(int argc, char **argv)
{
	struct cmd_opts o = {};

	if (parse_opts(argc, argv, trace_help, "ycPUCTejdrigmMRQO", &o))
		return EXIT_USAGE;
	return watch(&o, false);
}

static int cmd_run(int argc, char **argv)
{
	struct cmd_opts o = {};

	o.ringbuf_kb = 8192; /* a few seconds of a busy host's matches while
			      * no daemon reads (a restart, an upgrade) */
	if (parse_opts(argc, argv, run_help, "ycldrigmMRNWSXZQO", &o))
		return EXIT_USAGE;
	if (!o.policy) {
		pr_warn("run needs --policy FILE (see relaywatch run --help)");
		return EXIT_USAGE;
	}
	if (o.log_max_mb && !o.log) {
		pr_warn("--log-max-mb rotates a log file: give --log FILE too");
		return EXIT_USAGE;
	}
	return watch(&o, true);
}

static int cmd_policy(int argc, char **argv)
{
	struct policy *p = NULL;
	struct config c = {};
	struct geo *g = NULL;
	size_t n4 = 0, n6 = 0;
	char err[1024];
	int ret;

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
	for (size_t i = 0; i < p->nr_warnings; i++)
		fprintf(stderr, "%s\n", p->warnings[i]);
	policy_free(p);
	/* what the kernel will hold: its intel files read, its country
	 * rules expanded into prefixes */
	log_level = -1; /* the load above said it all */
	if (config_load(&c, argv[2], NULL, false, err, sizeof(err)) ||
	    geo_load_embedded(&g, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		config_free(&c);
		return EXIT_USAGE;
	}
	log_level = LV_WARN;
	p = c.policy;
	ret = enforce_measure(p, c.intel, &n4, &n6);
	if (!ret)
		ret = enforce_check_limit(n4, n6, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[2], ret == -E2BIG ? err :
			"cannot compile its prefix sets");
	} else {
		printf("%s: ok, %zu rules, mode %s, default %s, %zu warnings, "
		       "prefixes %zu IPv4, %zu IPv6\n", argv[2], p->nr_rules,
		       p->mode == POLICY_ENFORCE ? "enforce" : "monitor",
		       action_name(p->default_action), p->nr_warnings, n4, n6);
	}
	geo_free(g);
	config_free(&c);
	return ret ? EXIT_USAGE : 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "probe", cmd_probe },
	{ "status", cmd_status },
	{ "detach", cmd_detach },
	{ "trace", cmd_trace },
	{ "run", cmd_run },
	{ "policy", cmd_policy },
	{ "check", cmd_check },
	{ "intel", cmd_intel },
	{ "report", cmd_report },
};

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(main_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("relaywatch %s\n"
		       "Country data: ip-location-db geo-whois-asn-country, "
		       "derived from data of\nthe Number Resource Organization "
		       "(https://www.nro.net/), licensed under\nCC BY 4.0 "
		       "(https://creativecommons.org/licenses/by/4.0/). "
		       "Converted to relaywatch's format.\n", VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	pr_warn("unknown command '%s' (see relaywatch --help)", argv[1]);
	return EXIT_USAGE;
}
