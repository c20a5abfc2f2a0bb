/* test_gen_layers.c: the layers of the feed-forward style networks
 * (convolution parameter gradients and weight updates, TF 'SAME' transposed
 * convolution, instance norm, nearest upsampling, scaled tanh): forward,
 * input gradient and parameter gradients against PyTorch autograd
 * (tests/fixtures/gen_layers.bin from tests/pytorch/gen_gen_layers.py), and
 * central finite differences of f = sum(layer(x; p) * dout), in double,
 * both in x and in the parameters p. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "testutil.h"

#define IN_EPS 1e-5f /* instance norm epsilon, as in gen_gen_layers.py */
#define TANH_A 150.0f
#define TANH_B 127.5f

static tensor_dict fx;

static const tensor *tget(const char *tag, const char *field) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", tag, field);
    return tu_get(&fx, name);
}

static int has(const char *tag, const char *field) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", tag, field);
    return dict_get(&fx, name) != NULL;
}

/* Elementwise within atol 1e-4 + rtol 1e-3 (tu_close); the relative L2
 * error is printed and must be float32 rounding (tu_rel_close). */
static void compare(const char *tag, const char *what, const float *a, const float *ref,
                    size_t n) {
    char label[128];
    snprintf(label, sizeof label, "%s %s", tag, what);
    tu_close(label, a, ref, n, 1e-4f, 1e-3f);
    tu_rel_close(label, a, ref, n, 1e-5);
}

/* ---- the layer under test ---------------------------------------------- */

enum { CONV, DECONV, INSTNORM, UPSAMPLE, TANH };

typedef struct {
    int kind;
    conv_layer conv;
    deconv_layer deconv;
    int n, c, hw, h, w, f;  /* instance norm and upsampling */
    float *p;               /* parameters: weights then bias, or scale then shift */
    size_t np, nw;          /* all of them; the first group */
    const char *pname[2];   /* fixture names of the two groups */
    float *mean, *rstd;     /* instance norm statistics */
    size_t nx, ny;
    const float *x, *dout;  /* for the finite differences */
    float *y;
} lut;

static void lut_forward(lut *L, const float *x, float *y) {
    switch (L->kind) {
    case CONV: conv_forward(&L->conv, x, y); break;
    case DECONV: deconv_forward(&L->deconv, x, y); break;
    case INSTNORM:
        instnorm_stats(L->n, L->c, L->hw, 1, IN_EPS, x, L->mean, L->rstd);
        instnorm_apply(L->n, L->c, L->hw, 1, x, L->p, L->p + L->c, L->mean, L->rstd, NULL, 0, y);
        break;
    case UPSAMPLE: upsample_forward(L->n, L->c, L->h, L->w, 1, L->f, x, y); break;
    case TANH: tanh_forward(L->nx, TANH_A, TANH_B, x, y); break;
    }
}

/* After lut_forward(x) -> y: dx, and dp (the parameters' gradient). */
static void lut_backward(lut *L, const float *x, const float *y, const float *dy, float *dx,
                         float *dp) {
    float *db = L->np > L->nw ? dp + L->nw : NULL;
    switch (L->kind) {
    case CONV:
        conv_backward(&L->conv, dy, dx);
        conv_backward_weights(&L->conv, x, dy, dp, db);
        break;
    case DECONV:
        deconv_backward(&L->deconv, dy, dx);
        deconv_backward_weights(&L->deconv, x, dy, dp, db);
        break;
    case INSTNORM:
        instnorm_backward(L->n, L->c, L->hw, 1, x, L->p, L->mean, L->rstd, dy, dx, dp, db);
        break;
    case UPSAMPLE: upsample_backward(L->n, L->c, L->h, L->w, 1, L->f, dy, dx); break;
    case TANH: tanh_backward(L->nx, TANH_A, TANH_B, y, dy, dx); break;
    }
}

static void lut_params_changed(lut *L) {
    if (L->kind == CONV) conv_weights_changed(&L->conv);
    if (L->kind == DECONV) deconv_weights_changed(&L->deconv);
}

