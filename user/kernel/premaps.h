/* SPDX-License-Identifier: MIT */
#ifndef RW_PREMAPS_H
#define RW_PREMAPS_H

#include <bpf/libbpf.h>

/*
 * The maps that preallocate every element (the LRU hashes: procs, dedup,
 * dns_ips, tags, inside), the country table's arrays (geo4, geo6: ~9 MB
 * with the embedded table), the event ring (8 MB) and the pending slots
 * (5 MB) are most of the time it takes to create the object's maps (~60
 * of ~70 ms on 6.18 in a 2-CPU VM), each on one CPU.
 * premaps_create makes those of obj that are not created or reused yet,
 * in parallel threads, with the object's BTF where the kernel takes it,
 * and hands them to obj (bpf_map__reuse_fd): its load creates the rest.
 * A map that cannot be made ahead is left to the load, which says why.
 */
void premaps_create(struct bpf_object *obj);

#endif
