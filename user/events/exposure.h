/* SPDX-License-Identifier: MIT */
/*
 * Credential exposure: when a process is matched to a destination of
 * category ai-relay or ai-overseas (whatever the action), which keys it
 * held — its environment, its command line (proc.c redacted it), and with
 * the policy's credential_files: true the well-known credential files of
 * its home and a .env in its working directory. Looked at once per
 * process (by pid and start time); one `credential` record per key, named
 * by keys.c (display form and keyed fingerprint, never the value).
 */
#ifndef RW_EXPOSURE_H
#define RW_EXPOSURE_H

#include "record.h"

struct policy;

/* The policy in force: its fingerprint key (before any command line is
 * read, whose keys proc.c names at once). The key's scope, "fleet" or
 * "host", or NULL when no key could be read (fingerprints are null). */
const char *exposure_policy(const struct policy *p);
/* A record just emitted (REC_NET or REC_NAME): look if it exposes. */
void exposure_check(struct output *o, const struct record *r);

#endif
