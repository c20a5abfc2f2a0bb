/* test_losses.c: content, Gram, style and TV losses against PyTorch autograd
 * (tests/fixtures/losses.bin from tests/pytorch/gen_losses.py) and against
 * central finite differences; gradients must add to, not overwrite, dF. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "losses/losses.h"
#include "testutil.h"

static tensor_dict fx;

/* The NCHW reference that the loss network's blocked Gram matrices (plan.c,
 * gram_conv.c) are checked against in test_layers: G = F F^T / (C HW) by
 * BLAS, and the style loss of F with dF += dG' F. */
static void gram_matrix(int C, int HW, const float *F, float *G) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, C, HW, 1.0f / ((float)C * (float)HW), F, HW, F, HW,
                0.0f, G, C);
}

static double style_loss(float weight, int C, int HW, const float *F, const float *A, double anorm2, float *G,
                         float *dG, float *dF) {
    gram_matrix(C, HW, F, G);
    memset(dG, 0, (size_t)C * C * sizeof *dG);
    double loss = style_loss_gram(weight, C, HW, G, A, anorm2, dG);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, HW, C, 1.0f, dG, C, F, HW, 1.0f, dF, HW);
    return loss;
}

static const tensor *tget(const char *tag, const char *field) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", tag, field);
    return tu_get(&fx, name);
}
static const float *fget(const char *tag, const char *field) {
    return tget(tag, field)->data;
}

static double norm2(const float *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * a[i];
    return s;
}

/* ---- each loss as a function of its input x ---------------------------- */

typedef struct {
    float w;
    int c, h, wd;       /* tv: image shape; content/style: C = c, HW = h */
    const float *target; /* P (content) or A (style) */
    double tnorm2;       /* ||P||^2 or ||A||^2 */
    float *G, *dG;       /* style scratch */
} loss_p;

static double content_eval(const loss_p *p, const float *x, float *grad) {
    return content_loss(p->w, (size_t)p->c * p->h, x, p->target, p->tnorm2, grad);
}
static double style_eval(const loss_p *p, const float *x, float *grad) {
    return style_loss(p->w, p->c, p->h, x, p->target, p->tnorm2, p->G, p->dG, grad);
}
static double tv_eval(const loss_p *p, const float *x, float *grad) {
    return tv_loss(p->w, p->c, p->h, p->wd, x, grad);
}

typedef struct {
    double (*eval)(const loss_p *p, const float *x, float *grad);
    const loss_p *p;
    float *sink; /* gradient sink for finite-difference evaluations */
} fd_ctx;

static double fd_value(const float *x, void *ctx) {
    const fd_ctx *c = ctx;
    return c->eval(c->p, x, c->sink);
}

/* Check one loss at x (n inputs): against the fixture (tag.loss, tag.grad)
 * when `tag` is given, that the gradient accumulates into a pre-filled
 * buffer, and against finite differences with step eps. */
static void check_loss(const char *what, const char *tag,
                       double (*eval)(const loss_p *, const float *, float *),
                       const loss_p *p, const float *x0, size_t n, float eps, double fd_tol) {
    float *x = malloc(n * sizeof *x), *g = calloc(n, sizeof *g);
    float *acc = malloc(n * sizeof *acc), *want = malloc(n * sizeof *want);
    float *sink = malloc(n * sizeof *sink);
    memcpy(x, x0, n * sizeof *x);
    char label[160];

    double loss = eval(p, x, g);
    if (tag) {
        double ref = fget(tag, "loss")[0];
        double rel = fabs(loss - ref) / fabs(ref);
        CHECK(rel < 1e-6, "%s: loss %.9g, torch %.9g", what, loss, ref);
        printf("  %-40s loss %.7g rel err vs torch %.2e\n", what, loss, rel);
        snprintf(label, sizeof label, "%s gradient vs torch", what);
        tu_rel_close(label, g, fget(tag, "grad"), n, 1e-6);
    }

    /* Accumulation: acc starts at r (of the gradient's scale), ends at r + g. */
    float gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmaxf(gmax, fabsf(g[i]));
    tu_fill_uniform(acc, n, -gmax, gmax, 7);
    for (size_t i = 0; i < n; i++) want[i] = acc[i] + g[i];
    double again = eval(p, x, acc);
    CHECK(fabs(again - loss) <= 1e-12 * fabs(loss), "%s: loss changed between identical calls",
          what);
    snprintf(label, sizeof label, "%s gradient accumulates", what);
    tu_close(label, acc, want, n, 1e-6f * gmax, 1e-6f);

    fd_ctx ctx = {eval, p, sink};
    tu_check_grad(what, fd_value, &ctx, x, g, n, 60, eps, fd_tol);
    free(x), free(g), free(acc), free(want), free(sink);
}

