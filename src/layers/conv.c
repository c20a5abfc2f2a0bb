/* conv.c: 2-D convolution with oneDNN (forward and gradient w.r.t. input).
 *
 *   y[n][o][i][j] = b[o] + sum_{c,u,v} w[o][c][u][v] x[n][c][s*i+u-pt][s*j+v-pl]
 *   (x = 0 outside the input: zero padding pt, pl before, pb, pr after)
 *   dx = sum over the same terms of w * dy (oneDNN backward-data)
 *
 * The weights are constant for the life of the layer, so they are reordered
 * once at setup into whatever layout each primitive prefers. Activations use
 * ACT_TAG on both sides, so layers chain without reorders. */
#include <stdio.h>
#include <string.h>

#include <dnnl_debug.h>

#include "layers/layers.h"

/* Layout of src/dst and their gradients. The activation memories take the
 * layout the primitives report, so moving to blocked layouts (nChw16c or
 * format_tag_any) is a change here plus reorders at the network's ends. */
#define ACT_TAG dnnl_nchw

/* dst = src in dst's layout, run once. */
static dnnl_status_t reorder_once(dnnl_memory_t src, dnnl_memory_t dst) {
    const dnnl_memory_desc_t *smd, *dmd;
    dnnl_memory_get_memory_desc(src, &smd);
    dnnl_memory_get_memory_desc(dst, &dmd);
    dnnl_engine_t eng = nst_dnnl_engine();
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, smd, eng, dmd, eng, NULL);
    if (st != dnnl_success) return st;
    dnnl_primitive_t r;
    st = dnnl_primitive_create(&r, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) return st;
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
    st = dnnl_primitive_execute(r, nst_dnnl_stream(), 2, args);
    if (st == dnnl_success) st = dnnl_stream_wait(nst_dnnl_stream());
    dnnl_primitive_destroy(r);
    return st;
}

