// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * dns_ingress and flow_egress for kernels without bpf_loop (before 5.17:
 * Debian 11's 5.10, Ubuntu 22.04's 5.15): the same source as skb.bpf.c,
 * built with RW_COMPAT (see decide.bpf.h): the parsers inlined, the walks
 * in bounded loops.
 */
#define RW_COMPAT 1
#include "skb.bpf.c"
