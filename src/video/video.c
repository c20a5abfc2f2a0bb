/* video.c: nst_video, painting a clip frame by frame with temporal
 * consistency (nst.h).
 *
 * For frame t with input I_t, the backward flow b (t -> t-1) and the
 * forward flow f (t-1 -> t) come from DIS on the inputs' luma; the mask M_t
 * marks pixels where b passes the forward-backward check (temporal.h).
 * Warping by b brings frame t-1 into frame t's geometry: W(X)(p) =
 * X_{t-1}(p + b(p)).
 *  - Feed-forward: O_t = M_t (a W(O) + (1 - a) S_t) + (1 - M_t) S_t with S_t
 *    the network's painting of I_t and a = temporal: strokes move with the
 *    scene instead of being painted anew, and occluded pixels take the new
 *    painting. The history decays as a^k, so nothing is smeared for long.
 *  - Optimisation (Ruder et al. 2016): frame t starts from W(O) and its loss
 *    adds temporal * NST_VIDEO_TEMPORAL_LOSS * mean(M_t (x - W(O))^2).
 * A scene cut (the input's mean change against W(I) over reliable pixels
 * above scene_cut) starts the history afresh: the flow across a cut is
 * meaningless, and blending would carry one shot into the next. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "feedforward/apply.h"
#include "feedforward/arbitrary.h"
#include "models/generator.h"
#include "video/flow.h"
#include "video/temporal.h"
#include "video/video.h"

/* What paints a frame in one pass: a style network, or the arbitrary
 * pair's transfer network with a style vector; its plan is built once
 * when the frame fits one. */
typedef struct {
    const nst_generator *net;
    const float *style;
    int planned;
    plan plan;
} frame_painter;

struct nst_video {
    nst_video_params p;
    int w, h, frames;
    int n_painters;           /* NET, ARBITRARY: one, or one per region (none: net
                               * and style NULL) */
    frame_painter painter[NST_MAX_REGIONS];
    flow_estimator *fwd, *bwd;
    /* one allocation behind everything below */
    float *arena;
    float *uv_ba, *uv_ab;     /* 2 x h x w, interleaved */
    float *mask;              /* h x w */
    nst_image prev_in, prev_out, warped_in, warped_out; /* 3 x h x w each */
    uint8_t *gray_prev, *gray_cur;
};

void nst_video_params_init(nst_video_params *p) {
    memset(p, 0, sizeof *p);
    p->method = NST_VIDEO_NET;
    nst_apply_params_init(&p->apply);
    nst_stylize_params_init(&p->stylize);
    p->iterations_first = 2 * p->stylize.iterations;
    p->temporal = 0.6f;
    p->scene_cut = 20;
}

/* The frame size is fixed, so a painter's plan is built once; frames
 * beyond the tile size go through nst_apply's tiles (the arbitrary transfer
 * network also: sides not a multiple of 4, and a strength below 1, which
 * takes each frame's own style vector). */
static int plan_painter(nst_video *v, frame_painter *pt, nst_error *err) {
    const nst_video_params *p = &v->p;
    int arb = !pt->net;
    int T = (p->apply.tile ? p->apply.tile : arb ? ARB_AUTO_TILE : 1024) / 4 * 4;
    int plannable = !arb || (v->w % 4 == 0 && v->h % 4 == 0 && p->apply.strength >= 1);
    if (!pt->net && !pt->style) return NST_OK; /* a region kept as the frame */
    if (!plannable || v->w > T || v->h > T) return NST_OK;
    static const plan_opts infer; /* forward only */
    int rc = plan_create(&pt->plan, arb ? &p->arbitrary->transfer : &pt->net->g, 1, v->h, v->w, &infer, err);
    if (!rc && arb) plan_set_input(&pt->plan, 1, pt->style);
    pt->planned = !rc;
    return rc;
}

