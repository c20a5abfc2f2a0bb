/* test_video.c: optical flow, the occlusion check, warping and the temporal
 * loss on clips made here with exact ground truth (a pan, a zoom and a
 * square moving over a photo), and nst_video on such clips: the first
 * frame equals nst_apply, temporal consistency lowers the warping error,
 * scene cuts reset the history, and the optimisation's temporal term holds
 * a frame to its predecessor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "losses/losses.h"
#include "testutil.h"
#include "video/flow.h"
#include "video/temporal.h"

#define W 320
#define H 240

static nst_image photo, other; /* the backgrounds the clips are cut from */

/* Bilinear sample of src (clamped) at (x, y) into the three planes of dst at i. */
static void put(const nst_image *src, double x, double y, nst_image *dst, size_t i) {
    x = fmin(fmax(x, 0), src->w - 1.001), y = fmin(fmax(y, 0), src->h - 1.001);
    int x0 = (int)x, y0 = (int)y;
    double fx = x - x0, fy = y - y0;
    size_t n = (size_t)src->w * src->h, m = (size_t)dst->w * dst->h;
    for (int c = 0; c < 3; c++) {
        const float *s = src->data + c * n + (size_t)y0 * src->w + x0;
        dst->data[c * m + i] = (float)((1 - fy) * ((1 - fx) * s[0] + fx * s[1]) +
                                       fy * ((1 - fx) * s[src->w] + fx * s[src->w + 1]));
    }
}

/* Frame of a camera over `photo`: pixel p shows photo((p - centre) / zoom + at). */
static void camera(double ax, double ay, double zoom, nst_image *f) {
    nst_error err;
    if (!f->data) nst_image_alloc(f, W, H, &err);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            put(&photo, (x - W / 2.0) / zoom + ax, (y - H / 2.0) / zoom + ay, f, (size_t)y * W + x);
}

/* `photo` as background at (ax, ay) with a 64 px square of `other` at (sx, sy). */
static void square_over(int sx, int sy, nst_image *f) {
    camera(300, 200, 1, f);
    for (int y = sy; y < sy + 64; y++)
        for (int x = sx; x < sx + 64; x++) put(&other, 100 + x - sx, 100 + y - sy, f, (size_t)y * W + x);
}

typedef struct {
    float uv_ba[2 * W * H], uv_ab[2 * W * H], mask[W * H];
    uint8_t ga[W * H], gb[W * H];
} flows;

/* Flows between a and b (b -> a and a -> b) and b's mask. */
static double flow_pair(flow_estimator *f, const nst_image *a, const nst_image *b, flows *fl) {
    nst_error err;
    temporal_gray(a, fl->ga);
    temporal_gray(b, fl->gb);
    int rc = flow_compute(f, fl->gb, fl->ga, W, H, fl->uv_ba, &err);
    if (!rc) rc = flow_compute(f, fl->ga, fl->gb, W, H, fl->uv_ab, &err);
    CHECK(rc == 0, "flow: %s", err.msg);
    return temporal_mask(fl->uv_ba, fl->uv_ab, W, H, fl->mask);
}

/* Mean end-point error of uv against gt(x, y) over pixels `margin` from the edges. */
typedef void (*gt_flow)(int x, int y, double *u, double *v);
static double epe(const float *uv, gt_flow gt, int margin) {
    double s = 0;
    long n = 0;
    for (int y = margin; y < H - margin; y++)
        for (int x = margin; x < W - margin; x++, n++) {
            double u, v;
            gt(x, y, &u, &v);
            const float *p = uv + 2 * ((size_t)y * W + x);
            s += hypot(p[0] - u, p[1] - v);
        }
    return s / n;
}

/* Share of reliable pixels in the rectangle [x0, x1) x [y0, y1). */
static double reliable_in(const float *mask, int x0, int y0, int x1, int y1) {
    double s = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) s += mask[(size_t)y * W + x];
    return s / ((double)(x1 - x0) * (y1 - y0));
}

static void gt_pan(int x, int y, double *u, double *v) { (void)x, (void)y, *u = 3.5, *v = -2.25; }
#define ZOOM 1.03
static void gt_zoom(int x, int y, double *u, double *v) {
    /* frame 1 at zoom Z shows what frame 0 (zoom 1) shows at centre + (p - centre) / Z */
    *u = (x - W / 2.0) / ZOOM - (x - W / 2.0), *v = (y - H / 2.0) / ZOOM - (y - H / 2.0);
}
static void gt_square(int x, int y, double *u, double *v) {
    *u = x >= 108 && x < 172 && y >= 90 && y < 154 ? -8 : 0, *v = 0;
}

