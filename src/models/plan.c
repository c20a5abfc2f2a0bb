/* plan.c: a loss network bound to one input size. Every buffer lives in one
 * arena allocated here, and every oneDNN primitive is created here, so the
 * optimisation loop (forward, backward) allocates nothing.
 *
 * Layouts: the image enters as NCHW; each convolution takes its input in the
 * layout of the layer before and writes the blocked layout oneDNN picks
 * (nChw16c on AVX-512: jit direct kernels instead of im2col + GEMM), and
 * pooling, activations and reflect padding run on that layout, so nothing is
 * reordered between layers. A ReLU / LeakyReLU runs as the conv's post-op
 * unless the conv's own output is tapped. The input gradient leaves as NCHW.
 *
 * The style losses read their layers where they are (TAP_GRAM: Gram
 * matrices and their gradient as oneDNN 1x1 convolutions on the blocked
 * activations); only TAP_COPY layers (the content layer) are reordered to
 * NCHW (to_out) and their loss gradient back into the blocked gradient
 * (add_grad).
 *
 * Precision bf16: every activation and activation gradient is bfloat16, in
 * the channels-last layout (NST_NHWC) that oneDNN's AMX convolutions take
 * (given nChw16c bf16 it picks its older, several times slower AVX512-BF16
 * kernels), and the convolutions run on AMX / AVX512-BF16, except the first: an image in
 * bfloat16 would be rounded to about one grey level, which makes the loss
 * flat for the small steps an optimiser starts with (L-BFGS's first step
 * would change nothing and stop it). So the first conv runs in float32 and
 * its output is converted (first_out), its gradient converted back
 * (first_grad). It has 3 input channels: a small share of the work. The
 * reorders to and from the losses' NCHW float32 matrices convert, so the
 * losses, the Gram matrices and the image gradient stay float32. */
#include <stdlib.h>
#include <string.h>

#include "models/net.h"

static size_t numel(int n, int c, int h, int w) { return (size_t)n * c * h * w; }

