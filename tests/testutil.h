/* testutil.h: checks, fixture bundles and finite differences for the tests.
 *
 * A fixture bundle (written by tests/pytorch/fixture.py) is
 *   "NSTF" u32 count, then per tensor: u32 name_len, name, u32 ndim,
 *   u32 dims[ndim], float32 data (little-endian, row-major). */
#ifndef NST_TESTUTIL_H
#define NST_TESTUTIL_H

#include <stddef.h>

#include "io/io.h"
#include "nst.h"
#include "stylize/loss_engine.h"

extern int tu_passed, tu_failed;

/* Record one check; prints a line for failures only. */
void tu_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...) tu_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Max |a-b| / (atol + rtol*|b|) <= 1 over n values; reports the worst. */
int tu_close(const char *what, const float *a, const float *b, size_t n,
             float atol, float rtol);
/* Relative error ||a-b|| / max(||b||, tiny) <= tol; reports it. */
int tu_rel_close(const char *what, const float *a, const float *b, size_t n,
                 double tol);

/* Print "N passed, N failed" and return the exit status. */
int tu_finish(void);

/* Load a fixture bundle from NST_FIXTURES/<name>; aborts the test with a
 * message naming the file when it is missing or malformed. */
void tu_load_fixture(const char *name, tensor_dict *d);
/* Get a tensor that must exist (aborts naming it otherwise). */
const tensor *tu_get(const tensor_dict *d, const char *name);

/* Path under ../shared; fails the test (naming the file) when missing.
 * Returns NULL then. */
const char *tu_shared(const char *rel);

/* Deterministic uniform floats in [lo, hi). */
void tu_fill_uniform(float *x, size_t n, float lo, float hi, unsigned seed);

/* Central finite-difference check of a scalar function f(x) against the
 * analytic gradient g at `samples` random coordinates of x (n floats).
 * f is evaluated in double via the callback. */
typedef double (*tu_scalar_fn)(const float *x, void *ctx);
int tu_check_grad(const char *what, tu_scalar_fn f, void *ctx, float *x,
                  const float *g, size_t n, int samples, float eps, double tol);

/* Directional finite differences, for functions with kinks (ReLU, max
 * pooling) where single coordinates can cross one: along `directions`
 * random v in [-1,1]^n, (f(x + eps v) - f(x - eps v)) / 2 eps against g.v,
 * relative to max(|g.v|, |g| / sqrt(3)), the latter g.v's typical size. */
int tu_check_dir_grad(const char *what, tu_scalar_fn f, void *ctx, float *x,
                      const float *g, size_t n, int directions, float eps, double tol);

/* The loss engine's gradient g at x0 (n floats: 3 planes w wide) against
 * central differences along 4 uphill directions v = sign(g) |u| (so g.v is
 * large against float32 noise); band > 0: v only within band pixels of the
 * edge. Prints each; returns the worst relative error. */
double tu_engine_fd(loss_engine *e, plan *plan, const float *x0, const float *g, size_t n, int w, int band,
                    float eps);

/* ---- a temporary directory per test ------------------------------------
 * One per process: tu_tmpdir_create makes /tmp/nst_<tag>_XXXXXX and aborts
 * the test when it cannot; tu_tmpdir_remove deletes it with its contents. */
const char *tu_tmpdir_create(const char *tag);
/* "<tmpdir>/<name>", in one of 16 rotating static buffers, so a few can be
 * held at once. */
const char *tu_tmp_path(const char *name);
/* Entries in the temporary directory (hidden ones too): failed writes must
 * not leave temp files behind. */
int tu_tmpdir_entries(void);
void tu_tmpdir_remove(void);

/* Whole file, malloc'd and NUL-terminated; NULL when unreadable. */
void *tu_read_file(const char *path, size_t *len);
/* Write len bytes (a failed check naming the file when it cannot); 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);
/* Size in bytes, -1 when missing. */
long tu_file_size(const char *path);

/* UNDER_ASAN: built with AddressSanitizer (gcc or clang) */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#endif
