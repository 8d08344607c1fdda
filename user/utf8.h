/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 for the records (RFC 8259 wants JSON text in UTF-8): whatever a
 * process puts in its path or command line, a record stays valid. Invalid
 * bytes become U+FFFD in the text, and the sinks carry the original bytes
 * base64-encoded in a `<field>_raw` field, so nothing is lost. Truncation
 * cuts on a character boundary.
 */
#ifndef RW_UTF8_H
#define RW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* the length of the valid sequence at s (1-4), or 0 when it is invalid
 * (overlong, surrogate, above U+10FFFF, cut short by n) */
static inline size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static inline bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = __builtin_strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);

		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* s with each invalid byte replaced by U+FFFD, into out (cap bytes, at
 * least 4); the result is cut on a character boundary to fit */
static inline void utf8_repair(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = __builtin_strlen(s), o = 0;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);
		const char *src = k ? s + i : "\xef\xbf\xbd";
		size_t len = k ? k : 3;

		if (o + len >= cap)
			break;
		__builtin_memcpy(out + o, src, len);
		o += len;
		i += k ? k : 1;
	}
	out[o] = 0;
}

/* the longest prefix of s[0..n) that does not end inside a valid
 * multi-byte character (an invalid byte counts as one) */
static inline size_t utf8_cut(const char *s, size_t n)
{
	size_t back = 0;

	/* at most 3 continuation bytes can belong to a cut character */
	while (back < 3 && back < n &&
	       ((unsigned char)s[n - 1 - back] & 0xc0) == 0x80)
		back++;
	if (back < n) {
		const unsigned char *lead = (const unsigned char *)s + n - 1 - back;
		size_t want = *lead >= 0xf0 ? 4 : *lead >= 0xe0 ? 3 :
			      *lead >= 0xc0 ? 2 : 1;

		if (want > back + 1 && want <= 4)
			return n - 1 - back; /* the character was cut: drop it */
	}
	return n;
}

#endif