static size_t md_bytes(const dnnl_memory_t m) {
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(m, &md);
    return dnnl_memory_desc_get_size(md);
}
/* bytes of an activation element */
static size_t esize(const net_plan *p) { return p->bf16 ? 2 : sizeof(float); }
/* every buffer starts on a 64-byte boundary, as oneDNN's kernels prefer */
static size_t up64(size_t x) { return (x + 63) / 64 * 64; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* The primitives of layer i, whose input is n x c x h x w in layout block.
 * *pad_sz and *grad_sz grow to the bytes its padded input and its
 * gradients need; *first_sz is set to the bytes of the first conv's float32
 * output in bf16 plans. */
static int setup_layer(net_plan *p, int i, const unsigned char *tapped, int padding, int pooling,
                       int c, int h, int w, int block, size_t *pad_sz, size_t *grad_sz,
                       size_t *first_sz, nst_error *err) {
    const net_layer *nl = &p->net->layers[i];
    plan_layer *L = &p->L[i];
    int n = p->n, t, b, l, r, rc = NST_OK;
    L->c = c, L->h = h, L->w = w, L->block = block;
    switch (nl->kind) {
    case NET_CONV: {
        if (nl->cin != c)
            return nst_fail(err, NST_ERR_RUNTIME, "%s: layer %s expects %d channels, gets %d",
                            p->net->path, nl->name, nl->cin, c);
        int fuse = i + 1 < p->n_layers && p->net->layers[i + 1].kind == NET_ACT && !tapped[i];
        float alpha = fuse ? p->net->layers[i + 1].alpha : 0;
        same_padding(h, nl->k, nl->stride, &L->h, &t, &b);
        same_padding(w, nl->k, nl->stride, &L->w, &l, &r);
        /* reflection needs pad < size; a map that small (deep layers of a
         * tiny image) falls back to zero padding */
        L->reflect = padding == NST_PAD_REFLECT && nl->k > 1 && t < h && b < h && l < w && r < w;
        int bf16 = i ? p->bf16 : 0; /* the first conv is float32 (see above) */
        if (L->reflect) {
            if ((rc = pad_setup(&L->pad, n, c, h, w, t, l, b, r, block, bf16, err))) return rc;
            *pad_sz = max_sz(*pad_sz, nst_blocked_numel(n, c, L->pad.oh, L->pad.ow, block) *
                                          (bf16 ? 2 : sizeof(float)));
            rc = conv_setup_blocked(&L->conv, i ? block : 0, bf16, fuse, alpha, n, c, L->pad.oh,
                                    L->pad.ow, nl->cout, nl->k, nl->k, nl->stride, 0, 0, 0, 0,
                                    nl->weight, nl->bias, err);
        } else {
            rc = conv_setup_blocked(&L->conv, i ? block : 0, bf16, fuse, alpha, n, c, h, w,
                                    nl->cout, nl->k, nl->k, nl->stride, t, l, b, r, nl->weight,
                                    nl->bias, err);
        }
        if (rc) return rc;
        /* large maps: the input gradient without the padded one (see
         * reflect_grad.c); on smaller ones its border loop costs more than
         * it saves (measured on VGG19: gains from 192x256 on, loses at
         * 96x128) */
        if (L->reflect && i > 0 && !bf16 && nl->stride == 1 && t == (nl->k - 1) / 2 && t == b &&
            t == l && t == r && h * w >= 40000) {
            nst_error quiet; /* not for this layout: the padded gradient it is */
            L->rgrad_on = !reflect_grad_setup(&L->rgrad, block, L->conv.dst_block, n, c, h, w,
                                              nl->cout, nl->k, nl->weight, &quiet);
        }
        *grad_sz = max_sz(*grad_sz, md_bytes(L->conv.p.m_dsrc));
        if (i == 0 && p->bf16) {
            const dnnl_memory_desc_t *f32;
            dnnl_memory_desc_t lowp;
            dnnl_memory_get_memory_desc(L->conv.p.m_dst, &f32);
            nst_dnnl_md(&lowp, n, nl->cout, L->h, L->w, NST_NHWC, 1);
            *first_sz = dnnl_memory_desc_get_size(f32);
            rc = reorder_setup(&p->first_out, f32, &lowp, NULL, 0, err);
            if (!rc) rc = reorder_setup(&p->first_grad, &lowp, f32, NULL, 0, err);
            if (rc) return rc;
        }
        L->c = nl->cout, L->block = i == 0 && p->bf16 ? NST_NHWC : L->conv.dst_block;
        if (fuse) p->L[i + 1].fused = 1;
        break;
    }
    case NET_MAXPOOL:
        if ((rc = pool_setup(&L->pool, pooling == NST_POOL_AVG ? POOL_AVG : POOL_MAX, n, c, h, w,
                             nl->k, nl->stride, block, p->bf16, err)))
            return rc;
        L->h = L->pool.oh, L->w = L->pool.ow;
        /* After an activation y = act(x) that no loss reads, the argmax q of
         * every window has y_q = the window's max m, so act'(x_q) is
         * (m > 0 ? 1 : alpha): the activation's backward runs on the pooled
         * gradient, before the pooling's, on a tensor 4x smaller. */
        if (pooling != NST_POOL_AVG && i > 0 && p->net->layers[i - 1].kind == NET_ACT && !tapped[i - 1]) {
            rc = eltwise_setup(&L->eltwise, p->net->layers[i - 1].alpha, n, c, L->h, L->w, block,
                               p->bf16, err);
            L->pool_act = p->L[i - 1].act_pooled = 1;
        }
        break;
    case NET_ACT: /* the backward pass needs it even when fused */
        rc = eltwise_setup(&L->eltwise, nl->alpha, n, c, h, w, block, p->bf16, err);
        break;
    }
    if (rc) return rc;
    *grad_sz = max_sz(*grad_sz, nst_blocked_numel(n, L->c, L->h, L->w, L->block) * esize(p));
    if ((tapped[i] & TAP_GRAM) && (rc = gram_setup(&L->gram, L->c, L->h, L->w, L->block, p->bf16, err)))
        return rc;
    if (tapped[i] & TAP_COPY) {
        dnnl_memory_desc_t act, nchw;
        nst_dnnl_md(&act, n, L->c, L->h, L->w, L->block, p->bf16);
        nst_dnnl_md(&nchw, n, L->c, L->h, L->w, 1, 0);
        /* the deepest layer starts the gradient: no accumulation there */
        rc = reorder_setup(&L->to_out, &act, &nchw, NULL, 0, err);
        if (!rc) rc = reorder_setup(&L->add_grad, &nchw, &act, NULL, i < p->n_layers - 1, err);
    }
    return rc;
}

/* Point every buffer into the arena (NULL: count the bytes only). */
static size_t place_buffers(net_plan *p, char *arena, const unsigned char *tapped,
                            size_t pad_sz, size_t first_sz, size_t grad_sz) {
    size_t off = 0, f = sizeof(float);
#define TAKE(ptr, bytes) ((ptr) = arena ? (void *)(arena + off) : NULL, off += up64(bytes))
    TAKE(p->input, numel(p->n, 3, p->h, p->w) * f);
    TAKE(p->padded, pad_sz);
    if (first_sz) TAKE(p->first, first_sz);
    TAKE(p->grad_a, grad_sz);
    TAKE(p->grad_b, grad_sz);
    for (int i = p->n_layers - 1; i >= 0; i--) {
        plan_layer *L = &p->L[i];
        if (i + 1 < p->n_layers && p->L[i + 1].fused)
            L->act = p->L[i + 1].act;
        else
            TAKE(L->act, nst_blocked_numel(p->n, L->c, L->h, L->w, L->block) * esize(p));
        if (tapped[i] & TAP_COPY) {
            TAKE(L->out, numel(p->n, L->c, L->h, L->w) * f);
            TAKE(L->loss_grad, numel(p->n, L->c, L->h, L->w) * f);
        }
        if (tapped[i] & TAP_GRAM) TAKE(L->style_grad, numel(p->n, L->c, L->c, 1) * f);
    }
#undef TAKE
    return off;
}

int plan_create(net_plan *p, const struct nst_net *net, int n, int h, int w,
                const unsigned char *tapped, int padding, int pooling, int precision,
                nst_error *err) {
    memset(p, 0, sizeof *p);
    p->net = net, p->n = n, p->h = h, p->w = w, p->bf16 = precision == NST_PRECISION_BF16;
    for (int i = 0; i < net->n_layers; i++)
        if (tapped[i]) p->n_layers = i + 1;
    if (p->n_layers == 0)
        return nst_fail(err, NST_ERR_USAGE, "no layer of %s is used by any loss", net->path);
    if (p->bf16 && !nst_dnnl_has_bf16())
        return nst_fail(err, NST_ERR_USAGE,
                        "--precision bf16: this CPU has no bfloat16 instructions (AVX512-BF16 or "
                        "AMX), so it would run far slower than fp32; use --precision fp32");
    if (p->bf16 && net->layers[0].kind != NET_CONV)
        return nst_fail(err, NST_ERR_USAGE, "%s: --precision bf16 needs a network that starts "
                        "with a convolution", net->path);
    p->L = calloc((size_t)p->n_layers, sizeof *p->L);
    if (!p->L) return nst_fail(err, NST_ERR_RUNTIME, "out of memory planning %dx%d", w, h);

    int rc = NST_OK, c = 3, ih = h, iw = w, block = 1;
    size_t pad_sz = 0, first_sz = 0, grad_sz = numel(n, 3, h, w) * sizeof(float);
    for (int i = 0; i < p->n_layers && !rc; i++) {
        rc = setup_layer(p, i, tapped, padding, pooling, c, ih, iw, block, &pad_sz, &grad_sz,
                         &first_sz, err);
        c = p->L[i].c, ih = p->L[i].h, iw = p->L[i].w, block = p->L[i].block;
    }
    if (!rc) {
        /* the gradient of layer 0's input (of its padded input for a reflect
         * conv) in that layer's layout, to NCHW through the preprocessing */
        const plan_layer *L0 = &p->L[0];
        dnnl_memory_desc_t from, to;
        if (net->layers[0].kind == NET_CONV) {
            const dnnl_memory_desc_t *md;
            dnnl_memory_get_memory_desc(L0->conv.p.m_dsrc, &md);
            from = *md;
        } else {
            nst_dnnl_md(&from, n, 3, h, w, 1, 0);
        }
        nst_dnnl_md(&to, n, 3, (int)from.dims[2], (int)from.dims[3], 1, 0);
        /* the image gradient lands in `padded` before its padding is folded */
        pad_sz = max_sz(pad_sz, numel(n, 3, (int)from.dims[2], (int)from.dims[3]) * sizeof(float));
        rc = reorder_setup(&p->to_image, &from, &to, net->in_scale, 0, err);
    }
    if (!rc) {
        size_t total = place_buffers(p, NULL, tapped, pad_sz, first_sz, grad_sz);
        p->arena = aligned_alloc(64, total);
        if (!p->arena)
            rc = nst_fail(err, NST_ERR_RUNTIME,
                          "out of memory: a %dx%d image needs %.1f GiB of activations", w, h,
                          total / (double)(1 << 30));
        else {
            memset(p->arena, 0, total);
            place_buffers(p, p->arena, tapped, pad_sz, first_sz, grad_sz);
        }
    }
    if (rc) plan_destroy(p);
    return rc;
}

void plan_forward(net_plan *p, const float *image) {
    const struct nst_net *net = p->net;
    size_t hw = (size_t)p->h * p->w;
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++) {
            const float *src = image + ((size_t)b * 3 + c) * hw;
            float *dst = p->input + ((size_t)b * 3 + c) * hw;
            for (size_t i = 0; i < hw; i++) dst[i] = src[i] * net->in_scale[c] + net->in_shift[c];
        }
    const void *in = p->input;
    for (int i = 0; i < p->n_layers; i++) {
        plan_layer *L = &p->L[i];
        switch (net->layers[i].kind) {
        case NET_CONV:
            if (L->reflect) {
                pad_forward(&L->pad, in, p->padded);
                in = p->padded;
            }
            if (i == 0 && p->bf16) {
                conv_forward(&L->conv, in, p->first);
                reorder_run(&p->first_out, p->first, L->act);
            } else {
                conv_forward(&L->conv, in, L->act);
            }
            break;
        case NET_MAXPOOL:
            pool_forward(&L->pool, in, L->act);
            break;
        case NET_ACT:
            if (!L->fused) eltwise_forward(&L->eltwise, in, L->act);
            break;
        }
        if (L->out) reorder_run(&L->to_out, L->act, L->out);
        in = L->act;
    }
}