static int video_open(const nst_video_params *p, int w, int h, nst_video **out, nst_error *err) {
    *out = NULL;
    if (w < 16 || h < 16 || w > NST_MAX_SIDE || h > NST_MAX_SIDE || (long)w * h > NST_MAX_PIXELS)
        return nst_fail(err, NST_ERR_ARG, "frames of %dx%d: each side must be 16..%d", w, h, NST_MAX_SIDE);
    if (!(p->temporal >= 0 && p->temporal <= 1))
        return nst_fail(err, NST_ERR_ARG, "temporal weight %g out of range 0..1", p->temporal);
    if (!(p->scene_cut > 0))
        return nst_fail(err, NST_ERR_ARG, "scene-cut threshold %g must be positive", p->scene_cut);
    if (p->regions && (p->method == NST_VIDEO_OPTIMIZE || p->regions->n < 1 || p->regions->n > NST_MAX_REGIONS))
        return nst_fail(err, NST_ERR_ARG, p->method == NST_VIDEO_OPTIMIZE
                                              ? "video: an optimisation takes its regions in stylize.regions"
                                              : "video: 1..%d regions", NST_MAX_REGIONS);
    for (int r = 0; p->regions && r < p->regions->n; r++)
        if (!p->region_net[r] && p->region_style[r] && !p->arbitrary)
            return nst_fail(err, NST_ERR_ARG, "video: region %d has a style vector but no arbitrary-style pair", r + 1);
    if (p->method == NST_VIDEO_NET && !p->net && !p->regions)
        return nst_fail(err, NST_ERR_ARG, "video: a style network is needed");
    if (p->method == NST_VIDEO_OPTIMIZE && (!p->loss_net || !p->styles || p->n_styles < 1))
        return nst_fail(err, NST_ERR_ARG, "video: a loss network and a style image are needed");
    if (p->method == NST_VIDEO_ARBITRARY && !p->regions && (!p->arbitrary || !p->style_vector))
        return nst_fail(err, NST_ERR_ARG, "video: the arbitrary-style pair and a style vector are needed");
    if (p->method != NST_VIDEO_NET && p->method != NST_VIDEO_OPTIMIZE && p->method != NST_VIDEO_ARBITRARY)
        return nst_fail(err, NST_ERR_ARG, "video: unknown method %d", p->method);
    int rc = p->method != NST_VIDEO_OPTIMIZE ? apply_check(&p->apply, err) : NST_OK;
    if (rc) return rc;
    nst_video *v = calloc(1, sizeof *v);
    if (!v) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    v->p = *p, v->w = w, v->h = h;
    size_t n = (size_t)w * h;
    /* floats: two flows, the mask, four frames; then two grey frames */
    v->arena = malloc((2 * 2 + 1 + 4 * 3) * n * sizeof(float) + 2 * n);
    if (!v->arena) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory for %dx%d video frames", w, h);
    if (!rc) {
        float *a = v->arena;
        v->uv_ba = a, a += 2 * n;
        v->uv_ab = a, a += 2 * n;
        v->mask = a, a += n;
        nst_image *frames[4] = {&v->prev_in, &v->prev_out, &v->warped_in, &v->warped_out};
        for (int i = 0; i < 4; i++) *frames[i] = (nst_image){.w = w, .h = h, .data = a}, a += 3 * n;
        v->gray_prev = (uint8_t *)a;
        v->gray_cur = v->gray_prev + n;
        rc = flow_create(FLOW_MEDIUM, &v->fwd, err);
    }
    if (!rc) rc = flow_create(FLOW_MEDIUM, &v->bwd, err);
    if (p->method != NST_VIDEO_OPTIMIZE) {
        v->n_painters = p->regions ? p->regions->n : 1;
        for (int r = 0; r < v->n_painters && !rc; r++) {
            frame_painter *pt = &v->painter[r];
            pt->net = p->regions ? p->region_net[r] : p->method == NST_VIDEO_NET ? p->net : NULL;
            pt->style = pt->net ? NULL : p->regions ? p->region_style[r] : p->style_vector;
            rc = plan_painter(v, pt, err);
        }
    }
    if (rc) {
        nst_video_close(v);
        return rc;
    }
    *out = v;
    return NST_OK;
}

