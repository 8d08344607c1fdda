// SPDX-License-Identifier: MIT
/* sd_notify(3) through libsystemd: the protocol is small, but the library
 * handles the socket's forms (abstract, vsock) and credentials passing. */
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"

static void notify(const char *head, const char *fmt, va_list ap)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%sSTATUS=", head);

	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (sd_notify(0, msg) < 0)
		pr_debug("sd_notify failed");
}

void service_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify("READY=1\n", fmt, ap);
	va_end(ap);
}

void service_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify("", fmt, ap);
	va_end(ap);
}

void service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void service_watchdog(__u64 now_ns)
{
	static int enabled = -1;
	static __u64 every_ns, next_ns;
	uint64_t usec;

	if (enabled < 0) {
		enabled = sd_watchdog_enabled(0, &usec) > 0;
		every_ns = usec * 1000 / 2;
	}
	if (!enabled || now_ns < next_ns)
		return;
	sd_notify(0, "WATCHDOG=1");
	next_ns = now_ns + every_ns;
}
