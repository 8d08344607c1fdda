// SPDX-License-Identifier: MIT
/* Data compiled into the binary: the monitor-only policy `trace` uses by
 * default. .incbin keeps the file the single source of truth. */
#include "defaults.h"

__asm__(".section .rodata\n"
	".global trace_policy_yaml\n"
	"trace_policy_yaml:\n"
	".incbin \"etc/trace-policy.yaml\"\n"
	".global trace_policy_yaml_end\n"
	"trace_policy_yaml_end:\n"
	".byte 0\n"
	".previous\n");
