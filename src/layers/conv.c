/* conv.c: 2-D convolution with oneDNN (wconv.c).
 *
 *   y[n][o][i][j] = b[o] + sum_{c,u,v} w[o][c][u][v] x[n][c][s*i+u-pt][s*j+v-pl]
 *   (x = 0 outside the input: zero padding pt, pl before, pb, pr after)
 *   dx = sum over the same terms of w * dy (oneDNN backward-data)
 *   dw[o][c][u][v] = sum_{n,i,j} dy[n][o][i][j] x[n][c][s*i+u-pt][s*j+v-pl],
 *   db[o] = sum_{n,i,j} dy[n][o][i][j] (oneDNN backward-weights) */
#include <string.h>

#include "layers/wconv.h"

static wconv_geom geom(const conv_layer *L) {
    return (wconv_geom){.transposed = 0, .n = L->n, .cin = L->cin, .h = L->h, .w = L->w,
                        .cout = L->cout, .oh = L->oh, .ow = L->ow, .kh = L->kh, .kw = L->kw,
                        .stride = L->stride, .pad_t = L->pad_t, .pad_l = L->pad_l,
                        .pad_b = L->pad_b, .pad_r = L->pad_r, .has_bias = L->bias != NULL,
                        .blocked = L->blocked, .block = L->block, .fuse = L->fuse,
                        .alpha = L->alpha, .bf16 = L->bf16, .groups = L->groups};
}

/* Shapes and primitives; the layout options are set in L already. */
static int setup(conv_layer *L, int n, int cin, int h, int w, int cout, int kh, int kw,
                 int stride, int pad_t, int pad_l, int pad_b, int pad_r, const float *weight,
                 const float *bias, nst_error *err) {
    L->n = n, L->cin = cin, L->h = h, L->w = w;
    L->cout = cout, L->kh = kh, L->kw = kw, L->stride = stride;
    L->pad_t = pad_t, L->pad_l = pad_l, L->pad_b = pad_b, L->pad_r = pad_r;
    L->weight = weight, L->bias = bias;
    if (n < 1 || cin < 1 || h < 1 || w < 1 || cout < 1 || kh < 1 || kw < 1 || stride < 1 || pad_t < 0 ||
        pad_l < 0 || pad_b < 0 || pad_r < 0 || h + pad_t + pad_b < kh || w + pad_l + pad_r < kw) {
        char shape[160];
        wconv_geom g = geom(L);
        wconv_describe(&g, shape, sizeof shape);
        return nst_fail(err, NST_ERR_INTERNAL, "convolution: invalid shape (%s)", shape);
    }
    /* out = floor((in + pads - k) / stride) + 1 */
    L->oh = (h + pad_t + pad_b - kh) / stride + 1;
    L->ow = (w + pad_l + pad_r - kw) / stride + 1;
    wconv_geom g = geom(L);
    return wconv_create(&L->p, &g, weight, bias, err);
}

int conv_setup(conv_layer *L, int n, int cin, int h, int w, int cout, int kh,
               int kw, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
               const float *weight, const float *bias, nst_error *err) {
    memset(L, 0, sizeof *L);
    L->block = L->dst_block = 1, L->groups = 1;
    return setup(L, n, cin, h, w, cout, kh, kw, stride, pad_t, pad_l, pad_b, pad_r, weight, bias,
                 err);
}

int conv_setup_blocked(conv_layer *L, int block, int bf16, int fuse, float alpha, int n, int cin, int h,
                       int w, int cout, int groups, int kh, int kw, int stride, int pad_t, int pad_l,
                       int pad_b, int pad_r, const float *weight, const float *bias,
                       nst_error *err) {
    memset(L, 0, sizeof *L);
    L->blocked = 1, L->block = block, L->bf16 = bf16, L->fuse = fuse, L->alpha = alpha;
    L->groups = groups;
    int rc = setup(L, n, cin, h, w, cout, kh, kw, stride, pad_t, pad_l, pad_b, pad_r, weight, bias,
                   err);
    if (rc) return rc;
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(L->p.m_dst, &md);
    L->dst_block = dn_block(md);
    return 0;
}

void conv_forward(conv_layer *L, const void *in, void *out) { wconv_forward(&L->p, in, out); }

void conv_backward(conv_layer *L, const void *dout, void *din) {
    wconv_backward(&L->p, dout, din);
}

int conv_enable_training(conv_layer *L, nst_error *err) {
    wconv_geom g = geom(L);
    return wconv_enable_training(&L->p, &g, err);
}

void conv_backward_weights(conv_layer *L, const float *in, const float *dout,
                           float *dweight, float *dbias) {
    wconv_backward_weights(&L->p, in, dout, dweight, dbias);
}

void conv_weights_changed(conv_layer *L) { wconv_weights_changed(&L->p); }

void conv_destroy(conv_layer *L) {
    wconv_destroy(&L->p);
    memset(L, 0, sizeof *L);
}
