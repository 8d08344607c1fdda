/* SPDX-License-Identifier: MIT */
/* SHA-256 of a buffer (OpenSSL), and lower-case hex: the BPF object's
 * build id and a policy file's identity. Files go through proc.c's cache. */
#ifndef RW_DIGEST_H
#define RW_DIGEST_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <openssl/evp.h>

static inline int sha256_buf(const void *p, size_t n, __u8 out[32])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) && len == 32 ?
		       0 : -1;
}

/* out: 2 * n + 1 bytes */
static inline void hex_of(const __u8 *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

#endif
