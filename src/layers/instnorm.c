/* instnorm.c: instance normalisation (Ulyanov et al.), per image n and
 * channel c over its hw values x:
 *   mean = sum x / hw, var = sum (x - mean)^2 / hw (biased),
 *   rstd = 1 / sqrt(var + eps), xh = (x - mean) rstd, y = xh scale + shift.
 * Backward, with g = dy scale (mean taken over the hw values):
 *   dx = rstd (g - mean(g) - xh mean(g xh)),
 *   dscale = sum_{n,hw} dy xh, dshift = sum_{n,hw} dy.
 * Sums are accumulated in double: hw reaches 10^5..10^6 for full images. */
#include <math.h>

#include "layers/layers.h"

void instnorm_forward(int n, int c, int hw, float eps, const float *x,
                      const float *scale, const float *shift, float *y,
                      float *mean, float *rstd) {
#pragma omp parallel for schedule(static)
    for (int p = 0; p < n * c; p++) {
        const float *xp = x + (size_t)p * hw;
        float *yp = y + (size_t)p * hw;
        double s = 0, v = 0;
        for (int i = 0; i < hw; i++) s += xp[i];
        double m = s / hw;
        /* two passes: no cancellation in var when |mean| >> std */
        for (int i = 0; i < hw; i++) v += ((double)xp[i] - m) * ((double)xp[i] - m);
        double r = 1.0 / sqrt(v / hw + eps);
        mean[p] = (float)m, rstd[p] = (float)r;
        /* y = x a + b with a = rstd scale, b = shift - mean a */
        double a = r * scale[p % c], b = shift[p % c] - m * a;
        for (int i = 0; i < hw; i++) yp[i] = (float)(xp[i] * a + b);
    }
}

void instnorm_backward(int n, int c, int hw, const float *x, const float *scale,
                       const float *mean, const float *rstd, const float *dy,
                       float *dx, float *dscale, float *dshift) {
    /* over channels, images inside: dscale/dshift sum over n without a
     * scratch buffer or a reduction across threads */
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double ds = 0, db = 0;
        for (int im = 0; im < n; im++) {
            size_t p = (size_t)im * c + ch;
            const float *xp = x + p * hw, *dyp = dy + p * hw;
            float *dxp = dx + p * hw;
            double m = mean[p], r = rstd[p], sdy = 0, sdyxh = 0;
            for (int i = 0; i < hw; i++) {
                sdy += dyp[i];
                sdyxh += dyp[i] * ((xp[i] - m) * r);
            }
            ds += sdyxh, db += sdy;
            /* dx = rstd scale (dy - mean(dy) - xh mean(dy xh)) */
            double k = r * scale[ch], mdy = sdy / hw, mdyxh = sdyxh / hw;
            for (int i = 0; i < hw; i++)
                dxp[i] = (float)(k * (dyp[i] - mdy - (xp[i] - m) * r * mdyxh));
        }
        if (dscale) dscale[ch] = (float)ds;
        if (dshift) dshift[ch] = (float)db;
    }
}
