/* test_regions.c: spatial control (nst.h, "regions"). Mask labels and the
 * weights a mask gives; the loss with guided Gram matrices through
 * darknet-tiny against PyTorch autograd (tests/fixtures/regions.bin from
 * tests/pytorch/gen_regions.py) and finite differences; and a two-region
 * picture: each painted region nearer its own painting than the other's,
 * the unpainted region the photo's. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/resize.h"
#include "models/net.h"
#include "stylize/loss_engine.h"
#include "testutil.h"

static void test_labels(void) {
    nst_error err;
    float c[3];
    CHECK(nst_mask_label("#ff8000", c, &err) == 0 && c[0] == 255 && c[1] == 128 && c[2] == 0, "#ff8000");
    CHECK(nst_mask_label("#0f0", c, &err) == 0 && c[0] == 0 && c[1] == 255 && c[2] == 0, "#0f0");
    CHECK(nst_mask_label("White", c, &err) == 0 && c[0] == 255 && c[2] == 255, "White");
    CHECK(nst_mask_label("128", c, &err) == 0 && c[0] == 128 && c[1] == 128, "128");
    const char *bad[] = {"#12345", "256", "sky", "", "#ggg", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = nst_mask_label(bad[i], c, &err);
        CHECK(rc == NST_ERR_ARG && strstr(err.msg, "mask label"), "'%s' refused: %d %s", bad[i], rc,
              rc ? err.msg : "");
    }
}

static double plane_sum(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}

static void test_mask_weights(void) {
    nst_error err;
    enum { W = 40, H = 10 };
    size_t np = W * H;
    /* grey: a ramp 0..255 along x, labels black and white: shared linearly */
    nst_image grey;
    nst_image_alloc(&grey, W, H, &err);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) grey.data[c * np + y * W + x] = 255.0f * x / (W - 1);
    const float bw[2][3] = {{255, 255, 255}, {0, 0, 0}};
    nst_regions r;
    CHECK(nst_regions_from_mask(&grey, bw, 2, 0, &r, &err) == 0, "grey mask: %s", err.msg);
    double worst = 0;
    for (int x = 0; x < W; x++) worst = fmax(worst, fabs(r.weight[5 * W + x] - (double)x / (W - 1)));
    CHECK(worst < 1e-6, "grey ramp: white's weight is x / (W - 1) (off by %.2g)", worst);
    nst_regions_free(&r);

    /* colour: left half red, right half blue, a stray orange pixel goes to
     * red; feathered, every pixel's weights still sum to 1 */
    nst_image col;
    nst_image_alloc(&col, W, H, &err);
    for (size_t p = 0; p < np; p++) {
        int left = (int)(p % W) < W / 2;
        col.data[p] = left ? 250 : 10, col.data[np + p] = 0, col.data[2 * np + p] = left ? 0 : 240;
    }
    col.data[np + 3] = 120; /* orange-ish, in the red half */
    const float rb[2][3] = {{255, 0, 0}, {0, 0, 255}};
    CHECK(nst_regions_from_mask(&col, rb, 2, 0, &r, &err) == 0, "colour mask: %s", err.msg);
    CHECK(r.weight[3] == 1 && r.weight[W - 1] == 0 && r.weight[np + W - 1] == 1, "nearest colour");
    nst_regions_free(&r);
    CHECK(nst_regions_from_mask(&col, rb, 2, 3, &r, &err) == 0, "feathered: %s", err.msg);
    worst = 0;
    for (size_t p = 0; p < np; p++) worst = fmax(worst, fabs(r.weight[p] + r.weight[np + p] - 1));
    CHECK(worst < 1e-5, "feathered weights sum to 1 (off by %.2g)", worst);
    float edge = r.weight[5 * W + W / 2 - 1], inside = r.weight[5 * W + 2];
    CHECK(edge > 0.4f && edge < 0.7f && inside == 1, "feathered edge %.2f, inside %.2f", edge, inside);
    CHECK(fabs(plane_sum(r.weight, np) - np / 2.0) < 1, "the blur keeps each region's area");

    /* blend: region 0 from an image of 10s, region 1 the photo's 200s */
    nst_image a, photo, out;
    nst_image_alloc(&a, 20, 5, &err), nst_image_alloc(&photo, 20, 5, &err);
    for (int i = 0; i < 300; i++) a.data[i] = 10, photo.data[i] = 200;
    const nst_image *pics[2] = {&a, NULL};
    CHECK(nst_regions_blend(&r, pics, &photo, &out, &err) == 0, "blend: %s", err.msg);
    CHECK(fabsf(out.data[0] - 10) < 1e-3f && fabsf(out.data[19] - 200) < 1e-3f, "blend ends %.2f %.2f",
          out.data[0], out.data[19]);
    nst_image_free(&out);
    nst_regions_free(&r);

    /* a label that no pixel carries is named */
    const float typo[2][3] = {{255, 0, 0}, {0, 255, 0}};
    nst_image_free(&col);
    nst_image_alloc(&col, W, H, &err);
    for (size_t p = 0; p < np; p++) col.data[p] = 255, col.data[np + p] = col.data[2 * np + p] = 0;
    int rc = nst_regions_from_mask(&col, typo, 2, 0, &r, &err);
    CHECK(rc == NST_ERR_ARG && strstr(err.msg, "#00ff00"), "missing label: %d %s", rc, rc ? err.msg : "");
    nst_image_free(&grey), nst_image_free(&col), nst_image_free(&a), nst_image_free(&photo);
}

