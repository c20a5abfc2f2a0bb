/* test_image.c: loading, saving, resizing and colour handling of images,
 * on the real photos in ../shared and on hand-made files with known values;
 * WebP, HEIC, AVIF, EXIF orientation and CMYK JPEG against the pictures
 * Pillow and libheif's encoder made (tests/fixtures/make_images.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "testutil.h"

static const char *dir; /* the temporary directory */

/* The first `n` bytes of `src`, plus `extra` appended, written to `dst`. */
static void write_prefix(const char *src, size_t n, const char *extra, const char *dst) {
    FILE *f = fopen(src, "rb");
    unsigned char *buf = malloc(n + 64);
    size_t got = f ? fread(buf, 1, n, f) : 0;
    if (f) fclose(f);
    size_t e = strlen(extra);
    memcpy(buf + got, extra, e);
    tu_write_file(dst, buf, got + e);
    free(buf);
}

static float px(const nst_image *im, int c, int x, int y) {
    return im->data[((size_t)c * im->h + y) * im->w + x];
}

/* The load must fail with error `code` and a message holding `path` and `what`. */
static void expect_load_error(int code, const char *path, const char *what) {
    nst_image im = {0};
    nst_error err = {0};
    int rc = nst_image_load(path, &im, &err);
    CHECK(rc == code && err.code == code, "load %s: rc %d, want %d (%s)", path, rc, code, nst_error_name(code));
    CHECK(strstr(err.msg, path) && strstr(err.msg, what), "load %s: message '%s' lacks '%s'", path,
          err.msg, what);
    CHECK(im.data == NULL, "load %s: no image on failure", path);
    printf("  expected error: %s\n", err.msg);
}

static double mean_abs_diff(const nst_image *a, const nst_image *b) {
    size_t n = (size_t)a->w * a->h * 3;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs(a->data[i] - b->data[i]);
    return s / n;
}

static void test_load_real(void) {
    nst_error err;
    const char *png = tu_shared("images/style/starry_night_crop.png");
    nst_image im;
    if (png && !nst_image_load(png, &im, &err)) {
        CHECK(im.w == 196 && im.h == 313, "starry crop is %dx%d, want 196x313", im.w, im.h);
        /* pixel values from an independent PNG decoder (zlib + unfiltering) */
        static const int ref[4][5] = {{0, 0, 28, 50, 101},
                                      {100, 150, 34, 31, 38},
                                      {195, 312, 7, 31, 50},
                                      {17, 250, 0, 74, 142}};
        for (int k = 0; k < 4; k++)
            for (int c = 0; c < 3; c++)
                CHECK(px(&im, c, ref[k][0], ref[k][1]) == ref[k][2 + c],
                      "starry (%d,%d) channel %d is %g, want %d", ref[k][0], ref[k][1], c,
                      px(&im, c, ref[k][0], ref[k][1]), ref[k][2 + c]);
        static const double mean[3] = {75.37673599791354, 104.0070906957032, 116.96619286692312};
        size_t n = (size_t)im.w * im.h;
        for (int c = 0; c < 3; c++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += im.data[c * n + i];
            CHECK(fabs(s / n - mean[c]) < 1e-6, "starry channel %d mean %g, want %g", c, s / n,
                  mean[c]);
        }
        nst_image_free(&im);
        CHECK(im.data == NULL && im.w == 0, "free clears the image");
    } else if (png) {
        CHECK(0, "load %s: %s", png, err.msg);
    }

    const char *jpg = tu_shared("images/content/tubingen.jpg");
    if (jpg && !nst_image_load(jpg, &im, &err)) {
        CHECK(im.w == 1024 && im.h == 768, "tubingen is %dx%d, want 1024x768", im.w, im.h);
        size_t n = (size_t)im.w * im.h;
        float lo = 1e9f, hi = -1e9f;
        double mean[3] = {0};
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < n; i++) {
                float v = im.data[c * n + i];
                lo = fminf(lo, v), hi = fmaxf(hi, v);
                mean[c] += v / n;
            }
        CHECK(lo >= 0 && hi <= 255 && hi - lo > 200, "tubingen range %g..%g", lo, hi);
        CHECK(mean[0] > 40 && mean[0] < 220 && fabs(mean[0] - mean[2]) > 1,
              "tubingen channel means %g %g %g look wrong", mean[0], mean[1], mean[2]);
        nst_image_free(&im);
    } else if (jpg) {
        CHECK(0, "load %s: %s", jpg, err.msg);
    }
}

