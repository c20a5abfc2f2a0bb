/* split_conv.c: a k x k convolution with few output channels (a style
 * network's last layer: 8 or 32 channels to RGB through 9 x 9) as a 1 x k
 * convolution to k cout channels followed by a sum of shifted rows:
 *   t[n][j cout + o][r][x] = sum_{c,v} w[o][c][j][v] x[n][c][r][x + v]
 *   y[n][o][r][x] = b[o] + sum_j t[n][j cout + o][r + j][x]
 * which is the same sum in another order. oneDNN vectorises a convolution
 * over its output channels: with 3 of them its direct kernels run at a
 * seventh of the peak, with 27 near it; the whole split is 2.2-3x faster
 * (bench/bench_split_conv). The row sum reads t once from cache-sized row
 * windows. Forward only; float32. */
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

int split_conv_setup(split_conv_layer *L, int block, int n, int cin, int h, int w, int cout, int k,
                     const float *weight, const float *bias, nst_error *err) {
    memset(L, 0, sizeof *L);
    L->n = n, L->cin = cin, L->h = h, L->w = w, L->cout = cout, L->k = k;
    L->oh = h - k + 1, L->ow = w - k + 1;
    L->weight = weight, L->bias = bias;
    if (L->oh < 1 || L->ow < 1)
        return nst_fail(err, NST_ERR_RUNTIME, "split convolution: a %dx%d map is smaller than its %dx%d kernel",
                        w, h, k, k);
    L->wr = malloc((size_t)k * cout * cin * k * sizeof *L->wr);
    if (!L->wr) return nst_fail(err, NST_ERR_RUNTIME, "out of memory for a %dx%d convolution's weights", k, k);
    rearrange(L);
    int rc = conv_setup_blocked(&L->rows, block, 0, POST_NONE, 0, n, cin, h, w, k * cout, 1, 1, k, 1, 0, 0,
                                0, 0, L->wr, NULL, err);
    if (rc) {
        split_conv_destroy(L);
        return rc;
    }
    L->tmp_block = L->rows.dst_block;
    L->tmp_bytes = nst_blocked_numel(n, k * cout, h, L->ow, L->tmp_block) * sizeof(float);
    return NST_OK;
}

void split_conv_forward(split_conv_layer *L, const void *in, float *tmp, float *out) {
    conv_forward(&L->rows, in, tmp);
    int C = L->k * L->cout, lanes = nst_block_elems(L->tmp_block, C), cb = (C + lanes - 1) / lanes;
    int oh = L->oh, ow = L->ow, h = L->h;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < L->n; b++)
        for (int r = 0; r < oh; r++)
            for (int o = 0; o < L->cout; o++) {
                float *y = out + (((size_t)b * L->cout + o) * oh + r) * ow;
                float bias = L->bias ? L->bias[o] : 0;
                for (int x = 0; x < ow; x++) y[x] = bias;
                for (int j = 0; j < L->k; j++) {
                    int ch = j * L->cout + o;
                    const float *t = tmp + (((size_t)b * cb + ch / lanes) * h + r + j) * ow * lanes + ch % lanes;
                    for (int x = 0; x < ow; x++) y[x] += t[(size_t)x * lanes];
                }
            }
}

void split_conv_weights_changed(split_conv_layer *L) {
    if (!L->wr) return;
    rearrange(L);
    conv_weights_changed(&L->rows);
}

void split_conv_destroy(split_conv_layer *L) {
    conv_destroy(&L->rows);
    free(L->wr);
    memset(L, 0, sizeof *L);
}
