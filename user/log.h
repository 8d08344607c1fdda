/* SPDX-License-Identifier: MIT */
/* Leveled logging for the daemon and the CLI: pr_warn always, pr_info with
 * -v, pr_debug with -vv. Messages go to stderr, lower-case, no trailing dot. */
#ifndef RW_LOG_H
#define RW_LOG_H

#include <stdio.h>

enum log_level { LOG_WARN = 0, LOG_INFO = 1, LOG_DEBUG = 2 };

extern int log_level;

#define pr_at(lvl, fmt, ...)                                                   \
	do {                                                                   \
		if (log_level >= (lvl))                                        \
			fprintf(stderr, "relaywatch: " fmt "\n",               \
				##__VA_ARGS__);                                \
	} while (0)
#define pr_warn(fmt, ...) pr_at(LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) pr_at(LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pr_at(LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif
