/* pad.c: reflect padding, numpy/PyTorch 'reflect' (the edge is not
 * repeated): index i of the padded axis reads source reflect(i - before),
 * reflect(x) = -x for x < 0, 2(n-1) - x for x >= n.
 *
 * In layout `block` a tensor is n * ceil(c / block) planes of h x w pixels of
 * `block` floats each (block 1: NCHW), and padding moves whole pixels, so one
 * loop serves every layout; padded channels (zeros) are copied like the rest. */
#include <string.h>

#include "layers/layers.h"

static int reflect(int x, int n) {
    if (x < 0) return -x;
    if (x >= n) return 2 * (n - 1) - x;
    return x;
}

int pad_setup(pad_layer *L, int n, int c, int h, int w, int t, int l, int b,
              int r, int block, nst_error *err) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || t < 0 || l < 0 || b < 0 || r < 0 || t >= h ||
        b >= h || l >= w || r >= w)
        return nst_fail(err, NST_ERR_RUNTIME,
                        "reflect padding %d,%d,%d,%d needs each pad smaller than the %dx%d input",
                        t, l, b, r, h, w);
    *L = (pad_layer){n, c, h, w, t, l, b, r, h + t + b, w + l + r, block};
    return 0;
}

static int planes(const pad_layer *L) { return L->n * ((L->c + L->block - 1) / L->block); }

/* One padded row from source row `src`: the interior in one copy, then the
 * reflected columns pixel by pixel. */
static void pad_row(const pad_layer *L, const float *src, float *dst) {
    size_t B = (size_t)L->block, px = B * sizeof *src;
    memcpy(dst + L->l * B, src, L->w * px);
    for (int j = 0; j < L->l; j++) memcpy(dst + j * B, src + reflect(j - L->l, L->w) * B, px);
    for (int j = L->l + L->w; j < L->ow; j++)
        memcpy(dst + j * B, src + reflect(j - L->l, L->w) * B, px);
}

void pad_forward(const pad_layer *L, const float *in, float *out) {
    size_t B = (size_t)L->block;
    int np = planes(L);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < np; p++) {
        const float *src = in + (size_t)p * L->h * L->w * B;
        float *dst = out + (size_t)p * L->oh * L->ow * B;
        for (int i = 0; i < L->oh; i++)
            pad_row(L, src + (size_t)reflect(i - L->t, L->h) * L->w * B, dst + (size_t)i * L->ow * B);
    }
}

/* din[s] = sum of dout over every padded position that reads s. */
void pad_backward(const pad_layer *L, const float *dout, float *din) {
    size_t B = (size_t)L->block;
    int np = planes(L);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < np; p++) {
        const float *src = dout + (size_t)p * L->oh * L->ow * B;
        float *dst = din + (size_t)p * L->h * L->w * B;
        memset(dst, 0, (size_t)L->h * L->w * B * sizeof *dst);
        for (int i = 0; i < L->oh; i++) {
            float *row = dst + (size_t)reflect(i - L->t, L->h) * L->w * B;
            const float *s = src + (size_t)i * L->ow * B;
            for (int j = 0; j < L->ow; j++) {
                float *d = row + reflect(j - L->l, L->w) * B;
                for (size_t k = 0; k < B; k++) d[k] += s[j * B + k];
            }
        }
    }
}
