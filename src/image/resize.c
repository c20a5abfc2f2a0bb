/* resize.c: separable resampling of planar images, our own code rather than
 * stb_image_resize so the filters are exactly the documented ones. Each axis
 * independently uses bilinear interpolation with pixel centres at i + 0.5
 * (as PyTorch's align_corners=False) when it grows or keeps its size, and
 * exact area averaging (each output pixel averages the source span it
 * covers, partial pixels weighted by overlap) when it shrinks, which avoids
 * the aliasing bilinear sampling would give. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "image/resize.h"

/* Output pixel o of one axis is sum_k wt[o*taps + k] * src[first[o] + k]. */
typedef struct {
    int taps;
    int *first;
    float *wt;
} axis_filter;

static int axis_init(axis_filter *f, int in, int out) {
    f->taps = out >= in ? 2 : (int)ceil((double)in / out) + 1;
    f->first = malloc(sizeof(int) * out);
    f->wt = calloc((size_t)out * f->taps, sizeof(float));
    if (!f->first || !f->wt) return 0;
    double scale = (double)in / out;
    for (int o = 0; o < out; o++) {
        float *w = f->wt + (size_t)o * f->taps;
        if (out >= in) {
            double s = fmin(fmax((o + 0.5) * scale - 0.5, 0.0), in - 1.0);
            int i0 = (int)s;
            f->first[o] = i0;
            w[0] = (float)(1.0 - (s - i0));
            w[1] = (float)(s - i0); /* 0 at the last pixel, where apply stops anyway */
        } else {
            /* integer bounds so rounding can never widen the span past taps */
            int i0 = (int)((int64_t)o * in / out), i1 = (int)((((int64_t)o + 1) * in + out - 1) / out);
            double lo = o * scale, hi = (o + 1) * scale;
            f->first[o] = i0;
            for (int i = i0; i < i1; i++)
                w[i - i0] = (float)((fmin(hi, i + 1.0) - fmax(lo, (double)i)) / scale);
        }
    }
    return 1;
}

static void axis_free(axis_filter *f) {
    free(f->first);
    free(f->wt);
}

/* Apply f along a strided axis: n outputs from src (stride ss) to dst (stride ds). */
static void apply(const axis_filter *f, int in, int n, const float *src, size_t ss, float *dst,
                  size_t ds) {
    for (int o = 0; o < n; o++) {
        const float *w = f->wt + (size_t)o * f->taps;
        int first = f->first[o];
        float acc = 0.0f;
        for (int k = 0; k < f->taps && first + k < in; k++) acc += w[k] * src[(size_t)(first + k) * ss];
        dst[(size_t)o * ds] = acc;
    }
}

int resize_planes(const float *src, int planes, int sw, int sh, float *dst, int w, int h, nst_error *err) {
    axis_filter fx, fy;
    int ok = axis_init(&fx, sw, w) & axis_init(&fy, sh, h); /* & : init both, free both */
    float *tmp = ok ? malloc(sizeof(float) * w * sh) : NULL; /* one plane, rows resized */
    if (tmp) {
        for (int c = 0; c < planes; c++) {
            const float *sp = src + (size_t)c * sw * sh;
            float *dp = dst + (size_t)c * w * h;
            for (int y = 0; y < sh; y++) apply(&fx, sw, w, sp + (size_t)y * sw, 1, tmp + (size_t)y * w, 1);
            for (int x = 0; x < w; x++) apply(&fy, sh, h, tmp + x, (size_t)w, dp + x, (size_t)w);
        }
    }
    free(tmp);
    axis_free(&fx);
    axis_free(&fy);
    return tmp ? NST_OK : nst_fail(err, NST_ERR_NOMEM, "out of memory resizing %dx%d to %dx%d", sw, sh, w, h);
}

int nst_image_resize(const nst_image *src, int w, int h, nst_image *dst, nst_error *err) {
    int rc = nst_image_alloc(dst, w, h, err);
    if (!rc) rc = resize_planes(src->data, 3, src->w, src->h, dst->data, w, h, err);
    if (rc) nst_image_free(dst);
    return rc;
}

void nst_image_fit(int w, int h, int side, int *ow, int *oh) {
    int lng = w >= h ? w : h, sht = w >= h ? h : w;
    long s = lround((double)sht * side / lng);
    if (s < 1) s = 1;
    *ow = w >= h ? side : (int)s;
    *oh = w >= h ? (int)s : side;
}
