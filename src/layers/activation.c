/* activation.c: ReLU (alpha = 0), LeakyReLU and the scaled tanh output.
 *   y = x > 0 ? x : alpha x;   dx = dy * (y > 0 ? 1 : alpha)
 * The backward pass reads y (same sign as x for alpha >= 0), so the input
 * need not be kept; both loops are elementwise and may run in place. */
#include <math.h>
#include <string.h>

#include <dnnl_debug.h>

#include "layers/layers.h"

void act_forward(float alpha, size_t n, const float *in, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : alpha * in[i];
}

void act_backward(float alpha, size_t n, const float *out, const float *dout,
                  float *din) {
    for (size_t i = 0; i < n; i++) din[i] = out[i] > 0 ? dout[i] : alpha * dout[i];
}

/* The generators' output map: y = a tanh(x) + b (a 150, b 127.5 puts
 * [-1, 1] onto [-22.5, 277.5], the range Johnson et al.'s networks use).
 * tanh' = 1 - tanh^2, and tanh is recovered from y: t = (y - b) / a. */
void tanh_forward(size_t n, float a, float b, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = a * tanhf(x[i]) + b;
}

void tanh_backward(size_t n, float a, float b, const float *y, const float *dy,
                   float *dx) {
    for (size_t i = 0; i < n; i++) {
        float t = (y[i] - b) / a;
        dx[i] = dy[i] * a * (1 - t * t);
    }
}

/* The same ReLU / LeakyReLU as oneDNN eltwise primitives on any layout
 * (the loss-network plan's blocked activations), on both cores. The
 * *_use_dst_for_bwd algorithm is act_backward's: the gradient from y. */
int eltwise_setup(eltwise_layer *L, int kind, float alpha, int n, int c, int h, int w, int block,
                  int bf16, nst_error *err) {
    memset(L, 0, sizeof *L);
    dnnl_engine_t eng = dn_engine();
    if (!eng) return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot create the CPU engine");
    dnnl_memory_desc_t md;
    dn_md(&md, n, c, h, w, block, bf16);
    const dnnl_alg_kind_t alg =
        kind == ELTWISE_LOGISTIC ? dnnl_eltwise_logistic_use_dst_for_bwd : dnnl_eltwise_relu_use_dst_for_bwd;
    if (kind == ELTWISE_LOGISTIC) alpha = 0;
    dnnl_eltwise_desc_t fd, bd;
    dnnl_primitive_desc_t fwd_pd = NULL, bwd_pd = NULL;
    dnnl_status_t st;
    if ((st = dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, alg, &md, alpha, 0)) ==
            dnnl_success &&
        (st = dnnl_primitive_desc_create(&fwd_pd, &fd, NULL, eng, NULL)) == dnnl_success &&
        (st = dnnl_primitive_create(&L->fwd, fwd_pd)) == dnnl_success &&
        (st = dnnl_eltwise_backward_desc_init(&bd, alg, &md, &md, alpha, 0)) == dnnl_success &&
        (st = dnnl_primitive_desc_create(&bwd_pd, &bd, NULL, eng, fwd_pd)) == dnnl_success &&
        (st = dnnl_primitive_create(&L->bwd, bwd_pd)) == dnnl_success &&
        (st = dnnl_memory_create(&L->m_src, &md, eng, DNNL_MEMORY_NONE)) == dnnl_success &&
        (st = dnnl_memory_create(&L->m_dst, &md, eng, DNNL_MEMORY_NONE)) == dnnl_success &&
        (st = dnnl_memory_create(&L->m_ddst, &md, eng, DNNL_MEMORY_NONE)) == dnnl_success)
        st = dnnl_memory_create(&L->m_dsrc, &md, eng, DNNL_MEMORY_NONE);
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    if (st == dnnl_success) return 0;
    eltwise_destroy(L);
    return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot create the activation of a %dx%dx%dx%d tensor (%s)",
                    n, c, h, w, dnnl_status2str(st));
}

void eltwise_forward(eltwise_layer *L, const void *in, void *out) {
    dnnl_memory_set_data_handle(L->m_src, (void *)in);
    dnnl_memory_set_data_handle(L->m_dst, out);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, L->m_src}, {DNNL_ARG_DST, L->m_dst}};
    dn_run(L->fwd, 2, args);
}

void eltwise_backward(eltwise_layer *L, const void *out, const void *dout, void *din) {
    dnnl_memory_set_data_handle(L->m_dst, (void *)out);
    dnnl_memory_set_data_handle(L->m_ddst, (void *)dout);
    dnnl_memory_set_data_handle(L->m_dsrc, din);
    dnnl_exec_arg_t args[] = {
        {DNNL_ARG_DST, L->m_dst}, {DNNL_ARG_DIFF_DST, L->m_ddst}, {DNNL_ARG_DIFF_SRC, L->m_dsrc}};
    dn_run(L->bwd, 3, args);
}

void eltwise_destroy(eltwise_layer *L) {
    dnnl_primitive_destroy(L->fwd);
    dnnl_primitive_destroy(L->bwd);
    dnnl_memory_destroy(L->m_src);
    dnnl_memory_destroy(L->m_dst);
    dnnl_memory_destroy(L->m_ddst);
    dnnl_memory_destroy(L->m_dsrc);
    memset(L, 0, sizeof *L);
}
