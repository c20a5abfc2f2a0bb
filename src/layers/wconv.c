/* wconv.c: oneDNN primitives of a convolution or transposed convolution
 * (oneDNN "deconvolution", whose descriptors have the same shape), created
 * once per layer.
 *
 * Weights: the primitives may want them in a blocked layout, so each gets a
 * copy in its own layout, filled by a reorder primitive kept for the life of
 * the layer; wconv_weights_changed re-runs the reorders after the caller
 * updated the weights in place (training), allocating nothing. When the
 * wanted layout is the caller's, the copy aliases the caller's buffer and
 * there is nothing to re-run. Weight gradients end in the caller's layout
 * (see wconv_enable_training). */
#include <stdio.h>
#include <string.h>

#include <dnnl_debug.h>

#include "layers/wconv.h"

/* Activation layouts: NCHW throughout, or (g->blocked) src in layout
 * g->block and dst in the one oneDNN picks (format_tag_any: nChw16c on
 * AVX-512, where its jit direct kernels run instead of im2col + GEMM). The
 * gradients take the same layouts, except for block 0, the image: an NCHW
 * src whose diff_src takes oneDNN's layout, as it has no fast backward-data
 * into NCHW. With g->bf16 (blocked only) activations, their gradients and
 * the primitives' weights are bfloat16; the caller's weights and the bias
 * stay float32 (the weight reorders convert). */
typedef struct {
    dnnl_memory_desc_t src, dst, dsrc, wei_user, wei_any, bias;
    dnnl_dims_t strides, pad_l, pad_r;
    dnnl_alg_kind_t alg;
} wconv_descs;

static void make_descs(const wconv_geom *g, wconv_descs *d) {
    const dnnl_dims_t src = {g->n, g->cin, g->h, g->w}, dst = {g->n, g->cout, g->oh, g->ow},
                      wei = {g->cout, g->cin, g->kh, g->kw}, bias = {g->cout};
    int G = g->groups > 1 ? g->groups : 1;
    const dnnl_dims_t gwei = {G, g->cout / G, g->cin / G, g->kh, g->kw};
    dnnl_data_type_t dt = g->bf16 ? dnnl_bf16 : dnnl_f32;
    dn_md(&d->src, g->n, g->cin, g->h, g->w, g->blocked && g->block ? g->block : 1, g->bf16);
    /* bf16: channels-last, where oneDNN runs its AMX kernels */
    dnnl_memory_desc_init_by_tag(&d->dst, 4, dst, dt,
                                 !g->blocked ? dnnl_nchw : g->bf16 ? dnnl_nhwc : dnnl_format_tag_any);
    d->dsrc = d->src;
    if (g->blocked && g->block == 0)
        dnnl_memory_desc_init_by_tag(&d->dsrc, 4, src, dt, dnnl_format_tag_any);
    if (G > 1) { /* [cout][cin / G][kh][kw] is goihw */
        dnnl_memory_desc_init_by_tag(&d->wei_user, 5, gwei, dnnl_f32, dnnl_goihw);
        dnnl_memory_desc_init_by_tag(&d->wei_any, 5, gwei, dt, dnnl_format_tag_any);
    } else {
        dnnl_memory_desc_init_by_tag(&d->wei_user, 4, wei, dnnl_f32,
                                     g->transposed ? dnnl_iohw : dnnl_oihw);
        dnnl_memory_desc_init_by_tag(&d->wei_any, 4, wei, dt, dnnl_format_tag_any);
    }
    dnnl_memory_desc_init_by_tag(&d->bias, 1, bias, dnnl_f32, dnnl_x);
    d->strides[0] = d->strides[1] = g->stride;
    d->pad_l[0] = g->pad_t, d->pad_l[1] = g->pad_l;
    d->pad_r[0] = g->pad_b, d->pad_r[1] = g->pad_r;
    d->alg = g->transposed ? dnnl_deconvolution_direct : dnnl_convolution_direct;
}

/* Winograd F(4x4, 3x3) does 2.25x fewer multiplications than the direct
 * 3x3 convolution, but its transforms cost memory traffic: measured with
 * oneDNN 2.6 on AVX-512 (forward and backward-data), it wins from 64
 * channels in and out and about 150k input elements per image; smaller
 * layers (darknet-tiny's first ones, VGG's at the deepest level of small
 * images) stay direct. Float32 only: oneDNN has no bf16 Winograd. */
