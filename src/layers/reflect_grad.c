/* reflect_grad.c: the input gradient of a stride-1 k x k convolution (k =
 * 2p + 1) of a reflect-padded input, without the padded gradient.
 *
 * Forward: y[o][i][j] = sum_{c,u,v} W[o][c][u][v] P[c][i+u][j+v] with
 * P[c][a][b] = x[c][r(a-p)][r(b-p)], r the reflection into the input. The
 * gradient of P is V = K^T dy,
 *   V[c][a][b] = sum_{o,u,v} W[o][c][u][v] dy[o][a-u][b-v] (dy = 0 outside),
 * and dx folds it back: dx[c][s][t] = sum of V[c][a][b] over r(a-p) = s,
 * r(b-p) = t. The interior of V (a-p, b-p inside the input) is a plain
 * convolution of dy with zero padding p and the flipped, transposed kernel
 *   W'[c][o][u][v] = W[o][c][k-1-u][k-1-v],
 * written by oneDNN straight into dx; the border of V (2p rows and columns,
 * a sliver of the work on a large map) is computed here and added where it
 * reflects to. oneDNN's forward Winograd kernel takes that convolution at
 * padding p (its backward-data is slower), and no padded gradient is written
 * and copied back. */
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

static int reflect(int x, int n) { return x < 0 ? -x : x >= n ? 2 * (n - 1) - x : x; }

int reflect_grad_setup(reflect_grad_layer *L, int in_block, int out_block, int n, int cin, int h,
                       int w, int cout, int k, const float *weight, nst_error *err) {
    memset(L, 0, sizeof *L);
    int p = (k - 1) / 2, lanes = block_elems(in_block, cin);
    int cinp = (cin + lanes - 1) / lanes * lanes;
    *L = (reflect_grad_layer){.n = n, .cin = cin, .cout = cout, .h = h, .w = w, .k = k, .p = p,
                              .in_block = in_block, .out_block = out_block, .cinp = cinp};
    if (k % 2 == 0 || p >= h || p >= w)
        return nst_fail(err, NST_ERR_ARG, "reflect gradient: a %dx%d kernel on a %dx%d input",
                        k, k, w, h);
    size_t kk = (size_t)k * k;
    L->wt = malloc(kk * cin * cout * sizeof(float));
    L->wb = calloc(kk * cout * cinp, sizeof(float));
    if (!L->wt || !L->wb) {
        reflect_grad_destroy(L);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%dx%dx%d kernel", cout, cin, k, k);
    }
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (size_t uv = 0; uv < kk; uv++) {
                float v = weight[((size_t)o * cin + c) * kk + uv];
                L->wt[((size_t)c * cout + o) * kk + (kk - 1 - uv)] = v; /* flipped: u, v -> k-1-u, k-1-v */
                L->wb[(uv * cout + o) * cinp + c] = v;
            }
    int rc = conv_setup_blocked(&L->tconv, out_block, 0, 0, 0, n, cout, h, w, cin, 1, k, k, 1, p, p, p,
                                p, L->wt, NULL, err);
    if (!rc && L->tconv.dst_block != in_block)
        rc = nst_fail(err, NST_ERR_INTERNAL, "reflect gradient: oneDNN writes layout %d, not %d",
                      L->tconv.dst_block, in_block);
    if (rc) reflect_grad_destroy(L);
    return rc;
}

/* acc[l] += sum_o wb[o][l] dy_o for one tap, lanes l of one channel block
 * (dy_o: pixel d of dy, whose channel blocks are oplane floats apart). */
static void tap(int lanes, int cout, int cinp, int olanes, const float *wb, const float *d,
                size_t oplane, float *acc) {
    for (int o = 0; o < cout; o++) {
        const float dy = d[(size_t)(o / olanes) * oplane + o % olanes], *w = wb + (size_t)o * cinp;
        for (int l = 0; l < lanes; l++) acc[l] += dy * w[l];
    }
}

/* The same for 16 lanes (AVX-512's block) in GCC vector types, so that the
 * sums stay in registers: four partial sums, over o = 0, 1, 2, 3 mod 4,
 * keep four FMA chains in flight instead of one waiting on the last. */