int nst_video_open(const nst_video_params *p, int w, int h, nst_video **out, nst_error *err) {
    dn_run_reset();
    int rc = dn_run_status(video_open(p, w, h, out, err), err);
    if (rc && *out) nst_video_close(*out), *out = NULL;
    return rc;
}

/* The painting of `in` alone (before the temporal blend) into out; init is
 * the optimisation's starting image and temporal target (NULL: none), and
 * the first frame of a shot gets iterations_first. */
static int paint_one(nst_video *v, frame_painter *pt, const nst_image *in, nst_image *out, nst_error *err) {
    const nst_video_params *p = &v->p;
    nst_apply_params ap = p->apply;
    ap.size = 0;
    int arb = !pt->net;
    if (!pt->planned)
        return arb ? nst_arbitrary_apply(p->arbitrary, in, pt->style, &ap, out, err) : nst_apply(pt->net, in, &ap, out, err);
    int rc = nst_image_alloc(out, v->w, v->h, err);
    if (rc) return rc;
    plan_forward(&pt->plan, in->data, 0);
    memcpy(out->data, pt->plan.output, (size_t)3 * v->w * v->h * sizeof(float));
    if (arb) nst_image_color_control(out, in, ap.color_transfer);
    else apply_finish(out, in, &ap);
    return NST_OK;
}

/* Regions: each painted whole, blended by the weights (the frame where a
 * region has no painter). */
static int paint_regions(nst_video *v, const nst_image *in, nst_image *out, nst_error *err) {
    nst_image pics[NST_MAX_REGIONS] = {{0}};
    const nst_image *use[NST_MAX_REGIONS] = {0};
    int rc = NST_OK;
    for (int r = 0; r < v->n_painters && !rc; r++) {
        frame_painter *pt = &v->painter[r];
        if (!pt->net && !pt->style) continue;
        rc = paint_one(v, pt, in, &pics[r], err);
        use[r] = &pics[r];
    }
    if (!rc) rc = nst_regions_blend(v->p.regions, use, in, out, err);
    for (int r = 0; r < v->n_painters; r++) nst_image_free(&pics[r]);
    return rc;
}

static int keep_frame_regions(nst_video *v, const nst_image *in, nst_image *out, nst_error *err) {
    const nst_image *use[NST_MAX_REGIONS];
    for (int r = 0; r < v->n_painters; r++) use[r] = v->painter[r].net || v->painter[r].style ? out : NULL;
    nst_image kept;
    int rc = nst_regions_blend(v->p.regions, use, in, &kept, err);
    if (rc) return rc;
    nst_image_free(out);
    *out = kept;
    return NST_OK;
}

static int paint(nst_video *v, const nst_image *in, const nst_image *init, int first,
                 nst_image *out, nst_error *err) {
    const nst_video_params *p = &v->p;
    if (p->method != NST_VIDEO_OPTIMIZE)
        return p->regions ? paint_regions(v, in, out, err) : paint_one(v, &v->painter[0], in, out, err);
    nst_stylize_params sp = p->stylize;
    int side = v->w > v->h ? v->w : v->h;
    sp.size = side;
    nst_image mask3 = {0};
    if (init) {
        /* the mask as an image: one weight per pixel, the same for R, G and B */
        size_t n = (size_t)v->w * v->h;
        int rc = nst_image_alloc(&mask3, v->w, v->h, err);
        if (rc) return rc;
        for (int k = 0; k < 3; k++) memcpy(mask3.data + k * n, v->mask, n * sizeof(float));
        sp.init = NST_INIT_IMAGE;
        sp.init_image = init;
        sp.temporal_target = init;
        sp.temporal_mask = &mask3;
        sp.temporal_weight = p->temporal * NST_VIDEO_TEMPORAL_LOSS;
    }
    if (first) sp.iterations = p->iterations_first;
    int rc = nst_stylize(p->loss_net, in, p->styles, p->n_styles, &sp, out, err);
    nst_image_free(&mask3);
    return rc;
}

