/* SPDX-License-Identifier: MIT */
#ifndef RW_DEFAULTS_H
#define RW_DEFAULTS_H

/* etc/trace-policy.yaml, NUL-terminated */
extern const char trace_policy_yaml[], trace_policy_yaml_end[];

#endif
