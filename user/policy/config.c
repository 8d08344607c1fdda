// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "defaults.h"
#include "intel.h"
#include "log.h"
#include "policy.h"

static int load_policy(const char *path, struct policy **p, char *err,
		       size_t errlen)
{
	if (path)
		return policy_load_file(path, p, err, errlen);
	return policy_load_string(trace_policy_yaml,
				  trace_policy_yaml_end - trace_policy_yaml,
				  "built-in trace policy", p, err, errlen);
}

static void report_sources(const struct intel *in)
{
	const struct intel_source *src;
	size_t n;

	src = intel_sources(in, &n);
	for (size_t i = 0; i < n; i++)
		pr_info("intel %s: %u entries added, %u re-classified",
			src[i].name, src[i].added, src[i].replaced);
}

int config_load(struct config *c, const char *policy_path,
		const char *intel_path, bool force_monitor, char *err,
		size_t errlen)
{
	struct config n = {};
	int ret;

	ret = load_policy(policy_path, &n.policy, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < n.policy->nr_warnings; i++)
		pr_warn("%s", n.policy->warnings[i]);
	if (force_monitor) {
		n.policy->mode = POLICY_MONITOR;
		n.policy->deadman_ns = 0; /* trace never blocks */
		for (size_t i = 0; i < n.policy->nr_rules; i++)
			n.policy->rules[i].mode = POLICY_MONITOR;
	}
	ret = intel_new(&n.intel);
	if (!ret)
		ret = intel_add_embedded(n.intel, err, errlen);
	for (size_t i = 0; !ret && i < n.policy->nr_intel_files; i++)
		ret = intel_add_file(n.intel, n.policy->intel_files[i], err,
				     errlen);
	if (!ret && intel_path)
		ret = intel_add_file(n.intel, intel_path, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory loading intel");
		config_free(&n);
		return ret;
	}
	report_sources(n.intel);
	*c = n;
	return 0;
}

void config_free(struct config *c)
{
	policy_free(c->policy);
	intel_free(c->intel);
	c->policy = NULL;
	c->intel = NULL;
}
