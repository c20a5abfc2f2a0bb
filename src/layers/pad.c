/* pad.c: reflect padding, numpy/PyTorch 'reflect' (the edge is not
 * repeated): index i of the padded axis reads source reflect(i - before),
 * reflect(x) = -x for x < 0, 2(n-1) - x for x >= n. */
#include <string.h>

#include "layers/layers.h"

static int reflect(int x, int n) {
    if (x < 0) return -x;
    if (x >= n) return 2 * (n - 1) - x;
    return x;
}

int pad_setup(pad_layer *L, int n, int c, int h, int w, int t, int l, int b,
              int r, nst_error *err) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || t < 0 || l < 0 || b < 0 || r < 0 || t >= h ||
        b >= h || l >= w || r >= w)
        return nst_fail(err, NST_ERR_RUNTIME,
                        "reflect padding %d,%d,%d,%d needs each pad smaller than the %dx%d input",
                        t, l, b, r, h, w);
    *L = (pad_layer){n, c, h, w, t, l, b, r, h + t + b, w + l + r};
    return 0;
}

void pad_forward(const pad_layer *L, const float *in, float *out) {
    for (int p = 0; p < L->n * L->c; p++) {
        const float *src = in + (size_t)p * L->h * L->w;
        float *dst = out + (size_t)p * L->oh * L->ow;
        for (int i = 0; i < L->oh; i++) {
            const float *row = src + (size_t)reflect(i - L->t, L->h) * L->w;
            for (int j = 0; j < L->ow; j++) dst[(size_t)i * L->ow + j] = row[reflect(j - L->l, L->w)];
        }
    }
}

/* din[s] = sum of dout over every padded position that reads s. */
void pad_backward(const pad_layer *L, const float *dout, float *din) {
    memset(din, 0, (size_t)L->n * L->c * L->h * L->w * sizeof *din);
    for (int p = 0; p < L->n * L->c; p++) {
        const float *src = dout + (size_t)p * L->oh * L->ow;
        float *dst = din + (size_t)p * L->h * L->w;
        for (int i = 0; i < L->oh; i++) {
            float *row = dst + (size_t)reflect(i - L->t, L->h) * L->w;
            for (int j = 0; j < L->ow; j++) row[reflect(j - L->l, L->w)] += src[(size_t)i * L->ow + j];
        }
    }
}
