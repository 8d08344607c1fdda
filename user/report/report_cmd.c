// SPDX-License-Identifier: MIT
/* relaywatch report: the command. Every file is checked before any is
 * read, so a mistyped name costs nothing but one sentence. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"
#include "report.h"
#include "util.h"

#ifndef EXIT_USAGE
#define EXIT_USAGE 2
#endif

static const char report_help[] =
"usage: relaywatch report [--since T] [--until T] [--format FORMAT] LOG...\n"
"\n"
"A responder's summary of run's JSON logs (rotated ones too; .gz is read\n"
"as gzip): per binary (exe and SHA-256), user and workload (container,\n"
"else systemd unit, else cgroup) the destinations by category and\n"
"provider, countries, actions, connects, bytes sent, first and last seen;\n"
"the top talkers; what was denied and killed; the credentials to rotate.\n"
"Lines that are not whole records are counted and named (FILE:LINE) at\n"
"the end; the rest is reported. Needs neither root nor the kernel.\n"
"\n"
"Connects are connect and sendmsg records, each counting 1 + suppressed;\n"
"bytes and flows are the sums of flow records' bytes and flows.\n"
"\n"
"  --since T       only records at or after T: RFC 3339\n"
"                  (2026-01-02T03:04:05Z, an offset such as +08:00, a\n"
"                  fraction allowed) or N s, m, h or d before now (90m)\n"
"  --until T       only records at or before T (the same forms)\n"
"  --format FORMAT text (default), json (one object), or html (one\n"
"                  self-contained page with a timeline and a chart of\n"
"                  bytes per category, inline SVG, nothing fetched)\n"
"\n"
"EXAMPLES\n"
"  relaywatch report /var/log/relaywatch.jsonl*\n"
"  relaywatch report --since 24h --format html /var/log/relaywatch.jsonl \\\n"
"                    > report.html\n"
"  relaywatch report --since 2026-01-02T00:00:00Z --format json log.1.gz\n";

enum { FMT_TEXT, FMT_JSON, FMT_HTML };

static int parse_time_opt(const char *flag, const char *s, __s64 *ns)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (report_parse_time(s, now.tv_sec * 1000000000LL + now.tv_nsec,
			      ns)) {
		pr_warn("%s expects an RFC 3339 time (2026-01-02T03:04:05Z) "
			"or N followed by s, m, h or d, not '%s'", flag, s);
		return -EINVAL;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct report r;
	int c, fmt = FMT_TEXT, ret = 0, err;
	__s64 since = 0, until = 0;
	const char *s_since = NULL, *s_until = NULL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_time_opt("--since", optarg, &since))
				return EXIT_USAGE;
			s_since = optarg;
			break;
		case 'u':
			if (parse_time_opt("--until", optarg, &until))
				return EXIT_USAGE;
			s_until = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "html"))
				fmt = FMT_HTML;
			else {
				pr_warn("--format: unknown format '%s' (known: "
					"text, json, html)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(report_help, stdout);
			exit(0);
		default:
			pr_warn("unknown option '%s' (see relaywatch report "
				"--help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		pr_warn("report needs at least one LOG file (see relaywatch "
			"report --help)");
		return EXIT_USAGE;
	}
	if (s_since && s_until && since > until) {
		pr_warn("--since %s is after --until %s", s_since, s_until);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (access(argv[i], R_OK) || stat(argv[i], &st)) {
			pr_warn("%s: %s", argv[i], strerror(errno));
			return EXIT_USAGE;
		}
		if (S_ISDIR(st.st_mode)) {
			pr_warn("%s: is a directory, not a log", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (report_init(&r)) {
		pr_warn("report: out of memory");
		return 1;
	}
	r.since = s_since;
	r.until = s_until;
	r.since_ns = since;
	r.until_ns = until;
	r.files = (const char **)argv + optind;
	r.nr_files = argc - optind;
	for (int i = optind; i < argc; i++) {
		err = report_read_file(&r, argv[i]);
		if (err) {
			pr_warn("%s: %s", argv[i], strerror(-err));
			ret = 1;
		}
	}
	if (fmt == FMT_JSON)
		report_json(&r, stdout);
	else if (fmt == FMT_HTML)
		report_html(&r, stdout);
	else
		report_text(&r, stdout);
	report_free(&r);
	if (fflush(stdout)) {
		pr_warn("report: cannot write: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
