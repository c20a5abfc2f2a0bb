/* deconv.c: transposed convolution, TensorFlow conv2d_transpose 'SAME':
 * the adjoint of the stride-s 'SAME' convolution that maps an (h*s) x (w*s)
 * image to h x w. That convolution pads same_padding(h*s, k, s): total
 * k - s (for k >= s), before = total / 2, so
 *   y[n][o][s*i+u-pt][s*j+v-pl] += w[c][o][u][v] x[n][c][i][j]  (+ b[o])
 * keeping the output rows 0 .. h*s-1: the full (h-1)*s+k output cropped by
 * pt before and pb after (oneDNN deconvolution with padding pt, pb). For
 * k 3, s 2: pt = 0, pb = 1, PyTorch ConvTranspose2d(stride 2) cropped to the
 * first 2h x 2w. k < s would need negative padding and is rejected. */
#include <string.h>

#include "layers/wconv.h"

static wconv_geom geom(const deconv_layer *L) {
    return (wconv_geom){.transposed = 1, .n = L->n, .cin = L->cin, .h = L->h, .w = L->w,
                        .cout = L->cout, .oh = L->oh, .ow = L->ow, .kh = L->k, .kw = L->k,
                        .stride = L->stride, .pad_t = L->pad_t, .pad_l = L->pad_l,
                        .pad_b = L->pad_b, .pad_r = L->pad_r, .has_bias = L->bias != NULL,
                        .blocked = L->block != 1, .block = L->block};
}

int deconv_setup(deconv_layer *L, int block, int n, int cin, int h, int w, int cout, int k,
                 int stride, const float *weight, const float *bias, nst_error *err) {
    memset(L, 0, sizeof *L);
    L->block = L->dst_block = block;
    L->n = n, L->cin = cin, L->h = h, L->w = w, L->cout = cout, L->k = k, L->stride = stride;
    L->weight = weight, L->bias = bias;
    if (n < 1 || cin < 1 || h < 1 || w < 1 || cout < 1 || stride < 1 || k < stride) {
        char shape[160];
        wconv_geom g = geom(L);
        wconv_describe(&g, shape, sizeof shape);
        return nst_fail(err, NST_ERR_INTERNAL,
                        "transposed convolution: invalid shape (%s; the kernel must not be "
                        "smaller than the stride)", shape);
    }
    int in_h, in_w; /* = h, w: ceil(h * s / s) */
    L->oh = h * stride, L->ow = w * stride;
    same_padding(L->oh, k, stride, &in_h, &L->pad_t, &L->pad_b);
    same_padding(L->ow, k, stride, &in_w, &L->pad_l, &L->pad_r);
    wconv_geom g = geom(L);
    int rc = wconv_create(&L->p, &g, weight, bias, err);
    if (!rc) {
        const dnnl_memory_desc_t *md;
        dnnl_memory_get_memory_desc(L->p.m_dst, &md);
        L->dst_block = dn_block(md);
    }
    return rc;
}

void deconv_forward(deconv_layer *L, const float *in, float *out) {
    wconv_forward(&L->p, in, out);
}

void deconv_backward(deconv_layer *L, const float *dout, float *din) {
    wconv_backward(&L->p, dout, din);
}

int deconv_enable_training(deconv_layer *L, nst_error *err) {
    wconv_geom g = geom(L);
    return wconv_enable_training(&L->p, &g, err);
}

void deconv_backward_weights(deconv_layer *L, const float *in, const float *dout,
                             float *dweight, float *dbias) {
    wconv_backward_weights(&L->p, in, dout, dweight, dbias);
}

void deconv_weights_changed(deconv_layer *L) { wconv_weights_changed(&L->p); }

void deconv_destroy(deconv_layer *L) {
    wconv_destroy(&L->p);
    memset(L, 0, sizeof *L);
}
