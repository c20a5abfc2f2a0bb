/* util.h: small helpers shared across the library. */
#ifndef NST_UTIL_H
#define NST_UTIL_H

#include <stddef.h>

#define NST_PATH_MAX 4096

/* snprintf that reports truncation: returns 0 when the whole string fit,
 * -1 when it was cut (paths too long to use are an error, not a surprise). */
int nst_pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
