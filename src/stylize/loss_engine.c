/* loss_engine.c: the loss of docs/losses.md over a loss network plan (see
 * loss_engine.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/resize.h"
#include "losses/losses.h"
#include "stylize/loss_engine.h"

static double sumsq(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

int engine_init(loss_engine *e, const nst_net *net, const nst_stylize_params *p, nst_error *err) {
    memset(e, 0, sizeof *e);
    e->net = net, e->p = p;
    e->tapped = calloc((size_t)net->n_nodes, 1);
    if (!e->tapped) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    if (p->n_content_layers < 0 || p->n_style_layers < 1)
        return nst_fail(err, NST_ERR_ARG, "at least one style layer is needed");
    float wsum = 0;
    for (int i = 0; i < p->n_style_layers; i++) wsum += p->style_layer_weights[i];
    if (!(wsum > 0)) return nst_fail(err, NST_ERR_ARG, "style layer weights must sum to more than 0");
    for (int k = 0; k < 2; k++) {
        int n = k ? p->n_style_layers : p->n_content_layers;
        for (int i = 0; i < n; i++) {
            const char *name = k ? p->style_layers[i] : p->content_layers[i];
            int idx = nst_net_find_layer(net, name);
            if (idx < 0)
                return nst_fail(err, NST_ERR_ARG,
                                "%s: unknown layer '%s' (nst models layers %s lists them)",
                                net->path, name, net->name);
            tap *t = k ? &e->style[i] : &e->content[i];
            t->layer = idx;
            t->weight = k ? p->style_layer_weights[i] / wsum : 1.0f / n;
            e->tapped[idx] |= k ? TAP_GRAM : TAP_COPY;
        }
    }
    e->nc = p->n_content_layers, e->ns = p->n_style_layers;
    int cmax = 0;
    for (int i = 0; i < e->ns; i++) {
        int c = net->nodes[e->style[i].layer].cout;
        if (c > cmax) cmax = c;
    }
    e->gram = malloc((size_t)cmax * cmax * sizeof(float));
    if (!e->gram) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    return NST_OK;
}

/* The taps of a style image's plan: the style layers' Gram matrices only. */
static unsigned char *style_taps(const loss_engine *e) {
    unsigned char *only_style = calloc((size_t)e->net->n_nodes, 1);
    for (int i = 0; i < e->ns && only_style; i++) only_style[e->style[i].layer] = TAP_GRAM;
    return only_style;
}

int engine_style_targets(loss_engine *e, const nst_image *styles, int n_styles, int side,
                         nst_error *err) {
    const nst_stylize_params *p = e->p;
    unsigned char *only_style = style_taps(e);
    if (!only_style) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    for (int i = 0; i < e->ns; i++) {
        free(e->style[i].target);
        e->style[i].target = NULL;
    }
    /* one blended target, or with regions one target per painting */
    int targets = p->regions ? n_styles : 1;
    float bsum = 0;
    for (int k = 0; k < n_styles; k++) bsum += p->style_blend[k];
    int rc = NST_OK;
    for (int k = 0; k < n_styles && !rc; k++) {
        nst_image s = {0};
        plan pl;
        int w, h;
        const plan_opts o = {only_style, p->padding, p->pooling, p->precision, 0, 0};
        nst_image_fit(styles[k].w, styles[k].h, (int)lroundf(side * p->style_scale), &w, &h);
        rc = nst_image_resize(&styles[k], w, h, &s, err);
        if (!rc) rc = plan_create(&pl, e->net, 1, h, w, &o, err);
        if (!rc) {
            plan_forward(&pl, s.data, 0);
            for (int i = 0; i < e->ns; i++) {
                plan_tap L = plan_tap_of(&pl, e->style[i].layer);
                size_t cc = (size_t)L.c * L.c;
                float b = p->regions ? 1 : p->style_blend[k] / bsum;
                plan_gram(&pl, e->style[i].layer, 0, 0, e->gram);
                if (!e->style[i].target) e->style[i].target = calloc(targets * cc, sizeof(float));
                if (!e->style[i].target) {
                    rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
                    break;
                }
                float *A = e->style[i].target + (p->regions ? k * cc : 0);
                for (size_t j = 0; j < cc; j++) A[j] += b * e->gram[j];
            }
            plan_destroy(&pl);
        }
        nst_image_free(&s);
    }
    free(only_style);
    for (int i = 0; i < e->ns && !rc; i++) {
        size_t cc = (size_t)e->net->nodes[e->style[i].layer].cout * e->net->nodes[e->style[i].layer].cout;
        free(e->style[i].norm2);
        e->style[i].norm2 = malloc(targets * sizeof(double));
        if (!e->style[i].norm2) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
        for (int k = 0; k < targets && !rc; k++) e->style[i].norm2[k] = sumsq(e->style[i].target + k * cc, cc);
    }
    return rc;
}

static plan_opts image_plan_opts(const loss_engine *e) {
    const nst_stylize_params *p = e->p;
    return (plan_opts){e->tapped, p->padding, p->pooling, p->precision, PLAN_GRAD_INPUT,
                       p->regions ? p->regions->n : 0};
}

