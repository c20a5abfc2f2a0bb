/* test_apply.c: the feed-forward style network ('scream') against PyTorch
 * (tests/pytorch/gen_apply.py), the shared and the training layout of the
 * plan, tiles against the whole image, nst_apply's options, and broken
 * deeplearn.js checkpoints (clear errors naming the file, no crash). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feedforward/apply.h"
#include "io/io.h"
#include "testutil.h"

/* mean and max |a - b| over n values */
static void diff(const float *a, const float *b, size_t n, double *mean, double *max) {
    double s = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        s += d;
        if (!(d <= m)) m = d;
    }
    *mean = s / n, *max = m;
}

static void against_pytorch(const nst_generator *g, const tensor_dict *fx, const char *name) {
    char key[32];
    snprintf(key, sizeof key, "x/%s", name);
    const tensor *x = tu_get(fx, key);
    snprintf(key, sizeof key, "y/%s", name);
    const tensor *y = tu_get(fx, key);
    int h = (int)x->shape[2], w = (int)x->shape[3];
    for (int keep = 0; keep < 2; keep++) {
        plan p;
        nst_error err;
        const plan_opts o = {.grads = keep ? PLAN_GRAD_PARAMS : 0};
        int rc = plan_create(&p, &g->g, 1, h, w, &o, &err);
        CHECK(rc == 0, "plan %dx%d: %s", w, h, err.msg);
        if (rc) continue;
        plan_forward(&p, x->data, 0);
        double mean, max;
        diff(p.output, y->data, y->numel, &mean, &max);
        printf("  %-5s %dx%d keep=%d: mean |d| %.5f, max %.4f grey levels\n", name, w, h, keep,
               mean, max);
        CHECK(mean < 0.05 && max < 1, "%s keep=%d: mean %g max %g against PyTorch", name, keep,
              mean, max);
        plan_destroy(&p);
    }
}

/* Tiles that normalise with the one-pass statistics against the one pass:
 * what is left is the tiles' zero padding, which the overlap must keep out
 * of the blend (the difference of nst_apply's tiles otherwise comes from
 * the statistics, taken at tile size). */
