// SPDX-License-Identifier: MIT
/* A path shortened from the left, for a terminal line: the binary's
 * name, the part that tells binaries apart, stays. */
#include <stdio.h>
#include <string.h>

#include "textfit.h"

const char *textfit_path(const char *path, int cols)
{
	static char buf[4200];
	const char *tail = strrchr(path, '/');

	if ((int)strlen(path) <= cols || !tail || tail == path)
		return path;
	/* the longest tail from a '/' that fits after the one-column "…" */
	for (const char *p = path + 1; *p; p++)
		if (*p == '/' && (int)strlen(p) + 1 <= cols) {
			tail = p;
			break;
		}
	snprintf(buf, sizeof(buf), "…%s", tail);
	return buf;
}
