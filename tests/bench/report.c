// SPDX-License-Identifier: MIT
/*
 * make bench, the report's side: how fast `relaywatch report` reads a
 * log. Writes a log of MB megabytes (argv[1], default 256) of records
 * shaped like the daemon's (connects, flows, exits and tls names of 40
 * binaries, 8 users, 12 cgroups, a parent chain, ~700 bytes each) to
 * /tmp, then times reading it through the report, the text written to
 * /dev/null: MB/s, records/s and the peak resident memory. Prints
 * numbers, asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "report.h"

static const char *const events[] = { "connect", "connect", "flow", "tls",
				      "exit", "connect", "flow", "sendmsg" };
static const char *const actions[] = { "alert", "alert", "deny", "allow",
				       "kill", "alert" };
static const char *const cats[] = { "\"ai-relay\"", "\"ai-overseas\"",
				    "null", "\"ai-domestic\"" };

static long write_log(const char *path, long mb)
{
	FILE *f = fopen(path, "w");
	long n = 0, size = 0;
	char ts[40];

	if (!f)
		return -1;
	while (size < mb * 1000000) {
		const char *ev = events[n % 8];
		int b = n % 40, len;

		report_fmt_time(1796400000LL * 1000000000LL + n * 3000000LL, ts,
				sizeof(ts));
		len = fprintf(f,
			"{\"ts\":\"%s\",\"event\":\"%s\",\"action\":\"%s\","
			"\"rule\":\"r%d\",\"family\":\"ipv4\",\"proto\":\"tcp\","
			"\"daddr\":\"203.0.113.%ld\",\"dport\":443,\"category\":"
			"%s,\"provider\":\"p%d\",\"domain\":null,\"country\":"
			"\"US\",\"overseas\":true,\"pid\":%ld,\"tid\":%ld,"
			"\"comm\":\"bin%d\",\"cookie\":%ld,\"suppressed\":%ld,"
			"\"enforced\":true,%s\"attribution\":\"proc\",\"ppid\":1,"
			"\"uid\":%d,\"user\":\"user%d\",\"exe\":\"/usr/local/bin/"
			"bin%d\",\"exe_deleted\":false,\"sha256\":\"58824afa640f"
			"512e07e895c0f2d1e1fe2c3fd1456acab689b6e4c1c75cef%04d\","
			"\"cmdline\":\"bin%d --model gpt --endpoint https://relay."
			"example/v1 --prompt-file /srv/data/prompt-%ld.txt\","
			"\"cmdline_truncated\":false,\"exe_truncated\":false,"
			"\"cgroup\":\"/system.slice/app%d.service\",\"container\":"
			"null,\"unit\":\"app%d.service\",\"parents\":[{\"pid\":900,"
			"\"exe\":\"/usr/bin/bash\"},{\"pid\":1,\"exe\":\"/usr/lib/"
			"systemd/systemd\"}],\"host\":\"vm\",\"schema\":"
			"\"relaywatch/1\"}\n", ts, ev, actions[n % 6], b % 5,
			n % 250, cats[b % 4], b % 9, 1000 + n % 5000,
			1000 + n % 5000, b, n, n % 3,
			!strcmp(ev, "flow") ? "\"bytes\":4096,\"packets\":5,"
			"\"flows\":1," : "", 1000 + b % 8, b % 8, b, b, b, n,
			b % 12, b % 12);
		if (len < 0)
			break;
		size += len;
		n++;
	}
	if (fclose(f))
		return -1;
	return n;
}

/* the peak resident memory of this process, KiB; -1 unreadable */
static long peak_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/rw-bench-report-XXXXXX";
	long mb = argc > 1 ? atol(argv[1]) : 256, n;
	struct report r;
	double t0, secs;
	FILE *out;
	int fd;

	fd = mkstemp(path);
	if (fd < 0 || mb <= 0) {
		perror("bench_report");
		return 1;
	}
	close(fd);
	n = write_log(path, mb);
	if (n < 0 || report_init(&r)) {
		perror(path);
		unlink(path);
		return 1;
	}
	out = fopen("/dev/null", "w");
	t0 = now();
	if (report_read_file(&r, path) || !out) {
		perror(path);
		unlink(path);
		return 1;
	}
	report_text(&r, out);
	secs = now() - t0;
	printf("report: %ld MB, %ld records in %.2f s: %.0f MB/s, %.0f "
	       "records/s, %llu bad lines, peak RSS %ld KiB\n", mb, n, secs,
	       r.bytes_read / 1e6 / secs, n / secs,
	       (unsigned long long)r.nr_bad, peak_kb());
	fclose(out);
	report_free(&r);
	unlink(path);
	return 0;
}