static int wants_winograd(const wconv_geom *g) {
    return g->blocked && g->block && !g->bf16 && !g->transposed && g->groups <= 1 && g->kh == 3 && g->kw == 3 &&
           g->stride == 1 && g->cin >= 64 && g->cout >= 64 && (long)g->cin * g->oh * g->ow >= 150000;
}

const char *wconv_name(const wconv_geom *g) {
    return g->transposed ? "transposed convolution" : "convolution";
}

void wconv_describe(const wconv_geom *g, char *buf, size_t len) {
    snprintf(buf, len, "%dx%dx%dx%d input, %d->%d channels in %d groups, %dx%d kernel, stride %d, "
             "padding %d,%d,%d,%d", g->n, g->cin, g->h, g->w, g->cin, g->cout, g->groups > 1 ? g->groups : 1,
             g->kh, g->kw, g->stride, g->pad_t, g->pad_l, g->pad_b, g->pad_r);
}

static int fail(const wconv_geom *g, const char *what, dnnl_status_t st, nst_error *err) {
    char shape[160];
    wconv_describe(g, shape, sizeof shape);
    return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot %s for a %s (%s; %s)", what, wconv_name(g),
                    shape, dnnl_status2str(st));
}

/* *copy: the weights in the layout `pd` wants; aliases the caller's buffer
 * (user) when that is the layout, else owns a buffer and *reo fills it. */
static dnnl_status_t weight_copy(dnnl_memory_t *copy, dnnl_primitive_t *reo,
                                 const_dnnl_primitive_desc_t pd, dnnl_memory_t user) {
    dnnl_engine_t eng = dn_engine();
    const dnnl_memory_desc_t *umd, *md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    void *handle;
    dnnl_memory_get_memory_desc(user, &umd);
    dnnl_memory_get_data_handle(user, &handle);
    if (dnnl_memory_desc_equal(md, umd)) return dnnl_memory_create(copy, md, eng, handle);
    dnnl_status_t st = dnnl_memory_create(copy, md, eng, DNNL_MEMORY_ALLOCATE);
    if (st != dnnl_success) return st;
    dnnl_primitive_desc_t rpd;
    if ((st = dnnl_reorder_primitive_desc_create(&rpd, umd, eng, md, eng, NULL)) != dnnl_success)
        return st;
    st = dnnl_primitive_create(reo, rpd);
    dnnl_primitive_desc_destroy(rpd);
    return st;
}

/* The forward pd, forward_training: the backward primitives need it as
 * hint. With g->fuse the activation runs as a post-op on the output:
 * ReLU (slope alpha), ReLU6 as clip(x, 0, 6), sigmoid as logistic. */
