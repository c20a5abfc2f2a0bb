/* instnorm.c: instance normalisation (Ulyanov et al.), per image n and
 * channel c over its hw values x:
 *   mean = sum x / hw, var = sum (x - mean)^2 / hw (biased),
 *   rstd = 1 / sqrt(var + eps), xh = (x - mean) rstd, y = xh scale + shift.
 * Backward, with g = dy scale (mean taken over the hw values):
 *   dx = rstd (g - mean(g) - xh mean(g xh)),
 *   dscale = sum_{n,hw} dy xh, dshift = sum_{n,hw} dy.
 *
 * Tensors are in layout `block` (layers.h): a plane of hw pixels holds
 * `lanes` channels side by side, so every loop runs over the pixels of a
 * plane with the lanes innermost (vectorised; for NCHW one lane). The pass
 * over a plane is memory-bound, so the statistics take one read (sums of
 * x - k and (x - k)^2 with k the lane's first value, which keeps the
 * variance free of cancellation when |mean| >> std), and the residual add
 * and ReLU after the norm ride on its write. Sums are accumulated in double:
 * hw reaches 10^5..10^6 for full images. */
#include <math.h>
#include <string.h>

#include "core/clones.h"
#include "layers/layers.h"

/* Planes and lanes of an n x c tensor in layout block. */
static void geometry(int n, int c, int block, int *planes, int *lanes) {
    *lanes = block_elems(block, c);
    *planes = n * ((c + *lanes - 1) / *lanes);
}

/* Sums of d = x - k over pixels [from, to) of a plane, k = the plane's
 * first pixel, for each lane. The lane count is a constant where this is
 * inlined for 8 and 16 (the blocked layouts), so the lane loop becomes
 * vector code. */
static inline void plane_sums(int lanes, size_t from, size_t to, const float *x, const float *k,
                              double *s, double *q) {
    for (int l = 0; l < lanes; l++) s[l] = q[l] = 0;
    for (size_t i = from; i < to; i++)
        for (int l = 0; l < lanes; l++) {
            double d = x[i * lanes + l] - k[l];
            s[l] += d, q[l] += d * d;
        }
}

/* Work items: each plane in `parts` runs of pixels, enough items for every
 * core even when a plane is all there is (8 channels of one image in
 * blocks of 8), runs of at least 4096 pixels; at most 31 items when a
 * plane has several, and none for wide lanes (channels-last). */
#define MIN_RUN 4096
static int parts_of(int planes, int lanes, size_t hw) {
    if (planes >= 16 || lanes > 16) return 1;
    int want = (16 + planes - 1) / planes;
    size_t most = (hw + MIN_RUN - 1) / MIN_RUN;
    return (size_t)want < most ? want : (int)most;
}

static void run_of(size_t hw, int parts, int j, size_t *from, size_t *to) {
    *from = hw * j / parts, *to = hw * (j + 1) / parts;
}

/* mean and rstd from the sums of d = x - k (k = first) over hw pixels */
static void finish(double s, double q, float first, int hw, float eps, float *mean, float *rstd) {
    double m = s / hw, var = q / hw - m * m;
    *mean = (float)(first + m);
    *rstd = (float)(1.0 / sqrt((var > 0 ? var : 0) + eps));
}

/* Sums of one run of pixels. Lane counts that divide 16 run as 16 lanes
 * (16 / lanes pixels side by side, then folded), which the compiler turns
 * into vector code with 16 independent sums; others lane by lane. */
HOT_LOOP static void sums_of(int lanes, size_t from, size_t to, const float *xp, double *s, double *q) {
    if (16 % lanes) {
        plane_sums(lanes, from, to, xp, xp, s, q);
        return;
    }
    int per = 16 / lanes;
    float k[16];
    double s16[16], q16[16];
    for (int l = 0; l < 16; l++) k[l] = xp[l % lanes];
    size_t mid = from + (to - from) / per * per;
    plane_sums(16, 0, (mid - from) / per, xp + from * lanes, k, s16, q16);
    plane_sums(lanes, mid, to, xp, xp, s, q);
    for (int l = 0; l < 16; l++) s[l % lanes] += s16[l], q[l % lanes] += q16[l];
}