int engine_plan(const loss_engine *e, plan *pl, int n, int h, int w, nst_error *err) {
    const nst_stylize_params *p = e->p;
    const plan_opts o = image_plan_opts(e);
    int rc = plan_create(pl, e->net, n, h, w, &o, err);
    /* the guidance channels: the regions' weights resized (area-averaged)
     * to each style layer, as the paper downsamples them through the net */
    for (int i = 0; i < e->ns && !rc && p->regions; i++) {
        plan_tap L = plan_tap_of(pl, e->style[i].layer);
        const nst_regions *r = p->regions;
        rc = resize_planes(r->weight, r->n, r->w, r->h, L.guide, L.w, L.h, err);
    }
    if (rc) plan_destroy(pl); /* safe after plan_create's own failure */
    return rc;
}

int engine_memory(const loss_engine *e, const nst_image *styles, int n_styles, int h, int w, int side,
                  double *net_bytes, double *style_bytes, nst_error *err) {
    const nst_stylize_params *p = e->p;
    const plan_opts o = image_plan_opts(e);
    int rc = plan_bytes(e->net, 1, h, w, &o, net_bytes, err);
    unsigned char *only_style = rc ? NULL : style_taps(e);
    if (!rc && !only_style) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
    const plan_opts so = {only_style, p->padding, p->pooling, p->precision, 0, 0};
    *style_bytes = 0;
    for (int k = 0; k < n_styles && !rc; k++) {
        int sw, sh;
        double b;
        nst_image_fit(styles[k].w, styles[k].h, (int)lroundf(side * p->style_scale), &sw, &sh);
        rc = plan_bytes(e->net, 1, sh, sw, &so, &b, err);
        b += 3.0 * sw * sh * sizeof(float); /* the resized style image */
        if (b > *style_bytes) *style_bytes = b;
    }
    free(only_style);
    return rc;
}

int engine_content_targets(loss_engine *e, plan *plan, const float *images, nst_error *err) {
    plan_forward(plan, images, 0);
    for (int i = 0; i < e->nc; i++) {
        tap *t = &e->content[i];
        plan_tap L = plan_tap_of(plan, t->layer);
        size_t m = (size_t)L.c * L.h * L.w;
        free(t->target);
        free(t->norm2);
        t->target = malloc(plan->n * m * sizeof(float));
        t->norm2 = malloc(plan->n * sizeof(double));
        if (!t->target || !t->norm2) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
        memcpy(t->target, L.out, plan->n * m * sizeof(float));
        for (int b = 0; b < plan->n; b++) t->norm2[b] = sumsq(L.out + b * m, m);
    }
    return NST_OK;
}

/* Each image's loss weighted 1/n: the mean over the batch. */
double engine_evaluate(loss_engine *e, plan *plan, const float *x, float *g, loss_terms *t) {
    const nst_stylize_params *p = e->p;
    float inv = 1.0f / plan->n;
    plan_forward(plan, x, 0);
    plan_zero_loss_grads(plan);
    t->content = t->style = 0;
    for (int b = 0; b < plan->n; b++) {
        for (int i = 0; i < e->nc; i++) {
            plan_tap L = plan_tap_of(plan, e->content[i].layer);
            size_t n = (size_t)L.c * L.h * L.w;
            t->content += content_loss(p->content_weight * e->content[i].weight * inv, n,
                                       L.out + b * n, e->content[i].target + b * n,
                                       e->content[i].norm2[b], L.loss_grad + b * n);
        }
        for (int i = 0; i < e->ns; i++) {
            int l = e->style[i].layer, nr = p->regions ? p->regions->n : 1;
            plan_tap L = plan_tap_of(plan, l);
            size_t cc = (size_t)L.c * L.c;
            for (int r = 0; r < nr; r++) {
                /* a region: its own painting's target, its loss weighted by
                 * its share of the layer's pixels */
                int k = p->regions ? p->region_style[r] : 0;
                if (k < 0) continue;
                double n = plan_gram(plan, l, b, r, e->gram), share = n / ((double)L.h * L.w);
                if (!(n > 0)) continue;
                t->style += style_loss_gram((float)(p->style_weight * e->style[i].weight * inv * share), L.c,
                                            n, e->gram, e->style[i].target + k * cc, e->style[i].norm2[k],
                                            L.style_grad + ((size_t)b * nr + r) * cc);
            }
        }
    }
    plan_backward(plan, NULL, g, NULL);
    t->tv = 0;
    size_t m = (size_t)3 * plan->h * plan->w;
    for (int b = 0; b < plan->n; b++)
        t->tv += tv_loss(p->tv_weight * inv, 3, plan->h, plan->w, x + b * m, g + b * m);
    t->temporal = e->temporal_target
                      ? temporal_loss(p->temporal_weight, m, x, e->temporal_target, e->temporal_mask, g)
                      : 0;
    return t->content + t->style + t->tv + t->temporal;
}


void engine_free(loss_engine *e) {
    for (int i = 0; i < NST_MAX_LAYERS; i++) {
        free(e->content[i].target);
        free(e->style[i].target);
        free(e->content[i].norm2);
        free(e->style[i].norm2);
    }
    free(e->tapped);
    free(e->gram);
}