int conv_setup(conv_layer *L, int n, int cin, int h, int w, int cout, int kh,
               int kw, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
               const float *weight, const float *bias, nst_error *err) {
    memset(L, 0, sizeof *L);
    L->n = n, L->cin = cin, L->h = h, L->w = w;
    L->cout = cout, L->kh = kh, L->kw = kw, L->stride = stride;
    L->pad_t = pad_t, L->pad_l = pad_l, L->pad_b = pad_b, L->pad_r = pad_r;
    L->weight = weight, L->bias = bias;
    char shape[256];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d input, %dx%dx%dx%d kernel, stride %d, padding %d,%d,%d,%d",
             n, cin, h, w, cout, cin, kh, kw, stride, pad_t, pad_l, pad_b, pad_r);
    if (n < 1 || cin < 1 || h < 1 || w < 1 || cout < 1 || kh < 1 || kw < 1 || stride < 1 || pad_t < 0 ||
        pad_l < 0 || pad_b < 0 || pad_r < 0 || h + pad_t + pad_b < kh || w + pad_l + pad_r < kw)
        return nst_fail(err, NST_ERR_RUNTIME, "convolution: invalid shape (%s)", shape);
    /* out = floor((in + pads - k) / stride) + 1 */
    L->oh = (h + pad_t + pad_b - kh) / stride + 1;
    L->ow = (w + pad_l + pad_r - kw) / stride + 1;

    dnnl_engine_t eng = nst_dnnl_engine();
    if (!eng) return nst_fail(err, NST_ERR_RUNTIME, "oneDNN: cannot create the CPU engine");

    const dnnl_dims_t src_dims = {n, cin, h, w}, wei_dims = {cout, cin, kh, kw},
                      bias_dims = {cout}, dst_dims = {n, cout, L->oh, L->ow};
    const dnnl_dims_t strides = {stride, stride}, pl = {pad_t, pad_l}, pr = {pad_b, pad_r};
    dnnl_memory_desc_t wei_user_md, wei_any_md, bias_md, src_act_md, dst_act_md;
    dnnl_memory_desc_init_by_tag(&src_act_md, 4, src_dims, dnnl_f32, ACT_TAG);
    dnnl_memory_desc_init_by_tag(&dst_act_md, 4, dst_dims, dnnl_f32, ACT_TAG);
    dnnl_memory_desc_init_by_tag(&wei_user_md, 4, wei_dims, dnnl_f32, dnnl_oihw);
    dnnl_memory_desc_init_by_tag(&wei_any_md, 4, wei_dims, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x);

    dnnl_primitive_desc_t fwd_pd = NULL, bwd_pd = NULL;
    dnnl_convolution_desc_t fd, bd;
    const char *what;
    dnnl_status_t st;
    /* forward_training: backward-data needs a training forward pd as hint */
    what = "create the convolution forward primitive";
    if ((st = dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                 dnnl_convolution_direct, &src_act_md, &wei_any_md,
                                                 bias ? &bias_md : NULL, &dst_act_md, strides, pl,
                                                 pr)) != dnnl_success ||
        (st = dnnl_primitive_desc_create(&fwd_pd, &fd, NULL, eng, NULL)) != dnnl_success ||
        (st = dnnl_primitive_create(&L->fwd, fwd_pd)) != dnnl_success)
        goto fail;
    what = "create the convolution backward-data primitive";
    if ((st = dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &src_act_md,
                                                       &wei_any_md, &dst_act_md, strides, pl,
                                                       pr)) != dnnl_success ||
        (st = dnnl_primitive_desc_create(&bwd_pd, &bd, NULL, eng, fwd_pd)) != dnnl_success ||
        (st = dnnl_primitive_create(&L->bwd_data, bwd_pd)) != dnnl_success)
        goto fail;
    what = "allocate convolution memory";
    if ((st = nst_dnnl_memory(&L->m_src, fwd_pd, dnnl_query_src_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = nst_dnnl_memory(&L->m_dst, fwd_pd, dnnl_query_dst_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = nst_dnnl_memory(&L->m_dsrc, bwd_pd, dnnl_query_diff_src_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = nst_dnnl_memory(&L->m_ddst, bwd_pd, dnnl_query_diff_dst_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = nst_dnnl_memory(&L->m_wei_fwd, fwd_pd, dnnl_query_weights_md, DNNL_MEMORY_ALLOCATE)) != dnnl_success ||
        (st = nst_dnnl_memory(&L->m_wei_bwd, bwd_pd, dnnl_query_weights_md, DNNL_MEMORY_ALLOCATE)) != dnnl_success ||
        (st = dnnl_memory_create(&L->m_wei, &wei_user_md, eng, (void *)weight)) != dnnl_success ||
        (bias && (st = dnnl_memory_create(&L->m_bias, &bias_md, eng, (void *)bias)) != dnnl_success))
        goto fail;
    what = "reorder convolution weights";
    if ((st = reorder_once(L->m_wei, L->m_wei_fwd)) != dnnl_success ||
        (st = reorder_once(L->m_wei, L->m_wei_bwd)) != dnnl_success)
        goto fail;
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    return 0;
fail:
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    conv_destroy(L);
    return nst_fail(err, NST_ERR_RUNTIME, "oneDNN: cannot %s (%s; %s)", what, shape,
                    dnnl_status2str(st));
}

void conv_forward(conv_layer *L, const float *in, float *out) {
    dnnl_memory_set_data_handle(L->m_src, (void *)in);
    dnnl_memory_set_data_handle(L->m_dst, out);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, L->m_src},
                              {DNNL_ARG_WEIGHTS, L->m_wei_fwd},
                              {DNNL_ARG_DST, L->m_dst},
                              {DNNL_ARG_BIAS, L->m_bias}};
    nst_dnnl_run(L->fwd, L->m_bias ? 4 : 3, args);
}

void conv_backward(conv_layer *L, const float *dout, float *din) {
    dnnl_memory_set_data_handle(L->m_ddst, (void *)dout);
    dnnl_memory_set_data_handle(L->m_dsrc, din);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_DIFF_DST, L->m_ddst},
                              {DNNL_ARG_WEIGHTS, L->m_wei_bwd},
                              {DNNL_ARG_DIFF_SRC, L->m_dsrc}};
    nst_dnnl_run(L->bwd_data, 3, args);
}

void conv_destroy(conv_layer *L) {
    dnnl_primitive_destroy(L->fwd);
    dnnl_primitive_destroy(L->bwd_data);
    dnnl_memory_destroy(L->m_src);
    dnnl_memory_destroy(L->m_wei);
    dnnl_memory_destroy(L->m_bias);
    dnnl_memory_destroy(L->m_dst);
    dnnl_memory_destroy(L->m_wei_fwd);
    dnnl_memory_destroy(L->m_wei_bwd);
    dnnl_memory_destroy(L->m_dsrc);
    dnnl_memory_destroy(L->m_ddst);
    memset(L, 0, sizeof *L);
}
