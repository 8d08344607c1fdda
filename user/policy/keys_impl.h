/* SPDX-License-Identifier: MIT */
/* Shared by keys.c (matching) and keys_data.c (the formats). */
#ifndef RW_KEYS_IMPL_H
#define RW_KEYS_IMPL_H

#include <stddef.h>

struct key_format {
	const char *provider, *kind;
	const char *ere;      /* POSIX extended regular expression */
	size_t prefix;        /* characters shown before "…"; 0: up to the
			       * second '-' (sk-proj-) */
	const char *source;   /* public URL of the format */
};

struct key_name {
	const char *name, *provider, *kind;
};

extern const struct key_format key_formats[];
extern const struct key_name key_names[];

#endif
