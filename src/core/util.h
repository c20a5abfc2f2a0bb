/* util.h: small helpers shared across the library. */
#ifndef NST_UTIL_H
#define NST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NST_PATH_MAX 4096

/* snprintf that reports truncation: returns 0 when the whole string fit,
 * -1 when it was cut (paths too long to use are an error, not a surprise). */
int path_printf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* util.c: splitmix64, a small seeded PRNG whose whole state is one u64 (so
 * a training checkpoint can store it): s += golden gamma, then a mix. */
uint64_t splitmix64(uint64_t *s);

/* A monotonic clock in seconds, for elapsed times. */
double now_seconds(void);

/* Limits as people read them: 33554432 bytes is "32 MB", 16777216 pixels
 * "16 MP" (units of 2^20; buf of 32 bytes is enough). Return buf. */
const char *human_bytes(double bytes, char *buf, size_t n);
const char *human_pixels(double pixels, char *buf, size_t n);

/* mkdir -p: path and its missing parents (mode 0755); -1 with errno set. */
int make_dirs(const char *path);

/* The edit (Levenshtein) distance between two short strings (1000 past 64
 * characters): "did you mean" suggestions. */
int edit_distance(const char *a, const char *b);

/* temp_file.c: a temporary file beside `path` (PATH.partXXXXXX) with the
 * mode a plain fopen would give; NULL with errno set. temp_finish closes
 * it and renames it to `path` unless `e` (an errno value) or the close
 * failed, else removes it; returns the error (0 on success). */
FILE *temp_open(const char *path, char **tmp);
int temp_finish(FILE *f, char *tmp, const char *path, int e);

#endif
