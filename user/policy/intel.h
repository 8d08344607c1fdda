/* SPDX-License-Identifier: MIT */
/*
 * Destination intelligence: which host names and address ranges belong to
 * overseas AI APIs, AI relay stations, Chinese AI providers, AI telemetry
 * and encrypted-DNS resolvers. The default set (etc/intel/endpoints.yaml) is
 * compiled in; files added later re-classify or extend it. Format, category
 * meanings and sources: docs/intel.md.
 *
 *   version: 1
 *   entries:
 *     - {domain: api.openai.com, category: ai-overseas, provider: OpenAI}
 *     - {domain: "*.openai.azure.com", category: ai-overseas, provider: Microsoft}
 *     - {cidr: 160.79.104.0/23, category: ai-overseas, provider: Anthropic,
 *        confidence: verified}
 *
 * "*.suffix" matches any name below suffix, never suffix itself. Exact and
 * wildcard names are separate keys: "x.example" and "*.x.example" may both
 * exist. A name lookup prefers the exact entry, then the longest wildcard
 * suffix; an address lookup the longest prefix.
 */
#ifndef RW_INTEL_H
#define RW_INTEL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"

/* Stable values, never reused: they may travel in map values and events. */
enum intel_category {
	INTEL_CAT_NONE = 0,         /* not classified; intel_count(): all */
	INTEL_CAT_AI_OVERSEAS = 1,  /* official overseas AI APIs, coding tools */
	INTEL_CAT_AI_RELAY = 2,     /* relay stations, aggregators, gateways */
	INTEL_CAT_AI_DOMESTIC = 3,  /* Chinese providers, mainland endpoints */
	INTEL_CAT_AI_DOMESTIC_INTL = 4, /* Chinese providers, overseas endpoints */
	INTEL_CAT_AI_TELEMETRY = 5, /* AI tools' usage/experiment reporting */
	INTEL_CAT_DNS_ENCRYPTED = 6, /* public DoH/DoT resolvers */
	INTEL_CAT__MAX = 7,
};

enum intel_confidence {
	INTEL_CONF_UNSET = 0,
	INTEL_CONF_VERIFIED = 1,    /* in the operator's docs or config code */
	INTEL_CONF_LIKELY = 2,      /* third-party lists or code only */
};

#define INTEL_NAME_MAX 253          /* longest host name, no trailing dot */
#define INTEL_MAX_SIZE (16 << 20)   /* bytes of one intel file */

struct intel_entry {
	char *domain;       /* lower case, no "*." and no trailing dot; or NULL */
	bool wildcard;      /* domain came as "*.domain" */
	bool is_cidr;
	struct cidr cidr;   /* when is_cidr */
	int category;       /* enum intel_category, never INTEL_CAT_NONE */
	int confidence;     /* enum intel_confidence */
	char *provider;
	int line;           /* 1-based line in source */
	const char *source; /* name of the source that set it (owned by intel) */
};

/* One intel_add_*() call that succeeded, in order. */
struct intel_source {
	char *name;         /* "<embedded>" or the file name */
	char *updated;      /* the file's `updated:` value, or NULL */
	unsigned int added;     /* keys new to the set */
	unsigned int replaced;  /* keys an earlier source had: re-classified */
};

struct intel; /* opaque */

int intel_new(struct intel **out);
void intel_free(struct intel *in);

/*
 * Parse a source and merge it. A file is checked as a whole first: on any
 * error nothing is merged, and err holds one line, "NAME:LINE:COL: reason"
 * (1-based) or "cannot read FILE: reason". Within one source a domain or
 * cidr may appear once; a later source replaces an earlier one's entry.
 * Return 0, -EINVAL (bad content), -ENOMEM, or -errno of reading the file.
 */
int intel_add_embedded(struct intel *in, char *err, size_t errlen);
int intel_add_file(struct intel *in, const char *path, char *err,
		   size_t errlen);
/* path a directory: every *.yaml file in it (not hidden), in name order,
 * as if each were named. The files of dir, allocated; 0 or -errno. */
int intel_dir_files(const char *dir, char ***paths, size_t *nr);
/* text need not be NUL-terminated; name stands in for FILE in messages */
int intel_add_string(struct intel *in, const char *text, size_t len,
		     const char *name, char *err, size_t errlen);

/* Case-insensitive, one trailing dot ignored. NULL if nothing matches. */
const struct intel_entry *intel_lookup_name(const struct intel *in,
					    const char *name);
/* addr: 4 bytes for AF_INET, 16 for AF_INET6; v4-mapped v6 is judged as v4 */
const struct intel_entry *intel_lookup_addr(const struct intel *in,
					    int family, const __u8 *addr);
/* An address literal ("1.2.3.4", "::1") or else a host name: for `check`. */
const struct intel_entry *intel_lookup(const struct intel *in, const char *s);

/* Entries of a category; INTEL_CAT_NONE counts every entry. */
size_t intel_count(const struct intel *in, int category);
/* The i-th entry in first-added order (a replaced entry keeps its place),
 * NULL past the end: for loading kernel maps. */
const struct intel_entry *intel_entry(const struct intel *in, size_t i);
const struct intel_source *intel_sources(const struct intel *in, size_t *n);

/* "ai-overseas", ...; NULL for an invalid id */
const char *intel_category_name(int category);
/* case-insensitive; the id, or -EINVAL */
int intel_category_parse(const char *s);
/* "verified", "likely", or "" when unset */
const char *intel_confidence_name(int confidence);

/* etc/intel/endpoints.yaml, NUL-terminated, from intel_data.c */
extern const char intel_yaml[];
extern const unsigned int intel_yaml_len;

#endif
