// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

int log_level = LV_WARN;
static bool to_syslog;

bool log_stderr_is_journal(void)
{
	static int known = -1;

	if (known < 0) {
		const char *js = getenv("JOURNAL_STREAM");
		unsigned long long dev, ino;
		struct stat st;

		known = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
			!fstat(STDERR_FILENO, &st) &&
			(unsigned long long)st.st_dev == dev &&
			(unsigned long long)st.st_ino == ino;
	}
	return known;
}

void log_to_syslog(bool on)
{
	if (on && !to_syslog)
		openlog("relaywatch", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && to_syslog)
		closelog();
	to_syslog = on;
}

void log_msg(int level, const char *fmt, ...)
{
	/* sd-daemon(3) prefixes: warning, info, debug */
	static const int prio[] = { LOG_WARNING, LOG_INFO, LOG_DEBUG };
	int p = prio[level < 0 ? 0 : level > 2 ? 2 : level];
	va_list ap;

	va_start(ap, fmt);
	if (log_stderr_is_journal())
		fprintf(stderr, "<%d>", p);
	fputs("relaywatch: ", stderr);
	if (to_syslog) {
		va_list cp;

		va_copy(cp, ap);
		vsyslog(p, fmt, cp);
		va_end(cp);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
