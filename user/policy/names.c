// SPDX-License-Identifier: MIT
/* Normal forms of host names and paths (names.h). No YAML here: events
 * look names up through these on every record. */
#include <errno.h>
#include <string.h>

#include "names.h"

int hostname_norm(const char *s, char *out, const char **why)
{
	size_t i, n = strlen(s), label = 0;
	const char *dummy;
	char ch;

	if (!why)
		why = &dummy;
	if (n && s[n - 1] == '.')
		n--;
	if (!n || n > HOSTNAME_MAX) {
		*why = n ? "longer than 253 characters" : "empty name";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '.') {
			if (!label) {
				*why = "empty label";
				return -EINVAL;
			}
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			if (++label > 63) {
				*why = "label longer than 63 characters";
				return -EINVAL;
			}
		} else {
			*why = ch == '*' ? "a wildcard must be a leading '*.'"
					 : "characters other than letters, digits, '-', '_' and '.'";
			return -EINVAL;
		}
		out[i] = ch;
	}
	/* "a.." lost one dot above: the one left ends an empty label */
	if (!label) {
		*why = "empty label";
		return -EINVAL;
	}
	out[n] = '\0';
	return 0;
}

int path_norm(const char *s, char *out)
{
	size_t len, off = 0;
	const char *end;

	if (s[0] != '/')
		return -EINVAL;
	for (; *s; s = end) {
		for (; *s == '/'; s++)
			;
		end = strchrnul(s, '/');
		len = (size_t)(end - s);
		if ((len == 1 && s[0] == '.') || (len == 2 && !strncmp(s, "..", 2)))
			return -EINVAL;
		if (len) {
			out[off++] = '/';
			memcpy(out + off, s, len);
			off += len;
		}
	}
	if (!off)
		out[off++] = '/';
	out[off] = '\0';
	return 0;
}