static nst_image image_of(const tensor *t) {
    return (nst_image){.w = (int)t->shape[2], .h = (int)t->shape[1], .data = t->data};
}

/* The guided loss and dL/dx against PyTorch and finite differences. */
static void test_guided_loss(const nst_net *net) {
    tensor_dict fx;
    tu_load_fixture("regions.bin", &fx);
    const tensor *x = tu_get(&fx, "x"), *m = tu_get(&fx, "regions");
    int h = (int)x->shape[1], w = (int)x->shape[2];
    nst_image styles[2] = {image_of(tu_get(&fx, "style0")), image_of(tu_get(&fx, "style1"))};
    nst_regions regions = {(int)m->shape[0], w, h, m->data};
    nst_stylize_params p;
    nst_stylize_params_init(&p);
    nst_stylize_default_layers(&p, net);
    p.pooling = NST_POOL_AVG; /* as the fixture: no arg-max flips in the differences */
    p.regions = &regions;
    p.region_style[0] = 0, p.region_style[1] = 1, p.region_style[2] = -1;
    nst_error err;
    loss_engine e;
    plan plan;
    int rc = engine_init(&e, net, &p, &err);
    if (!rc) rc = engine_style_targets(&e, styles, 2, w, &err);
    if (!rc) rc = engine_plan(&e, &plan, 1, h, w, &err);
    if (!rc) rc = engine_content_targets(&e, &plan, tu_get(&fx, "content")->data, &err);
    CHECK(rc == 0, "engine: %s", rc ? err.msg : "");
    if (!rc) {
        float *g = malloc(x->numel * sizeof *g);
        loss_terms t;
        double loss = engine_evaluate(&e, &plan, x->data, g, &t);
        double want = tu_get(&fx, "loss")->data[0], want_style = tu_get(&fx, "style_loss")->data[0];
        printf("  guided loss %.7g (PyTorch %.7g), style %.6g (%.6g)\n", loss, want, t.style, want_style);
        CHECK(fabs(t.style - want_style) < 1e-5 * want_style, "style term %.7g, PyTorch %.7g", t.style, want_style);
        CHECK(fabs(loss - want) < 1e-5 * want, "loss %.7g, PyTorch %.7g", loss, want);
        tu_rel_close("guided dL/dx against PyTorch", g, tu_get(&fx, "grad")->data, x->numel, 1e-4);
        double worst = tu_engine_fd(&e, &plan, x->data, g, x->numel, w, 0, 0.1f);
        CHECK(worst < 1e-2, "guided dL/dx: finite differences, worst rel err %.3g", worst);
        free(g);
        plan_destroy(&plan);
    }
    engine_free(&e);
    dict_free(&fx);
}

