/* pad.c: reflect padding, numpy/PyTorch 'reflect' (the edge is not
 * repeated): index i of the padded axis reads source reflect(i - before),
 * reflect(x) = -x for x < 0, 2(n-1) - x for x >= n.
 *
 * In layout `block` a tensor is n * ceil(c / block) planes of h x w pixels of
 * `block` elements each (block 1: NCHW), and padding moves whole pixels, so
 * one loop serves every layout and element type (float32 or bfloat16);
 * padded channels (zeros) are copied like the rest. */
#include <stdint.h>
#include <string.h>

#include "layers/layers.h"

static int reflect(int x, int n) {
    if (x < 0) return -x;
    if (x >= n) return 2 * (n - 1) - x;
    return x;
}

int pad_setup(pad_layer *L, int n, int c, int h, int w, int t, int l, int b,
              int r, int block, int bf16, nst_error *err) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || t < 0 || l < 0 || b < 0 || r < 0 || t >= h ||
        b >= h || l >= w || r >= w)
        return nst_fail(err, NST_ERR_ARG,
                        "reflect padding %d,%d,%d,%d needs each pad smaller than the %dx%d input",
                        t, l, b, r, h, w);
    *L = (pad_layer){n, c, h, w, t, l, b, r, h + t + b, w + l + r, block, bf16, 1, 0};
    return 0;
}

int pad_setup_zero(pad_layer *L, int n, int c, int h, int w, int t, int l, int b, int r, int block, int bf16,
                   nst_error *err) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || t < 0 || l < 0 || b < 0 || r < 0)
        return nst_fail(err, NST_ERR_ARG, "zero padding %d,%d,%d,%d of a %dx%d input", t, l, b, r, h, w);
    *L = (pad_layer){n, c, h, w, t, l, b, r, h + t + b, w + l + r, block, bf16, 1, 1};
    return 0;
}

static int planes(const pad_layer *L) {
    int b = block_elems(L->block, L->c);
    return L->n * ((L->c + b - 1) / b);
}
/* bytes of one pixel (block elements) */
static size_t pixel(const pad_layer *L) {
    return (size_t)block_elems(L->block, L->c) * (L->bf16 ? 2 : 4);
}

/* One padded row from source row `src`: the interior in one copy, then the
 * reflected columns pixel by pixel. */
static void pad_row(const pad_layer *L, const char *src, char *dst) {
    size_t px = pixel(L);
    memcpy(dst + L->l * px, src, L->w * px);
    if (L->zero) {
        memset(dst, 0, L->l * px);
        memset(dst + (L->l + L->w) * px, 0, L->r * px);
        return;
    }
    for (int j = 0; j < L->l; j++) memcpy(dst + j * px, src + reflect(j - L->l, L->w) * px, px);
    for (int j = L->l + L->w; j < L->ow; j++)
        memcpy(dst + j * px, src + reflect(j - L->l, L->w) * px, px);
}

/* The same from a row of the tensor that is upsampled by L->up on the way. */
static void pad_row_up(const pad_layer *L, const char *src, char *dst) {
    size_t px = pixel(L);
    for (int j = 0; j < L->ow; j++) memcpy(dst + j * px, src + (size_t)(reflect(j - L->l, L->w) / L->up) * px, px);
}

/* Padded row i of plane p (of all n images' planes) into dst. */
static void padded_row(const pad_layer *L, const void *in, int p, int i, char *dst) {
    size_t px = pixel(L), sw = (size_t)(L->w / L->up), sh = (size_t)(L->h / L->up);
    if (L->zero && (i < L->t || i >= L->t + L->h)) {
        memset(dst, 0, L->ow * px);
        return;
    }
    const char *src = (const char *)in + ((size_t)p * sh + reflect(i - L->t, L->h) / L->up) * sw * px;
    if (L->up > 1) pad_row_up(L, src, dst);
    else pad_row(L, src, dst);
}

void pad_forward(const pad_layer *L, const void *in, void *out) {
    size_t px = pixel(L);
    int np = planes(L);
#pragma omp parallel for collapse(2) schedule(static)
    for (int p = 0; p < np; p++)
        for (int i = 0; i < L->oh; i++) padded_row(L, in, p, i, (char *)out + ((size_t)p * L->oh + i) * L->ow * px);
}

void pad_forward_rows(const pad_layer *L, const void *in, int b, int row0, int m, int cap, void *out) {
    size_t px = pixel(L);
    int np = planes(L) / L->n;
    for (int p = 0; p < np; p++)
        for (int i = 0; i < m; i++)
            padded_row(L, in, b * np + p, row0 + i, (char *)out + ((size_t)p * cap + i) * L->ow * px);
}

/* d[k] += s[k] for the n elements of one pixel */
static void add_pixel(char *d, const char *s, size_t n, int bf16) {
    if (!bf16) {
        float *df = (float *)d;
        const float *sf = (const float *)s;
        for (size_t k = 0; k < n; k++) df[k] += sf[k];
        return;
    }
    uint16_t *dh = (uint16_t *)d;
    const uint16_t *sh = (const uint16_t *)s;
    for (size_t k = 0; k < n; k++) dh[k] = f32_to_bf16(bf16_to_f32(dh[k]) + bf16_to_f32(sh[k]));
}

/* din[s] = sum of dout over every padded position that reads s: the
 * interior rows are copies, then the reflected borders are added (zero
 * padding: nothing reads the input there). */
void pad_backward(const pad_layer *L, const void *dout, void *din) {
    size_t px = pixel(L);
    int np = planes(L);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < np; p++) {
        const char *src = (const char *)dout + (size_t)p * L->oh * L->ow * px;
        char *dst = (char *)din + (size_t)p * L->h * L->w * px;
        for (int i = 0; i < L->h; i++)
            memcpy(dst + (size_t)i * L->w * px, src + ((size_t)(i + L->t) * L->ow + L->l) * px,
                   L->w * px);
        for (int i = 0; i < L->oh && !L->zero; i++) {
            char *row = dst + (size_t)reflect(i - L->t, L->h) * L->w * px;
            const char *s = src + (size_t)i * L->ow * px;
            int inner = i >= L->t && i < L->t + L->h;
            for (int j = 0; j < L->ow; j++)
                if (!inner || j < L->l || j >= L->l + L->w)
                    add_pixel(row + reflect(j - L->l, L->w) * px, s + j * px,
                              (size_t)block_elems(L->block, L->c), L->bf16);
        }
    }
}