static void test_flow(void) {
    nst_error err;
    flow_estimator *f;
    if (flow_create(FLOW_MEDIUM, &f, &err)) {
        CHECK(0, "flow_create: %s", err.msg);
        return;
    }
    static flows fl;
    nst_image a = {0}, b = {0};

    /* a pan by (-3.5, +2.25): frame 1's pixel p was at p + (3.5, -2.25) in frame 0 */
    camera(300, 200, 1, &a);
    camera(303.5, 197.75, 1, &b);
    double rel = flow_pair(f, &a, &b, &fl);
    double e = epe(fl.uv_ba, gt_pan, 16);
    double right = reliable_in(fl.mask, W - 3, 0, W, H), inner = reliable_in(fl.mask, 16, 16, W - 16, H - 16);
    printf("  pan: end-point error %.3f px, reliable %.3f (interior %.3f, entering edge %.3f)\n", e, rel,
           inner, right);
    CHECK(e < 0.2, "pan: end-point error %.3f px", e);
    CHECK(inner > 0.97, "pan: only %.3f of the interior reliable", inner);
    CHECK(right < 0.05, "pan: %.3f of the entering columns (not in frame 0) marked reliable", right);
    /* warping frame 0 by the true flow gives frame 1 (bilinear: to a grey level) */
    static float uv[2 * W * H], warped[3 * W * H];
    for (size_t i = 0; i < (size_t)W * H; i++) uv[2 * i] = 3.5f, uv[2 * i + 1] = -2.25f;
    temporal_warp(a.data, 3, W, H, uv, warped);
    double s = 0;
    long n = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 8; y < H - 8; y++)
            for (int x = 8; x < W - 8; x++, n++) {
                size_t i = (size_t)c * W * H + (size_t)y * W + x;
                s += fabs(warped[i] - b.data[i]);
            }
    printf("  pan: frame 0 warped by the true flow against frame 1: %.3f grey levels mean\n", s / n);
    CHECK(s / n < 1.0, "warp by the true flow: %.3f grey levels from frame 1", s / n);

    /* a zoom in by 3 % */
    camera(300, 200, 1, &a);
    camera(300, 200, ZOOM, &b);
    rel = flow_pair(f, &a, &b, &fl);
    e = epe(fl.uv_ba, gt_zoom, 16);
    printf("  zoom: end-point error %.3f px (flow up to %.1f px), reliable %.3f\n", e,
           W / 2.0 * (1 - 1 / ZOOM), rel);
    CHECK(e < 0.3, "zoom: end-point error %.3f px", e);
    CHECK(rel > 0.9, "zoom: only %.3f reliable", rel);

    /* a square moving 8 px right: in frame 1 the 8 columns it uncovered were
     * hidden in frame 0 (disoccluded), the rest of the background is still */
    square_over(100, 90, &a);
    square_over(108, 90, &b);
    rel = flow_pair(f, &a, &b, &fl);
    e = epe(fl.uv_ba, gt_square, 16);
    double uncovered = reliable_in(fl.mask, 100, 92, 106, 152);
    double inside = reliable_in(fl.mask, 116, 98, 164, 146);
    double background = reliable_in(fl.mask, 200, 16, W - 16, H - 16);
    printf("  square: end-point error %.3f px; reliable: uncovered %.3f, inside %.3f, background %.3f\n",
           e, uncovered, inside, background);
    CHECK(uncovered < 0.2, "square: %.3f of the uncovered strip marked reliable", uncovered);
    CHECK(inside > 0.9 && background > 0.97, "square: inside %.3f, background %.3f reliable", inside,
          background);
    CHECK(e < 0.4, "square: end-point error %.3f px", e);
    nst_image_free(&a);
    nst_image_free(&b);
    flow_free(f);
}