static dnnl_status_t forward_pd(dnnl_primitive_desc_t *pd, const wconv_geom *g,
                                const wconv_descs *d) {
    dnnl_status_t (*init)(dnnl_convolution_desc_t *, dnnl_prop_kind_t, dnnl_alg_kind_t,
                          const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
                          const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
                          const dnnl_dims_t, const dnnl_dims_t, const dnnl_dims_t) =
        g->transposed ? dnnl_deconvolution_forward_desc_init : dnnl_convolution_forward_desc_init;
    dnnl_convolution_desc_t fd;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t st = init(&fd, dnnl_forward_training, d->alg, &d->src, &d->wei_any,
                            g->has_bias ? &d->bias : NULL, &d->dst, d->strides, d->pad_l, d->pad_r);
    if (st == dnnl_success && g->fuse &&
        (st = dnnl_primitive_attr_create(&attr)) == dnnl_success &&
        (st = dnnl_post_ops_create(&po)) == dnnl_success &&
        (st = dnnl_post_ops_append_eltwise(
             po, 1.0f,
             g->fuse == POST_RELU6 ? dnnl_eltwise_clip : g->fuse == POST_SIGMOID ? dnnl_eltwise_logistic
                                                                                  : dnnl_eltwise_relu,
             g->fuse == POST_RELU ? g->alpha : 0, g->fuse == POST_RELU6 ? 6.0f : 0)) == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &fd, attr, dn_engine(), NULL);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* The forward and backward-data primitive descriptors for d->alg; d->dst
 * becomes the output layout chosen. On failure *what names the step. */
static dnnl_status_t create_pds(dnnl_primitive_desc_t *fwd_pd, dnnl_primitive_desc_t *bwd_pd,
                                const wconv_geom *g, wconv_descs *d, const char **what) {
    dnnl_status_t (*bwd_init)(dnnl_convolution_desc_t *, dnnl_alg_kind_t,
                              const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
                              const dnnl_memory_desc_t *, const dnnl_dims_t, const dnnl_dims_t,
                              const dnnl_dims_t) =
        g->transposed ? dnnl_deconvolution_backward_data_desc_init
                      : dnnl_convolution_backward_data_desc_init;
    dnnl_convolution_desc_t bd;
    *fwd_pd = *bwd_pd = NULL;
    *what = "create the forward primitive";
    dnnl_status_t st = forward_pd(fwd_pd, g, d);
    int got = st == dnnl_success && g->blocked
                  ? dn_block(dnnl_primitive_desc_query_md(*fwd_pd, dnnl_query_dst_md, 0))
                  : 1;
    const char *impl = "";
    if (st == dnnl_success) dnnl_primitive_desc_query(*fwd_pd, dnnl_query_impl_info_str, 0, &impl);
    int ref = g->blocked && !strncmp(impl, "ref", 3);
    if (!got || ref || (!g->bf16 && ((got == NST_NHWC && g->cout > 4) || (got == 16 && g->cout <= 8 && g->cout > 4)))) {
        /* A layout that the plan's reflect padding cannot walk (NCHW it
         * is), or in float32 one the next convolution would find no jit
         * kernel for, running oneDNN's reference code hundreds of times
         * slower: channels-last (oneDNN's choice for a few channels) or 8
         * channels padded to 16. Blocks of 8 for up to 8 channels, else 16,
         * else the other, else NCHW: the first this convolution has a jit
         * kernel for. An image's 3 channels keep oneDNN's choice: only the
         * plan's own loops read them. */
        const int first = g->cout <= 8 ? 8 : 16, tries[3] = {first, 24 - first, 1};
        dnnl_primitive_desc_t best = NULL;
        for (int t = got ? 0 : 2; t < 3; t++) {
            dnnl_primitive_desc_t pd = NULL;
            dn_md(&d->dst, g->n, g->cout, g->oh, g->ow, tries[t], g->bf16);
            if (forward_pd(&pd, g, d) != dnnl_success) continue;
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
            if (strncmp(impl, "ref", 3) || t == 2) {
                best = pd;
                break;
            }
            dnnl_primitive_desc_destroy(pd);
        }
        if (best) {
            dnnl_primitive_desc_destroy(*fwd_pd);
            *fwd_pd = best;
        } else if (!got) {
            st = dnnl_unimplemented;
        }
    }
    if (st != dnnl_success) return st;
    d->dst = *dnnl_primitive_desc_query_md(*fwd_pd, dnnl_query_dst_md, 0);
    *what = "create the backward-data primitive";
    if ((st = bwd_init(&bd, d->alg, &d->dsrc, &d->wei_any, &d->dst, d->strides, d->pad_l,
                       d->pad_r)) == dnnl_success)
        st = dnnl_primitive_desc_create(bwd_pd, &bd, NULL, dn_engine(), *fwd_pd);
    return st;
}

int wconv_create(wconv_state *P, const wconv_geom *g, const float *weight, const float *bias,
                 nst_error *err) {
    memset(P, 0, sizeof *P);
    dnnl_engine_t eng = dn_engine();
    if (!eng) return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot create the CPU engine");
    wconv_descs d;
    make_descs(g, &d);
    dnnl_primitive_desc_t fwd_pd = NULL, bwd_pd = NULL;
    const char *what;
    dnnl_status_t st = dnnl_unimplemented;
    if (wants_winograd(g)) {
        d.alg = dnnl_convolution_winograd;
        if ((st = create_pds(&fwd_pd, &bwd_pd, g, &d, &what)) != dnnl_success) {
            /* not for this shape or post-op: direct it is */
            dnnl_primitive_desc_destroy(fwd_pd);
            dnnl_primitive_desc_destroy(bwd_pd);
            make_descs(g, &d);
        }
    }
    if (st != dnnl_success) st = create_pds(&fwd_pd, &bwd_pd, g, &d, &what);
    if (st != dnnl_success || (st = dnnl_primitive_create(&P->fwd, fwd_pd)) != dnnl_success ||
        (st = dnnl_primitive_create(&P->bwd_data, bwd_pd)) != dnnl_success)
        goto done;
    what = "allocate memory";
    if ((st = dn_memory(&P->m_src, fwd_pd, dnnl_query_src_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dn_memory(&P->m_dst, fwd_pd, dnnl_query_dst_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dn_memory(&P->m_dsrc, bwd_pd, dnnl_query_diff_src_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dn_memory(&P->m_ddst, bwd_pd, dnnl_query_diff_dst_md, DNNL_MEMORY_NONE)) != dnnl_success ||
        (st = dnnl_memory_create(&P->m_wei, &d.wei_user, eng, (void *)weight)) != dnnl_success ||
        (g->has_bias && (st = dnnl_memory_create(&P->m_bias, &d.bias, eng, (void *)bias)) != dnnl_success))
        goto done;
    what = "reorder the weights";
    if ((st = weight_copy(&P->m_wei_fwd, &P->reo_fwd, fwd_pd, P->m_wei)) != dnnl_success ||
        (st = weight_copy(&P->m_wei_bwd, &P->reo_bwd, bwd_pd, P->m_wei)) != dnnl_success)
        goto done;
    wconv_weights_changed(P);
done:
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    if (st == dnnl_success) return 0;
    wconv_destroy(P);
    return fail(g, what, st, err);
}

int wconv_enable_training(wconv_state *P, const wconv_geom *g, nst_error *err) {
    if (P->bwd_weights) return 0;
    wconv_descs d;
    make_descs(g, &d);
    dnnl_status_t (*init)(dnnl_convolution_desc_t *, dnnl_alg_kind_t, const dnnl_memory_desc_t *,
                          const dnnl_memory_desc_t *, const dnnl_memory_desc_t *,
                          const dnnl_memory_desc_t *, const dnnl_dims_t, const dnnl_dims_t,
                          const dnnl_dims_t) =
        g->transposed ? dnnl_deconvolution_backward_weights_desc_init
                      : dnnl_convolution_backward_weights_desc_init;
    dnnl_engine_t eng = dn_engine();
    const_dnnl_primitive_desc_t fwd_pd;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_convolution_desc_t wd;
    dnnl_status_t st;
    if ((st = dnnl_primitive_get_primitive_desc(P->fwd, &fwd_pd)) != dnnl_success) goto done;
    /* the activations as the forward has them (its dst was format_tag_any) */
    d.src = *dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_src_md, 0);
    d.dst = *dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_dst_md, 0);
    /* NCHW: diff weights straight into the caller's layout (oneDNN has a
     * kernel that writes it). Blocked: its jit kernels write blocked
     * weights, reordered into the caller's buffer (reo_dwei). The bias
     * gradient lands in an owned buffer (copied out when asked for), since
     * the primitive always writes it. */
    if ((st = init(&wd, d.alg, &d.src, g->blocked ? &d.wei_any : &d.wei_user,
                   g->has_bias ? &d.bias : NULL, &d.dst, d.strides, d.pad_l, d.pad_r)) != dnnl_success ||
        (st = dnnl_primitive_desc_create(&pd, &wd, NULL, eng, fwd_pd)) != dnnl_success ||
        (st = dnnl_primitive_create(&P->bwd_weights, pd)) != dnnl_success)
        goto done;
    const dnnl_memory_desc_t *dw = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0);
    if (dnnl_memory_desc_equal(dw, &d.wei_user)) {
        st = dnnl_memory_create(&P->m_dwei, dw, eng, DNNL_MEMORY_NONE);
    } else if ((st = dnnl_memory_create(&P->m_dwei_own, dw, eng, DNNL_MEMORY_ALLOCATE)) == dnnl_success &&
               (st = dnnl_memory_create(&P->m_dwei, &d.wei_user, eng, DNNL_MEMORY_NONE)) == dnnl_success &&
               (st = dnnl_reorder_primitive_desc_create(&rpd, dw, eng, &d.wei_user, eng, NULL)) == dnnl_success) {
        st = dnnl_primitive_create(&P->reo_dwei, rpd);
    }
    if (st == dnnl_success && g->has_bias)
        st = dnnl_memory_create(&P->m_dbias, &d.bias, eng, DNNL_MEMORY_ALLOCATE);
done:
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(rpd);
    if (st == dnnl_success) return 0;
    /* leave the layer as it was: usable for inference */
    dnnl_primitive_destroy(P->bwd_weights);
    dnnl_primitive_destroy(P->reo_dwei);
    dnnl_memory_destroy(P->m_dwei);
    dnnl_memory_destroy(P->m_dwei_own);
    dnnl_memory_destroy(P->m_dbias);
    P->bwd_weights = P->reo_dwei = NULL, P->m_dwei = P->m_dwei_own = P->m_dbias = NULL;
    return fail(g, "create the backward-weights primitive", st, err);
}

void wconv_forward(wconv_state *P, const void *in, void *out) {
    dnnl_memory_set_data_handle(P->m_src, (void *)in);
    dnnl_memory_set_data_handle(P->m_dst, out);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, P->m_src},
                              {DNNL_ARG_WEIGHTS, P->m_wei_fwd},
                              {DNNL_ARG_DST, P->m_dst},
                              {DNNL_ARG_BIAS, P->m_bias}};
    dn_run(P->fwd, P->m_bias ? 4 : 3, args);
}

