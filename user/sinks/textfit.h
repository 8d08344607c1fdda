/* SPDX-License-Identifier: MIT */
/* Fitting a path into the columns a terminal line has left. */
#ifndef RW_TEXTFIT_H
#define RW_TEXTFIT_H

/* path when it fits in cols columns; else its longest tail that starts
 * at a '/' and fits after "…" ("…/bin/curl"), at least "…/" and the
 * last component. Valid until the next call. */
const char *textfit_path(const char *path, int cols);

#endif
