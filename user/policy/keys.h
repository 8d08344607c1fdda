/* SPDX-License-Identifier: MIT */
/*
 * Credentials by their shape: the key formats of AI providers, relay
 * stations and clouds (keys_data.c, each with its public source), found
 * in text (an environment, a file, a command line), and named without
 * revealing them: the provider's display form (a prefix and the last 4
 * characters) and a keyed hash (HMAC-SHA-256 under a site key, so the
 * same key is recognisable across hosts that share the key file, and is
 * not recoverable). The secret itself is never copied out of the buffer
 * it was found in.
 */
#ifndef RW_KEYS_H
#define RW_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* one credential found: what and where in the text, never its value */
struct key_hit {
	const char *provider;   /* "Anthropic", "AWS", ... */
	const char *kind;       /* "API key", "access key id", ... */
	const char *source;     /* the public reference of the format */
	size_t off, len;        /* in the text scanned */
	char display[48];       /* "sk-ant-api03-…AbCd" */
	char fingerprint[40];   /* "hmac-sha256:" + 16 hex */
	bool by_name;           /* known by the variable's name, not shape */
};

/* The site key for fingerprints: the file's bytes (a fleet shares one),
 * else /etc/machine-id's (fingerprints then compare within this host
 * only). path NULL: /etc/relaywatch/fingerprint.key. Returns "fleet",
 * "host", or NULL when neither can be read. */
const char *keys_set_site_key(const char *path);

/* Every credential shape in text[0..len), in order, no overlaps:
 * cb(hit, ctx) for each; a non-zero return stops. */
int keys_scan(const char *text, size_t len,
	      int (*cb)(const struct key_hit *h, void *ctx), void *ctx);

/* NAME=VALUE (an environment entry, a line of a dotenv or AWS file,
 * "name": "value" of a JSON file): a hit when the value has a known
 * shape, or the name is one that holds a credential (OPENAI_API_KEY,
 * aws_secret_access_key, ...). value, vlen: the value. */
bool keys_named(const char *name, size_t nlen, const char *value,
		size_t vlen, struct key_hit *h);

/*
 * A command line (arguments joined by spaces): every credential in it,
 * by shape or as the argument of an option that takes one (-H
 * 'Authorization: Bearer X', --api-key X, --api-key=X, --token X, -u
 * user:X), replaced in place by its display form. Up to max hits go to
 * hits (their off/len are meaningless afterwards). Returns the count.
 */
int keys_redact(char *cmdline, size_t cap, struct key_hit *hits, int max);

/* a value known to be a credential (a header's, an option's): named by
 * its shape, else as provider "unknown" of kind `kind` */
void keys_value(const char *v, size_t n, const char *kind, struct key_hit *h);

/* the display form and fingerprint of secret s[0..n) into h */
void keys_name(const char *s, size_t n, size_t prefix, struct key_hit *h);

#endif
