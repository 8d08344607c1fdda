/* SPDX-License-Identifier: MIT */
/* Attaching the programs, and what persistence adds to it: finding the
 * set pinned for a cgroup, reusing its maps and programs, pinning a new
 * one, swapping programs without a gap, removing the sets replaced. */
#ifndef RW_ATTACH_H
#define RW_ATTACH_H

#include "loader.h"

/* the format of the pinned state this build makes (RW_FORMAT) */
__u32 attach_format(void);
/* persistent start: locks the cgroup's directory, cleans the state of
 * cgroups that are gone, finds the set to adopt (l->adopt) and reuses
 * its maps; 0 or -errno, said in one sentence */
int attach_find(struct loader *l, const struct loader_opts *o);
/* ADOPT_SAME: the programs from their pins, loaded by an earlier
 * daemon; -ENOENT when one is missing */
int attach_take_programs(struct loader *l);
/* attaches every program that loaded (the kill hook on demand), pinning
 * each link with persist; adopted links stay, or get this build's
 * program swapped in. A program that does not attach turns its feature
 * off. 0, or -errno when the set cannot be made at all. */
int attach_all(struct loader *l);
/* attaches one program (and pins its link, replacing the old pin) */
int attach_one(struct loader *l, struct prog_state *ps);
/* detaches one program and removes its link's pin */
void attach_drop(struct loader *l, struct prog_state *ps);
/* does the link still attach its program? (a detached cgroup link
 * reports no cgroup) */
bool attach_link_alive(int link_fd);
/* removes the cgroup's other sets (those replaced): how many */
int attach_remove_others(struct loader *l);

#endif
