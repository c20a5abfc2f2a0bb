/* stylize.c: optimisation-based style transfer (Gatys et al. 2016).
 *
 * The image x (0..255 RGB) minimises
 *   L(x) = content_weight * mean_l content_l(x)
 *        + style_weight * sum_l w_l style_l(x) / sum_l w_l
 *        + tv_weight * tv(x)
 * (normalisations in docs/losses.md), by L-BFGS or Adam, optionally coarse to
 * fine: optimise at size / 2^(scales-1), upsample, continue, up to size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "losses/losses.h"
#include "models/net.h"
#include "optim/optim.h"

void nst_stylize_defaults(nst_stylize_params *p) {
    memset(p, 0, sizeof *p);
    for (int i = 0; i < NST_MAX_LAYERS; i++) p->style_layer_weights[i] = 1;
    for (int i = 0; i < NST_MAX_STYLES; i++) p->style_blend[i] = 1;
    p->content_weight = 1;
    p->style_weight = 200;
    p->tv_weight = 1e-4f;
    p->iterations = 400;
    p->optimizer = NST_OPT_LBFGS;
    p->learning_rate = 0; /* 0: the optimiser's default (L-BFGS 1, Adam 10) */
    p->lbfgs_history = 100;
    p->init = NST_INIT_CONTENT;
    p->seed = 0;
    p->pooling = NST_POOL_MAX;
    p->padding = NST_PAD_REFLECT;
    p->scales = 1;
    p->size = 512;
    p->style_scale = 1;
}

static void set_layers(char dst[][64], int *n, const char *const *names, int count) {
    for (int i = 0; i < count; i++) snprintf(dst[i], 64, "%s", names[i]);
    *n = count;
}

void nst_stylize_default_layers(nst_stylize_params *p, const nst_net *net) {
    if (nst_net_find_layer(net, "relu4_2") >= 0) { /* VGG, as in Gatys et al. */
        static const char *const c[] = {"relu4_2"};
        static const char *const s[] = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
        set_layers(p->content_layers, &p->n_content_layers, c, 1);
        set_layers(p->style_layers, &p->n_style_layers, s, 5);
    } else { /* darknet-tiny: LeakyReLU outputs at 1, 1/2, 1/4, 1/8, 1/16 resolution */
        static const char *const c[] = {"leaky_re_lu_10"};
        static const char *const s[] = {"leaky_re_lu_1", "leaky_re_lu_2", "leaky_re_lu_4",
                                        "leaky_re_lu_8", "leaky_re_lu_12"};
        set_layers(p->content_layers, &p->n_content_layers, c, 1);
        set_layers(p->style_layers, &p->n_style_layers, s, 5);
    }
}

typedef struct {
    int layer;      /* index in the net */
    float weight;   /* normalised loss weight of this layer */
    float *target;  /* content: features P; style: blended Gram A */
    double norm2;   /* ||P||^2 or ||A||^2 */
} tap;

