/* split_conv.c: a k x k convolution with few output channels (a style
 * network's first layer, 3 -> 8 through 9 x 9, its last ones, 16 -> 8
 * through 3 x 3 and 8 -> 3 through 9 x 9) as a 1 x k convolution to k cout
 * channels followed by a sum of shifted rows:
 *   t[n][j cout + o][r][x] = sum_{c,v} w[o][c][j][v] xp[n][c][r][x + v]
 *   y[n][o][r][x] = b[o] + sum_j t[n][j cout + o][r + j][x]
 * (xp: the padded input), which is the same sum in another order. oneDNN
 * vectorises a direct convolution over its output channels and broadcasts
 * one input per multiply-add: with 8 outputs or fewer its kernels wait on
 * loads, with k cout outputs they do not (bench/bench_split_conv: 1.4-4x
 * for the three thin layers of the style networks at 512 px).
 *
 * Streamed: each thread takes a band of output rows and walks its padded
 * input a few rows at a time (padding them itself, pad.c), so t never
 * leaves the cache: output row y is complete once t row y + k - 1 is added.
 * oneDNN runs each thread's 1 x k convolution on that thread (it does not
 * fork inside a parallel region); its CPU stream keeps no state between
 * executions, so the threads share it. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

/* Rearranged weights: wr[j cout + o][c][0][v] = w[o][c][j][v]. */
static void rearrange(const split_conv_layer *L) {
    int k = L->k;
    for (int j = 0; j < k; j++)
        for (int o = 0; o < L->cout; o++)
            for (int c = 0; c < L->cin; c++)
                for (int v = 0; v < k; v++)
                    L->wr[(((size_t)(j * L->cout + o) * L->cin + c) * k) + v] =
                        L->weight[(((size_t)o * L->cin + c) * k + j) * k + v];
}

int split_conv_setup(split_conv_layer *L, const pad_layer *pad, int cout, int k, int relu, float alpha,
                     const float *weight, const float *bias, nst_error *err) {
    memset(L, 0, sizeof *L);
    L->pad = *pad;
    L->n = pad->n, L->cin = pad->c, L->cout = cout, L->k = k, L->relu = relu, L->alpha = alpha;
    L->oh = pad->oh - k + 1, L->ow = pad->ow - k + 1;
    L->weight = weight, L->bias = bias;
    L->out_block = cout <= 4 ? 1 : 8;
    if (L->oh < 1 || L->ow < 1 || cout > 8 || pad->bf16 || (relu && (alpha < 0 || alpha > 1)))
        return nst_fail(err, NST_ERR_INTERNAL,
                        "split convolution: %d outputs, %dx%d kernel on a %dx%d map: not a case it runs", cout,
                        k, k, pad->ow, pad->oh);
    /* rows per step: t's rows within about 512 KB (a core's L2) */
    int C = k * cout;
    size_t row_bytes = (size_t)(C + 15) / 16 * 16 * L->ow * sizeof(float);
    L->rows = (int)(512 * 1024 / row_bytes);
    L->rows = L->rows < 2 ? 2 : L->rows > 16 ? 16 : L->rows;
    L->threads = omp_get_max_threads();
    if (L->threads > L->oh) L->threads = L->oh;
    int band = (L->oh + L->threads - 1) / L->threads;
    if (L->rows > band + k - 1) L->rows = band + k - 1;
    L->wr = malloc((size_t)C * L->cin * k * sizeof *L->wr);
    L->conv = calloc((size_t)L->threads, sizeof *L->conv);
    if (!L->wr || !L->conv) {
        split_conv_destroy(L);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d convolution's weights", k, k);
    }
    rearrange(L);
    int in_block = pad->block == 1 ? 0 : pad->block; /* conv_setup_blocked's 0: NCHW */
    for (int i = 0; i < L->threads; i++) {
        int rc = conv_setup_blocked(&L->conv[i], in_block, 0, POST_NONE, 0, 1, L->cin, L->rows, pad->ow, C, 1, 1,
                                    k, 1, 0, 0, 0, 0, L->wr, NULL, err);
        if (rc) {
            split_conv_destroy(L);
            return rc;
        }
    }
    L->t_block = L->conv[0].dst_block;
    L->in_elems = blocked_numel(1, L->cin, L->rows, pad->ow, pad->block);
    L->t_elems = blocked_numel(1, C, L->rows, L->ow, L->t_block);
    /* zeroed: a last short step convolves rows it never wrote */
    L->buf = calloc((L->in_elems + L->t_elems) * L->threads, sizeof *L->buf);
    if (!L->buf) {
        split_conv_destroy(L);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d convolution's row buffers", k, k);
    }
    return NST_OK;
}

