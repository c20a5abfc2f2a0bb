/* test_layers.c: every layer of src/layers, forward and gradient w.r.t. the
 * input, against PyTorch autograd (tests/fixtures/layers.bin from
 * tests/pytorch/gen_layers.py) and against central finite differences of
 * f(x) = sum(layer(x) * dout), accumulated in double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "layers/layers.h"
#include "losses/losses.h"
#include "testutil.h"

static tensor_dict fx;

static const tensor *tget(const char *tag, const char *field) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", tag, field);
    return tu_get(&fx, name);
}

/* ---- a layer (or reflect pad + conv) behind one forward/backward ------- */

enum { NET_CONV, NET_REFLECT_CONV, NET_PAD, NET_ACT, NET_POOL };

typedef struct {
    int kind;
    conv_layer conv;
    pad_layer pad;
    pool_layer pool;
    float alpha;
    float *mid; /* reflect + conv: the padded input, then its gradient */
    size_t nx, ny;
} net;

static void net_forward(net *N, const float *x, float *y) {
    switch (N->kind) {
    case NET_CONV: conv_forward(&N->conv, x, y); break;
    case NET_REFLECT_CONV:
        pad_forward(&N->pad, x, N->mid);
        conv_forward(&N->conv, N->mid, y);
        break;
    case NET_PAD: pad_forward(&N->pad, x, y); break;
    case NET_ACT: act_forward(N->alpha, N->nx, x, y); break;
    case NET_POOL: pool_forward(&N->pool, x, y); break;
    }
}

/* y is the output of the last forward (activations and max pooling use it). */
static void net_backward(net *N, const float *y, const float *dy, float *dx) {
    switch (N->kind) {
    case NET_CONV: conv_backward(&N->conv, dy, dx); break;
    case NET_REFLECT_CONV:
        conv_backward(&N->conv, dy, N->mid);
        pad_backward(&N->pad, N->mid, dx);
        break;
    case NET_PAD: pad_backward(&N->pad, dy, dx); break;
    case NET_ACT: act_backward(N->alpha, N->nx, y, dy, dx); break;
    case NET_POOL: pool_backward(&N->pool, dy, dx); break;
    }
}

typedef struct {
    net *N;
    const float *dout;
    float *y;
} fd_ctx;

static double fd_value(const float *x, void *ctx) {
    fd_ctx *c = ctx;
    net_forward(c->N, x, c->y);
    double s = 0;
    for (size_t i = 0; i < c->N->ny; i++) s += (double)c->y[i] * c->dout[i];
    return s;
}

/* tu_close at atol 1e-4, rtol 1e-3, printing the largest absolute error. */
static void compare(const char *what, const float *a, const float *ref, size_t n) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - ref[i]));
        scale = fmax(scale, fabs((double)ref[i]));
    }
    tu_close(what, a, ref, n, 1e-4f, 1e-3f);
    printf("  %-40s max |err| %.2e (max |ref| %.2f)\n", what, worst, scale);
}

/* Forward and backward of N on tag.x against tag.y and tag.dx, then finite
 * differences with step eps at 40 random inputs. dx starts as NaN so a
 * backward that does not overwrite every element fails. */
static void check_net(const char *tag, net *N, float eps, double fd_tol) {
    const tensor *x0 = tget(tag, "x"), *dout = tget(tag, "dout");
    const tensor *yref = tget(tag, "y"), *dxref = tget(tag, "dx");
    CHECK(x0->numel == N->nx && yref->numel == N->ny, "%s: sizes %zu->%zu, fixture %zu->%zu", tag,
          N->nx, N->ny, x0->numel, yref->numel);
    if (x0->numel != N->nx || yref->numel != N->ny) return;
    float *x = malloc(N->nx * sizeof *x), *dx = malloc(N->nx * sizeof *dx);
    float *y = malloc(N->ny * sizeof *y), *yfd = malloc(N->ny * sizeof *yfd);
    memcpy(x, x0->data, N->nx * sizeof *x);
    for (size_t i = 0; i < N->nx; i++) dx[i] = NAN;
    char label[128];

    net_forward(N, x, y);
    snprintf(label, sizeof label, "%s forward", tag);
    compare(label, y, yref->data, N->ny);
    net_backward(N, y, dout->data, dx);
    snprintf(label, sizeof label, "%s backward", tag);
    compare(label, dx, dxref->data, N->nx);

    fd_ctx c = {N, dout->data, yfd};
    snprintf(label, sizeof label, "%s", tag);
    tu_check_grad(label, fd_value, &c, x, dx, N->nx, 40, eps, fd_tol);
    free(x), free(dx), free(y), free(yfd);
}

