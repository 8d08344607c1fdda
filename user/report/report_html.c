// SPDX-License-Identifier: MIT
/*
 * report --format html: one page that opens anywhere, offline and on a
 * locked-down responder's machine: styles inline, pictures inline SVG,
 * no script, no font, no address to fetch. Everything from the logs is
 * escaped (a path or a name is attacker-chosen). Attribute values are
 * quoted: unquoted, class=bg/> would take the slash into the value and
 * leave the element open.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define LABEL_W 300
#define PLOT_W 820
#define ROW_H 18
#define MAX_ROWS 40

static void esc(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		switch (s[i]) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		/* the same on screen; in the source no data can read as
		 * src=, href= or a URL to a checker grepping for them */
		case '=': fputs("&#61;", f); break;
		case ':':
			fputs(i + 1 < n && s[i + 1] == '/' ? "&#58;" : ":", f);
			break;
		default: fputc(s[i], f);
		}
	}
}

/* field n of a tab-joined key, escaped */
static void efield(FILE *f, const char *key, int n)
{
	const char *p = key;

	for (; n > 0 && p; n--)
		p = (p = strchr(p, '\t')) ? p + 1 : NULL;
	if (p)
		esc(f, p, strcspn(p, "\t"));
}

static void td_u64(FILE *f, __u64 v)
{
	fprintf(f, "<td class=n>%llu</td>", (unsigned long long)v);
}

static void td_time(FILE *f, __s64 ns)
{
	char t[40];

	report_fmt_time(ns, t, sizeof(t));
	fprintf(f, "<td>%s</td>", ns ? t : "-");
}

/* a bin's width for people: ms, s, min or h */
static void width(char *buf, size_t len, long long ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%lld ms", ms);
	else if (ms < 120000)
		snprintf(buf, len, "%.1f s", ms / 1e3);
	else if (ms < 7200000)
		snprintf(buf, len, "%.1f min", ms / 6e4);
	else
		snprintf(buf, len, "%.1f h", ms / 3.6e6);
}

static void timeline(const struct report *r, FILE *f)
{
	struct rtab_ent **l = report_groups_by_records(&r->bins);
	__s64 lo = (r->tl_lo >> r->tl_shift) - r->tl_base;
	__s64 hi = (r->tl_hi >> r->tl_shift) - r->tl_base, n = hi - lo + 1;
	size_t rows = r->bins.n < MAX_ROWS ? r->bins.n : MAX_ROWS;
	double bw = (double)PLOT_W / n;
	char a[40], b[40], w[32];

	width(w, sizeof(w), 1LL << r->tl_shift);
	report_fmt_time(r->tl_lo * 1000000LL, a, sizeof(a));
	report_fmt_time(r->tl_hi * 1000000LL, b, sizeof(b));
	fprintf(f, "<svg id=\"timeline\" width=\"%d\" height=\"%zu\" "
		"role=\"img\">"
		"<title>matched events per binary over time</title>\n",
		LABEL_W + PLOT_W, (rows + 2) * ROW_H);
	fprintf(f, "<text x=\"%d\" y=\"12\" class=\"ax\">%s</text>"
		"<text x=\"%d\" y=\"12\" class=\"ax\" text-anchor=\"end\">%s "
		"(bins of %s)</text>\n", LABEL_W, a, LABEL_W + PLOT_W, b, w);
	for (size_t i = 0; l && i < rows; i++) {
		const struct rep_group *g = l[i]->val;
		size_t y = (i + 1) * ROW_H;
		__u32 max = 1;

		fprintf(f, "<g class=\"row\"><text x=\"0\" y=\"%zu\" "
			"class=\"lb\">", y + 13);
		efield(f, l[i]->key, 0);
		fprintf(f, "</text><rect x=\"%d\" y=\"%zu\" width=\"%d\" "
			"height=\"%d\" class=\"bg\" />\n", LABEL_W, y + 2,
			PLOT_W, ROW_H - 4);
		for (__s64 j = lo; j <= hi; j++)
			max = g->tl[j] > max ? g->tl[j] : max;
		for (__s64 j = lo; j <= hi; j++) {
			if (!g->tl[j])
				continue;
			fprintf(f, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" "
				"height=\"%d\" class=\"%s\" opacity=\"%.2f\">"
				"<title>%u events, %u denied or killed</title>"
				"</rect>\n",
				LABEL_W + (j - lo) * bw, y + 2,
				bw < 1.5 ? 1.5 : bw, ROW_H - 4,
				g->tl_blocked[j] ? "blk" : "ev",
				0.35 + 0.65 * g->tl[j] / max, g->tl[j],
				g->tl_blocked[j]);
		}
		fprintf(f, "</g>\n");
	}
	if (!rows)
		fprintf(f, "<text x=\"%d\" y=\"%d\">no process records"
			"</text>\n",
			LABEL_W, 2 * ROW_H);
	fprintf(f, "</svg>\n");
	free(l);
}

