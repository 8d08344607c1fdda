/* SPDX-License-Identifier: MIT */
/* relaywatch check NAME|IP: how the intelligence, the country table and a
 * policy classify a destination. No root, no kernel. */
#ifndef RW_CHECK_H
#define RW_CHECK_H

#include <stddef.h>

struct intel_entry;

int cmd_check(int argc, char **argv);
/* relaywatch intel show NAME: an entry of the intelligence, with its
 * source line and notes */
int cmd_intel(int argc, char **argv);
/* "etc/intel/endpoints.yaml:27" (the built-in set) or "FILE:LINE" */
void intel_where(const struct intel_entry *e, char *buf, size_t len);

#endif
