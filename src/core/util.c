/* util.c: small helpers shared across the library. */
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>

int nst_pathf(char *out, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}