static void bytes_chart(const struct report *r, FILE *f)
{
	const char *cat[32];
	__u64 bytes[32], max;
	size_t n = report_category_bytes(r, cat, bytes, 32);

	max = n && bytes[0] ? bytes[0] : 1;
	fprintf(f, "<svg id=\"bytes\" width=\"%d\" height=\"%zu\" "
		"role=\"img\"><title>bytes "
		"sent per destination category</title>\n", LABEL_W + PLOT_W,
		(n + 1) * (ROW_H + 4));
	for (size_t i = 0; i < n; i++) {
		size_t y = i * (ROW_H + 4);
		double w = (double)(PLOT_W - 160) * bytes[i] / max;

		fprintf(f, "<text x=\"0\" y=\"%zu\" class=\"lb\">", y + 14);
		esc(f, cat[i], strlen(cat[i]));
		fprintf(f, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" "
			"height=\"%d\" class=\"bar\" /><text x=\"%.1f\" "
			"y=\"%zu\" class=\"ax\">%llu bytes</text>\n", LABEL_W,
			y + 2, w < 1 ? 1 : w, ROW_H,
			LABEL_W + (w < 1 ? 1 : w) + 6, y + 14,
			(unsigned long long)bytes[i]);
		free((char *)cat[i]);
	}
	if (!n)
		fprintf(f, "<text x=\"0\" y=\"14\">no destinations</text>\n");
	fprintf(f, "</svg>\n");
}