static double objective(lut *L, const float *x) {
    lut_forward(L, x, L->y);
    double s = 0;
    for (size_t i = 0; i < L->ny; i++) s += (double)L->y[i] * L->dout[i];
    return s;
}

static double f_of_x(const float *x, void *ctx) { return objective(ctx, x); }

/* p is L->p, perturbed in place: the layer must pick the change up. */
static double f_of_p(const float *p, void *ctx) {
    lut *L = ctx;
    (void)p;
    lut_params_changed(L);
    return objective(L, L->x);
}

/* Load the parameters <tag>.<pname[0]> (and .<pname[1]> when present) into
 * one contiguous buffer L->p: the layer keeps pointers into it. */
static void load_params(lut *L, const char *tag, const char *p0, const char *p1) {
    const tensor *a = tget(tag, p0), *b = has(tag, p1) ? tget(tag, p1) : NULL;
    L->pname[0] = p0, L->pname[1] = p1;
    L->nw = a->numel;
    L->np = a->numel + (b ? b->numel : 0);
    L->p = malloc(L->np * sizeof *L->p);
    memcpy(L->p, a->data, a->numel * sizeof *L->p);
    if (b) memcpy(L->p + L->nw, b->data, b->numel * sizeof *L->p);
}

/* Forward, backward and parameter gradients against the fixture, finite
 * differences in x (step eps_x) and in p (eps_p), and for the convolutions
 * the output after replacing the weights with <tag>.w2. Outputs start as
 * NaN, so a layer that does not overwrite every element fails. */
static void check(const char *tag, lut *L, float eps_x, float eps_p, double tol) {
    const tensor *x0 = tget(tag, "x"), *yref = tget(tag, "y");
    CHECK(x0->numel == L->nx && yref->numel == L->ny, "%s: sizes %zu->%zu, fixture %zu->%zu", tag,
          L->nx, L->ny, x0->numel, yref->numel);
    if (x0->numel != L->nx || yref->numel != L->ny) return;
    float *x = malloc(L->nx * sizeof *x), *dx = malloc(L->nx * sizeof *dx);
    float *y = malloc(L->ny * sizeof *y), *dp = malloc((L->np + 1) * sizeof *dp);
    L->y = malloc(L->ny * sizeof *L->y);
    L->x = x0->data, L->dout = tget(tag, "dout")->data;
    memcpy(x, x0->data, L->nx * sizeof *x);
    for (size_t i = 0; i < L->ny; i++) y[i] = NAN;
    for (size_t i = 0; i < L->nx; i++) dx[i] = NAN;
    for (size_t i = 0; i < L->np; i++) dp[i] = NAN;

    lut_forward(L, x, y);
    compare(tag, "forward", y, yref->data, L->ny);
    if (L->kind == INSTNORM) {
        compare(tag, "mean", L->mean, tget(tag, "mean")->data, (size_t)L->n * L->c);
        compare(tag, "rstd", L->rstd, tget(tag, "rstd")->data, (size_t)L->n * L->c);
    }
    lut_backward(L, x, y, L->dout, dx, dp);
    compare(tag, "dx", dx, tget(tag, "dx")->data, L->nx);
    for (int g = 0; g < 2 && L->np; g++) {
        size_t off = g ? L->nw : 0, len = g ? L->np - L->nw : L->nw;
        char field[32];
        snprintf(field, sizeof field, "d%s", L->pname[g]);
        if (len) compare(tag, field, dp + off, tget(tag, field)->data, len);
    }

    char label[128];
    snprintf(label, sizeof label, "%s d/dx", tag);
    /* instance norm: a coordinate's derivative can be ~0 (1e-3 of the
     * others), where its relative error is all float32 rounding of f; a
     * random direction has a derivative of the typical size */
    if (L->kind == INSTNORM)
        tu_check_dir_grad(label, f_of_x, L, x, dx, L->nx, 20, eps_x, tol);
    else
        tu_check_grad(label, f_of_x, L, x, dx, L->nx, 40, eps_x, tol);
    if (L->np) {
        snprintf(label, sizeof label, "%s d/dparams", tag);
        tu_check_grad(label, f_of_p, L, L->p, dp, L->np, 200, eps_p, tol);
    }
    if (has(tag, "w2")) {
        memcpy(L->p, tget(tag, "w2")->data, L->nw * sizeof *L->p);
        lut_params_changed(L);
        lut_forward(L, x, y);
        compare(tag, "forward after weights_changed", y, tget(tag, "y2")->data, L->ny);
    }
    free(x), free(dx), free(y), free(dp), free(L->y);
}

