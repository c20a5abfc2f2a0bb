/* test_arbitrary.c: arbitrary style (nst_arbitrary_*) on Magenta's pair in
 * ../shared/models/magenta-arbitrary against the committed references of
 * tests/pytorch/gen_magenta.py (tests/fixtures/magenta/):
 *  - the style vector of painting.png against Arm NN's int8 run of the
 *    predictor file (cosine >= 0.999) and the float reference;
 *  - the transfer network's picture of photo.png for that vector against
 *    the PyTorch re-implementation (tests/pytorch/magenta.py, itself
 *    checked against Arm NN's layer API): <= 0.5 grey levels mean;
 *  - strength 0.5 (the photo's own style vector interpolated in);
 *  - sizes that are not multiples of 4, tiles, saved style vectors, errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedforward/apply.h"
#include "feedforward/arbitrary.h"
#include "testutil.h"

static double cosine(const float *a, const float *b, int n) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return ab / sqrt(aa * bb);
}

static double mean_abs(const float *a, const float *b, size_t n, double *max) {
    double s = 0;
    *max = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        s += d;
        if (d > *max) *max = d;
    }
    return s / n;
}

static void load_png(const char *name, nst_image *im) {
    char path[1024];
    nst_error err;
    snprintf(path, sizeof path, "%s/magenta/%s", NST_FIXTURES, name);
    if (nst_image_load(path, im, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
}

int main(void) {
    const char *dir = tu_shared("models/magenta-arbitrary");
    if (!dir) return tu_finish();
    nst_set_threads(2);
    nst_error err;
    nst_arbitrary *a;
    if (nst_arbitrary_load(dir, &a, &err)) {
        CHECK(0, "load %s: %s", dir, err.msg);
        return tu_finish();
    }
    int n = nst_style_vector_size(a);
    CHECK(n == 100, "style vectors of %d numbers", n);
    tensor_dict pf, tf;
    tu_load_fixture("magenta/predict.bin", &pf);
    tu_load_fixture("magenta/transfer.bin", &tf);
    nst_image painting, photo;
    load_png("painting.png", &painting);
    load_png("photo.png", &photo);

    /* the style vector */
    float v[NST_STYLE_VECTOR_MAX];
    CHECK(nst_style_vector(a, &painting, v, &err) == 0, "style vector: %s", err.msg);
    double c_arm = cosine(v, tu_get(&pf, "style")->data, n), c_ref = cosine(v, tu_get(&pf, "style_float")->data, n);
    printf("  style vector: cosine %.6f with Arm NN (int8), %.7f with the float reference\n", c_arm, c_ref);
    CHECK(c_arm >= 0.999, "cosine with Arm NN %.6f", c_arm);
    CHECK(c_ref >= 0.99999, "cosine with the float reference %.7f", c_ref);

    /* the transfer network, for Arm NN's vector */
    const float *style = tu_get(&tf, "style")->data;
    nst_apply_params p;
    nst_apply_params_init(&p);
    nst_image y = {0};
    double max, mean;
    CHECK(nst_arbitrary_apply(a, &photo, style, &p, &y, &err) == 0, "apply: %s", err.msg);
    if (y.data) {
        CHECK(y.w == photo.w && y.h == photo.h, "output %dx%d", y.w, y.h);
        mean = mean_abs(y.data, tu_get(&tf, "output")->data, (size_t)3 * y.w * y.h, &max);
        printf("  transfer %dx%d: mean |d| %.4f, max %.3f grey levels from the reference\n", y.w, y.h, mean, max);
        CHECK(mean <= 0.5, "transfer: mean %g grey levels from the reference", mean);
        /* the picture is not the photo: the style did something */
        double moved = mean_abs(y.data, photo.data, (size_t)3 * y.w * y.h, &max);
        CHECK(moved > 10, "the painted photo differs from the photo by %g grey levels only", moved);
        nst_image_free(&y);
    }

    /* strength 0.5 interpolates with the photo's own style vector */
    p.strength = tu_get(&tf, "strength")->data[0];
    CHECK(nst_arbitrary_apply(a, &photo, style, &p, &y, &err) == 0, "strength: %s", err.msg);
    if (y.data) {
        mean = mean_abs(y.data, tu_get(&tf, "output_strength")->data, (size_t)3 * y.w * y.h, &max);
        printf("  strength %.1f: mean |d| %.4f, max %.3f grey levels from the reference\n", p.strength,
               mean, max);
        CHECK(mean <= 0.5, "strength %g: mean %g grey levels from the reference", p.strength, mean);
        nst_image_free(&y);
    }
    float own[NST_STYLE_VECTOR_MAX];
    CHECK(nst_style_vector(a, &photo, own, &err) == 0, "photo's vector: %s", err.msg);
    double c_own = cosine(own, tu_get(&tf, "style_photo")->data, n);
    printf("  the photo's own style vector: cosine %.6f with the reference\n", c_own);
    CHECK(c_own >= 0.999, "photo's vector cosine %g", c_own);
    nst_apply_params_init(&p);

    /* a side that is not a multiple of 4: the same picture but at the edge */
    nst_image odd = {0}, yo = {0}, full = {0};
    int ow = photo.w - 3, oh = photo.h - 2;
    nst_image_alloc(&odd, ow, oh, &err);
    for (int c = 0; c < 3; c++)
        for (int r = 0; r < oh; r++)
            memcpy(odd.data + ((size_t)c * oh + r) * ow, photo.data + ((size_t)c * photo.h + r) * photo.w,
                   (size_t)ow * sizeof(float));
    CHECK(nst_arbitrary_apply(a, &odd, style, &p, &yo, &err) == 0, "odd size: %s", err.msg);
    if (yo.data) {
        CHECK(yo.w == ow && yo.h == oh, "odd size: output %dx%d for %dx%d", yo.w, yo.h, ow, oh);
        const float *ref = tu_get(&tf, "output")->data;
        double s = 0;
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < oh / 2; r++)
                for (int q = 0; q < ow / 2; q++)
                    s += fabs(yo.data[((size_t)c * oh + r) * ow + q] - ref[((size_t)c * photo.h + r) * photo.w + q]);
        s /= 3.0 * (oh / 2) * (ow / 2);
        printf("  %dx%d: top-left quarter %.3f grey levels from the full photo's\n", ow, oh, s);
        CHECK(s < 3, "odd size: the top-left quarter differs by %g", s);
    }

    /* tiles: a larger picture in tiles against one pass. With the one pass's
     * instance-norm statistics the tiles' reflect-padded borders are all
     * that differs (measured 0.56 grey levels at 128 px, 0.010 at 256 px);
     * nst_arbitrary_apply's tiles take the statistics of the picture
     * downscaled to the tile size, which this network is sensitive to
     * (measured on tubingen 9.3 at 512x384 in 256 px tiles, 5.7 at 800x600
     * in 512; 15.7 on the smooth fixture photo at 512x384: the bound keeps
     * the tiles from breaking, ARB_AUTO_TILE keeps them rare). */
    nst_image big = {0}, one = {0}, tiled = {0};
    int BW = 512, BH = 384;
    CHECK(nst_image_resize(&photo, BW, BH, &big, &err) == 0, "resize");
    CHECK(nst_arbitrary_apply(a, &big, style, &p, &one, &err) == 0, "one pass: %s", err.msg);
    static const plan_opts infer;
    plan whole;
    CHECK(nst_image_alloc(&tiled, BW, BH, &err) == 0 && plan_create(&whole, &a->transfer, 1, BH, BW, &infer, &err) == 0,
          "plan: %s", err.msg);
    plan_set_input(&whole, 1, style);
    plan_forward(&whole, big.data, 0);
    const painter pt = {&a->transfer, style};
    static const int tile[2] = {128, 256};
    static const double bound[2] = {1.0, 0.05};
    for (int t = 0; t < 2; t++) {
        CHECK(apply_tiles(&pt, &big, tile[t], &whole, &tiled, &err) == 0, "tiles: %s", err.msg);
        mean = mean_abs(whole.output, tiled.data, (size_t)3 * BW * BH, &max);
        printf("  %dx%d in %d px tiles with the one-pass statistics: mean |d| %.3f grey levels\n", BW,
               BH, tile[t], mean);
        CHECK(mean < bound[t], "%d px tiles: mean %g from one pass", tile[t], mean);
    }
    plan_destroy(&whole);
    nst_image_free(&tiled);
    p.tile = 256;
    CHECK(nst_arbitrary_apply(a, &big, style, &p, &tiled, &err) == 0, "tiles: %s", err.msg);
    if (one.data && tiled.data) {
        mean = mean_abs(one.data, tiled.data, (size_t)3 * BW * BH, &max);
        printf("  nst_arbitrary_apply in 256 px tiles vs one pass: mean |d| %.3f grey levels\n", mean);
        CHECK(mean < 20, "tiles: mean %g from one pass", mean);
    }
    nst_apply_params_init(&p);

    /* saved style vectors: exact round trip, size checked, blends */
    tu_tmpdir_create("arbitrary");
    const char *vp = tu_tmp_path("v.json");
    float back[NST_STYLE_VECTOR_MAX];
    CHECK(nst_style_vector_save(vp, v, n, &err) == 0, "save: %s", err.msg);
    CHECK(nst_style_vector_load(vp, back, n, &err) == 0, "load: %s", err.msg);
    CHECK(memcmp(v, back, (size_t)n * sizeof *v) == 0, "the saved style vector reads back exactly");
    CHECK(nst_style_vector_load(vp, back, n + 1, &err) != 0 && strstr(err.msg, "100"),
          "a vector of another size is an error: %s", err.msg);
    tu_write_file(tu_tmp_path("bad.json"), "{\"format\": 3}", 13);
    CHECK(nst_style_vector_load(tu_tmp_path("bad.json"), back, n, &err) != 0 &&
              strstr(err.msg, "not a style vector"), "not a style vector: %s", err.msg);
    const float *two[2] = {v, own};
    const float w2[2] = {2, 1};
    float blend[NST_STYLE_VECTOR_MAX];
    nst_style_vector_blend(n, 2, two, w2, blend);
    CHECK(fabsf(blend[7] - (2 * v[7] + own[7]) / 3) < 1e-6f, "blend 2:1");

    /* errors */
    nst_arbitrary *none;
    CHECK(nst_arbitrary_load(tu_tmp_path(""), &none, &err) != 0 && strstr(err.msg, "style_predict"),
          "a directory without the pair: %s", err.msg);
    tu_tmpdir_remove();

    nst_image_free(&odd), nst_image_free(&yo), nst_image_free(&full);
    nst_image_free(&big), nst_image_free(&one), nst_image_free(&tiled);
    nst_image_free(&painting), nst_image_free(&photo);
    dict_free(&pf), dict_free(&tf);
    nst_arbitrary_free(a);
    return tu_finish();
}