static void test_save_roundtrip(void) {
    nst_error err;
    nst_image im, back;
    const char *png = tu_shared("images/style/starry_night_crop.png");
    const char *jpg = tu_shared("images/content/tubingen.jpg");
    if (!png || !jpg) return;
    if (nst_image_load(png, &im, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const char *exact[] = {"rt.png", "rt.PNG", "rt.bmp", "rt.tga"};
    for (int k = 0; k < 4; k++) {
        const char *out = tu_tmp_path(exact[k]);
        int rc = nst_image_save(out, &im, &err);
        CHECK(rc == NST_OK, "save %s: %s", out, err.msg);
        if (rc || nst_image_load(out, &back, &err)) {
            CHECK(0, "reload %s: %s", out, err.msg);
            continue;
        }
        CHECK(back.w == im.w && back.h == im.h, "%s size", exact[k]);
        CHECK(!memcmp(back.data, im.data, sizeof(float) * 3 * im.w * im.h),
              "%s round trip is not exact", exact[k]);
        nst_image_free(&back);
    }
    struct stat st;
    CHECK(stat(tu_tmp_path("rt.png"), &st) == 0 && (st.st_mode & 0777) != 0600,
          "saved file has the umask mode, not mkstemp's 0600 (mode %o)", st.st_mode & 0777);
    nst_image_free(&im);

    if (nst_image_load(jpg, &im, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const char *out = tu_tmp_path("rt.jpeg");
    CHECK(nst_image_save(out, &im, &err) == NST_OK, "save %s: %s", out, err.msg);
    if (!nst_image_load(out, &back, &err)) {
        double d = mean_abs_diff(&back, &im);
        printf("  JPEG q95 round trip mean |diff| %.3f\n", d);
        CHECK(back.w == 1024 && back.h == 768 && d < 2.0, "JPEG round trip mean |diff| %g", d);
        nst_image_free(&back);
    } else {
        CHECK(0, "reload %s: %s", out, err.msg);
    }
    nst_image_free(&im);

    /* rounding and clamping on save */
    nst_image r;
    nst_image_alloc(&r, 7, 1, &err);
    const float v[7] = {-5.0f, 0.4f, 0.6f, 127.5f, 254.6f, 300.0f, NAN};
    const float want[7] = {0, 0, 1, 128, 255, 255, 0};
    for (int c = 0; c < 3; c++) memcpy(r.data + c * 7, v, sizeof v);
    out = tu_tmp_path("round.png");
    if (!nst_image_save(out, &r, &err) && !nst_image_load(out, &back, &err)) {
        for (int i = 0; i < 7; i++)
            CHECK(back.data[i] == want[i] && back.data[14 + i] == want[i],
                  "saved %g reads back as %g, want %g", v[i], back.data[i], want[i]);
        nst_image_free(&back);
    } else {
        CHECK(0, "round.png: %s", err.msg);
    }
    nst_image_free(&r);
}

static void test_channels(void) {
    nst_error err;
    nst_image im;
    /* grey + alpha: opaque, transparent and half-transparent grey 100 over white */
    const unsigned char ga[6] = {100, 255, 100, 0, 100, 128};
    const char *p = tu_tmp_path("ga.png");
    CHECK(stbi_write_png(p, 3, 1, 2, ga, 6), "write %s", p);
    if (!nst_image_load(p, &im, &err)) {
        const float want[3] = {100, 255, 100 * 128 / 255.0f + 255 * 127 / 255.0f};
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 3; c++)
                CHECK(fabsf(px(&im, c, x, 0) - want[x]) < 1e-3f, "grey+alpha pixel %d channel %d: %g, want %g",
                      x, c, px(&im, c, x, 0), want[x]);
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    /* RGBA, all opaque: not flattened */
    const unsigned char opaque[8] = {10, 20, 30, 255, 40, 50, 60, 255};
    p = tu_tmp_path("opaque.png");
    CHECK(stbi_write_png(p, 2, 1, 4, opaque, 8), "write %s", p);
    if (!nst_image_load(p, &im, &err)) {
        CHECK(!im.flattened, "an opaque RGBA image is marked flattened");
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    /* RGBA: colour kept where opaque */
    const unsigned char rgba[8] = {10, 20, 30, 255, 10, 20, 30, 0};
    p = tu_tmp_path("rgba.png");
    CHECK(stbi_write_png(p, 2, 1, 4, rgba, 8), "write %s", p);
    if (!nst_image_load(p, &im, &err)) {
        CHECK(px(&im, 0, 0, 0) == 10 && px(&im, 1, 0, 0) == 20 && px(&im, 2, 0, 0) == 30,
              "opaque RGBA pixel changed");
        CHECK(px(&im, 0, 1, 0) == 255 && px(&im, 2, 1, 0) == 255, "transparent pixel is not white");
        CHECK(im.flattened, "a transparent pixel does not mark the image flattened");
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    /* 16-bit grey PNG (made with Python's zlib): samples 0x6464 and 0x0081 */
    static const unsigned char png16[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00,
        0x00, 0x81, 0xd9, 0xfc, 0x15, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9c, 0x63, 0x48, 0x49, 0x61, 0x68, 0x04, 0x00, 0x03, 0x42, 0x01, 0x4a, 0x2c, 0x8f,
        0xa3, 0x81, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    p = tu_tmp_path("g16.png");
    tu_write_file(p, png16, sizeof png16);
    if (!nst_image_load(p, &im, &err)) {
        CHECK(im.w == 2 && im.h == 1 && px(&im, 0, 0, 0) == 100 &&
                  fabsf(px(&im, 2, 1, 0) - 129 * 255.0f / 65535.0f) < 1e-5f,
              "16-bit PNG: %g %g", px(&im, 0, 0, 0), px(&im, 2, 1, 0));
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    /* 16-bit PGM keeps its precision */
    const unsigned char pgm[] = "P5\n3 1\n65535\n\xff\xff\x64\x64\x00\x81";
    p = tu_tmp_path("g16.pgm");
    tu_write_file(p, pgm, sizeof pgm - 1);
    if (!nst_image_load(p, &im, &err)) {
        /* 0x6464 = 100 * 257; 0x0081 = 129 -> 129/257 */
        const float want[3] = {255, 100, 129 * 255.0f / 65535.0f};
        for (int x = 0; x < 3; x++)
            CHECK(fabsf(px(&im, 1, x, 0) - want[x]) < 1e-5f, "16-bit grey %d: %g, want %g", x,
                  px(&im, 1, x, 0), want[x]);
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
}

static void test_resize(void) {
    nst_error err;
    nst_image a, b;
    /* a constant image stays constant, growing, shrinking or both */
    nst_image_alloc(&a, 7, 5, &err);
    for (size_t i = 0; i < 7 * 5 * 3; i++) a.data[i] = 42.25f;
    const int sizes[4][2] = {{13, 3}, {3, 11}, {2, 2}, {40, 40}};
    for (int k = 0; k < 4; k++) {
        if (nst_image_resize(&a, sizes[k][0], sizes[k][1], &b, &err)) {
            CHECK(0, "%s", err.msg);
            continue;
        }
        CHECK(b.w == sizes[k][0] && b.h == sizes[k][1], "resize gives %dx%d", b.w, b.h);
        float worst = 0;
        for (size_t i = 0; i < (size_t)b.w * b.h * 3; i++) worst = fmaxf(worst, fabsf(b.data[i] - 42.25f));
        CHECK(worst < 1e-4f, "constant image resized to %dx%d deviates by %g", b.w, b.h, worst);
        nst_image_free(&b);
    }
    nst_image_free(&a);

    /* 2x2 -> 4x4 bilinear with half-pixel centres (PyTorch align_corners=False):
     * along each axis [p, q] -> [p, .75p+.25q, .25p+.75q, q] */
    nst_image_alloc(&a, 2, 2, &err);
    const float q[4] = {0, 100, 40, 200};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++) a.data[c * 4 + i] = q[i] + c;
    if (!nst_image_resize(&a, 4, 4, &b, &err)) {
        const float t[4] = {1, .75f, .25f, 0}; /* weight of the first sample per position */
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                float top = t[x] * q[0] + (1 - t[x]) * q[1], bot = t[x] * q[2] + (1 - t[x]) * q[3];
                float want = t[y] * top + (1 - t[y]) * bot;
                for (int c = 0; c < 3; c++)
                    CHECK(fabsf(px(&b, c, x, y) - (want + c)) < 1e-4f, "bilinear (%d,%d,%d): %g, want %g",
                          x, y, c, px(&b, c, x, y), want + c);
            }
        CHECK(px(&b, 0, 1, 0) == 25.0f && px(&b, 0, 0, 1) == 10.0f, "bilinear (1,0)=%g (0,1)=%g",
              px(&b, 0, 1, 0), px(&b, 0, 0, 1));
        nst_image_free(&b);
    }
    nst_image_free(&a);

    /* a 1-pixel checkerboard halved averages to mid grey */
    nst_image_alloc(&a, 8, 6, &err);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 8; x++) a.data[(c * 6 + y) * 8 + x] = (x + y) % 2 ? 255.0f : 0.0f;
    if (!nst_image_resize(&a, 4, 3, &b, &err)) {
        float worst = 0;
        for (size_t i = 0; i < 4 * 3 * 3; i++) worst = fmaxf(worst, fabsf(b.data[i] - 127.5f));
        CHECK(worst < 1e-4f, "checkerboard halved deviates from 127.5 by %g", worst);
        nst_image_free(&b);
    }
    nst_image_free(&a);

    /* non-integer shrink: [0, 30, 60] -> 2 pixels covering 1.5 source pixels each */
    nst_image_alloc(&a, 3, 1, &err);
    for (int c = 0; c < 3; c++)
        for (int x = 0; x < 3; x++) a.data[c * 3 + x] = 30.0f * x;
    if (!nst_image_resize(&a, 2, 1, &b, &err)) {
        CHECK(fabsf(b.data[0] - 10) < 1e-4f && fabsf(b.data[1] - 50) < 1e-4f,
              "area 3->2 gives %g %g, want 10 50", b.data[0], b.data[1]);
        nst_image_free(&b);
    }
    nst_image_free(&a);

    /* real photo: same size is the identity, halving keeps the mean */
    const char *jpg = tu_shared("images/content/tubingen.jpg");
    if (jpg && !nst_image_load(jpg, &a, &err)) {
        size_t n = (size_t)a.w * a.h * 3;
        if (!nst_image_resize(&a, a.w, a.h, &b, &err)) {
            CHECK(!memcmp(a.data, b.data, n * sizeof(float)), "same-size resize is not the identity");
            nst_image_free(&b);
        }
        if (!nst_image_resize(&a, 512, 384, &b, &err)) {
            double ma = 0, mb = 0;
            for (size_t i = 0; i < n; i++) ma += a.data[i];
            for (size_t i = 0; i < n / 4; i++) mb += b.data[i];
            ma /= n, mb /= n / 4;
            CHECK(fabs(ma - mb) < 1e-3, "halving changes the mean %g -> %g", ma, mb);
            /* output pixel (10, 20) is the mean of source block (20..21, 40..41) */
            float blk = (px(&a, 1, 20, 40) + px(&a, 1, 21, 40) + px(&a, 1, 20, 41) + px(&a, 1, 21, 41)) / 4;
            CHECK(fabsf(px(&b, 1, 10, 20) - blk) < 1e-3f, "halved pixel %g, block mean %g",
                  px(&b, 1, 10, 20), blk);
            nst_image_free(&b);
        }
        nst_image_free(&a);
    }
}

static void test_fit(void) {
    const int cases[][5] = {{1024, 768, 512, 512, 384}, {768, 1024, 512, 384, 512},
                            {100, 100, 37, 37, 37},     {3, 2, 5, 5, 3},
                            {2, 3, 5, 3, 5},            {1000, 1, 10, 10, 1},
                            {481, 321, 256, 256, 171},  {10, 20, 40, 20, 40}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int w, h;
        nst_image_fit(cases[k][0], cases[k][1], cases[k][2], &w, &h);
        CHECK(w == cases[k][3] && h == cases[k][4], "fit %dx%d to %d: %dx%d, want %dx%d", cases[k][0],
              cases[k][1], cases[k][2], w, h, cases[k][3], cases[k][4]);
    }
}

/* BT.601 YUV */
static void yuv(const nst_image *im, size_t i, double out[3]) {
    size_t n = (size_t)im->w * im->h;
    double r = im->data[i], g = im->data[n + i], b = im->data[2 * n + i];
    out[0] = 0.299 * r + 0.587 * g + 0.114 * b;
    out[1] = 0.492 * (b - out[0]);
    out[2] = 0.877 * (r - out[0]);
}

static void test_keep_colors(void) {
    nst_error err;
    nst_image s, c, s0;
    nst_image_alloc(&s, 9, 7, &err);
    nst_image_alloc(&c, 9, 7, &err);
    nst_image_alloc(&s0, 9, 7, &err);
    size_t n = 9 * 7;
    tu_fill_uniform(s.data, 3 * n, 0, 255, 1);
    tu_fill_uniform(c.data, 3 * n, 0, 255, 2);
    memcpy(s0.data, s.data, 3 * n * sizeof(float));
    nst_image_keep_colors(&s, &c);
    double worst_y = 0, worst_uv = 0;
    for (size_t i = 0; i < n; i++) {
        double r[3], st[3], ct[3];
        yuv(&s, i, r), yuv(&s0, i, st), yuv(&c, i, ct);
        worst_y = fmax(worst_y, fabs(r[0] - st[0]));
        worst_uv = fmax(worst_uv, fmax(fabs(r[1] - ct[1]), fabs(r[2] - ct[2])));
    }
    CHECK(worst_y < 1e-3, "luminance differs from the styled image's by %g", worst_y);
    CHECK(worst_uv < 1e-3, "chroma differs from the content's by %g", worst_uv);
    /* a grey styled image over a colour content: result is the content shifted in grey */
    for (size_t i = 0; i < 3 * n; i++) s.data[i] = 100.0f;
    nst_image_keep_colors(&s, &c);
    double ys[3];
    yuv(&c, 5, ys);
    CHECK(fabsf(s.data[5] - (float)(c.data[5] + 100.0 - ys[0])) < 1e-3f, "grey over colour: %g",
          s.data[5]);
    nst_image_free(&s);
    nst_image_free(&c);
    nst_image_free(&s0);
}

static void test_errors(void) {
    nst_error err;
    nst_image im = {0};
    expect_load_error(NST_ERR_IO, tu_tmp_path("missing.png"), "no such file");
    tu_write_file(tu_tmp_path("notes.txt"), "just some text\n", 15);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("notes.txt"), "not an image (unrecognised format)");
    tu_write_file(tu_tmp_path("empty.jpg"), "", 0);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("empty.jpg"), "not an image");
    expect_load_error(NST_ERR_IO, dir, "not a regular file");

    const char *jpg = tu_shared("images/content/tubingen.jpg");
    const char *png = tu_shared("images/style/starry_night_crop.png");
    if (jpg && png) {
        long js = tu_file_size(jpg), ps = tu_file_size(png);
        const char *p = tu_tmp_path("half.jpg");
        write_prefix(jpg, js / 2, "", p);
        expect_load_error(NST_ERR_FORMAT, p, "corrupt or truncated image");
        p = tu_tmp_path("cut2.jpg"); /* only the final EOI marker missing */
        write_prefix(jpg, js - 2, "", p);
        expect_load_error(NST_ERR_FORMAT, p, "corrupt or truncated image");
        p = tu_tmp_path("head.jpg"); /* cut inside the headers */
        write_prefix(jpg, 100, "", p);
        expect_load_error(NST_ERR_FORMAT, p, "corrupt or truncated image");
        p = tu_tmp_path("half.png");
        write_prefix(png, ps / 2, "", p);
        expect_load_error(NST_ERR_FORMAT, p, "corrupt or truncated image");
        p = tu_tmp_path("noiend.png"); /* complete pixel data, IEND chunk missing */
        write_prefix(png, ps - 12, "", p);
        expect_load_error(NST_ERR_FORMAT, p, "corrupt or truncated image");
        p = tu_tmp_path("trailing.jpg"); /* bytes after EOI are accepted */
        write_prefix(jpg, js, "trailing garbage", p);
        CHECK(nst_image_load(p, &im, &err) == NST_OK && im.w == 1024, "JPEG with trailing bytes: %s",
              err.msg);
        nst_image_free(&im);
    }

    /* binary PNM: 8-bit with a comment, maxval scaling, and truncation */
    const char ppm8[] = "P6 # comment\n2 1\n255\n\x0a\x14\x1e\xff\x80\x00";
    tu_write_file(tu_tmp_path("ok.ppm"), ppm8, sizeof ppm8 - 1);
    if (!nst_image_load(tu_tmp_path("ok.ppm"), &im, &err)) {
        CHECK(px(&im, 0, 0, 0) == 10 && px(&im, 1, 0, 0) == 20 && px(&im, 2, 0, 0) == 30 &&
                  px(&im, 0, 1, 0) == 255 && px(&im, 1, 1, 0) == 128 && px(&im, 2, 1, 0) == 0,
              "8-bit PPM values");
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    const char pgm100[] = "P5\n2 1\n100\n\x64\x32";
    tu_write_file(tu_tmp_path("max100.pgm"), pgm100, sizeof pgm100 - 1);
    if (!nst_image_load(tu_tmp_path("max100.pgm"), &im, &err)) {
        CHECK(px(&im, 0, 0, 0) == 255 && px(&im, 2, 1, 0) == 127.5f, "maxval 100 PGM: %g %g",
              px(&im, 0, 0, 0), px(&im, 2, 1, 0));
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    tu_write_file(tu_tmp_path("short.ppm"), ppm8, sizeof ppm8 - 2);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("short.ppm"), "corrupt or truncated image");
    /* uncompressed TGA cut short */
    unsigned char rgb[4 * 4 * 3];
    memset(rgb, 77, sizeof rgb);
    stbi_write_tga_with_rle = 0;
    CHECK(stbi_write_tga(tu_tmp_path("raw.tga"), 4, 4, 3, rgb), "write raw.tga");
    if (!nst_image_load(tu_tmp_path("raw.tga"), &im, &err)) {
        CHECK(px(&im, 1, 3, 3) == 77, "raw TGA value %g", px(&im, 1, 3, 3));
        nst_image_free(&im);
    } else {
        CHECK(0, "%s", err.msg);
    }
    write_prefix(tu_tmp_path("raw.tga"), 18 + 20, "", tu_tmp_path("short.tga"));
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("short.tga"), "corrupt or truncated image");

    /* absurd dimensions are rejected from the header, before decoding */
    const char ppm[] = "P6\n100000 100000\n255\n\x01\x02\x03";
    tu_write_file(tu_tmp_path("huge.ppm"), ppm, sizeof ppm - 1);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("huge.ppm"), "image too large: 100000x100000");
    const char ppm2[] = "P6\n20000 10\n255\n\x01\x02\x03"; /* one side over NST_MAX_SIDE */
    tu_write_file(tu_tmp_path("wide.ppm"), ppm2, sizeof ppm2 - 1);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("wide.ppm"), "image too large: 20000x10");
    const char ppm3[] = "P6\n10000 10000\n255\n\x01\x02\x03"; /* sides fine, too many pixels */
    tu_write_file(tu_tmp_path("many.ppm"), ppm3, sizeof ppm3 - 1);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("many.ppm"), "image too large: 10000x10000");
    const unsigned char hpng[] = {0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a, '\n', 0,    0,    0,
                                  13,   'I',  'H',  'D',  'R',  0,    1,    0x86, 0xa0, 0,    1,
                                  0x86, 0xa0, 8,    2,    0,    0,    0,    0x27, 0x30, 0x9c, 0x9f};
    /* (a valid IHDR: libpng checks its CRC before the size is looked at) */
    tu_write_file(tu_tmp_path("huge.png"), hpng, sizeof hpng);
    expect_load_error(NST_ERR_FORMAT, tu_tmp_path("huge.png"), "image too large: 100000x100000");

    /* save errors */
    nst_image_alloc(&im, 4, 3, &err);
    const char *p = tu_tmp_path("out.webp");
    int before = tu_tmpdir_entries();
    int rc = nst_image_save(p, &im, &err);
    CHECK(rc == NST_ERR_ARG && strstr(err.msg, p) && strstr(err.msg, "unsupported output format '.webp'"),
          "unknown extension: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    rc = nst_image_save(tu_tmp_path("noext"), &im, &err);
    CHECK(rc == NST_ERR_ARG, "no extension: rc %d '%s'", rc, err.msg);
    p = tu_tmp_path("nodir/out.png");
    rc = nst_image_save(p, &im, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, p) && strstr(err.msg, "cannot write"),
          "save into missing dir: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    /* the rename fails (a directory is in the way): the temp file must go */
    mkdir(tu_tmp_path("isdir.png"), 0755);
    rc = nst_image_save(tu_tmp_path("isdir.png"), &im, &err);
    CHECK(rc == NST_ERR_IO, "save over a directory: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    CHECK(tu_tmpdir_entries() == before + 1, "failed saves left files behind (%d entries, want %d)",
          tu_tmpdir_entries(), before + 1);
    nst_image_free(&im);
}

static nst_image fixture(const char *name) {
    char path[1024];
    nst_image im = {0};
    nst_error err = {0};
    snprintf(path, sizeof path, "%s/images/%s", NST_FIXTURES, name);
    CHECK(nst_image_load(path, &im, &err) == 0, "load %s: %s", path, err.msg);
    return im;
}

/* a and b the same size and at most `tol` grey levels apart on average */
static void expect_close(const char *what, const nst_image *a, const nst_image *b, double tol) {
    CHECK(a->data && b->data && a->w == b->w && a->h == b->h, "%s: %dx%d, want %dx%d", what, a->w, a->h, b->w, b->h);
    if (!a->data || !b->data || a->w != b->w || a->h != b->h) return;
    double d = mean_abs_diff(a, b);
    printf("  %-28s %dx%d, %.3f grey levels from the reference\n", what, a->w, a->h, d);
    CHECK(d <= tol, "%s: %.3f grey levels from the reference, more than %.2f", what, d, tol);
}

static void test_formats(void) {
    nst_image src = fixture("src.png");
    nst_image webp = fixture("lossless.webp"), heic = fixture("photo.heic"), avif = fixture("photo.avif");
    expect_close("lossless WebP", &webp, &src, 0);
    /* lossy at 16x12: within 10 grey levels of the source, and what
     * libheif's heif-convert decodes */
    nst_image heic_ref = fixture("photo-heic.png"), avif_ref = fixture("photo-avif.png");
    expect_close("HEIC (quality 95)", &heic, &src, 10);
    expect_close("HEIC, as heif-convert", &heic, &heic_ref, 0.5);
    expect_close("AVIF (quality 95)", &avif, &src, 10);
    expect_close("AVIF, as heif-convert", &avif, &avif_ref, 0.5);
    nst_image_free(&heic_ref);
    nst_image_free(&avif_ref);
    /* each EXIF orientation turned upright as Pillow does */
    for (int o = 1; o <= 8; o++) {
        char jpg[32], png[32], what[48];
        snprintf(jpg, sizeof jpg, "orient-%d.jpg", o);
        snprintf(png, sizeof png, "orient-%d.png", o);
        snprintf(what, sizeof what, "JPEG, EXIF orientation %d", o);
        nst_image a = fixture(jpg), b = fixture(png);
        expect_close(what, &a, &b, 0.5);
        CHECK(a.w == (o >= 5 ? 8 : 12), "orientation %d: width %d", o, a.w);
        nst_image_free(&a);
        nst_image_free(&b);
    }
    nst_image cmyk = fixture("cmyk.jpg"), cmyk_rgb = fixture("cmyk.png");
    expect_close("CMYK JPEG (Adobe)", &cmyk, &cmyk_rgb, 1.5);
    nst_image *all[] = {&src, &webp, &heic, &avif, &cmyk, &cmyk_rgb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) nst_image_free(all[i]);

    /* broken files: an error naming the file, no image */
    char path[1024];
    snprintf(path, sizeof path, "%s/images/animated.webp", NST_FIXTURES);
    expect_load_error(NST_ERR_FORMAT, path, "an animated WebP");
    static const char *const whole[] = {"lossless.webp", "photo.heic", "photo.avif"};
    for (int i = 0; i < 3; i++) {
        char cut[64];
        snprintf(path, sizeof path, "%s/images/%s", NST_FIXTURES, whole[i]);
        snprintf(cut, sizeof cut, "cut-%s", whole[i]);
        struct stat st;
        CHECK(stat(path, &st) == 0, "%s: missing", path);
        write_prefix(path, (size_t)st.st_size * 2 / 3, "", tu_tmp_path(cut));
        expect_load_error(NST_ERR_FORMAT, tu_tmp_path(cut), "corrupt or truncated");
    }
}

int main(void) {
    dir = tu_tmpdir_create("test_image");
    test_formats();
    test_load_real();
    test_save_roundtrip();
    test_channels();
    test_resize();
    test_fit();
    test_keep_colors();
    test_errors();
    tu_tmpdir_remove();
    return tu_finish();
}