/* ---- cases ------------------------------------------------------------- */

/* (Transposed) convolutions, upsampling and the parameters of instance norm
 * enter linearly, so central differences have no truncation error and a
 * large step only shrinks float32 rounding noise. Instance norm in x and
 * tanh are smooth: a step of 1e-2 balances truncation (~eps^2) against
 * rounding (~1e-7 |f| / eps). */
#define EPS_LINEAR 0.1f
#define EPS_SMOOTH 1e-2f
#define FD_TOL 1e-3

/* pads: top, left, bottom, right */
static void test_conv(const char *tag, int stride, const int pads[4]) {
    const tensor *x = tget(tag, "x"), *w = tget(tag, "w");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    int co = (int)w->shape[0], k = (int)w->shape[2];
    lut L = {.kind = CONV};
    load_params(&L, tag, "w", "b");
    nst_error err;
    int rc = conv_setup(&L.conv, n, c, h, wd, co, k, k, stride, pads[0], pads[1], pads[2], pads[3], L.p,
                        L.np > L.nw ? L.p + L.nw : NULL, &err);
    if (!rc) rc = conv_enable_training(&L.conv, &err);
    CHECK(rc == 0, "%s: setup: %s", tag, rc ? err.msg : "");
    if (!rc) {
        L.nx = x->numel;
        L.ny = (size_t)n * co * L.conv.oh * L.conv.ow;
        check(tag, &L, EPS_LINEAR, EPS_LINEAR, FD_TOL);
        /* the bias gradient is optional: dweight alone, same values */
        float *dw = malloc(L.nw * sizeof *dw);
        memcpy(L.p, w->data, L.nw * sizeof *L.p);
        conv_weights_changed(&L.conv);
        conv_backward_weights(&L.conv, x->data, tget(tag, "dout")->data, dw, NULL);
        compare(tag, "dw without db", dw, tget(tag, "dw")->data, L.nw);
        free(dw);
        conv_destroy(&L.conv);
    }
    free(L.p);
}

static void test_deconv(const char *tag, int stride) {
    const tensor *x = tget(tag, "x"), *w = tget(tag, "w");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    int co = (int)w->shape[1], k = (int)w->shape[2];
    lut L = {.kind = DECONV};
    load_params(&L, tag, "w", "b");
    nst_error err;
    int rc = deconv_setup(&L.deconv, 1, n, c, h, wd, co, k, stride, L.p,
                          L.np > L.nw ? L.p + L.nw : NULL, &err);
    if (!rc) rc = deconv_enable_training(&L.deconv, &err);
    CHECK(rc == 0, "%s: setup: %s", tag, rc ? err.msg : "");
    if (!rc) {
        CHECK(L.deconv.oh == h * stride && L.deconv.ow == wd * stride, "%s: output %dx%d", tag,
              L.deconv.oh, L.deconv.ow);
        L.nx = x->numel;
        L.ny = (size_t)n * co * h * stride * wd * stride;
        check(tag, &L, EPS_LINEAR, EPS_LINEAR, FD_TOL);
        deconv_destroy(&L.deconv);
    }
    free(L.p);
}

