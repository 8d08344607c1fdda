// SPDX-License-Identifier: MIT
/* check's DEST argument (target.h): a URL's authority is taken apart by
 * hand, as RFC 3986 lays it out; no resolver, no network. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target.h"

static const struct {
	const char *scheme;
	int port;
} schemes[] = {
	{ "https", 443 }, { "wss", 443 }, { "http", 80 }, { "ws", 80 },
};

static int scheme_port(const char *scheme)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strcasecmp(scheme, schemes[i].scheme))
			return schemes[i].port;
	return 0;
}

/* ":N" after the host; 0 or -EINVAL */
static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	v = strtol(s, &end, 10);
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* host[:port] or [v6][:port]; one bare IPv6 address is a host */
static int parse_authority(const char *a, size_t n, struct check_target *t,
			   bool url, char *err, size_t len)
{
	char buf[300];
	const char *colon, *host = buf;
	size_t hn;

	if (n >= sizeof(buf) || !n) {
		snprintf(err, len, "'%.*s': no host name or address",
			 (int)(n < 200 ? n : 200), a);
		return -EINVAL;
	}
	memcpy(buf, a, n);
	buf[n] = 0;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] && close[1] != ':')) {
			snprintf(err, len, "'%s': an IPv6 address in [ ] "
				 "needs its ']'", buf);
			return -EINVAL;
		}
		*close = 0;
		host = buf + 1;
		colon = close[1] ? close + 1 : NULL;
	} else {
		colon = strchr(buf, ':');
		/* two colons: a bare IPv6 address, no port (not in a URL) */
		if (colon && strchr(colon + 1, ':')) {
			if (url) {
				snprintf(err, len, "'%s': an IPv6 address in "
					 "a URL goes in [ ]", buf);
				return -EINVAL;
			}
			colon = NULL;
		} else if (colon) {
			*(char *)colon = 0;
		}
	}
	if (colon && parse_port(colon + 1, &t->port)) {
		snprintf(err, len, "'%s': the port must be a number from 1 "
			 "to 65535", colon + 1);
		return -EINVAL;
	}
	hn = strlen(host);
	if (!hn || hn >= sizeof(t->host)) {
		snprintf(err, len, "'%.*s': no host name or address",
			 (int)(n < 200 ? n : 200), a);
		return -EINVAL;
	}
	for (size_t i = 0; i <= hn; i++)
		t->host[i] = (char)tolower((unsigned char)host[i]);
	return 0;
}

int check_target_parse(const char *s, struct check_target *t, char *err,
		       size_t len)
{
	const char *sep = strstr(s, "://"), *a, *end;

	memset(t, 0, sizeof(*t));
	if (!sep)
		return parse_authority(s, strlen(s), t, false, err, len);
	if (sep == s || (size_t)(sep - s) >= sizeof(t->scheme)) {
		snprintf(err, len, "'%s': not a URL scheme", s);
		return -EINVAL;
	}
	memcpy(t->scheme, s, sep - s);
	a = sep + 3;
	end = a + strcspn(a, "/?#");
	/* user:password@ is not the host */
	for (const char *p = end; p > a; p--)
		if (p[-1] == '@') {
			a = p;
			break;
		}
	if (parse_authority(a, end - a, t, true, err, len))
		return -EINVAL;
	t->proto = IPPROTO_TCP;
	if (!t->port)
		t->port = scheme_port(t->scheme);
	if (!t->port) {
		snprintf(err, len, "'%s': scheme %s has no port known to "
			 "relaywatch; give it (%s://HOST:PORT) or --port",
			 s, t->scheme, t->scheme);
		return -EINVAL;
	}
	return 0;
}
