/* stylize.c: optimisation-based style transfer (Gatys et al. 2016).
 *
 * The image x (0..255 RGB) minimises
 *   L(x) = content_weight * mean_l content_l(x)
 *        + style_weight * sum_l w_l style_l(x) / sum_l w_l
 *        + tv_weight * tv(x)
 * (normalisations in docs/losses.md), by L-BFGS or Adam, optionally coarse to
 * fine: optimise at size / 2^(scales-1), upsample, continue, up to size.
 *
 * Precision bf16 runs each scale in two stages: the loss network in bfloat16
 * for the first iterations, then in float32 for the last BF16_FINISH of them.
 * bfloat16's rounding makes the gradients noisy by a few per cent; L-BFGS
 * builds its curvature pairs from gradient differences, which that noise
 * swamps once the steps get small, so a bf16-only run converges more slowly
 * (measured at 256 px: +3.7 % loss after 150 iterations, +5.6 % after 300).
 * The float32 stage starts from the bf16 stage's image and optimiser state,
 * and its fresh curvature pairs replace the noisy ones (dropping the history
 * at the switch was worse). Measured final losses against float32: +3.8 %
 * with a 25 % float32 stage (256 px, 300 iterations), +1.1 % with 40 %
 * (160 px, 120 iterations, tests/test_precision.c; +3.1 % on an Intel Xeon
 * with AMX, where the gap grows to +8.9 % after 240 iterations). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "optim/optim.h"
#include "stylize/checkpoint.h"
#include "stylize/loss_engine.h"

#define BF16_FINISH 0.4 /* share of a scale's iterations run in float32 */

void nst_stylize_params_init(nst_stylize_params *p) {
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
    p->report_every = 1;
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
        for (size_t i = 0; i < n; i++) x->data[i] = (float)((splitmix64(&s) >> 40) * (255.0 / (1 << 24)));
    }
    return NST_OK;
}

/* The temporal target and mask at w x h (replacing what t and m held). */
static int temporal_at(const nst_stylize_params *p, int w, int h, nst_image *t, nst_image *m,
                       nst_error *err) {
    nst_image_free(t);
    nst_image_free(m);
    int rc = nst_image_resize(p->temporal_target, w, h, t, err);
    return rc ? rc : nst_image_resize(p->temporal_mask, w, h, m, err);
}

static int check_regions(const nst_stylize_params *p, int n_styles, nst_error *err) {
    const nst_regions *r = p->regions;
    if (!r) return NST_OK;
    if (r->n < 1 || r->n > NST_MAX_REGIONS || r->w < 1 || r->h < 1 || !r->weight)
        return nst_fail(err, NST_ERR_ARG, "regions: %d regions of %dx%d (1..%d regions of a mask, "
                        "from nst_regions_from_mask)", r->n, r->w, r->h, NST_MAX_REGIONS);
    int painted = 0;
    for (int k = 0; k < r->n; k++) {
        if (p->region_style[k] < -1 || p->region_style[k] >= n_styles)
            return nst_fail(err, NST_ERR_ARG, "region %d: style %d, but there are %d style images", k + 1,
                            p->region_style[k], n_styles);
        painted += p->region_style[k] >= 0;
    }
    if (!painted) return nst_fail(err, NST_ERR_ARG, "no region has a style: every region keeps the photo");
    return NST_OK;
}

/* Regions without a style get the photo back, blended by their weights. */
static int keep_photo_regions(const nst_stylize_params *p, const nst_image *photo, nst_image *x,
                              nst_error *err) {
    const nst_image *pics[NST_MAX_REGIONS];
    int keep = 0;
    for (int k = 0; k < p->regions->n; k++) {
        pics[k] = p->region_style[k] < 0 ? NULL : x;
        keep |= !pics[k];
    }
    if (!keep) return NST_OK;
    nst_image blended;
    int rc = nst_regions_blend(p->regions, pics, photo, &blended, err);
    if (rc) return rc;
    nst_image_free(x);
    *x = blended;
    return NST_OK;
}

