/* SPDX-License-Identifier: MIT */
/* What a policy run needs besides the kernel: the policy and the merged
 * intelligence it refers to (embedded, then the policy's `intel:` files,
 * then --intel). Loaded whole or not at all, so a reload can keep the old
 * one on any error. */
#ifndef RW_CONFIG_H
#define RW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct policy;
struct intel;

struct config {
	struct policy *policy;
	struct intel *intel;
};

/* policy_path NULL: the built-in monitor policy (etc/trace-policy.yaml).
 * force_monitor: every rule reports only (trace). Policy warnings and the
 * intel merge summary go to pr_warn / pr_info. 0 or -errno, err set. */
int config_load(struct config *c, const char *policy_path,
		const char *intel_path, bool force_monitor, char *err,
		size_t errlen);
void config_free(struct config *c);

#endif
