/* SPDX-License-Identifier: MIT */
/* What the wire_check programs leave in their res map: one definition for
 * tests/bpf/wire_check.bpf.c and its runner tests/bpf/wire_check.c. */
#ifndef WIRE_CHECK_H
#define WIRE_CHECK_H

#include "../../bpf/wire.h"

struct wc_res {
	__s32 rc; /* enum wire_rc, or -1: no payload reached the parser */
	__u32 pad;
	union {
		struct wire_dns dns;
		struct wire_flow flow;
	};
};

#endif
