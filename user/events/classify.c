// SPDX-License-Identifier: MIT
#include <string.h>

#include "classify.h"
#include "geo.h"
#include "intel.h"
#include "policy.h"

void classify_addr(const struct intel *in, const struct geo *g,
		   const struct policy *p, int family, const __u8 *addr,
		   struct dest_info *d)
{
	static const char *const cn[] = { "CN" };
	const char *home[64];
	const char *const *h = cn;
	size_t n = 1;

	memset(d, 0, sizeof(*d));
	d->overseas = -1;
	d->entry = in ? intel_lookup_addr(in, family, addr) : NULL;
	if (d->entry) {
		d->category = d->entry->category;
		d->provider = d->entry->provider;
	}
	if (!g)
		return;
	d->country = geo_country(g, family, addr);
	if (p) {
		n = p->nr_home_countries < 64 ? p->nr_home_countries : 64;
		for (size_t i = 0; i < n; i++)
			home[i] = p->home_countries[i];
		h = home;
	}
	if (d->country || geo_is_special(family, addr))
		d->overseas = geo_is_overseas(g, family, addr, h, n);
}

void classify_name(const struct intel *in, const char *name,
		   struct dest_info *d)
{
	memset(d, 0, sizeof(*d));
	d->overseas = -1;
	d->entry = in ? intel_lookup_name(in, name) : NULL;
	if (d->entry) {
		d->category = d->entry->category;
		d->provider = d->entry->provider;
	}
}

void classify_query(const struct dest_info *d, struct policy_query *q)
{
	q->categories = d->entry ? &d->category : NULL;
	q->nr_categories = d->entry ? 1 : 0;
	q->provider = d->provider;
	q->country = d->country;
	q->overseas = d->overseas;
}