/* ---- tests ------------------------------------------------------------- */

static void test_content(void) {
    const tensor *F = tget("content", "F");
    int C = (int)F->shape[0], HW = (int)F->shape[1];
    const float *P = fget("content", "P");
    loss_p p = {.w = fget("content", "w")[0], .c = C, .h = HW, .target = P,
                .tnorm2 = norm2(P, F->numel)};
    check_loss("content 4x15 w=0.7", "content", content_eval, &p, F->data, F->numel, 1e-2f, 1e-3);

    /* Large enough for the threaded loop. */
    enum { BC = 64, BHW = 40 * 40 };
    float *bf = malloc(2 * BC * BHW * sizeof *bf), *bp = bf + BC * BHW;
    tu_fill_uniform(bf, 2 * BC * BHW, 0, 2, 11);
    loss_p big = {.w = 3, .c = BC, .h = BHW, .target = bp, .tnorm2 = norm2(bp, BC * BHW)};
    check_loss("content 64x1600 (threaded)", NULL, content_eval, &big, bf, BC * BHW, 1e-2f, 1e-3);
    free(bf);
}

static void test_gram_and_style(const char *tag) {
    const tensor *F = tget(tag, "F");
    int C = (int)F->shape[0], HW = (int)F->shape[1];
    const float *A = fget(tag, "A");
    float *G = malloc((size_t)C * C * sizeof *G), *dG = malloc((size_t)C * C * sizeof *dG);
    char what[64];

    /* Gram: the full symmetric matrix, both triangles. */
    gram_matrix(C, HW, F->data, G);
    snprintf(what, sizeof what, "gram %dx%d", C, HW);
    tu_rel_close(what, G, fget(tag, "G"), (size_t)C * C, 1e-6);
    tu_close(what, G, fget(tag, "G"), (size_t)C * C, 1e-7f, 1e-6f);

    loss_p p = {.w = fget(tag, "w")[0], .c = C, .h = HW, .target = A,
                .tnorm2 = norm2(A, (size_t)C * C), .G = G, .dG = dG};
    snprintf(what, sizeof what, "style %dx%d w=%g", C, HW, p.w);
    check_loss(what, tag, style_eval, &p, F->data, F->numel, 3e-2f, 1e-3);
    free(G), free(dG);
}

static void test_tv(void) {
    const tensor *x = tget("tv", "x");
    loss_p p = {.w = fget("tv", "w")[0], .c = (int)x->shape[0], .h = (int)x->shape[1],
                .wd = (int)x->shape[2]};
    check_loss("tv 3x5x7 w=0.3", "tv", tv_eval, &p, x->data, x->numel, 0.5f, 1e-4);

    /* Degenerate shapes: a single row (no vertical differences) and a
     * single column (no horizontal ones). */
    float img[12];
    tu_fill_uniform(img, 12, 0, 255, 3);
    loss_p row = {.w = 1.5f, .c = 2, .h = 1, .wd = 6}, col = {.w = 1.5f, .c = 3, .h = 4, .wd = 1};
    check_loss("tv 2x1x6", NULL, tv_eval, &row, img, 12, 0.5f, 1e-4);
    check_loss("tv 3x4x1", NULL, tv_eval, &col, img, 12, 0.5f, 1e-4);

    /* Large enough for the threaded loop. */
    enum { BC = 3, BH = 150, BW = 160 };
    float *big = malloc(BC * BH * BW * sizeof *big);
    tu_fill_uniform(big, BC * BH * BW, 0, 255, 5);
    loss_p bp = {.w = 0.1f, .c = BC, .h = BH, .wd = BW};
    check_loss("tv 3x150x160 (threaded)", NULL, tv_eval, &bp, big, BC * BH * BW, 0.5f, 1e-4);
    free(big);

    /* A constant image has no variation and no gradient. */
    float flat[12], g[12] = {0};
    for (int i = 0; i < 12; i++) flat[i] = 42;
    CHECK(tv_loss(1, 3, 2, 2, flat, g) == 0, "tv of a constant image is not 0");
    int zero = 1;
    for (int i = 0; i < 12; i++) zero &= g[i] == 0;
    CHECK(zero, "tv gradient of a constant image is not 0");
}

int main(void) {
    tu_load_fixture("losses.bin", &fx);
    test_content();
    test_gram_and_style("style1"); /* C < HW */
    test_gram_and_style("style2"); /* C > HW */
    test_tv();
    dict_free(&fx);
    return tu_finish();
}