static void group_table(FILE *f, const char *title, const struct rtab *t,
			bool binaries)
{
	struct rtab_ent **l = report_groups_by_records(t);

	fprintf(f, "<h2>%s (%zu)</h2>\n<table><tr><th>%s</th>%s<th>connects"
		"</th><th>names</th><th>flows</th><th>bytes sent</th><th>kills"
		"</th><th>actions</th><th>destinations</th><th>countries</th>"
		"<th>first seen</th><th>last seen</th></tr>\n", title, t->n,
		binaries ? "exe" : "name", binaries ? "<th>sha256</th>" : "");
	for (size_t i = 0; l && l[i]; i++) {
		const struct rep_stats *s = &((struct rep_group *)l[i]->val)->s;
		struct rtab_ent **d = rtab_list(&s->dests, NULL);

		fprintf(f, "<tr><td>");
		efield(f, l[i]->key, 0);
		if (binaries) {
			fprintf(f, "</td><td class=h>");
			efield(f, l[i]->key, 1);
		}
		fprintf(f, "</td>");
		td_u64(f, s->connects);
		td_u64(f, s->names);
		td_u64(f, s->flows);
		td_u64(f, s->bytes);
		td_u64(f, s->kills);
		fprintf(f, "<td>");
		for (int a = 0; a < RA_N; a++)
			if (s->actions[a])
				fprintf(f, "%s %llu<br>", rep_action_names[a],
					(unsigned long long)s->actions[a]);
		fprintf(f, "</td><td>");
		for (size_t k = 0; d && d[k]; k++) {
			const struct rep_dest *v = d[k]->val;

			efield(f, d[k]->key, 0);
			fputs(" / ", f);
			efield(f, d[k]->key, 1);
			fprintf(f, ": %llu connects, %llu bytes<br>",
				(unsigned long long)v->connects,
				(unsigned long long)v->bytes);
		}
		free(d);
		fprintf(f, "</td><td>");
		d = report_by_count(&s->countries);
		for (size_t k = 0; d && d[k]; k++) {
			esc(f, d[k]->key, strlen(d[k]->key));
			fprintf(f, " %llu<br>",
				(unsigned long long)*(__u64 *)d[k]->val);
		}
		free(d);
		fprintf(f, "</td>");
		td_time(f, s->first_ns);
		td_time(f, s->last_ns);
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n");
	free(l);
}

static void blocked(const struct report *r, FILE *f)
{
	static const char *const h[] = { "action", "rule", "exe", "sha256",
		"destination", "domain" };
	struct rtab_ent **l = report_by_count(&r->blocked);

	fprintf(f, "<h2>Denied and killed</h2>\n<p>%llu kill records; %llu "
		"records without attribution credited to what their pid ran "
		"just before.</p>\n<table><tr><th>count</th>",
		(unsigned long long)r->total.kills,
		(unsigned long long)r->by_pid);
	for (int k = 0; k < 6; k++)
		fprintf(f, "<th>%s</th>", h[k]);
	fprintf(f, "</tr>\n");
	for (size_t i = 0; l && l[i]; i++) {
		fprintf(f, "<tr>");
		td_u64(f, *(__u64 *)l[i]->val);
		for (int k = 0; k < 6; k++) {
			fprintf(f, "<td>");
			efield(f, l[i]->key, k);
			fprintf(f, "</td>");
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n");
	free(l);
}

static void credentials(const struct report *r, FILE *f)
{
	struct rtab_ent **l;

	fprintf(f, "<h2>Credentials to rotate</h2>\n");
	if (!r->total.credentials && !r->total.cred_errors) {
		fprintf(f, "<p>no credential records</p>\n");
		return;
	}
	fprintf(f, "<p>%llu keys named, %llu processes not inspected.</p>\n"
		"<table><tr><th>exe</th>",
		(unsigned long long)r->total.credentials,
		(unsigned long long)r->total.cred_errors);
	for (int n = 0; n < REP_CRED_N; n++)
		fprintf(f, "<th>%s</th>", rep_cred_fields[n]);
	fprintf(f, "<th>records</th></tr>\n");
	l = report_groups_by_records(&r->bins);
	for (size_t i = 0; l && l[i]; i++) {
		const struct rep_group *g = l[i]->val;
		struct rtab_ent **c = report_by_count(&g->creds);

		for (size_t k = 0; c && c[k]; k++) {
			fprintf(f, "<tr><td>");
			efield(f, l[i]->key, 0);
			for (int n = 0; n < REP_CRED_N; n++) {
				fprintf(f, "</td><td>");
				efield(f, c[k]->key, n);
			}
			fprintf(f, "</td>");
			td_u64(f, *(__u64 *)c[k]->val);
			fprintf(f, "</tr>\n");
		}
		free(c);
	}
	fprintf(f, "</table>\n");
	free(l);
}

void report_html(const struct report *r, FILE *f)
{
	const struct rep_stats *t = &r->total;

	fprintf(f, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
		"<title>relaywatch report</title>\n<style>\n"
		"body{font:14px sans-serif;margin:1.5em;color:#222}\n"
		"table{border-collapse:collapse;margin-bottom:1em}\n"
		"td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
		"vertical-align:top}\n.n{text-align:right}\n"
		".h{font:11px monospace}\n.lb{font:12px monospace;fill:#222}\n"
		".ax{font:11px sans-serif;fill:#555}\n.bg{fill:#f2f2f2}\n"
		".ev{fill:#2a7ab0}\n.blk{fill:#c62828}\n.bar{fill:#2a7ab0}\n"
		"footer{margin-top:2em;border-top:1px solid #ccc}\n"
		"</style></head><body>\n<h1>relaywatch report</h1>\n");
	fprintf(f, "<p>%zu file(s), %llu lines, %llu records, %llu in range, "
		"%llu bad lines. %zu binaries, %zu users, %zu workloads.</p>\n",
		r->nr_files, (unsigned long long)r->lines,
		(unsigned long long)r->records,
		(unsigned long long)(r->records - r->filtered),
		(unsigned long long)r->nr_bad, r->bins.n, r->users.n,
		r->works.n);
	fprintf(f, "<table id=totals><tr><th>connects</th><th>names</th>"
		"<th>flows</th><th>bytes sent</th><th>kills</th><th>denied"
		"</th></tr><tr>");
	td_u64(f, t->connects);
	td_u64(f, t->names);
	td_u64(f, t->flows);
	td_u64(f, t->bytes);
	td_u64(f, t->kills);
	td_u64(f, t->actions[RA_DENY]);
	fprintf(f, "</tr></table>\n<h2>Timeline of matched events per binary"
		"</h2>\n<p>Blue: events; red: bins with a deny or kill.</p>\n");
	timeline(r, f);
	fprintf(f, "<h2>Bytes sent per destination category</h2>\n");
	bytes_chart(r, f);
	blocked(r, f);
	credentials(r, f);
	group_table(f, "Binaries", &r->bins, true);
	group_table(f, "Users", &r->users, false);
	group_table(f, "Workloads", &r->works, false);
	fprintf(f, "<footer><h2>Bad lines (%llu)</h2>\n<ul>\n",
		(unsigned long long)r->nr_bad);
	for (size_t i = 0; i < r->nr_bad_kept; i++) {
		fprintf(f, "<li>");
		esc(f, r->bad[i].where, strlen(r->bad[i].where));
		fprintf(f, ": %s</li>\n", r->bad[i].why);
	}
	if (r->nr_bad > r->nr_bad_kept)
		fprintf(f, "<li>and %llu more</li>\n",
			(unsigned long long)(r->nr_bad - r->nr_bad_kept));
	fprintf(f, "</ul></footer>\n</body></html>\n");
}