/* Mean of |a - b| over the pixels where m is 1 and the channels. */
static double region_diff(const nst_image *a, const nst_image *b, const float *m) {
    size_t np = (size_t)a->w * a->h;
    double s = 0, n = 0;
    for (size_t p = 0; p < np; p++) {
        if (m[p] < 1) continue;
        n++;
        for (int c = 0; c < 3; c++) s += fabs(a->data[c * np + p] - b->data[c * np + p]) / 3;
    }
    return s / n;
}

/* Style distance of the pixels where m > 0 to a painting: at each of the
 * first three default style layers (full, 1/2 and 1/4 resolution: a region
 * of a small picture leaves too few pixels at the deeper ones),
 * ||G_m - A||^2 / ||A||^2 with G_m the Gram matrix of the features weighted
 * by m resized to the layer, A the painting's. */
static double style_distance(const nst_net *net, const nst_image *img, const float *m, const nst_image *painting) {
    nst_stylize_params p;
    nst_stylize_params_init(&p);
    nst_stylize_default_layers(&p, net);
    unsigned char *tapped = calloc((size_t)net->n_nodes, 1);
    int layer[NST_MAX_LAYERS];
    p.n_style_layers = 3;
    for (int i = 0; i < p.n_style_layers; i++) tapped[layer[i] = nst_net_find_layer(net, p.style_layers[i])] = TAP_COPY;
    const plan_opts o = {tapped, NST_PAD_REFLECT, NST_POOL_MAX, NST_PRECISION_FP32, 0, 0};
    nst_error err;
    double d = 0;
    float *A[NST_MAX_LAYERS] = {0};
    for (int which = 0; which < 2; which++) { /* 0: the painting, 1: the picture */
        const nst_image *im = which ? img : painting;
        plan pl;
        if (plan_create(&pl, net, 1, im->h, im->w, &o, &err)) {
            CHECK(0, "style distance plan: %s", err.msg);
            break;
        }
        plan_forward(&pl, im->data, 0);
        for (int i = 0; i < p.n_style_layers; i++) {
            plan_tap L = plan_tap_of(&pl, layer[i]);
            size_t hw = (size_t)L.h * L.w, cc = (size_t)L.c * L.c;
            float *wt = malloc(hw * sizeof *wt), *Fm = malloc(L.c * hw * sizeof *Fm), *G = malloc(cc * sizeof *G);
            double sum = hw;
            if (which) resize_planes(m, 1, img->w, img->h, wt, L.w, L.h, &err), sum = plane_sum(wt, hw);
            for (int c = 0; c < L.c; c++)
                for (size_t q = 0; q < hw; q++) Fm[c * hw + q] = L.out[c * hw + q] * (which ? wt[q] : 1);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L.c, L.c, (int)hw, (float)(1 / (L.c * sum)), L.out,
                        (int)hw, Fm, (int)hw, 0, G, L.c);
            if (!which) {
                A[i] = G;
            } else {
                double num = 0, den = 0;
                for (size_t k = 0; k < cc; k++) num += (G[k] - A[i][k]) * (G[k] - A[i][k]), den += A[i][k] * A[i][k];
                d += num / den;
                free(A[i]), free(G);
            }
            free(wt), free(Fm);
        }
        plan_destroy(&pl);
    }
    free(tapped);
    return d / p.n_style_layers;
}

/* Sky (top) in The Starry Night, the river bank bottom left in The Scream,
 * bottom right kept as the photo, from a colour mask; each region measured
 * away from its edges. */