/* The warping error, change and blend on values worked out by hand. */
static void test_measures(void) {
    enum { n = 64 };
    float x[3 * n], y[3 * n], m[n], out[3 * n];
    for (int i = 0; i < 3 * n; i++) x[i] = 100, y[i] = i % n < n / 2 ? 100 : 125.5f;
    for (int i = 0; i < n; i++) m[i] = i % 4 ? 1 : 0;
    /* half the reliable pixels differ by 25.5 = 0.1 of the range in every channel */
    double e, change, want = 0.5 * 0.01;
    temporal_diff(x, y, m, 8, 8, &e, &change);
    CHECK(fabs(e - want) < 1e-9, "warp error %.9f, want %.9f", e, want);
    CHECK(fabs(change - 12.75) < 1e-4, "change %g, want 12.75", change);
    temporal_blend(x, y, m, 0.6f, 8, 8, out);
    int ok = 1;
    for (int i = 0; i < 3 * n; i++) {
        float want_i = m[i % n] ? 0.6f * y[i] + 0.4f * x[i] : x[i];
        ok &= fabsf(out[i] - want_i) < 1e-4f;
    }
    CHECK(ok, "blend: mask * (a warped + (1 - a) styled) + (1 - mask) styled");
    /* the temporal loss against its formula (in double) and finite differences */
    float g[3 * n] = {0};
    double L = temporal_loss(2.0f, 3 * n, y, x, (float[3 * n]){[0 ... 3 * n - 1] = 0.5f}, g), ref = 0;
    for (int i = 0; i < 3 * n; i++) ref += 2.0 * 0.5 * (y[i] - x[i]) * (y[i] - x[i]) / (255.0 * 255 * 3 * n);
    CHECK(fabs(L - ref) < 1e-9 * ref, "temporal loss %.12g, want %.12g", L, ref);
}

typedef struct {
    const float *t, *m;
    size_t n;
} tl_ctx;
static double tl_fn(const float *x, void *ctx) {
    tl_ctx *c = ctx;
    float *g = calloc(c->n, sizeof(float));
    double L = temporal_loss(3.0f, c->n, x, c->t, c->m, g);
    free(g);
    return L;
}

static void test_temporal_grad(void) {
    enum { n = 3 * 20 * 16 };
    static float x[n], t[n], m[n], g[n];
    tu_fill_uniform(x, n, 0, 255, 1);
    tu_fill_uniform(t, n, 0, 255, 2);
    tu_fill_uniform(m, n, 0, 1, 3);
    temporal_loss(3.0f, n, x, t, m, g);
    tl_ctx c = {t, m, n};
    tu_check_grad("temporal loss", tl_fn, &c, x, g, n, 40, 0.5f, 1e-3);
}

