/* SPDX-License-Identifier: MIT */
/*
 * The daemon as a systemd service (Type=notify): READY=1 only once the
 * policy is enforcing, STATUS= with what is in force, STOPPING=1, and
 * WATCHDOG=1 from the event loop when the unit sets WatchdogSec= (a
 * daemon stuck anywhere is restarted; the pinned enforcement judges
 * meanwhile). Without NOTIFY_SOCKET every call does nothing.
 */
#ifndef RW_SERVICE_H
#define RW_SERVICE_H

#include <linux/types.h>

void service_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void service_stopping(void);
/* each turn of the event loop; pings at half the watchdog interval */
void service_watchdog(__u64 now_ns);

#endif