typedef float v8 __attribute__((vector_size(32), aligned(4)));
static void tap16(int cout, int cinp, int olanes, const float *wb, const float *d, size_t oplane,
                  float *acc) {
    v8 a0 = {0}, b0 = {0}, a1 = {0}, b1 = {0}, a2 = {0}, b2 = {0}, a3 = {0}, b3 = {0};
    for (int o0 = 0; o0 < cout; o0 += olanes, d += oplane) {
        const int m = cout - o0 < olanes ? cout - o0 : olanes;
        const float *w = wb + (size_t)o0 * cinp;
        int ol = 0;
        for (; ol + 4 <= m; ol += 4, w += 4 * (size_t)cinp) {
            const v8 *w0 = (const v8 *)w, *w1 = (const v8 *)(w + cinp);
            const v8 *w2 = (const v8 *)(w + 2 * (size_t)cinp), *w3 = (const v8 *)(w + 3 * (size_t)cinp);
            a0 += d[ol] * w0[0], b0 += d[ol] * w0[1];
            a1 += d[ol + 1] * w1[0], b1 += d[ol + 1] * w1[1];
            a2 += d[ol + 2] * w2[0], b2 += d[ol + 2] * w2[1];
            a3 += d[ol + 3] * w3[0], b3 += d[ol + 3] * w3[1];
        }
        for (; ol < m; ol++, w += cinp) {
            const v8 *wk = (const v8 *)w;
            a0 += d[ol] * wk[0], b0 += d[ol] * wk[1];
        }
    }
    v8 lo = (a0 + a1) + (a2 + a3), hi = (b0 + b1) + (b2 + b3);
    for (int l = 0; l < 8; l++) acc[l] += lo[l], acc[8 + l] += hi[l];
}

void reflect_grad_backward(reflect_grad_layer *L, const float *dy, float *dx) {
    conv_forward(&L->tconv, dy, dx);
    int k = L->k, p = L->p, h = L->h, w = L->w, ph = h + 2 * p, pw = w + 2 * p;
    int lanes = block_elems(L->in_block, L->cin), olanes = block_elems(L->out_block, L->cout);
    int cb = L->cinp / lanes, ocb = (L->cout + olanes - 1) / olanes;
    size_t oplane = (size_t)h * w * olanes; /* floats between dy's channel blocks */
    /* one channel block of dx per task: border positions reflecting to the
     * same pixel then never race */
#pragma omp parallel for schedule(static)
    for (int t = 0; t < L->n * cb; t++) {
        int im = t / cb, b = t % cb;
        const float *dyi = dy + (size_t)im * ocb * oplane;
        float *dxb = dx + ((size_t)im * cb + b) * h * w * lanes;
        float acc[lanes];
        for (int a = 0; a < ph; a++) {
            int edge_row = a < p || a >= h + p;
            for (int c = 0; c < pw; c++) {
                if (!edge_row && c == p) c = w + p; /* the interior is oneDNN's */
                for (int l = 0; l < lanes; l++) acc[l] = 0;
                for (int u = 0; u < k; u++)
                    for (int v = 0; v < k; v++) {
                        int y = a - u, x = c - v;
                        if (y < 0 || y >= h || x < 0 || x >= w) continue;
                        const float *wb = L->wb + (size_t)(u * k + v) * L->cout * L->cinp + b * lanes;
                        const float *d = dyi + ((size_t)y * w + x) * olanes;
                        if (lanes == 16) tap16(L->cout, L->cinp, olanes, wb, d, oplane, acc);
                        else tap(lanes, L->cout, L->cinp, olanes, wb, d, oplane, acc);
                    }
                float *q = dxb + ((size_t)reflect(a - p, h) * w + reflect(c - p, w)) * lanes;
                for (int l = 0; l < lanes; l++) q[l] += acc[l];
            }
        }
    }
}

void reflect_grad_destroy(reflect_grad_layer *L) {
    conv_destroy(&L->tconv);
    free(L->wt);
    free(L->wb);
    memset(L, 0, sizeof *L);
}
