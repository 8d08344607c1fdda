// SPDX-License-Identifier: MIT
/*
 * The report's clocks: RFC 3339 both ways (ts is nanoseconds since the
 * epoch in 64 bits, hence years up to 2261), relative times for --since,
 * and the timeline's bins. The bins are powers of two of milliseconds,
 * shared by every binary; when a record falls outside them they widen
 * until every millisecond seen fits in half of them, the data centred,
 * so a log read in any order re-bins a few dozen times at most, and a
 * whole old bin always lands in one new bin: nothing is lost or split.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

#define NS 1000000000LL

/* days since 1970-01-01 of a civil date (H. Hinnant's algorithm) */
static __s64 days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (__s64)era * 146097 + doe - 719468;
}

static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

int report_parse_time(const char *s, __s64 now_ns, __s64 *ns)
{
	int y, mo, d, h, mi, sec, oh, om;
	const char *p = s;
	__s64 frac = 0, scale = NS / 10, t;
	char *end;

	/* relative: N seconds, minutes, hours or days before now */
	if (*s >= '0' && *s <= '9' && strlen(s) <= 10) {
		long n = strtol(s, &end, 10);
		static const struct { char u; __s64 mul; } units[] = {
			{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		};

		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (end != s && end[0] == units[i].u && !end[1]) {
				*ns = now_ns - n * units[i].mul * NS;
				return 0;
			}
	}
	/* ns since the epoch in 64 bits: up to 2262 */
	y = digits(&p, 4);
	if (y < 1970 || y > 2261 || *p++ != '-' ||
	    (mo = digits(&p, 2)) < 1 || mo > 12 ||
	    *p++ != '-' || (d = digits(&p, 2)) < 1 || d > 31 ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
	    (mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0 || sec > 60)
		return -EINVAL;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		*ns = t * NS + frac;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -EINVAL;
	end = (char *)p++;
	if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' ||
	    (om = digits(&p, 2)) < 0 || om > 59 || *p)
		return -EINVAL;
	t -= (*end == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	*ns = t * NS + frac;
	return 0;
}

void report_fmt_time(__s64 ns, char *buf, size_t len)
{
	time_t sec = ns / NS;
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long long)(ns % NS));
}

/* the timeline's bins widened (powers of two of ms) until every
 * millisecond seen fits in half of them, the data centred: few re-binnings */
static void tl_rebin(struct report *r)
{
	int s = r->tl_shift;
	__s64 span, base, old = r->tl_base;

	while ((span = (r->tl_hi >> s) - (r->tl_lo >> s) + 1) > REP_NBINS / 2)
		s++;
	base = (r->tl_lo >> s) - (REP_NBINS - span) / 2;
	for (size_t i = 0; i < r->bins.cap; i++) {
		struct rep_group *g = r->bins.e[i].val;
		__u32 tl[REP_NBINS] = {}, tb[REP_NBINS] = {};

		if (!r->bins.e[i].key)
			continue;
		for (int b = 0; b < REP_NBINS; b++) {
			__s64 j;

			/* a bin that holds events starts at or after 0 ms:
			 * the shifts below see no negative number */
			if (!g->tl[b])
				continue;
			j = ((__s64)((__u64)(old + b) << r->tl_shift) >> s) - base;
			if (j < 0 || j >= REP_NBINS)
				continue;
			tl[j] += g->tl[b];
			tb[j] += g->tl_blocked[b];
		}
		memcpy(g->tl, tl, sizeof(tl));
		memcpy(g->tl_blocked, tb, sizeof(tb));
	}
	r->tl_shift = s;
	r->tl_base = base;
}

void report_tl_add(struct report *r, struct rep_group *g, __s64 ts, __u64 w,
		   bool blocked)
{
	__s64 ms = ts / 1000000, j;	/* in ms: a short incident has shape */

	if (!r->tl_on) {
		r->tl_on = true;
		r->tl_lo = r->tl_hi = ms;
		r->tl_base = ms - REP_NBINS / 2;
	}
	r->tl_lo = ms < r->tl_lo ? ms : r->tl_lo;
	r->tl_hi = ms > r->tl_hi ? ms : r->tl_hi;
	j = (ms >> r->tl_shift) - r->tl_base;
	if (j < 0 || j >= REP_NBINS) {
		tl_rebin(r);
		j = (ms >> r->tl_shift) - r->tl_base;
	}
	g->tl[j] += w;
	if (blocked)
		g->tl_blocked[j] += w;
}