static int video_frame(nst_video *v, const nst_image *in, nst_image *out, nst_video_frame_info *info,
                       nst_error *err) {
    nst_video_frame_info fi = {v->frames, v->frames == 0, 0, 0, -1, -1, 0, 0, 0};
    *out = (nst_image){0};
    if (in->w != v->w || in->h != v->h)
        return nst_fail(err, NST_ERR_ARG, "video frame %d is %dx%d, the clip's frames are %dx%d",
                        v->frames, in->w, in->h, v->w, v->h);
    size_t n = (size_t)v->w * v->h;
    const nst_video_params *p = &v->p;
    int temporal = p->temporal > 0, flows = v->frames > 0 && (temporal || p->measure);
    double t0 = now_seconds();
    temporal_gray(in, v->gray_cur);
    int rc = NST_OK;
    if (flows) {
        rc = flow_compute(v->bwd, v->gray_cur, v->gray_prev, v->w, v->h, v->uv_ba, err);
        if (!rc) rc = flow_compute(v->fwd, v->gray_prev, v->gray_cur, v->w, v->h, v->uv_ab, err);
        if (rc) return rc;
        fi.reliable = temporal_mask(v->uv_ba, v->uv_ab, v->w, v->h, v->mask);
        temporal_warp(v->prev_in.data, 3, v->w, v->h, v->uv_ba, v->warped_in.data);
        temporal_warp(v->prev_out.data, 3, v->w, v->h, v->uv_ba, v->warped_out.data);
        double werr;
        temporal_diff(in->data, v->warped_in.data, v->mask, v->w, v->h, &werr, &fi.change);
        fi.cut = fi.change > p->scene_cut;
        if (!fi.cut) fi.warp_error_input = werr;
    }
    double t1 = now_seconds();
    int hold = temporal && flows && !fi.cut; /* this frame holds to the previous one */
    rc = paint(v, in, hold ? &v->warped_out : NULL, fi.cut, out, err);
    if (rc) return rc;
    double t2 = now_seconds();
    if (hold && p->method != NST_VIDEO_OPTIMIZE) {
        temporal_blend(out->data, v->warped_out.data, v->mask, p->temporal, v->w, v->h, out->data);
        /* the history's blend brought the previous frame into the regions
         * kept as the frame: they get this one again */
        if (p->regions && (rc = keep_frame_regions(v, in, out, err))) return rc;
    }
    if (flows && !fi.cut)
        temporal_diff(out->data, v->warped_out.data, v->mask, v->w, v->h, &fi.warp_error, NULL);
    memcpy(v->prev_in.data, in->data, 3 * n * sizeof(float));
    memcpy(v->prev_out.data, out->data, 3 * n * sizeof(float));
    uint8_t *g = v->gray_prev;
    v->gray_prev = v->gray_cur, v->gray_cur = g;
    v->frames++;
    fi.t_flow = t1 - t0, fi.t_paint = t2 - t1, fi.t_blend = now_seconds() - t2;
    if (info) *info = fi;
    return NST_OK;
}

int nst_video_frame(nst_video *v, const nst_image *in, nst_image *out, nst_video_frame_info *info,
                    nst_error *err) {
    dn_run_reset();
    return dn_run_status(video_frame(v, in, out, info, err), err);
}

void video_restore(nst_video *v, const nst_image *prev_in, const nst_image *prev_out, int frames) {
    size_t n = (size_t)v->w * v->h;
    memcpy(v->prev_in.data, prev_in->data, 3 * n * sizeof(float));
    memcpy(v->prev_out.data, prev_out->data, 3 * n * sizeof(float));
    temporal_gray(prev_in, v->gray_prev);
    v->frames = frames;
}

void nst_video_close(nst_video *v) {
    if (!v) return;
    for (int r = 0; r < v->n_painters; r++)
        if (v->painter[r].planned) plan_destroy(&v->painter[r].plan);
    flow_free(v->fwd);
    flow_free(v->bwd);
    free(v->arena);
    free(v);
}
