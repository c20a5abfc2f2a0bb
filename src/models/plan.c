/* plan.c: a loss network bound to one input size. Every buffer lives in one
 * arena allocated here, and every oneDNN primitive is created here, so the
 * optimisation loop (forward, backward) allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "models/net.h"

static size_t numel(int n, int c, int h, int w) { return (size_t)n * c * h * w; }

/* Shapes of every layer's output, and the arena size they need. */
static int plan_shapes(net_plan *p, const unsigned char *tapped, int padding,
                       size_t *total, size_t *max_act, nst_error *err) {
    int c = 3, h = p->h, w = p->w;
    size_t sz = numel(p->n, 3, h, w); /* preprocessed input */
    size_t mx = numel(p->n, 3, h, w);
    for (int i = 0; i < p->n_layers; i++) {
        const net_layer *nl = &p->net->layers[i];
        plan_layer *L = &p->L[i];
        if (nl->cin != c && nl->kind == NET_CONV)
            return nst_fail(err, NST_ERR_RUNTIME, "%s: layer %s expects %d channels, gets %d",
                            p->net->path, nl->name, nl->cin, c);
        int t, b;
        switch (nl->kind) {
        case NET_CONV:
            if (padding == NST_PAD_REFLECT && nl->k > 1) {
                int l, r, oh, ow;
                same_padding(h, nl->k, nl->stride, &oh, &t, &b);
                same_padding(w, nl->k, nl->stride, &ow, &l, &r);
                /* reflection needs pad < size; a map that small (deep layers
                 * of a tiny image) falls back to zero padding */
                if (t < h && b < h && l < w && r < w) {
                    L->reflect = 1;
                    size_t a = numel(p->n, c, h + t + b, w + l + r);
                    sz += a; /* its gradient flows through the ping-pong buffers */
                    if (a > mx) mx = a;
                }
            }
            same_padding(h, nl->k, nl->stride, &h, &t, &b);
            same_padding(w, nl->k, nl->stride, &w, &t, &b);
            c = nl->cout;
            break;
        case NET_MAXPOOL:
            same_padding(h, nl->k, nl->stride, &h, &t, &b);
            same_padding(w, nl->k, nl->stride, &w, &t, &b);
            break;
        case NET_ACT:
            break;
        }
        L->c = c, L->h = h, L->w = w;
        size_t a = numel(p->n, c, h, w);
        sz += a * (tapped[i] ? 2 : 1);
        if (a > mx) mx = a;
    }
    *total = sz + 2 * mx;
    *max_act = mx;
    return NST_OK;
}