/* nst_video with a pretrained network on a pan with a cut in the middle. */
static void test_video_net(void) {
    const char *net_dir = tu_shared("models/fast/wave");
    if (!net_dir) return;
    nst_error err;
    nst_generator *g = NULL;
    if (nst_generator_load(net_dir, &g, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    enum { frames = 10, cut_at = 6 };
    double werr[2] = {0}, werr_in = 0;
    int cuts_ok = 1;
    for (int temporal = 0; temporal < 2; temporal++) {
        nst_video_params p;
        nst_video_params_init(&p);
        p.net = g;
        p.temporal = temporal ? 0.6f : 0;
        p.measure = 1;
        nst_video *v = NULL;
        int rc = nst_video_open(&p, W, H, &v, &err);
        CHECK(rc == 0, "nst_video_open: %s", err.msg);
        if (rc) break;
        nst_image in = {0}, out = {0};
        int measured = 0;
        for (int t = 0; t < frames && !rc; t++) {
            nst_image bg = photo;
            if (t >= cut_at) photo = other; /* a cut: another picture altogether */
            camera(250 + 3 * t, 180 + 1.5 * t, 1, &in);
            photo = bg;
            nst_video_frame_info fi;
            rc = nst_video_frame(v, &in, &out, &fi, &err);
            CHECK(rc == 0, "frame %d: %s", t, err.msg);
            if (rc) break;
            cuts_ok &= fi.cut == (t == 0 || t == cut_at);
            if (t == 0 && !temporal) {
                /* no history: exactly nst_apply */
                nst_image ref = {0};
                nst_apply_params ap;
                nst_apply_params_init(&ap);
                if (!nst_apply(g, &in, &ap, &ref, &err))
                    tu_close("first frame against nst_apply", out.data, ref.data, (size_t)3 * W * H, 1e-4f, 0);
                nst_image_free(&ref);
            }
            if (fi.warp_error >= 0) {
                werr[temporal] += fi.warp_error, measured++;
                if (!temporal) werr_in += fi.warp_error_input;
            }
            nst_image_free(&out);
        }
        werr[temporal] /= measured > 0 ? measured : 1;
        if (!temporal) werr_in /= measured > 0 ? measured : 1;
        CHECK(measured == frames - 2, "%d frames measured, want %d (all but the first and the cut)",
              measured, frames - 2);
        nst_image_free(&in);
        nst_video_close(v);
    }
    printf("  wave on a pan: warping error per frame %.5f, temporal %.5f, input %.5f\n", werr[0], werr[1],
           werr_in);
    CHECK(cuts_ok, "cuts found exactly at the first frame and frame %d", cut_at);
    CHECK(werr[1] < 0.5 * werr[0], "temporal: warping error %.5f not under half of per-frame %.5f", werr[1],
          werr[0]);
    /* bad use: a frame of another size, an out-of-range weight */
    nst_video_params p;
    nst_video_params_init(&p);
    p.net = g;
    p.temporal = 1.5f;
    nst_video *v = NULL;
    CHECK(nst_video_open(&p, W, H, &v, &err) == NST_ERR_ARG && strstr(err.msg, "temporal"),
          "temporal 1.5: '%s'", err.msg);
    p.temporal = 0.5f;
    if (!nst_video_open(&p, W, H, &v, &err)) {
        nst_image small = {0}, out = {0};
        nst_image_alloc(&small, W / 2, H / 2, &err);
        CHECK(nst_video_frame(v, &small, &out, NULL, &err) == NST_ERR_ARG && strstr(err.msg, "160x120"),
              "a frame of another size: '%s'", err.msg);
        nst_image_free(&small);
        nst_video_close(v);
    }
    nst_generator_free(g);
}

/* The optimisation's temporal term: the second frame of a still clip, started
 * from a different image, ends closer to the first frame's result with the
 * term than without. */
static void test_video_optimize(void) {
    const char *net_path = tu_shared("models/darknet-tiny");
    const char *style_path = tu_shared("images/style/starry_night.jpg");
    if (!net_path || !style_path) return;
    nst_error err;
    nst_net *net = NULL;
    nst_image style = {0};
    if (nst_net_load(net_path, &net, &err) || nst_image_load(style_path, &style, &err)) {
        CHECK(0, "%s", err.msg);
        nst_net_free(net);
        return;
    }
    double diff[2];
    for (int temporal = 0; temporal < 2; temporal++) {
        nst_video_params p;
        nst_video_params_init(&p);
        p.method = NST_VIDEO_OPTIMIZE;
        p.loss_net = net;
        p.styles = &style;
        p.n_styles = 1;
        nst_stylize_default_layers(&p.stylize, net);
        p.stylize.iterations = 15;
        p.iterations_first = 30;
        p.temporal = temporal ? 1.0f : 0;
        p.measure = 1;
        nst_video *v = NULL;
        int rc = nst_video_open(&p, 96, 64, &v, &err);
        CHECK(rc == 0, "open: %s", err.msg);
        if (rc) break;
        nst_image in = {0}, out = {0};
        nst_image_resize(&photo, 96, 64, &in, &err);
        nst_video_frame_info fi = {0};
        for (int t = 0; t < 2 && !rc; t++) {
            rc = nst_video_frame(v, &in, &out, &fi, &err);
            CHECK(rc == 0, "frame %d: %s", t, err.msg);
            nst_image_free(&out);
        }
        diff[temporal] = fi.warp_error;
        nst_image_free(&in);
        nst_video_close(v);
    }
    printf("  optimisation, a still frame: change from frame 0 to 1 %.6f per-frame, %.6f temporal\n", diff[0],
           diff[1]);
    CHECK(diff[1] < 0.5 * diff[0], "temporal term: frame 1 moved %.6f from frame 0 (per frame %.6f)",
          diff[1], diff[0]);
    nst_image_free(&style);
    nst_net_free(net);
}

int main(void) {
    const char *a = tu_shared("images/content/tubingen.jpg"), *b = tu_shared("images/style/wave.jpg");
    nst_error err;
    if (!a || !b || nst_image_load(a, &photo, &err) || nst_image_load(b, &other, &err)) {
        CHECK(0, "test images: %s", a && b ? err.msg : "missing");
        return tu_finish();
    }
    test_measures();
    test_temporal_grad();
    test_flow();
    test_video_net();
    test_video_optimize();
    nst_image_free(&photo);
    nst_image_free(&other);
    return tu_finish();
}
