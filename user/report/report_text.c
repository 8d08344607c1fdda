// SPDX-License-Identifier: MIT
/* report --format text: what a responder reads first (totals, top
 * talkers, what was blocked, credentials), then each binary, user and
 * workload, then the lines that could not be read. */
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define TOP 10

/* field n (0-based) of a tab-joined key, into buf */
static const char *field(const char *key, int n, char *buf, size_t len)
{
	const char *p = key, *e;

	for (; n > 0 && p; n--)
		p = (p = strchr(p, '\t')) ? p + 1 : NULL;
	if (!p)
		return "";
	e = strchr(p, '\t');
	snprintf(buf, len, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
	return buf;
}

static const char *human(__u64 b, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

static void when(FILE *f, const struct rep_stats *s)
{
	char a[40], b[40];

	if (!s->first_ns)
		return;
	report_fmt_time(s->first_ns, a, sizeof(a));
	report_fmt_time(s->last_ns, b, sizeof(b));
	fprintf(f, "    first seen %s, last seen %s\n", a, b);
}

static void stats(FILE *f, const struct rep_stats *s, bool detail)
{
	char h[32], k0[256], k1[256];
	struct rtab_ent **l;
	bool any = false;

	fprintf(f, "    connects %llu, names %llu, flows %llu, bytes sent %llu "
		"(%s), kills %llu, records %llu\n",
		(unsigned long long)s->connects, (unsigned long long)s->names,
		(unsigned long long)s->flows, (unsigned long long)s->bytes,
		human(s->bytes, h, sizeof(h)), (unsigned long long)s->kills,
		(unsigned long long)s->records);
	fprintf(f, "    actions:");
	for (int a = 0; a < RA_N; a++)
		if (s->actions[a]) {
			fprintf(f, "%s %s %llu", any ? "," : "",
				rep_action_names[a],
				(unsigned long long)s->actions[a]);
			any = true;
		}
	fprintf(f, "%s\n", any ? "" : " none");
	when(f, s);
	if (!detail)
		return;
	l = rtab_list(&s->dests, NULL);
	for (size_t i = 0; l && l[i]; i++) {
		const struct rep_dest *d = l[i]->val;

		fprintf(f, "    %-16s %-18s connects %llu, names %llu, flows "
			"%llu, bytes %llu\n",
			field(l[i]->key, 0, k0, sizeof(k0)),
			field(l[i]->key, 1, k1, sizeof(k1)),
			(unsigned long long)d->connects,
			(unsigned long long)d->names,
			(unsigned long long)d->flows,
			(unsigned long long)d->bytes);
	}
	free(l);
	l = report_by_count(&s->countries);
	fprintf(f, "    countries:");
	for (size_t i = 0; l && l[i]; i++)
		fprintf(f, "%s %s %llu", i ? "," : "", l[i]->key,
			(unsigned long long)*(__u64 *)l[i]->val);
	fprintf(f, "%s\n", l && l[0] ? "" : " none");
	free(l);
}

/* one line a key: whose, what, where; then its display form and
 * fingerprint (what to look up in the key's console), the destination
 * and the decision */
static void creds(FILE *f, const struct rep_group *g)
{
	struct rtab_ent **l = report_by_count(&g->creds);
	char v[REP_CRED_N][512];

	for (size_t i = 0; l && l[i]; i++) {
		for (int n = 0; n < REP_CRED_N; n++)
			field(l[i]->key, n, v[n], sizeof(v[n]));
		if (!strcmp(v[0], "(not inspected)"))
			fprintf(f, "    not inspected (%s): %s -> %s, %s "
				"(%llu records)\n", v[1], v[2], v[5], v[6],
				(unsigned long long)*(__u64 *)l[i]->val);
		else
			fprintf(f, "    rotate: %s %s in %s: %s %s -> %s, %s "
				"(%llu records)\n", v[0], v[1], v[2], v[3],
				v[4], v[5], v[6],
				(unsigned long long)*(__u64 *)l[i]->val);
	}
	free(l);
}

static void groups(FILE *f, const char *title, const struct rtab *t,
		   bool binaries)
{
	struct rtab_ent **l = report_groups_by_records(t);
	char a[4096], b[128];

	fprintf(f, "\n%s (%zu)\n", title, t->n);
	for (size_t i = 0; l && l[i]; i++) {
		const struct rep_group *g = l[i]->val;

		if (binaries)
			fprintf(f, "  %s  sha256 %s\n",
				field(l[i]->key, 0, a, sizeof(a)),
				field(l[i]->key, 1, b, sizeof(b)));
		else
			fprintf(f, "  %s\n", l[i]->key);
		stats(f, &g->s, true);
		if (binaries)
			creds(f, g);
	}
	free(l);
}

static void top(FILE *f, const char *title, struct rtab_ent **l, bool bytes)
{
	char a[4096], h[32];

	fprintf(f, "\n%s\n", title);
	for (size_t i = 0; l && l[i] && i < TOP; i++) {
		const struct rep_stats *s = &((struct rep_group *)l[i]->val)->s;

		if (bytes ? !s->bytes : !s->connects)
			break;
		if (bytes)
			fprintf(f, "  %12llu  %-10s %s\n",
				(unsigned long long)s->bytes,
				human(s->bytes, h, sizeof(h)),
				field(l[i]->key, 0, a, sizeof(a)));
		else
			fprintf(f, "  %12llu  %s\n",
				(unsigned long long)s->connects,
				field(l[i]->key, 0, a, sizeof(a)));
	}
	if (!l || !l[0] || (bytes ? !((struct rep_group *)l[0]->val)->s.bytes :
			    !((struct rep_group *)l[0]->val)->s.connects))
		fprintf(f, "  none\n");
	free(l);
}

void report_text(const struct report *r, FILE *f)
{
	struct rtab_ent **l;
	char a[40], b[40], k[6][4096];

	fprintf(f, "relaywatch report: %zu file(s), %llu lines, %llu records, "
		"%llu in range, %llu bad lines\n", r->nr_files,
		(unsigned long long)r->lines, (unsigned long long)r->records,
		(unsigned long long)(r->records - r->filtered),
		(unsigned long long)r->nr_bad);
	if (r->since || r->until) {
		report_fmt_time(r->since_ns, a, sizeof(a));
		report_fmt_time(r->until_ns, b, sizeof(b));
		fprintf(f, "range: since %s, until %s\n", r->since ? a : "-",
			r->until ? b : "-");
	}
	fprintf(f, "\nTOTALS (%zu binaries, %zu users, %zu workloads)\n",
		r->bins.n, r->users.n, r->works.n);
	stats(f, &r->total, true);
	top(f, "TOP TALKERS BY BYTES SENT", report_groups_by_bytes(&r->bins),
	    true);
	top(f, "TOP TALKERS BY CONNECTS", report_groups_by_connects(&r->bins),
	    false);

	fprintf(f, "\nDENIED AND KILLED (decisions; %llu kill records)\n",
		(unsigned long long)r->total.kills);
	if (r->by_pid)
		fprintf(f, "  (%llu records without attribution credited to "
			"what their pid ran just before)\n",
			(unsigned long long)r->by_pid);
	l = report_by_count(&r->blocked);
	for (size_t i = 0; l && l[i]; i++) {
		for (int n = 0; n < 6; n++)
			field(l[i]->key, n, k[n], sizeof(k[n]));
		fprintf(f, "  %8llu  %-10s rule %s  %s -> %s%s%s%s\n",
			(unsigned long long)*(__u64 *)l[i]->val, k[0], k[1],
			k[2], k[4], strcmp(k[5], "-") ? " (" : "",
			strcmp(k[5], "-") ? k[5] : "",
			strcmp(k[5], "-") ? ")" : "");
	}
	if (!l || !l[0])
		fprintf(f, "  nothing denied or killed\n");
	free(l);

	fprintf(f, "\nCREDENTIALS TO ROTATE (%llu keys named, %llu processes "
		"not inspected)\n", (unsigned long long)r->total.credentials,
		(unsigned long long)r->total.cred_errors);
	if (!r->total.credentials && !r->total.cred_errors) {
		fprintf(f, "  no credential records\n");
	} else {
		l = report_groups_by_records(&r->bins);
		for (size_t i = 0; l && l[i]; i++) {
			const struct rep_group *g = l[i]->val;

			if (!g->s.credentials && !g->s.cred_errors)
				continue;
			fprintf(f, "  %s\n", field(l[i]->key, 0, k[0],
						   sizeof(k[0])));
			creds(f, g);
		}
		free(l);
	}

	groups(f, "BINARIES", &r->bins, true);
	groups(f, "USERS", &r->users, false);
	groups(f, "WORKLOADS (container, else unit, else cgroup)", &r->works,
	       false);

	fprintf(f, "\nBAD LINES (%llu)\n", (unsigned long long)r->nr_bad);
	for (size_t i = 0; i < r->nr_bad_kept; i++)
		fprintf(f, "  %s: %s\n", r->bad[i].where, r->bad[i].why);
	if (r->nr_bad > r->nr_bad_kept)
		fprintf(f, "  ... and %llu more\n",
			(unsigned long long)(r->nr_bad - r->nr_bad_kept));
}
