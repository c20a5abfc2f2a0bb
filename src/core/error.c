/* error.c: one-line error messages carried back to the caller, and the
 * codes' names. */
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

const char *nst_error_name(int code) {
    static const char *names[] = {"success", "runtime failure", "bad argument", "I/O error", "bad format",
                                  "out of memory", "unsupported CPU", "cancelled", "internal error"};
    return code >= 0 && code < (int)(sizeof names / sizeof *names) ? names[code] : "unknown error";
}
