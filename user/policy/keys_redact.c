// SPDX-License-Identifier: MIT
/*
 * A command line's credentials replaced by their display form before any
 * record, sink or message sees it (proc.c calls this on every command
 * line it reads): the argument of an option or header that carries one
 * (curl -H 'Authorization: Bearer X', -u user:X, --api-key X or =X), and
 * any text of a known shape.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keys.h"

#define MAX_SPANS 32

struct spans {
	struct key_hit h[MAX_SPANS];
	int n;
};

static bool overlaps(const struct spans *s, size_t off, size_t len)
{
	for (int i = 0; i < s->n; i++)
		if (off < s->h[i].off + s->h[i].len && s->h[i].off < off + len)
			return true;
	return false;
}

/* the secret at s[off..off+len): its shape's name, or what carried it */
static void add(struct spans *s, const char *text, size_t off, size_t len,
		const char *kind)
{
	struct key_hit *h;

	if (!len || s->n == MAX_SPANS || overlaps(s, off, len))
		return;
	h = &s->h[s->n];
	keys_value(text + off, len, kind, h);
	h->off = off;
	h->len = len;
	s->n++;
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (p[n] && p[n] != ' ')
		n++;
	return n;
}

static const char *const headers[] = {
	"authorization:", "proxy-authorization:", "x-api-key:", "api-key:",
	"x-goog-api-key:", NULL,
};
static const char *const schemes[] = { "bearer ", "basic ", "token ",
				       "apikey ", NULL };
static const char *const options[] = {
	"--api-key", "--apikey", "--token", "--auth-token", "--access-token",
	"--openai-api-key", "--anthropic-api-key", "--secret", NULL,
};

static void by_header(struct spans *s, const char *c)
{
	for (const char *p = c; *p; p++) {
		for (int i = 0; headers[i]; i++) {
			size_t n = strlen(headers[i]), off;
			const char *v;

			if (strncasecmp(p, headers[i], n))
				continue;
			v = p + n;
			while (*v == ' ')
				v++;
			for (int k = 0; schemes[k]; k++)
				if (!strncasecmp(v, schemes[k], strlen(schemes[k]))) {
					v += strlen(schemes[k]);
					break;
				}
			off = (size_t)(v - c);
			add(s, c, off, token_len(v), "token in a request header");
		}
	}
}

static void by_option(struct spans *s, const char *c)
{
	for (const char *p = c; *p; p++) {
		if (p != c && p[-1] != ' ')
			continue;
		for (int i = 0; options[i]; i++) {
			size_t n = strlen(options[i]);
			const char *v = p + n;

			if (strncmp(p, options[i], n) || (*v != '=' && *v != ' '))
				continue;
			v++;
			add(s, c, (size_t)(v - c), token_len(v),
			    "credential argument");
		}
		/* curl -u user:password */
		if ((!strncmp(p, "-u ", 3) || !strncmp(p, "--user ", 7))) {
			const char *v = strchr(p, ' ') + 1;
			size_t n = token_len(v);
			const char *colon = memchr(v, ':', n);

			if (colon)
				add(s, c, (size_t)(colon + 1 - c),
				    n - (size_t)(colon + 1 - v), "password");
		}
	}
}

static int by_shape(const struct key_hit *h, void *ctx)
{
	struct spans *s = ctx;

	if (s->n < MAX_SPANS && !overlaps(s, h->off, h->len))
		s->h[s->n++] = *h;
	return 0;
}

static int by_off_desc(const void *a, const void *b)
{
	const struct key_hit *x = a, *y = b;

	return x->off > y->off ? -1 : x->off < y->off;
}

int keys_redact(char *cmdline, size_t cap, struct key_hit *hits, int max)
{
	struct spans s = { .n = 0 };
	size_t len = strlen(cmdline);
	int out = 0;

	by_header(&s, cmdline);
	by_option(&s, cmdline);
	keys_scan(cmdline, len, by_shape, &s);
	/* from the end, so each offset still holds when it is replaced */
	qsort(s.h, s.n, sizeof(s.h[0]), by_off_desc);
	for (int i = 0; i < s.n; i++) {
		struct key_hit *h = &s.h[i];
		size_t d = strlen(h->display);

		if (len - h->len + d + 1 > cap)
			d = 0; /* no room for the form: the secret goes */
		memmove(cmdline + h->off + d, cmdline + h->off + h->len,
			len - h->off - h->len + 1);
		memcpy(cmdline + h->off, h->display, d);
		len = len - h->len + d;
		if (out < max)
			hits[out++] = *h;
	}
	return out;
}