void instnorm_stats(int n, int c, int hw, int block, float eps, const float *x, float *mean,
                    float *rstd) {
    int planes, lanes;
    geometry(n, c, block, &planes, &lanes);
    int cb = planes / n, parts = parts_of(planes, lanes, hw);
    if (parts == 1) {
#pragma omp parallel for schedule(static)
        for (int p = 0; p < planes; p++) {
            double s[lanes], q[lanes];
            const float *xp = x + (size_t)p * hw * lanes;
            sums_of(lanes, 0, hw, xp, s, q);
            int ch0 = p % cb * lanes, im = p / cb;
            for (int l = 0; l < lanes && ch0 + l < c; l++)
                finish(s[l], q[l], xp[l], hw, eps, &mean[im * c + ch0 + l], &rstd[im * c + ch0 + l]);
        }
        return;
    }
    int items = planes * parts;
    double sums[items][2][lanes];
#pragma omp parallel for schedule(static)
    for (int it = 0; it < items; it++) {
        size_t from, to;
        run_of(hw, parts, it % parts, &from, &to);
        sums_of(lanes, from, to, x + (size_t)(it / parts) * hw * lanes, sums[it][0], sums[it][1]);
    }
    for (int p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * hw * lanes;
        int ch0 = p % cb * lanes, im = p / cb;
        for (int l = 0; l < lanes && ch0 + l < c; l++) {
            double s = 0, q = 0;
            for (int j = 0; j < parts; j++) s += sums[p * parts + j][0][l], q += sums[p * parts + j][1][l];
            finish(s, q, xp[l], hw, eps, &mean[im * c + ch0 + l], &rstd[im * c + ch0 + l]);
        }
    }
}

/* y = relu?(x a + b + skip?) over m pixels; a, b per lane. Inlined with
 * constant lanes, skip and relu, so each case is a loop without branches. */
static inline void plane_apply(int lanes, size_t m, const float *x, const float *a,
                               const float *b, const float *skip, int relu, float *y) {
    for (size_t i = 0; i < m; i++)
        for (int l = 0; l < lanes; l++) {
            float v = x[i * lanes + l] * a[l] + b[l];
            if (skip) v += skip[i * lanes + l];
            y[i * lanes + l] = relu && v < 0 ? 0 : v;
        }
}

HOT_LOOP static void apply16(size_t m, const float *x, const float *a, const float *b, const float *skip, int relu,
                    float *y) {
    if (skip && relu) plane_apply(16, m, x, a, b, skip, 1, y);
    else if (skip) plane_apply(16, m, x, a, b, skip, 0, y);
    else if (relu) plane_apply(16, m, x, a, b, NULL, 1, y);
    else plane_apply(16, m, x, a, b, NULL, 0, y);
}

/* A run of m pixels; as in sums_of, lanes dividing 16 run as 16. */
static void apply_run(int lanes, size_t m, const float *x, const float *a, const float *b, const float *skip,
                      int relu, float *y) {
    if (16 % lanes) {
        plane_apply(lanes, m, x, a, b, skip, relu, y);
        return;
    }
    int per = 16 / lanes;
    float a16[16], b16[16];
    for (int l = 0; l < 16; l++) a16[l] = a[l % lanes], b16[l] = b[l % lanes];
    size_t mid = m / per * per, at = mid * lanes;
    apply16(mid / per, x, a16, b16, skip, relu, y);
    plane_apply(lanes, m - mid, x + at, a, b, skip ? skip + at : NULL, relu, y + at);
}

