#include "testutil.h"
#include "testnet.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tu_passed, tu_failed;

void tu_check(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        tu_passed++;
        return;
    }
    tu_failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int tu_close(const char *what, const float *a, const float *b, size_t n,
             float atol, float rtol) {
    double worst = 0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
        if (!(r <= worst)) { /* also catches NaN */
            worst = r;
            wi = i;
            if (isnan(r)) break;
        }
    }
    int ok = worst <= 1.0;
    tu_check(ok, __FILE__, __LINE__, "%s: element %zu is %.7g, expected %.7g (atol %g rtol %g)",
             what, wi, n ? a[wi] : 0.f, n ? b[wi] : 0.f, atol, rtol);
    return ok;
}

int tu_rel_close(const char *what, const float *a, const float *b, size_t n,
                 double tol) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    double rel = sqrt(num) / fmax(sqrt(den), 1e-30);
    int ok = rel <= tol;
    tu_check(ok, __FILE__, __LINE__, "%s: relative error %.3g > %.3g", what, rel, tol);
    if (ok) printf("  %-40s rel err %.2e\n", what, rel);
    return ok;
}

int tu_finish(void) {
    printf("%d passed, %d failed\n", tu_passed, tu_failed);
    return tu_failed ? 1 : 0;
}

static _Noreturn void die(const char *fmt, const char *a) {
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    printf("%d passed, %d failed\n", tu_passed, tu_failed + 1);
    exit(1);
}

void tu_load_fixture(const char *name, tensor_dict *d) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", NST_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    if (!f) die("missing fixture %s (run tests/pytorch/make_fixtures.sh)", path);
    memset(d, 0, sizeof *d);
    char magic[4];
    uint32_t count;
    if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "NSTF", 4) || fread(&count, 4, 1, f) != 1)
        die("fixture %s: bad header", path);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len, ndim, dims[NST_MAX_DIMS];
        char tname[256];
        if (fread(&len, 4, 1, f) != 1 || len >= sizeof tname || fread(tname, 1, len, f) != len)
            die("fixture %s: truncated name", path);
        tname[len] = 0;
        if (fread(&ndim, 4, 1, f) != 1 || ndim > NST_MAX_DIMS || fread(dims, 4, ndim, f) != ndim)
            die("fixture %s: truncated shape", path);
        int64_t shape[NST_MAX_DIMS];
        size_t numel = 1;
        for (uint32_t k = 0; k < ndim; k++) {
            shape[k] = dims[k];
            numel *= dims[k];
        }
        float *data = malloc(numel * sizeof(float) + 1);
        if (!data || fread(data, sizeof(float), numel, f) != numel)
            die("fixture %s: truncated data", path);
        nst_error err;
        if (dict_add(d, tname, (int)ndim, shape, data, &err)) die("%s", err.msg);
    }
    fclose(f);
}

const tensor *tu_get(const tensor_dict *d, const char *name) {
    const tensor *t = dict_get(d, name);
    if (!t) die("fixture has no tensor %s", name);
    return t;
}

const char *tu_shared(const char *rel) {
    static char path[8][2048];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 2048, "%s/%s", NST_SHARED, rel);
    struct stat st;
    if (stat(p, &st) != 0) {
        tu_check(0, __FILE__, __LINE__, "missing shared data file %s", p);
        return NULL;
    }
    return p;
}

void tu_fill_uniform(float *x, size_t n, float lo, float hi, unsigned seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) / (double)(1ull << 24));
    }
}

int tu_check_grad(const char *what, tu_scalar_fn f, void *ctx, float *x,
                  const float *g, size_t n, int samples, float eps, double tol) {
    uint64_t s = 12345;
    double worst = 0;
    for (int k = 0; k < samples; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        size_t i = (size_t)(s % n);
        float x0 = x[i];
        x[i] = x0 + eps;
        double fp = f(x, ctx);
        x[i] = x0 - eps;
        double fm = f(x, ctx);
        x[i] = x0;
        double num = (fp - fm) / (2.0 * eps);
        double err = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-6);
        if (err > worst) worst = err;
        if (err > tol)
            tu_check(0, __FILE__, __LINE__, "%s: d/dx[%zu] analytic %.6g, numeric %.6g", what, i,
                     g[i], num);
    }
    tu_check(worst <= tol, __FILE__, __LINE__, "%s: finite differences", what);
    printf("  %-40s finite-difference worst rel err %.2e\n", what, worst);
    return worst <= tol;
}