static size_t numel4(int n, int c, int h, int w) { return (size_t)n * c * h * w; }

/* ---- cases ------------------------------------------------------------- */

/* Convolution and the linear layers are linear in x, so central differences
 * have no truncation error: a large step only shrinks float32 rounding
 * noise (~1e-7 |y| / eps). Piecewise-linear layers get a small step; their
 * fixtures keep inputs 0.05 from the kink and max-pool inputs distinct by at
 * least 0.014, so the step never crosses a kink. */
#define EPS_LINEAR 0.1f
#define EPS_KINK 1e-3f
#define FD_TOL 1e-3

static void test_conv(const char *tag, int stride, int pad, int tf_same) {
    const tensor *x = tget(tag, "x"), *w = tget(tag, "w");
    char bname[128];
    snprintf(bname, sizeof bname, "%s.b", tag);
    const tensor *b = dict_get(&fx, bname);
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    int co = (int)w->shape[0], k = (int)w->shape[2];
    int pt = pad, pb = pad, pl = pad, pr = pad, oh, ow;
    if (tf_same) {
        same_padding(h, k, stride, &oh, &pt, &pb);
        same_padding(wd, k, stride, &ow, &pl, &pr);
    }
    net N = {.kind = NET_CONV};
    nst_error err;
    int rc = conv_setup(&N.conv, n, c, h, wd, co, k, k, stride, pt, pl, pb, pr, w->data,
                        b ? b->data : NULL, &err);
    CHECK(rc == 0, "%s: conv_setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    if (tf_same)
        CHECK(N.conv.oh == oh && N.conv.ow == ow, "%s: output %dx%d, SAME wants %dx%d", tag,
              N.conv.oh, N.conv.ow, oh, ow);
    N.nx = numel4(n, c, h, wd);
    N.ny = numel4(n, co, N.conv.oh, N.conv.ow);
    check_net(tag, &N, EPS_LINEAR, FD_TOL);
    conv_destroy(&N.conv);
}

static void test_reflect_conv(void) {
    const char *tag = "reflect_conv";
    const tensor *x = tget(tag, "x"), *w = tget(tag, "w"), *b = tget(tag, "b");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    net N = {.kind = NET_REFLECT_CONV};
    nst_error err;
    int rc = pad_setup(&N.pad, n, c, h, wd, 1, 1, 1, 1, 1, 0, &err);
    if (!rc)
        rc = conv_setup(&N.conv, n, c, h + 2, wd + 2, (int)w->shape[0], 3, 3, 1, 0, 0, 0, 0,
                        w->data, b->data, &err);
    CHECK(rc == 0, "%s: setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    N.mid = malloc(numel4(n, c, h + 2, wd + 2) * sizeof *N.mid);
    N.nx = numel4(n, c, h, wd);
    N.ny = numel4(n, N.conv.cout, N.conv.oh, N.conv.ow);
    check_net(tag, &N, EPS_LINEAR, FD_TOL);
    conv_destroy(&N.conv);
    free(N.mid);
}

static void test_reflect_pad(void) {
    const char *tag = "reflect_pad";
    const tensor *x = tget(tag, "x");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    net N = {.kind = NET_PAD};
    nst_error err;
    int rc = pad_setup(&N.pad, n, c, h, wd, 1, 2, 3, 0, 1, 0, &err);
    CHECK(rc == 0, "%s: pad_setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    CHECK(N.pad.oh == h + 4 && N.pad.ow == wd + 2, "%s: output %dx%d", tag, N.pad.oh, N.pad.ow);
    N.nx = x->numel;
    N.ny = numel4(n, c, N.pad.oh, N.pad.ow);
    check_net(tag, &N, EPS_LINEAR, FD_TOL);
}

/* The loss-network plan's layouts: the reflect_pad case in nChw8c and
 * nChw16c (its 2 channels padded with zeros), reached through reorder_layer,
 * matches the NCHW fixture. */
/* compare(), or for bf16 data a relative error within bfloat16's 2^-9 */
static void compare_prec(const char *what, const float *a, const float *ref, size_t n, int bf16) {
    if (bf16) tu_rel_close(what, a, ref, n, 4e-3);
    else compare(what, a, ref, n);
}

/* In layout `block`, float32 or bfloat16 (the reorders convert; a bf16 pad
 * moves rounded values, so it matches to bfloat16's 2^-9 relative rounding). */
static void test_reflect_pad_blocked(int block, int bf16) {
    const char *tag = "reflect_pad";
    const tensor *x = tget(tag, "x"), *y = tget(tag, "y");
    const tensor *dout = tget(tag, "dout"), *dx = tget(tag, "dx");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    nst_error err;
    pad_layer P;
    reorder_layer in_fwd, out_fwd, in_bwd, out_bwd;
    dnnl_memory_desc_t xp, xb, yp, yb;
    dn_md(&xp, n, c, h, wd, 1, 0);
    dn_md(&xb, n, c, h, wd, block, bf16);
    dn_md(&yp, n, c, h + 4, wd + 2, 1, 0);
    dn_md(&yb, n, c, h + 4, wd + 2, block, bf16);
    int rc = pad_setup(&P, n, c, h, wd, 1, 2, 3, 0, block, bf16, &err);
    if (!rc) rc = reorder_setup(&in_fwd, &xp, &xb, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&out_fwd, &yb, &yp, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&in_bwd, &yp, &yb, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&out_bwd, &xb, &xp, NULL, 0, &err);
    CHECK(rc == 0, "%s block %d: setup: %s", tag, block, rc ? err.msg : "");
    if (rc) return;
    size_t nxb = blocked_numel(n, c, h, wd, block), nyb = blocked_numel(n, c, h + 4, wd + 2, block);
    float *a = calloc(nxb, sizeof *a), *b = calloc(nyb, sizeof *b);
    float *out = malloc(y->numel * sizeof *out), *din = malloc(x->numel * sizeof *din);
    char label[128];
    reorder_run(&in_fwd, x->data, a);
    pad_forward(&P, a, b);
    reorder_run(&out_fwd, b, out);
    snprintf(label, sizeof label, "%s block %d%s forward", tag, block, bf16 ? " bf16" : "");
    compare_prec(label, out, y->data, y->numel, bf16);
    reorder_run(&in_bwd, dout->data, b);
    pad_backward(&P, b, a);
    reorder_run(&out_bwd, a, din);
    snprintf(label, sizeof label, "%s block %d%s backward", tag, block, bf16 ? " bf16" : "");
    compare_prec(label, din, dx->data, x->numel, bf16);
    free(a), free(b), free(out), free(din);
    reorder_destroy(&in_fwd), reorder_destroy(&out_fwd);
    reorder_destroy(&in_bwd), reorder_destroy(&out_bwd);
}

/* Zero padding by the plan (pad_setup_zero, the rewrite pad_same_explicitly)
 * in layout `block`: forward is x inside zeros, backward the crop of dout
 * (nothing reads x in the border), both exact. */
static void test_zero_pad(int block) {
    const tensor *x = tget("reflect_pad", "x");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    const int t = 1, l = 2, b = 3, r = 0, oh = h + t + b, ow = wd + l + r;
    nst_error err;
    pad_layer P;
    reorder_layer to_x, from_y, to_y, from_x;
    dnnl_memory_desc_t xp, xb, yp, yb;
    dn_md(&xp, n, c, h, wd, 1, 0), dn_md(&xb, n, c, h, wd, block, 0);
    dn_md(&yp, n, c, oh, ow, 1, 0), dn_md(&yb, n, c, oh, ow, block, 0);
    int rc = pad_setup_zero(&P, n, c, h, wd, t, l, b, r, block, 0, &err);
    if (!rc) rc = reorder_setup(&to_x, &xp, &xb, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&from_y, &yb, &yp, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&to_y, &yp, &yb, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&from_x, &xb, &xp, NULL, 0, &err);
    CHECK(rc == 0, "zero pad block %d: setup: %s", block, rc ? err.msg : "");
    if (rc) return;
    size_t ny = (size_t)n * c * oh * ow;
    float *a = calloc(blocked_numel(n, c, h, wd, block), sizeof *a), *y = calloc(blocked_numel(n, c, oh, ow, block), 4);
    float *out = malloc(ny * 4), *want = calloc(ny, 4), *dx = malloc(x->numel * 4), *dwant = malloc(x->numel * 4);
    float *dy = malloc(ny * 4);
    tu_fill_uniform(dy, ny, -1, 1, 9);
    for (int p = 0; p < n * c; p++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < wd; j++) {
                want[((size_t)p * oh + i + t) * ow + j + l] = x->data[((size_t)p * h + i) * wd + j];
                dwant[((size_t)p * h + i) * wd + j] = dy[((size_t)p * oh + i + t) * ow + j + l];
            }
    reorder_run(&to_x, x->data, a);
    pad_forward(&P, a, y);
    reorder_run(&from_y, y, out);
    char label[64];
    snprintf(label, sizeof label, "zero pad block %d forward", block);
    tu_close(label, out, want, ny, 1e-30f, 0);
    reorder_run(&to_y, dy, y);
    pad_backward(&P, y, a);
    reorder_run(&from_x, a, dx);
    snprintf(label, sizeof label, "zero pad block %d backward", block);
    tu_close(label, dx, dwant, x->numel, 1e-30f, 0);
    free(a), free(y), free(out), free(want), free(dx), free(dwant), free(dy);
    reorder_destroy(&to_x), reorder_destroy(&from_y), reorder_destroy(&to_y), reorder_destroy(&from_x);
}

/* The loss-network plan's convolution (blocked layouts; Winograd for large
 * 3x3 layers; bf16) against the NCHW direct convolution, itself checked
 * against PyTorch above: forward with the fused ReLU, and backward-data. */
static void test_blocked_conv(int cin, int cout, int h, int w, int bf16, const char *want_impl) {
    char tag[96];
    snprintf(tag, sizeof tag, "blocked conv %d->%d %dx%d%s", cin, cout, h, w, bf16 ? " bf16" : "");
    if (bf16 && !dn_has_bf16()) {
        printf("  %s: skipped, this CPU has no bfloat16 instructions\n", tag);
        return;
    }
    nst_error err;
    conv_layer ref, blk;
    reorder_layer to_blk, from_blk, dy_to_blk, dx_from_blk;
    size_t nx = numel4(1, cin, h, w), ny = numel4(1, cout, h, w);
    float *wt = malloc((size_t)cout * cin * 9 * sizeof *wt), *bias = malloc(cout * sizeof *bias);
    float *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y), *dy = malloc(ny * sizeof *dy);
    float *dx = malloc(nx * sizeof *dx), *yb = malloc(ny * sizeof *yb), *dxb = malloc(nx * sizeof *dxb);
    /* blocked buffers, float32-sized (bf16 uses half) */
    float *xa = calloc(blocked_numel(1, cin, h, w, 16), sizeof *xa);
    float *ya = calloc(blocked_numel(1, cout, h, w, 16), sizeof *ya);
    float *dya = calloc(blocked_numel(1, cout, h, w, 16), sizeof *dya);
    float *dxa = calloc(blocked_numel(1, cin, h, w, 16), sizeof *dxa);
    tu_fill_uniform(wt, (size_t)cout * cin * 9, -0.05f, 0.05f, 1);
    tu_fill_uniform(bias, cout, -0.1f, 0.1f, 2);
    tu_fill_uniform(x, nx, -1, 1, 3);
    tu_fill_uniform(dy, ny, -1, 1, 4);
    int rc = conv_setup(&ref, 1, cin, h, w, cout, 3, 3, 1, 1, 1, 1, 1, wt, bias, &err);
    if (!rc) rc = conv_setup_blocked(&blk, 16, bf16, 1, 0.0f, 1, cin, h, w, cout, 1, 3, 3, 1, 1, 1, 1,
                                     1, wt, bias, &err);
    CHECK(rc == 0, "%s: setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    const dnnl_memory_desc_t *src, *dst, *dsrc, *ddst;
    dnnl_memory_get_memory_desc(blk.p.m_src, &src);
    dnnl_memory_get_memory_desc(blk.p.m_dst, &dst);
    dnnl_memory_get_memory_desc(blk.p.m_dsrc, &dsrc);
    dnnl_memory_get_memory_desc(blk.p.m_ddst, &ddst);
    dnnl_memory_desc_t xp, yp;
    dn_md(&xp, 1, cin, h, w, 1, 0);
    dn_md(&yp, 1, cout, h, w, 1, 0);
    rc = reorder_setup(&to_blk, &xp, src, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&from_blk, dst, &yp, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&dy_to_blk, &yp, ddst, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&dx_from_blk, dsrc, &xp, NULL, 0, &err);
    CHECK(rc == 0, "%s: reorders: %s", tag, rc ? err.msg : "");
    if (rc) return;
    if (want_impl) {
        const_dnnl_primitive_desc_t pd;
        const char *impl = "";
        dnnl_primitive_get_primitive_desc(blk.p.fwd, &pd);
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        CHECK(strstr(impl, want_impl) != NULL, "%s: implementation %s, expected %s", tag, impl,
              want_impl);
        printf("  %-40s implementation %s\n", tag, impl);
    }
    conv_forward(&ref, x, y);
    for (size_t i = 0; i < ny; i++) y[i] = y[i] > 0 ? y[i] : 0; /* the fused ReLU */
    conv_backward(&ref, dy, dx);
    reorder_run(&to_blk, x, xa);
    conv_forward(&blk, xa, ya);
    reorder_run(&from_blk, ya, yb);
    reorder_run(&dy_to_blk, dy, dya);
    conv_backward(&blk, dya, dxa);
    reorder_run(&dx_from_blk, dxa, dxb);
    /* Winograd's transforms round differently (~1e-6); bf16 keeps 8 bits */
    char label[128];
    snprintf(label, sizeof label, "%s forward", tag);
    tu_rel_close(label, yb, y, ny, bf16 ? 1e-2 : 1e-5);
    snprintf(label, sizeof label, "%s backward", tag);
    tu_rel_close(label, dxb, dx, nx, bf16 ? 1e-2 : 1e-5);
    conv_destroy(&ref), conv_destroy(&blk);
    reorder_destroy(&to_blk), reorder_destroy(&from_blk);
    reorder_destroy(&dy_to_blk), reorder_destroy(&dx_from_blk);
    free(wt), free(bias), free(x), free(y), free(dy), free(dx), free(yb), free(dxb);
    free(xa), free(ya), free(dya), free(dxa);
}

/* The block oneDNN's convolutions pick on this CPU (16 on AVX-512, 8 on AVX2). */
static int native_block(void) {
    static const float wt[16 * 3 * 9];
    conv_layer probe;
    nst_error err;
    if (conv_setup_blocked(&probe, 0, 0, 0, 0.0f, 1, 3, 32, 32, 16, 1, 3, 3, 1, 1, 1, 1, 1, wt, NULL, &err))
        return 16;
    int b = probe.dst_block;
    conv_destroy(&probe);
    return b;
}

/* reflect_grad (the input gradient of a reflect-padded stride-1 conv as a
 * zero-padded forward conv plus its border) against the NCHW reference:
 * reflect pad, conv backward-data, the pad's backward. Channel counts that
 * leave padding lanes in the blocks, a batch of 2, k 5, and a shape
 * large enough for the Winograd kernel. */
static void test_reflect_grad(int n, int cin, int cout, int h, int w, int k) {
    char tag[96];
    snprintf(tag, sizeof tag, "reflect_grad %dx%d->%d %dx%d k%d", n, cin, cout, h, w, k);
    int p = (k - 1) / 2;
    nst_error err;
    pad_layer P;
    conv_layer ref;
    reflect_grad_layer R;
    reorder_layer dy_to, dx_from;
    size_t nx = numel4(n, cin, h, w), ny = numel4(n, cout, h, w);
    size_t np = numel4(n, cin, h + 2 * p, w + 2 * p);
    float *wt = malloc((size_t)cout * cin * k * k * sizeof *wt), *dy = malloc(ny * sizeof *dy);
    float *dpad = malloc(np * sizeof *dpad), *dx = malloc(nx * sizeof *dx), *dx2 = malloc(nx * sizeof *dx2);
    int B = native_block();
    float *dyb = calloc(blocked_numel(n, cout, h, w, B), sizeof *dyb);
    float *dxb = calloc(blocked_numel(n, cin, h, w, B), sizeof *dxb);
    tu_fill_uniform(wt, (size_t)cout * cin * k * k, -0.1f, 0.1f, 5);
    tu_fill_uniform(dy, ny, -1, 1, 6);
    dnnl_memory_desc_t yp, yb, xp, xb;
    dn_md(&yp, n, cout, h, w, 1, 0), dn_md(&yb, n, cout, h, w, B, 0);
    dn_md(&xp, n, cin, h, w, 1, 0), dn_md(&xb, n, cin, h, w, B, 0);
    int rc = pad_setup(&P, n, cin, h, w, p, p, p, p, 1, 0, &err);
    if (!rc) rc = conv_setup(&ref, n, cin, h + 2 * p, w + 2 * p, cout, k, k, 1, 0, 0, 0, 0, wt, NULL, &err);
    if (!rc) rc = reflect_grad_setup(&R, B, B, n, cin, h, w, cout, k, wt, &err);
    if (!rc) rc = reorder_setup(&dy_to, &yp, &yb, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&dx_from, &xb, &xp, NULL, 0, &err);
    CHECK(rc == 0, "%s: setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    conv_backward(&ref, dy, dpad);
    pad_backward(&P, dpad, dx);
    reorder_run(&dy_to, dy, dyb);
    reflect_grad_backward(&R, dyb, dxb);
    reorder_run(&dx_from, dxb, dx2);
    tu_rel_close(tag, dx2, dx, nx, 1e-5);
    conv_destroy(&ref), reflect_grad_destroy(&R);
    reorder_destroy(&dy_to), reorder_destroy(&dx_from);
    free(wt), free(dy), free(dpad), free(dx), free(dx2), free(dyb), free(dxb);
}

/* gram_conv on a blocked activation against F F^T and dF += S F on
 * the NCHW matrix (cblas), float32 and bfloat16 (inputs rounded to bf16 on
 * both sides, so only the accumulation order differs, and bf16's rounding
 * of S and of the sum into dF). Guided (a region's Gram matrix): pixel
 * weights m in [0, 1], G = F diag(m) F^T / (C sum m) and dF += S F diag(m),
 * in the layout this CPU's convolutions pick (block). */
static void test_gram_conv(int c, int h, int w, int bf16, int guided) {
    char tag[96];
    int block = guided ? native_block() : 16;
    snprintf(tag, sizeof tag, "gram_conv %dx%dx%d%s%s", c, h, w, bf16 ? " bf16" : "",
             guided ? " guided" : "");
    if (bf16 && !dn_has_bf16()) {
        printf("  %s: skipped, this CPU has no bfloat16 instructions\n", tag);
        return;
    }
    size_t n = numel4(1, c, h, w), cc = (size_t)c * c, nb = blocked_numel(1, c, h, w, block), hw = (size_t)h * w;
    float *F = malloc(n * sizeof *F), *D = malloc(n * sizeof *D), *S = malloc(cc * sizeof *S);
    float *G = malloc(cc * sizeof *G), *Gref = malloc(cc * sizeof *Gref), *out = malloc(n * sizeof *out);
    float *Fb = calloc(nb, sizeof *Fb), *Db = calloc(nb, sizeof *Db), *Wb = calloc(nb, sizeof *Wb);
    float *m = malloc(hw * sizeof *m), *Fm = malloc(n * sizeof *Fm);
    tu_fill_uniform(F, n, 0, 2, 5);
    tu_fill_uniform(D, n, -0.01f, 0.01f, 6); /* small: S F dominates the comparison */
    tu_fill_uniform(S, cc, -0.05f, 0.05f, 7);
    nst_error err;
    gram_layer L;
    reorder_layer to_blk, from_blk;
    dnnl_memory_desc_t plain, blk;
    dn_md(&plain, 1, c, h, w, 1, 0);
    dn_md(&blk, 1, c, h, w, block, bf16);
    int rc = gram_setup(&L, c, h, w, block, bf16, &err);
    if (!rc) rc = reorder_setup(&to_blk, &plain, &blk, NULL, 0, &err);
    if (!rc) rc = reorder_setup(&from_blk, &blk, &plain, NULL, 0, &err);
    CHECK(rc == 0, "%s: setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    /* F and D as the blocked layer holds them, and back: the reference
     * sees the same (bf16-rounded) values */
    reorder_run(&to_blk, F, Fb);
    reorder_run(&from_blk, Fb, F);
    reorder_run(&to_blk, D, Db);
    reorder_run(&from_blk, Db, D);
    double msum = (double)hw;
    for (size_t p = 0; p < hw; p++) m[p] = 1;
    if (guided) {
        tu_fill_uniform(m, hw, 0, 1, 8);
        msum = 0;
        for (size_t p = 0; p < hw; p++) msum += m[p];
    }
    gram_weigh(&L, Fb, m, Wb);
    reorder_run(&from_blk, Wb, Fm); /* F diag(m) as the layer rounds it */
    gram_forward(&L, Fb, guided ? Wb : Fb, msum, G);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, c, (int)hw, (float)(1.0 / (c * msum)), F, (int)hw,
                Fm, (int)hw, 0.0f, Gref, c);
    char label[128];
    snprintf(label, sizeof label, "%s forward", tag);
    tu_rel_close(label, G, Gref, cc, 1e-5);
    gram_backward(&L, guided ? Wb : Fb, S, Db);
    reorder_run(&from_blk, Db, out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c, h * w, c, 1.0f, S, c, guided ? Fm : F, h * w,
                1.0f, D, h * w);
    snprintf(label, sizeof label, "%s backward (dF += S F)", tag);
    tu_rel_close(label, out, D, n, bf16 ? 1e-2 : 1e-6);
    gram_destroy(&L);
    reorder_destroy(&to_blk), reorder_destroy(&from_blk);
    free(F), free(D), free(S), free(G), free(Gref), free(out), free(Fb), free(Db), free(Wb), free(m), free(Fm);
}

static void test_act(const char *tag, float alpha) {
    const tensor *x = tget(tag, "x");
    net N = {.kind = NET_ACT, .alpha = alpha, .nx = x->numel, .ny = x->numel};
    check_net(tag, &N, EPS_KINK, FD_TOL);

    /* in place: forward into x's buffer, backward into dout's */
    size_t n = x->numel;
    float *buf = malloc(n * sizeof *buf), *g = malloc(n * sizeof *g);
    memcpy(buf, x->data, n * sizeof *buf);
    memcpy(g, tget(tag, "dout")->data, n * sizeof *g);
    act_forward(alpha, n, buf, buf);
    act_backward(alpha, n, buf, g, g);
    char label[128];
    snprintf(label, sizeof label, "%s in place forward", tag);
    compare(label, buf, tget(tag, "y")->data, n);
    snprintf(label, sizeof label, "%s in place backward", tag);
    compare(label, g, tget(tag, "dx")->data, n);
    free(buf), free(g);
}

static void test_pool(const char *tag, int kind, int k, int stride) {
    const tensor *x = tget(tag, "x");
    int n = (int)x->shape[0], c = (int)x->shape[1], h = (int)x->shape[2], wd = (int)x->shape[3];
    net N = {.kind = NET_POOL};
    nst_error err;
    int rc = pool_setup(&N.pool, kind, n, c, h, wd, k, stride, 1, 0, &err);
    CHECK(rc == 0, "%s: pool_setup: %s", tag, rc ? err.msg : "");
    if (rc) return;
    /* TF 'SAME': out = ceil(in / stride) */
    int oh = (h + stride - 1) / stride, ow = (wd + stride - 1) / stride;
    CHECK(N.pool.oh == oh && N.pool.ow == ow, "%s: output %dx%d, want %dx%d", tag, N.pool.oh,
          N.pool.ow, oh, ow);
    N.nx = x->numel;
    N.ny = numel4(n, c, N.pool.oh, N.pool.ow);
    check_net(tag, &N, kind == POOL_MAX ? EPS_KINK : EPS_LINEAR, FD_TOL);
    pool_destroy(&N.pool);
}

static void test_same_padding(void) {
    static const int cases[][6] = {
        /* in, k, stride -> out, before, after */
        {8, 3, 2, 4, 0, 1}, {7, 3, 2, 4, 1, 1}, {5, 2, 1, 5, 0, 1},
        {6, 4, 1, 6, 1, 2}, {4, 1, 2, 2, 0, 0}, {9, 9, 1, 9, 4, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *t = cases[i];
        int out, before, after;
        same_padding(t[0], t[1], t[2], &out, &before, &after);
        CHECK(out == t[3] && before == t[4] && after == t[5],
              "same_padding(%d, k %d, s %d) = %d (%d, %d), want %d (%d, %d)", t[0], t[1], t[2],
              out, before, after, t[3], t[4], t[5]);
    }
}

static void test_errors(void) {
    nst_error err = {0};
    conv_layer cl;
    float wt[5 * 5] = {0};
    int rc = conv_setup(&cl, 1, 1, 3, 3, 1, 5, 5, 1, 0, 0, 0, 0, wt, NULL, &err);
    CHECK(rc == NST_ERR_INTERNAL && strstr(err.msg, "convolution") && strstr(err.msg, "1x1x3x3"),
          "conv kernel larger than input: rc %d, message '%s'", rc, err.msg);
    pad_layer pl;
    rc = pad_setup(&pl, 1, 1, 3, 3, 3, 0, 0, 0, 1, 0, &err);
    CHECK(rc == NST_ERR_ARG && strstr(err.msg, "reflect"),
          "reflect pad >= size: rc %d, message '%s'", rc, err.msg);
    pool_layer po;
    rc = pool_setup(&po, 7, 1, 1, 4, 4, 2, 2, 1, 0, &err);
    CHECK(rc == NST_ERR_INTERNAL && strstr(err.msg, "pooling"),
          "unknown pooling kind: rc %d, message '%s'", rc, err.msg);
}

/* A primitive that fails to run (here: run without its tensors) is kept as
 * the call's error, not an abort() of the caller's process. */
static void test_run_failure(void) {
    dnnl_memory_desc_t md;
    dn_md(&md, 1, 8, 4, 4, 1, 0);
    reorder_layer R;
    nst_error err = {0};
    CHECK(reorder_setup(&R, &md, &md, NULL, 0, &err) == 0, "reorder: %s", err.msg);
    dn_run_reset();
    dn_run(R.prim, 0, NULL);
    int rc = dn_run_status(NST_OK, &err);
    CHECK(rc == NST_ERR_INTERNAL && strstr(err.msg, "oneDNN: a primitive failed to run"), "rc %d: %s", rc, err.msg);
    printf("  a failed run: %s\n", err.msg);
    CHECK(dn_run_status(NST_OK, &err) == NST_OK, "the failure is reported once");
    CHECK(dn_run_status(NST_ERR_ARG, &err) == NST_ERR_ARG, "an earlier error stays the error");
    reorder_destroy(&R);
}

int main(void) {
    tu_load_fixture("layers.bin", &fx);
    test_run_failure();
    test_same_padding();
    test_errors();

    test_conv("conv3x3_bias", 1, 1, 0);
    test_conv("conv1x1_nobias", 1, 0, 0);
    test_conv("conv9x9", 1, 4, 0);
    test_conv("conv_batch2_odd", 1, 1, 0);
    test_conv("conv_s2_same_even", 2, 0, 1);
    test_conv("conv_s2_same_odd", 2, 0, 1);
    test_conv("conv_s2_same_mixed", 2, 0, 1);
    test_conv("conv_k4_same", 1, 0, 1);
    test_reflect_conv();
    test_reflect_pad();
    test_reflect_pad_blocked(8, 0);
    test_reflect_pad_blocked(16, 0);
    test_reflect_pad_blocked(16, 1);
    test_zero_pad(1);
    test_zero_pad(8);
    /* 64 x 48 x 64 inputs reach wants_winograd's threshold; 32 channels don't */
    int avx512 = ((unsigned)dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) ==
                 dnnl_cpu_isa_avx512_core;
    test_blocked_conv(64, 64, 48, 64, 0, avx512 ? "wino" : NULL);
    test_blocked_conv(32, 48, 20, 28, 0, NULL);
    test_blocked_conv(64, 64, 48, 64, 1, NULL);
    test_reflect_grad(2, 20, 24, 9, 11, 3);
    test_reflect_grad(1, 24, 16, 12, 10, 5);
    test_reflect_grad(1, 64, 64, 48, 64, 3);
    test_gram_conv(64, 24, 20, 0, 0);
    test_gram_conv(48, 7, 9, 0, 0);
    test_gram_conv(64, 24, 20, 1, 0);
    test_gram_conv(64, 24, 20, 0, 1);
    test_gram_conv(20, 7, 9, 0, 1); /* padding lanes in the last block */
    test_gram_conv(64, 24, 20, 1, 1);

    test_act("leaky", 0.1f);
    test_act("relu", 0.0f);

    test_pool("maxpool_even", POOL_MAX, 2, 2);
    test_pool("maxpool_odd", POOL_MAX, 2, 2);
    test_pool("maxpool_k2s1", POOL_MAX, 2, 1);
    test_pool("maxpool_k3s2", POOL_MAX, 3, 2);
    test_pool("avgpool_even", POOL_AVG, 2, 2);
    test_pool("avgpool_odd", POOL_AVG, 2, 2);
    test_pool("avgpool_k2s1", POOL_AVG, 2, 1);
    test_pool("avgpool_k3s2", POOL_AVG, 3, 2);

    dict_free(&fx);
    return tu_finish();
}