int plan_create(net_plan *p, const struct nst_net *net, int n, int h, int w,
                const unsigned char *tapped, int padding, int pooling,
                nst_error *err) {
    memset(p, 0, sizeof *p);
    p->net = net, p->n = n, p->h = h, p->w = w;
    for (int i = 0; i < net->n_layers; i++)
        if (tapped[i]) p->n_layers = i + 1;
    if (p->n_layers == 0)
        return nst_fail(err, NST_ERR_USAGE, "no layer of %s is used by any loss", net->path);
    p->L = calloc((size_t)p->n_layers, sizeof *p->L);
    if (!p->L) return nst_fail(err, NST_ERR_RUNTIME, "out of memory planning %dx%d", w, h);

    size_t total = 0, mx = 0;
    int rc = plan_shapes(p, tapped, padding, &total, &mx, err);
    if (rc) {
        free(p->L);
        p->L = NULL;
        return rc;
    }
    p->arena = calloc(total, sizeof(float));
    if (!p->arena) {
        free(p->L);
        p->L = NULL;
        return nst_fail(err, NST_ERR_RUNTIME,
                        "out of memory: a %dx%d image needs %.1f GiB of activations", w, h,
                        total * 4.0 / (1 << 30));
    }
    float *q = p->arena;
    p->input = q, q += numel(n, 3, h, w);
    p->grad_a = q, q += mx;
    p->grad_b = q, q += mx;

    int c = 3, ih = h, iw = w;
    for (int i = 0; i < p->n_layers && !rc; i++) {
        const net_layer *nl = &net->layers[i];
        plan_layer *L = &p->L[i];
        L->out = q, q += numel(n, L->c, L->h, L->w);
        if (tapped[i]) L->loss_grad = q, q += numel(n, L->c, L->h, L->w);
        int oh, ow, t, b, l, r;
        switch (nl->kind) {
        case NET_CONV:
            same_padding(ih, nl->k, nl->stride, &oh, &t, &b);
            same_padding(iw, nl->k, nl->stride, &ow, &l, &r);
            if (L->reflect) {
                rc = pad_setup(&L->pad, n, c, ih, iw, t, l, b, r, err);
                L->padded = q, q += numel(n, c, L->pad.oh, L->pad.ow);
                if (!rc)
                    rc = conv_setup(&L->conv, n, c, L->pad.oh, L->pad.ow, nl->cout, nl->k, nl->k,
                                    nl->stride, 0, 0, 0, 0, nl->weight, nl->bias, err);
            } else {
                rc = conv_setup(&L->conv, n, c, ih, iw, nl->cout, nl->k, nl->k, nl->stride, t, l,
                                b, r, nl->weight, nl->bias, err);
            }
            break;
        case NET_MAXPOOL:
            rc = pool_setup(&L->pool, pooling == NST_POOL_AVG ? POOL_AVG : POOL_MAX, n, c, ih, iw,
                            nl->k, nl->stride, err);
            break;
        case NET_ACT:
            break;
        }
        c = L->c, ih = L->h, iw = L->w;
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
    const float *in = p->input;
    for (int i = 0; i < p->n_layers; i++) {
        plan_layer *L = &p->L[i];
        const net_layer *nl = &net->layers[i];
        switch (nl->kind) {
        case NET_CONV:
            if (L->reflect) {
                pad_forward(&L->pad, in, L->padded);
                in = L->padded;
            }
            conv_forward(&L->conv, in, L->out);
            break;
        case NET_MAXPOOL:
            pool_forward(&L->pool, in, L->out);
            break;
        case NET_ACT:
            act_forward(nl->alpha, numel(p->n, L->c, L->h, L->w), in, L->out);
            break;
        }
        in = L->out;
    }
}

void plan_zero_loss_grads(net_plan *p) {
    for (int i = 0; i < p->n_layers; i++) {
        plan_layer *L = &p->L[i];
        if (L->loss_grad) memset(L->loss_grad, 0, numel(p->n, L->c, L->h, L->w) * sizeof(float));
    }
}

static void swap(float **a, float **b) {
    float *t = *a;
    *a = *b, *b = t;
}

/* Chain rule from the deepest layer down: the gradient flowing into layer
 * i's output is what layer i+1 passed back plus what the losses put on it. */
void plan_backward(net_plan *p, float *dimage) {
    const struct nst_net *net = p->net;
    float *g = p->grad_a, *other = p->grad_b;
    int last = p->n_layers - 1;
    memcpy(g, p->L[last].loss_grad, numel(p->n, p->L[last].c, p->L[last].h, p->L[last].w) * sizeof(float));
    for (int i = last; i >= 0; i--) {
        plan_layer *L = &p->L[i];
        const net_layer *nl = &net->layers[i];
        switch (nl->kind) {
        case NET_CONV:
            conv_backward(&L->conv, g, other);
            if (L->reflect)
                pad_backward(&L->pad, other, g); /* fold the padded gradient back */
            else
                swap(&g, &other);
            break;
        case NET_MAXPOOL:
            pool_backward(&L->pool, g, other);
            swap(&g, &other);
            break;
        case NET_ACT:
            act_backward(nl->alpha, numel(p->n, L->c, L->h, L->w), L->out, g, g);
            break;
        }
        if (i > 0 && p->L[i - 1].loss_grad) {
            size_t m = numel(p->n, p->L[i - 1].c, p->L[i - 1].h, p->L[i - 1].w);
            const float *lg = p->L[i - 1].loss_grad;
            for (size_t k = 0; k < m; k++) g[k] += lg[k];
        }
    }
    /* through the preprocessing affine map: d/dx = d/din * in_scale */
    size_t hw = (size_t)p->h * p->w;
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++) {
            const float *src = g + ((size_t)b * 3 + c) * hw;
            float *dst = dimage + ((size_t)b * 3 + c) * hw;
            for (size_t k = 0; k < hw; k++) dst[k] = src[k] * net->in_scale[c];
        }
}

void plan_destroy(net_plan *p) {
    for (int i = 0; i < p->n_layers && p->L; i++) {
        conv_destroy(&p->L[i].conv);
        pool_destroy(&p->L[i].pool);
    }
    free(p->L);
    free(p->arena);
    memset(p, 0, sizeof *p);
}