void wconv_backward(wconv_state *P, const void *dout, void *din) {
    dnnl_memory_set_data_handle(P->m_ddst, (void *)dout);
    dnnl_memory_set_data_handle(P->m_dsrc, din);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_DIFF_DST, P->m_ddst},
                              {DNNL_ARG_WEIGHTS, P->m_wei_bwd},
                              {DNNL_ARG_DIFF_SRC, P->m_dsrc}};
    dn_run(P->bwd_data, 3, args);
}

void wconv_backward_weights(wconv_state *P, const float *in, const float *dout, float *dweight,
                            float *dbias) {
    dnnl_memory_set_data_handle(P->m_src, (void *)in);
    dnnl_memory_set_data_handle(P->m_ddst, (void *)dout);
    dnnl_memory_set_data_handle(P->m_dwei, dweight);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, P->m_src},
                              {DNNL_ARG_DIFF_DST, P->m_ddst},
                              {DNNL_ARG_DIFF_WEIGHTS, P->m_dwei_own ? P->m_dwei_own : P->m_dwei},
                              {DNNL_ARG_DIFF_BIAS, P->m_dbias}};
    dn_run(P->bwd_weights, P->m_dbias ? 4 : 3, args);
    if (P->reo_dwei) {
        dnnl_exec_arg_t reo[] = {{DNNL_ARG_FROM, P->m_dwei_own}, {DNNL_ARG_TO, P->m_dwei}};
        dn_run(P->reo_dwei, 2, reo);
    }
    if (dbias && P->m_dbias) {
        const dnnl_memory_desc_t *md;
        void *db;
        dnnl_memory_get_memory_desc(P->m_dbias, &md);
        dnnl_memory_get_data_handle(P->m_dbias, &db);
        memcpy(dbias, db, dnnl_memory_desc_get_size(md));
    }
}

