/* SPDX-License-Identifier: MIT */
/* Between the two halves of the intel module: the set (intel.c) and the
 * parser (intel_load.c). Not for other modules. */
#ifndef RW_INTEL_IMPL_H
#define RW_INTEL_IMPL_H

#include "intel.h"

void intel_entry_free(struct intel_entry *e);
/* Add e to a set being built from one source. 0 (the set owns e),
 * -ENOMEM, or -EEXIST with *dup the entry holding the same key. */
int intel_insert(struct intel *in, struct intel_entry *e,
		 const struct intel_entry **dup);
/* Move every entry of tmp into in, as a new source; a key in already has
 * is re-classified. 0 or -ENOMEM, and then in is unchanged. */
int intel_merge(struct intel *in, struct intel *tmp, const char *name,
		const char *updated);

#endif
