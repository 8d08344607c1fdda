/* SPDX-License-Identifier: MIT */
/* What `check` is asked about: a name, an address, host:port, or a URL
 * whose host and port (the scheme's default) are used. */
#ifndef RW_TARGET_H
#define RW_TARGET_H

#include <stddef.h>

struct check_target {
	char host[254];   /* a name (lower case) or an address, no brackets */
	int port;         /* 0: not given */
	int proto;        /* IPPROTO_TCP for a URL; 0 not given */
	char scheme[16];  /* "https", ...; "" when not a URL */
};

/* "api.openai.com", "8.8.8.8", "2001:db8::1", "[2001:db8::1]:853",
 * "api.x.com:8443", "https://user@api.openai.com/v1/chat?q#f"
 * (https/wss 443, http/ws 80; another scheme needs its port).
 * 0, or -EINVAL with one line in err. */
int check_target_parse(const char *s, struct check_target *t, char *err,
		       size_t len);

#endif
