/* util.c: small helpers shared across the library. */
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int path_printf(char *out, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* x in units of 2^20 with 3 significant digits and the unit: "32 MB",
 * "1.5 MB"; below 2^20, "KB" or the plain number with `small`. */
static const char *binary_amount(double x, const char *mega, const char *kilo, const char *small, char *buf,
                                 size_t n) {
    if (x >= 1048576) snprintf(buf, n, "%.3g %s", x / 1048576, mega);
    else if (x >= 1024) snprintf(buf, n, "%.3g %s", x / 1024, kilo);
    else snprintf(buf, n, "%.0f %s", x, small);
    return buf;
}

const char *human_bytes(double bytes, char *buf, size_t n) {
    return binary_amount(bytes, "MB", "KB", "bytes", buf, n);
}

const char *human_pixels(double pixels, char *buf, size_t n) {
    return binary_amount(pixels, "MP", "kilopixels", "pixels", buf, n);
}

int make_dirs(const char *path) {
    char p[NST_PATH_MAX];
    if (path_printf(p, sizeof p, "%s", path)) return errno = ENAMETOOLONG, -1;
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            if (mkdir(p, 0755) && errno != EEXIST) return -1;
            *q = '/';
        }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* Levenshtein distance by one row of the dynamic programme:
 * d[i][j] = min(d[i-1][j] + 1, d[i][j-1] + 1, d[i-1][j-1] + (a[i] != b[j])). */
int edit_distance(const char *a, const char *b) {
    size_t n = strlen(b);
    if (strlen(a) > 64 || n > 64) return 1000;
    int row[65];
    for (size_t j = 0; j <= n; j++) row[j] = (int)j;
    for (size_t i = 1; a[i - 1]; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= n; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up, row[j] = best;
        }
    }
    return row[n];
}