/* bytes of one image's activation at layer i */
static size_t image_bytes(const net_plan *p, int i) {
    const plan_layer *L = &p->L[i];
    return nst_blocked_numel(1, L->c, L->h, L->w, L->block) * esize(p);
}

void plan_gram(net_plan *p, int i, int b, float *G) {
    gram_forward(&p->L[i].gram, (char *)p->L[i].act + b * image_bytes(p, i), G);
}

void plan_zero_loss_grads(net_plan *p) {
    for (int i = 0; i < p->n_layers; i++) {
        plan_layer *L = &p->L[i];
        if (L->loss_grad) memset(L->loss_grad, 0, numel(p->n, L->c, L->h, L->w) * sizeof(float));
        if (L->style_grad) memset(L->style_grad, 0, numel(p->n, L->c, L->c, 1) * sizeof(float));
    }
}

/* g (the gradient at layer i's output) += what the losses put on layer i */
static void add_loss_grads(net_plan *p, int i, void *g) {
    plan_layer *L = &p->L[i];
    if (L->loss_grad) reorder_run(&L->add_grad, L->loss_grad, g);
    if (L->style_grad) {
        size_t bytes = image_bytes(p, i), cc = (size_t)L->c * L->c;
        for (int b = 0; b < p->n; b++)
            gram_backward(&L->gram, (char *)L->act + b * bytes, L->style_grad + b * cc,
                          (char *)g + b * bytes);
    }
}

