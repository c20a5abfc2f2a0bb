/* pool.c: max and average pooling with oneDNN, TensorFlow 'SAME' geometry:
 * out = ceil(in / s), padding split by same_padding(). Max pooling never
 * selects padding; the average divides by the number of real inputs in the
 * window (avg_exclude_padding), as TensorFlow does. Max backward routes dy
 * to the arg-max recorded in the workspace by the last forward. Input and
 * output in layout `block`: blocked layouts get oneDNN's jit kernels. */
#include <stdio.h>
#include <string.h>

#include <dnnl_debug.h>

#include "layers/layers.h"

int pool_setup(pool_layer *L, int kind, int n, int c, int h, int w, int k,
               int stride, int block, int bf16, nst_error *err) {
    memset(L, 0, sizeof *L);
    L->kind = kind, L->n = n, L->c = c, L->h = h, L->w = w, L->k = k, L->stride = stride;
    const char *name = kind == POOL_MAX ? "max" : "average";
    char shape[128];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d input, window %d, stride %d", n, c, h, w, k,
             stride);
    if ((kind != POOL_MAX && kind != POOL_AVG) || n < 1 || c < 1 || h < 1 || w < 1 || k < 1 ||
        stride < 1)
        return nst_fail(err, NST_ERR_INTERNAL, "%s pooling: invalid shape (%s)", name, shape);
    int pt, pb, pl, pr;
    same_padding(h, k, stride, &L->oh, &pt, &pb);
    same_padding(w, k, stride, &L->ow, &pl, &pr);

    dnnl_engine_t eng = dn_engine();
    if (!eng) return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot create the CPU engine");
    const dnnl_dims_t strides = {stride, stride}, kernel = {k, k}, pad_l = {pt, pl},
                      pad_r = {pb, pr};
    dnnl_memory_desc_t src_md, dst_md;
    dn_md(&src_md, n, c, h, w, block, bf16);
    dn_md(&dst_md, n, c, L->oh, L->ow, block, bf16);
    dnnl_alg_kind_t alg = kind == POOL_MAX ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;

    dnnl_primitive_desc_t fwd_pd = NULL, bwd_pd = NULL;
    dnnl_pooling_desc_t fd, bd;
    const char *what;
    dnnl_status_t st;
    /* forward_training makes max pooling record its arg-max workspace */
    what = "create the pooling forward primitive";
    if ((st = dnnl_pooling_forward_desc_init(&fd, dnnl_forward_training, alg, &src_md, &dst_md,
                                             strides, kernel, pad_l, pad_r)) != dnnl_success ||
        (st = dnnl_primitive_desc_create(&fwd_pd, &fd, NULL, eng, NULL)) != dnnl_success ||
        (st = dnnl_primitive_create(&L->fwd, fwd_pd)) != dnnl_success)
        goto fail;
    what = "create the pooling backward primitive";
    if ((st = dnnl_pooling_backward_desc_init(&bd, alg, &src_md, &dst_md, strides, kernel, pad_l,
                                              pad_r)) != dnnl_success ||
        (st = dnnl_primitive_desc_create(&bwd_pd, &bd, NULL, eng, fwd_pd)) != dnnl_success ||
        (st = dnnl_primitive_create(&L->bwd, bwd_pd)) != dnnl_success)
        goto fail;
    what = "allocate pooling memory";
    if ((st = dn_memory(&L->m_src, fwd_pd, dnnl_query_src_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dn_memory(&L->m_dst, fwd_pd, dnnl_query_dst_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dn_memory(&L->m_dsrc, bwd_pd, dnnl_query_diff_src_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dn_memory(&L->m_ddst, bwd_pd, dnnl_query_diff_dst_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (kind == POOL_MAX &&
         (st = dn_memory(&L->m_ws, fwd_pd, dnnl_query_workspace_md, DNNL_MEMORY_ALLOCATE)) != dnnl_success))
        goto fail;
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    return 0;
fail:
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    pool_destroy(L);
    return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot %s for %s pooling (%s; %s)", what, name,
                    shape, dnnl_status2str(st));
}

void pool_forward(pool_layer *L, const void *in, void *out) {
    dnnl_memory_set_data_handle(L->m_src, (void *)in);
    dnnl_memory_set_data_handle(L->m_dst, out);
    dnnl_exec_arg_t args[] = {
        {DNNL_ARG_SRC, L->m_src}, {DNNL_ARG_DST, L->m_dst}, {DNNL_ARG_WORKSPACE, L->m_ws}};
    dn_run(L->fwd, L->m_ws ? 3 : 2, args);
}

void pool_backward(pool_layer *L, const void *dout, void *din) {
    dnnl_memory_set_data_handle(L->m_ddst, (void *)dout);
    dnnl_memory_set_data_handle(L->m_dsrc, din);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_DIFF_DST, L->m_ddst},
                              {DNNL_ARG_DIFF_SRC, L->m_dsrc},
                              {DNNL_ARG_WORKSPACE, L->m_ws}};
    dn_run(L->bwd, L->m_ws ? 3 : 2, args);
}

void pool_destroy(pool_layer *L) {
    dnnl_primitive_destroy(L->fwd);
    dnnl_primitive_destroy(L->bwd);
    dnnl_memory_destroy(L->m_src);
    dnnl_memory_destroy(L->m_dst);
    dnnl_memory_destroy(L->m_dsrc);
    dnnl_memory_destroy(L->m_ddst);
    dnnl_memory_destroy(L->m_ws);
    memset(L, 0, sizeof *L);
}
