/* SPDX-License-Identifier: MIT */
/*
 * Leveled logging for the daemon and the CLI: pr_warn always, pr_info with
 * -v, pr_debug with -vv. Messages go to stderr, lower-case, no trailing
 * dot. When stderr is the journal (systemd's JOURNAL_STREAM names it),
 * each line carries its level as sd-daemon(3)'s "<N>" prefix, so the
 * journal records it as the message's PRIORITY; log_to_syslog() copies
 * every message to syslog(3) as well (run --syslog).
 */
#ifndef RW_LOG_H
#define RW_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LV_WARN = 0, LV_INFO = 1, LV_DEBUG = 2 };

extern int log_level;

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* also send each message to syslog(3) (facility daemon), or stop */
void log_to_syslog(bool on);
/* stderr is the journal's stream (read once) */
bool log_stderr_is_journal(void);

#define pr_at(lvl, fmt, ...)                                                   \
	do {                                                                   \
		if (log_level >= (lvl))                                        \
			log_msg((lvl), fmt, ##__VA_ARGS__);                    \
	} while (0)
#define pr_warn(fmt, ...) pr_at(LV_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) pr_at(LV_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pr_at(LV_DEBUG, fmt, ##__VA_ARGS__)

#endif
