/* temporal.c: warping, the flow's consistency check, warping error and
 * blending (temporal.h). */
#include <math.h>

#include "video/temporal.h"

void temporal_gray(const nst_image *im, uint8_t *gray) {
    size_t n = (size_t)im->w * im->h;
    const float *r = im->data, *g = r + n, *b = g + n;
    for (size_t i = 0; i < n; i++) {
        float y = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i] + 0.5f;
        gray[i] = (uint8_t)(y < 0 ? 0 : y > 255 ? 255 : y);
    }
}

/* Bilinear sample of plane s (w x h) at (x, y), clamped to the frame. */
static float sample(const float *s, int w, int h, float x, float y) {
    x = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
    y = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    const float *r0 = s + (size_t)y0 * w, *r1 = s + (size_t)y1 * w;
    return (1 - fy) * ((1 - fx) * r0[x0] + fx * r0[x1]) + fy * ((1 - fx) * r1[x0] + fx * r1[x1]);
}

void temporal_warp(const float *src, int c, int w, int h, const float *uv, float *dst) {
    size_t n = (size_t)w * h;
#pragma omp parallel for schedule(static)
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            float sx = x + uv[2 * i], sy = y + uv[2 * i + 1];
            for (int k = 0; k < c; k++) dst[k * n + i] = sample(src + k * n, w, h, sx, sy);
        }
}

/* Bilinear sample of the interleaved flow field at (x, y) (inside the frame). */
static void sample_uv(const float *uv, int w, int h, float x, float y, float *u, float *v) {
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
    const float *a = uv + 2 * ((size_t)y0 * w + x0), *b = uv + 2 * ((size_t)y0 * w + x1);
    const float *c = uv + 2 * ((size_t)y1 * w + x0), *d = uv + 2 * ((size_t)y1 * w + x1);
    *u = w00 * a[0] + w10 * b[0] + w01 * c[0] + w11 * d[0];
    *v = w00 * a[1] + w10 * b[1] + w01 * c[1] + w11 * d[1];
}

double temporal_mask(const float *uv_ba, const float *uv_ab, int w, int h, float *mask) {
    long reliable = 0;
#pragma omp parallel for reduction(+ : reliable) schedule(static)
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            float u = uv_ba[2 * i], v = uv_ba[2 * i + 1], sx = x + u, sy = y + v;
            int ok = sx >= 0 && sy >= 0 && sx <= w - 1 && sy <= h - 1;
            if (ok) {
                float fu, fv;
                sample_uv(uv_ab, w, h, sx, sy, &fu, &fv);
                float du = u + fu, dv = v + fv;
                ok = du * du + dv * dv <= 0.01f * (u * u + v * v + fu * fu + fv * fv) + 0.5f;
            }
            if (ok) {
                /* central differences of the backward flow (one-sided at the edges) */
                int xl = x > 0 ? x - 1 : x, xr = x < w - 1 ? x + 1 : x;
                int yt = y > 0 ? y - 1 : y, yb = y < h - 1 ? y + 1 : y;
                const float *L = uv_ba + 2 * ((size_t)y * w + xl), *R = uv_ba + 2 * ((size_t)y * w + xr);
                const float *T = uv_ba + 2 * ((size_t)yt * w + x), *B = uv_ba + 2 * ((size_t)yb * w + x);
                float sxd = (float)(xr - xl), syd = (float)(yb - yt);
                float ux = (R[0] - L[0]) / sxd, vx = (R[1] - L[1]) / sxd;
                float uy = (B[0] - T[0]) / syd, vy = (B[1] - T[1]) / syd;
                ok = ux * ux + uy * uy + vx * vx + vy * vy <= 0.01f * (u * u + v * v) + 0.002f;
            }
            mask[i] = ok ? 1.0f : 0.0f;
            reliable += ok;
        }
    return (double)reliable / ((double)w * h);
}

void temporal_diff(const float *x, const float *y, const float *mask, int w, int h, double *warp_error,
                   double *change) {
    size_t n = (size_t)w * h;
    double sq = 0, sad = 0, count = 0;
#pragma omp parallel for reduction(+ : sq, sad, count) schedule(static)
    for (size_t i = 0; i < n; i++) {
        if (mask[i] == 0) continue;
        double e = 0, a = 0;
        for (int k = 0; k < 3; k++) {
            double d = x[k * n + i] - y[k * n + i];
            e += d * d, a += fabs(d);
        }
        sq += mask[i] * e, sad += mask[i] * a;
        count += mask[i];
    }
    if (warp_error) *warp_error = count > 0 ? sq / (3 * 255.0 * 255.0 * count) : 0;
    if (change) *change = count > 0 ? sad / (3 * count) : 0;
}

void temporal_blend(const float *styled, const float *warped, const float *mask, float a, int w,
                    int h, float *out) {
    size_t n = (size_t)w * h;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float m = a * mask[i];
        for (int k = 0; k < 3; k++) out[k * n + i] = m * warped[k * n + i] + (1 - m) * styled[k * n + i];
    }
}