/* The loss evaluated through one engine and plan up to iteration `last`. */
typedef struct {
    loss_engine *e;
    plan *plan;
    int last;
} stage;

typedef struct {
    int scales, iterations;
    double total_work, done_work; /* pixels x iterations, for the time estimate */
    double t0;
    /* the estimate starts after a warm-up: the first iteration carries the
     * setup (plans, style targets) and would make it several times too long */
    int reported;
    double warm_t, warm_work;
    tensor_dict *resume;      /* a loaded checkpoint for this scale, or NULL */
    int first;                    /* first iteration of this scale (1, or after the checkpoint) */
} schedule;

static int optimise_scale(const stage *stages, nst_image *x, int scale, schedule *sch,
                          nst_error *err) {
    const stage *cur = stages;
    const nst_stylize_params *p = cur->e->p;
    size_t n = (size_t)3 * x->w * x->h;
    float *g = malloc(n * sizeof(float));
    if (!g) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    adam_state adam = {0};
    lbfgs_state lbfgs = {0};
    int rc = p->optimizer == NST_OPT_ADAM
                 ? adam_init(&adam, n, p->learning_rate > 0 ? p->learning_rate : 10, err)
                 : lbfgs_init(&lbfgs, n, p->lbfgs_history, p->learning_rate > 0 ? p->learning_rate : 1,
                              err);
    if (!rc && sch->resume) rc = ckpt_restore(sch->resume, x, p->optimizer, &adam, &lbfgs, err);
    double pixels = (double)x->w * x->h;
    for (int it = sch->first; it <= p->iterations && !rc; it++) {
        if (p->cancel && *p->cancel) {
            rc = nst_fail(err, NST_ERR_CANCELLED, "cancelled at iteration %d", it);
            break;
        }
        while (it > cur->last) cur++;
        loss_terms t;
        double loss = engine_evaluate(cur->e, cur->plan, x->data, g, &t);
        if (!isfinite(loss)) {
            rc = nst_fail(err, NST_ERR_RUNTIME,
                          "the loss diverged (%g) at iteration %d: lower the learning rate or the "
                          "loss weights", loss, it);
            break;
        }
        sch->done_work += pixels;
        double elapsed = now_seconds() - sch->t0;
        if (++sch->reported == 2) sch->warm_t = elapsed, sch->warm_work = sch->done_work;
        double rate = sch->reported > 2 ? (elapsed - sch->warm_t) / (sch->done_work - sch->warm_work) : -1;
        if (p->progress && p->report_every > 0 && (it % p->report_every == 0 || it == p->iterations)) {
            nst_progress pr = {it, p->iterations, scale, sch->scales, loss, t.content, t.style, t.tv,
                               elapsed, rate < 0 ? -1 : rate * (sch->total_work - sch->done_work), x};
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
        if (p->checkpoint && p->checkpoint_every > 0 && it % p->checkpoint_every == 0) {
            ckpt_position pos = {scale, it, sch->done_work, now_seconds() - sch->t0};
            rc = ckpt_save(p->checkpoint, &pos, x, p->optimizer, &adam, &lbfgs, err);
        }
    }
    adam_free(&adam);
    lbfgs_free(&lbfgs);
    free(g);
    return rc;
}

static int stylize(const nst_net *net, const nst_image *content, const nst_image *styles,
                   int n_styles, const nst_stylize_params *p, nst_image *out, nst_error *err) {
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nst_fail(err, NST_ERR_ARG, "between 1 and %d style images are needed", NST_MAX_STYLES);
    if (p->size < 16 || p->size > NST_MAX_SIDE)
        return nst_fail(err, NST_ERR_ARG, "size %d out of range 16..%d", p->size, NST_MAX_SIDE);
    if (p->scales < 1 || (p->size >> (p->scales - 1)) < 16)
        return nst_fail(err, NST_ERR_ARG, "%d scales: the smallest would be under 16 px",
                        p->scales);
    if (p->color_transfer < NST_COLOR_NONE || p->color_transfer > NST_COLOR_HISTOGRAM)
        return nst_fail(err, NST_ERR_ARG, "colour transfer %d: not one of NST_COLOR_*", p->color_transfer);
    if (!p->temporal_target != !p->temporal_mask)
        return nst_fail(err, NST_ERR_ARG, "the temporal term needs both a target and a mask");
    int rc = check_regions(p, n_styles, err);
    if (rc) return rc;
    loss_engine e, e32 = {0};
    nst_image x = {0}, prev = {0}, content_s = {0}, target_s = {0}, mask_s = {0};
    rc = engine_init(&e, net, p, err);
    /* bf16: the float32 engine of the finishing stage */
    nst_stylize_params p32 = *p;
    p32.precision = NST_PRECISION_FP32;
    int staged = p->precision == NST_PRECISION_BF16;
    if (!rc && staged) rc = engine_init(&e32, net, &p32, err);

    /* histogram colour control: the paintings recoloured to the photo's
     * colour moments, before any target is computed from them */
    nst_image recoloured[NST_MAX_STYLES] = {{0}};
    if (p->color_transfer == NST_COLOR_HISTOGRAM) {
        for (int k = 0; k < n_styles && !rc; k++) {
            rc = nst_image_alloc(&recoloured[k], styles[k].w, styles[k].h, err);
            if (rc) break;
            memcpy(recoloured[k].data, styles[k].data, (size_t)3 * styles[k].w * styles[k].h * sizeof(float));
            nst_image_match_colors(&recoloured[k], content);
        }
        styles = recoloured;
    }
    int W, H;
    nst_image_fit(content->w, content->h, p->size, &W, &H);
    schedule sch = {.scales = p->scales, .iterations = p->iterations, .t0 = now_seconds(), .first = 1};
    ckpt_position pos = {1, 0, 0, 0};
    tensor_dict resume = {0};
    if (!rc && p->resume) {
        if (!p->checkpoint) rc = nst_fail(err, NST_ERR_ARG, "resume needs a checkpoint file");
        else rc = ckpt_load(p->checkpoint, p->optimizer, &pos, &resume, err);
        if (!rc && pos.scale > p->scales)
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: checkpoint of scale %d, but there are %d",
                          p->checkpoint, pos.scale, p->scales);
        sch.done_work = pos.done_work;
        sch.t0 -= pos.elapsed;
    }
    for (int s = 0; s < p->scales; s++) {
        int side = (int)lround(p->size / pow(2, p->scales - 1 - s));
        sch.total_work += (double)side * side * W * H / ((double)p->size * p->size) * p->iterations;
    }
    for (int s = pos.scale - 1; s < p->scales && !rc; s++) {
        int side = (int)lround(p->size / pow(2, p->scales - 1 - s)), w, h;
        nst_image_fit(content->w, content->h, side, &w, &h);
        plan plan, plan32 = {0};
        nst_image_free(&content_s);
        rc = nst_image_resize(content, w, h, &content_s, err);
        if (!rc && p->temporal_target) rc = temporal_at(p, w, h, &target_s, &mask_s, err);
        e.temporal_target = e32.temporal_target = target_s.data;
        e.temporal_mask = e32.temporal_mask = mask_s.data;
        if (!rc) rc = engine_plan(&e, &plan, 1, h, w, err);
        if (rc) break;
        rc = engine_content_targets(&e, &plan, content_s.data, err);
        if (!rc) rc = engine_style_targets(&e, styles, n_styles, side, err);
        stage stages[2] = {{&e, &plan, p->iterations}, {&e32, &plan32, p->iterations}};
        if (!rc && staged) {
            stages[0].last = p->iterations - (int)ceil(BF16_FINISH * p->iterations);
            rc = engine_plan(&e32, &plan32, 1, h, w, err);
            if (!rc) rc = engine_content_targets(&e32, &plan32, content_s.data, err);
            if (!rc) rc = engine_style_targets(&e32, styles, n_styles, side, err);
        }
        int resuming = p->resume && s == pos.scale - 1;
        sch.resume = resuming ? &resume : NULL;
        sch.first = resuming ? pos.iteration + 1 : 1;
        if (!rc) rc = resuming ? nst_image_alloc(&x, w, h, err)
                      : s == 0 ? initial_image(p, &content_s, &x, err)
                               : nst_image_resize(&prev, w, h, &x, err);
        if (!rc) rc = optimise_scale(stages, &x, s + 1, &sch, err);
        plan_destroy(&plan);
        plan_destroy(&plan32);
        nst_image_free(&prev);
        prev = x;
        x = (nst_image){0};
    }
    if (!rc && p->color_transfer == NST_COLOR_LUMINANCE) nst_image_keep_colors(&prev, &content_s);
    if (!rc && p->regions) rc = keep_photo_regions(p, &content_s, &prev, err);
    nst_image_free(&content_s);
    nst_image_free(&target_s);
    nst_image_free(&mask_s);
    for (int k = 0; k < n_styles; k++) nst_image_free(&recoloured[k]);
    dict_free(&resume);
    engine_free(&e);
    if (staged) engine_free(&e32);
    if (rc) {
        nst_image_free(&prev);
        return rc;
    }
    *out = prev;
    return NST_OK;
}