static void test_instnorm(void) {
    const char *tag = "instnorm";
    const tensor *x = tget(tag, "x");
    lut L = {.kind = INSTNORM, .n = (int)x->shape[0], .c = (int)x->shape[1]};
    L.hw = (int)(x->shape[2] * x->shape[3]);
    L.nx = L.ny = x->numel;
    load_params(&L, tag, "scale", "shift");
    L.mean = malloc((size_t)L.n * L.c * sizeof *L.mean);
    L.rstd = malloc((size_t)L.n * L.c * sizeof *L.rstd);
    check(tag, &L, EPS_SMOOTH, EPS_LINEAR, FD_TOL);

    /* parameter gradients are optional */
    float *dx = malloc(L.nx * sizeof *dx);
    lut_forward(&L, x->data, dx); /* mean and rstd of x; dx is overwritten below */
    instnorm_backward(L.n, L.c, L.hw, 1, x->data, L.p, L.mean, L.rstd, tget(tag, "dout")->data, dx,
                      NULL, NULL);
    compare(tag, "dx without dscale, dshift", dx, tget(tag, "dx")->data, L.nx);
    free(dx), free(L.mean), free(L.rstd), free(L.p);
}

static void test_upsample(const char *tag, int f) {
    const tensor *x = tget(tag, "x");
    lut L = {.kind = UPSAMPLE, .n = (int)x->shape[0], .c = (int)x->shape[1],
             .h = (int)x->shape[2], .w = (int)x->shape[3], .f = f};
    L.nx = x->numel;
    L.ny = x->numel * f * f;
    check(tag, &L, EPS_LINEAR, 0, FD_TOL);
}

static void test_tanh(void) {
    const tensor *x = tget("tanh", "x");
    lut L = {.kind = TANH, .nx = x->numel, .ny = x->numel};
    check("tanh", &L, EPS_SMOOTH, 0, FD_TOL);
}

static void test_errors(void) {
    nst_error err = {0};
    deconv_layer d;
    float wt[2 * 2] = {0};
    int rc = deconv_setup(&d, 1, 1, 1, 3, 3, 1, 2, 3, wt, NULL, &err);
    CHECK(rc == NST_ERR_INTERNAL && strstr(err.msg, "transposed convolution") &&
              strstr(err.msg, "stride"),
          "deconv kernel smaller than the stride: rc %d, message '%s'", rc, err.msg);
    rc = deconv_setup(&d, 1, 1, 0, 3, 3, 1, 3, 2, wt, NULL, &err);
    CHECK(rc == NST_ERR_INTERNAL && strstr(err.msg, "1x0x3x3"),
          "deconv without input channels: rc %d, message '%s'", rc, err.msg);
}

/* The blocked layouts (nChw16c, and 20 channels: a block with 12 padding
 * lanes) give what NCHW gives: instance norm with a residual and ReLU, its
 * backward, and upsampling, fed the same values through oneDNN reorders.
 * The padding lanes of every blocked output must stay zero. */
static void to_layout(const float *x, float *y, int n, int c, int h, int w, int from, int to) {
    dnnl_memory_desc_t a, b;
    reorder_layer R;
    nst_error err = {0};
    dn_md(&a, n, c, h, w, from, 0);
    dn_md(&b, n, c, h, w, to, 0);
    if (reorder_setup(&R, &a, &b, NULL, 0, &err)) {
        CHECK(0, "reorder: %s", err.msg);
        return;
    }
    reorder_run(&R, x, y);
    reorder_destroy(&R);
}

/* a (NCHW) against b (layout 16, converted back) and b's padding lanes */
static void compare_blocked(const char *what, const float *a, const float *b, int n, int c, int h,
                            int w) {
    size_t m = (size_t)n * c * h * w, mb = blocked_numel(n, c, h, w, 16);
    float *back = malloc(m * sizeof *back), *copy = malloc(mb * sizeof *copy);
    to_layout(b, back, n, c, h, w, 16, 1);
    char label[96];
    snprintf(label, sizeof label, "blocked %s, %d channels", what, c);
    tu_close(label, back, a, m, 1e-5f, 1e-5f);
    /* a round trip rewrites the padding lanes with zeros */
    to_layout(back, copy, n, c, h, w, 1, 16);
    size_t bad = 0;
    for (size_t i = 0; i < mb; i++) bad += copy[i] == 0 && b[i] != 0;
    CHECK(bad == 0, "%s: %zu padding values are not zero", label, bad);
    free(back), free(copy);
}