int tu_check_dir_grad(const char *what, tu_scalar_fn f, void *ctx, float *x,
                      const float *g, size_t n, int directions, float eps, double tol) {
    float *x0 = malloc(n * sizeof(float)), *v = malloc(n * sizeof(float));
    memcpy(x0, x, n * sizeof(float));
    double worst = 0;
    for (int k = 0; k < directions; k++) {
        tu_fill_uniform(v, n, -1, 1, 1000u + (unsigned)k);
        double dot = 0, gg = 0;
        for (size_t i = 0; i < n; i++) dot += (double)g[i] * v[i], gg += (double)g[i] * g[i];
        for (size_t i = 0; i < n; i++) x[i] = x0[i] + eps * v[i];
        double fp = f(x, ctx);
        for (size_t i = 0; i < n; i++) x[i] = x0[i] - eps * v[i];
        double fm = f(x, ctx);
        double num = (fp - fm) / (2.0 * eps);
        /* relative to the typical size of g.v, |g| / sqrt(3) (its standard
         * deviation over v), so that a v nearly orthogonal to g, where the
         * difference quotient is mostly rounding noise, is not judged by its
         * own tiny g.v */
        double scale = fmax(fmax(fabs(num), fabs(dot)), sqrt(gg / 3));
        double err = fabs(num - dot) / fmax(scale, 1e-12);
        if (err > worst) worst = err;
    }
    memcpy(x, x0, n * sizeof(float));
    free(x0);
    free(v);
    tu_check(worst <= tol, __FILE__, __LINE__, "%s: directional finite differences, worst rel err %.3g > %.3g",
             what, worst, tol);
    printf("  %-40s directional finite-difference worst rel err %.2e\n", what, worst);
    return worst <= tol;
}

double tu_net_objective(const float *x, void *vctx) {
    tu_net_objective_ctx *c = vctx;
    plan_forward(c->plan, x, 0);
    double f = 0;
    char name[128];
    for (int t = 0; t < c->n_taps; t++) {
        int idx = nst_net_find_layer(c->plan->g, c->taps[t]);
        if (idx < 0) die("no layer %s", c->taps[t]);
        snprintf(name, sizeof name, "R/%s", c->taps[t]);
        const tensor *r = tu_get(c->fx, name);
        plan_tap L = plan_tap_of(c->plan, idx);
        if (r->numel != (size_t)L.c * L.h * L.w)
            die("%s does not match the layer's shape", name);
        const float *out = L.out;
        for (size_t i = 0; i < r->numel; i++) f += (double)out[i] * r->data[i];
    }
    return f;
}

static char tmpdir[256];

const char *tu_tmpdir_create(const char *tag) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nst_%s_XXXXXX", tag);
    if (!mkdtemp(tmpdir)) die("cannot create a temporary directory %s", tmpdir);
    return tmpdir;
}

const char *tu_tmp_path(const char *name) {
    static char path[16][1024];
    static int slot;
    char *p = path[slot++ % 16];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

int tu_tmpdir_entries(void) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* Depth first; the tests make only a level or two. */
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        char p[1024];
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(p);
            else unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

void tu_tmpdir_remove(void) {
    if (tmpdir[0]) remove_tree(tmpdir);
    tmpdir[0] = 0;
}

void *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *b = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        *len = (size_t)n;
    }
    return b;
}

int tu_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    tu_check(ok, __FILE__, __LINE__, "cannot write %s", path);
    return ok ? 0 : -1;
}

long tu_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Central differences of the loss along directions v = sign(g) |u| (u
 * uniform in [-1, 1]): uphill, so g.v is large against the float32 noise of
 * a loss of millions of terms, unlike a random direction's g.v ~ 0. With
 * band > 0, v is zero except within band pixels of the image's edge (w
 * wide), where the reflect padding's gradient is folded back. */
double tu_engine_fd(loss_engine *e, plan *plan, const float *x0, const float *g,
                        size_t n, int w, int band, float eps) {
    float *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v), *scratch = malloc(n * sizeof *scratch);
    double worst = 0;
    loss_terms t;
    for (int k = 0; k < 4; k++) {
        tu_fill_uniform(v, n, -1, 1, 100u + (unsigned)k);
        double dot = 0;
        for (size_t i = 0; i < n; i++) {
            int y = (int)(i / w % (n / 3 / w)), x = (int)(i % w), h = (int)(n / 3 / w);
            int edge = y < band || y >= h - band || x < band || x >= w - band;
            v[i] = band > 0 && !edge ? 0 : g[i] > 0 ? fabsf(v[i]) : -fabsf(v[i]);
            dot += (double)g[i] * v[i];
        }
        for (size_t i = 0; i < n; i++) x[i] = x0[i] + eps * v[i];
        double fp = engine_evaluate(e, plan, x, scratch, &t);
        for (size_t i = 0; i < n; i++) x[i] = x0[i] - eps * v[i];
        double fm = engine_evaluate(e, plan, x, scratch, &t);
        double num = (fp - fm) / (2.0 * eps), err = fabs(num - dot) / fabs(dot);
        printf("  engine direction %d: g.v %.6g, central difference %.6g\n", k, dot, num);
        if (err > worst) worst = err;
    }
    free(x), free(v), free(scratch);
    return worst;
}