/* The peak of stylize() at one scale of w x h (n = 3wh floats): the loss
 * network's plan (and the float32 one of a bf16 run's finish), the images
 * (content, result, the previous scale's result, a temporal target and
 * mask), then the larger of the style targets' plans (made and freed
 * before the optimisation) and the optimiser's state with the gradient:
 * L-BFGS 2 x history pairs + 3 vectors, Adam 2. */
static int memory_at(loss_engine *e, loss_engine *e32, const nst_image *styles, int n_styles, int w, int h,
                     int side, double *bytes, nst_error *err) {
    const nst_stylize_params *p = e->p;
    double n = 3.0 * w * h * sizeof(float), net, style, net32 = 0, style32 = 0;
    int rc = engine_memory(e, styles, n_styles, h, w, side, &net, &style, err);
    if (!rc && e32) rc = engine_memory(e32, styles, n_styles, h, w, side, &net32, &style32, err);
    if (rc) return rc;
    double images = 3 * n + (p->temporal_target ? 4.0 / 3 * n : 0);
    double optimiser = n * (p->optimizer == NST_OPT_ADAM ? 2 + 1 : 2.0 * p->lbfgs_history + 3 + 1);
    *bytes = net + net32 + images + (style > optimiser ? style : optimiser);
    return NST_OK;
}