static void swap(void **a, void **b) {
    void *t = *a;
    *a = *b, *b = t;
}

/* Chain rule from the deepest layer down: the gradient flowing into layer
 * i's output is what layer i+1 passed back plus what the losses put on it. */
void plan_backward(net_plan *p, float *dimage) {
    void *g = p->grad_a, *other = p->grad_b;
    int last = p->n_layers - 1;
    /* the deepest layer's gradient starts from zero (its add_grad, if any,
     * does not accumulate) */
    if (!p->L[last].loss_grad) memset(g, 0, p->n * image_bytes(p, last));
    add_loss_grads(p, last, g);
    for (int i = last; i >= 0; i--) {
        plan_layer *L = &p->L[i];
        switch (p->net->layers[i].kind) {
        case NET_CONV:
            if (L->rgrad_on) {
                reflect_grad_backward(&L->rgrad, g, other);
                swap(&g, &other);
                break;
            }
            if (i == 0 && p->bf16) {
                reorder_run(&p->first_grad, g, p->first);
                conv_backward(&L->conv, p->first, other);
            } else {
                conv_backward(&L->conv, g, other);
            }
            if (L->reflect && i > 0)
                pad_backward(&L->pad, other, g); /* fold the padded gradient back */
            else
                swap(&g, &other);
            break;
        case NET_MAXPOOL:
            if (L->pool_act) eltwise_backward(&L->eltwise, L->act, g, g);
            pool_backward(&L->pool, g, other);
            swap(&g, &other);
            break;
        case NET_ACT:
            if (!L->act_pooled) eltwise_backward(&L->eltwise, L->act, g, g);
            break;
        }
        if (i > 0) add_loss_grads(p, i - 1, g);
    }
    /* the first conv's padding is folded back in NCHW, where it ran */
    if (p->L[0].reflect) {
        reorder_run(&p->to_image, g, p->padded);
        pad_backward(&p->L[0].pad, p->padded, dimage);
    } else {
        reorder_run(&p->to_image, g, dimage);
    }
}

void plan_destroy(net_plan *p) {
    for (int i = 0; i < p->n_layers && p->L; i++) {
        plan_layer *L = &p->L[i];
        conv_destroy(&L->conv);
        reflect_grad_destroy(&L->rgrad);
        eltwise_destroy(&L->eltwise);
        pool_destroy(&L->pool);
        reorder_destroy(&L->to_out);
        reorder_destroy(&L->add_grad);
        gram_destroy(&L->gram);
    }
    reorder_destroy(&p->to_image);
    reorder_destroy(&p->first_out);
    reorder_destroy(&p->first_grad);
    free(p->L);
    free(p->arena);
    memset(p, 0, sizeof *p);
}