/* Adds t row r's part j (channels j cout .. j cout + cout - 1) into output
 * row y of image b: the first part (j = 0) starts from the bias, the last
 * (j = k - 1) ends with the activation, max(v, a v) (a = alpha, or 1 for
 * none: for 0 <= a <= 1 that is v > 0 ? v : a v). */
static void add_part(const split_conv_layer *L, const float *t, int r, int j, int b, int y, float *out) {
    int C = L->k * L->cout, tl = block_elems(L->t_block, C), ch0 = j * L->cout, ow = L->ow;
    float a = j == L->k - 1 && L->relu ? L->alpha : 1;
    const float zero[8] = {0};
    const float *bias = L->bias ? L->bias : zero;
    if (L->out_block == 8 && L->cout == 8 && tl % 8 == 0) { /* one block of 8 from one block of t */
        const float *s = t + ((size_t)(ch0 / tl) * L->rows + r) * ow * tl + ch0 % tl;
        float *d = out + ((size_t)b * L->oh + y) * ow * 8;
        const float *base = j == 0 ? bias : d;
        size_t bs = j == 0 ? 0 : 8;
        for (int x = 0; x < ow; x++) {
#pragma omp simd
            for (int o = 0; o < 8; o++) {
                float v = base[x * bs + o] + s[(size_t)x * tl + o];
                d[(size_t)x * 8 + o] = v > a * v ? v : a * v;
            }
        }
        return;
    }
    int lo = L->out_block == 8 ? 8 : 1;
    for (int o = 0; o < (lo == 8 ? 8 : L->cout); o++) {
        float *d = lo == 8 ? out + ((size_t)b * L->oh + y) * ow * 8 + o
                           : out + (((size_t)b * L->cout + o) * L->oh + y) * ow;
        if (o >= L->cout) { /* a block's padding lanes stay zero */
            if (j == 0)
                for (int x = 0; x < ow; x++) d[(size_t)x * lo] = 0;
            continue;
        }
        int ch = ch0 + o;
        const float *s = t + ((size_t)(ch / tl) * L->rows + r) * ow * tl + ch % tl;
        for (int x = 0; x < ow; x++) {
            float v = (j == 0 ? bias[o] : d[(size_t)x * lo]) + s[(size_t)x * tl];
            d[(size_t)x * lo] = v > a * v ? v : a * v;
        }
    }
}

/* Output rows y0 .. y1 - 1 of image b on thread `th`: t rows y0 ..
 * y1 + k - 2, `rows` at a time. Row y takes part j from t row y + j, so
 * its parts arrive in order j = 0, 1, ..., k - 1. */
static void band(const split_conv_layer *L, int th, const void *in, int b, int y0, int y1, float *out) {
    float *xin = L->buf + (L->in_elems + L->t_elems) * th, *t = xin + L->in_elems;
    int end = y1 + L->k - 1;
    for (int a = y0; a < end; a += L->rows) {
        int m = end - a < L->rows ? end - a : L->rows;
        pad_forward_rows(&L->pad, in, b, a, m, L->rows, xin);
        conv_forward(&L->conv[th], xin, t);
        for (int r = 0; r < m; r++)
            for (int j = 0; j < L->k; j++) {
                int y = a + r - j;
                if (y >= y0 && y < y1) add_part(L, t, r, j, b, y, out);
            }
    }
}

void split_conv_forward(const split_conv_layer *L, const void *in, float *out) {
    int per = (L->oh + L->threads - 1) / L->threads;
#pragma omp parallel num_threads(L->threads)
    {
        /* fewer threads than asked (a nested region): each takes more bands */
        int th = omp_get_thread_num(), nt = omp_get_num_threads();
        for (int b = 0; b < L->n; b++)
            for (int q = th; q < L->threads; q += nt) {
                int y0 = q * per, y1 = y0 + per < L->oh ? y0 + per : L->oh;
                if (y0 < y1) band(L, th, in, b, y0, y1, out);
            }
    }
}

void split_conv_weights_changed(split_conv_layer *L) {
    if (!L->wr) return;
    rearrange(L);
    for (int i = 0; i < L->threads; i++) conv_weights_changed(&L->conv[i]);
}

void split_conv_destroy(split_conv_layer *L) {
    if (L->conv)
        for (int i = 0; i < L->threads; i++) conv_destroy(&L->conv[i]);
    free(L->conv);
    free(L->wr);
    free(L->buf);
    memset(L, 0, sizeof *L);
}