static void test_blocked(int c) {
    const int n = 2, h = 9, w = 7, hw = h * w, f = 2;
    size_t m = (size_t)n * c * hw, mb = blocked_numel(n, c, h, w, 16);
    size_t nb = m * f * f, nbb = mb * f * f;
    float *x = malloc(m * 4), *sk = malloc(m * 4), *dy = malloc(m * 4), *p = malloc(2 * c * 4);
    float *y = malloc(nb * 4), *dx = malloc(m * 4), *dp = malloc(2 * c * 4), *dpb = malloc(2 * c * 4);
    float *xb = calloc(nbb, 4), *skb = calloc(mb, 4), *dyb = calloc(mb, 4), *yb = calloc(nbb, 4);
    float *dxb = calloc(mb, 4), *st = malloc(4 * n * c * 4);
    tu_fill_uniform(x, m, -3, 5, 11), tu_fill_uniform(sk, m, -1, 1, 12);
    tu_fill_uniform(dy, m, -1, 1, 13), tu_fill_uniform(p, 2 * c, 0.5f, 1.5f, 14);
    to_layout(x, xb, n, c, h, w, 1, 16), to_layout(sk, skb, n, c, h, w, 1, 16);
    to_layout(dy, dyb, n, c, h, w, 1, 16);
    float *mean = st, *rstd = st + n * c, *meanb = st + 2 * n * c, *rstdb = st + 3 * n * c;

    instnorm_stats(n, c, hw, 1, IN_EPS, x, mean, rstd);
    instnorm_apply(n, c, hw, 1, x, p, p + c, mean, rstd, sk, 1, y);
    instnorm_stats(n, c, hw, 16, IN_EPS, xb, meanb, rstdb);
    instnorm_apply(n, c, hw, 16, xb, p, p + c, meanb, rstdb, skb, 1, yb);
    tu_close("blocked instnorm mean", meanb, mean, (size_t)n * c, 1e-6f, 1e-6f);
    tu_close("blocked instnorm rstd", rstdb, rstd, (size_t)n * c, 1e-6f, 1e-6f);
    compare_blocked("relu(instnorm + skip)", y, yb, n, c, h, w);

    instnorm_backward(n, c, hw, 1, x, p, mean, rstd, dy, dx, dp, dp + c);
    instnorm_backward(n, c, hw, 16, xb, p, meanb, rstdb, dyb, dxb, dpb, dpb + c);
    compare_blocked("instnorm dx", dx, dxb, n, c, h, w);
    tu_close("blocked instnorm dscale, dshift", dpb, dp, 2 * (size_t)c, 1e-4f, 1e-5f);

    upsample_forward(n, c, h, w, 1, f, x, y);
    upsample_forward(n, c, h, w, 16, f, xb, yb);
    compare_blocked("upsample", y, yb, n, c, h * f, w * f);
    upsample_backward(n, c, h, w, 1, f, y, dx);
    upsample_backward(n, c, h, w, 16, f, yb, dxb);
    compare_blocked("upsample backward", dx, dxb, n, c, h, w);
    free(x), free(sk), free(dy), free(p), free(y), free(dx), free(dp), free(dpb);
    free(xb), free(skb), free(dyb), free(yb), free(dxb), free(st);
}

/* Instance norm of one image with few channels on a large map: the plane
 * split in runs over both cores (and an odd pixel count, so the runs have
 * remainders), in NCHW and in blocks of 8, against sums in double. */
