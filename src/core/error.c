/* error.c: one-line error messages carried back to the CLI. */
#include <stdarg.h>
#include <stdio.h>

#include "nst.h"

int nst_fail(nst_error *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}