int nst_stylize_memory(const nst_net *net, int content_w, int content_h, const nst_image *styles, int n_styles,
                       const nst_stylize_params *p, double *bytes, nst_error *err) {
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nst_fail(err, NST_ERR_ARG, "between 1 and %d style images are needed", NST_MAX_STYLES);
    if (p->size < 16 || p->size > NST_MAX_SIDE || p->scales < 1 || (p->size >> (p->scales - 1)) < 16)
        return nst_fail(err, NST_ERR_ARG, "size %d with %d scales is out of range", p->size, p->scales);
    nst_stylize_params p32 = *p;
    p32.precision = NST_PRECISION_FP32;
    int staged = p->precision == NST_PRECISION_BF16;
    loss_engine e, e32 = {0};
    dn_run_reset();
    int rc = engine_init(&e, net, p, err);
    if (!rc && staged) rc = engine_init(&e32, net, &p32, err);
    *bytes = 0;
    for (int s = 0; s < p->scales && !rc; s++) {
        int side = (int)lround(p->size / pow(2, p->scales - 1 - s)), w, h;
        double b;
        nst_image_fit(content_w, content_h, side, &w, &h);
        rc = memory_at(&e, staged ? &e32 : NULL, styles, n_styles, w, h, side, &b, err);
        if (!rc && b > *bytes) *bytes = b;
    }
    engine_free(&e);
    if (staged) engine_free(&e32);
    return dn_run_status(rc, err);
}

int nst_stylize(const nst_net *net, const nst_image *content, const nst_image *styles,
                int n_styles, const nst_stylize_params *p, nst_image *out, nst_error *err) {
    dn_run_reset();
    return dn_run_status(stylize(net, content, styles, n_styles, p, out, err), err);
}