static void test_instnorm_runs(int c, int block) {
    const int h = 97, w = 131, hw = h * w;
    size_t mb = blocked_numel(1, c, h, w, block);
    int lanes = block_elems(block, c);
    float *x = calloc(mb, 4), *y = calloc(mb, 4), sc[8], sh[8], mean[8], rstd[8];
    float *xn = malloc((size_t)c * hw * 4);
    tu_fill_uniform(xn, (size_t)c * hw, 40, 60, 31); /* |mean| >> std */
    tu_fill_uniform(sc, c, 0.5f, 1.5f, 32), tu_fill_uniform(sh, c, -1, 1, 33);
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < hw; i++) x[((size_t)(ch / lanes) * hw + i) * lanes + ch % lanes] = xn[(size_t)ch * hw + i];
    instnorm_stats(1, c, hw, block, IN_EPS, x, mean, rstd);
    instnorm_apply(1, c, hw, block, x, sc, sh, mean, rstd, NULL, 0, y);
    double worst = 0;
    for (int ch = 0; ch < c; ch++) {
        double s = 0, q = 0;
        for (int i = 0; i < hw; i++) s += xn[(size_t)ch * hw + i];
        double m = s / hw;
        for (int i = 0; i < hw; i++) q += (xn[(size_t)ch * hw + i] - m) * (xn[(size_t)ch * hw + i] - m);
        double r = 1 / sqrt(q / hw + IN_EPS);
        CHECK(fabs(mean[ch] - m) < 1e-4 && fabs(rstd[ch] - r) < 1e-4 * r,
              "instnorm runs, %d channels in layout %d: channel %d mean %g rstd %g, expected %g %g", c, block,
              ch, mean[ch], rstd[ch], m, r);
        for (int i = 0; i < hw; i++) {
            double want = (xn[(size_t)ch * hw + i] - m) * r * sc[ch] + sh[ch];
            double got = y[((size_t)(ch / lanes) * hw + i) * lanes + ch % lanes];
            worst = fmax(worst, fabs(got - want));
        }
    }
    CHECK(worst < 1e-4, "instnorm runs, %d channels in layout %d: output off by %g", c, block, worst);
    free(x), free(y), free(xn);
}

/* Reflect padding that reads its input through a nearest upsampling (the
 * plan's pad_reads_upsample) equals upsampling, then padding. */
static void test_pad_upsampled(int block) {
    const int n = 2, c = 12, h = 5, w = 7, f = 2, t = 3, l = 1, b = 2, r = 4;
    size_t m = blocked_numel(n, c, h, w, block), mu = m * f * f;
    pad_layer P, U;
    nst_error err = {0};
    if (pad_setup(&P, n, c, h * f, w * f, t, l, b, r, block, 0, &err) ||
        pad_setup(&U, n, c, h * f, w * f, t, l, b, r, block, 0, &err)) {
        CHECK(0, "pad setup: %s", err.msg);
        return;
    }
    U.up = f;
    size_t mo = blocked_numel(n, c, P.oh, P.ow, block);
    float *x = malloc(m * 4), *xu = malloc(mu * 4), *y = malloc(mo * 4), *yu = malloc(mo * 4);
    tu_fill_uniform(x, m, -1, 1, 41);
    upsample_forward(n, c, h, w, block, f, x, xu);
    pad_forward(&P, xu, y);
    pad_forward(&U, x, yu);
    CHECK(!memcmp(y, yu, mo * 4), "pad through an upsampling differs from upsample then pad (layout %d)", block);
    free(x), free(xu), free(y), free(yu);
}

/* split_conv against pad_forward then oneDNN's direct NCHW convolution of
 * the same weights (and the activation): a style network's first layer
 * (the image, NCHW, 3 -> 8, 9x9, ReLU), a 3x3 to 8 channels reading an
 * upsampling, its RGB output (8 or 32 channels in blocks, 9x9 to 3), with
 * a batch of 2 and an odd number of rows, so the bands and the last short
 * step of each are exercised. */
