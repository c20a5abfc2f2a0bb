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

#include "layers/layers.h"

/* Planes and lanes of an n x c tensor in layout block. */
static void geometry(int n, int c, int block, int *planes, int *lanes) {
    *lanes = nst_block_elems(block, c);
    *planes = n * ((c + *lanes - 1) / *lanes);
}

/* Sums of d = x - k over a plane, k = its first pixel, for each lane. The
 * lane count is a constant where this is inlined for 16 (the AVX-512
 * blocked layout), so the lane loop becomes vector code. */
static inline void plane_sums(int lanes, size_t hw, const float *x, double *k, double *s,
                              double *q) {
    for (int l = 0; l < lanes; l++) k[l] = x[l], s[l] = q[l] = 0;
    for (size_t i = 0; i < hw; i++)
        for (int l = 0; l < lanes; l++) {
            double d = x[i * lanes + l] - k[l];
            s[l] += d, q[l] += d * d;
        }
}

void instnorm_stats(int n, int c, int hw, int block, float eps, const float *x, float *mean,
                    float *rstd) {
    int planes, lanes;
    geometry(n, c, block, &planes, &lanes);
    int cb = planes / n;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        double k[lanes], s[lanes], q[lanes];
        const float *xp = x + (size_t)p * hw * lanes;
        if (lanes == 16) plane_sums(16, hw, xp, k, s, q);
        else plane_sums(lanes, hw, xp, k, s, q);
        int ch0 = p % cb * lanes, im = p / cb;
        for (int l = 0; l < lanes && ch0 + l < c; l++) {
            double m = s[l] / hw, var = q[l] / hw - m * m;
            mean[im * c + ch0 + l] = (float)(k[l] + m);
            rstd[im * c + ch0 + l] = (float)(1.0 / sqrt((var > 0 ? var : 0) + eps));
        }
    }
}

/* y = relu?(x a + b + skip?) over a plane; a, b per lane. */
static inline void plane_apply(int lanes, size_t hw, const float *x, const float *a,
                               const float *b, const float *skip, int relu, float *y) {
    for (size_t i = 0; i < hw; i++)
        for (int l = 0; l < lanes; l++) {
            float v = x[i * lanes + l] * a[l] + b[l];
            if (skip) v += skip[i * lanes + l];
            y[i * lanes + l] = relu && v < 0 ? 0 : v;
        }
}

void instnorm_apply(int n, int c, int hw, int block, const float *x, const float *scale,
                    const float *shift, const float *mean, const float *rstd, const float *skip,
                    int relu, float *y) {
    int planes, lanes;
    geometry(n, c, block, &planes, &lanes);
    int cb = planes / n;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        /* y = x a + b with a = rstd scale, b = shift - mean a; padding
         * lanes (channels >= c) get a = b = 0 and stay zero */
        float a[lanes], b[lanes];
        int ch0 = p % cb * lanes, im = p / cb;
        for (int l = 0; l < lanes; l++) {
            int ch = ch0 + l;
            a[l] = ch < c ? rstd[im * c + ch] * scale[ch] : 0;
            b[l] = ch < c ? shift[ch] - mean[im * c + ch] * a[l] : 0;
        }
        size_t at = (size_t)p * hw * lanes;
        const float *sk = skip ? skip + at : NULL;
        if (lanes == 16) plane_apply(16, hw, x + at, a, b, sk, relu, y + at);
        else plane_apply(lanes, hw, x + at, a, b, sk, relu, y + at);
    }
}

void instnorm_forward(int n, int c, int hw, int block, float eps, const float *x,
                      const float *scale, const float *shift, float *y, float *mean, float *rstd) {
    instnorm_stats(n, c, hw, block, eps, x, mean, rstd);
    instnorm_apply(n, c, hw, block, x, scale, shift, mean, rstd, NULL, 0, y);
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