static void tiles_exact_stats(const nst_generator *g, const char *photo) {
    nst_error err;
    nst_image in = {0}, x = {0}, y = {0};
    plan one;
    static const plan_opts infer;
    int W = 640, H = 480;
    int rc = nst_image_load(photo, &in, &err);
    if (!rc) rc = nst_image_resize(&in, W, H, &x, &err);
    if (!rc) rc = nst_image_alloc(&y, W, H, &err);
    if (!rc) rc = plan_create(&one, &g->g, 1, H, W, &infer, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (!rc) {
        plan_forward(&one, x.data, 0);
        /* measured 0.36 0.065 0.040 0.016 (scream), 0.26 0.039 0.023 0.008
         * (random nearest); 1.4 and 0.46 at 192 and 256 px with ov = T/4 */
        static const int tiles[] = {192, 256, 320, 512};
        static const double bound[] = {0.5, 0.1, 0.08, 0.03};
        for (int t = 0; t < 4; t++) {
            const painter pt = {&g->g, NULL};
            CHECK(apply_tiles(&pt, &x, tiles[t], &one, &y, &err) == 0, "tiles: %s", err.msg);
            double mean, max;
            diff(y.data, one.output, (size_t)3 * W * H, &mean, &max);
            printf("  %s: tiles of %d px with the one-pass statistics vs one pass: mean |d| %.3f, "
                   "max %.1f grey levels\n", gen_upsample_name(g->upsample), tiles[t], mean, max);
            CHECK(mean < bound[t], "%s, %d px tiles: mean |d| %g", gen_upsample_name(g->upsample),
                  tiles[t], mean);
        }
        plan_destroy(&one);
    }
    nst_image_free(&in);
    nst_image_free(&x);
    nst_image_free(&y);
}

/* The 'nearest' architecture with random weights, U(-0.05, 0.05), IN
 * scale 1, shift 0, through the tiles. */
static void nearest_tiles(const char *photo) {
    struct nst_generator g;
    nst_error err;
    int rc = gen_alloc(&g, "random", GEN_UP_NEAREST, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc) return;
    tu_fill_uniform(g.params, g.n_params, -0.05f, 0.05f, 17);
    for (int i = 0; i < GEN_LAYERS; i++)
        for (int c = 0; c < g.layers[i].cout; c++) g.layers[i].scale[c] = 1, g.layers[i].shift[c] = 0;
    tiles_exact_stats(&g, photo);
    gen_free(&g);
}

/* Tiles (with whole-image statistics at tile size) against one pass on a
 * photo, and the options of nst_apply. */
static void apply_options(const nst_generator *g, const char *photo) {
    nst_error err;
    nst_image in = {0}, whole = {0}, tiles = {0}, faint = {0}, colors = {0}, bad = {0};
    int rc = nst_image_load(photo, &in, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc) return;
    nst_apply_params p;
    nst_apply_params_init(&p);
    p.size = 320;
    CHECK(nst_apply(g, &in, &p, &whole, &err) == 0, "apply: %s", err.msg);
    CHECK(whole.w == 320 && whole.h == 240, "size 320 gave %dx%d", whole.w, whole.h);
    size_t n = (size_t)3 * whole.w * whole.h;
    /* 192 px tiles: two columns and two rows, 64 px overlaps (measured 5.3) */
    p.tile = 192;
    CHECK(nst_apply(g, &in, &p, &tiles, &err) == 0, "apply tiled: %s", err.msg);
    if (whole.data && tiles.data) {
        double mean, max;
        diff(tiles.data, whole.data, n, &mean, &max);
        printf("  tiles of 192 px on 320x240 vs one pass: mean |d| %.2f grey levels\n", mean);
        CHECK(mean < 8, "tiled output differs from one pass by %g on average", mean);
    }
    p.tile = 0;
    p.strength = 0;
    p.size = 0;
    CHECK(nst_apply(g, &in, &p, &faint, &err) == 0, "apply strength 0: %s", err.msg);
    if (faint.data) tu_close("strength 0 gives the input", faint.data, in.data, (size_t)3 * in.w * in.h, 1e-3f, 0);
    p.strength = 0.5f;
    p.size = 320;
    CHECK(nst_apply(g, &in, &p, &colors, &err) == 0, "apply strength 0.5: %s", err.msg);
    nst_image x;
    if (colors.data && whole.data && !nst_image_resize(&in, 320, 240, &x, &err)) {
        /* out = 0.5 styled + 0.5 input */
        for (size_t i = 0; i < n; i++) x.data[i] = 0.5f * whole.data[i] + 0.5f * x.data[i];
        tu_close("strength 0.5 blends", colors.data, x.data, n, 1e-3f, 1e-5f);
        nst_image_free(&x);
    }
    nst_image_free(&colors);
    p.strength = 1;
    p.color_transfer = NST_COLOR_LUMINANCE;
    CHECK(nst_apply(g, &in, &p, &colors, &err) == 0, "apply original colours: %s", err.msg);
    p.strength = 1.5f;
    CHECK(nst_apply(g, &in, &p, &bad, &err) == NST_ERR_ARG && strstr(err.msg, "strength"),
          "strength 1.5 accepted");
    nst_image_free(&in);
    nst_image_free(&whole);
    nst_image_free(&tiles);
    nst_image_free(&faint);
    nst_image_free(&colors);
}

/* ---- broken checkpoints -------------------------------------------------- */

static const char *ckpt; /* the temporary checkpoint directory */

/* Write the variables of d into the temporary directory, and a manifest in
 * which variable `odd` (if any) has the entry `entry` instead. */
static void write_checkpoint(const tensor_dict *d, const char *odd, const char *entry) {
    size_t cap = 64 * 1024, at = 0;
    char *json = malloc(cap);
    at += snprintf(json + at, cap - at, "{");
    for (int i = 0; i < d->count; i++) {
        const tensor *t = &d->t[i];
        tu_write_file(tu_tmp_path(t->name), t->data, t->numel * sizeof(float));
        at += snprintf(json + at, cap - at, "%s\n \"%s\": ", i ? "," : "", t->name);
        if (odd && !strcmp(t->name, odd)) {
            at += snprintf(json + at, cap - at, "%s", entry);
            continue;
        }
        at += snprintf(json + at, cap - at, "{\"filename\": \"%s\", \"shape\": [", t->name);
        for (int k = 0; k < t->ndim; k++)
            at += snprintf(json + at, cap - at, "%s%lld", k ? ", " : "", (long long)t->shape[k]);
        at += snprintf(json + at, cap - at, "]}");
    }
    at += snprintf(json + at, cap - at, "\n}\n");
    tu_write_file(tu_tmp_path("manifest.json"), json, at);
    free(json);
}

/* Loading the temporary checkpoint fails with a message containing each of
 * the (up to two) fragments. */
static void expect_load_error(int code, const char *what, const char *frag1, const char *frag2) {
    nst_generator *g = NULL;
    nst_error err = {0};
    int rc = nst_generator_load(ckpt, &g, &err);
    CHECK(rc == code && !g, "%s: rc %d, want %d (%s)", what, rc, code, nst_error_name(code));
    CHECK(strstr(err.msg, frag1) && (!frag2 || strstr(err.msg, frag2)),
          "%s: message '%s' lacks '%s'%s%s", what, err.msg, frag1, frag2 ? " / " : "",
          frag2 ? frag2 : "");
    printf("  %-28s %s\n", what, err.msg);
    nst_generator_free(g);
}

static void broken_checkpoints(const char *dir) {
    tensor_dict d = {0};
    nst_error err;
    int rc = dljs_load(dir, &d, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc) return;
    CHECK(d.count == 48, "scream has %d variables, expected 48", d.count);
    const tensor *k12 = dict_get(&d, "Variable_12");
    CHECK(k12 && k12->ndim == 4 && k12->shape[2] == 128 && k12->numel == 147456, "Variable_12 shape");
    ckpt = tu_tmpdir_create("apply");

    write_checkpoint(&d, NULL, NULL);
    nst_generator *g = NULL;
    CHECK(nst_generator_load(ckpt, &g, &err) == 0, "rewritten checkpoint: %s", err.msg);
    nst_generator_free(g);

    unlink(tu_tmp_path("Variable_5"));
    expect_load_error(NST_ERR_IO, "missing variable file", tu_tmp_path("Variable_5"), "cannot open");

    write_checkpoint(&d, "Variable_12", "{\"filename\": \"Variable_12\", \"shape\": [3, 3, 64, 256]}");
    expect_load_error(NST_ERR_FORMAT, "wrong shape, right size", "Variable_12 has shape [3,3,64,256]",
                      "expected [3,3,128,128]");

    write_checkpoint(&d, "Variable_12", "{\"filename\": \"Variable_12\", \"shape\": [3, 3, 128, 64]}");
    expect_load_error(NST_ERR_FORMAT, "shape and size disagree", tu_tmp_path("Variable_12"),
                      "expected 294912 bytes for shape [3,3,128,64], found 589824");

    write_checkpoint(&d, NULL, NULL);
    CHECK(truncate(tu_tmp_path("Variable_45"), 1000) == 0, "cannot truncate Variable_45");
    expect_load_error(NST_ERR_FORMAT, "truncated variable file", tu_tmp_path("Variable_45"),
                      "expected 31104 bytes for shape [9,9,32,3], found 1000");

    write_checkpoint(&d, "Variable_3", "{\"filename\": \"../Variable_3\", \"shape\": [3, 3, 32, 64]}");
    expect_load_error(NST_ERR_FORMAT, "file name outside the dir", "../Variable_3", "not a plain file name");

    write_checkpoint(&d, "Variable_7", "{\"filename\": \"Variable_7\", \"shape\": ");
    expect_load_error(NST_ERR_FORMAT, "bad JSON", tu_tmp_path("manifest.json"), "not valid JSON");

    write_checkpoint(&d, "Variable_7", "{\"filename\": \"Variable_7\"}");
    expect_load_error(NST_ERR_FORMAT, "entry without a shape", "Variable_7", "lacks a filename or a shape");

    unlink(tu_tmp_path("manifest.json"));
    expect_load_error(NST_ERR_IO, "no manifest", tu_tmp_path("manifest.json"), "cannot open");

    dict_free(&d);
    tu_tmpdir_remove();
}

int main(void) {
    const char *dir = tu_shared("models/fast/scream");
    const char *photo = tu_shared("images/content/tubingen.jpg");
    if (!dir || !photo) return tu_finish();
    tensor_dict fx;
    tu_load_fixture("apply.bin", &fx);
    nst_generator *g = NULL;
    nst_error err;
    int rc = nst_generator_load(dir, &g, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (!rc) {
        CHECK(g->n_params == 1677638, "scream has %zu parameters, expected 1677638", g->n_params);
        against_pytorch(g, &fx, "even");
        against_pytorch(g, &fx, "odd");
        apply_options(g, photo);
        tiles_exact_stats(g, photo);
        nearest_tiles(photo);
    }
    nst_generator_free(g);
    dict_free(&fx);
    broken_checkpoints(dir);
    return tu_finish();
}
