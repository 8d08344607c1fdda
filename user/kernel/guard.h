/* SPDX-License-Identifier: MIT */
/* Tamper evidence: another root process can detach what relaywatch
 * attached or delete its pins. Each check finds it, puts it back and
 * says what it found. */
#ifndef RW_GUARD_H
#define RW_GUARD_H

#include <stdbool.h>

struct loader;

/* what a check found: what ("detached": a link no longer attaches its
 * program; "unpinned": a pin was removed or replaced), which object, and
 * whether it was put back (else err is the errno) */
typedef void (*guard_report_fn)(const char *what, const char *object,
				bool restored, int err, void *ctx);

/* one check of every link and pin; how many findings */
int guard_check(struct loader *l, guard_report_fn report, void *ctx);

#endif
