/* SPDX-License-Identifier: MIT */
/* Host names and paths in their one normal form: what the policy and the
 * intelligence store, and what a name from an event is looked up as. */
#ifndef RW_NAMES_H
#define RW_NAMES_H

#define HOSTNAME_MAX 253 /* longest host name, no trailing dot */

/*
 * Lower-case a host name into out (HOSTNAME_MAX + 1 bytes), dropping one
 * trailing dot: labels of 1..63 letters, digits, '-' or '_'. 0 or -EINVAL
 * with *why (if why) saying what is wrong.
 */
int hostname_norm(const char *s, char *out, const char **why);

/* An absolute path without "//" or a trailing '/' ("/a//b/" -> "/a/b")
 * into out (strlen(s) + 2 bytes). -EINVAL if s is relative or has a "."
 * or ".." component: those are refused, not resolved. */
int path_norm(const char *s, char *out);

#endif