static void test_two_regions(const nst_net *net) {
    const char *paths[3] = {tu_shared("images/content/tubingen.jpg"), tu_shared("images/style/starry_night.jpg"),
                            tu_shared("images/style/the_scream.jpg")};
    if (!paths[0] || !paths[1] || !paths[2]) return;
    nst_error err;
    nst_image photo, paint[2], mask, out;
    int rc = nst_image_load(paths[0], &photo, &err);
    for (int k = 0; k < 2 && !rc; k++) rc = nst_image_load(paths[k + 1], &paint[k], &err);
    CHECK(rc == 0, "load: %s", rc ? err.msg : "");
    if (rc) return;
    enum { MW = 128, MH = 96 };
    size_t np = MW * MH;
    nst_image_alloc(&mask, MW, MH, &err);
    float *inner[3];
    for (int r = 0; r < 3; r++) inner[r] = calloc(np, sizeof(float));
    for (int y = 0; y < MH; y++)
        for (int x = 0; x < MW; x++) {
            int region = y < MH * 2 / 5 ? 0 : x < MW / 2 ? 1 : 2;
            const float rgb[3][3] = {{0, 0, 255}, {255, 0, 0}, {0, 255, 0}};
            for (int c = 0; c < 3; c++) mask.data[c * np + y * MW + x] = rgb[region][c];
            /* interiors: 12 px from any other region */
            int far = region == 0 ? y < MH * 2 / 5 - 12
                                  : y >= MH * 2 / 5 + 12 && (region == 1 ? x < MW / 2 - 12 : x >= MW / 2 + 12);
            inner[region][y * MW + x] = (float)far;
        }
    const float labels[3][3] = {{0, 0, 255}, {255, 0, 0}, {0, 255, 0}};
    nst_regions regions;
    rc = nst_regions_from_mask(&mask, labels, 3, 2, &regions, &err);
    CHECK(rc == 0, "regions: %s", rc ? err.msg : "");
    nst_stylize_params p;
    nst_stylize_params_init(&p);
    nst_stylize_default_layers(&p, net);
    p.size = MW, p.iterations = 60, p.regions = &regions;
    p.region_style[0] = 0, p.region_style[1] = 1, p.region_style[2] = -1;
    if (!rc) rc = nst_stylize(net, &photo, paint, 2, &p, &out, &err);
    CHECK(rc == 0, "stylize with regions: %s", rc ? err.msg : "");
    if (!rc) {
        CHECK(out.w == MW && out.h == MH, "output %dx%d", out.w, out.h);
        nst_image small;
        nst_image_resize(&photo, out.w, out.h, &small, &err);
        double d[2][2];
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 2; k++) d[r][k] = style_distance(net, &out, inner[r], &paint[k]);
        printf("  style distance: sky to starry night %.3f, to the scream %.3f; bank to the scream %.3f, "
               "to starry night %.3f\n", d[0][0], d[0][1], d[1][1], d[1][0]);
        CHECK(d[0][0] < d[0][1], "the sky is nearer The Starry Night (%.3f) than The Scream (%.3f)", d[0][0], d[0][1]);
        CHECK(d[1][1] < d[1][0], "the bank is nearer The Scream (%.3f) than The Starry Night (%.3f)", d[1][1], d[1][0]);
        double kept = region_diff(&out, &small, inner[2]), sky = region_diff(&out, &small, inner[0]);
        printf("  unpainted region: %.2f grey levels from the photo (the sky: %.1f)\n", kept, sky);
        CHECK(kept < 3, "the unpainted region is %.2f grey levels from the photo", kept);
        CHECK(sky > 10, "the sky is painted: %.2f grey levels from the photo", sky);
        nst_image_free(&small);
        nst_image_free(&out);
    }
    nst_regions_free(&regions);
    for (int r = 0; r < 3; r++) free(inner[r]);
    nst_image_free(&photo), nst_image_free(&paint[0]), nst_image_free(&paint[1]), nst_image_free(&mask);
}

int main(void) {
    test_labels();
    test_mask_weights();
    const char *path = tu_shared("models/darknet-tiny");
    nst_net *net;
    nst_error err;
    if (path && nst_net_load(path, &net, &err) == 0) {
        test_guided_loss(net);
        test_two_regions(net);
        nst_net_free(net);
    } else if (path) {
        CHECK(0, "load %s: %s", path, err.msg);
    }
    return tu_finish();
}
