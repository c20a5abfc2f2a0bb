/* bench_common.h: what the C benchmark drivers share: the clock, errors,
 * the memory high-water mark and the timed loop with its JSON. */
#ifndef NST_BENCH_COMMON_H
#define NST_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nst.h"

static const char *bench_prog = "bench"; /* for messages; main sets it */

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void die(const char *what, const nst_error *err) {
    fprintf(stderr, "%s: %s%s%s\n", bench_prog, what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

static inline void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory", NULL);
    return p;
}

static inline long vmhwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* "a,b,c" -> names[], for nst_stylize_params' layer lists; returns the count. */
static inline int split_names(const char *s, char names[][64]) {
    int n = 0;
    while (*s && n < NST_MAX_LAYERS) {
        size_t len = strcspn(s, ",");
        snprintf(names[n++], 64, "%.*s", (int)len, s);
        s += len + (s[len] == ',');
    }
    return n;
}

/* Run step(ctx) `steps` times, each timed, into times[]. */
static inline void time_steps(void (*step)(void *), void *ctx, int steps, double *times) {
    for (int i = 0; i < steps; i++) {
        double t0 = now();
        step(ctx);
        times[i] = now() - t0;
    }
}

/* The end of the JSON line: maxrss, VmHWM, the times. */
static inline void print_tail(const double *times, int steps) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\"maxrss_kb\": %ld, \"vmhwm_kb\": %ld, \"times\": [", ru.ru_maxrss, vmhwm_kb());
    for (int i = 0; i < steps; i++) printf("%s%.6f", i ? ", " : "", times[i]);
    printf("]}\n");
}

#endif