typedef struct {
    const nst_net *net;
    const nst_stylize_params *p;
    int nc, ns;
    tap content[NST_MAX_LAYERS], style[NST_MAX_LAYERS];
    unsigned char *tapped;       /* per net layer */
    float *gram, *dgram;         /* C*C scratch for the largest style layer */
} engine;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double sumsq(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

static int resolve_layers(engine *e, nst_error *err) {
    const nst_stylize_params *p = e->p;
    const nst_net *net = e->net;
    e->tapped = calloc((size_t)net->n_layers, 1);
    if (!e->tapped) return nst_fail(err, NST_ERR_RUNTIME, "out of memory");
    if (p->n_content_layers < 0 || p->n_style_layers < 1)
        return nst_fail(err, NST_ERR_USAGE, "at least one style layer is needed");
    float wsum = 0;
    for (int i = 0; i < p->n_style_layers; i++) wsum += p->style_layer_weights[i];
    if (!(wsum > 0)) return nst_fail(err, NST_ERR_USAGE, "style layer weights must sum to more than 0");
    for (int k = 0; k < 2; k++) {
        int n = k ? p->n_style_layers : p->n_content_layers;
        for (int i = 0; i < n; i++) {
            const char *name = k ? p->style_layers[i] : p->content_layers[i];
            int idx = nst_net_find_layer(net, name);
            if (idx < 0)
                return nst_fail(err, NST_ERR_USAGE,
                                "%s: unknown layer '%s' (nst models layers %s lists them)",
                                net->path, name, net->name);
            tap *t = k ? &e->style[i] : &e->content[i];
            t->layer = idx;
            t->weight = k ? p->style_layer_weights[i] / wsum : 1.0f / n;
            e->tapped[idx] = 1;
        }
    }
    e->nc = p->n_content_layers, e->ns = p->n_style_layers;
    int cmax = 0;
    for (int i = 0; i < e->ns; i++) {
        int c = net->layers[e->style[i].layer].cout;
        if (c > cmax) cmax = c;
    }
    e->gram = malloc((size_t)cmax * cmax * sizeof(float));
    e->dgram = malloc((size_t)cmax * cmax * sizeof(float));
    if (!e->gram || !e->dgram) return nst_fail(err, NST_ERR_RUNTIME, "out of memory");
    return NST_OK;
}

/* Blended Gram targets A_l = sum_k b_k gram_l(style_k) at this scale; each
 * style image is resized so its long side is style_scale * the content's. */
static int style_targets(engine *e, const nst_image *styles, int n_styles, int side,
                         nst_error *err) {
    const nst_stylize_params *p = e->p;
    unsigned char *only_style = calloc((size_t)e->net->n_layers, 1);
    if (!only_style) return nst_fail(err, NST_ERR_RUNTIME, "out of memory");
    for (int i = 0; i < e->ns; i++) only_style[e->style[i].layer] = 1;
    float bsum = 0;
    for (int k = 0; k < n_styles; k++) bsum += p->style_blend[k];
    int rc = NST_OK;
    for (int k = 0; k < n_styles && !rc; k++) {
        nst_image s = {0};
        net_plan plan;
        int w, h;
        nst_image_fit(styles[k].w, styles[k].h, (int)lroundf(side * p->style_scale), &w, &h);
        rc = nst_image_resize(&styles[k], w, h, &s, err);
        if (!rc) rc = plan_create(&plan, e->net, 1, h, w, only_style, p->padding, p->pooling, err);
        if (!rc) {
            plan_forward(&plan, s.data);
            for (int i = 0; i < e->ns; i++) {
                const plan_layer *L = &plan.L[e->style[i].layer];
                size_t cc = (size_t)L->c * L->c;
                float b = p->style_blend[k] / bsum;
                gram_matrix(L->c, L->h * L->w, L->out, e->gram);
                if (!e->style[i].target) e->style[i].target = calloc(cc, sizeof(float));
                if (!e->style[i].target) {
                    rc = nst_fail(err, NST_ERR_RUNTIME, "out of memory");
                    break;
                }
                for (size_t j = 0; j < cc; j++) e->style[i].target[j] += b * e->gram[j];
            }
            plan_destroy(&plan);
        }
        nst_image_free(&s);
    }
    free(only_style);
    return rc;
}

typedef struct {
    double content, style, tv;
} loss_terms;

/* L(x) and dL/dx for the current plan; returns the total. */
static double evaluate(engine *e, net_plan *plan, const float *x, float *g, loss_terms *t) {
    const nst_stylize_params *p = e->p;
    plan_forward(plan, x);
    plan_zero_loss_grads(plan);
    t->content = t->style = 0;
    for (int i = 0; i < e->nc; i++) {
        plan_layer *L = &plan->L[e->content[i].layer];
        size_t n = (size_t)L->c * L->h * L->w;
        t->content += content_loss(p->content_weight * e->content[i].weight, n, L->out,
                                   e->content[i].target, e->content[i].norm2, L->loss_grad);
    }
    for (int i = 0; i < e->ns; i++) {
        plan_layer *L = &plan->L[e->style[i].layer];
        t->style += style_loss(p->style_weight * e->style[i].weight, L->c, L->h * L->w, L->out,
                               e->style[i].target, e->style[i].norm2, e->gram, e->dgram,
                               L->loss_grad);
    }
    plan_backward(plan, g);
    t->tv = tv_loss(p->tv_weight, 3, plan->h, plan->w, x, g);
    return t->content + t->style + t->tv;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The starting image at the first scale. */
static int initial_image(const nst_stylize_params *p, const nst_image *content_s, nst_image *x,
                         nst_error *err) {
    int w = content_s->w, h = content_s->h;
    if (p->init == NST_INIT_IMAGE) return nst_image_resize(p->init_image, w, h, x, err);
    int rc = nst_image_alloc(x, w, h, err);
    if (rc) return rc;
    size_t n = (size_t)3 * w * h;
    if (p->init == NST_INIT_CONTENT) {
        memcpy(x->data, content_s->data, n * sizeof(float));
    } else { /* uniform noise in 0..255 */
        uint64_t s = p->seed;
        for (size_t i = 0; i < n; i++) x->data[i] = (float)((splitmix(&s) >> 40) * (255.0 / (1 << 24)));
    }
    return NST_OK;
}

typedef struct {
    int scales, iterations;
    double total_work, done_work; /* pixels x iterations, for the time estimate */
    double t0;
} schedule;

static int optimise_scale(engine *e, net_plan *plan, nst_image *x, int scale, schedule *sch,
                          nst_error *err) {
    const nst_stylize_params *p = e->p;
    size_t n = (size_t)3 * x->w * x->h;
    float *g = malloc(n * sizeof(float));
    if (!g) return nst_fail(err, NST_ERR_RUNTIME, "out of memory");
    adam_state adam = {0};
    lbfgs_state lbfgs = {0};
    int rc = p->optimizer == NST_OPT_ADAM
                 ? adam_init(&adam, n, p->learning_rate > 0 ? p->learning_rate : 10, err)
                 : lbfgs_init(&lbfgs, n, p->lbfgs_history, p->learning_rate > 0 ? p->learning_rate : 1,
                              err);
    double pixels = (double)x->w * x->h;
    for (int it = 1; it <= p->iterations && !rc; it++) {
        loss_terms t;
        double loss = evaluate(e, plan, x->data, g, &t);
        if (!isfinite(loss)) {
            rc = nst_fail(err, NST_ERR_RUNTIME,
                          "the loss diverged (%g) at iteration %d: lower --learning-rate or the "
                          "loss weights", loss, it);
            break;
        }
        sch->done_work += pixels;
        double elapsed = now() - sch->t0;
        if (p->progress) {
            nst_progress pr = {it, p->iterations, scale, sch->scales, loss, t.content, t.style, t.tv,
                               elapsed, elapsed / sch->done_work * (sch->total_work - sch->done_work),
                               x};
            p->progress(&pr, p->progress_user);
        }
        int converged;
        if (p->optimizer == NST_OPT_ADAM) {
            adam_step(&adam, x->data, g);
            converged = 0;
        } else {
            converged = lbfgs_step(&lbfgs, x->data, g, loss);
        }
        if (converged) {
            sch->done_work += pixels * (p->iterations - it);
            break;
        }
    }
    adam_free(&adam);
    lbfgs_free(&lbfgs);
    free(g);
    return rc;
}

static void engine_free(engine *e) {
    for (int i = 0; i < NST_MAX_LAYERS; i++) {
        free(e->content[i].target);
        free(e->style[i].target);
    }
    free(e->tapped);
    free(e->gram);
    free(e->dgram);
}

int nst_stylize(const nst_net *net, const nst_image *content, const nst_image *styles,
                int n_styles, const nst_stylize_params *p, nst_image *out, nst_error *err) {
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nst_fail(err, NST_ERR_USAGE, "between 1 and %d style images are needed", NST_MAX_STYLES);
    if (p->size < 16 || p->size > NST_MAX_SIDE)
        return nst_fail(err, NST_ERR_USAGE, "size %d out of range 16..%d", p->size, NST_MAX_SIDE);
    if (p->scales < 1 || (p->size >> (p->scales - 1)) < 16)
        return nst_fail(err, NST_ERR_USAGE, "--scales %d: the smallest scale would be under 16 px",
                        p->scales);
    engine e = {.net = net, .p = p};
    nst_image x = {0}, prev = {0}, content_s = {0};
    int rc = resolve_layers(&e, err);

    int W, H;
    nst_image_fit(content->w, content->h, p->size, &W, &H);
    schedule sch = {p->scales, p->iterations, 0, 0, now()};
    for (int s = 0; s < p->scales; s++) {
        int side = (int)lround(p->size / pow(2, p->scales - 1 - s));
        sch.total_work += (double)side * side * W * H / ((double)p->size * p->size) * p->iterations;
    }
    for (int s = 0; s < p->scales && !rc; s++) {
        int side = (int)lround(p->size / pow(2, p->scales - 1 - s)), w, h;
        nst_image_fit(content->w, content->h, side, &w, &h);
        net_plan plan;
        nst_image_free(&content_s);
        rc = nst_image_resize(content, w, h, &content_s, err);
        if (!rc) rc = plan_create(&plan, net, 1, h, w, e.tapped, p->padding, p->pooling, err);
        if (rc) break;
        plan_forward(&plan, content_s.data);
        for (int i = 0; i < e.nc && !rc; i++) {
            const plan_layer *L = &plan.L[e.content[i].layer];
            size_t m = (size_t)L->c * L->h * L->w;
            free(e.content[i].target);
            e.content[i].target = malloc(m * sizeof(float));
            if (!e.content[i].target) rc = nst_fail(err, NST_ERR_RUNTIME, "out of memory");
            else {
                memcpy(e.content[i].target, L->out, m * sizeof(float));
                e.content[i].norm2 = sumsq(L->out, m);
            }
        }
        for (int i = 0; i < e.ns; i++) {
            free(e.style[i].target);
            e.style[i].target = NULL;
        }
        if (!rc) rc = style_targets(&e, styles, n_styles, side, err);
        for (int i = 0; i < e.ns && !rc; i++) {
            int c = plan.L[e.style[i].layer].c;
            e.style[i].norm2 = sumsq(e.style[i].target, (size_t)c * c);
        }
        if (!rc) rc = s == 0 ? initial_image(p, &content_s, &x, err)
                             : nst_image_resize(&prev, w, h, &x, err);
        if (!rc) rc = optimise_scale(&e, &plan, &x, s + 1, &sch, err);
        plan_destroy(&plan);
        nst_image_free(&prev);
        prev = x;
        x = (nst_image){0};
    }
    if (!rc && p->original_colors) nst_image_keep_colors(&prev, &content_s);
    nst_image_free(&content_s);
    engine_free(&e);
    if (rc) {
        nst_image_free(&prev);
        return rc;
    }
    *out = prev;
    return NST_OK;
}