void instnorm_apply(int n, int c, int hw, int block, const float *x, const float *scale,
                    const float *shift, const float *mean, const float *rstd, const float *skip,
                    int relu, float *y) {
    int planes, lanes;
    geometry(n, c, block, &planes, &lanes);
    int cb = planes / n, parts = parts_of(planes, lanes, hw);
#pragma omp parallel for schedule(static)
    for (int it = 0; it < planes * parts; it++) {
        /* y = x a + b with a = rstd scale, b = shift - mean a; padding
         * lanes (channels >= c) get a = b = 0 and stay zero */
        int p = it / parts;
        float a[lanes], b[lanes];
        int ch0 = p % cb * lanes, im = p / cb;
        for (int l = 0; l < lanes; l++) {
            int ch = ch0 + l;
            a[l] = ch < c ? rstd[im * c + ch] * scale[ch] : 0;
            b[l] = ch < c ? shift[ch] - mean[im * c + ch] * a[l] : 0;
        }
        size_t from, to;
        run_of(hw, parts, it % parts, &from, &to);
        size_t at = ((size_t)p * hw + from) * lanes, m = to - from;
        const float *sk = skip ? skip + at : NULL;
        apply_run(lanes, m, x + at, a, b, sk, relu, y + at);
    }
}

/* Per lane: sdy = sum dy, sdyxh = sum dy xh over a plane; then
 * dx = k (dy - sdy/hw - xh sdyxh/hw) with k = rstd scale. */
static inline void plane_backward(int lanes, size_t hw, const float *x, const float *dy,
                                  const double *m, const double *r, const double *k, double *sdy,
                                  double *sdyxh, float *dx) {
    for (int l = 0; l < lanes; l++) sdy[l] = sdyxh[l] = 0;
    for (size_t i = 0; i < hw; i++)
        for (int l = 0; l < lanes; l++) {
            double g = dy[i * lanes + l];
            sdy[l] += g, sdyxh[l] += g * ((x[i * lanes + l] - m[l]) * r[l]);
        }
    double mdy[lanes], mdyxh[lanes];
    for (int l = 0; l < lanes; l++) mdy[l] = sdy[l] / hw, mdyxh[l] = sdyxh[l] / hw;
    for (size_t i = 0; i < hw; i++)
        for (int l = 0; l < lanes; l++) {
            size_t j = i * lanes + l;
            dx[j] = (float)(k[l] * (dy[j] - mdy[l] - (x[j] - m[l]) * r[l] * mdyxh[l]));
        }
}

void instnorm_backward(int n, int c, int hw, int block, const float *x, const float *scale,
                       const float *mean, const float *rstd, const float *dy, float *dx,
                       float *dscale, float *dshift) {
    int planes, lanes;
    geometry(n, c, block, &planes, &lanes);
    int cb = planes / n;
    /* over channel blocks, images inside: dscale/dshift sum over n without a
     * scratch buffer or a reduction across threads */
#pragma omp parallel for schedule(static)
    for (int b = 0; b < cb; b++) {
        double m[lanes], r[lanes], k[lanes], sdy[lanes], sdyxh[lanes], ds[lanes], db[lanes];
        int ch0 = b * lanes;
        for (int l = 0; l < lanes; l++) ds[l] = db[l] = 0;
        for (int im = 0; im < n; im++) {
            for (int l = 0; l < lanes; l++) {
                int ch = ch0 + l, valid = ch < c;
                m[l] = valid ? mean[im * c + ch] : 0, r[l] = valid ? rstd[im * c + ch] : 0;
                k[l] = valid ? r[l] * scale[ch] : 0;
            }
            size_t at = ((size_t)im * cb + b) * hw * lanes;
            if (lanes == 16) plane_backward(16, hw, x + at, dy + at, m, r, k, sdy, sdyxh, dx + at);
            else plane_backward(lanes, hw, x + at, dy + at, m, r, k, sdy, sdyxh, dx + at);
            for (int l = 0; l < lanes; l++) ds[l] += sdyxh[l], db[l] += sdy[l];
        }
        for (int l = 0; l < lanes && ch0 + l < c; l++) {
            if (dscale) dscale[ch0 + l] = (float)ds[l];
            if (dshift) dshift[ch0 + l] = (float)db[l];
        }
    }
}