/* copy = reorder(caller's weights), for the copies that are not aliases */
void wconv_weights_changed(wconv_state *P) {
    dnnl_exec_arg_t fwd[] = {{DNNL_ARG_FROM, P->m_wei}, {DNNL_ARG_TO, P->m_wei_fwd}};
    dnnl_exec_arg_t bwd[] = {{DNNL_ARG_FROM, P->m_wei}, {DNNL_ARG_TO, P->m_wei_bwd}};
    if (P->reo_fwd) dn_run(P->reo_fwd, 2, fwd);
    if (P->reo_bwd) dn_run(P->reo_bwd, 2, bwd);
}

void wconv_destroy(wconv_state *P) {
    dnnl_primitive_t prims[] = {P->fwd, P->bwd_data, P->bwd_weights, P->reo_fwd, P->reo_bwd,
                                P->reo_dwei};
    dnnl_memory_t mems[] = {P->m_src,  P->m_wei,  P->m_bias, P->m_dst,      P->m_wei_fwd, P->m_wei_bwd,
                            P->m_dsrc, P->m_ddst, P->m_dwei, P->m_dwei_own, P->m_dbias};
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++) dnnl_primitive_destroy(prims[i]);
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++) dnnl_memory_destroy(mems[i]);
    memset(P, 0, sizeof *P);
}