static void test_split_conv(int cin, int block, int cout, int k, int up, float alpha, int relu) {
    const int n = 2, h = 2 * 13, w = 2 * 15, p = (k - 1) / 2, sh = h / up, sw = w / up;
    size_t m = (size_t)n * cin * sh * sw, mo = (size_t)n * cout * h * w;
    pad_layer P, Pn;
    nst_error err = {0};
    if (pad_setup(&P, n, cin, h, w, p, p, p, p, block, 0, &err) ||
        pad_setup(&Pn, n, cin, h, w, p, p, p, p, 1, 0, &err)) {
        CHECK(0, "pad setup: %s", err.msg);
        return;
    }
    P.up = Pn.up = up;
    float *x = malloc(m * 4), *xb = calloc(blocked_numel(n, cin, sh, sw, block), 4);
    float *xp = malloc((size_t)n * cin * P.oh * P.ow * 4);
    float *wt = malloc((size_t)cout * cin * k * k * 4), *b = malloc(cout * 4);
    int ob = cout <= 4 ? 1 : 8;
    size_t mb = blocked_numel(n, cout, h, w, ob);
    float *y = malloc(mo * 4), *yb = malloc(mb * 4), *ys = malloc(mb * 4);
    tu_fill_uniform(x, m, -1, 1, 21), tu_fill_uniform(wt, (size_t)cout * cin * k * k, -0.1f, 0.1f, 22);
    tu_fill_uniform(b, cout, -1, 1, 23);
    if (block != 1) to_layout(x, xb, n, cin, sh, sw, 1, block);
    else memcpy(xb, x, m * 4);
    pad_forward(&Pn, x, xp);
    conv_layer ref;
    split_conv_layer L;
    char label[96];
    snprintf(label, sizeof label, "split %dx%d conv, %d -> %d in layout %d (up %d, act %d)", k, k, cin, cout, block,
             up, relu);
    if (conv_setup(&ref, n, cin, P.oh, P.ow, cout, k, k, 1, 0, 0, 0, 0, wt, b, &err) ||
        split_conv_setup(&L, &P, cout, k, relu, alpha, wt, b, &err)) {
        CHECK(0, "%s: setup: %s", label, err.msg);
    } else {
        CHECK(L.out_block == ob, "%s: output in layout %d, not %d", label, L.out_block, ob);
        for (int pass = 0; pass < 2; pass++) {
            conv_forward(&ref, xp, y);
            if (relu)
                for (size_t i = 0; i < mo; i++) y[i] = y[i] > 0 ? y[i] : alpha * y[i];
            if (ob != 1) to_layout(y, yb, n, cout, h, w, 1, ob);
            else memcpy(yb, y, mo * 4);
            memset(ys, 0xff, mb * 4); /* NaN: every element must be written */
            split_conv_forward(&L, xb, ys);
            tu_close(pass ? "split conv after a weight change" : label, ys, yb, mb, 1e-5f, 1e-4f);
            /* the weights changed in place reach the split layer */
            for (int i = 0; i < cout * cin * k * k; i++) wt[i] *= -2;
            split_conv_weights_changed(&L);
            conv_weights_changed(&ref);
        }
    }
    conv_destroy(&ref);
    split_conv_destroy(&L);
    free(x), free(xb), free(xp), free(wt), free(b), free(y), free(yb), free(ys);
}

int main(void) {
    tu_load_fixture("gen_layers.bin", &fx);
    test_errors();

    test_conv("conv3x3", 1, (const int[]){1, 1, 1, 1});
    test_conv("conv9x9", 1, (const int[]){4, 4, 4, 4});
    /* TF 'SAME', stride 2 on 7 x 8 (same_padding): rows (1, 1), columns (0, 1) */
    test_conv("conv_s2_same", 2, (const int[]){1, 0, 1, 1});
    test_conv("conv_nobias", 1, (const int[]){1, 1, 1, 1});
    test_deconv("deconv_even", 2);
    test_deconv("deconv_odd", 2);
    test_deconv("deconv_k4", 2);
    test_instnorm();
    test_upsample("upsample2", 2);
    test_upsample("upsample3", 3);
    test_tanh();
    test_blocked(32);
    test_blocked(20);
    test_instnorm_runs(3, 1);
    test_instnorm_runs(8, 8);
    test_instnorm_runs(5, 8);
    test_pad_upsampled(1);
    test_pad_upsampled(8);
    test_pad_upsampled(16);
    test_split_conv(3, 1, 8, 9, 1, 0, 1);
    test_split_conv(16, 8, 8, 3, 2, 0, 1);
    test_split_conv(16, 16, 6, 3, 1, 0.2f, 1);
    test_split_conv(8, 8, 3, 9, 1, 0, 0);
    test_split_conv(32, 16, 3, 9, 2, 0, 0);

    dict_free(&fx);
    return tu_finish();
}
