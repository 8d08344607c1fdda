// SPDX-License-Identifier: MIT
/*
 * geo-convert: ip-location-db CSVs (first,last,cc; inclusive) into
 * etc/geo/country.bin.z, through user/policy/geo.c so that the converter and the
 * loader share one format implementation. Built (with -DGEO_NO_EMBED) and
 * run by scripts/refresh-geo.sh.
 *
 * The CSVs hold nested and partly overlapping rows (a geofeed /24 inside
 * a whois /16, as published): rows are painted in (start, wider first,
 * file order) order and the later row wins where they overlap, so a nested
 * range overrides the one around it. Special-purpose space is cleared.
 * Same input, same zlib, same bytes out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEO_INTERNAL
#include "geo.h"

struct row {
	u128 lo, hi;
	int line;
	char cc[3];
};

struct vec {
	void *p;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 4096;
		v->p = realloc(v->p, v->cap * v->size);
		if (!v->p) {
			fprintf(stderr, "geo-convert: out of memory\n");
			exit(1);
		}
	}
	return (char *)v->p + v->size * v->n++;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1;
	return x->line - y->line;
}

/* first,last,cc per line; anything else stops the conversion with the
 * file and line, since a half-read table must not replace a good one. */
static void read_csv(const char *path, int af, struct vec *rows)
{
	char *line = NULL, *f[3];
	size_t cap = 0;
	__u8 a[16], b[16];
	FILE *fp = fopen(path, "re");
	int ln = 0, n = af == AF_INET ? 4 : 16;

	if (!fp) {
		fprintf(stderr, "geo-convert: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (getline(&line, &cap, fp) >= 0) {
		struct row *r;

		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		f[0] = strtok(line, ",");
		f[1] = strtok(NULL, ",");
		f[2] = strtok(NULL, ",");
		if (!f[2] || inet_pton(af, f[0], a) != 1 ||
		    inet_pton(af, f[1], b) != 1 || strlen(f[2]) != 2 ||
		    !geo_cc_code(f[2]) || geo_get_be(a, n) > geo_get_be(b, n)) {
			fprintf(stderr, "geo-convert: %s:%d: bad row\n", path,
				ln);
			exit(1);
		}
		r = vec_push(rows);
		r->lo = geo_get_be(a, n);
		r->hi = geo_get_be(b, n);
		r->line = ln;
		memcpy(r->cc, f[2], 3);
	}
	free(line);
	fclose(fp);
}

/* lo..hi belongs to r's country; line is kept for geo_overlay() errors. */
static void emit(struct vec *out, int af, u128 lo, u128 hi, const struct row *r)
{
	struct geo_range *g = vec_push(out);
	int n = af == AF_INET ? 4 : 16;

	memset(g, 0, sizeof(*g));
	g->family = af;
	for (int i = n - 1; i >= 0; i--, lo >>= 8, hi >>= 8) {
		g->first[i] = lo & 0xff;
		g->last[i] = hi & 0xff;
	}
	memcpy(g->cc, r->cc, 3);
	g->line = r->line;
}

/* Flatten sorted rows into disjoint ranges; the stack holds the rows that
 * cover the cursor, innermost (winning) on top. */
static size_t paint(struct vec *rows, int af, struct vec *out)
{
	struct row *rs = rows->p, **st = calloc(rows->n + 1, sizeof(*st));
	size_t sp = 0, overlaps = 0;
	u128 cur = 0;
	bool spent = false;

	if (!st)
		exit(1);
	qsort(rs, rows->n, sizeof(*rs), row_cmp);
	for (size_t i = 0; i <= rows->n; i++) {
		struct row *r = i < rows->n ? &rs[i] : NULL;

		while (sp && (!r || st[sp - 1]->hi < r->lo)) {
			struct row *t = st[--sp];

			if (!spent && cur <= t->hi) {
				emit(out, af, cur, t->hi, t);
				spent = t->hi == geo_max(af == AF_INET6);
				cur = t->hi + 1;
			}
		}
		if (!r)
			break;
		if (sp) {
			overlaps++;
			if (cur < r->lo)
				emit(out, af, cur, r->lo - 1, st[sp - 1]);
		}
		cur = r->lo;
		spent = false;
		st[sp++] = r;
	}
	free(st);
	return overlaps;
}

int main(int argc, char **argv)
{
	struct vec rows[2] = { { .size = sizeof(struct row) },
			       { .size = sizeof(struct row) } };
	struct vec out = { .size = sizeof(struct geo_range) };
	char err[256] = "out of memory";
	struct geo *g;
	size_t len, over[2];
	void *blob;
	FILE *fp;

	if (argc != 5) {
		fprintf(stderr,
			"usage: geo-convert SOURCE IPV4.csv IPV6.csv OUT\n");
		return 2;
	}
	read_csv(argv[2], AF_INET, &rows[0]);
	read_csv(argv[3], AF_INET6, &rows[1]);
	over[0] = paint(&rows[0], AF_INET, &out);
	over[1] = paint(&rows[1], AF_INET6, &out);
	/* the same path as a user's RIR file: overlay, then clear specials */
	if (geo_new(&g, argv[1]) ||
	    geo_overlay(g, out.p, out.n, err, sizeof(err)) ||
	    geo_clear_special(g) || geo_encode(g, &blob, &len)) {
		fprintf(stderr, "geo-convert: %s\n", err);
		return 1;
	}
	fp = fopen(argv[4], "we");
	if (!fp || fwrite(blob, 1, len, fp) != len || fclose(fp)) {
		fprintf(stderr, "geo-convert: %s: %s\n", argv[4],
			strerror(errno));
		return 1;
	}
	printf("v4: %zu rows (%zu overlapping) -> %zu ranges\n"
	       "v6: %zu rows (%zu overlapping) -> %zu ranges\n"
	       "%s: %zu bytes, %zu in memory\n",
	       rows[0].n, over[0], geo_count(g, AF_INET), rows[1].n, over[1],
	       geo_count(g, AF_INET6), argv[4], len, geo_mem(g));
	geo_free(g);
	free(blob);
	free(rows[0].p);
	free(rows[1].p);
	free(out.p);
	return 0;
}
