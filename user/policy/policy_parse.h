/* SPDX-License-Identifier: MIT */
/* The policy parser's parts (policy.c: the document and its rules;
 * policy_keys.c: a rule's match keys). Not for use outside them. */
#ifndef RW_POLICY_PARSE_H
#define RW_POLICY_PARSE_H

#include "policy.h"
#include "ydoc.h"

/* every check of a rule runs, even after one fails: the first error is
 * the result, and each is reported (parse_each_rule collects them) */
static inline int first_err(int ret, int next)
{
	return ret ? ret : next;
}

/* a two-letter country code into out (char[3]), for ydoc_list */
int policy_country_one(struct ydoc *d, const struct yfield *f,
		       const yaml_node_t *e, void *out, const void *arg);

/* a rule's `match:` mapping into r; 0 or the first error (each said) */
int policy_parse_match(struct ydoc *d, const struct yfield *mf,
		       struct policy_rule *r);

#endif
