// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The connect/sendmsg hooks for kernels without bpf_loop (before 5.17:
 * Debian 11's 5.10, Ubuntu 22.04's 5.15): the same source as
 * sock_addr.bpf.c, built with RW_COMPAT (see decide.bpf.h): the rule walk
 * and the name check in bounded loops, every rule condition, names from
 * DNS answers, deny and kill.
 */
#define RW_COMPAT 1
#include "sock_addr.bpf.c"
